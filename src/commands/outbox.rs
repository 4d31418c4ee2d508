//! `sipmirror outbox [list|retry ID|drop ID]`: the local edits and the sends that wait for
//! upstream.

use crate::cli::OutboxCommand;
use crate::commands::push::describe;
use crate::config::Settings;
use crate::error::{ExitCode, Result};
use crate::output;
use crate::store::outbox;
use crate::store::sends;
use crate::store::{Access, Mirror, now_utc};

pub fn run(settings: &Settings, command: Option<&OutboxCommand>) -> Result<ExitCode> {
    match command {
        None | Some(OutboxCommand::List) => list(settings),
        Some(OutboxCommand::Retry { id, all }) => {
            let mirror = Mirror::open(&settings.db_path, Access::Existing)?;
            let done = match (id, all) {
                (Some(id), _) => {
                    outbox::retry(mirror.conn(), *id, &now_utc())?;
                    format!("outbox entry {id} will be pushed on the next run")
                }
                (None, _) => {
                    let count = outbox::retry_all(mirror.conn(), &now_utc())?;
                    format!("{count} outbox entries will be pushed on the next run")
                }
            };
            if !settings.quiet {
                output::line(&done)?;
            }
            Ok(ExitCode::Ok)
        }
        Some(OutboxCommand::Drop { id }) => {
            let mut mirror = Mirror::open(&settings.db_path, Access::Existing)?;
            if let Some(send) = sends::find(mirror.conn(), *id)? {
                sends::drop_send(mirror.conn_mut(), &send, &now_utc())?;
                if send.attempt_started_at.is_some() {
                    eprintln!(
                        "sipmirror: outbox entry {id} may have reached upstream before it was dropped; check the sent {} there",
                        send.kind
                    );
                }
                if !settings.quiet {
                    output::line(&format!(
                        "dropped outbox entry {id} ({}); it will not be sent",
                        sends::describe(&send)
                    ))?;
                }
                return Ok(ExitCode::Ok);
            }
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
    let sends = sends::all(mirror.conn())?;
    let faxes = sends::faxes_in_progress(mirror.conn())?;
    if settings.json {
        output::json(&serde_json::json!({
            "edits": entries,
            "sends": sends,
            "faxes_in_progress": faxes,
        }))?;
        return Ok(ExitCode::Ok);
    }
    if entries.is_empty() && sends.is_empty() && faxes.is_empty() {
        output::line("The outbox is empty: every local edit is upstream and every message sent.")?;
        return Ok(ExitCode::Ok);
    }
    let mut lines: Vec<(i64, String)> = entries
        .iter()
        .map(|e| {
            let state = (
                e.attempts,
                e.next_attempt_at.as_deref(),
                e.last_error.as_deref(),
            );
            (e.id, line(e.id, &e.state, &describe(e), state))
        })
        .collect();
    lines.extend(sends.iter().map(|s| {
        let mut what = sends::describe(s);
        if s.attempt_started_at.is_some() {
            what.push_str("; may have reached upstream, will be looked up before sending again");
        }
        let state = (
            s.attempts,
            s.next_attempt_at.as_deref(),
            s.last_error.as_deref(),
        );
        (s.id, line(s.id, &s.state, &what, state))
    }));
    // Sent, but upstream has not finished with it: the status seen last (the sync, and
    // `send fax --wait`, keep it current).
    lines.extend(faxes.iter().map(|f| {
        let event = f
            .upstream_event_id
            .map_or(String::new(), |id| format!(", upstream event {id}"));
        let status = f.status.as_deref().unwrap_or("not listed yet");
        let what = format!("fax to {}: upstream {status}{event}", f.recipients);
        (f.id, line(f.id, "sent", &what, (0, None, None)))
    }));
    lines.sort();
    for (_, text) in lines {
        output::line(&text)?;
    }
    Ok(ExitCode::Ok)
}

/// One entry of `outbox list`: id, state, what, and how its attempts went.
fn line(
    id: i64,
    state: &str,
    what: &str,
    (attempts, next, error): (i64, Option<&str>, Option<&str>),
) -> String {
    let mut line = format!("{id:>6}  {state:<9} {what}");
    if attempts > 0 {
        line.push_str(&format!("; {attempts} attempts"));
    }
    if let Some(next) = next {
        line.push_str(&format!(", next after {next}"));
    }
    if let Some(error) = error {
        line.push_str(&format!("; {error}"));
    }
    line
}
