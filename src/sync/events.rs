//! The four event streams, pulled side by side and written in one creation order.
//!
//! Each stream lists its events newest first in pages of [`PAGE_SIZE`]; its pages are written
//! oldest first, so a run that dies half-way leaves every stream holding a prefix of its
//! history (its newest stored event is the true edge of what the mirror holds, which the next
//! run's lookback starts from). Each page is committed with its cursor in one transaction.
//!
//! The streams share one table, keyed by upstream ids that grow over time. Written one stream
//! after the other, the faxes, SMS and voicemails would land between the calls already stored
//! and split b-tree pages all over the file (copying a mirror of 200,000 events with the
//! `sqlite3` shell took twice as long in that order). So the next page written is always the
//! one, among the streams' next pages, whose oldest event is oldest; a few pages share a
//! transaction and their rows go in id order, so rows and index entries are appended.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt, future};
use tokio::sync::Semaphore;

use super::listing::{self, Extent, Fetcher, Listing, OlderPage, PAGE_SIZE};
use super::{Context, StreamFailure};
use crate::error::{Error, Result};
use crate::progress::StreamBar;
use crate::records::EventKind;
use crate::records::event::EventRecord;
use crate::store::events::Upserted;
use crate::store::runs::{self, StreamCounts};
use crate::store::{self, Mirror, now_utc};

/// Pages written per transaction, when that many are ready. Every page still commits with its
/// cursor; sharing a transaction saves writing the same index pages again for each page (the
/// endpoints' number index takes entries anywhere). A page of records holds about 2.5 MB.
const PAGES_PER_COMMIT: usize = 8;

/// What one stream's pull came to: its counts and whether it was a complete listing.
pub type LaneResult = Result<(StreamCounts, bool), StreamFailure>;

/// Pulls the event streams of `kinds` together. Returns one result per kind, in that order.
///
/// A listing that ends with fewer distinct entries than it announced, or whose total moved
/// while it paged (entries deleted upstream shift the offsets under the pager), is listed once
/// more; if that does not close the gap either, the stream reports it (see [`finish_stream`]).
pub async fn pull(
    context: &Context<'_>,
    mirror: &mut Mirror,
    kinds: &[EventKind],
) -> Vec<(EventKind, LaneResult)> {
    let fetcher = Fetcher {
        client: context.client.clone(),
        permits: Arc::new(Semaphore::new(context.settings.sync.concurrency.max(1))),
        country: context.settings.country_code.clone(),
    };
    let parts: Vec<(EventKind, Option<bool>)> = kinds
        .iter()
        .flat_map(|&kind| {
            context
                .client
                .listing_parts()
                .iter()
                .map(move |&part| (kind, part))
        })
        .collect();
    let bulk_load = store::bulk::begin(mirror.conn()).unwrap_or_else(|error| {
        // Then the load only takes longer.
        tracing::warn!(%error, "the first sync keeps every index up to date as it goes");
        false
    });
    let mut lanes = open_lanes(context, mirror, &parts, &fetcher).await;
    write_all(context, mirror, &mut lanes).await;
    // The listings of a type are one set (v2: an entry archived while they page moves from
    // one to the other): when one of them moved, all of them are listed again.
    let moved: HashSet<EventKind> = lanes
        .iter()
        .filter(|l| l.failure.is_none() && !l.complete())
        .map(|l| l.kind)
        .collect();
    let again: Vec<(EventKind, Option<bool>)> = lanes
        .iter()
        .filter(|l| l.failure.is_none() && moved.contains(&l.kind))
        .map(|l| (l.kind, l.part()))
        .collect();
    if !again.is_empty() {
        tracing::info!(
            listings = again.len(),
            "listing again: entries moved while paging"
        );
        let mut second = open_lanes(context, mirror, &again, &fetcher).await;
        write_all(context, mirror, &mut second).await;
        for lane in second {
            if let Some(first) = lanes
                .iter_mut()
                .find(|l| l.kind == lane.kind && l.part() == lane.part())
            {
                first.absorb(lane);
            }
        }
    }
    if bulk_load && let Err(error) = store::bulk::finish(mirror.conn()) {
        fail_all(&mut lanes, &error);
    }
    // A stream listed in several parts (v2: archived and not) is finished as one.
    let mut results = Vec::with_capacity(kinds.len());
    let mut lanes = lanes.into_iter().peekable();
    while let Some(first) = lanes.next() {
        let kind = first.kind;
        let mut stream = vec![first];
        while let Some(lane) = lanes.next_if(|l| l.kind == kind) {
            stream.push(lane);
        }
        results.push((kind, finish_stream(context, mirror, stream, &fetcher).await));
    }
    results
}

