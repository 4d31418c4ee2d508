//! The replay of edits: each event is read upstream once, each of its edits decided in outbox
//! order against what upstream has, and then what must be written is written.
//!
//! The writes differ per dialect. classic writes one field per request, an event's edits one
//! after the other ([`write_each`]). v2 writes all fields of an event in one `PUT
//! /history/{id}`, and the flags of many events in one bulk `PUT /history`; deletions go in
//! batches too ([`write_v2`]).

use futures_util::StreamExt;

use crate::api::writes::{MAX_BULK_DELETE, MAX_BULK_UPDATE};
use crate::api::{ApiError, ApiErrorKind, Client};
use crate::config::ConflictPolicy;
use crate::records::EventKind;
use crate::records::Field;
use crate::records::writes::Change;
use crate::records::writes::EventFields;
use crate::records::writes::EventRef;
use crate::store::outbox::{Closed, Entry, Op};

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

/// An edit that must be written: how to close it once written, and what upstream had.
#[derive(Debug, Clone)]
pub struct Write {
    pub entry: Entry,
    pub kind: EventKind,
    closed: Closed,
    detail: Option<String>,
    upstream: String,
    /// Upstream's flags as the push read them: v2 writes are sent with every flag (see
    /// [`every_flag`]).
    flags: [bool; 3],
}

impl Write {
    fn event(&self) -> EventRef<'_> {
        EventRef {
            kind: self.kind,
            id: self.entry.event_id,
            upstream_id: &self.entry.upstream_id,
        }
    }

    fn change(&self) -> Change<'_> {
        (self.entry.field, self.entry.value.as_str())
    }
}

/// One event's due edits after reading it upstream.
#[derive(Debug, Default)]
pub struct Planned {
    /// Edits closed, failed or deferred without a write.
    pub decided: Vec<(Entry, Outcome)>,
    /// Edits to write, in outbox order.
    pub writes: Vec<Write>,
}

/// Reads the event of `batch` (its due edits, in outbox order), unless its fields were read
/// already (`known`, see `prefetch`), and decides each edit. Only bad credentials end with an
/// error: every other request would fail the same way.
pub async fn plan(
    client: &Client,
    batch: Vec<Entry>,
    policy: ConflictPolicy,
    known: Option<EventFields>,
) -> Result<Planned, ApiError> {
    let Some(first) = batch.first() else {
        return Ok(Planned::default());
    };
    let Some(kind) = EventKind::from_name(&first.kind) else {
        let error = format!("unknown event kind {:?}", first.kind);
        return Ok(decided(all(batch, |_| Outcome::Failed {
            error: error.clone(),
            upstream: None,
            conflict: false,
        })));
    };
    let event = EventRef {
        kind,
        id: first.event_id,
        upstream_id: &first.upstream_id,
    };
    let read = match known {
        Some(fields) => Ok(fields),
        None => client.event_fields(event).await,
    };
    let current = match read {
        Ok(fields) => fields,
        // A well-formed answer of the wrong shape is upstream misbehaving, like a cut or
        // garbled one: try again later, rather than fail the edit for good. (A refusal has a
        // status; a body that did not fit has none.)
        Err(e) if e.kind == ApiErrorKind::Permanent && e.status.is_none() => {
            return on_error(batch, ApiError::new(ApiErrorKind::Transient, e.message)).map(decided);
        }
        Err(e) => return on_error(batch, e).map(decided),
    };
    let mut planned = Planned::default();
    for entry in batch {
        let upstream = current.value(entry.field);
        match decide(&entry, &upstream, policy) {
            Decision::Settle(closed, detail) => planned.decided.push((
                entry,
                Outcome::Settled {
                    upstream,
                    closed,
                    wrote: false,
                    detail,
                },
            )),
            Decision::Fail(error) => planned.decided.push((
                entry,
                Outcome::Failed {
                    error,
                    upstream: Some(upstream),
                    conflict: true,
                },
            )),
            Decision::Write(closed, detail) => planned.writes.push(Write {
                flags: [current.read, current.starred, current.archived],
                entry,
                kind,
                closed,
                detail,
                upstream,
            }),
        }
    }
    Ok(planned)
}

