//! The sync-runs log and the per-stream cursors.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::records::api::Api;

/// Per-stream counts of one run.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
pub struct StreamCounts {
    pub fetched: u64,
    pub new: u64,
    pub changed: u64,
    pub deleted: u64,
    pub pages: u64,
}

impl StreamCounts {
    /// Adds another listing's counts (a stream listed in parts).
    pub fn add(&mut self, other: &StreamCounts) {
        self.fetched += other.fetched;
        self.new += other.new;
        self.changed += other.changed;
        self.deleted += other.deleted;
        self.pages += other.pages;
    }
}

/// What the mirror remembers about a stream between runs.
#[derive(Debug, Clone, Default)]
pub struct StreamState {
    pub last_full_at: Option<String>,
    /// Every event created before this (UTC, RFC 3339) was listed by a complete run (V10).
    pub complete_until: Option<String>,
}

pub fn start_run(conn: &Connection, command: &str, now: &str) -> Result<i64> {
    // The caller holds the writer lock: a run still marked running is dead (killed, the
    // machine lost power). It is recorded as interrupted, so `status` does not show it running
    // for ever.
    conn.execute(
        "UPDATE sync_runs SET outcome = 'failed', finished_at = ?1,
           error = 'interrupted: the process ended before the run finished'
         WHERE outcome = 'running'",
        [now],
    )?;
    conn.execute(
        "INSERT INTO sync_runs (command, started_at, outcome) VALUES (?1, ?2, 'running')",
        params![command, now],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn finish_run(
    conn: &Connection,
    run: i64,
    outcome: &str,
    requests: u64,
    error: Option<&str>,
    now: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE sync_runs SET finished_at = ?2, outcome = ?3, requests = ?4, error = ?5 WHERE id = ?1",
        params![run, now, outcome, requests as i64, error],
    )?;
    Ok(())
}

pub fn record_stream(
    conn: &Connection,
    run: i64,
    stream: &str,
    counts: &StreamCounts,
) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_run_streams (run_id, stream, fetched, new, changed, deleted, pages)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (run_id, stream) DO UPDATE SET fetched = excluded.fetched, new = excluded.new,
           changed = excluded.changed, deleted = excluded.deleted, pages = excluded.pages",
        params![
            run,
            stream,
            counts.fetched as i64,
            counts.new as i64,
            counts.changed as i64,
            counts.deleted as i64,
            counts.pages as i64
        ],
    )?;
    Ok(())
}

pub fn stream_state(conn: &Connection, stream: &str) -> Result<StreamState> {
    let state = conn
        .prepare_cached(
            "SELECT last_full_at, complete_until_utc FROM sync_streams WHERE stream = ?1",
        )?
        .query_row([stream], |row| {
            Ok(StreamState {
                last_full_at: row.get(0)?,
                complete_until: row.get(1)?,
            })
        })
        .optional()?;
    Ok(state.unwrap_or_default())
}

/// Records a committed page of a stream: its run, the run's fixed upper bound and the page's
/// offset. Called inside the page's transaction.
pub fn save_page_cursor(
    conn: &Connection,
    stream: &str,
    run: i64,
    period_end: &str,
    offset: u64,
    newest: Option<&str>,
    now: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_streams (stream, newest_created_utc, page_run_id, page_period_end, page_offset, updated_at)
         VALUES (?1, ?6, ?2, ?3, ?4, ?5)
         ON CONFLICT (stream) DO UPDATE SET page_run_id = excluded.page_run_id,
           page_period_end = excluded.page_period_end, page_offset = excluded.page_offset,
           newest_created_utc = max(coalesce(newest_created_utc, ''), coalesce(excluded.newest_created_utc, '')),
           updated_at = excluded.updated_at",
    )?
    .execute(params![stream, run, period_end, offset as i64, now, newest])?;
    Ok(())
}

/// Records that a stream finished; `full` when it was a complete listing. `complete_until`
/// (event streams): the edge up to which the listing held every event; it only moves forward.
pub fn finish_stream(
    conn: &Connection,
    stream: &str,
    full: bool,
    now: &str,
    complete_until: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_streams (stream, last_success_at, last_full_at, complete_until_utc, updated_at)
         VALUES (?1, ?2, CASE WHEN ?3 THEN ?2 END, ?4, ?2)
         ON CONFLICT (stream) DO UPDATE SET last_success_at = excluded.last_success_at,
           last_full_at = CASE WHEN ?3 THEN excluded.last_success_at ELSE last_full_at END,
           complete_until_utc = CASE
             WHEN complete_until_utc IS NULL OR excluded.complete_until_utc > complete_until_utc
             THEN coalesce(excluded.complete_until_utc, complete_until_utc)
             ELSE complete_until_utc END,
           page_run_id = NULL, page_period_end = NULL, page_offset = NULL,
           updated_at = excluded.updated_at",
    )?
    .execute(params![stream, now, full, complete_until])?;
    Ok(())
}

/// Forgets a stream's last complete listing, so that the next run lists everything again
/// (after a listing that could not be completed).
pub fn require_full(conn: &Connection, stream: &str) -> Result<()> {
    conn.prepare_cached("UPDATE sync_streams SET last_full_at = NULL WHERE stream = ?1")?
        .execute([stream])?;
    Ok(())
}

/// A fact about the mirror from `sync_meta` (see migration V2).
pub fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM sync_meta WHERE key = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()?)
}

/// Records a fact about the mirror in `sync_meta`.
pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// `sync_meta` key: the API a run began to switch the mirror to and has not finished
/// switching (`sync --full --switch-api`); every run continues the switch until one completes.
pub const API_SWITCH_KEY: &str = "api_switch_to";

/// Forgets a fact about the mirror.
pub fn delete_meta(conn: &Connection, key: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM sync_meta WHERE key = ?1")?
        .execute([key])?;
    Ok(())
}

/// The API that feeds the mirror (`sync_meta.api`), or the one it is being switched to while
/// a switch is under way. A mirror synced before the key existed has events or contacts and
/// no key: the classic API fed it.
pub fn feeding_api(conn: &Connection) -> Result<Option<Api>> {
    if let Some(target) = switching_to(conn)? {
        return Ok(Some(target));
    }
    if let Some(name) = get_meta(conn, "api")? {
        return Ok(Api::parse(&name));
    }
    let synced: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM mirror_events) OR EXISTS (SELECT 1 FROM mirror_contacts)",
        [],
        |row| row.get(0),
    )?;
    Ok(synced.then_some(Api::Classic))
}

/// The API a switch under way is taking the mirror to (see `sync::check_feeding_api`).
pub fn switching_to(conn: &Connection) -> Result<Option<Api>> {
    Ok(get_meta(conn, API_SWITCH_KEY)?
        .as_deref()
        .and_then(Api::parse))
}
