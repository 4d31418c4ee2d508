//! `sipmirror event read|unread|star|unstar|archive|unarchive|delete ID...`, `event label ID
//! LABELS` and `event note ID TEXT`: local edits. A field the mirror's API cannot write (labels
//! on v2, archive and note on classic) is refused by the outbox's trigger, as from SQL. They go through the same view triggers as an `UPDATE` in `sqlite3`, so the mirror
//! shows them at once and the outbox holds them for `push`. No upstream contact, no writer
//! lock: an edit can be made while a sync runs.

use crate::cli::EventCommand;
use crate::config::Settings;
use crate::error::{Error, ExitCode, Result};
use crate::output;
use crate::store::edits::{self, Edit};
use crate::store::{Access, Mirror};

pub fn run(settings: &Settings, command: &EventCommand) -> Result<ExitCode> {
    let (ids, edit, done) = match command {
        EventCommand::Read { ids } => (ids.clone(), Edit::Read(true), "marked read"),
        EventCommand::Unread { ids } => (ids.clone(), Edit::Read(false), "marked unread"),
        EventCommand::Star { ids } => (ids.clone(), Edit::Starred(true), "starred"),
        EventCommand::Unstar { ids } => (ids.clone(), Edit::Starred(false), "unstarred"),
        EventCommand::Archive { ids } => (ids.clone(), Edit::Archived(true), "archived"),
        EventCommand::Unarchive { ids } => (
            ids.clone(),
            Edit::Archived(false),
            "taken out of the archive",
        ),
        EventCommand::Note { id, text } => (vec![*id], Edit::Note(check_note(text)?), "noted"),
        EventCommand::Delete { ids } => (ids.clone(), Edit::Delete, "marked for deletion"),
        EventCommand::Label { id, labels } => (
            vec![*id],
            Edit::Labels(edits::normalize_labels(labels)?),
            "labelled",
        ),
    };
    let mut mirror = Mirror::open(&settings.db_path, Access::Existing)?;
    let changed = edits::apply_edits(mirror.conn_mut(), &ids, &edit)?;
    if settings.json {
        output::json(&serde_json::json!({
            "ids": ids,
            "changed": changed,
            "unchanged": ids.len() - changed,
        }))?;
    } else if !settings.quiet {
        output::line(&summary(&ids, changed, done))?;
    }
    Ok(ExitCode::Ok)
}

/// What the edit did: only events whose value changed have an edit to send.
fn summary(ids: &[i64], changed: usize, done: &str) -> String {
    let unchanged = ids.len() - changed;
    match (changed, ids) {
        (0, [id]) => format!("event {id} was already {done}; nothing changed, nothing to send"),
        (0, _) => format!("the {unchanged} events were already {done}; nothing changed"),
        (1, [id]) => {
            format!(
                "event {id} {done}; `sipmirror push` (or the next sync) sends the edit upstream"
            )
        }
        (n, _) if unchanged == 0 => format!(
            "{n} events {done}; `sipmirror push` (or the next sync) sends the edits upstream"
        ),
        (n, _) => format!(
            "{n} events {done} ({unchanged} already were); `sipmirror push` (or the next sync) sends the edits upstream"
        ),
    }
}

/// The longest note, in characters (the views' trigger checks the same).
const MAX_NOTE_CHARS: usize = 2000;

/// A note as the views take it, with a message that names the problem.
fn check_note(text: &str) -> Result<String> {
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(Error::usage(format!(
            "a note has at most {MAX_NOTE_CHARS} characters"
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(Error::usage("a note cannot hold control characters"));
    }
    Ok(text.to_string())
}
