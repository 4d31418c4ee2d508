//! Push: replays the outbox's event edits upstream, then sends the queued SMS and faxes
//! (`sends`, exactly once).
//!
//! The rules (`docs/architecture.md`, "The rules of the sync and the write-back"): entries hold target values, so a replay is safe to
//! repeat; before writing, the upstream value is read and compared with the base, and a
//! conflict is settled by the configured policy, logged and counted; an entry is removed only
//! in the transaction that records upstream's new value as the base. Transient errors leave
//! the entry pending with a later `next_attempt_at`; permanent ones mark it failed and keep
//! it; a 404 closes it with a record, the event being gone upstream.
//!
//! Events are read concurrently (bounded), the edits of one event decided in outbox order. The
//! classic API then writes each event's edits one at a time; v2 writes many events per
//! request (`replay::write_v2`). v2 deletes for good, so more than `[push] max_deletes`
//! deletions wait for `push --confirm-deletes`.

mod prefetch;
mod replay;
mod sends;

use std::collections::HashMap;

use chrono::Utc;
use futures_util::StreamExt;
use serde::Serialize;

use crate::api::Upstream;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::store::outbox::{self, Closed, Entry};
use crate::store::sends::{self as store_sends, Send};
use crate::store::{Mirror, now_utc};

pub use replay::Outcome;

/// What a push did, as `push --json` (and `sync --json`, under `push`) prints it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PushReport {
    /// Edits written upstream, conflicts won by the local value included.
    pub pushed: u64,
    /// Edits upstream already had; closed without writing.
    pub already_upstream: u64,
    /// Edits where upstream had changed the field since the last sync, whatever the policy.
    pub conflicts: u64,
    /// Conflicts settled for upstream's value (policy `upstream-wins`).
    pub upstream_won: u64,
    /// Edits of events gone upstream; closed with a record.
    pub gone: u64,
    /// SMS and faxes sent.
    pub sent: u64,
    /// Sends whose answer was lost on an earlier attempt and that were found upstream (not
    /// sent again).
    pub sent_found_upstream: u64,
    /// Entries that failed for good in this run (kept, see `outbox list`).
    pub failed: u64,
    /// Entries that met a transient error; tried again on a later run.
    pub deferred: u64,
    /// Entries waiting for their retry time, not tried in this run.
    pub waiting: u64,
    /// Deletions held back: more than `[push] max_deletes` waited (v2), and the push was not
    /// run with `--confirm-deletes`.
    pub held_deletes: u64,
    /// Failed entries in the outbox after this run, older ones included.
    pub failed_in_outbox: u64,
    pub requests: u64,
    /// The edits a dry run would push.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<Entry>,
    /// The sends a dry run would send.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub planned_sends: Vec<Send>,
}

impl PushReport {
    /// Whether there was nothing to do: no edit due, waiting or failed.
    pub fn is_idle(&self) -> bool {
        self.requests == 0
            && self.waiting == 0
            && self.failed_in_outbox == 0
            && self.held_deletes == 0
    }

    pub fn summary(&self) -> String {
        format!(
            "push: {} pushed, {} sent, {} found sent, {} already upstream, {} conflicts ({} upstream won), {} gone upstream, {} failed, {} to retry, {} waiting; {} requests",
            self.pushed,
            self.sent,
            self.sent_found_upstream,
            self.already_upstream,
            self.conflicts,
            self.upstream_won,
            self.gone,
            self.failed,
            self.deferred,
            self.waiting,
            self.requests
        )
    }

    /// One line for stderr when something is left undone.
    pub fn problem(&self) -> Option<String> {
        if self.held_deletes > 0 {
            return Some(format!(
                "{} deletions held back: sipgate's API v2 deletes for good, and more than [push] max_deletes wait; check them with `sipmirror outbox list`, then send them with `sipmirror push --confirm-deletes`",
                self.held_deletes
            ));
        }
        if self.failed_in_outbox > 0 {
            return Some(format!(
                "{} failed and {} waiting; see `sipmirror outbox list`",
                outbox_entries(self.failed_in_outbox),
                if self.failed_in_outbox == 1 {
                    "is"
                } else {
                    "are"
                }
            ));
        }
        (self.deferred > 0).then(|| {
            format!(
                "{} met upstream errors and will be retried; see `sipmirror outbox list`",
                outbox_entries(self.deferred)
            )
        })
    }
}

