//! One listing of an event stream: what it asks for, how its pages are found and fetched.
//!
//! A listing is paged by offset, newest first. Upstream decides how many entries a page holds
//! (a cap on `limit`, a proxy, a changed default), and its announced total may be wrong or may
//! change while the listing pages. So the offsets follow what arrives, never what was asked:
//! - the page size is learnt from the first page (fewer entries than asked, with more
//!   announced, is a cap; with no more announced, one entry asked for behind it tells a cap
//!   from the end, whatever the total says);
//! - before the older pages are fetched, the listing's real end is found: the page at the
//!   announced end is fetched first; empty, the end is searched for below it (a binary search,
//!   a few requests, not one per announced page); full, the listing goes on past the announced
//!   total until a page comes short. Pages fetched this way are kept and written, not fetched
//!   again;
//! - a page that comes shorter than expected is completed by asking for the rest at once.
//!
//! The engine (see [`super::events`]) checks the distinct entries it got against the total and
//! lists again, or reports the gap.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use futures_util::stream::{self, BoxStream};
use futures_util::{FutureExt, StreamExt};
use tokio::sync::Semaphore;

use super::Context;
use crate::api::events::PageRequest;
use crate::api::{ApiError, ApiErrorKind, Client};
use crate::records::EventKind;
use crate::records::event::EventRecord;
use crate::store::runs;

/// The largest page the APIs serve, and what the first page asks for.
pub const PAGE_SIZE: u64 = 1000;

/// More events than any account holds: a total above it is a broken answer, not a reason to
/// send a billion requests.
pub const MAX_EVENTS: u64 = 100_000_000;

/// A page's entries and the total its answer announced.
pub type PageResult = Result<(Vec<EventRecord>, u64), ApiError>;

/// A page of the older ones: its entries and the total its answer announced (`None` for a
/// page fetched while finding the end, whose total was not kept).
pub type OlderPage = Result<(Vec<EventRecord>, Option<u64>), ApiError>;

/// Fetches pages, at most `concurrency` at a time across all listings.
#[derive(Clone)]
pub struct Fetcher {
    pub client: Arc<Client>,
    pub permits: Arc<Semaphore>,
    pub country: String,
}

impl Fetcher {
    pub async fn page(&self, kind: EventKind, request: PageRequest) -> PageResult {
        // The semaphore is never closed, so a permit always comes.
        let _permit = self.permits.clone().acquire_owned().await.ok();
        self.client
            .event_records(kind, &request, &self.country)
            .await
    }
}

