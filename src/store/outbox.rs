//! The outbox: the local edits (see `edits.rs`) and sends waiting to go upstream. This module
//! reads it for `push` and `outbox list`, and records what became of each entry.

use super::edits::FieldColumns;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::records::Field;

/// What an outbox entry asks upstream to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Set `field` to `value`.
    Set,
    /// Move the event to the trash.
    Delete,
}

/// A waiting field edit or delete, with what the mirror knows of the event.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: i64,
    pub op: Op,
    pub event_id: i64,
    pub kind: String,
    pub field: Field,
    /// The target value: `0`/`1`, a label list, `trash`.
    pub value: String,
    /// The value upstream had when the edit was made (see migration V6).
    pub base: Option<String>,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    /// The event's id as upstream knows it (v2 ids may be text).
    pub upstream_id: String,
    /// When the event was created, UTC (to read many events back in one listing).
    pub event_created: String,
}

const SELECT_ENTRIES: &str = "
SELECT o.id, o.op, o.event_id, e.kind, o.field, o.value,
       coalesce(o.edit_base,
                CASE o.field WHEN 'read' THEN CAST(e.read_base AS TEXT)
                             WHEN 'starred' THEN CAST(e.starred_base AS TEXT)
                             WHEN 'labels' THEN e.labels_base
                             WHEN 'archived' THEN CAST(e.archived_base AS TEXT)
                             WHEN 'note' THEN coalesce(e.comment_base, '')
                             ELSE e.location_base END),
       o.state, o.attempts, o.next_attempt_at, o.last_error, o.created_at,
       coalesce(e.upstream_id, CAST(e.id AS TEXT)), e.created_utc
FROM outbox o JOIN mirror_events e ON e.id = o.event_id
WHERE o.op IN ('set', 'delete')";

fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let op: String = row.get(1)?;
    let field: String = row.get(4)?;
    Ok(Entry {
        id: row.get(0)?,
        op: if op == "delete" { Op::Delete } else { Op::Set },
        event_id: row.get(2)?,
        kind: row.get(3)?,
        field: Field::parse(&field).unwrap_or(Field::Location),
        value: row.get(5)?,
        base: row.get(6)?,
        state: row.get(7)?,
        attempts: row.get(8)?,
        next_attempt_at: row.get(9)?,
        last_error: row.get(10)?,
        created_at: row.get(11)?,
        upstream_id: row.get(12)?,
        event_created: row.get(13)?,
    })
}

/// Every event edit in the outbox, in replay order.
pub fn all_entries(conn: &Connection) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare(&format!("{SELECT_ENTRIES} ORDER BY o.id"))?;
    let entries = stmt
        .query_map([], entry_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(entries)
}

/// The entries `push` should replay now: pending and due, in replay order.
pub fn due_entries(conn: &Connection, now: &str) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT_ENTRIES} AND o.state = 'pending'
           AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?1)
         ORDER BY o.id"
    ))?;
    let entries = stmt
        .query_map([now], entry_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(entries)
}

/// How many pending entries wait for a later retry.
pub fn waiting(conn: &Connection, now: &str) -> Result<u64> {
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM outbox WHERE state = 'pending' AND next_attempt_at > ?1",
        [now],
        |row| row.get(0),
    )?;
    Ok(count.max(0) as u64)
}

/// How an entry was closed, as `outbox_log.result` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Upstream took the edit (or already had the value).
    Pushed,
    /// Upstream had changed the field since the base; the local value was written anyway.
    ConflictLocalWon,
    /// Upstream had changed the field since the base; its value was kept.
    ConflictUpstreamWon,
    /// The event no longer exists upstream.
    GoneUpstream,
    /// The user dropped the edit.
    Dropped,
}

impl Closed {
    fn as_str(self) -> &'static str {
        match self {
            Closed::Pushed => "pushed",
            Closed::ConflictLocalWon => "conflict_local_won",
            Closed::ConflictUpstreamWon => "conflict_upstream_won",
            Closed::GoneUpstream => "gone_upstream",
            Closed::Dropped => "dropped",
        }
    }
}

