//! The editable fields of an event.

use serde::Serialize;

/// One of the editable fields of an event. Which of them the feeding API can write is in
/// migration V7 (classic: labels, no archive or note; v2: archive and note, no labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Read,
    Starred,
    Labels,
    Location,
    Archived,
    Note,
}

impl Field {
    const ALL: [Field; 6] = [
        Field::Read,
        Field::Starred,
        Field::Labels,
        Field::Location,
        Field::Archived,
        Field::Note,
    ];

    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The field's name in the outbox and the views.
    pub fn name(self) -> &'static str {
        match self {
            Field::Read => "read",
            Field::Starred => "starred",
            Field::Labels => "labels",
            Field::Location => "location",
            Field::Archived => "archived",
            Field::Note => "note",
        }
    }

    /// Whether the field holds 0/1.
    pub fn is_flag(self) -> bool {
        matches!(self, Field::Read | Field::Starred | Field::Archived)
    }
}
