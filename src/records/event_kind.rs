//! The four kinds of event.

/// The four event types with their path segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Call,
    Fax,
    Sms,
    Voicemail,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::Call,
        EventKind::Fax,
        EventKind::Sms,
        EventKind::Voicemail,
    ];

    /// Path segment and stream name: `calls`, `faxes`, `sms`, `voicemails`.
    pub fn plural(self) -> &'static str {
        match self {
            EventKind::Call => "calls",
            EventKind::Fax => "faxes",
            EventKind::Sms => "sms",
            EventKind::Voicemail => "voicemails",
        }
    }

    /// The kind whose `mirror_events.kind` is `name`.
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The value of `mirror_events.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Call => "call",
            EventKind::Fax => "fax",
            EventKind::Sms => "sms",
            EventKind::Voicemail => "voicemail",
        }
    }
}