/// Records that upstream now holds `upstream` for the entry's field, and closes the entry.
///
/// The base becomes `upstream`. If nobody edited the field while the entry was on its way, the
/// entry is removed, and the visible value becomes `upstream` too (it already is, unless
/// upstream won a conflict). If someone did (a `sqlite3` user, during a push), their newer edit
/// stays: it keeps its entry, or gets one if it now differs from the new base.
pub fn settle(
    tx: &Transaction<'_>,
    entry: &Entry,
    upstream: &str,
    closed: Closed,
    detail: Option<&str>,
    now: &str,
) -> Result<()> {
    let field = entry.field;
    if field == Field::Location && upstream == "trash" {
        return settle_trashed(tx, entry, closed, detail, now);
    }
    let current = current_entry_value(tx, entry)?;
    if field == Field::Archived {
        archived_moved_location(tx, entry.event_id, upstream == "1")?;
    }
    tx.execute(
        &format!(
            "UPDATE mirror_events SET {} = {} WHERE id = ?1",
            field.base_column(),
            field.stored("?2")
        ),
        params![entry.event_id, upstream],
    )?;
    if current.as_deref() == Some(entry.value.as_str()) {
        tx.execute("DELETE FROM outbox WHERE id = ?1", [entry.id])?;
        set_visible(tx, entry.event_id, field, upstream)?;
    } else {
        // The newer edit was made against what this push left upstream.
        tx.execute(
            "UPDATE outbox SET edit_base = ?2 WHERE id = ?1",
            params![entry.id, upstream],
        )?;
        reconcile(tx, entry.event_id, field, now)?;
    }
    log(tx, entry, closed, detail, now)
}

/// v2 has no folders but the archive: the location a pull derives for an event moves with its
/// `archived` flag (see `api::v2::history::location`), so a push of the flag moved it too. Its
/// base moves along, with the base of a location edit waiting for the event, so that the next
/// push does not take this push for a change made upstream (under `upstream-wins` that would
/// drop the user's delete); the shown location follows unless a location edit waits.
fn archived_moved_location(tx: &Transaction<'_>, event_id: i64, archived: bool) -> Result<()> {
    tx.execute(
        "UPDATE mirror_events
            SET location_base = CASE WHEN ?2 THEN 'archive'
                                     WHEN direction LIKE '%outgoing' THEN 'sent'
                                     ELSE 'inbox' END
          WHERE id = ?1 AND location_base IS NOT 'trash'",
        params![event_id, archived],
    )?;
    tx.execute(
        "UPDATE outbox SET edit_base = (SELECT location_base FROM mirror_events WHERE id = ?1)
          WHERE event_id = ?1 AND field = 'location'",
        [event_id],
    )?;
    tx.execute(
        "UPDATE mirror_events SET location = location_base
          WHERE id = ?1 AND location IS NOT location_base
            AND NOT EXISTS (SELECT 1 FROM outbox WHERE event_id = ?1 AND field = 'location')",
        [event_id],
    )?;
    Ok(())
}

/// The event is in the trash upstream now. The API cannot take it out again, so a local
/// "undo" made while the delete was on its way cannot be honoured: the mirror shows the trash,
/// no location edit waits, and the log says why.
fn settle_trashed(
    tx: &Transaction<'_>,
    entry: &Entry,
    closed: Closed,
    detail: Option<&str>,
    now: &str,
) -> Result<()> {
    let undone = current_entry_value(tx, entry)?.is_none();
    tx.execute(
        "UPDATE mirror_events SET location_base = 'trash', location = 'trash' WHERE id = ?1",
        [entry.event_id],
    )?;
    tx.execute(
        "DELETE FROM outbox WHERE event_id = ?1 AND field = 'location'",
        [entry.event_id],
    )?;
    let late = "moved back locally while the delete was on its way, but upstream had trashed it already, and the API cannot take an event out of the trash";
    let detail = if undone { Some(late) } else { detail };
    log(tx, entry, closed, detail, now)
}

/// Marks an event deleted upstream (v2 deletes for good: the push's own deletion).
pub fn mark_gone_upstream(tx: &Transaction<'_>, event_id: i64, now: &str) -> Result<()> {
    tx.execute(
        "UPDATE mirror_events SET upstream_state = 'deleted', deleted_upstream_at = ?2, updated_at = ?2
         WHERE id = ?1 AND upstream_state = 'present'",
        params![event_id, now],
    )?;
    Ok(())
}

