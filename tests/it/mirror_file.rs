//! Opening the mirror: creation, migrations, the writer lock, and files that must be refused.

use crate::common;

use common::{TestHome, one_line_stderr};
use rusqlite::Connection;
use sipmirror::store::WriterLock;

#[test]
fn init_creates_the_schema_and_is_idempotent() {
    let home = TestHome::new();
    home.run(&["init"])
        .assert()
        .success()
        .stdout(predicates::str::contains(format!(
            "schema version {}",
            sipmirror::store::latest_schema_version()
        )));
    // A row written between runs must survive a second init.
    let conn = Connection::open(home.db()).expect("open");
    conn.execute(
        "INSERT INTO sync_runs (command, started_at) VALUES ('test', '2026-01-01T00:00:00.000Z')",
        [],
    )
    .expect("insert");
    drop(conn);
    home.run(&["init"]).assert().success();
    let conn = Connection::open(home.db()).expect("open");
    let runs: i64 = conn
        .query_row("SELECT count(*) FROM sync_runs", [], |r| r.get(0))
        .expect("count");
    assert_eq!(runs, 1);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal mode");
    assert_eq!(mode, "wal");
    let migrations: i64 = conn
        .query_row("SELECT count(*) FROM refinery_schema_history", [], |r| {
            r.get(0)
        })
        .expect("history");
    assert_eq!(
        migrations,
        sipmirror::store::latest_schema_version(),
        "each migration must be recorded once"
    );
}

#[test]
fn init_creates_missing_directories() {
    let home = TestHome::new();
    let db = home.path().join("a/b/c/m.db");
    home.cmd()
        .arg("--db")
        .arg(&db)
        .arg("init")
        .assert()
        .success();
    assert!(db.exists());
}

