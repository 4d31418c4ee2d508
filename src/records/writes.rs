//! An event as the write-back names it and what upstream has for its editable fields.

use crate::records::{EventKind, Field};

/// An event as the push names it: its type, the mirror's id and the id upstream knows.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    pub kind: EventKind,
    pub id: i64,
    pub upstream_id: &'a str,
}

/// What upstream has for an event's editable fields, in the outbox's text form (`0`/`1`, the
/// label list, the location, the note).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFields {
    pub read: bool,
    pub starred: bool,
    pub labels: String,
    pub location: String,
    pub archived: bool,
    pub note: String,
}

impl EventFields {
    pub fn value(&self, field: Field) -> String {
        let flag = |b: bool| if b { "1" } else { "0" }.to_string();
        match field {
            Field::Read => flag(self.read),
            Field::Starred => flag(self.starred),
            Field::Archived => flag(self.archived),
            Field::Labels => self.labels.clone(),
            Field::Location => self.location.clone(),
            Field::Note => self.note.clone(),
        }
    }
}

/// One field set to a value, in the outbox's text form.
pub type Change<'a> = (Field, &'a str);
