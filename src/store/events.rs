//! Writing events into the mirror. One function for all four types: the common columns go to
//! `mirror_events`, the type-specific ones to the table named by the record's [`Detail`].

use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension, Statement, params};

use crate::error::Result;
pub use crate::records::event::{Detail, EndpointRecord, EventRecord};
use crate::timezone::local_wall_time;

/// How a pull changed a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    New,
    Changed,
    Unchanged,
}

/// The main row. A pull always updates the `*_base` columns; it updates a visible column only
/// when no local edit of that field waits in the outbox (a pending delete holds `location`).
/// `archived` is whether upstream files the event in the archive, in both dialects; the note
/// is the classic `comment`.
/// Rows are left alone when upstream sent the same record as last time and the bases agree.
const UPSERT_EVENT: &str = "
INSERT INTO mirror_events (
    id, kind, created_upstream, created_utc, scheduled_upstream, direction, status, comment,
    extension_id, extension_alias, extension_url,
    read, read_base, starred, starred_base, labels, labels_base, location, location_base,
    content_url, modify_url, upstream_state, deleted_upstream_at, first_seen_at, updated_at, raw_json,
    created_local, upstream_id, last_modified_upstream, connection_status, connection_ids, routing_json,
    archived, archived_base, comment_base)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
        ?12, ?12, ?13, ?13, ?14, ?14, ?15, ?15, ?16, ?17, 'present', NULL, ?18, ?18, ?19, ?20,
        ?21, ?22, ?23, ?24, ?25, ?15 IS 'archive', ?15 IS 'archive', ?8)
ON CONFLICT (id) DO UPDATE SET
    upstream_id = excluded.upstream_id,
    last_modified_upstream = excluded.last_modified_upstream,
    connection_status = excluded.connection_status,
    connection_ids = excluded.connection_ids,
    routing_json = excluded.routing_json,
    kind = excluded.kind,
    created_upstream = excluded.created_upstream,
    created_utc = excluded.created_utc,
    created_local = excluded.created_local,
    scheduled_upstream = excluded.scheduled_upstream,
    direction = excluded.direction,
    status = excluded.status,
    comment_base = excluded.comment_base,
    comment = CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = excluded.id
                                AND o.op = 'set' AND o.field = 'note')
                   THEN comment ELSE excluded.comment END,
    extension_id = excluded.extension_id,
    extension_alias = excluded.extension_alias,
    extension_url = excluded.extension_url,
    read_base = excluded.read_base,
    read = CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = excluded.id
                             AND o.op = 'set' AND o.field = 'read')
                THEN read ELSE excluded.read END,
    starred_base = excluded.starred_base,
    starred = CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = excluded.id
                                AND o.op = 'set' AND o.field = 'starred')
                   THEN starred ELSE excluded.starred END,
    labels_base = excluded.labels_base,
    labels = CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = excluded.id
                               AND o.op = 'set' AND o.field = 'labels')
                  THEN labels ELSE excluded.labels END,
    archived_base = excluded.archived_base,
    archived = CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = excluded.id
                                 AND o.op = 'set' AND o.field = 'archived')
                    THEN archived ELSE excluded.archived END,
    location_base = excluded.location_base,
    location = CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = excluded.id
                                 AND (o.op = 'delete' OR (o.op = 'set' AND o.field = 'location')))
                    THEN location ELSE excluded.location END,
    content_url = excluded.content_url,
    modify_url = excluded.modify_url,
    upstream_state = 'present',
    deleted_upstream_at = NULL,
    updated_at = excluded.updated_at,
    raw_json = excluded.raw_json
WHERE mirror_events.raw_json IS NOT excluded.raw_json OR mirror_events.upstream_state <> 'present'
   -- A push moves the bases without touching raw_json; upstream may have moved them back.
   OR mirror_events.read_base IS NOT excluded.read_base
   OR mirror_events.starred_base IS NOT excluded.starred_base
   OR mirror_events.labels_base IS NOT excluded.labels_base
   OR mirror_events.location_base IS NOT excluded.location_base
   OR mirror_events.archived_base IS NOT excluded.archived_base
   OR mirror_events.comment_base IS NOT excluded.comment_base";