impl Fetcher {
    /// One event read alone by the id upstream knows; `None` when upstream does not have it.
    pub async fn one(
        &self,
        kind: EventKind,
        upstream_id: &str,
    ) -> Result<Option<EventRecord>, ApiError> {
        let _permit = self.permits.clone().acquire_owned().await.ok();
        match self
            .client
            .event_record(kind, upstream_id, &self.country)
            .await
        {
            Ok(record) => Ok(Some(record)),
            Err(e) if e.kind == ApiErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What a listing asks for: everything, or the lookback window; one part (v2: archived or
/// not); the run's fixed upper bound.
#[derive(Debug, Clone)]
pub struct Listing {
    pub kind: EventKind,
    pub archived: Option<bool>,
    pub full: bool,
    pub period_start: Option<String>,
    pub period_end: String,
}

impl Listing {
    pub fn request(&self, offset: u64, limit: u64) -> PageRequest {
        PageRequest {
            period_start: self.period_start.clone(),
            period_end: Some(self.period_end.clone()),
            offset,
            limit,
            archived: self.archived,
        }
    }
}

/// A listing's pages, as found from its first page and a few probes. Pages after the first
/// start where the first page ended and hold `size` entries each.
pub struct Extent {
    /// Entries per page, as upstream serves them.
    pub size: u64,
    /// Where the second page starts: the first page's length.
    pub start: u64,
    /// How many entries the listing really holds (not what it announced).
    pub end: u64,
    /// Pages fetched while finding the end, by offset; they are written, not fetched again.
    pub probed: BTreeMap<u64, Vec<EventRecord>>,
    /// Whether the listing held as many entries as its first page announced.
    pub as_announced: bool,
}

impl Extent {
    /// How many entries the page at `offset` should hold.
    pub fn expected(&self, offset: u64) -> u64 {
        self.size.min(self.end.saturating_sub(offset))
    }

    /// The offsets of the pages after the first, oldest first.
    fn offsets(&self) -> Vec<u64> {
        let pages = self.end.saturating_sub(self.start).div_ceil(self.size);
        (0..pages)
            .rev()
            .map(|k| self.start + k * self.size)
            .collect()
    }
}

/// Finds the page size and the real end of a listing whose first page held `first` entries
/// and announced `total`.
///
/// A page that comes short is either the end of the listing or a cap; one entry asked for
/// behind it tells which. A cap shrinks the page size and the search starts again with it
/// (the size only shrinks, so this ends).
pub async fn find_extent(
    fetcher: &Fetcher,
    listing: &Listing,
    first: u64,
    total: u64,
) -> Result<Extent, ApiError> {
    if total > MAX_EVENTS {
        return Err(ApiError::new(
            ApiErrorKind::Permanent,
            format!(
                "events/{}: a total of {total} is not believable",
                listing.kind.plural()
            ),
        ));
    }
    let start = first;
    let mut size = if first > 0 && first < PAGE_SIZE {
        first
    } else {
        PAGE_SIZE
    };
    let fetch = |offset: u64, limit: u64| {
        let request = listing.request(offset, limit);
        async move { fetcher.page(listing.kind, request).await.map(|(r, _)| r) }
    };
    // Whether nothing follows `offset`: the page before it ended the listing.
    let ends_at = |offset: u64| async move { fetch(offset, 1).await.map(|r| r.is_empty()) };
    // A short first page that holds everything announced is the end only if nothing follows
    // it: a cap of upstream's with a total equal to the cap looks the same (one probe tells).
    if first == 0 || (first < PAGE_SIZE && total <= first && ends_at(first).await?) {
        return Ok(Extent {
            size,
            start,
            end: first,
            probed: BTreeMap::new(),
            as_announced: first == total,
        });
    }
    'plan: loop {
        let mut probed = BTreeMap::new();
        // The page that holds the last entry announced (at least one past the first page).
        let guess = total.max(first + 1);
        let mut page = (guess - 1 - start) / size;
        let mut records = fetch(start + page * size, size).await?;
        let end;
        if records.is_empty() {
            // The end lies below: pages `below` (not empty; -1 is the first page) and
            // `above` (empty) close in on it.
            let (mut below, mut above) = (-1i64, page as i64);
            let mut below_end = start;
            while above - below > 1 {
                let middle = below + (above - below) / 2;
                let offset = start + middle as u64 * size;
                let found = fetch(offset, size).await?;
                if found.is_empty() {
                    above = middle;
                    continue;
                }
                let len = found.len() as u64;
                if len < size && !ends_at(offset + len).await? {
                    size = len;
                    continue 'plan;
                }
                below_end = offset + len;
                probed.insert(offset, found);
                below = middle;
            }
            end = below_end;
        } else {
            // The listing goes on while pages come full, whatever the total said (but not
            // when upstream ignores the offset and serves the same page again).
            loop {
                let offset = start + page * size;
                let len = records.len() as u64;
                if len < size {
                    if !ends_at(offset + len).await? {
                        size = len;
                        continue 'plan;
                    }
                    probed.insert(offset, records);
                    end = offset + len;
                    break;
                }
                let next = fetch(offset + size, size).await?;
                let repeated = next.first().map(|r| r.id) == records.first().map(|r| r.id);
                probed.insert(offset, records);
                if next.is_empty() || repeated || offset > MAX_EVENTS {
                    end = offset + len;
                    break;
                }
                records = next;
                page += 1;
            }
        }
        probed.retain(|&offset, _| offset < end);
        return Ok(Extent {
            size,
            start,
            end,
            probed,
            as_announced: end == total,
        });
    }
}

/// The pages after the first, oldest first: those probed already, the others fetched on
/// worker tasks `ahead` at a time (so converting a page overlaps the writing of the previous
/// ones). Each comes with its offset.
pub fn older_pages(
    fetcher: &Fetcher,
    listing: Arc<Listing>,
    extent: &mut Extent,
    ahead: usize,
) -> BoxStream<'static, (u64, OlderPage)> {
    let fetcher = fetcher.clone();
    let size = extent.size;
    let mut probed = std::mem::take(&mut extent.probed);
    stream::iter(extent.offsets())
        .map(move |offset| {
            if let Some(records) = probed.remove(&offset) {
                return futures_util::future::ready((offset, Ok((records, None)))).boxed();
            }
            let request = listing.request(offset, size);
            let fetcher = fetcher.clone();
            let kind = listing.kind;
            let task = tokio::spawn(async move { fetcher.page(kind, request).await });
            async move {
                let page = task.await.unwrap_or_else(|e| {
                    Err(ApiError::new(
                        ApiErrorKind::Transient,
                        format!("page task failed: {e}"),
                    ))
                });
                (offset, page.map(|(records, total)| (records, Some(total))))
            }
            .boxed()
        })
        .buffered(ahead)
        .boxed()
}

/// Completes a page that came shorter than `expected` by asking for the rest. Returns false
/// when upstream has no more there (the listing shrank while it paged).
pub async fn complete_page(
    fetcher: &Fetcher,
    listing: &Listing,
    offset: u64,
    expected: u64,
    records: &mut Vec<EventRecord>,
) -> Result<bool, ApiError> {
    while (records.len() as u64) < expected {
        let got = records.len() as u64;
        let (more, _) = fetcher
            .page(listing.kind, listing.request(offset + got, expected - got))
            .await?;
        if more.is_empty() {
            return Ok(false);
        }
        records.extend(more);
    }
    Ok(true)
}

/// The listings of one run for the given streams and parts.
pub fn plan(
    context: &Context<'_>,
    mirror: &crate::store::Mirror,
    kind: EventKind,
    archived: Option<bool>,
) -> crate::error::Result<Listing> {
    // The window counts back from what the last complete run listed, not from the newest
    // event stored: a run that ended early may have stored newer events of one listing than
    // another listing reached (docs/reliability.md).
    let state = crate::store::runs::stream_state(mirror.conn(), kind.plural())?;
    let edge = state.complete_until.as_deref();
    let full = context.options.full || edge.is_none() || is_stale(&state, context);
    let period_start = match (edge, full) {
        (Some(edge), false) => Some(lookback_start(edge, context)),
        _ => None,
    };
    Ok(Listing {
        kind,
        archived,
        full,
        period_start,
        period_end: context.period_end.clone(),
    })
}

/// Whether the stream's last complete listing is older than `full_every` (or never was).
fn is_stale(state: &runs::StreamState, context: &Context<'_>) -> bool {
    let Some(last) = state
        .last_full_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    else {
        return true;
    };
    let age = context
        .started
        .signed_duration_since(last.with_timezone(&Utc));
    age.to_std()
        .map(|age| age >= context.settings.sync.full_every)
        .unwrap_or(false)
}

/// `edge - lookback`, as the API's `period_start`.
fn lookback_start(edge_utc: &str, context: &Context<'_>) -> String {
    let newest = DateTime::parse_from_rfc3339(edge_utc)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(context.started);
    let lookback =
        ChronoDuration::from_std(context.settings.sync.lookback).unwrap_or(ChronoDuration::days(7));
    (newest - lookback).format("%Y-%m-%dT%H:%M:%S").to_string()
}
