//! Pull: brings the mirror up to date with the upstream: the event streams together (see
//! [`events`]), then contacts, settings and the balance.
//!
//! The rules (`docs/architecture.md`, "The rules of the sync and the write-back"): each page is committed with its cursor in one
//! transaction; a run fixes its upper bound (`period_end`) before paging; upserts never use
//! `INSERT OR REPLACE`; a lookback window catches flag changes on recent events and a periodic
//! complete listing catches the rest and deletions; rows missing from a complete listing are
//! marked deleted, behind a guard against mass deletion.

pub(crate) mod contacts;
pub(crate) mod events;
mod listing;
mod settings;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::api::{ApiErrorKind, Client, Upstream, events::EventKind};
use crate::config::{Api, Settings};
use crate::error::{Error, ErrorKind, Result};
use crate::progress::Progress;
use crate::store::runs::{self, StreamCounts};
use crate::store::{Mirror, now_utc};

/// What a sync run mirrors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Events(EventKind),
    Contacts,
    Settings,
    Balance,
}

impl Stream {
    pub const ALL: [Stream; 7] = [
        Stream::Events(EventKind::Call),
        Stream::Events(EventKind::Fax),
        Stream::Events(EventKind::Sms),
        Stream::Events(EventKind::Voicemail),
        Stream::Contacts,
        Stream::Settings,
        Stream::Balance,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stream::Events(kind) => kind.plural(),
            Stream::Contacts => "contacts",
            Stream::Settings => "settings",
            Stream::Balance => "balance",
        }
    }

    /// Parses `--only calls,contacts`; `events` stands for the four event streams.
    pub fn parse_list(text: &str) -> Result<Vec<Stream>> {
        let mut streams = Vec::new();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let matched: Vec<Stream> = if word == "events" {
                EventKind::ALL.into_iter().map(Stream::Events).collect()
            } else {
                Stream::ALL
                    .into_iter()
                    .filter(|s| s.name() == word)
                    .collect()
            };
            if matched.is_empty() {
                return Err(Error::usage(format!(
                    "unknown stream {word:?}; choose from events, calls, faxes, sms, voicemails, contacts, settings, balance"
                )));
            }
            for s in matched {
                if !streams.contains(&s) {
                    streams.push(s);
                }
            }
        }
        if streams.is_empty() {
            return Err(Error::usage("--only needs at least one stream"));
        }
        Ok(streams)
    }
}

#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// A complete listing of every event stream, whatever `full_every` says.
    pub full: bool,
    /// The streams to sync; empty means all.
    pub only: Vec<Stream>,
    /// Mark rows deleted even when more than `max_delete_ratio` would go.
    pub force_delete: bool,
    /// Feed the mirror from another API than before (see [`check_feeding_api`]).
    pub switch_api: bool,
}

/// The result of one stream.
#[derive(Debug, Clone, Serialize)]
pub struct StreamReport {
    pub stream: &'static str,
    pub full: bool,
    #[serde(flatten)]
    pub counts: StreamCounts,
    pub error: Option<String>,
    /// The stream stored what it got, but upstream's listing could not be completed: a gap the
    /// next run closes, not a failure (exit 3 even when it is the only stream).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
}

/// The result of a run, as `sync --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub run_id: i64,
    pub outcome: &'static str,
    pub requests: u64,
    pub seconds: f64,
    /// Seconds the local clock is behind upstream's `Date`, when more than a minute: the
    /// newest entries are then listed by the next run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_behind_s: Option<i64>,
    /// The process's peak memory (resident set) in KiB, where the system says (Linux).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_memory_kib: Option<u64>,
    pub streams: Vec<StreamReport>,
    /// The push that ran before the pull, unless `--no-push`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<crate::push::PushReport>,
    /// The media downloads after the pull, with `--media` or `[media] fetch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<crate::media::MediaReport>,
}

impl SyncReport {
    pub fn failed_streams(&self) -> impl Iterator<Item = &StreamReport> {
        self.streams.iter().filter(|s| s.error.is_some())
    }

    /// A one-line summary for `-v` and the demo.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .streams
            .iter()
            .map(|s| match &s.error {
                Some(_) => format!("{} failed", s.stream),
                None => format!(
                    "{} +{} ~{} -{}",
                    s.stream, s.counts.new, s.counts.changed, s.counts.deleted
                ),
            })
            .collect();
        let pull = format!(
            "sync {} in {:.1} s, {} requests: {}",
            self.outcome,
            self.seconds,
            self.requests,
            parts.join(", ")
        );
        match &self.push {
            Some(push) if !push.is_idle() => format!("{}; {pull}", push.summary()),
            _ => pull,
        }
    }
}

