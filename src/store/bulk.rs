//! The first sync's bulk load: an index that takes its entries in random order is built once
//! after the load rather than entry by entry during it.
//!
//! The sync writes events in id order, so the table and the indexes on time grow at their
//! ends; the index on the endpoints' numbers does not (numbers come in any order), and every
//! row it takes lands on a page somewhere in its middle. On a first sync of 200,000 events that
//! index alone cost a fifth of the time; `CREATE INDEX` afterwards sorts the same entries in a
//! fraction of it. Only a mirror with no events yet is loaded this way: on one that has some,
//! readers rely on the index and an incremental sync writes few rows.
//!
//! A run killed during the load leaves the index missing. Nothing is wrong with the data, and
//! every writable open builds the missing index again ([`restore`]) before anything else runs.

use rusqlite::Connection;

use crate::error::Result;

/// The indexes built after a bulk load, as the schema defines them (a test holds this to the
/// migrations: a migration that changes one of these indexes must change it here too).
const DEFERRED_INDEXES: &[(&str, &str)] = &[(
    "mirror_event_endpoints_number",
    "CREATE INDEX mirror_event_endpoints_number ON mirror_event_endpoints (number_key, role)",
)];

/// Drops the deferred indexes when the mirror holds no events yet. Returns whether it did, so
/// the caller knows to [`finish`].
pub fn begin(conn: &Connection) -> Result<bool> {
    let empty: bool = conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM mirror_events)",
        [],
        |row| row.get(0),
    )?;
    if !empty {
        return Ok(false);
    }
    let drops: String = DEFERRED_INDEXES
        .iter()
        .map(|(name, _)| format!("DROP INDEX IF EXISTS {name};"))
        .collect();
    conn.execute_batch(&format!("BEGIN IMMEDIATE; {drops} COMMIT;"))?;
    tracing::debug!("first sync: the endpoints' number index is built after the load");
    Ok(true)
}

/// Builds the deferred indexes after a bulk load.
pub fn finish(conn: &Connection) -> Result<()> {
    restore(conn)
}

/// Builds whichever deferred index is missing (after a bulk load, or after a run killed
/// during one). Costs one look at the schema when none is.
pub fn restore(conn: &Connection) -> Result<()> {
    for (name, create) in DEFERRED_INDEXES {
        let present: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1)",
            [name],
            |row| row.get(0),
        )?;
        if !present {
            tracing::info!(index = name, "building an index");
            build(conn, create)?;
        }
    }
    Ok(())
}

/// Runs an index's `CREATE INDEX` so that it also succeeds when the index exists: another
/// process opening the mirror (an edit verb during a first sync) may have built it between
/// the look at the schema and now. SQLite keeps the statement without `IF NOT EXISTS` in the
/// schema, so the index is the schema's own either way.
fn build(conn: &Connection, create: &str) -> Result<()> {
    let create = create.replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1);
    conn.execute_batch(&create)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Access, Mirror};

    fn index_sql(conn: &Connection, name: &str) -> Option<String> {
        conn.query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
            [name],
            |row| row.get(0),
        )
        .ok()
    }

    #[test]
    fn the_deferred_indexes_are_the_schemas_own() {
        let dir = tempfile::tempdir().expect("dir");
        let mirror = Mirror::open(&dir.path().join("m.db"), Access::ReadWrite).expect("mirror");
        for (name, create) in DEFERRED_INDEXES {
            assert_eq!(
                index_sql(mirror.conn(), name).as_deref(),
                Some(*create),
                "{name}"
            );
        }
    }

    #[test]
    fn an_index_built_meanwhile_by_another_process_is_no_error() {
        let dir = tempfile::tempdir().expect("dir");
        let mirror = Mirror::open(&dir.path().join("m.db"), Access::ReadWrite).expect("mirror");
        let (name, create) = DEFERRED_INDEXES[0];
        build(mirror.conn(), create).expect("build over the existing index");
        assert_eq!(index_sql(mirror.conn(), name).as_deref(), Some(create));
        mirror
            .conn()
            .execute_batch(&format!("DROP INDEX {name}"))
            .expect("drop");
        build(mirror.conn(), create).expect("build");
        assert_eq!(index_sql(mirror.conn(), name).as_deref(), Some(create));
    }

    #[test]
    fn an_empty_mirror_loses_the_indexes_until_finished_and_a_full_one_keeps_them() {
        let dir = tempfile::tempdir().expect("dir");
        let mirror = Mirror::open(&dir.path().join("m.db"), Access::ReadWrite).expect("mirror");
        let conn = mirror.conn();
        let (name, create) = DEFERRED_INDEXES[0];
        assert!(begin(conn).expect("begin"));
        assert_eq!(index_sql(conn, name), None);
        finish(conn).expect("finish");
        assert_eq!(index_sql(conn, name).as_deref(), Some(create));

        conn.execute(
            "INSERT INTO mirror_events (id, kind, created_upstream, created_utc, first_seen_at, updated_at, raw_json)
             VALUES (1, 'call', 'x', 'x', 'x', 'x', '{}')",
            [],
        )
        .expect("an event");
        assert!(!begin(conn).expect("begin"));
        assert_eq!(index_sql(conn, name).as_deref(), Some(create));
    }
}