/// Writes the events of one transaction; call [`EventWriter::finish`] before the commit. The
/// long statements are prepared once per transaction rather than looked up in the statement
/// cache for every row (hashing a 2 KB statement per event costs more than inserting it).
pub struct EventWriter<'c> {
    conn: &'c Connection,
    upsert: Statement<'c>,
    insert_endpoint: Statement<'c>,
    now: String,
    timezone: Tz,
    /// New SMS and voicemails, for the message search (see [`EventWriter::finish`]).
    new_sms: Vec<i64>,
    new_voicemails: Vec<i64>,
}

impl<'c> EventWriter<'c> {
    /// `timezone` is the zone of `created_local` (see [`localize_times`]).
    pub fn new(conn: &'c Connection, now: &str, timezone: Tz) -> Result<EventWriter<'c>> {
        Ok(EventWriter {
            conn,
            upsert: conn.prepare(UPSERT_EVENT)?,
            insert_endpoint: conn.prepare(
                "INSERT INTO mirror_event_endpoints
                   (event_id, role, position, number_e164, number_pretty, contact_fn, contact_url, number_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?,
            now: now.to_string(),
            timezone,
            new_sms: Vec::new(),
            new_voicemails: Vec::new(),
        })
    }

    /// Adds the texts of the new messages to `search_messages`, in one statement per table:
    /// FTS5 writes out its pending entries after every statement that touches it, so one
    /// insert per message would leave one tiny index segment per message.
    pub fn finish(self) -> Result<()> {
        for (ids, fill) in [
            (
                &self.new_sms,
                "SELECT event_id, text FROM mirror_sms WHERE text IS NOT NULL",
            ),
            (
                &self.new_voicemails,
                "SELECT event_id, transcription FROM mirror_voicemails WHERE transcription IS NOT NULL",
            ),
        ] {
            if ids.is_empty() {
                continue;
            }
            let ids = format!(
                "[{}]",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            );
            self.conn
                .prepare_cached(&format!(
                    "INSERT INTO search_messages (rowid, text) {fill}
                       AND event_id IN (SELECT value FROM json_each(?1))"
                ))?
                .execute([ids])?;
        }
        Ok(())
    }

    /// Stores one event. Rows whose raw JSON is unchanged are not touched at all.
    ///
    /// Whether the row is new is read from SQLite's last inserted rowid, which an insert sets
    /// to the event's id and an upsert that updates leaves alone. When it holds the event's id
    /// already (the same event written just before, or another table's row of that number),
    /// that tells nothing, and the row is looked up first. The statement once said it with
    /// `RETURNING`, which costs each execution a temporary table and a statement journal:
    /// about a third of this statement's time, 8% of the writing thread's on a first sync.
    pub fn upsert(&mut self, e: &EventRecord) -> Result<Upserted> {
        let inserted_before = self.conn.last_insert_rowid();
        let existed = if inserted_before == e.id {
            Some(self.exists(e.id)?)
        } else {
            None
        };
        let written = self.upsert.execute(params![
            e.id,
            e.kind,
            e.created_upstream,
            e.created_utc,
            e.scheduled_upstream,
            e.direction,
            e.status,
            e.comment,
            e.extension_id,
            e.extension_alias,
            e.extension_url,
            e.read,
            e.starred,
            e.labels,
            e.location,
            e.content_url,
            e.modify_url,
            self.now,
            e.raw_json,
            local_wall_time(&e.created_utc, self.timezone),
            e.upstream_id,
            e.last_modified,
            e.connection_status,
            e.connection_ids,
            e.routing_json,
        ])?;
        if written == 0 {
            return Ok(Upserted::Unchanged);
        }
        let new = match existed {
            Some(existed) => !existed,
            None => self.conn.last_insert_rowid() == e.id,
        };
        let outcome = if new {
            Upserted::New
        } else {
            Upserted::Changed
        };
        if outcome == Upserted::Changed {
            self.conn
                .prepare_cached("DELETE FROM mirror_event_endpoints WHERE event_id = ?1")?
                .execute([e.id])?;
        }
        let mut positions = [0i64; 2];
        for ep in &e.endpoints {
            let slot = usize::from(ep.role == "target");
            self.insert_endpoint.execute(params![
                e.id,
                ep.role,
                positions[slot],
                ep.number_e164,
                ep.number_pretty,
                ep.contact_fn,
                ep.contact_url,
                ep.number_key
            ])?;
            positions[slot] += 1;
        }
        write_detail(self.conn, e.id, &e.detail, outcome == Upserted::Changed)?;
        let pending = match e.detail {
            Detail::Sms { .. } => Some(&mut self.new_sms),
            Detail::Voicemail { .. } => Some(&mut self.new_voicemails),
            Detail::Call { .. } | Detail::Fax { .. } => None,
        };
        if let Some(pending) = pending {
            if outcome == Upserted::New {
                pending.push(e.id);
            } else if pending.contains(&e.id) {
                // New in this transaction and changed since: the text's update trigger may
                // have indexed it already, and `finish` indexes it from the final text.
                self.conn
                    .prepare_cached("DELETE FROM search_messages WHERE rowid = ?1")?
                    .execute([e.id])?;
            }
        }
        Ok(outcome)
    }

    fn exists(&self, id: i64) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM mirror_events WHERE id = ?1)")?
            .query_row([id], |row| row.get(0))?)
    }
}

