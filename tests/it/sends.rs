//! `send sms|fax`: checked, queued, sent exactly once: under lost answers, 5xx, resets, retries
//! and a SIGKILL between sending and recording the result.

use crate::common;

use std::os::unix::process::ExitStatusExt;

use common::{Synced, one_line_stderr};
use serde_json::{Value, json};

/// Upstream's outgoing SMS with this text.
fn sent_sms(s: &Synced, text: &str) -> Vec<Value> {
    s.upstream_events("sms")
        .into_iter()
        .filter(|e| e["direction"] == "outgoing" && e["text"] == text)
        .collect()
}

fn outbox_rows(s: &Synced) -> i64 {
    s.db()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .expect("count")
}

/// (state, upstream_event_id) of every send, in queue order.
fn sends_view(s: &Synced) -> Vec<(String, Option<i64>)> {
    let db = s.db();
    let mut stmt = db
        .prepare("SELECT state, upstream_event_id FROM sends ORDER BY queued_at, id")
        .expect("sends view");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn posts(s: &Synced, kind: &str) -> u64 {
    s.emulator
        .stats()
        .count(&format!("POST /my/events/{kind}/"))
}

fn run_ok(s: &Synced, args: &[&str]) -> String {
    let output = s.cmd(args).output().expect("run");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// An emulator and a mirror to queue in: only `init` and `sync` create one.
fn started(events: usize, contacts: usize) -> Synced {
    let s = Synced::start(events, contacts);
    s.cmd(&["init"]).assert().success();
    s
}

#[test]
fn an_sms_is_sent_once_and_recorded() {
    let s = started(50, 5);
    let out = run_ok(
        &s,
        &["send", "sms", "--to", "030 1234567", "--text", "Guten Tag"],
    );
    assert!(out.contains("sent (upstream event"), "{out}");
    let upstream = sent_sms(&s, "Guten Tag");
    assert_eq!(upstream.len(), 1);
    assert_eq!(upstream[0]["targets"][0]["numberE164"], "49301234567");
    let id: i64 = upstream[0]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(sends_view(&s), vec![("sent".to_string(), Some(id))]);
    assert_eq!(outbox_rows(&s), 0);
    // The next sync brings the sent message into the mirror like any other.
    s.sync_ok(&["--only", "sms"]);
    let text: String = s
        .db()
        .query_row("SELECT text FROM sms WHERE id = ?1", [id], |r| r.get(0))
        .expect("synced");
    assert_eq!(text, "Guten Tag");
    // Pushing again sends nothing.
    run_ok(&s, &["push"]);
    assert_eq!(sent_sms(&s, "Guten Tag").len(), 1);
}

#[test]
fn a_fax_is_sent_with_its_document_and_the_copy_is_removed() {
    let s = started(50, 5);
    let pdf = s.home.path().join("offer.pdf");
    std::fs::write(&pdf, sipmirror::emulator::sample_pdf(3, 3)).expect("write pdf");
    let output = s
        .cmd(&[
            "--json",
            "send",
            "fax",
            "--to",
            "+4940123456",
            "--from",
            "f0",
        ])
        .arg(&pdf)
        .arg("--queue-only")
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", one_line_stderr(&output));
    let queued: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(queued["request"]["pages"], 3);
    assert_eq!(queued["request"]["file_name"], "offer.pdf");
    // The document is copied in: changing the file afterwards changes nothing.
    std::fs::write(&pdf, b"gone").expect("overwrite");
    let documents: i64 = s
        .db()
        .query_row("SELECT count(*) FROM outbox_documents", [], |r| r.get(0))
        .expect("documents");
    assert_eq!(documents, 1);
    run_ok(&s, &["push"]);
    let faxes: Vec<Value> = s
        .upstream_events("faxes")
        .into_iter()
        .filter(|e| e["direction"] == "outgoing" && e["targets"][0]["numberE164"] == "4940123456")
        .collect();
    assert_eq!(faxes.len(), 1);
    assert_eq!(faxes[0]["pageCount"], 3);
    let documents: i64 = s
        .db()
        .query_row("SELECT count(*) FROM outbox_documents", [], |r| r.get(0))
        .expect("documents");
    assert_eq!(documents, 0);
}

#[test]
fn bad_sends_are_refused_before_anything_is_queued_or_sent() {
    let s = Synced::start(20, 2);
    let home = s.home.path();
    std::fs::write(home.join("notes.txt"), "not a pdf").expect("write");
    std::fs::write(home.join("empty.pdf"), "").expect("write");
    let mut cut = sipmirror::emulator::sample_pdf(1, 2);
    cut.truncate(cut.len() - 40);
    std::fs::write(home.join("cut.pdf"), cut).expect("write");
    std::fs::write(home.join("ok.pdf"), sipmirror::emulator::sample_pdf(1, 1)).expect("write");
    let long = "x".repeat(461);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["sms", "--to", "hello", "--text", "x"],
            "not a phone number",
        ),
        (
            vec!["sms", "--to", "*21#", "--text", "x"],
            "not a phone number",
        ),
        (
            vec!["sms", "--to", "1234567", "--text", "x"],
            "area or country code",
        ),
        (vec!["sms", "--to", "+4930123456", "--text", " "], "empty"),
        (vec!["sms", "--to", "+4930123456", "--text", &long], "460"),
        (
            vec!["sms", "--to", "+4930123456", "--text", "a\u{7}b"],
            "control",
        ),
        (
            vec![
                "sms",
                "--to",
                "+4930123456",
                "--text",
                "x",
                "--at",
                "2001-01-01 10:00",
            ],
            "past",
        ),
        (
            vec!["sms", "--to", "+4930123456", "--text", "x", "--at", "soon"],
            "not a time",
        ),
        (
            vec!["sms", "--to", "+4930123456", "--text", "x", "--from", "me"],
            "--from",
        ),
        (vec!["sms", "--text", "x"], "--to"),
        (vec!["fax", "--to", "+4930123456", "notes.txt"], "not a PDF"),
        (vec!["fax", "--to", "+4930123456", "empty.pdf"], "empty"),
        (vec!["fax", "--to", "+4930123456", "cut.pdf"], "incomplete"),
        (
            vec!["fax", "--to", "+4930123456", "missing.pdf"],
            "cannot read",
        ),
        (
            vec!["fax", "--to", "+4930123456", "--from", "../f0", "ok.pdf"],
            "--from",
        ),
    ];
    // Refused before the mirror is opened: where there was none, none is created.
    assert!(!s.home.db().exists());
    for args in [
        &["send", "sms", "--to", "hello", "--text", "x"][..],
        &["send", "fax", "--to", "+4930123456", "cut.pdf"],
    ] {
        let output = s.cmd(args).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!s.home.db().exists(), "{args:?} created a mirror");
    }
    // Settings synced first, so --from is checked against the account's fax extensions.
    s.sync_ok(&["--only", "settings"]);
    let requests = s.requests();
    for (args, expected) in &cases {
        let mut all = vec!["send"];
        all.extend_from_slice(args);
        let output = s.cmd(&all).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let line = one_line_stderr(&output);
        assert!(line.contains(expected), "{args:?}: {line}");
    }
    let output = s
        .cmd(&[
            "send",
            "fax",
            "--to",
            "+4930123456",
            "--from",
            "e0",
            "ok.pdf",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        one_line_stderr(&output).contains("f0"),
        "names the fax extensions"
    );
    assert_eq!(outbox_rows(&s), 0);
    assert_eq!(s.requests(), requests, "nothing reached upstream");
}

