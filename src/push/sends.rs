//! Sends SMS and faxes from the outbox, each exactly once (`docs/architecture.md`, "The rules
//! of the sync and the write-back", rule 10).
//!
//! Sending is not idempotent upstream, so every attempt is bracketed by the mirror: the mark
//! "an attempt began" is committed before the request goes out, and the outcome after the
//! answer. When the answer is lost (timeout, cut connection, 5xx, or a crash in between), the
//! mark stays, and the next attempt, in this run or a later one, first lists what was sent
//! upstream since the mark and closes the entry if its message is there. Only a definite "not
//! sent" (no connection, or a 4xx) clears the mark.
//!
//! Sends go out one at a time, in the order they were queued, and while one's outcome is
//! unknown the later ones wait. So when a send looks upstream, every message there since its
//! attempt is either claimed by an earlier send or its own: a message is recognised by its
//! type, direction, recipients, sender and (SMS) text. The page count of a fax is not
//! compared, since upstream may count pages differently from us, and a mismatch would send
//! the fax twice.
//!
//! Both dialects take the same path. v2 sends to one recipient per request (a send to several
//! is queued as one entry per recipient) and does not say which history entry an SMS became:
//! after a v2 SMS went out, the entry is looked up the same way and claimed, so that a later
//! identical message whose answer is lost cannot take it for its own.

use std::collections::HashSet;

use bytes::Bytes;
use chrono::Utc;

use super::PushReport;
use crate::api::{ApiErrorKind, Client, CreateError, Delivery, Outgoing, Upstream};
use crate::crashpoint;
use crate::error::{Error, Result};
use crate::numbers::number_key;
use crate::records::event::Detail;
use crate::records::event::EventRecord;
use crate::store::sends::{self, Send, SendClosed};
use crate::store::{Mirror, now_utc};

/// How far before the attempt the lookup starts, for clocks that disagree.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(10);

/// Sends every due send. Stops at bad credentials, and before the next send when one's outcome
/// stays unknown; any other failure is recorded on its entry and the others go on.
pub async fn deliver_all(
    mirror: &mut Mirror,
    upstream: &Upstream,
    country_code: &str,
    report: &mut PushReport,
) -> Result<()> {
    let due = sends::due(mirror.conn(), &now_utc())?;
    let count = due.len();
    for (i, send) in due.into_iter().enumerate() {
        if let Some(until) = held_until(&upstream.client, &send) {
            // Upstream cannot send it later for us: it waits here for its time.
            sends::hold(mirror.conn(), send.id, &until)?;
            report.waiting += 1;
            continue;
        }
        if !deliver(mirror, &upstream.client, send, country_code, report).await? {
            report.waiting += (count - i - 1) as u64;
            break;
        }
    }
    Ok(())
}

/// What became of one attempt.
enum Attempt {
    Done,
    /// The outcome is unknown (the error says why): look, then maybe try again.
    Unknown(String),
}

async fn deliver(
    mirror: &mut Mirror,
    client: &Client,
    mut send: Send,
    country_code: &str,
    report: &mut PushReport,
) -> Result<bool> {
    let max = client.max_attempts();
    for attempt in 1..=max {
        if send.attempt_started_at.is_some() {
            let claimed = sends::claimed_event_ids(mirror.conn())?;
            match look_upstream(client, &send, &claimed, country_code).await {
                Ok(Some(event_id)) => {
                    close(
                        mirror,
                        &send,
                        SendClosed::FoundUpstream,
                        Some(event_id),
                        None,
                    )?;
                    report.sent_found_upstream += 1;
                    return Ok(true);
                }
                Ok(None) => {}
                Err(e) if e.kind == ApiErrorKind::Unauthorized => return Err(stop(e)),
                Err(e) => {
                    // Without looking, sending again could send twice: wait for a later run.
                    let error = format!("could not check whether it was sent: {e}");
                    defer_unknown(mirror, &send, &error, send.attempts, report)?;
                    return Ok(false);
                }
            }
        }
        match attempt_once(mirror, client, &send, country_code, report).await? {
            Attempt::Done => return Ok(true),
            Attempt::Unknown(_) if attempt < max => {
                tokio::time::sleep(client.backoff(attempt, None)).await;
                send = match sends::find(mirror.conn(), send.id)? {
                    Some(fresh) => fresh,
                    None => return Ok(true),
                };
            }
            Attempt::Unknown(error) => {
                let attempts = send.attempts + 1;
                defer_unknown(mirror, &send, &error, attempts, report)?;
                return Ok(false);
            }
        }
    }
    Ok(true)
}

