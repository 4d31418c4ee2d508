//! Local edits of events: read, starred, archived, labels, the note and deletion.
//!
//! Edits go through the `event_flags` view, whose triggers (migrations/V2) apply the visible
//! value and write the outbox entry in one transaction: the CLI uses exactly the path a person
//! in `sqlite3` uses.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
pub use crate::records::field::Field;

/// A local edit of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Read(bool),
    Starred(bool),
    Archived(bool),
    /// The whole list, normalized (see [`normalize_labels`]).
    Labels(String),
    /// The event's note; empty for none.
    Note(String),
    /// Move to the trash upstream.
    Delete,
}

impl Edit {
    /// The view's column the edit sets, and the value (a deletion moves the event to the trash).
    fn assignment(&self) -> (Field, Value) {
        match self {
            Edit::Read(value) => (Field::Read, Value::from(*value)),
            Edit::Starred(value) => (Field::Starred, Value::from(*value)),
            Edit::Archived(value) => (Field::Archived, Value::from(*value)),
            Edit::Labels(labels) => (Field::Labels, Value::from(labels.clone())),
            Edit::Note(note) => (Field::Note, Value::from(note.clone())),
            Edit::Delete => (Field::Location, Value::from("trash".to_string())),
        }
    }
}

/// Applies edits through `event_flags`, all in one transaction: either every event is edited
/// or none is. Unknown ids and refused values are usage errors naming the event.
pub fn apply_edits(conn: &mut Connection, ids: &[i64], edit: &Edit) -> Result<usize> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (field, value) = edit.assignment();
    let mut changed = 0;
    for &id in ids {
        // An edit to the value the event already has queues nothing (the triggers compare),
        // so it is not counted: the command then says that nothing changed.
        let found: Option<(i64, bool)> = tx
            .prepare_cached(&format!(
                "SELECT gone_upstream, {} IS ?2 FROM event_flags WHERE id = ?1",
                field.name()
            ))?
            .query_row(params![id, value], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let unchanged = match found {
            None => return Err(Error::usage(format!("no event with id {id} in the mirror"))),
            Some((1, _)) => {
                return Err(Error::usage(format!(
                    "event {id} is gone upstream and cannot be edited"
                )));
            }
            Some((_, unchanged)) => unchanged,
        };
        let result = tx
            .prepare_cached(&format!(
                "UPDATE event_flags SET {} = ?2 WHERE id = ?1",
                field.name()
            ))?
            .execute(params![id, value]);
        result.map_err(|e| refused_edit(id, e))?;
        changed += usize::from(!unchanged);
    }
    crate::crashpoint::commit(tx, "edit")?;
    Ok(changed)
}

/// The views' triggers refuse bad edits with `RAISE(ABORT, 'sipmirror: ...')`; those are the
/// user's mistakes, not the store's.
fn refused_edit(id: i64, error: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(_, Some(message)) = &error
        && let Some(reason) = message.strip_prefix("sipmirror: ")
    {
        return Error::usage(format!("event {id}: {reason}"));
    }
    Error::from(error)
}

/// The longest label the API takes, in characters.
pub const MAX_LABEL_CHARS: usize = 64;

/// Trims each label of a comma-separated list and checks it against what the API accepts:
/// no empty entries, at most 64 characters each, no control characters. `""` means no labels.
pub fn normalize_labels(text: &str) -> Result<String> {
    if text.trim().is_empty() {
        return Ok(String::new());
    }
    let mut labels = Vec::new();
    for label in text.split(',').map(str::trim) {
        if label.is_empty() {
            return Err(Error::usage(format!(
                "labels {text:?}: empty entry (write them like \"todo,urgent\")"
            )));
        }
        if label.chars().count() > MAX_LABEL_CHARS {
            return Err(Error::usage(format!(
                "label {label:?} is longer than {MAX_LABEL_CHARS} characters"
            )));
        }
        if label.chars().any(char::is_control) {
            return Err(Error::usage(format!(
                "label {label:?} contains control characters"
            )));
        }
        labels.push(label);
    }
    Ok(labels.join(","))
}

/// Where a field lives in `mirror_events`: the store's knowledge, kept out of the record.
pub(super) trait FieldColumns {
    fn column(self) -> &'static str;
    fn base_column(self) -> &'static str;
    fn stored(self, param: &str) -> String;
    fn read_as_text(self, column: &str) -> String;
}

impl FieldColumns for Field {
    /// The visible column of `mirror_events` (the note is the classic `comment`).
    fn column(self) -> &'static str {
        match self {
            Field::Note => "comment",
            other => other.name(),
        }
    }

    fn base_column(self) -> &'static str {
        match self {
            Field::Read => "read_base",
            Field::Starred => "starred_base",
            Field::Labels => "labels_base",
            Field::Location => "location_base",
            Field::Archived => "archived_base",
            Field::Note => "comment_base",
        }
    }

    /// How a value in the outbox's text form is written into the field's columns: a note of
    /// `''` is no note (NULL), as the sync stores it.
    fn stored(self, param: &str) -> String {
        match self {
            Field::Note => format!("nullif({param}, '')"),
            _ => param.to_string(),
        }
    }

    /// The field's columns read back in the outbox's text form.
    fn read_as_text(self, column: &str) -> String {
        match self {
            Field::Note => format!("coalesce({column}, '')"),
            _ => format!("CAST({column} AS TEXT)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_and_checked() {
        assert_eq!(normalize_labels(" a , b c ").unwrap(), "a,b c");
        assert_eq!(normalize_labels("  ").unwrap(), "");
        assert!(normalize_labels("a,,b").is_err());
        assert!(normalize_labels("a,").is_err());
        assert!(normalize_labels("a\u{7}").is_err());
        assert!(normalize_labels(&"x".repeat(65)).is_err());
        assert_eq!(
            normalize_labels(&"ä".repeat(64)).unwrap().chars().count(),
            64
        );
    }
}