/// The event is gone upstream: marks it so, closes the entry with a record and shows the
/// field's last known upstream value again.
pub fn close_gone(tx: &Transaction<'_>, entry: &Entry, now: &str) -> Result<()> {
    tx.execute(
        "UPDATE mirror_events SET upstream_state = 'deleted', deleted_upstream_at = ?2, updated_at = ?2
         WHERE id = ?1 AND upstream_state = 'present'",
        params![entry.event_id, now],
    )?;
    tx.execute("DELETE FROM outbox WHERE id = ?1", [entry.id])?;
    restore_base(tx, entry.event_id, entry.field)?;
    log(
        tx,
        entry,
        Closed::GoneUpstream,
        Some("upstream answered 404"),
        now,
    )
}

/// A permanent failure: the entry stays, marked failed, until `outbox retry` or `outbox drop`.
/// `upstream`, when known, becomes the base (the user decides against what upstream has now).
pub fn mark_failed(
    tx: &Transaction<'_>,
    entry: &Entry,
    error: &str,
    upstream: Option<&str>,
    now: &str,
) -> Result<()> {
    if let Some(value) = upstream {
        tx.execute(
            &format!(
                "UPDATE mirror_events SET {} = {} WHERE id = ?1",
                entry.field.base_column(),
                entry.field.stored("?2")
            ),
            params![entry.event_id, value],
        )?;
        // `outbox retry` then writes the local value: decided against what upstream has now.
        tx.execute(
            "UPDATE outbox SET edit_base = ?2 WHERE id = ?1",
            params![entry.id, value],
        )?;
    }
    // An edit made meanwhile is a new intent: it stays pending.
    tx.execute(
        "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?3,
                next_attempt_at = NULL, updated_at = ?4
         WHERE id = ?1 AND value IS ?2",
        params![entry.id, entry.value, error, now],
    )?;
    Ok(())
}

/// A transient failure: the entry stays pending and is tried again after `next_attempt_at`.
pub fn defer(
    tx: &Transaction<'_>,
    entry: &Entry,
    error: &str,
    next_attempt_at: &str,
    now: &str,
) -> Result<()> {
    tx.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3,
                updated_at = ?4
         WHERE id = ?1",
        params![entry.id, error, next_attempt_at, now],
    )?;
    Ok(())
}

/// `outbox retry ID`: a failed or waiting entry becomes due now.
pub fn retry(conn: &Connection, id: i64, now: &str) -> Result<()> {
    let changed = conn.execute(
        "UPDATE outbox SET state = 'pending', next_attempt_at = NULL, updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    if changed == 0 {
        return Err(Error::usage(format!("no outbox entry with id {id}")));
    }
    Ok(())
}

/// `outbox retry --all`: every failed or waiting entry becomes due now. Returns how many.
pub fn retry_all(conn: &Connection, now: &str) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE outbox SET state = 'pending', next_attempt_at = NULL, updated_at = ?1
         WHERE state = 'failed' OR next_attempt_at IS NOT NULL",
        [now],
    )?)
}

/// `outbox drop ID`: forgets the edit and shows the upstream value again.
pub fn drop_entry(conn: &mut Connection, id: i64, now: &str) -> Result<Entry> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let entry = tx
        .prepare(&format!("{SELECT_ENTRIES} AND o.id = ?1"))?
        .query_row([id], entry_from_row)
        .optional()?
        .ok_or_else(|| Error::usage(format!("no outbox entry with id {id}")))?;
    tx.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
    restore_base(&tx, entry.event_id, entry.field)?;
    log(&tx, &entry, Closed::Dropped, None, now)?;
    crate::crashpoint::commit(tx, "outbox:drop")?;
    Ok(entry)
}

fn current_entry_value(tx: &Transaction<'_>, entry: &Entry) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached("SELECT value FROM outbox WHERE id = ?1")?
        .query_row([entry.id], |row| row.get(0))
        .optional()?)
}

fn set_visible(tx: &Transaction<'_>, event_id: i64, field: Field, value: &str) -> Result<()> {
    tx.execute(
        &format!(
            "UPDATE mirror_events SET {0} = {1} WHERE id = ?1 AND {0} IS NOT {1}",
            field.column(),
            field.stored("?2")
        ),
        params![event_id, value],
    )?;
    Ok(())
}

