//! `sipmirror outbox [list|retry ID|drop ID]`: the local edits that wait for upstream.

use crate::cli::OutboxCommand;
use crate::commands::push::describe;
use crate::config::Settings;
use crate::error::{ExitCode, Result};
use crate::output;
use crate::store::outbox;
use crate::store::{Access, Mirror, now_utc};

pub fn run(settings: &Settings, command: Option<&OutboxCommand>) -> Result<ExitCode> {
    match command {
        None | Some(OutboxCommand::List) => list(settings),
        Some(OutboxCommand::Retry { id }) => {
            let mirror = Mirror::open(&settings.db_path, Access::ReadWrite)?;
            outbox::retry(mirror.conn(), *id, &now_utc())?;
            if !settings.quiet {
                output::line(&format!("outbox entry {id} will be pushed on the next run"))?;
            }
            Ok(ExitCode::Ok)
        }
        Some(OutboxCommand::Drop { id }) => {
            let mut mirror = Mirror::open(&settings.db_path, Access::ReadWrite)?;
            let entry = outbox::drop_entry(mirror.conn_mut(), *id, &now_utc())?;
            if !settings.quiet {
                output::line(&format!(
                    "dropped outbox entry {id} ({}); the event shows the upstream value again",
                    describe(&entry)
                ))?;
            }
            Ok(ExitCode::Ok)
        }
    }
}

fn list(settings: &Settings) -> Result<ExitCode> {
    let mirror = Mirror::open(&settings.db_path, Access::ReadOnly)?;
    let entries = outbox::all_entries(mirror.conn())?;
    if settings.json {
        output::json(&entries)?;
        return Ok(ExitCode::Ok);
    }
    if entries.is_empty() {
        output::line("The outbox is empty: every local edit is upstream.")?;
        return Ok(ExitCode::Ok);
    }
    for entry in &entries {
        let mut line = format!("{:>6}  {:<8} {}", entry.id, entry.state, describe(entry));
        if entry.attempts > 0 {
            line.push_str(&format!("; {} attempts", entry.attempts));
        }
        if let Some(next) = &entry.next_attempt_at {
            line.push_str(&format!(", next after {next}"));
        }
        if let Some(error) = &entry.last_error {
            line.push_str(&format!("; {error}"));
        }
        output::line(&line)?;
    }
    Ok(ExitCode::Ok)
}
