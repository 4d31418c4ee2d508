//! Resolved settings: command-line flags, then environment, then the config file, then defaults.
//!
//! The config file is TOML, by default `$XDG_CONFIG_HOME/sipmirror/config.toml`
//! (`~/.config/sipmirror/config.toml`), or the file named by `--config` / `SIPMIRROR_CONFIG`.
//! Every key is optional; unknown keys are an error so that typos do not go unnoticed:
//!
//! ```toml
//! # Where the mirror lives. Default: $XDG_DATA_HOME/sipmirror/mirror.db
//! db = "/var/lib/sipmirror/mirror.db"
//! # Which of sipgate's APIs feeds the mirror: "v2" (api.sipgate.com/v2, personal access tokens;
//! # what accounts use today) or "classic" (api.sipgate.net, user name and password; switched
//! # off by sipgate, kept for old accounts and the emulator). Environment: SIPGATE_API.
//! # Default: v2
//! api = "v2"
//! # The upstream. Default: https://api.sipgate.com/v2 (v2), https://api.sipgate.net (classic)
//! base_url = "https://api.sipgate.com/v2"
//!
//! # v2: the personal access token (app.sipgate.com/personal-access-token).
//! # Environment: SIPGATE_TOKEN_ID
//! token_id = "token-AB12CD"
//! # Either the token itself (then the file must be private: chmod 600) ...
//! token = "..."
//! # ... or a command whose first line of output is the token. Environment: SIPGATE_TOKEN
//! token_command = "pass show sipgate-token"
//!
//! # classic: the web login (user name or e-mail). Environment: SIPGATE_USERNAME
//! username = "office@example.com"
//! # Either the password itself (then the file must be private: chmod 600) ...
//! password = "..."
//! # ... or a command whose first line of output is the password. Environment: SIPGATE_PASSWORD
//! password_command = "pass show sipgate"
//! # classic: the user id in upstream paths. Default: my (the logged-in user)
//! user_id = "my"
//! # classic: the API version sent on every request. Default: 2.41.0
//! api_version = "2.41.0"
//! # Allow http:// to hosts other than loopback. Default: false
//! allow_insecure = false
//! # Country code for numbers written nationally (030 ...), for caller-name lookups. Default: 49
//! country_code = "49"
//! # The time zone of local times in the mirror (`created_local`). Default: TZ, else the system's
//! timezone = "Europe/Berlin"
//!
//! [sync]
//! # Re-read events this far back from the newest known one on every run (flag changes made on
//! # the website). Units: s, m, h, d. Default: 7d
//! lookback = "7d"
//! # Do a complete listing (catches old flag changes and deletions) when the last one is older
//! # than this. Default: 24h
//! full_every = "24h"
//! # Refuse to mark more than this share of a stream deleted in one run. Default: 0.1
//! max_delete_ratio = 0.1
//! # Pages fetched at once. Default: 4
//! concurrency = 4
//! # A run that finds the mirror locked by a run older than this says so as an error (exit 5)
//! # instead of the quiet exit 4: that run probably hangs. Default: 1h
//! stale_after = "1h"
//! # Settings resources not to read (v2), for a token deliberately without their scopes: their
//! # rows stay as last mirrored and the run stays quiet. Any of account, numbers, users,
//! # devices, phonelines, forwardings, faxlines, sms, voicemails, groups. Default: none
//! skip_settings = []
//!
//! [push]
//! # When upstream changed a field since the last sync and a local edit of it waits:
//! # "local-wins" (write the local value; the conflict is logged and counted), "upstream-wins"
//! # (keep upstream's value, drop the local edit) or "fail" (leave the edit failed for
//! # `sipmirror outbox retry|drop`). Default: local-wins
//! conflict = "local-wins"
//! # Events written at once (edits of one event always go one at a time). Default: 16
//! concurrency = 16
//! # v2 deletes events for good. A push that would delete more than this many holds every
//! # deletion back (the other edits still go) until `sipmirror push --confirm-deletes`.
//! # Default: 50
//! max_deletes = 50
//! # `send fax --wait` reads the fax's status this often, and gives up after fax_wait.
//! # Default: 5s and 10m
//! fax_poll = "5s"
//! fax_wait = "10m"
//!
//! [webhook]
//! # The secret every push API post must carry as ?key= (`sipmirror webhook`). A secret like
//! # the password: SIPMIRROR_WEBHOOK_KEY overrides it. Default: none (the receiver then refuses
//! # to start unless --no-key)
//! key = "a-long-random-string"
//! # Take posts only from these addresses (sipgate's own client names 217.116.118.254 and
//! # 212.9.46.32). Default: from anywhere
//! allow = ["217.116.118.254", "212.9.46.32"]
//! # Behind a reverse proxy every post comes from the proxy: read the client's address from
//! # the last entry of this header, which your proxy sets. Only when set. Default: none
//! proxy_header = "X-Forwarded-For"
//! # Check each post's x-sipgate-signature (RSA-SHA256 over the body) against this public key
//! # (PEM). Default: not checked
//! public_key_file = "/etc/sipmirror/sipgate-push.pem"
//!
//! [media]
//! # What `sync` downloads: "all", "voicemails", "faxes" or "none" (`sync --media` means all).
//! # Default: none
//! fetch = "voicemails"
//! # Only media of events younger than this. Default: no limit
//! max_age = "365d"
//! # Where the files go (content-addressed). Default: a folder beside the database, <db>.media
//! dir = "/var/lib/sipmirror/media"
//! # Remove the files of events deleted upstream. Default: false (they are kept)
//! prune = false
//! # The largest file accepted, in MiB; a larger one is refused (a per-item error), and never
//! # held whole in memory. Defaults: 64, 40, 16
//! max_voicemail_mib = 64
//! max_fax_mib = 40
//! max_preview_mib = 16
//!
//! [http]
//! # Default: 10s and 60s
//! connect_timeout = "10s"
//! timeout = "60s"
//! # Attempts per request, first try included, for transient errors. Default: 5
//! max_attempts = 5
//! # First backoff delay; it doubles each retry, capped at 10 s, with jitter. Default: 250ms
//! retry_base = "250ms"
//! ```