fn restore_base(tx: &Transaction<'_>, event_id: i64, field: Field) -> Result<()> {
    // A missing base (a mirror older than the base columns) keeps the visible value; a note's
    // base is NULL when upstream has none.
    let restored = match field {
        Field::Note => field.base_column().to_string(),
        _ => format!("coalesce({}, {})", field.base_column(), field.column()),
    };
    tx.execute(
        &format!(
            "UPDATE mirror_events SET {} = {restored} WHERE id = ?1",
            field.column()
        ),
        [event_id],
    )?;
    Ok(())
}

/// Makes the outbox agree with the visible value after the base moved: an entry exists exactly
/// when the visible value differs from the base.
fn reconcile(tx: &Transaction<'_>, event_id: i64, field: Field, now: &str) -> Result<()> {
    let (visible, base): (Option<String>, Option<String>) = tx.query_row(
        &format!(
            "SELECT {}, {} FROM mirror_events WHERE id = ?1",
            field.read_as_text(field.column()),
            field.read_as_text(field.base_column())
        ),
        [event_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let (op, field_name) = match field {
        Field::Location => ("delete", "location"),
        other => ("set", other.name()),
    };
    if visible == base {
        tx.execute(
            "DELETE FROM outbox WHERE event_id = ?1 AND op = ?2 AND field = ?3",
            params![event_id, op, field_name],
        )?;
        return Ok(());
    }
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM outbox WHERE event_id = ?1 AND op = ?2 AND field = ?3",
            params![event_id, op, field_name],
            |row| row.get(0),
        )
        .optional()?;
    match existing {
        Some(id) => tx.execute(
            "UPDATE outbox SET value = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, visible, now],
        )?,
        None => tx.execute(
            "INSERT INTO outbox (op, event_id, field, value, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![op, event_id, field_name, visible, now],
        )?,
    };
    Ok(())
}

fn log(
    tx: &Transaction<'_>,
    entry: &Entry,
    closed: Closed,
    detail: Option<&str>,
    now: &str,
) -> Result<()> {
    let op = match entry.op {
        Op::Set => "set",
        Op::Delete => "delete",
    };
    tx.prepare_cached(
        "INSERT INTO outbox_log (outbox_id, op, event_id, field, value, result, detail, closed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        entry.id,
        op,
        entry.event_id,
        entry.field.name(),
        entry.value,
        closed.as_str(),
        detail,
        now
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::edits::{Edit, apply_edits};
    use crate::store::{Access, Mirror};

    fn mirror_with_event() -> (tempfile::TempDir, Mirror) {
        let dir = tempfile::tempdir().expect("dir");
        let mirror = Mirror::open(&dir.path().join("m.db"), Access::ReadWrite).expect("mirror");
        mirror
            .conn()
            .execute_batch(
                "INSERT INTO mirror_events (id, kind, created_upstream, created_utc, location,
                   location_base, first_seen_at, updated_at, raw_json)
                 VALUES (7, 'call', 'x', '2026-01-01T00:00:00.000Z', 'inbox', 'inbox', 'x', 'x', '{}')",
            )
            .expect("event");
        (dir, mirror)
    }

    #[test]
    fn an_undo_that_comes_after_the_delete_reached_upstream_shows_the_trash() {
        let (_dir, mut mirror) = mirror_with_event();
        apply_edits(mirror.conn_mut(), &[7], &Edit::Delete).expect("delete");
        let entry = due_entries(mirror.conn(), "9999").expect("due").remove(0);
        // The push sends the DELETE; meanwhile the person moves the event back.
        mirror
            .conn()
            .execute("UPDATE events SET location = 'inbox' WHERE id = 7", [])
            .expect("undo");
        let tx = mirror
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .expect("tx");
        settle(&tx, &entry, "trash", Closed::Pushed, None, "now").expect("settle");
        tx.commit().expect("commit");
        let (location, waiting, detail): (String, i64, Option<String>) = mirror
            .conn()
            .query_row(
                "SELECT location, (SELECT count(*) FROM outbox),
                        (SELECT detail FROM outbox_log ORDER BY id DESC LIMIT 1)
                 FROM mirror_events WHERE id = 7",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("state");
        assert_eq!((location.as_str(), waiting), ("trash", 0));
        assert!(detail.is_some_and(|d| d.contains("cannot take an event out of the trash")));
    }
}
