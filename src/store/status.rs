//! What `sipmirror status` reports: record counts, recent runs, the outbox, the schema version.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use super::{LockHolder, Mirror, WriterLock};
use crate::error::Result;

/// Named counts shown first: what a person (or a monitoring script) asks about.
/// Each is (name, SQL returning one integer).
const SUMMARY_COUNTS: &[(&str, &str)] = &[
    (
        "events",
        "SELECT count(*) FROM mirror_events WHERE upstream_state = 'present'",
    ),
    (
        "calls",
        "SELECT count(*) FROM mirror_events WHERE upstream_state = 'present' AND kind = 'call'",
    ),
    (
        "faxes",
        "SELECT count(*) FROM mirror_events WHERE upstream_state = 'present' AND kind = 'fax'",
    ),
    (
        "sms",
        "SELECT count(*) FROM mirror_events WHERE upstream_state = 'present' AND kind = 'sms'",
    ),
    (
        "voicemails",
        "SELECT count(*) FROM mirror_events WHERE upstream_state = 'present' AND kind = 'voicemail'",
    ),
    (
        "events_unread",
        "SELECT count(*) FROM mirror_events WHERE upstream_state = 'present' AND read = 0",
    ),
    (
        "events_deleted_upstream",
        "SELECT count(*) FROM mirror_events WHERE upstream_state = 'deleted'",
    ),
    (
        "contacts",
        "SELECT count(*) FROM mirror_contacts WHERE upstream_state = 'present'",
    ),
    (
        "contacts_deleted_upstream",
        "SELECT count(*) FROM mirror_contacts WHERE upstream_state = 'deleted'",
    ),
    (
        "extensions",
        "SELECT count(*) FROM mirror_extensions WHERE upstream_state = 'present'",
    ),
    ("numbers", "SELECT count(*) FROM mirror_numbers"),
    ("media_files", "SELECT count(*) FROM media_files"),
    (
        "outbox_pending",
        "SELECT count(*) FROM outbox WHERE state IN ('pending', 'in_flight')",
    ),
    (
        "outbox_failed",
        "SELECT count(*) FROM outbox WHERE state = 'failed'",
    ),
];

#[derive(Debug, Serialize)]
pub struct RecentRun {
    pub id: i64,
    pub command: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: String,
    pub requests: i64,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MirrorStatus {
    pub db: String,
    pub size_bytes: u64,
    pub schema_version: i64,
    pub counts: BTreeMap<String, i64>,
    /// The API that feeds the mirror (`v2`, `classic`), once a sync said so.
    pub api: Option<String>,
    /// Rows per public view: what people query.
    pub views: BTreeMap<String, i64>,
    /// Rows per storage table.
    pub tables: BTreeMap<String, i64>,
    pub recent_runs: Vec<RecentRun>,
    pub lock_holder: Option<LockHolder>,
    /// The lock has been held longer than `[sync] stale_after` (set by the caller, which knows
    /// the settings).
    pub lock_stale: bool,
    /// Settings resources the last settings pull did not read: absent (not booked) or stale.
    pub settings_unread: Vec<crate::records::settings::UnreadResource>,
}

impl MirrorStatus {
    pub fn read(mirror: &Mirror, recent: usize) -> Result<MirrorStatus> {
        let conn = mirror.conn();
        let lock_holder = WriterLock::holder(mirror.path());
        let mut recent_runs = recent_runs(conn, recent)?;
        if lock_holder.is_none() {
            // Nobody holds the writer lock, so a run still marked running was killed; the next
            // run records it so, `status` says it already.
            for run in recent_runs.iter_mut().filter(|r| r.outcome == "running") {
                run.outcome = "interrupted".to_string();
            }
        }
        let mut counts = BTreeMap::new();
        for (name, sql) in SUMMARY_COUNTS {
            counts.insert(name.to_string(), count(conn, sql)?);
        }
        Ok(MirrorStatus {
            db: mirror.path().display().to_string(),
            size_bytes: file_size(mirror.path()),
            schema_version: mirror.schema_version()?,
            counts,
            api: match super::runs::switching_to(mirror.conn())? {
                Some(target) => Some(format!(
                    "{} (a switch not finished yet: the next sync continues it)",
                    target.name()
                )),
                None => super::runs::feeding_api(mirror.conn())?.map(|api| api.name().to_string()),
            },
            views: counts_of(conn, "view")?,
            tables: counts_of(conn, "table")?,
            recent_runs,
            lock_holder,
            lock_stale: false,
            settings_unread: crate::store::settings::unread(conn)?,
        })
    }
}

fn count(conn: &Connection, sql: &str) -> Result<i64> {
    Ok(conn.query_row(sql, [], |row| row.get(0))?)
}

fn file_size(path: &std::path::Path) -> u64 {
    let main = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_os_string();
    wal.push("-wal");
    main + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

/// Rows per table or view (`kind`), without SQLite's own, refinery's and the full-text
/// indexes' internal tables.
fn counts_of(conn: &Connection, kind: &str) -> Result<BTreeMap<String, i64>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = ?1
           AND name NOT LIKE 'sqlite_%' AND name <> 'refinery_schema_history'
           AND name NOT LIKE '%_fts%'
           AND name NOT LIKE 'search\\_%\\_%' ESCAPE '\\'
         ORDER BY name",
    )?;
    let names = stmt
        .query_map([kind], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut tables = BTreeMap::new();
    for name in names {
        // Table names come from sqlite_master, not from the user; quoting keeps odd ones safe.
        let sql = format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\""));
        tables.insert(name, count(conn, &sql)?);
    }
    Ok(tables)
}

fn recent_runs(conn: &Connection, limit: usize) -> Result<Vec<RecentRun>> {
    let mut stmt = conn.prepare(
        "SELECT id, command, started_at, finished_at,
                CASE WHEN outcome = 'failed' AND error LIKE 'interrupted%' THEN 'interrupted'
                     ELSE outcome END,
                requests, error
           FROM sync_runs ORDER BY id DESC LIMIT ?1",
    )?;
    let runs = stmt
        .query_map([limit as i64], |row| {
            Ok(RecentRun {
                id: row.get(0)?,
                command: row.get(1)?,
                started_at: row.get(2)?,
                finished_at: row.get(3)?,
                outcome: row.get(4)?,
                requests: row.get(5)?,
                error: row.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(runs)
}
