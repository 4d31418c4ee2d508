//! One writer at a time, readers never blocked: a second sync exits 4 at once or waits with
//! `--wait`; readers during a sync see whole pages only; `serve-phonebook` answers while a
//! sync writes, and does not stop a sync.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{Stop, Synced, one_line_stderr, serve};
use serde_json::json;
use sipmirror::store::WriterLock;

#[test]
fn a_second_writer_exits_4_at_once_or_waits_with_wait() {
    let s = Synced::start(300, 10);
    let lock = WriterLock::acquire(&s.home.db(), "the test").expect("lock");
    for command in [&["sync"][..], &["push"]] {
        let output = s.cmd(command).output().expect("run");
        assert_eq!(output.status.code(), Some(4), "{command:?}");
        assert!(
            one_line_stderr(&output).contains("the test"),
            "names the holder"
        );
    }
    let mut waiting = s
        .std_cmd(&["sync", "--wait"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stderr = BufReader::new(waiting.stderr.take().expect("stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("first line");
    assert!(line.contains("waiting for another sipmirror run"), "{line}");
    assert!(line.contains("the test"), "{line}");
    // It cannot have finished: the lock is still ours.
    assert!(waiting.try_wait().expect("poll").is_none());
    drop(lock);
    let status = waiting.wait().expect("wait");
    assert!(
        status.success(),
        "the waiting sync ran once the lock was free"
    );
    let events: i64 = s
        .db()
        .query_row("SELECT count(*) FROM mirror_events", [], |r| r.get(0))
        .expect("count");
    assert_eq!(events, 300);
}

/// What a reader sees in one read transaction: the events of each type, checked to be whole
/// pages with their detail rows. Returns the number of events seen.
fn look(reader: &rusqlite::Connection, totals: &[(String, i64)]) -> i64 {
    // One read transaction: what a `sqlite3` user sees in one statement.
    let tx = reader.unchecked_transaction().expect("read transaction");
    let mut seen = 0;
    for (kind, total) in totals {
        let (events, detail): (i64, i64) = tx
            .query_row(
                &format!(
                    "SELECT (SELECT count(*) FROM mirror_events WHERE kind = ?1),
                            (SELECT count(*) FROM mirror_{})",
                    match kind.as_str() {
                        "call" => "calls",
                        "fax" => "faxes",
                        "sms" => "sms",
                        _ => "voicemails",
                    }
                ),
                [kind],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("counts");
        assert_eq!(events, detail, "{kind}: event rows without their details");
        // Pages are 1000 events; only the last one of a listing is smaller.
        let rest = total % 1000;
        assert!(
            events % 1000 == 0 || events % 1000 == rest,
            "{kind}: {events} of {total} is not a whole number of pages"
        );
        seen += events;
    }
    tx.finish().expect("end read");
    seen
}

#[test]
fn readers_during_a_sync_see_whole_pages_only() {
    // Two states a reader must never see half of, each held by a pause until the reader has
    // looked: the second transaction of pages written but not committed, and committed.
    for point in [
        "sync:events_page:before_commit#2",
        "sync:events_page:committed#2",
    ] {
        let s = Synced::start(7500, 30);
        let totals: Vec<(String, i64)> = common::KINDS
            .iter()
            .map(|(plural, kind)| (kind.to_string(), s.upstream_events(plural).len() as i64))
            .collect();
        let all: i64 = totals.iter().map(|(_, n)| n).sum();
        // The mirror must exist before a reader can open the file.
        s.cmd(&["init"]).assert().success();
        let pause = s.home.path().join("paused");
        let mut sync = s
            .std_cmd(&["sync"])
            .env("SIPMIRROR_CRASH_AT", format!("pause:{point}"))
            .env("SIPMIRROR_PAUSE_FILE", &pause)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        common::wait_for_pause(&pause, &mut sync);
        let reader = s.db();
        let seen = look(&reader, &totals);
        assert!(
            seen > 0 && seen < all,
            "{point}: a mid-run state ({seen} of {all})"
        );
        std::fs::remove_file(&pause).expect("go on");
        // Then as often as it can while the sync writes on.
        while sync.try_wait().expect("poll").is_none() {
            look(&reader, &totals);
        }
        assert!(sync.wait().expect("wait").success(), "{point}");
        assert_eq!(look(&reader, &totals), all, "{point}: complete at the end");
    }
}

#[test]
fn the_phonebook_server_answers_while_the_mirror_is_written() {
    let s = Synced::start(200, 40);
    s.sync_ok(&[]);
    let (child, url) = serve(&s, &[], None);
    let _stop = Stop(child);
    // A writer in the middle of a transaction, as a sync is between its page's first row and
    // its commit, holding the writer lock.
    let lock = WriterLock::acquire(&s.home.db(), "the test").expect("lock");
    let writer = s.db();
    writer
        .execute_batch("BEGIN IMMEDIATE; UPDATE mirror_contacts SET updated_at = updated_at || '';")
        .expect("write transaction");
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("client");
    let response = client.get(format!("{url}/snom.xml")).send().expect("get");
    assert_eq!(response.status(), 200, "not blocked by the writer");
    writer.execute_batch("COMMIT").expect("commit");
    drop(lock);
    // And the server does not stop a sync.
    s.control("POST", "/_emulator/contacts", Some(json!({"count": 3})));
    s.sync_ok(&["--only", "contacts"]);
    let response = client.get(format!("{url}/snom.xml")).send().expect("get");
    assert_eq!(response.status(), 200);
}
