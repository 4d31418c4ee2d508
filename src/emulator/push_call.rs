//! A call played through the push API (`POST /_emulator/calls`) as the world keeps it while
//! it lasts; what playing it does is `push_calls.rs`.

use std::collections::BTreeSet;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlayRequest {
    /// E.164, with or without `+`.
    pub from: String,
    pub to: String,
    /// `in` or `out`.
    #[serde(default = "incoming")]
    pub direction: String,
    #[serde(default = "yes")]
    pub answer: bool,
    #[serde(default)]
    pub duration_s: u32,
    #[serde(default = "yes")]
    pub end: bool,
    #[serde(default)]
    pub lose: BTreeSet<String>,
    #[serde(default)]
    pub duplicate: BTreeSet<String>,
    #[serde(default)]
    pub late: BTreeSet<String>,
    /// Users the call rings for (a group): `newCall` names them all, `answer` the first.
    #[serde(default = "one")]
    pub users: u32,
}

fn one() -> u32 {
    1
}

fn incoming() -> String {
    "in".into()
}

fn yes() -> bool {
    true
}

/// A call that was played and has not hung up.
#[derive(Debug, Clone)]
pub struct PushCall {
    pub(super) request: PlayRequest,
    pub(super) on_hangup: Option<String>,
}