#[test]
fn a_lost_answer_is_looked_up_and_not_sent_again() {
    let s = started(20, 2);
    s.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({"lose_response_rate": 1.0})),
    );
    let output = s
        .cmd(&["send", "sms", "--to", "+4930123456", "--text", "Nur einmal"])
        .output()
        .expect("run");
    // Queued and accepted; the outcome is unknown, so it is not sent again blindly.
    assert!(output.status.success(), "{}", one_line_stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("not sent yet"));
    assert_eq!(posts(&s, "sms"), 1);
    s.control("DELETE", "/_emulator/faults", None);
    assert_eq!(sent_sms(&s, "Nur einmal").len(), 1, "upstream acted");
    let list = run_ok(&s, &["outbox", "list"]);
    assert!(list.contains("may have reached upstream"), "{list}");

    run_ok(&s, &["outbox", "retry", "--all"]);
    let report: Value =
        serde_json::from_str(&run_ok(&s, &["--json", "push"])).expect("push report");
    assert_eq!(report["sent_found_upstream"], 1);
    assert_eq!(report["sent"], 0);
    assert_eq!(posts(&s, "sms"), 1, "not posted again");
    let upstream = sent_sms(&s, "Nur einmal");
    assert_eq!(upstream.len(), 1);
    let id: i64 = upstream[0]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(sends_view(&s), vec![("sent".to_string(), Some(id))]);
}