/// `1 outbox entry`, `2 outbox entries`.
fn outbox_entries(count: u64) -> String {
    match count {
        1 => "1 outbox entry".to_string(),
        n => format!("{n} outbox entries"),
    }
}

/// What a push would do now, without contacting upstream or changing anything.
pub fn plan(mirror: &Mirror) -> Result<PushReport> {
    let now = now_utc();
    Ok(PushReport {
        planned: outbox::due_entries(mirror.conn(), &now)?,
        planned_sends: store_sends::due(mirror.conn(), &now)?,
        waiting: outbox::waiting(mirror.conn(), &now)?,
        failed_in_outbox: failed_count(mirror)?,
        ..PushReport::default()
    })
}

/// Replays the due entries. The caller holds the writer lock.
pub fn run(mirror: &mut Mirror, settings: &Settings, upstream: &Upstream) -> Result<PushReport> {
    let now = now_utc();
    let capabilities = upstream.client.capabilities();
    let mut due = outbox::due_entries(mirror.conn(), &now)?;
    let mut report = PushReport {
        waiting: outbox::waiting(mirror.conn(), &now)?,
        held_deletes: hold_back_deletes(&mut due, settings, capabilities.deletes_are_final()),
        ..PushReport::default()
    };
    let window = match capabilities.bulk_read_page() {
        Some(page) => prefetch::window(mirror.conn(), &due, page)?,
        None => None,
    };
    let requests_before = upstream.client.requests();
    let result = upstream.block_on(async {
        replay_all(mirror, settings, upstream, due, window, &mut report).await?;
        sends::deliver_all(mirror, upstream, &settings.country_code, &mut report).await
    });
    report.requests = upstream.client.requests() - requests_before;
    report.failed_in_outbox = failed_count(mirror)?;
    result.map(|()| report)
}

/// Where deletes are final: when more deletions wait than `[push] max_deletes`, none of them
/// goes (the other edits do) unless the push was confirmed. Returns how many were held back.
fn hold_back_deletes(due: &mut Vec<Entry>, settings: &Settings, deletes_are_final: bool) -> u64 {
    let deletes = due.iter().filter(|e| e.op == outbox::Op::Delete).count() as u64;
    if !deletes_are_final || settings.push.confirm_deletes || deletes <= settings.push.max_deletes {
        return 0;
    }
    due.retain(|e| e.op != outbox::Op::Delete);
    deletes
}

/// Groups entries by event, keeping outbox order within each event and across first
/// appearances.
fn by_event(entries: Vec<Entry>) -> Vec<Vec<Entry>> {
    let mut position: HashMap<i64, usize> = HashMap::new();
    let mut groups: Vec<Vec<Entry>> = Vec::new();
    for entry in entries {
        match position.get(&entry.event_id) {
            Some(&i) => groups[i].push(entry),
            None => {
                position.insert(entry.event_id, groups.len());
                groups.push(vec![entry]);
            }
        }
    }
    groups
}

