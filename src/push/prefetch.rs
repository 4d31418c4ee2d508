//! Reading many edited events in a few listings instead of one request each, where the API
//! can (`Capabilities::bulk_read_page`).
//!
//! Before it writes, the push reads every edited event's current fields (to see conflicts).
//! When many edited events lie in a narrow stretch of time, as after "mark everything of
//! last week read", listing that stretch of `/history` (1,000 entries a page, archived and
//! not) takes far fewer requests than one `GET /history/{id}` per event. An event the listing
//! does not show (deleted meanwhile, or a listing that misbehaves) is read alone, as before, so
//! a bad listing costs requests, never correctness.

use std::collections::HashMap;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rusqlite::Connection;

use crate::api::Client;
use crate::error::Result;
use crate::records::writes::EventFields;
use crate::store::outbox::Entry;

/// Below this many edited events, one request each is cheap enough.
const MIN_EVENTS: usize = 50;
/// A listing is used when it takes at most a quarter of the requests single reads would.
const LISTING_SHARE: usize = 4;

/// The stretch of time to list, when listing is worth it.
#[derive(Debug, Clone)]
pub struct Window {
    from: String,
    to: String,
    /// Pages a listing of the window should take, both parts together (from the mirror).
    expected_pages: usize,
}

/// Decides from the mirror whether listing beats single reads for `due`, with listings of
/// `page` entries a page.
pub fn window(conn: &Connection, due: &[Entry], page: usize) -> Result<Option<Window>> {
    let mut events: Vec<&Entry> = due.iter().collect();
    events.dedup_by_key(|e| e.event_id);
    if events.len() < MIN_EVENTS {
        return Ok(None);
    }
    let parse = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    let times: Vec<DateTime<Utc>> = events
        .iter()
        .filter_map(|e| parse(&e.event_created))
        .collect();
    let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) else {
        return Ok(None);
    };
    let in_window: i64 = conn.query_row(
        "SELECT count(*) FROM mirror_events WHERE created_utc BETWEEN ?1 AND ?2",
        [
            first.to_rfc3339_opts(SecondsFormat::Millis, true),
            last.to_rfc3339_opts(SecondsFormat::Millis, true),
        ],
        |row| row.get(0),
    )?;
    // Both parts (archived and not) end with a page that is not full.
    let expected_pages = in_window.max(0) as usize / page.max(1) + 2;
    if expected_pages * LISTING_SHARE > events.len() {
        return Ok(None);
    }
    // Whole seconds on the wire; widened by a second on each side, never narrowed.
    let second = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    Ok(Some(Window {
        from: second(*first - Duration::seconds(1)),
        to: second(*last + Duration::seconds(1)),
        expected_pages,
    }))
}

/// Reads the window's events through the API's bulk read.
pub async fn read(client: &Client, window: &Window) -> HashMap<String, EventFields> {
    let max_pages = window.expected_pages * 2 + 10;
    client.read_many(&window.from, &window.to, max_pages).await
}