#[test]
fn public_view_names_stay_free() {
    let home = TestHome::new();
    home.run(&["init"]).assert().success();
    let conn = Connection::open(home.db()).expect("open");
    for name in [
        "events",
        "calls",
        "faxes",
        "sms",
        "voicemails",
        "contacts",
        "contact_numbers",
    ] {
        let kind: Option<String> = conn
            .query_row(
                "SELECT type FROM sqlite_master WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .ok();
        assert_eq!(
            kind.as_deref(),
            Some("view"),
            "{name} must be a view, not a storage table (and must exist)"
        );
    }
}

#[test]
fn second_writer_gets_exit_code_4_naming_the_holder() {
    let home = TestHome::new();
    home.run(&["init"]).assert().success();
    let _held = WriterLock::acquire(&home.db(), "sync").expect("lock");
    let output = home.run(&["init"]).output().expect("run");
    assert_eq!(output.status.code(), Some(4));
    let stderr = one_line_stderr(&output);
    assert!(
        stderr.contains(&format!("pid {}", std::process::id())),
        "{stderr}"
    );
    assert!(stderr.contains("`sync`"), "{stderr}");
    // Readers are not writers: status still works and names the holder.
    home.run(&["status"])
        .assert()
        .success()
        .stdout(predicates::str::contains("held by pid"));
}

#[test]
fn database_from_a_newer_version_is_refused_and_left_alone() {
    let home = TestHome::new();
    home.run(&["init"]).assert().success();
    let conn = Connection::open(home.db()).expect("open");
    conn.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
         VALUES (999, 'from_the_future', '2030-01-01T00:00:00Z', '0')",
        [],
    )
    .expect("insert");
    drop(conn);
    for cmd in ["init", "status"] {
        let output = home.run(&[cmd]).output().expect("run");
        assert_eq!(output.status.code(), Some(1), "{cmd}");
        let stderr = one_line_stderr(&output);
        assert!(stderr.contains("newer sipmirror"), "{stderr}");
        assert!(stderr.contains("999"), "{stderr}");
    }
    let conn = Connection::open(home.db()).expect("open");
    let max: i64 = conn
        .query_row(
            "SELECT max(version) FROM refinery_schema_history",
            [],
            |r| r.get(0),
        )
        .expect("max");
    assert_eq!(max, 999);
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_untouched() {
    let home = TestHome::new();
    let content = b"these are my notes, not a database\n".repeat(10);
    std::fs::write(home.db(), &content).expect("write");
    for cmd in ["init", "status"] {
        let output = home.run(&[cmd]).output().expect("run");
        assert_eq!(output.status.code(), Some(1));
        assert!(one_line_stderr(&output).contains("not a SQLite database"));
    }
    assert_eq!(std::fs::read(home.db()).expect("read"), content);
    assert!(!home.path().join("mirror.db-wal").exists());
}

#[test]
fn a_foreign_sqlite_database_is_refused_untouched() {
    let home = TestHome::new();
    let conn = Connection::open(home.db()).expect("open");
    conn.execute("CREATE TABLE recipes (name TEXT)", [])
        .expect("create");
    drop(conn);
    let before = std::fs::read(home.db()).expect("read");
    let output = home.run(&["init"]).output().expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(one_line_stderr(&output).contains("not a sipmirror mirror"));
    assert_eq!(std::fs::read(home.db()).expect("read"), before);
}

#[test]
fn a_corrupt_mirror_gives_one_clear_line() {
    let home = TestHome::new();
    home.run(&["init"]).assert().success();
    // Checkpoint the WAL into the main file, then damage the pages after the header page.
    let conn = Connection::open(home.db()).expect("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    conn.pragma_update(None, "journal_mode", "DELETE")
        .expect("no wal");
    drop(conn);
    let mut bytes = std::fs::read(home.db()).expect("read");
    for b in bytes.iter_mut().skip(100) {
        *b = 0xA5;
    }
    std::fs::write(home.db(), &bytes).expect("write");
    for cmd in ["status", "init"] {
        let output = home.run(&[cmd]).output().expect("run");
        assert_ne!(output.status.code(), Some(0), "{cmd} must fail");
        let stderr = one_line_stderr(&output);
        assert!(stderr.contains("mirror.db"), "{stderr}");
    }
}

#[test]
fn status_of_a_missing_mirror_says_how_to_create_it() {
    let home = TestHome::new();
    let output = home.run(&["status"]).output().expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(one_line_stderr(&output).contains("sipmirror init"));
    assert!(!home.db().exists(), "status must not create the mirror");
}

#[test]
fn unusable_db_paths_fail_with_one_line() {
    let home = TestHome::new();
    // A directory where the file should be.
    std::fs::create_dir(home.path().join("dir.db")).expect("mkdir");
    let output = home
        .cmd()
        .args(["--db", "dir.db", "init"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("is a directory"));
    // A parent that is a regular file: the directory cannot be created (even as root).
    std::fs::write(home.path().join("plain"), b"x").expect("write");
    let output = home
        .cmd()
        .args(["--db", "plain/sub/m.db", "init"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(one_line_stderr(&output).contains("cannot create directory"));
}

#[test]
fn a_first_migration_killed_half_way_is_completed_by_the_next_open() {
    // What a kill between refinery creating its history table and committing the schema leaves.
    let home = TestHome::new();
    let conn = Connection::open(home.db()).expect("open");
    conn.execute_batch(
        "CREATE TABLE refinery_schema_history (version INT4 PRIMARY KEY, name VARCHAR(255),
           applied_on VARCHAR(255), checksum VARCHAR(255));",
    )
    .expect("history table");
    drop(conn);
    home.run(&["init"])
        .assert()
        .success()
        .stdout(predicates::str::contains(format!(
            "schema version {}",
            sipmirror::store::latest_schema_version()
        )));
    home.run(&["status"]).assert().success();
}

#[test]
fn a_version_1_mirror_is_upgraded_and_keeps_its_rows() {
    // A mirror as sipmirror 0.1 (schema version 1, before the views) left it, with an SMS.
    let home = TestHome::new();
    sipmirror::store::create_at_schema_version(&home.db(), 1).expect("version 1 mirror");
    let conn = Connection::open(home.db()).expect("open");
    conn.execute_batch(
        "INSERT INTO mirror_events (id, kind, created_upstream, created_utc, read, read_base,
             starred, starred_base, labels, labels_base, location, location_base, first_seen_at,
             updated_at, raw_json)
         VALUES (7, 'sms', '2026-01-01T12:00:00.000+0100', '2026-01-01T11:00:00.000Z', 0, 0, 0, 0,
                 '', '', 'inbox', 'inbox', 'x', 'x', '{}');
         INSERT INTO mirror_sms (event_id, text) VALUES (7, 'Bitte um Rückruf');",
    )
    .expect("old rows");
    drop(conn);
    // Read-only commands ask for the upgrade rather than doing it.
    let output = home.run(&["outbox", "list"]).output().expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(one_line_stderr(&output).contains("run `sipmirror init`"));
    home.run(&["init"]).assert().success();
    let conn = Connection::open(home.db()).expect("open");
    let views: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'view'
             AND name IN ('event_flags', 'events', 'calls', 'faxes', 'sms', 'voicemails', 'contacts', 'contact_numbers')",
            [],
            |r| r.get(0),
        )
        .expect("views");
    assert_eq!(views, 8);
    // The old SMS is in the view (local time from the reader's zone until the next sync) and
    // in the full-text index.
    let (text, local): (String, Option<String>) = conn
        .query_row(
            "SELECT text, created_local FROM sms WHERE id = 7",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("sms");
    assert_eq!(text, "Bitte um Rückruf");
    assert!(local.is_some());
    let hits: i64 = conn
        .query_row(
            "SELECT count(*) FROM search_messages WHERE search_messages MATCH 'ruckruf'",
            [],
            |r| r.get(0),
        )
        .expect("search");
    assert_eq!(hits, 1);
}
