//! Defects of write-back and run records found by trying to break them, one test each: a pull
//! between an edit and its push, a wrongly typed answer, a run stopped by a signal or killed,
//! and names of callers whose contact is gone.

use crate::common;

use std::os::unix::process::ExitStatusExt;

use common::Synced;
use serde_json::json;

/// The newest call (inside the lookback window, so every sync reads it again).
fn newest_call(s: &Synced) -> i64 {
    s.db()
        .query_row(
            "SELECT max(id) FROM mirror_events WHERE kind = 'call' AND location_base <> 'trash'",
            [],
            |r| r.get(0),
        )
        .expect("id")
}

fn upstream_labels(s: &Synced, id: i64) -> String {
    s.upstream_event(id)["labels"]["value"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn with_policy(policy: &str) -> Synced {
    let s = Synced::start(300, 10);
    s.home.write_config(
        &format!(
            "[http]\nretry_base = \"1ms\"\nmax_attempts = 3\n[push]\nconflict = \"{policy}\"\n"
        ),
        0o600,
    );
    s.sync_ok(&[]);
    s
}

/// `event label ID mine`, then the website sets `theirs`.
fn edit_then_website(s: &Synced) -> i64 {
    let id = newest_call(s);
    s.cmd(&["event", "label", &id.to_string(), "mine"])
        .assert()
        .success();
    s.control(
        "PATCH",
        &format!("/_emulator/events/{id}"),
        Some(json!({ "labels": "theirs" })),
    );
    id
}

/// The same, and syncs pull before the push.
fn edit_then_website_then_pulls(s: &Synced) -> i64 {
    let id = edit_then_website(s);
    s.sync_ok(&["--no-push"]);
    s.sync_ok(&["--no-push", "--full"]);
    id
}

#[test]
fn a_pull_between_an_edit_and_its_push_does_not_hide_the_conflict() {
    // upstream-wins: the website's labels stay.
    let s = with_policy("upstream-wins");
    let id = edit_then_website_then_pulls(&s);
    let output = s.cmd(&["--json", "push"]).output().expect("push");
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["conflicts"], 1);
    assert_eq!(upstream_labels(&s, id), "theirs");
    // fail: the edit waits, failed, until the person decides.
    let s = with_policy("fail");
    let id = edit_then_website_then_pulls(&s);
    let output = s.cmd(&["push"]).output().expect("push");
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(upstream_labels(&s, id), "theirs");
    let state: String = s
        .db()
        .query_row("SELECT state FROM outbox", [], |r| r.get(0))
        .expect("entry");
    assert_eq!(state, "failed");
    // `outbox retry` decides for the local value, against what upstream has now.
    s.cmd(&["outbox", "retry", "--all"]).assert().success();
    s.cmd(&["push"]).assert().success();
    assert_eq!(upstream_labels(&s, id), "mine");
}

#[test]
fn a_push_deferred_by_503s_while_syncs_pull_still_sees_the_conflict() {
    let s = with_policy("upstream-wins");
    let id = edit_then_website(&s);
    s.emulator
        .set_faults(sipmirror::emulator::Faults {
            status_rates: [(503, 1.0)].into_iter().collect(),
            retry_after_s: Some(0),
            ..Default::default()
        })
        .expect("faults");
    assert!(!s.cmd(&["push"]).output().expect("push").status.success());
    s.emulator
        .set_faults(sipmirror::emulator::Faults::default())
        .expect("faults");
    s.sync_ok(&["--no-push"]);
    s.cmd(&["outbox", "retry", "--all"]).assert().success();
    s.cmd(&["push"]).assert().success();
    assert_eq!(upstream_labels(&s, id), "theirs");
}

#[test]
fn a_wrongly_typed_answer_to_the_push_read_is_tried_again() {
    let s = with_policy("local-wins");
    let id = newest_call(&s);
    let starred = s.upstream_event(id)["starred"]["value"].as_bool() == Some(true);
    let verb = if starred { "unstar" } else { "star" };
    s.cmd(&["event", verb, &id.to_string()]).assert().success();
    let queued: i64 = s
        .db()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .expect("outbox");
    assert_eq!(queued, 1, "{verb} {id}");
    s.emulator
        .set_faults(sipmirror::emulator::Faults {
            wrong_type_rate: 1.0,
            ..Default::default()
        })
        .expect("faults");
    let pushed = s.cmd(&["push"]).output().expect("push");
    assert_ne!(pushed.status.code(), Some(0), "the edit was not pushed");
    let state: String = s
        .db()
        .query_row("SELECT state FROM outbox", [], |r| r.get(0))
        .expect("entry");
    assert_eq!(state, "pending", "deferred, not failed for good");
    s.emulator
        .set_faults(sipmirror::emulator::Faults::default())
        .expect("faults");
    s.cmd(&["outbox", "retry", "--all"]).assert().success();
    s.sync_ok(&[]);
    assert_eq!(
        s.upstream_event(id)["starred"]["value"].as_bool(),
        Some(!starred)
    );
}

fn last_run(s: &Synced) -> (String, Option<String>) {
    let output = s.cmd(&["--json", "status"]).output().expect("status");
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let run = &status["recent_runs"][0];
    (
        run["outcome"].as_str().unwrap_or("").to_string(),
        run["error"].as_str().map(str::to_string),
    )
}

#[test]
fn a_killed_sync_shows_as_interrupted_not_running() {
    let s = Synced::start(300, 10);
    let status = s
        .std_cmd(&["sync"])
        .env("SIPMIRROR_CRASH_AT", "sync:started")
        .status()
        .expect("sync");
    assert_eq!(status.signal(), Some(9));
    assert_eq!(last_run(&s).0, "interrupted", "the lock is free");
    s.sync_ok(&[]);
    let (outcome, error): (String, Option<String>) = s
        .db()
        .query_row(
            "SELECT outcome, error FROM sync_runs ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("run");
    assert_eq!(outcome, "failed");
    assert!(error.is_some_and(|e| e.starts_with("interrupted")));
}

#[test]
fn sigterm_and_sigint_end_a_sync_cleanly() {
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let s = Synced::start(20_000, 10);
        s.emulator
            .set_faults(sipmirror::emulator::Faults {
                latency_ms: 150,
                ..Default::default()
            })
            .expect("faults");
        let child = s
            .std_cmd(&["sync"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sync");
        // Wait (bounded) until the sync has written its first pages.
        let mut written = 0i64;
        for _ in 0..600 {
            written = rusqlite::Connection::open(s.home.db())
                .and_then(|db| db.query_row("SELECT count(*) FROM mirror_events", [], |r| r.get(0)))
                .unwrap_or(0);
            if written > 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(written > 0, "the sync wrote nothing");
        // SAFETY: the child's pid, a valid signal.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let output = child.wait_with_output().expect("wait");
        assert_eq!(
            output.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let (outcome, error) = last_run(&s);
        assert_eq!(outcome, "interrupted");
        assert!(error.is_some_and(|e| e.contains("SIG")));
        let integrity: String = s
            .db()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("check");
        assert_eq!(integrity, "ok");
        s.emulator
            .set_faults(sipmirror::emulator::Faults::default())
            .expect("faults");
        s.sync_ok(&[]);
        common::assert_mirror_equals_upstream(&s);
    }
}

#[test]
fn callers_are_not_named_after_a_contact_that_is_gone() {
    let s = Synced::start(2000, 60);
    s.sync_ok(&[]);
    // A caller named through a contact, with an event outside the lookback window.
    let (id, uuid, key): (i64, String, String) = s
        .db()
        .query_row(
            "SELECT e.id, n.uuid, e.from_number_key FROM events e
               JOIN contact_numbers n ON n.number_key = e.from_number_key
              WHERE e.created < (SELECT max(created) FROM events WHERE kind = e.kind) AND e.kind = 'call'
                AND (SELECT count(*) FROM contact_numbers m WHERE m.number_key = n.number_key) = 1
              ORDER BY e.created LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("a named caller");
    let name = |s: &Synced| -> Option<String> {
        s.db()
            .query_row("SELECT from_name FROM events WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .expect("event")
    };
    s.control(
        "PATCH",
        &format!("/_emulator/contacts/{uuid}"),
        Some(json!({"given": "Renamed", "family": "Person"})),
    );
    s.sync_ok(&[]);
    let renamed = name(&s).expect("a name");
    assert!(renamed.contains("Renamed"), "{renamed}");
    s.control("DELETE", &format!("/_emulator/contacts/{uuid}"), None);
    s.sync_ok(&[]);
    // Upstream names the number no more; neither does the mirror (no stale old name).
    let upstream: Option<String> = s.upstream_event(id)["sources"][0]["contactFN"]
        .as_str()
        .map(str::to_string);
    assert_eq!(name(&s), upstream, "number {key}");
}
