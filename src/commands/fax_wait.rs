//! `send fax --wait`: follows each sent fax until upstream says it was sent or failed,
//! writing what it reads into the mirror, so the `faxes` and `sends` views show the status
//! seen last (the sync keeps it current after that).
//!
//! classic says `pending`, `sent` or `failed`; v2 `faxStatusType` PENDING, SENDING, SENT,
//! FAILED (or SCHEDULED). A fax not listed yet, and transient errors, are polled again.

use std::time::{Duration, Instant};

use crate::api::{ApiErrorKind, Upstream};
use crate::config::Settings;
use crate::error::{ExitCode, Result};
use crate::output;
use crate::records::EventKind;
use crate::records::event::Detail;
use crate::records::event::EventRecord;
use crate::store::events::EventWriter;
use crate::store::sends::{Send, describe};
use crate::store::{Access, Mirror, now_utc};

/// Follows every fax of `queued` that went out; exit 3 when one failed or did not finish.
pub fn follow(settings: &Settings, queued: &[Send]) -> Result<ExitCode> {
    let mut mirror = Mirror::open(&settings.db_path, Access::Existing)?;
    let upstream = Upstream::connect(settings)?;
    let mut code = ExitCode::Ok;
    for send in queued {
        let Some(event_id) = crate::store::sends::sent_event(mirror.conn(), send.id)? else {
            eprintln!(
                "sipmirror: outbox entry {}: not sent yet, so there is no status to follow",
                send.id
            );
            code = ExitCode::Partial.or(code);
            continue;
        };
        code = follow_one(settings, &upstream, &mut mirror, send, event_id)?.or(code);
    }
    Ok(code)
}

fn follow_one(
    settings: &Settings,
    upstream: &Upstream,
    mirror: &mut Mirror,
    send: &Send,
    event_id: i64,
) -> Result<ExitCode> {
    let deadline = Instant::now() + settings.push.fax_wait;
    let mut last = String::from("not listed yet");
    loop {
        let read = upstream.block_on(upstream.client.event_record(
            EventKind::Fax,
            &event_id.to_string(),
            &settings.country_code,
        ));
        match read {
            Ok(record) => {
                store(settings, mirror, &record)?;
                last = shown_status(&record);
                match record.status.as_deref() {
                    Some("sent") => {
                        if !settings.quiet {
                            output::line(&format!(
                                "outbox entry {}: {}: sent (upstream event {event_id}, {last})",
                                send.id,
                                describe(send)
                            ))?;
                        }
                        return Ok(ExitCode::Ok);
                    }
                    Some("failed") => {
                        eprintln!(
                            "sipmirror: outbox entry {}: the fax (upstream event {event_id}) failed upstream ({last}); see the faxes view for the report",
                            send.id
                        );
                        return Ok(ExitCode::Partial);
                    }
                    _ => {}
                }
            }
            Err(e) if matches!(e.kind, ApiErrorKind::NotFound | ApiErrorKind::Transient) => {
                tracing::debug!(error = %e, "fax status not readable yet");
            }
            Err(e) => return Err(e.into()),
        }
        if Instant::now() >= deadline {
            eprintln!(
                "sipmirror: outbox entry {}: the fax is still {last} after {} s; `sipmirror sync` keeps its status current",
                send.id,
                settings.push.fax_wait.as_secs()
            );
            return Ok(ExitCode::Partial);
        }
        std::thread::sleep(settings.push.fax_poll.min(Duration::from_secs(60)));
    }
}

/// `SENDING` (v2) or `pending` (classic).
fn shown_status(record: &EventRecord) -> String {
    match &record.detail {
        Detail::Fax {
            status_type: Some(status),
            ..
        } => status.clone(),
        _ => record.status.clone().unwrap_or_else(|| "unknown".into()),
    }
}

/// Writes the fax as read into the mirror, as a sync would.
fn store(settings: &Settings, mirror: &mut Mirror, record: &EventRecord) -> Result<()> {
    let now = now_utc();
    let tx = mirror
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut writer = EventWriter::new(&tx, &now, settings.timezone)?;
        writer.upsert(record)?;
        writer.finish()?;
    }
    crate::crashpoint::commit(tx, "fax_wait:stored")?;
    Ok(())
}