/// Everything a stream needs while it runs.
pub(crate) struct Context<'a> {
    pub client: Arc<Client>,
    pub settings: &'a Settings,
    pub options: &'a SyncOptions,
    pub run_id: i64,
    /// The run's fixed upper bound, UTC `yyyy-MM-ddTHH:mm:ss`.
    pub period_end: String,
    pub started: DateTime<Utc>,
    pub progress: &'a Progress,
}

impl Context<'_> {
    /// The edge up to which a complete listing of this run held every event: its upper bound,
    /// or upstream's clock at the run's first answer where that is earlier (a local clock
    /// ahead of upstream's would otherwise claim a future that was never listed).
    pub fn complete_edge(&self) -> String {
        let end = chrono::NaiveDateTime::parse_from_str(&self.period_end, "%Y-%m-%dT%H:%M:%S")
            .map(|t| t.and_utc())
            .unwrap_or(self.started);
        let edge = match self.client.upstream_clock().earliest() {
            Some(upstream) if upstream < end => upstream,
            _ => end,
        };
        edge.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

/// A local clock this far behind upstream's is named in a warning.
const CLOCK_WARNING_S: i64 = 60;

/// The run's upper bound: the local clock, one second on (the API takes whole seconds, and
/// rounding up keeps events created in the second the run started inside this run), plus how
/// far upstream's clock was ahead at the last run: a local clock that is behind would leave
/// out the newest entries run after run.
fn period_end(mirror: &Mirror, started: DateTime<Utc>) -> Result<String> {
    let ahead = runs::get_meta(mirror.conn(), CLOCK_AHEAD_KEY)?
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0)
        .clamp(0, 366 * 86_400);
    Ok((started + chrono::Duration::seconds(1 + ahead))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string())
}

/// `sync_meta` key: seconds upstream's clock was ahead of the local one at the last run.
const CLOCK_AHEAD_KEY: &str = "upstream_clock_ahead_s";

/// Remembers how far upstream's clock is ahead for the next run; returns it when it is more
/// than [`CLOCK_WARNING_S`].
fn record_clock(mirror: &Mirror, client: &Client) -> Result<Option<i64>> {
    let Some(ahead) = client.upstream_clock().ahead_s() else {
        return Ok(None);
    };
    // Whole seconds in `Date`: a clock in step reads up to a second behind upstream's.
    let ahead = if ahead > 1 { ahead } else { 0 };
    runs::set_meta(mirror.conn(), CLOCK_AHEAD_KEY, &ahead.to_string())?;
    Ok((ahead > CLOCK_WARNING_S).then_some(ahead))
}

/// One mirror is fed by one API: the ids, the fields and the write-back differ between them.
/// Refuses to go on with another API unless `switch` (then the run lists everything anew and
/// marks what the new API does not list deleted). Returns whether this run switches: also
/// when an earlier switch to `api` has not finished (it was interrupted), which every run
/// then continues, whatever its flags, until one completes.
pub fn check_feeding_api(mirror: &Mirror, api: Api, switch: bool) -> Result<bool> {
    if let Some(target) = runs::switching_to(mirror.conn())? {
        if target == api {
            return Ok(true);
        }
        return Err(Error::usage(format!(
            "this mirror is being switched to the {} API (a switch that did not finish); run `sipmirror sync` with api = \"{}\" to complete it",
            target.name(),
            target.name()
        )));
    }
    let Some(feeding) = runs::feeding_api(mirror.conn())? else {
        return Ok(false);
    };
    if feeding == api {
        return Ok(false);
    }
    if !switch {
        return Err(Error::usage(format!(
            "this mirror is fed by the {} API, not {}; to switch it, run `sipmirror sync --full --switch-api` (records the new API does not list are then marked deleted), or set api = \"{}\"",
            feeding.name(),
            api.name(),
            feeding.name()
        )));
    }
    let pending: i64 = mirror
        .conn()
        .query_row("SELECT count(*) FROM outbox", [], |row| row.get(0))?;
    if pending > 0 {
        return Err(Error::usage(format!(
            "cannot switch the API while {pending} local edits or sends wait in the outbox: `sipmirror push` them through the {} API, or `sipmirror outbox drop` them, first",
            feeding.name()
        )));
    }
    Ok(true)
}

/// Records which API feeds the mirror as a run begins: a switch is recorded as under way (the
/// mirror holds both APIs' records until it completes), any other run names its API.
fn record_api(mirror: &Mirror, api: Api, switching: bool) -> Result<()> {
    let key = if switching {
        runs::API_SWITCH_KEY
    } else {
        "api"
    };
    runs::set_meta(mirror.conn(), key, api.name())
}

