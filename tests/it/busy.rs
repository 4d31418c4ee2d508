//! Writers take turns: local edits (the CLI's and a person's in `sqlite3`) made while a sync
//! writes wait for their turn and reach upstream; a sync and a push wait for a person's open
//! write transaction; a writer kept out past its bound says so in one line; and only `sync`
//! and `init` create a mirror file.

use crate::common;

use std::time::{Duration, Instant};

use common::{Synced, TestHome, one_line_stderr};

/// `n` present, not trashed events, oldest first.
fn event_ids(s: &Synced, n: usize) -> Vec<i64> {
    let db = s.db();
    let mut stmt = db
        .prepare(
            "SELECT id FROM mirror_events WHERE location_base <> 'trash'
             AND upstream_state = 'present' ORDER BY id LIMIT ?1",
        )
        .expect("prepare");
    stmt.query_map([n as i64], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("ids")
}

/// A connection like `sqlite3 -cmd '.timeout 5000'`.
fn person(s: &Synced) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(s.home.db()).expect("open");
    conn.busy_timeout(Duration::from_secs(5)).expect("timeout");
    conn
}

#[test]
fn edits_made_while_a_sync_writes_wait_their_turn_and_reach_upstream() {
    let s = Synced::start(2000, 20);
    s.sync_ok(&[]);
    let ids = event_ids(&s, 40);
    // Twenty thousand new events upstream: the next sync writes for a while.
    s.control(
        "POST",
        "/_emulator/events",
        Some(serde_json::json!({"type": "calls", "count": 20_000})),
    );
    let mut sync = s
        .std_cmd(&["sync", "--no-push"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sync");
    let mut longest = Duration::ZERO;
    let mut during = 0;
    for (i, id) in ids.iter().enumerate() {
        let started = Instant::now();
        if i % 2 == 0 {
            let output = s
                .cmd(&["event", "star", &id.to_string()])
                .output()
                .expect("edit");
            assert!(
                output.status.success(),
                "event star {id}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        } else {
            person(&s)
                .execute("UPDATE events SET read = 1 - read WHERE id = ?1", [id])
                .expect("a person's UPDATE waits and goes through");
        }
        longest = longest.max(started.elapsed());
        if sync.try_wait().expect("sync").is_none() {
            during += 1;
        }
        // Each edit is visible at once and waits in the outbox.
        let waiting: i64 = s
            .db()
            .query_row(
                "SELECT count(*) FROM outbox WHERE event_id = ?1",
                [id],
                |r| r.get(0),
            )
            .expect("outbox");
        assert_eq!(waiting, 1, "event {id}");
    }
    let status = sync.wait().expect("sync");
    assert!(status.success(), "the sync was not disturbed");
    eprintln!("busy: {during} of 40 edits made while the sync ran; longest wait {longest:?}");
    // The pull did not clobber them, and the next push sends them all.
    s.cmd(&["push"]).assert().success();
    let pending: i64 = s
        .db()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .expect("outbox");
    assert_eq!(pending, 0);
    for (i, id) in ids.iter().enumerate() {
        let upstream = s.upstream_event(*id);
        let (field, local): (&str, bool) = if i % 2 == 0 {
            ("starred", true)
        } else {
            let read: bool = s
                .db()
                .query_row("SELECT read FROM events WHERE id = ?1", [id], |r| r.get(0))
                .expect("read");
            ("read", read)
        };
        assert_eq!(
            upstream[field]["value"].as_bool(),
            Some(local),
            "event {id} {field}"
        );
    }
}

#[test]
fn a_sync_and_a_push_wait_for_an_open_write_transaction() {
    let s = Synced::start(300, 10);
    s.sync_ok(&[]);
    let id = event_ids(&s, 1)[0];
    s.cmd(&["event", "star", &id.to_string()])
        .assert()
        .success();
    let holder = person(&s);
    holder.execute_batch("BEGIN IMMEDIATE").expect("begin");
    holder
        .execute("UPDATE events SET read = 1 WHERE id = ?1", [id])
        .expect("update");
    // Both start while the transaction is open; the push waits for the sync's lock too.
    let spawn = |args: &[&str]| {
        s.std_cmd(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let sync = spawn(&["sync", "--no-push", "--wait"]);
    let push = spawn(&["push", "--wait"]);
    std::thread::sleep(Duration::from_secs(2));
    holder.execute_batch("COMMIT").expect("commit");
    for (what, child) in [("sync", sync), ("push", push)] {
        let output = child.wait_with_output().expect("wait");
        assert!(
            output.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let upstream = s.upstream_event(id);
    assert_eq!(upstream["starred"]["value"].as_bool(), Some(true));
    // The person's edit was committed while the push ran: it is upstream, or waits for the
    // next push, and shows either way.
    let (read, waiting): (bool, i64) = s
        .db()
        .query_row(
            "SELECT read, (SELECT count(*) FROM outbox WHERE event_id = ?1 AND field = 'read')
             FROM events WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("state");
    assert!(read);
    assert!(waiting == 1 || upstream["read"]["value"].as_bool() == Some(true));
}

#[test]
fn a_writer_kept_out_past_its_bound_says_so_in_one_line() {
    let s = Synced::start(100, 5);
    s.sync_ok(&[]);
    let id = event_ids(&s, 1)[0];
    let holder = person(&s);
    holder.execute_batch("BEGIN IMMEDIATE").expect("begin");
    let output = s
        .cmd(&["event", "star", &id.to_string()])
        .output()
        .expect("edit");
    holder.execute_batch("ROLLBACK").expect("rollback");
    assert_eq!(output.status.code(), Some(4));
    let line = one_line_stderr(&output);
    assert!(
        line.contains("locked") && !line.contains("database error"),
        "{line}"
    );
}

#[test]
fn only_sync_and_init_create_a_mirror() {
    let home = TestHome::new();
    for args in [
        &["sync"][..],
        &["push"],
        &["event", "read", "100000001"],
        &["event", "label", "100000001", "x"],
        &["outbox", "retry", "--all"],
        &["outbox", "drop", "1"],
        &[
            "send",
            "sms",
            "--to",
            "+4915799912345",
            "--text",
            "hi",
            "--queue-only",
        ],
    ] {
        let output = home.run(args).output().expect("run");
        assert!(!output.status.success(), "{args:?}");
        one_line_stderr(&output);
        assert!(!home.db().exists(), "{args:?} created a mirror");
    }
    home.run(&["init"]).assert().success();
    assert!(home.db().exists());
}
