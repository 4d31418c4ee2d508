//! `sipmirror event read|unread|star|unstar|delete ID...` and `event label ID LABELS`: local
//! edits. They go through the same view triggers as an `UPDATE` in `sqlite3`, so the mirror
//! shows them at once and the outbox holds them for `push`. No upstream contact, no writer
//! lock: an edit can be made while a sync runs.

use crate::cli::EventCommand;
use crate::config::Settings;
use crate::error::{ExitCode, Result};
use crate::output;
use crate::store::outbox::{self, Edit};
use crate::store::{Access, Mirror};

pub fn run(settings: &Settings, command: &EventCommand) -> Result<ExitCode> {
    let (ids, edit, done) = match command {
        EventCommand::Read { ids } => (ids.clone(), Edit::Read(true), "marked read"),
        EventCommand::Unread { ids } => (ids.clone(), Edit::Read(false), "marked unread"),
        EventCommand::Star { ids } => (ids.clone(), Edit::Starred(true), "starred"),
        EventCommand::Unstar { ids } => (ids.clone(), Edit::Starred(false), "unstarred"),
        EventCommand::Delete { ids } => (ids.clone(), Edit::Delete, "moved to the trash"),
        EventCommand::Label { id, labels } => (
            vec![*id],
            Edit::Labels(outbox::normalize_labels(labels)?),
            "labelled",
        ),
    };
    let mut mirror = Mirror::open(&settings.db_path, Access::Existing)?;
    outbox::apply_edits(mirror.conn_mut(), &ids, &edit)?;
    if !settings.quiet {
        let what = match ids.len() {
            1 => format!("event {}", ids[0]),
            n => format!("{n} events"),
        };
        output::line(&format!(
            "{what} {done}; `sipmirror push` (or the next sync) sends the edit upstream"
        ))?;
    }
    Ok(ExitCode::Ok)
}