fn write_detail(conn: &Connection, id: i64, detail: &Detail, replace_children: bool) -> Result<()> {
    match detail {
        Detail::Call {
            duration_s,
            recordings,
            call_status,
        } => {
            conn.prepare_cached(
                "INSERT INTO mirror_calls (event_id, duration_s, call_status) VALUES (?1, ?2, ?3)
                 ON CONFLICT (event_id) DO UPDATE SET duration_s = excluded.duration_s,
                   call_status = excluded.call_status",
            )?
            .execute(params![id, duration_s, call_status])?;
            if replace_children {
                conn.prepare_cached("DELETE FROM mirror_call_recordings WHERE event_id = ?1")?
                    .execute([id])?;
            }
            let mut insert = conn.prepare_cached(
                "INSERT INTO mirror_call_recordings (event_id, position, url) VALUES (?1, ?2, ?3)",
            )?;
            for (position, url) in recordings.iter().enumerate() {
                insert.execute(params![id, position as i64, url])?;
            }
        }
        Detail::Fax {
            page_count,
            sent,
            content_url,
            fail_reason,
            pages,
            status_type,
            report_url,
        } => {
            conn.prepare_cached(
                "INSERT INTO mirror_faxes (event_id, page_count, sent_upstream, content_url, fail_reason,
                   status_type, report_url)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (event_id) DO UPDATE SET page_count = excluded.page_count,
                   sent_upstream = excluded.sent_upstream, content_url = excluded.content_url,
                   fail_reason = excluded.fail_reason, status_type = excluded.status_type,
                   report_url = excluded.report_url",
            )?
            .execute(params![id, page_count, sent, content_url, fail_reason, status_type, report_url])?;
            if replace_children {
                conn.prepare_cached("DELETE FROM mirror_fax_pages WHERE event_id = ?1")?
                    .execute([id])?;
            }
            let mut insert = conn.prepare_cached(
                "INSERT INTO mirror_fax_pages (event_id, page_number, small_url, big_url) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (event_id, page_number) DO UPDATE SET small_url = excluded.small_url, big_url = excluded.big_url",
            )?;
            for (page, small, big) in pages {
                insert.execute(params![id, page, small, big])?;
            }
        }
        Detail::Sms { sent, text } => {
            conn.prepare_cached(
                "INSERT INTO mirror_sms (event_id, sent_upstream, text) VALUES (?1, ?2, ?3)
                 ON CONFLICT (event_id) DO UPDATE SET sent_upstream = excluded.sent_upstream, text = excluded.text",
            )?
            .execute(params![id, sent, text])?;
        }
        Detail::Voicemail {
            duration_s,
            caller,
            content_url,
            transcription,
        } => {
            conn.prepare_cached(
                "INSERT INTO mirror_voicemails (event_id, duration_s, caller, content_url, transcription)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (event_id) DO UPDATE SET duration_s = excluded.duration_s, caller = excluded.caller,
                   content_url = excluded.content_url, transcription = excluded.transcription",
            )?
            .execute(params![id, duration_s, caller, content_url, transcription])?;
        }
    }
    Ok(())
}