/// Writes the lanes' pages; a database error stops every stream still running (it is nobody's
/// stream in particular).
async fn write_all(context: &Context<'_>, mirror: &mut Mirror, lanes: &mut [Lane]) {
    if let Err(error) = write_merged(context, mirror, lanes).await {
        fail_all(lanes, &error);
    }
}

/// Fails every lane still running with `error`.
fn fail_all(lanes: &mut [Lane], error: &Error) {
    for lane in lanes.iter_mut().filter(|l| l.failure.is_none()) {
        lane.failure = Some(StreamFailure::new(&lane.counts, error.clone()));
    }
}

/// A page as listed: newest event first.
struct Page {
    /// The page's offset in the newest-first listing.
    offset: u64,
    records: Vec<EventRecord>,
}

impl Page {
    /// The id of the page's oldest event, which decides when the page is written.
    fn oldest_id(&self) -> i64 {
        self.records.last().map_or(i64::MAX, |r| r.id)
    }

    fn newest_created(&self) -> Option<&str> {
        self.records.iter().map(|r| r.created_utc.as_str()).max()
    }
}

/// One listing of an event stream in a pull (a stream is listed in one part, or in v2 two:
/// archived and not).
struct Lane {
    kind: EventKind,
    listing: Option<Arc<Listing>>,
    fetcher: Fetcher,
    full: bool,
    /// The listing's total, as its first page announced it.
    total: u64,
    /// The page size and the real end, from the first page and the probes.
    extent: Option<Extent>,
    counts: StreamCounts,
    seen: HashSet<i64>,
    /// Whether every page reported the same total and came whole (entries vanishing or
    /// appearing below the run's upper bound while it pages make the listing unfit for marking
    /// deletions, and may shift entries past the pager).
    consistent: bool,
    bar: StreamBar,
    /// The older pages, oldest first, fetched ahead.
    older: Option<BoxStream<'static, (u64, OlderPage)>>,
    /// The first page fetched (the newest events), written last.
    newest: Option<Page>,
    /// The next page to write.
    head: Option<Page>,
    failure: Option<StreamFailure>,
}

impl Lane {
    fn part(&self) -> Option<bool> {
        self.listing.as_ref().and_then(|l| l.archived)
    }

    fn fail(&mut self, failure: StreamFailure) {
        self.failure = Some(failure);
        self.older = None;
        self.newest = None;
        self.head = None;
    }

    /// Whether the listing gave every entry it announced (and every one it turned out to
    /// hold), and held still while it paged.
    fn complete(&self) -> bool {
        let end = self.extent.as_ref().map_or(0, |e| e.end);
        self.consistent && self.seen.len() as u64 >= self.total.max(end)
    }

    /// Whether what was seen may mark the rest deleted: complete, and as large as announced
    /// (a listing whose total was wrong proves nothing about what is missing from it).
    fn fit_for_deletions(&self) -> bool {
        self.complete() && self.extent.as_ref().is_none_or(|e| e.as_announced)
    }

    /// Takes in a second listing of the same part: its counts add up, and what it saw (what
    /// upstream lists now) and whether it was complete replace the first listing's.
    fn absorb(&mut self, again: Lane) {
        self.counts.add(&again.counts);
        self.seen = again.seen;
        self.total = again.total;
        self.extent = again.extent;
        self.consistent = again.consistent;
        self.failure = again.failure;
    }

    /// Makes `head` the stream's next page, unless the stream is done or failed. Without
    /// `wait`, only a page already fetched will do: returns false when it is still on its way.
    async fn fill_head(&mut self, wait: bool) -> bool {
        if self.head.is_some() || self.failure.is_some() {
            return true;
        }
        if let Some(older) = &mut self.older {
            let next = if wait {
                Some(older.next().await)
            } else {
                older.next().now_or_never()
            };
            match next {
                None => return false,
                Some(Some((offset, Ok((records, total))))) => {
                    self.consistent &= total.is_none_or(|t| t == self.total);
                    self.take_page(offset, records).await;
                    return true;
                }
                Some(Some((_, Err(e)))) => {
                    self.fail(StreamFailure::from_api(&self.counts, e));
                    return true;
                }
                Some(None) => self.older = None,
            }
        }
        self.head = self.newest.take();
        true
    }

