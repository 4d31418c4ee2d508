//! The replay of one event's edits: read the event upstream once, then settle each edit in
//! outbox order against what upstream has.

use crate::api::events::{EventKind, WireEvent};
use crate::api::{ApiError, ApiErrorKind, Client};
use crate::config::ConflictPolicy;
use crate::store::outbox::{Closed, Entry, Field, Op};

/// What became of one edit.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Upstream now has `upstream` for the field; the entry is closed as `closed`. `wrote` says
    /// whether this run wrote it.
    Settled {
        upstream: String,
        closed: Closed,
        wrote: bool,
        detail: Option<String>,
    },
    /// The event is gone upstream.
    Gone,
    /// Upstream refused the edit, or a conflict under the `fail` policy. `upstream` is the
    /// field's value upstream, when it was read.
    Failed {
        error: String,
        upstream: Option<String>,
        conflict: bool,
    },
    /// A transient error; the edit stays pending.
    Deferred { error: String },
}

/// Replays `batch` (the due edits of one event, in outbox order). Only bad credentials end
/// the replay with an error: every other request would fail the same way.
pub async fn event(
    client: &Client,
    batch: Vec<Entry>,
    policy: ConflictPolicy,
) -> Result<Vec<(Entry, Outcome)>, ApiError> {
    let Some(first) = batch.first() else {
        return Ok(Vec::new());
    };
    let Some(kind) = EventKind::from_name(&first.kind) else {
        let error = format!("unknown event kind {:?}", first.kind);
        return Ok(all(batch, |_| Outcome::Failed {
            error: error.clone(),
            upstream: None,
            conflict: false,
        }));
    };
    let current = match client.event(kind, first.event_id).await {
        Ok((_, wire)) => wire,
        // A well-formed answer of the wrong shape is upstream misbehaving, like a cut or
        // garbled one: try again later, rather than fail the edit for good. (A refusal has a
        // status; a body that did not fit has none.)
        Err(e) if e.kind == ApiErrorKind::Permanent && e.status.is_none() => {
            return on_error(batch, ApiError::new(ApiErrorKind::Transient, e.message));
        }
        Err(e) => return on_error(batch, e),
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut rest = batch.into_iter();
    while let Some(entry) = rest.next() {
        let upstream = upstream_value(&current, entry.field);
        let outcome = match decide(&entry, &upstream, policy) {
            Decision::Settle(closed, detail) => Outcome::Settled {
                upstream,
                closed,
                wrote: false,
                detail,
            },
            Decision::Fail(error) => Outcome::Failed {
                error,
                upstream: Some(upstream),
                conflict: true,
            },
            Decision::Write(closed, detail) => match write(client, kind, &entry).await {
                Ok(()) => Outcome::Settled {
                    upstream: entry.value.clone(),
                    closed,
                    wrote: true,
                    detail,
                },
                Err(e) if e.kind == ApiErrorKind::Unauthorized => return Err(e),
                Err(e) if e.kind == ApiErrorKind::Permanent => Outcome::Failed {
                    error: e.message,
                    upstream: Some(upstream),
                    conflict: false,
                },
                // Gone or transient: the later edits of this event meet the same fate (and
                // must not overtake this one).
                Err(e) => {
                    let mut tail = vec![entry];
                    tail.extend(rest);
                    let mut settled = on_error(tail, e)?;
                    outcomes.append(&mut settled);
                    return Ok(outcomes);
                }
            },
        };
        outcomes.push((entry, outcome));
    }
    Ok(outcomes)
}

enum Decision {
    /// Nothing to write: close the entry.
    Settle(Closed, Option<String>),
    /// Write the local value, then close the entry as given.
    Write(Closed, Option<String>),
    /// A conflict under the `fail` policy.
    Fail(String),
}

/// Compares the local target, the base and upstream's value.
fn decide(entry: &Entry, upstream: &str, policy: ConflictPolicy) -> Decision {
    if upstream == entry.value {
        return Decision::Settle(Closed::Pushed, None);
    }
    let changed_upstream = entry.base.as_deref().is_some_and(|base| base != upstream);
    if !changed_upstream {
        return Decision::Write(Closed::Pushed, None);
    }
    let detail = format!(
        "{} was {:?} at the last sync, upstream has {:?} now, the local edit wants {:?}",
        entry.field.column(),
        entry.base.as_deref().unwrap_or(""),
        upstream,
        entry.value
    );
    match policy {
        ConflictPolicy::LocalWins => Decision::Write(Closed::ConflictLocalWon, Some(detail)),
        ConflictPolicy::UpstreamWins => Decision::Settle(Closed::ConflictUpstreamWon, Some(detail)),
        ConflictPolicy::Fail => Decision::Fail(format!(
            "conflict: {detail}; `outbox retry` pushes the local value, `outbox drop` keeps upstream's"
        )),
    }
}

/// The field as upstream has it, in the outbox's text form.
fn upstream_value(event: &WireEvent, field: Field) -> String {
    let flag = |f: &Option<crate::api::events::WireFlag>| {
        if f.as_ref().is_some_and(|f| f.value) {
            "1"
        } else {
            "0"
        }
    };
    match field {
        Field::Read => flag(&event.read).to_string(),
        Field::Starred => flag(&event.starred).to_string(),
        Field::Labels => event
            .labels
            .as_ref()
            .and_then(|l| l.value.clone())
            .unwrap_or_default(),
        Field::Location => event.location.clone().unwrap_or_default(),
    }
}

async fn write(client: &Client, kind: EventKind, entry: &Entry) -> Result<(), ApiError> {
    match (entry.op, entry.field) {
        (Op::Delete, _) | (Op::Set, Field::Location) => {
            client.trash_event(kind, entry.event_id).await
        }
        (Op::Set, Field::Labels) => client.set_labels(kind, entry.event_id, &entry.value).await,
        (Op::Set, field) => {
            client
                .set_flag(kind, entry.event_id, field.column(), entry.value == "1")
                .await
        }
    }
}

/// The whole batch meets one error (reading the event failed, or a write failed in a way that
/// stops the event's later edits).
fn on_error(batch: Vec<Entry>, error: ApiError) -> Result<Vec<(Entry, Outcome)>, ApiError> {
    Ok(match error.kind {
        ApiErrorKind::Unauthorized => return Err(error),
        ApiErrorKind::NotFound => all(batch, |_| Outcome::Gone),
        ApiErrorKind::Transient => all(batch, |_| Outcome::Deferred {
            error: error.message.clone(),
        }),
        ApiErrorKind::Permanent => all(batch, |_| Outcome::Failed {
            error: error.message.clone(),
            upstream: None,
            conflict: false,
        }),
    })
}

fn all(batch: Vec<Entry>, outcome: impl Fn(&Entry) -> Outcome) -> Vec<(Entry, Outcome)> {
    batch
        .into_iter()
        .map(|entry| {
            let o = outcome(&entry);
            (entry, o)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(value: &str, base: Option<&str>) -> Entry {
        Entry {
            id: 1,
            op: Op::Set,
            event_id: 7,
            kind: "call".into(),
            field: Field::Read,
            value: value.into(),
            base: base.map(Into::into),
            state: "pending".into(),
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
            created_at: String::new(),
        }
    }

    #[test]
    fn decisions_follow_base_and_policy() {
        let local = ConflictPolicy::LocalWins;
        // Upstream already has the value: close without writing.
        assert!(matches!(
            decide(&entry("1", Some("0")), "1", local),
            Decision::Settle(Closed::Pushed, None)
        ));
        // Upstream unchanged since the base: write.
        assert!(matches!(
            decide(&entry("1", Some("0")), "0", local),
            Decision::Write(Closed::Pushed, None)
        ));
        // Labels: upstream moved from the base to something else.
        let mut labels = entry("a", Some("b"));
        labels.field = Field::Labels;
        assert!(matches!(
            decide(&labels, "c", local),
            Decision::Write(Closed::ConflictLocalWon, Some(_))
        ));
        assert!(matches!(
            decide(&labels, "c", ConflictPolicy::UpstreamWins),
            Decision::Settle(Closed::ConflictUpstreamWon, Some(_))
        ));
        assert!(matches!(
            decide(&labels, "c", ConflictPolicy::Fail),
            Decision::Fail(_)
        ));
    }
}