/// A switch is complete when every stream that marks deletions (the events and the contacts)
/// was listed completely, its forced deletions done.
fn finish_switch(mirror: &Mirror, api: Api, reports: &[StreamReport]) -> Result<bool> {
    let sweeping = |name: &str| name != "settings" && name != "balance";
    let needed = Stream::ALL.iter().filter(|s| sweeping(s.name()));
    let done = needed.clone().all(|stream| {
        reports
            .iter()
            .any(|r| r.stream == stream.name() && r.full && r.error.is_none())
    });
    if done {
        runs::set_meta(mirror.conn(), "api", api.name())?;
        runs::delete_meta(mirror.conn(), runs::API_SWITCH_KEY)?;
    }
    Ok(done)
}

/// Runs a sync on an open mirror (the caller holds the writer lock).
pub fn run(
    mirror: &mut Mirror,
    settings: &Settings,
    upstream: &Upstream,
    options: &SyncOptions,
    progress: &Progress,
) -> Result<SyncReport> {
    let client = &upstream.client;
    let requests_before = client.requests();
    let started = Utc::now();
    let run_id = runs::start_run(mirror.conn(), "sync", &now_utc())?;
    // First, so that a switch killed at any point after this is continued by the next run.
    record_api(mirror, settings.connection.api, options.switch_api)?;
    crate::crashpoint::reached("sync:started");
    // The reports read these to interpret local times and national numbers as the sync does.
    runs::set_meta(mirror.conn(), "country_code", &settings.country_code)?;
    let relocalized = crate::store::events::localize_times(mirror.conn_mut(), settings.timezone)?;
    if relocalized > 0 {
        tracing::info!(
            events = relocalized,
            timezone = settings.timezone.name(),
            "local times rewritten"
        );
    }
    let context = Context {
        client: client.clone(),
        settings,
        options,
        run_id,
        period_end: period_end(mirror, started)?,
        started,
        progress,
    };
    let streams: Vec<Stream> = if options.only.is_empty() {
        Stream::ALL.to_vec()
    } else {
        options.only.clone()
    };
    let mut reports = Vec::new();
    let mut fatal: Option<Error> = None;
    let event_kinds: Vec<EventKind> = streams
        .iter()
        .filter_map(|s| match s {
            Stream::Events(kind) => Some(*kind),
            _ => None,
        })
        .collect();
    for stream in &streams {
        if fatal.is_none()
            && let Err(stop) = crate::interrupt::check()
        {
            fatal = Some(stop);
        }
        if fatal.is_some() {
            break;
        }
        // The event streams are pulled together, where the first of them is listed.
        if matches!(stream, Stream::Events(kind) if Some(kind) != event_kinds.first()) {
            continue;
        }
        let results = upstream.block_on(pull(&context, mirror, *stream, &event_kinds));
        for (stream, result) in results {
            let (counts, full, error, incomplete) = match result {
                Ok((counts, full)) => (counts, full, None, false),
                Err(failure) => {
                    tracing::debug!(stream = stream.name(), error = %failure.error, "stream failed");
                    let message = failure.error.message().to_string();
                    let incomplete = failure.gap;
                    if failure.stops_run
                        || failure.error.kind() == crate::error::ErrorKind::Interrupted
                    {
                        fatal = Some(failure.error);
                    }
                    (failure.counts, false, Some(message), incomplete)
                }
            };
            runs::record_stream(mirror.conn(), run_id, stream.name(), &counts)?;
            reports.push(StreamReport {
                stream: stream.name(),
                full,
                counts,
                error,
                incomplete,
            });
        }
    }
    let failed = reports
        .iter()
        .filter(|r| r.error.is_some() && !r.incomplete)
        .count();
    let incomplete = reports.iter().any(|r| r.incomplete);
    let outcome = match (failed, &fatal) {
        (0, _) if incomplete => "partial",
        (0, _) => "ok",
        (_, Some(_)) => "failed",
        (n, None) if n == reports.len() => "failed",
        _ => "partial",
    };
    let first_error = match &fatal {
        Some(stop) if stop.kind() == crate::error::ErrorKind::Interrupted => {
            Some(stop.message().to_string())
        }
        _ => reports
            .iter()
            .find_map(|r| r.error.as_ref().map(|e| format!("{}: {e}", r.stream))),
    };
    runs::finish_run(
        mirror.conn(),
        run_id,
        outcome,
        client.requests() - requests_before,
        first_error.as_deref(),
        &now_utc(),
    )?;
    if options.switch_api && fatal.is_none() {
        finish_switch(mirror, settings.connection.api, &reports)?;
    }
    let clock_behind_s = record_clock(mirror, client)?;
    crate::crashpoint::reached("sync:finished");
    if let Some(error) = fatal {
        return Err(error);
    }
    Ok(SyncReport {
        clock_behind_s,
        run_id,
        outcome,
        requests: client.requests() - requests_before,
        seconds: (Utc::now() - started).num_milliseconds() as f64 / 1000.0,
        peak_memory_kib: peak_memory_kib(),
        streams: reports,
        push: None,
        media: None,
    })
}