    /// Makes a fetched page the head, completing it first if it came short: the next offsets
    /// were planned from the page size, so a short page would leave a gap behind it.
    async fn take_page(&mut self, offset: u64, mut records: Vec<EventRecord>) {
        let (Some(extent), Some(listing)) = (&self.extent, &self.listing) else {
            return;
        };
        let expected = extent.expected(offset);
        if (records.len() as u64) < expected {
            tracing::debug!(
                stream = self.kind.plural(),
                offset,
                got = records.len(),
                expected,
                "short page; asking for the rest"
            );
            match listing::complete_page(&self.fetcher, listing, offset, expected, &mut records)
                .await
            {
                Ok(whole) => self.consistent &= whole,
                Err(e) => {
                    self.fail(StreamFailure::from_api(&self.counts, e));
                    return;
                }
            }
        }
        self.head = Some(Page { offset, records });
    }
}

/// Plans the listings and fetches their first pages (the newest events, which tell the
/// totals and the page size) at once; then finds where each really ends and starts fetching
/// its older pages ahead.
async fn open_lanes(
    context: &Context<'_>,
    mirror: &Mirror,
    parts: &[(EventKind, Option<bool>)],
    fetcher: &Fetcher,
) -> Vec<Lane> {
    let listings: Vec<Result<Listing>> = parts
        .iter()
        .map(|&(kind, part)| listing::plan(context, mirror, kind, part))
        .collect();
    let first_pages = future::join_all(listings.iter().map(|listing| async {
        let listing = listing.as_ref().ok()?;
        let (records, total) = match fetcher
            .page(listing.kind, listing.request(0, PAGE_SIZE))
            .await
        {
            Ok(page) => page,
            Err(e) => return Some(Err(e)),
        };
        let extent = listing::find_extent(fetcher, listing, records.len() as u64, total).await;
        Some(extent.map(|extent| (records, total, extent)))
    }))
    .await;
    // Enough pages ahead per stream to keep the fetches busy, not so many that waiting pages
    // crowd memory.
    let ahead = (context.settings.sync.concurrency / parts.len().max(1)).max(2);
    listings
        .into_iter()
        .zip(first_pages)
        .zip(parts)
        .map(|((listing, first), &(kind, _))| {
            let stream = kind.plural();
            let mut lane = Lane {
                kind,
                listing: None,
                fetcher: fetcher.clone(),
                full: false,
                total: 0,
                extent: None,
                counts: StreamCounts::default(),
                seen: HashSet::new(),
                consistent: true,
                bar: context.progress.bar(stream, "events"),
                older: None,
                newest: None,
                head: None,
                failure: None,
            };
            let listing = match listing {
                Ok(listing) => Arc::new(listing),
                Err(e) => {
                    lane.fail(StreamFailure::new(&lane.counts, e));
                    return lane;
                }
            };
            lane.full = listing.full;
            tracing::debug!(stream, full = listing.full, archived = ?listing.archived,
                period_start = ?listing.period_start, period_end = %listing.period_end, "listing");
            match first {
                Some(Ok((records, total, mut extent))) => {
                    tracing::debug!(
                        stream,
                        total,
                        size = extent.size,
                        end = extent.end,
                        "extent"
                    );
                    lane.total = total;
                    lane.bar.set_total(extent.end.max(total));
                    lane.newest = Some(Page { offset: 0, records });
                    lane.older = Some(listing::older_pages(
                        fetcher,
                        listing.clone(),
                        &mut extent,
                        ahead,
                    ));
                    lane.extent = Some(extent);
                }
                Some(Err(e)) => lane.fail(StreamFailure::from_api(&lane.counts, e)),
                None => {}
            }
            lane.listing = Some(listing);
            lane
        })
        .collect()
}

/// Writes the streams' pages in the order of their oldest events, up to
/// [`PAGES_PER_COMMIT`] per transaction, fewer when waiting for the network would leave the
/// writer idle. A stream whose page fails stops; the others go on.
async fn write_merged(
    context: &Context<'_>,
    mirror: &mut Mirror,
    lanes: &mut [Lane],
) -> Result<()> {
    let mut group: Vec<(usize, Page)> = Vec::with_capacity(PAGES_PER_COMMIT);
    loop {
        let mut ready = true;
        for lane in lanes.iter_mut() {
            ready &= lane.fill_head(false).await;
        }
        if !ready {
            // Write what is gathered while the next pages are on their way.
            if !group.is_empty() {
                crate::interrupt::check()?;
                commit_pages(context, mirror, lanes, std::mem::take(&mut group))?;
            }
            for lane in lanes.iter_mut() {
                lane.fill_head(true).await;
            }
        }
        let next = lanes
            .iter()
            .enumerate()
            .filter_map(|(index, lane)| lane.head.as_ref().map(|p| (p.oldest_id(), index)))
            .min();
        let Some(page) = next.and_then(|(_, index)| lanes[index].head.take().map(|p| (index, p)))
        else {
            break;
        };
        group.push(page);
        if group.len() == PAGES_PER_COMMIT {
            crate::interrupt::check()?;
            commit_pages(context, mirror, lanes, std::mem::take(&mut group))?;
        }
    }
    if !group.is_empty() {
        commit_pages(context, mirror, lanes, group)?;
    }
    Ok(())
}

