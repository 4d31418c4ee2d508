//! Running calls as both dialects describe them: what `call` asks for and what it shows.

/// A call to start, its arguments checked.
#[derive(Debug, Clone)]
pub struct Dial {
    pub caller: String,
    pub callee: String,
    /// v2: the device that rings first when the caller is a number.
    pub device: Option<String>,
    /// v2: the number the callee sees.
    pub caller_id: Option<String>,
    /// classic: the SIP id that rings first.
    pub register_sip: Option<String>,
}

/// What a command does to a running call.
#[derive(Debug, Clone)]
pub enum CallControl {
    Hangup,
    Record { on: bool, announce: bool },
    Hold(bool),
    Mute(bool),
    Transfer { number: String, attended: bool },
    Dtmf(String),
    Park { member: String, on: bool },
}

/// One party of a running call.
#[derive(Debug, Clone, PartialEq)]
pub struct Party {
    /// classic: the member id that `call park` names.
    pub member: Option<String>,
    pub number: Option<String>,
    pub parked: bool,
}

/// A running call as both dialects describe it; `wire` is upstream's own record, which
/// `--json` prints unchanged.
#[derive(Debug, Clone)]
pub struct RunningCall {
    pub id: String,
    /// classic: the call's state (`ringing`, `connected`); v2 lists established calls only.
    pub status: Option<String>,
    pub caller: Option<String>,
    pub callee: Option<String>,
    pub parties: Vec<Party>,
    pub recording: bool,
    pub muted: bool,
    pub hold: bool,
    pub wire: serde_json::Value,
}

/// A call that was started: its id, and the call itself where upstream answers with it.
#[derive(Debug, Clone)]
pub struct Dialed {
    pub id: String,
    pub call: Option<RunningCall>,
}