async fn attempt_once(
    mirror: &mut Mirror,
    client: &Client,
    send: &Send,
    country_code: &str,
    report: &mut PushReport,
) -> Result<Attempt> {
    let now = now_utc();
    let (schedule, late) = effective_schedule(send.request.schedule.as_deref());
    let pdf = match send.request.text {
        Some(_) => None,
        None => Some(Bytes::from(sends::document(mirror.conn(), send.id)?)),
    };
    sends::begin_attempt(mirror.conn(), send.id, &now)?;
    crashpoint::reached("send:before_post");
    let to = Outgoing {
        targets: &send.request.targets,
        source: send.request.source.as_deref(),
        schedule: schedule.as_deref(),
    };
    let result = match (&send.request.text, &pdf) {
        (Some(text), _) => client.send_sms(to, text).await,
        (None, Some(pdf)) => {
            let file_name = send.request.file_name.as_deref().unwrap_or("fax.pdf");
            client.send_fax(to, file_name, pdf).await
        }
        (None, None) => unreachable!("a fax send always loads its document"),
    };
    crashpoint::reached("send:posted");
    match result {
        Ok(event_id) => {
            let event_id = match event_id {
                Some(id) => Some(id),
                None => find_sent(mirror, client, send, country_code).await,
            };
            let detail = late.then_some("its time had passed when it went out; sent at once");
            close(mirror, send, SendClosed::Sent, event_id, detail)?;
            report.sent += 1;
            Ok(Attempt::Done)
        }
        Err(CreateError {
            error,
            delivery: Delivery::NotDelivered,
        }) => {
            let message = error.to_string();
            match error.kind {
                ApiErrorKind::Unauthorized => {
                    sends::not_delivered(mirror.conn(), send.id, &message, None, false, &now)?;
                    Err(stop(error))
                }
                ApiErrorKind::Transient => {
                    let next = super::next_attempt_at(send.attempts + 1);
                    sends::not_delivered(
                        mirror.conn(),
                        send.id,
                        &message,
                        Some(&next),
                        false,
                        &now,
                    )?;
                    report.deferred += 1;
                    Ok(Attempt::Done)
                }
                ApiErrorKind::NotFound | ApiErrorKind::Permanent => {
                    tracing::info!(outbox = send.id, %message, "send refused by upstream");
                    sends::not_delivered(mirror.conn(), send.id, &message, None, true, &now)?;
                    report.failed += 1;
                    Ok(Attempt::Done)
                }
            }
        }
        Err(CreateError {
            error,
            delivery: Delivery::Unknown,
        }) => {
            tracing::info!(outbox = send.id, %error, "send outcome unknown; will look upstream");
            let error = error.to_string();
            sends::outcome_unknown(mirror.conn(), send.id, &error, None, &now)?;
            Ok(Attempt::Unknown(error))
        }
    }
}

/// When a send for later must wait in the outbox (upstream takes no time for its kind, and
/// the time has not come): the time, as the outbox keeps times.
fn held_until(client: &Client, send: &Send) -> Option<String> {
    if client.schedules(send.event_kind()) {
        return None;
    }
    let (schedule, _) = effective_schedule(send.request.schedule.as_deref());
    let at = chrono::NaiveDateTime::parse_from_str(&schedule?, "%Y-%m-%d %H:%M:%S").ok()?;
    Some(at.and_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// A schedule that has passed by the time the send goes out (it waited offline) is dropped:
/// the message goes out at once rather than never.
fn effective_schedule(schedule: Option<&str>) -> (Option<String>, bool) {
    let Some(text) = schedule else {
        return (None, false);
    };
    let now = Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    if text > now.as_str() {
        (Some(text.to_string()), false)
    } else {
        (None, true)
    }
}

/// The history entry a message that went out became, when upstream did not say (v2 SMS):
/// looked up and claimed. `None` when it is not listed yet (upstream may list it late).
async fn find_sent(
    mirror: &Mirror,
    client: &Client,
    send: &Send,
    country_code: &str,
) -> Option<i64> {
    let claimed = sends::claimed_event_ids(mirror.conn()).ok()?;
    match look_upstream(client, send, &claimed, country_code).await {
        Ok(found) => found,
        Err(e) => {
            tracing::info!(outbox = send.id, error = %e, "sent; its history entry could not be looked up");
            None
        }
    }
}

/// Lists what was sent since the first unresolved attempt and returns the oldest unclaimed
/// event that is this message.
async fn look_upstream(
    client: &Client,
    send: &Send,
    claimed: &HashSet<i64>,
    country_code: &str,
) -> Result<Option<i64>, crate::api::ApiError> {
    let started = send
        .attempt_started_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    let period_start = (started - CLOCK_SKEW)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let events = client
        .sent_since(send.event_kind(), &period_start, country_code)
        .await?;
    let found = events
        .iter()
        .filter(|e| is_this_message(send, e, country_code))
        .map(|e| e.id)
        .filter(|id| !claimed.contains(id))
        .min();
    tracing::debug!(
        outbox = send.id,
        candidates = events.len(),
        ?found,
        "looked upstream"
    );
    Ok(found)
}

/// Whether an upstream event is the message `send` asked for: outgoing, to the same
/// recipients, from the same number if one was given, and for an SMS with the same text (line
/// endings and surrounding space aside).
fn is_this_message(send: &Send, event: &EventRecord, country_code: &str) -> bool {
    let keys = |numbers: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        let mut keys: Vec<String> = numbers
            .filter_map(|n| number_key(n, country_code))
            .collect();
        keys.sort();
        keys
    };
    let numbers = |role: &'static str| {
        event
            .endpoints
            .iter()
            .filter(move |e| e.role == role)
            .filter_map(|e| e.number_e164.as_deref())
    };
    let wanted = keys(&mut send.request.targets.iter().map(String::as_str));
    let got = keys(&mut numbers("target"));
    let source_fits = match send.request.source.as_deref() {
        Some(source) if source.starts_with('+') => numbers("source")
            .any(|n| number_key(n, country_code) == number_key(source, country_code)),
        _ => true,
    };
    let content_fits = match (&send.request.text, &event.detail) {
        (
            Some(text),
            Detail::Sms {
                text: Some(sent), ..
            },
        ) => comparable(sent) == comparable(text),
        (Some(_), _) => false,
        (None, _) => true,
    };
    event.direction.as_deref().is_none_or(|d| d == "outgoing")
        && wanted == got
        && source_fits
        && content_fits
}