/// Stores whole pages of several streams and their cursors in one transaction, rows in id
/// order. The counts move only once the transaction is committed.
fn commit_pages(
    context: &Context<'_>,
    mirror: &mut Mirror,
    lanes: &mut [Lane],
    pages: Vec<(usize, Page)>,
) -> Result<()> {
    let started = std::time::Instant::now();
    let now = now_utc();
    let mut outcomes: Vec<(usize, i64, Upserted)> = Vec::new();
    let tx = mirror
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut rows: Vec<(usize, &EventRecord)> = pages
            .iter()
            .flat_map(|(lane, page)| page.records.iter().rev().map(move |r| (*lane, r)))
            .collect();
        // Stable: an event listed twice (the listing moved while paging) keeps listing order.
        rows.sort_by_key(|(_, record)| record.id);
        let mut writer = store::events::EventWriter::new(&tx, &now, context.settings.timezone)?;
        outcomes.reserve(rows.len());
        for (lane, record) in rows {
            outcomes.push((lane, record.id, writer.upsert(record)?));
        }
        writer.finish()?;
    }
    for (lane, page) in &pages {
        runs::save_page_cursor(
            &tx,
            lanes[*lane].kind.plural(),
            context.run_id,
            &context.period_end,
            page.offset,
            page.newest_created(),
            &now,
        )?;
    }
    crate::crashpoint::commit(tx, "sync:events_page")?;
    for (lane, id, outcome) in outcomes {
        let lane = &mut lanes[lane];
        match outcome {
            Upserted::New => lane.counts.new += 1,
            Upserted::Changed => lane.counts.changed += 1,
            Upserted::Unchanged => {}
        }
        lane.seen.insert(id);
    }
    let mut items = 0;
    for (lane, page) in &pages {
        let lane = &mut lanes[*lane];
        lane.counts.fetched += page.records.len() as u64;
        lane.counts.pages += 1;
        lane.bar.advance(page.records.len() as u64);
        items += page.records.len();
    }
    tracing::debug!(
        pages = pages.len(),
        items,
        ms = started.elapsed().as_millis() as u64,
        "committed pages"
    );
    Ok(())
}

/// After the last page of every listing of a stream: marks deletions (complete listings
/// only) and records the stream done. A listing that still lacks entries it announced after
/// being listed twice is reported (exit 3), and the next run lists everything again.
async fn finish_stream(
    context: &Context<'_>,
    mirror: &mut Mirror,
    lanes: Vec<Lane>,
    fetcher: &Fetcher,
) -> LaneResult {
    let kind = lanes[0].kind;
    let stream = kind.plural();
    let full = lanes.iter().all(|l| l.full);
    let mut counts = StreamCounts::default();
    let mut seen = HashSet::new();
    let mut complete = true;
    let mut fit_for_deletions = true;
    let (mut announced, mut listed) = (0, 0);
    let mut failure = None;
    let mut bars = Vec::new();
    for mut lane in lanes {
        counts.add(&lane.counts);
        complete &= lane.complete();
        fit_for_deletions &= lane.fit_for_deletions();
        announced += lane.total;
        listed += lane.seen.len() as u64;
        seen.extend(lane.seen.drain());
        if failure.is_none() {
            failure = lane.failure.take();
        }
        bars.push(lane.bar);
    }
    if let Some(mut failure) = failure {
        // Pages fetched before the failure may have been written since it happened.
        failure.counts = counts;
        return Err(failure);
    }
    if !complete {
        // What was listed is stored; what may be missing is not marked deleted, and the next
        // run lists everything (it does not wait for `full_every`).
        runs::require_full(mirror.conn(), stream).map_err(|e| StreamFailure::new(&counts, e))?;
        let error = Error::new(
            crate::error::ErrorKind::Partial,
            format!(
                "upstream announced {announced} events but listed {listed}, twice (entries moved while it paged, or its total is wrong); the mirror may lack some, and the next sync lists everything again"
            ),
        );
        let mut gap = StreamFailure::new(&counts, error);
        gap.gap = true;
        return Err(gap);
    }
    if full && fit_for_deletions {
        let swept = sweep_events(context, mirror, kind, &mut seen, fetcher).await;
        counts.deleted += swept.map_err(|e| {
            if e.kind() == crate::error::ErrorKind::Partial {
                // Refused or doubtful deletions stand until a complete listing settles
                // them: the next run lists everything again and says so again.
                if let Err(e) = runs::require_full(mirror.conn(), stream) {
                    return StreamFailure::new(&counts, e);
                }
            }
            StreamFailure::new(&counts, e)
        })?;
    }
    let edge = complete_edge(context, mirror, kind).map_err(|e| StreamFailure::new(&counts, e))?;
    runs::finish_stream(mirror.conn(), stream, full, &now_utc(), Some(&edge))
        .map_err(|e| StreamFailure::new(&counts, e))?;
    for bar in bars {
        bar.finish(&format!(
            "+{} ~{} -{}",
            counts.new, counts.changed, counts.deleted
        ));
    }
    Ok((counts, full))
}