/// A stream that failed: what it had done so far, and whether the whole run must stop
/// (bad credentials make every other request fail too).
pub(crate) struct StreamFailure {
    pub counts: StreamCounts,
    pub error: Error,
    pub stops_run: bool,
    /// Not a failure but a gap: what was listed is stored, upstream's listing could not be
    /// completed this run (see [`StreamReport::incomplete`]).
    pub gap: bool,
}

impl StreamFailure {
    pub fn new(counts: &StreamCounts, error: impl Into<Error>) -> StreamFailure {
        StreamFailure {
            counts: counts.clone(),
            error: error.into(),
            stops_run: false,
            gap: false,
        }
    }

    pub fn from_api(counts: &StreamCounts, error: crate::api::ApiError) -> StreamFailure {
        let stops_run = error.kind == ApiErrorKind::Unauthorized;
        StreamFailure {
            counts: counts.clone(),
            error: error.into(),
            stops_run,
            gap: false,
        }
    }
}

/// Pulls `stream`; an event stream brings all of `event_kinds` along (see [`events::pull`]).
/// Returns one result per stream pulled.
async fn pull(
    context: &Context<'_>,
    mirror: &mut Mirror,
    stream: Stream,
    event_kinds: &[EventKind],
) -> Vec<(Stream, events::LaneResult)> {
    let result = match stream {
        Stream::Events(_) => {
            return events::pull(context, mirror, event_kinds)
                .await
                .into_iter()
                .map(|(kind, result)| (Stream::Events(kind), result))
                .collect();
        }
        Stream::Contacts => contacts::pull(context, mirror).await.map(|c| (c, true)),
        Stream::Settings => settings::pull_settings(context, mirror)
            .await
            .map(|c| (c, true)),
        Stream::Balance => settings::pull_balance(context, mirror)
            .await
            .map(|c| (c, true)),
    };
    vec![(stream, result)]
}

/// Mark and sweep after a complete listing: the `present` records that the listing did not
/// contain are marked deleted by `mark`, in one transaction, behind the mass-delete guard.
/// Returns how many were marked.
pub(crate) fn sweep<K: Eq + std::hash::Hash>(
    context: &Context<'_>,
    mirror: &mut Mirror,
    stream: &str,
    present: Vec<K>,
    seen: &std::collections::HashSet<K>,
    mark: impl FnOnce(&rusqlite::Connection, &[K], &str) -> Result<()>,
) -> Result<u64> {
    let total = present.len();
    let missing: Vec<K> = present.into_iter().filter(|k| !seen.contains(k)).collect();
    check_mass_delete(context, stream, missing.len(), total)?;
    if missing.is_empty() {
        return Ok(0);
    }
    let tx = mirror
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    mark(&tx, &missing, &now_utc())?;
    crate::crashpoint::commit(tx, "sync:sweep")?;
    Ok(missing.len() as u64)
}

/// Refuses to mark more than `max_delete_ratio` of a stream deleted unless forced: an empty
/// or truncated listing must not wipe the mirror.
pub(crate) fn check_mass_delete(
    context: &Context<'_>,
    stream: &str,
    missing: usize,
    present: usize,
) -> Result<()> {
    if missing == 0 || context.options.force_delete {
        return Ok(());
    }
    let ratio = missing as f64 / present.max(1) as f64;
    if ratio > context.settings.sync.max_delete_ratio {
        tracing::debug!(stream, missing, present, "mass deletion refused");
        // The report names the stream in front of this message.
        return Err(Error::new(
            ErrorKind::Partial,
            format!(
                "upstream no longer lists {missing} of {present} records ({:.0}%, more than the {:.0}% allowed); nothing was marked deleted, and every sync says so until a complete listing settles it. If that is right, run `sipmirror sync --full --force-delete`",
                ratio * 100.0,
                context.settings.sync.max_delete_ratio * 100.0
            ),
        ));
    }
    Ok(())
}

/// The peak resident set of this process (`VmHWM` in `/proc/self/status`), in KiB.
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}