fn comparable(text: &str) -> String {
    text.trim().replace("\r\n", "\n")
}

fn close(
    mirror: &mut Mirror,
    send: &Send,
    closed: SendClosed,
    event_id: Option<i64>,
    detail: Option<&str>,
) -> Result<()> {
    let tx = mirror
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    sends::close(&tx, send, closed, event_id, detail, &now_utc())?;
    crate::crashpoint::commit(tx, "send:closed")?;
    tracing::info!(outbox = send.id, event = ?event_id, result = ?closed, "send closed");
    Ok(())
}

fn defer_unknown(
    mirror: &Mirror,
    send: &Send,
    error: &str,
    attempts: i64,
    report: &mut PushReport,
) -> Result<()> {
    let next = super::next_attempt_at(attempts.max(1));
    sends::outcome_unknown(mirror.conn(), send.id, error, Some(&next), &now_utc())?;
    report.deferred += 1;
    Ok(())
}

fn stop(error: crate::api::ApiError) -> Error {
    Error::from(error).context("push")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sends::SendRequest;

    /// A v2 SMS history entry as the record the lookup compares.
    fn event(json: &str) -> EventRecord {
        let raw: Box<serde_json::value::RawValue> = serde_json::from_str(json).expect("json");
        crate::api::v2::history::to_record(crate::records::EventKind::Sms, &raw, 0, "49")
            .expect("record")
    }

    fn sms(text: &str, targets: &[&str]) -> Send {
        Send {
            id: 1,
            kind: "sms",
            client_token: "t".into(),
            request: SendRequest {
                targets: targets.iter().map(|t| t.to_string()).collect(),
                source: None,
                schedule: None,
                text: Some(text.into()),
                file_name: None,
                pages: None,
            },
            state: "pending".into(),
            attempts: 1,
            attempt_started_at: None,
            next_attempt_at: None,
            last_error: None,
            created_at: String::new(),
        }
    }

    #[test]
    fn a_message_is_recognised_by_recipients_and_text() {
        let sent = event(
            r#"{"id":"9","type":"SMS","created":"2026-01-01T10:00:00Z","direction":"OUTGOING",
                "smsContent":"Hi\r\n","source":"+4930999","target":"+4940222"}"#,
        );
        assert!(is_this_message(&sms("Hi", &["+4940222"]), &sent, "49"));
        assert!(is_this_message(&sms("Hi", &["040222"]), &sent, "49"));
        assert!(!is_this_message(&sms("Hi!", &["+4940222"]), &sent, "49"));
        assert!(!is_this_message(&sms("Hi", &["+4930111"]), &sent, "49"));
        let incoming = event(
            r#"{"id":"9","type":"SMS","created":"2026-01-01T10:00:00Z","direction":"INCOMING",
                "smsContent":"Hi","target":"+4940222"}"#,
        );
        assert!(!is_this_message(&sms("Hi", &["+4940222"]), &incoming, "49"));
    }

    #[test]
    fn a_passed_schedule_is_dropped() {
        assert_eq!(effective_schedule(None), (None, false));
        assert_eq!(
            effective_schedule(Some("2001-01-01 10:00:00")),
            (None, true)
        );
        assert_eq!(
            effective_schedule(Some("2999-01-01 10:00:00")),
            (Some("2999-01-01 10:00:00".into()), false)
        );
    }
}
