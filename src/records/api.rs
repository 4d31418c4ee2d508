//! Which dialect of sipgate's REST API feeds a mirror: the one thing about the dialect that
//! code outside `api/` may know, because the mirror records it.

use serde::Deserialize;

/// The classic API's address (switched off by sipgate; the emulator still speaks it).
pub const DEFAULT_BASE_URL: &str = "https://api.sipgate.net";
/// REST API v2, what accounts use today.
pub const DEFAULT_V2_BASE_URL: &str = "https://api.sipgate.com/v2";

/// The dialect of sipgate's REST API that feeds a mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// REST API v2 (api.sipgate.com/v2), personal access tokens.
    V2,
    /// The classic REST API (api.sipgate.net), user name and password.
    Classic,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::V2 => "v2",
            Api::Classic => "classic",
        }
    }

    pub fn parse(text: &str) -> Option<Api> {
        match text.trim().to_ascii_lowercase().as_str() {
            "v2" => Some(Api::V2),
            "classic" => Some(Api::Classic),
            _ => None,
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            Api::V2 => DEFAULT_V2_BASE_URL,
            Api::Classic => DEFAULT_BASE_URL,
        }
    }
}
