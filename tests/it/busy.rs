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
    // Upstream relabels the events that will be edited, so the pull below rewrites their rows
    // while the edits wait: a pull that clobbered an edit would show here.
    for id in &ids {
        s.control(
            "PATCH",
            &format!("/_emulator/events/{id}"),
            Some(serde_json::json!({ "labels": "relabelled" })),
        );
    }
    // Twenty thousand new events upstream: the next sync writes for a while.
    s.control(
        "POST",
        "/_emulator/events",
        Some(serde_json::json!({"type": "calls", "count": 20_000})),
    );
    // The sync stops once it has started, until the test lets it go on: the first half of the
    // edits is made while it certainly runs, the second half while it writes.
    let pause = s.home.path().join("paused");
    let mut sync = s
        .std_cmd(&["sync", "--no-push", "--full"])
        .env("SIPMIRROR_CRASH_AT", "pause:sync:started")
        .env("SIPMIRROR_PAUSE_FILE", &pause)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sync");
    common::wait_for_pause(&pause, &mut sync);
    let mut longest = Duration::ZERO;
    let mut expected = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if i == ids.len() / 2 {
            std::fs::remove_file(&pause).expect("let the sync go on");
        }
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
            expected.push(("starred", true));
        } else {
            let conn = person(&s);
            let read: bool = conn
                .query_row("SELECT read FROM events WHERE id = ?1", [id], |r| r.get(0))
                .expect("read");
            conn.execute("UPDATE events SET read = ?2 WHERE id = ?1", (id, !read))
                .expect("a person's UPDATE waits and goes through");
            expected.push(("read", !read));
        }
        longest = longest.max(started.elapsed());
        if i < ids.len() / 2 {
            assert!(
                sync.try_wait().expect("sync").is_none(),
                "the sync is paused, so edit {i} overlapped it"
            );
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
    eprintln!(
        "busy: 20 of 40 edits made while the sync was paused mid-run; longest wait {longest:?}"
    );
    // The pull rewrote every edited row (the new labels are there) and kept every edit.
    for (id, (field, value)) in ids.iter().zip(&expected) {
        let (labels, shown): (String, bool) = s
            .db()
            .query_row(
                &format!("SELECT labels, {field} FROM events WHERE id = ?1"),
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("event");
        assert_eq!(labels, "relabelled", "event {id} was pulled again");
        assert_eq!(shown, *value, "event {id} {field} after the pull");
    }
    // The next push sends them all.
    s.cmd(&["push"]).assert().success();
    let pending: i64 = s
        .db()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .expect("outbox");
    assert_eq!(pending, 0);
    for (id, (field, value)) in ids.iter().zip(&expected) {
        let upstream = s.upstream_event(*id);
        assert_eq!(
            upstream[field]["value"].as_bool(),
            Some(*value),
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
    let runs_before: i64 = s
        .db()
        .query_row("SELECT count(*) FROM sync_runs", [], |r| r.get(0))
        .expect("runs");
    // Whichever of the two takes the writer lock second says whom it waits for: from then on
    // both are known to be waiting, the first for the open transaction.
    let (lines, said) = std::sync::mpsc::channel();
    let start = |args: &[&str]| {
        let mut child = spawn(args);
        let stderr = child.stderr.take().expect("stderr");
        let lines = lines.clone();
        let reader = std::thread::spawn(move || {
            use std::io::BufRead;
            let mut all = String::new();
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = lines.send(line.clone());
                all += &line;
                all += "\n";
            }
            all
        });
        (child, reader)
    };
    let (mut sync, sync_reader) = start(&["sync", "--no-push", "--wait"]);
    let (mut push, push_reader) = start(&["push", "--wait"]);
    let waiting = said
        .recv_timeout(Duration::from_secs(60))
        .expect("the second run says whom it waits for");
    assert!(
        waiting.contains("waiting for another sipmirror run"),
        "{waiting}"
    );
    assert!(sync.try_wait().expect("sync").is_none(), "the sync waits");
    assert!(push.try_wait().expect("push").is_none(), "the push waits");
    let runs_now: i64 = s
        .db()
        .query_row("SELECT count(*) FROM sync_runs", [], |r| r.get(0))
        .expect("runs");
    assert_eq!(runs_now, runs_before, "the sync has written nothing yet");
    holder.execute_batch("COMMIT").expect("commit");
    for (what, child, reader) in [
        ("sync", &mut sync, sync_reader),
        ("push", &mut push, push_reader),
    ] {
        let status = child.wait().expect("wait");
        let stderr = reader.join().expect("reader");
        assert!(status.success(), "{what}: {stderr}");
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

/// Every command that reads or changes a mirror, with arguments it would take.
const NEEDS_A_MIRROR: &[&[&str]] = &[
    &["status"],
    &["push"],
    &["sql", "SELECT 1"],
    &["query", "calls_per_day"],
    &["export", "vcard", "--out", "cards"],
    &["export", "snom", "--out", "snom.xml"],
    &["media", "path", "100000001"],
    &["event", "read", "100000001"],
    &["event", "label", "100000001", "x"],
    &["outbox", "list"],
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
    &["settings", "dnd", "e0", "on"],
];

/// Servers that read the mirror: they must refuse to start without one.
const SERVERS_NEEDING_A_MIRROR: &[&[&str]] = &[
    &["serve-phonebook", "--listen", "127.0.0.1:0"],
    &["webhook", "--listen", "127.0.0.1:0", "--no-key"],
];

/// Waits for `child` to end by itself, at most a minute: a server that does not refuse would
/// run for ever, and the test fails instead of hanging.
fn exit_status(mut child: std::process::Child, what: &str) -> std::process::ExitStatus {
    for _ in 0..600 {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("{what} started without a mirror");
}

#[test]
fn only_sync_and_init_create_a_mirror() {
    for dialect in common::BOTH {
        // Credentials and a reachable upstream: nothing fails before the mirror is looked at.
        let s = Synced::start(20, 3);
        for args in NEEDS_A_MIRROR {
            let output = dialect
                .std_cmd(&s, args)
                .current_dir(s.home.path())
                .output()
                .expect("run");
            assert!(
                !s.home.db().exists(),
                "{dialect:?} {args:?} created a mirror"
            );
            if args[0] != "settings" {
                assert!(!output.status.success(), "{dialect:?} {args:?}");
                one_line_stderr(&output);
            }
        }
        for args in SERVERS_NEEDING_A_MIRROR {
            let child = dialect
                .std_cmd(&s, args)
                .current_dir(s.home.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("spawn");
            let status = exit_status(child, &format!("{dialect:?} {args:?}"));
            assert!(!status.success(), "{dialect:?} {args:?}");
            assert!(
                !s.home.db().exists(),
                "{dialect:?} {args:?} created a mirror"
            );
        }
        dialect.sync_ok(&s, &[]);
        assert!(s.home.db().exists(), "{dialect:?}: sync creates the mirror");
    }
    let home = TestHome::new();
    home.run(&["init"]).assert().success();
    assert!(home.db().exists());
}