#[test]
fn under_lost_answers_5xx_and_resets_every_message_goes_out_exactly_once() {
    let s = started(20, 2);
    let pdf = s.home.path().join("doc.pdf");
    std::fs::write(&pdf, sipmirror::emulator::sample_pdf(9, 2)).expect("pdf");
    // Identical messages on purpose: each must go out, none twice.
    let messages = [
        ("+4930111111", "Termin morgen?"),
        ("+4930111111", "Termin morgen?"),
        ("+4930222222", "Termin morgen?"),
        ("+4930111111", "ok"),
        ("+4930333333", "Ä ö ü ß – 🙂"),
        ("+4930111111", "ok"),
        ("+4930444444", "line one\nline two"),
        ("+4930555555", "last"),
    ];
    for (to, text) in messages {
        run_ok(
            &s,
            &["send", "sms", "--queue-only", "--to", to, "--text", text],
        );
    }
    for _ in 0..2 {
        let output = s
            .cmd(&["send", "fax", "--queue-only", "--to", "+4940999999"])
            .arg(&pdf)
            .output()
            .expect("fax");
        assert!(output.status.success());
    }
    s.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({"lose_response_rate": 0.35, "reset_rate": 0.1, "status_rates": {"500": 0.1}})),
    );
    let mut rounds = 0;
    while outbox_rows(&s) > 0 {
        rounds += 1;
        assert!(rounds <= 60, "the outbox never drained");
        run_ok(&s, &["outbox", "retry", "--all"]);
        // Exit 3 (some entries deferred) is expected under faults.
        let output = s.cmd(&["push"]).output().expect("push");
        assert!(matches!(output.status.code(), Some(0 | 3)));
    }
    s.control("DELETE", "/_emulator/faults", None);
    for (to, text) in messages {
        let queued = messages.iter().filter(|m| m.0 == to && m.1 == text).count();
        let key = to.trim_start_matches('+');
        let upstream = sent_sms(&s, text)
            .into_iter()
            .filter(|e| e["targets"][0]["numberE164"] == key)
            .count();
        assert_eq!(upstream, queued, "{to} {text:?}");
    }
    let faxes = s
        .upstream_events("faxes")
        .into_iter()
        .filter(|e| e["direction"] == "outgoing" && e["targets"][0]["numberE164"] == "4940999999")
        .count();
    assert_eq!(faxes, 2);
    let view = sends_view(&s);
    assert_eq!(view.len(), messages.len() + 2);
    let mut ids: Vec<i64> = view
        .iter()
        .map(|(_, id)| id.expect("upstream id"))
        .collect();
    assert!(view.iter().all(|(state, _)| state == "sent"));
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        messages.len() + 2,
        "no upstream event claimed twice"
    );
}

#[test]
fn a_send_killed_between_sending_and_recording_goes_out_once() {
    let s = started(20, 2);
    for (point, text) in [
        ("send:posted", "killed after"),
        ("send:before_post", "killed before"),
    ] {
        let status = s
            .std_cmd(&["send", "sms", "--to", "+4930123456", "--text", text])
            .env("SIPMIRROR_CRASH_AT", point)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run");
        assert_eq!(status.signal(), Some(9), "{point}: killed with SIGKILL");
        let state: String = s
            .db()
            .query_row("SELECT state FROM outbox", [], |r| r.get(0))
            .expect("entry kept");
        assert_eq!(state, "in_flight", "{point}");
        let expected_before = usize::from(point == "send:posted");
        assert_eq!(sent_sms(&s, text).len(), expected_before, "{point}");
        run_ok(&s, &["push"]);
        assert_eq!(sent_sms(&s, text).len(), 1, "{point}: exactly once");
        assert_eq!(outbox_rows(&s), 0);
    }
    let integrity: String = s
        .db()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(integrity, "ok");
}