/// The edge a complete listing of `kind` leaves for the next run's lookback: the run's edge
/// (see [`Context::complete_edge`]), or the newest event of the kind where that is older, so
/// that a quiet stream still looks back over its last events, as it always did.
fn complete_edge(context: &Context<'_>, mirror: &Mirror, kind: EventKind) -> Result<String> {
    let edge = context.complete_edge();
    let newest = store::events::newest_created(mirror.conn(), kind.as_str())?;
    Ok(match newest {
        Some(newest) if newest < edge => newest,
        _ => edge,
    })
}

/// Candidates for deletion read alone before anything is marked, at most this many; past
/// that, a sample of this many is read, and one found among them makes the listing doubtful.
const MAX_CONFIRM: usize = 200;

/// Marks events missing from a complete listing as deleted upstream. Where a type is listed
/// in parts (v2: archived and not), an entry that moved from one part to the other while they
/// paged is in neither, so each one missing is first read alone: one that upstream still has
/// is stored as it is now and not marked.
async fn sweep_events(
    context: &Context<'_>,
    mirror: &mut Mirror,
    kind: EventKind,
    seen: &mut HashSet<i64>,
    fetcher: &Fetcher,
) -> Result<u64> {
    let bound = format!("{}.000Z", context.period_end);
    let present = store::events::present_ids(mirror.conn(), kind.as_str(), &bound)?;
    let missing: Vec<i64> = present
        .iter()
        .copied()
        .filter(|id| !seen.contains(id))
        .collect();
    if !missing.is_empty() && context.client.listing_parts().len() > 1 {
        let sample = &missing[..missing.len().min(MAX_CONFIRM)];
        let found = still_upstream(context, mirror, kind, sample, fetcher).await?;
        if !found.is_empty() && missing.len() > sample.len() {
            return Err(Error::new(
                crate::error::ErrorKind::Partial,
                format!(
                    "{} of {} entries missing from the listing are still upstream (they moved while it paged); nothing was marked deleted, and the next sync lists everything again",
                    found.len(),
                    sample.len()
                ),
            ));
        }
        seen.extend(found);
    }
    super::sweep(
        context,
        mirror,
        kind.plural(),
        present,
        seen,
        store::events::mark_deleted,
    )
}

/// Reads each of `ids` alone; stores the ones upstream still has as they are now and returns
/// their ids.
async fn still_upstream(
    context: &Context<'_>,
    mirror: &mut Mirror,
    kind: EventKind,
    ids: &[i64],
    fetcher: &Fetcher,
) -> Result<Vec<i64>> {
    let upstream_ids = store::events::upstream_ids(mirror.conn(), ids)?;
    let reads = futures_util::stream::iter(upstream_ids)
        .map(|upstream_id| async move { fetcher.one(kind, &upstream_id).await })
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await;
    let mut found = Vec::new();
    for read in reads {
        if let Some(record) = read.map_err(Error::from)? {
            found.push(record);
        }
    }
    if found.is_empty() {
        return Ok(Vec::new());
    }
    tracing::info!(
        stream = kind.plural(),
        moved = found.len(),
        "entries missing from the listing are still upstream"
    );
    let now = now_utc();
    let tx = mirror
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut writer = store::events::EventWriter::new(&tx, &now, context.settings.timezone)?;
        for record in &found {
            writer.upsert(record)?;
        }
        writer.finish()?;
    }
    crate::crashpoint::commit(tx, "sync:confirmed")?;
    Ok(found.iter().map(|r| r.id).collect())
}