/// The mirror's integer key for an upstream id. An id of digits that fits is that number (every
/// classic id and every v2 id seen so far); any other id gets a stable negative number derived
/// from its text (64-bit FNV-1a), and the caller keeps the text in `upstream_id`. Returns the
/// key and whether the text must be kept.
pub fn event_key(upstream_id: &str) -> (i64, bool) {
    let canonical = !upstream_id.is_empty()
        && upstream_id.bytes().all(|b| b.is_ascii_digit())
        && (upstream_id == "0" || !upstream_id.starts_with('0'));
    if canonical && let Ok(id) = upstream_id.parse::<i64>() {
        return (id, false);
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in upstream_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // Negative and never 0: upstream's own numbers are positive.
    (-((hash >> 1) as i64) - 1, true)
}

/// The newest `created_utc` of one kind, the anchor of the lookback window.
pub fn newest_created(conn: &Connection, kind: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT max(created_utc) FROM mirror_events WHERE kind = ?1")?
        .query_row([kind], |row| row.get(0))?)
}

/// Both halves read only an index; filtering on `upstream_state` directly would read every row
/// of the table (two kilobytes each) to find the few marked deleted. `INDEXED BY`, because on a
/// small table SQLite would rather scan it than use the partial index.
const PRESENT_IDS: &str = "SELECT id FROM mirror_events WHERE kind = ?1 AND created_utc < ?2
    EXCEPT SELECT id FROM mirror_events INDEXED BY mirror_events_deleted
           WHERE upstream_state <> 'present'";

/// The ids upstream knows for the given mirror ids (v2's text ids, or the number).
pub fn upstream_ids(conn: &Connection, ids: &[i64]) -> Result<Vec<String>> {
    let mut statement = conn.prepare_cached(
        "SELECT coalesce(upstream_id, CAST(id AS TEXT)) FROM mirror_events WHERE id = ?1",
    )?;
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        found.push(statement.query_row([id], |row| row.get(0))?);
    }
    Ok(found)
}

/// Ids of events of `kind` present in the mirror and created before `before_utc`.
pub fn present_ids(conn: &Connection, kind: &str, before_utc: &str) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(PRESENT_IDS)?;
    let ids = stmt
        .query_map(params![kind, before_utc], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// Marks events as deleted upstream (never removes them).
pub fn mark_deleted(conn: &Connection, ids: &[i64], now: &str) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE mirror_events SET upstream_state = 'deleted', deleted_upstream_at = ?2, updated_at = ?2
         WHERE id = ?1 AND upstream_state = 'present'",
    )?;
    for id in ids {
        stmt.execute(params![id, now])?;
    }
    Ok(())
}