#[test]
fn a_refused_send_waits_failed_until_retried_or_dropped() {
    let s = started(20, 2);
    s.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({"status_rates": {"400": 1.0}})),
    );
    let output = s
        .cmd(&["send", "sms", "--to", "+4930123456", "--text", "refused"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(3));
    assert!(one_line_stderr(&output).contains("outbox retry"));
    assert_eq!(sends_view(&s), vec![("failed".to_string(), None)]);
    // Failed entries are not sent by a push until retried; the push says they wait (exit 3).
    s.control("DELETE", "/_emulator/faults", None);
    let output = s.cmd(&["push"]).output().expect("push");
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(sent_sms(&s, "refused").len(), 0);
    let id: i64 = s
        .db()
        .query_row("SELECT id FROM outbox", [], |r| r.get(0))
        .expect("id");
    run_ok(&s, &["outbox", "retry", &id.to_string()]);
    run_ok(&s, &["push"]);
    assert_eq!(sent_sms(&s, "refused").len(), 1);

    // A dropped send is not sent, and the log says so.
    run_ok(
        &s,
        &[
            "send",
            "sms",
            "--queue-only",
            "--to",
            "+4930123456",
            "--text",
            "never",
        ],
    );
    let id: i64 = s
        .db()
        .query_row("SELECT id FROM outbox", [], |r| r.get(0))
        .expect("id");
    let out = run_ok(&s, &["outbox", "drop", &id.to_string()]);
    assert!(out.contains("will not be sent"), "{out}");
    run_ok(&s, &["push"]);
    assert_eq!(sent_sms(&s, "never").len(), 0);
    let states: Vec<String> = sends_view(&s).into_iter().map(|(st, _)| st).collect();
    assert_eq!(states, ["sent", "dropped"]);
    // Ids are never reused, even after the table emptied.
    let ids: Vec<i64> = {
        let db = s.db();
        let mut stmt = db.prepare("SELECT id FROM sends ORDER BY id").expect("ids");
        stmt.query_map([], |r| r.get(0))
            .expect("q")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn a_send_made_offline_is_queued_and_goes_out_with_the_next_push() {
    let s = started(20, 2);
    let output = s
        .cmd(&["send", "sms", "--to", "+4930123456", "--text", "offline"])
        .env("SIPGATE_BASE_URL", "http://127.0.0.1:9")
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", one_line_stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("not sent yet"));
    assert_eq!(posts(&s, "sms"), 0);
    run_ok(&s, &["outbox", "retry", "--all"]);
    s.sync_ok(&["--only", "sms"]);
    assert_eq!(sent_sms(&s, "offline").len(), 1);
    // The sync that sent it also pulled it.
    let mirrored: i64 = s
        .db()
        .query_row("SELECT count(*) FROM sms WHERE text = 'offline'", [], |r| {
            r.get(0)
        })
        .expect("count");
    assert_eq!(mirrored, 1);
}

#[test]
fn a_send_without_credentials_is_queued_and_says_so() {
    let s = started(20, 2);
    let output = s
        .cmd(&[
            "send",
            "sms",
            "--to",
            "+4930123456",
            "--text",
            "no login yet",
        ])
        .env_remove("SIPGATE_USERNAME")
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", one_line_stderr(&output));
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains("not sent yet") && out.contains("user name"),
        "{out}"
    );
    assert_eq!(outbox_rows(&s), 1);
    run_ok(&s, &["push"]);
    assert_eq!(sent_sms(&s, "no login yet").len(), 1);
}

#[test]
fn a_scheduled_sms_carries_its_time_in_utc() {
    let s = started(20, 2);
    let output = s
        .cmd(&[
            "--json",
            "send",
            "sms",
            "--to",
            "+4930123456",
            "--text",
            "später",
            "--at",
            "2031-06-01 12:00",
        ])
        .env("TZ", "Europe/Berlin")
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", one_line_stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["request"]["schedule"], "2031-06-01 10:00:00");
    let upstream = sent_sms(&s, "später");
    assert_eq!(upstream.len(), 1);
    assert_eq!(upstream[0]["status"], "scheduled");
    let scheduled = upstream[0]["scheduled"].as_str().unwrap_or_default();
    assert!(scheduled.starts_with("2031-06-01"), "{scheduled}");
}
