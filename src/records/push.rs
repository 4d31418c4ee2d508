//! The push API's posts, checked: what the receiver stores.

/// One post, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushEvent {
    NewCall(Call),
    Answer(Call),
    Hangup(Call),
    Dtmf { call_id: String, digits: String },
}

impl PushEvent {
    pub fn call_id(&self) -> &str {
        match self {
            PushEvent::NewCall(c) | PushEvent::Answer(c) | PushEvent::Hangup(c) => &c.call_id,
            PushEvent::Dtmf { call_id, .. } => call_id,
        }
    }
}

/// What `newCall`, `answer` and `hangup` say of a call (each fills what it has).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Call {
    pub call_id: String,
    pub orig_call_id: Option<String>,
    /// `in` or `out`.
    pub direction: Option<String>,
    /// Digits without `+`, or `anonymous`.
    pub from: Option<String>,
    pub to: Option<String>,
    pub users: Vec<String>,
    pub user_ids: Vec<String>,
    pub answering_number: Option<String>,
    pub diversion: Option<String>,
    pub cause: Option<String>,
}