async fn replay_all(
    mirror: &mut Mirror,
    settings: &Settings,
    upstream: &Upstream,
    due: Vec<Entry>,
    window: Option<prefetch::Window>,
    report: &mut PushReport,
) -> Result<()> {
    let policy = settings.push.conflict;
    let capabilities = upstream.client.capabilities();
    let batched = capabilities.writes_in_batches();
    let deletes_are_final = capabilities.deletes_are_final();
    let mut known = match &window {
        Some(window) => prefetch::read(&upstream.client, window).await,
        None => HashMap::new(),
    };
    let mut results = futures_util::stream::iter(by_event(due))
        .map(|batch| {
            let client = upstream.client.clone();
            let fields = batch.first().and_then(|e| known.remove(&e.upstream_id));
            async move {
                let mut planned = replay::plan(&client, batch, policy, fields).await?;
                if !batched {
                    let writes = std::mem::take(&mut planned.writes);
                    planned
                        .decided
                        .extend(replay::write_each(&client, writes).await?);
                }
                Ok::<_, crate::api::ApiError>(planned)
            }
        })
        .buffer_unordered(settings.push.concurrency);
    let mut writes = Vec::new();
    while let Some(result) = results.next().await {
        // Bad credentials fail every request: stop at once; what is recorded stays recorded.
        let planned = result.map_err(|e| Error::from(e).context("push"))?;
        record(mirror, deletes_are_final, &planned.decided, report)?;
        writes.extend(planned.writes);
    }
    drop(results);
    if !batched {
        return Ok(());
    }
    replay::write_batches(
        &upstream.client,
        writes,
        settings.push.concurrency,
        |outcomes| record(mirror, deletes_are_final, &outcomes, report),
    )
    .await
}

/// Records the outcomes of one event's edits in one transaction.
fn record(
    mirror: &mut Mirror,
    deletes_for_good: bool,
    outcomes: &[(Entry, Outcome)],
    report: &mut PushReport,
) -> Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let now = now_utc();
    let tx = mirror
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for (entry, outcome) in outcomes {
        match outcome {
            Outcome::Settled {
                upstream,
                closed,
                wrote,
                detail,
            } => {
                if matches!(
                    closed,
                    Closed::ConflictLocalWon | Closed::ConflictUpstreamWon
                ) {
                    report.conflicts += 1;
                    tracing::info!(
                        event = entry.event_id,
                        field = entry.field.name(),
                        detail = detail.as_deref().unwrap_or(""),
                        "conflict: upstream changed the field since the last sync"
                    );
                }
                if *closed == Closed::ConflictUpstreamWon {
                    report.upstream_won += 1;
                } else if *wrote {
                    report.pushed += 1;
                } else {
                    report.already_upstream += 1;
                }
                outbox::settle(&tx, entry, upstream, *closed, detail.as_deref(), &now)?;
                // v2 has no trash: a deletion that went through is gone upstream for good.
                if *wrote && entry.op == outbox::Op::Delete && deletes_for_good {
                    outbox::mark_gone_upstream(&tx, entry.event_id, &now)?;
                }
            }
            Outcome::Gone => {
                report.gone += 1;
                outbox::close_gone(&tx, entry, &now)?;
            }
            Outcome::Failed {
                error,
                upstream,
                conflict,
            } => {
                report.failed += 1;
                if *conflict {
                    report.conflicts += 1;
                }
                tracing::info!(event = entry.event_id, field = entry.field.name(), %error, "edit failed");
                outbox::mark_failed(&tx, entry, error, upstream.as_deref(), &now)?;
            }
            Outcome::Deferred { error } => {
                report.deferred += 1;
                let next = next_attempt_at(entry.attempts + 1);
                outbox::defer(&tx, entry, error, &next, &now)?;
            }
        }
    }
    crate::crashpoint::commit(tx, "push:event")?;
    Ok(())
}

/// Backoff between runs for an entry that met transient errors: 30 s, doubling per attempt,
/// at most an hour.
pub(crate) fn next_attempt_at(attempts: i64) -> String {
    let seconds = 30i64
        .saturating_mul(1 << (attempts - 1).clamp(0, 7))
        .min(3600);
    (Utc::now() + chrono::Duration::seconds(seconds))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn failed_count(mirror: &Mirror) -> Result<u64> {
    let count: i64 = mirror.conn().query_row(
        "SELECT count(*) FROM outbox WHERE state = 'failed'",
        [],
        |row| row.get(0),
    )?;
    Ok(count.max(0) as u64)
}