/// Makes `created_local` agree with `timezone`. Every event the sync writes gets its local
/// time at once, so only a change of zone (or the first sync after the upgrade that added the
/// column, when no zone is recorded yet) rewrites them all, in one transaction. Returns how many
/// rows were written; on an unchanged zone it costs one lookup.
pub fn localize_times(conn: &mut Connection, timezone: Tz) -> Result<u64> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT value FROM sync_meta WHERE key = 'timezone'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if stored.as_deref() == Some(timezone.name()) {
        return Ok(0);
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut written = 0;
    {
        let mut select = tx.prepare("SELECT id, created_utc FROM mirror_events")?;
        let mut update = tx.prepare("UPDATE mirror_events SET created_local = ?2 WHERE id = ?1")?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let utc: String = row.get(1)?;
            update.execute(params![id, local_wall_time(&utc, timezone)])?;
            written += 1;
        }
    }
    tx.execute(
        "INSERT INTO sync_meta (key, value) VALUES ('timezone', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [timezone.name()],
    )?;
    crate::crashpoint::commit(tx, "store:localize_times")?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Access, Mirror, query_plan};

    fn sms(id: i64, text: &str) -> EventRecord {
        EventRecord {
            id,
            upstream_id: None,
            last_modified: None,
            connection_status: None,
            connection_ids: None,
            routing_json: None,
            kind: "sms",
            created_upstream: "2026-11-30T10:00:00Z".into(),
            created_utc: "2026-11-30T10:00:00.000Z".into(),
            scheduled_upstream: None,
            direction: Some("incoming".into()),
            status: None,
            comment: None,
            extension_id: None,
            extension_alias: None,
            extension_url: None,
            read: false,
            starred: false,
            labels: String::new(),
            location: Some("inbox".into()),
            content_url: None,
            modify_url: None,
            endpoints: ["source", "target"]
                .into_iter()
                .map(|role| EndpointRecord {
                    role,
                    number_e164: Some("+4930123".into()),
                    number_pretty: None,
                    contact_fn: None,
                    contact_url: None,
                    number_key: Some("4930123".into()),
                })
                .collect(),
            detail: Detail::Sms {
                sent: None,
                text: Some(text.into()),
            },
            raw_json: format!("{{\"id\":\"{id}\",\"text\":\"{text}\"}}"),
        }
    }

    /// A listing that moves while it pages can hand the same event over twice in one run, and
    /// upstream may have changed it in between: the second copy is a change of the row the
    /// first one created, in the same transaction or a later one, whatever was written between.
    #[test]
    fn an_event_seen_twice_in_one_run_is_new_once_then_changed() {
        let dir = tempfile::tempdir().expect("dir");
        let mut mirror = Mirror::open(&dir.path().join("m.db"), Access::ReadWrite).expect("mirror");
        let now = "2026-12-01T00:00:00.000Z";
        let tz = chrono_tz::Tz::UTC;
        let tx = mirror.conn_mut().transaction().expect("tx");
        let mut writer = EventWriter::new(&tx, now, tz).expect("writer");
        assert_eq!(writer.upsert(&sms(5, "one")).expect("first"), Upserted::New);
        assert_eq!(
            writer.upsert(&sms(5, "one")).expect("same"),
            Upserted::Unchanged
        );
        assert_eq!(
            writer.upsert(&sms(5, "two")).expect("changed"),
            Upserted::Changed
        );
        assert_eq!(writer.upsert(&sms(6, "six")).expect("other"), Upserted::New);
        assert_eq!(
            writer.upsert(&sms(5, "four")).expect("later"),
            Upserted::Changed
        );
        writer.finish().expect("finish");
        tx.commit().expect("commit");
        // A later transaction of the same run, after a row of another table took id 5.
        let tx = mirror.conn_mut().transaction().expect("tx");
        tx.execute_batch(
            "CREATE TABLE scratch (id INTEGER PRIMARY KEY); INSERT INTO scratch VALUES (5);",
        )
        .expect("scratch");
        let mut writer = EventWriter::new(&tx, now, tz).expect("writer");
        assert_eq!(
            writer.upsert(&sms(5, "three")).expect("again"),
            Upserted::Changed
        );
        assert_eq!(writer.upsert(&sms(7, "seven")).expect("new"), Upserted::New);
        writer.finish().expect("finish");
        tx.commit().expect("commit");
        let conn = mirror.conn();
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
        assert_eq!(count("SELECT count(*) FROM mirror_events"), 3);
        assert_eq!(count("SELECT count(*) FROM mirror_event_endpoints"), 6);
        assert_eq!(
            conn.query_row("SELECT text FROM mirror_sms WHERE event_id = 5", [], |r| {
                r.get::<_, String>(0)
            })
            .expect("text"),
            "three"
        );
        assert_eq!(
            count("SELECT count(*) FROM search_messages WHERE search_messages MATCH 'three'"),
            1
        );
        assert_eq!(count("SELECT count(*) FROM search_messages"), 3);
    }

    #[test]
    fn listing_the_present_events_reads_no_table_rows() {
        let dir = tempfile::tempdir().expect("dir");
        let mirror = Mirror::open(&dir.path().join("m.db"), Access::ReadWrite).expect("mirror");
        let plan = query_plan(mirror.conn(), PRESENT_IDS);
        let reads: Vec<&String> = plan
            .iter()
            .filter(|l| l.contains("mirror_events"))
            .collect();
        assert_eq!(reads.len(), 2, "{plan:?}");
        assert!(
            reads.iter().all(|l| l.contains("COVERING INDEX")),
            "{plan:?}"
        );
    }
}