fn decided(outcomes: Vec<(Entry, Outcome)>) -> Planned {
    Planned {
        decided: outcomes,
        writes: Vec::new(),
    }
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
        entry.field.name(),
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

/// Where the API writes each event alone (classic): writes one event's edits one at a time, in outbox order. A refused edit fails
/// alone; a gone event or a transient error stops the event's later edits too (they must not
/// overtake it).
pub async fn write_each(
    client: &Client,
    writes: Vec<Write>,
) -> Result<Vec<(Entry, Outcome)>, ApiError> {
    let mut outcomes = Vec::with_capacity(writes.len());
    let mut rest = writes.into_iter();
    while let Some(write) = rest.next() {
        let result = match write.entry.op {
            Op::Delete => client.delete_event(write.event()).await,
            Op::Set => client.write_fields(write.event(), &[write.change()]).await,
        };
        match result {
            Err(e) if matches!(e.kind, ApiErrorKind::NotFound | ApiErrorKind::Transient) => {
                let mut tail = vec![write];
                tail.extend(rest);
                outcomes.append(&mut written(tail, Err(e))?);
                return Ok(outcomes);
            }
            result => outcomes.append(&mut written(vec![write], result)?),
        }
    }
    Ok(outcomes)
}

/// Where the API writes in batches (v2): writes the edits of many events with as few requests as it can: the flags of events
/// without a note in bulk updates of up to 149 events, notes one event at a time with its
/// flags, deletions in batches of up to 50 ids. A batch that upstream refuses is written again
/// event by event, so that one bad event fails alone. `done` records each request's outcomes
/// as they come.
pub async fn write_batches(
    client: &Client,
    writes: Vec<Write>,
    concurrency: usize,
    mut done: impl FnMut(Vec<(Entry, Outcome)>) -> crate::error::Result<()>,
) -> crate::error::Result<()> {
    let (deletes, sets): (Vec<Write>, Vec<Write>) =
        writes.into_iter().partition(|w| w.entry.op == Op::Delete);
    let mut events = by_event(sets);
    let (bulk, single): (Vec<Vec<Write>>, Vec<Vec<Write>>) = if events.len() > 1 {
        events
            .drain(..)
            .partition(|e| e.iter().all(|w| w.entry.field.is_flag()))
    } else {
        (Vec::new(), events)
    };
    for chunk in chunks(bulk, MAX_BULK_UPDATE) {
        let result = {
            let body: Vec<(&str, Vec<Change<'_>>)> = chunk
                .iter()
                .map(|e| (e[0].entry.upstream_id.as_str(), every_flag(e)))
                .collect();
            client.write_flags_bulk(&body).await
        };
        match result {
            Err(e) if matches!(e.kind, ApiErrorKind::Permanent | ApiErrorKind::NotFound) => {
                tracing::debug!(error = %e, "bulk update refused; writing its events one by one");
                write_singly(client, chunk, concurrency, &mut done).await?;
            }
            result => done(written(chunk.into_iter().flatten().collect(), result)?)?,
        }
    }
    write_singly(client, single, concurrency, &mut done).await?;
    let deletes: Vec<Vec<Write>> = deletes.into_iter().map(|w| vec![w]).collect();
    if deletes.len() == 1 {
        return write_singly(client, deletes, concurrency, &mut done).await;
    }
    for chunk in chunks(deletes, MAX_BULK_DELETE) {
        let ids: Vec<&str> = chunk
            .iter()
            .map(|d| d[0].entry.upstream_id.as_str())
            .collect();
        match client.delete_events_bulk(&ids).await {
            Err(e) if matches!(e.kind, ApiErrorKind::Permanent | ApiErrorKind::NotFound) => {
                tracing::debug!(error = %e, "bulk delete refused; deleting one by one");
                write_singly(client, chunk, concurrency, &mut done).await?;
            }
            result => done(written(chunk.into_iter().flatten().collect(), result)?)?,
        }
    }
    Ok(())
}

/// One event's changes with every flag of v2's update bodies (read, starred, archived):
/// sipgate's description gives the flags a body leaves out `default: false`, so a body that
/// names only the edited one might clear the others. Those not edited are sent as upstream
/// had them when the push read the event.
fn every_flag(writes: &[Write]) -> Vec<Change<'_>> {
    let text = |on: bool| if on { "1" } else { "0" };
    let flags = writes.first().map_or([false; 3], |w| w.flags);
    let mut changes: Vec<Change<'_>> = [Field::Read, Field::Starred, Field::Archived]
        .into_iter()
        .zip(flags)
        .map(|(field, on)| (field, text(on)))
        .collect();
    for write in writes {
        let (field, value) = write.change();
        match changes.iter_mut().find(|c| c.0 == field) {
            Some(change) => change.1 = value,
            None => changes.push((field, value)),
        }
    }
    changes
}

/// v2: each event in one request (its fields in one `PUT`, or its deletion), `concurrency` at
/// a time.
async fn write_singly(
    client: &Client,
    events: Vec<Vec<Write>>,
    concurrency: usize,
    done: &mut impl FnMut(Vec<(Entry, Outcome)>) -> crate::error::Result<()>,
) -> crate::error::Result<()> {
    let mut results = futures_util::stream::iter(events)
        .map(|writes| async move {
            let result = match writes.first() {
                Some(w) if w.entry.op == Op::Delete => client.delete_event(w.event()).await,
                Some(w) => client.write_fields(w.event(), &every_flag(&writes)).await,
                None => Ok(()),
            };
            written(writes, result)
        })
        .buffer_unordered(concurrency);
    while let Some(outcomes) = results.next().await {
        let outcomes = outcomes.map_err(|e| crate::error::Error::from(e).context("push"))?;
        done(outcomes)?;
    }
    Ok(())
}

/// Writes grouped by event, in order of first appearance.
fn by_event(writes: Vec<Write>) -> Vec<Vec<Write>> {
    let mut groups: Vec<Vec<Write>> = Vec::new();
    for write in writes {
        match groups.last_mut() {
            Some(group) if group[0].entry.event_id == write.entry.event_id => group.push(write),
            _ => groups.push(vec![write]),
        }
    }
    groups
}

fn chunks<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        out.push(items.by_ref().take(size).collect());
    }
    out
}