mod args;
mod duration;
mod file;
mod origin;
mod resolve;
mod secret;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

pub use args::GlobalArgs;
pub use duration::parse_duration;
pub use file::{default_config_path, settings_from_text};
pub use origin::{KEYS, Origin, Origins};
pub use resolve::default_db_path;
pub use secret::{PASSWORD_NAMES, PasswordSource, Secret, SecretNames, TOKEN_NAMES};

pub use crate::records::api::{Api, DEFAULT_BASE_URL, DEFAULT_V2_BASE_URL};

pub const DEFAULT_USER_ID: &str = "my";
pub const DEFAULT_API_VERSION: &str = "2.41.0";

impl Connection {
    /// Whether the API's login (token id or user name) is set, its secret, and how a user
    /// sets both.
    pub fn credentials(&self) -> (bool, &PasswordSource, &'static str) {
        match self.api {
            Api::V2 => (
                self.token_id.is_some(),
                &self.token,
                "SIPGATE_TOKEN_ID and SIPGATE_TOKEN (or token_id and token_command in the config file)",
            ),
            Api::Classic => (
                self.username.is_some(),
                &self.password,
                "SIPGATE_USERNAME and SIPGATE_PASSWORD (or username and password_command in the config file)",
            ),
        }
    }
}

/// Everything needed to talk to the upstream.
#[derive(Debug, Clone)]
pub struct Connection {
    pub api: Api,
    pub base_url: String,
    /// classic: the web login and its password.
    pub username: Option<String>,
    pub password: PasswordSource,
    /// v2: the personal access token's id and the token.
    pub token_id: Option<String>,
    pub token: PasswordSource,
    pub user_id: String,
    pub api_version: String,
    pub allow_insecure: bool,
}

/// How the sync pages and when it reconciles. See the `[sync]` keys above.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub lookback: Duration,
    pub full_every: Duration,
    pub max_delete_ratio: f64,
    pub concurrency: usize,
    /// A run that finds the lock held by a run older than this reports it as an error (exit
    /// 5): the other run probably hangs, and cron would otherwise stay quiet for ever.
    pub stale_after: Duration,
    /// Settings resources not read (`[sync] skip_settings`).
    pub skip_settings: Vec<String>,
}

/// The settings resources `[sync] skip_settings` may name (v2's paths, per user where they
/// belong to a user).
pub const SETTINGS_RESOURCES: [&str; 10] = [
    "account",
    "numbers",
    "users",
    "devices",
    "phonelines",
    "forwardings",
    "faxlines",
    "sms",
    "voicemails",
    "groups",
];

/// What `push` does when upstream changed a field that also has a local edit waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictPolicy {
    LocalWins,
    UpstreamWins,
    Fail,
}

/// Which media `sync` downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaFetch {
    All,
    Voicemails,
    Faxes,
    None,
}

/// Media downloads. See the `[media]` keys above.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    pub fetch: MediaFetch,
    pub max_age: Option<Duration>,
    pub dir: PathBuf,
    pub prune: bool,
    /// The largest recording, fax document and preview accepted, in bytes.
    pub max_voicemail_bytes: u64,
    pub max_fax_bytes: u64,
    pub max_preview_bytes: u64,
}

impl MediaSettings {
    /// The largest file of a media kind (`voicemail_audio`, `fax_document`, `fax_preview_big`).
    pub fn max_bytes(&self, kind: &str) -> u64 {
        match kind {
            "voicemail_audio" => self.max_voicemail_bytes,
            "fax_document" => self.max_fax_bytes,
            _ => self.max_preview_bytes,
        }
    }
}

/// How local edits are replayed. See the `[push]` keys above.
#[derive(Debug, Clone)]
pub struct PushSettings {
    pub conflict: ConflictPolicy,
    pub concurrency: usize,
    pub max_deletes: u64,
    pub fax_poll: Duration,
    pub fax_wait: Duration,
    /// `push --confirm-deletes`: send deletions past `max_deletes`.
    pub confirm_deletes: bool,
}

/// Timeouts and retries of upstream requests. See the `[http]` keys above.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub retry_base: Duration,
}

/// The settings every command runs with, resolved once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub db_path: PathBuf,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// Where each setting came from (`sipmirror config`).
    pub origins: Origins,
    pub connection: Connection,
    pub sync: SyncSettings,
    pub push: PushSettings,
    pub media: MediaSettings,
    pub http: HttpSettings,
    pub country_code: String,
    /// The zone of `created_local` and the reports' days and weeks.
    pub timezone: chrono_tz::Tz,
    /// `[webhook] key` or `SIPMIRROR_WEBHOOK_KEY`: the secret of the push API receiver.
    pub webhook_key: Option<Secret>,
    pub webhook: WebhookSettings,
    pub json: bool,
    pub verbose: u8,
    pub quiet: bool,
}

/// The push API receiver's checks. See the `[webhook]` keys above.
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    pub allow: Vec<std::net::IpAddr>,
    pub proxy_header: Option<String>,
    pub public_key_file: Option<PathBuf>,
}

pub(super) fn first(flag: &Option<String>, file: Option<String>, default: &str) -> String {
    flag.clone().or(file).unwrap_or_else(|| default.to_string())
}

pub(super) fn display_opt(path: &Option<PathBuf>) -> String {
    path.as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

pub(super) fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
