//! The four event streams, one table-driven function for all of them.

use std::collections::HashSet;

use chrono::{DateTime, Duration as ChronoDuration, NaiveDateTime, Utc};
use futures_util::{StreamExt, stream};
use serde_json::value::RawValue;

use super::{Context, StreamFailure};
use crate::api::events::{EventKind, PageRequest, WireEvent};
use crate::api::{ApiError, Client};
use crate::error::{Error, Result};
use crate::numbers::number_key;
use crate::store::events::{self as store, Detail, EndpointRecord, EventRecord, Upserted};
use crate::store::runs::{self, StreamCounts};
use crate::store::{Mirror, now_utc};

/// The largest page the API serves.
pub const PAGE_SIZE: u64 = 1000;

/// Pulls one event stream. Returns its counts and whether it was a complete listing.
pub async fn pull(
    context: &Context<'_>,
    mirror: &mut Mirror,
    kind: EventKind,
) -> Result<(StreamCounts, bool), StreamFailure> {
    let mut counts = StreamCounts::default();
    let stream = kind.plural();
    let state =
        runs::stream_state(mirror.conn(), stream).map_err(|e| StreamFailure::new(&counts, e))?;
    let newest = store::newest_created(mirror.conn(), kind.as_str())
        .map_err(|e| StreamFailure::new(&counts, e))?;
    let full = context.options.full
        || newest.is_none()
        || is_stale(state.last_full_at.as_deref(), context);
    let period_start = match (&newest, full) {
        (Some(newest), false) => Some(lookback_start(newest, context)),
        _ => None,
    };
    let request = |offset| PageRequest {
        period_start: period_start.clone(),
        period_end: Some(context.period_end.clone()),
        offset,
        limit: PAGE_SIZE,
    };
    tracing::debug!(stream, full, ?period_start, period_end = %context.period_end, "listing");
    let bar = context.progress.bar(stream, "events");
    let country = context.settings.country_code.clone();
    // The first page (the newest events) tells the total. The pages are then written oldest
    // first, so rows and index entries are appended in creation order, and a run that dies
    // half-way leaves a mirror whose newest event is the true edge of what it holds.
    let (newest_page, total) = fetch_page(&context.client, kind, request(0), &country)
        .await
        .map_err(|e| StreamFailure::from_api(&counts, e))?;
    bar.set_total(total);
    let mut seen: HashSet<i64> = HashSet::new();
    let mut consistent = true;
    let older: Vec<u64> = (1..total.div_ceil(PAGE_SIZE))
        .rev()
        .map(|page| page * PAGE_SIZE)
        .collect();
    let client = context.client.clone();
    let mut pages = stream::iter(older)
        .map(|offset| {
            let client = client.clone();
            let request = request(offset);
            let country = country.clone();
            tokio::spawn(
                async move { (offset, fetch_page(&client, kind, request, &country).await) },
            )
        })
        .buffered(context.settings.sync.concurrency);
    while let Some(joined) = pages.next().await {
        let (offset, page) = joined.map_err(|e| {
            StreamFailure::new(&counts, Error::io(format!("page task failed: {e}")))
        })?;
        let (records, page_total) = page.map_err(|e| StreamFailure::from_api(&counts, e))?;
        consistent &= page_total == total;
        commit_page(
            context,
            mirror,
            kind,
            &records,
            offset,
            &mut counts,
            &mut seen,
        )
        .map_err(|e| StreamFailure::new(&counts, e))?;
        bar.advance(records.len() as u64);
    }
    commit_page(
        context,
        mirror,
        kind,
        &newest_page,
        0,
        &mut counts,
        &mut seen,
    )
    .map_err(|e| StreamFailure::new(&counts, e))?;
    bar.advance(newest_page.len() as u64);

    if full {
        if consistent && seen.len() as u64 == total {
            counts.deleted += sweep_events(context, mirror, kind, &seen)
                .map_err(|e| StreamFailure::new(&counts, e))?;
        } else {
            // Events vanished or appeared below the bound while paging: the listing is not a
            // reliable picture of what exists, so nothing is marked deleted this time.
            tracing::warn!(
                stream,
                total,
                seen = seen.len(),
                "listing changed while paging; deletions not applied"
            );
        }
    }
    runs::finish_stream(mirror.conn(), stream, full, &now_utc())
        .map_err(|e| StreamFailure::new(&counts, e))?;
    bar.finish(&format!(
        "+{} ~{} -{}",
        counts.new, counts.changed, counts.deleted
    ));
    Ok((counts, full))
}