/// The outcomes of writes that went out together and met one result.
fn written(
    writes: Vec<Write>,
    result: Result<(), ApiError>,
) -> Result<Vec<(Entry, Outcome)>, ApiError> {
    match result {
        Ok(()) => Ok(writes
            .into_iter()
            .map(|w| {
                let outcome = Outcome::Settled {
                    upstream: w.entry.value.clone(),
                    closed: w.closed,
                    wrote: true,
                    detail: w.detail,
                };
                (w.entry, outcome)
            })
            .collect()),
        Err(e) if e.kind == ApiErrorKind::Permanent => Ok(writes
            .into_iter()
            .map(|w| {
                let outcome = Outcome::Failed {
                    error: e.message.clone(),
                    upstream: Some(w.upstream),
                    conflict: false,
                };
                (w.entry, outcome)
            })
            .collect()),
        Err(e) => on_error(writes.into_iter().map(|w| w.entry).collect(), e),
    }
}

/// The whole batch meets one error.
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
    use crate::records::Field;

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
            upstream_id: "7".into(),
            event_created: String::new(),
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

    #[test]
    fn chunks_keep_order_and_size() {
        let parts = chunks((0..301).collect(), MAX_BULK_UPDATE);
        assert_eq!(
            parts.iter().map(Vec::len).collect::<Vec<_>>(),
            [149, 149, 3]
        );
        assert_eq!(parts.concat(), (0..301).collect::<Vec<_>>());
    }
}