fn is_stale(last_full_at: Option<&str>, context: &Context<'_>) -> bool {
    let Some(last) = last_full_at.and_then(|t| DateTime::parse_from_rfc3339(t).ok()) else {
        return true;
    };
    let age = context
        .started
        .signed_duration_since(last.with_timezone(&Utc));
    age.to_std()
        .map(|age| age >= context.settings.sync.full_every)
        .unwrap_or(false)
}

/// `newest - lookback`, as the API's `period_start`.
fn lookback_start(newest_utc: &str, context: &Context<'_>) -> String {
    let newest = DateTime::parse_from_rfc3339(newest_utc)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(context.started);
    let lookback =
        ChronoDuration::from_std(context.settings.sync.lookback).unwrap_or(ChronoDuration::days(7));
    (newest - lookback).format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Fetches one page and converts it to records (on a worker thread, so conversion overlaps
/// the writing of the previous page). Returns the records and the listing's total.
async fn fetch_page(
    client: &Client,
    kind: EventKind,
    request: PageRequest,
    country_code: &str,
) -> Result<(Vec<EventRecord>, u64), ApiError> {
    let page = client.event_page(kind, &request).await?;
    let records = page
        .items
        .iter()
        .enumerate()
        .map(|(i, raw)| to_record(kind, raw, request.offset + i as u64, country_code))
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok((records, page.overall_count))
}

/// Stores one page (oldest event first) and its cursor in one transaction. `offset` is the
/// page's offset in the newest-first listing.
fn commit_page(
    context: &Context<'_>,
    mirror: &mut Mirror,
    kind: EventKind,
    records: &[EventRecord],
    offset: u64,
    counts: &mut StreamCounts,
    seen: &mut HashSet<i64>,
) -> Result<()> {
    let started = std::time::Instant::now();
    let now = now_utc();
    let tx = mirror.conn_mut().transaction()?;
    let mut newest: Option<&str> = None;
    {
        let mut writer = store::EventWriter::new(&tx, &now, context.settings.timezone)?;
        for record in records.iter().rev() {
            match writer.upsert(record)? {
                Upserted::New => counts.new += 1,
                Upserted::Changed => counts.changed += 1,
                Upserted::Unchanged => {}
            }
            if newest.is_none_or(|n| record.created_utc.as_str() > n) {
                newest = Some(&record.created_utc);
            }
            seen.insert(record.id);
        }
    }
    runs::save_page_cursor(
        &tx,
        kind.plural(),
        context.run_id,
        &context.period_end,
        offset,
        newest,
        &now,
    )?;
    crate::crashpoint::commit(tx, "sync:events_page")?;
    tracing::debug!(
        stream = kind.plural(),
        items = records.len(),
        ms = started.elapsed().as_millis() as u64,
        "committed page"
    );
    counts.fetched += records.len() as u64;
    counts.pages += 1;
    Ok(())
}

/// Marks events missing from a complete listing as deleted upstream.
fn sweep_events(
    context: &Context<'_>,
    mirror: &mut Mirror,
    kind: EventKind,
    seen: &HashSet<i64>,
) -> Result<u64> {
    let bound = format!("{}.000Z", context.period_end);
    let present = store::present_ids(mirror.conn(), kind.as_str(), &bound)?;
    super::sweep(
        context,
        mirror,
        kind.plural(),
        present,
        seen,
        store::mark_deleted,
    )
}

/// Upstream's `created` (`2012-03-01T14:05:09.000+0100`) in the mirror's UTC form.
pub fn utc_timestamp(created: &str) -> Option<String> {
    let parsed = DateTime::parse_from_str(created, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(created))
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(created, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc())
        })
        .ok()?;
    Some(parsed.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

pub(crate) fn to_record(
    kind: EventKind,
    raw: &RawValue,
    index: u64,
    country_code: &str,
) -> Result<EventRecord, ApiError> {
    let what = format!("events/{} item {index}", kind.plural());
    let e = WireEvent::parse(raw, &what)?;
    let created_utc = utc_timestamp(&e.created).ok_or_else(|| {
        ApiError::new(
            crate::api::ApiErrorKind::Permanent,
            format!("{what}: created {:?} is not a timestamp", e.created),
        )
    })?;
    let endpoint = |role: &'static str, ep: &crate::api::events::WireEndpoint| EndpointRecord {
        role,
        number_e164: ep.number_e164.clone(),
        number_pretty: ep.number_pretty.clone(),
        contact_fn: ep.contact_fn.clone(),
        contact_url: ep.get.clone(),
        number_key: ep
            .number_e164
            .as_deref()
            .filter(|n| !n.is_empty())
            // numberE164 is international but sent without `+`.
            .map(|n| {
                if n.starts_with('+') {
                    n.to_string()
                } else {
                    format!("+{n}")
                }
            })
            .and_then(|n| number_key(&n, country_code)),
    };
    let endpoints = e
        .sources
        .iter()
        .map(|ep| endpoint("source", ep))
        .chain(e.targets.iter().map(|ep| endpoint("target", ep)))
        .collect();
    let link = |l: &Option<crate::api::events::WireLink>| l.as_ref().and_then(|l| l.get.clone());
    let detail = match kind {
        EventKind::Call => Detail::Call {
            duration_s: e.duration,
            recordings: e.recordings.iter().filter_map(|r| r.get.clone()).collect(),
        },
        EventKind::Fax => Detail::Fax {
            page_count: e.page_count,
            sent: e.sent.clone(),
            content_url: link(&e.content).or(e.get.clone()),
            fail_reason: e.fail_reason.clone(),
            pages: e
                .previews
                .iter()
                .map(|p| (p.page_number, link(&p.small), link(&p.big)))
                .collect(),
        },
        EventKind::Sms => Detail::Sms {
            sent: e.sent.clone(),
            text: e.text.clone(),
        },
        EventKind::Voicemail => Detail::Voicemail {
            duration_s: e.duration,
            caller: e.caller.clone(),
            content_url: link(&e.content).or(e.get.clone()),
            transcription: e.transcription.clone(),
        },
    };
    Ok(EventRecord {
        kind: kind.as_str(),
        created_upstream: e.created.clone(),
        created_utc,
        scheduled_upstream: e.scheduled.clone(),
        direction: e.direction.clone(),
        status: e.status.clone(),
        comment: e.comment.clone(),
        extension_id: e.extension.as_ref().and_then(|x| x.id.clone()),
        extension_alias: e.extension.as_ref().and_then(|x| x.alias.clone()),
        extension_url: e.extension.as_ref().and_then(|x| x.get.clone()),
        read: e.read.as_ref().is_some_and(|f| f.value),
        starred: e.starred.as_ref().is_some_and(|f| f.value),
        labels: e
            .labels
            .as_ref()
            .and_then(|l| l.value.clone())
            .unwrap_or_default(),
        location: e.location.clone(),
        content_url: e.get.clone(),
        modify_url: e.modify.clone(),
        endpoints,
        detail,
        raw_json: raw.get().to_string(),
        id: e.id.parse().map_err(|_| {
            ApiError::new(
                crate::api::ApiErrorKind::Permanent,
                format!("{what}: id {:?} is too large", e.id),
            )
        })?,
    })
}

#[cfg(test)]
mod tests {
    use super::utc_timestamp;

    #[test]
    fn upstream_timestamps_become_utc() {
        assert_eq!(
            utc_timestamp("2012-03-01T14:05:09.000+0100").as_deref(),
            Some("2012-03-01T13:05:09.000Z")
        );
        assert_eq!(
            utc_timestamp("2012-07-01T14:05:09+02:00").as_deref(),
            Some("2012-07-01T12:05:09.000Z")
        );
        assert_eq!(utc_timestamp("yesterday"), None);
    }
}
