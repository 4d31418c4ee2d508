//! Sending SMS and faxes through sipgate's API v2: one request per recipient, exactly once
//! under lost answers, faxes followed to SENT or FAILED, 402 and 403 as failed sends, and what
//! v2 cannot take refused before anything is queued.

use crate::common;

use common::{Synced, one_line_stderr, v2_json};
use serde_json::json;

fn synced() -> Synced {
    let s = Synced::start(150, 5);
    s.home.write_config(
        "[http]\nretry_base = \"1ms\"\nmax_attempts = 12\ntimeout = \"20s\"\n[push]\nfax_poll = \"1ms\"\n",
        0o600,
    );
    s.v2_sync_ok(&[]);
    s
}

fn pdf(s: &Synced, name: &str) -> String {
    let path = s.home.path().join(name);
    std::fs::write(&path, sipmirror::emulator::sample_pdf(7, 2)).expect("pdf");
    path.to_string_lossy().into_owned()
}

/// Outgoing entries of `kind` upstream created by sends in this test: (recipient, text).
fn sent_upstream(s: &Synced, kind: &str, since: usize) -> Vec<(String, String)> {
    let page = v2_json(
        s,
        &format!("/history?types={kind}&directions=OUTGOING&limit=1000"),
    );
    let mut sent: Vec<(String, String)> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["id"].as_str().and_then(|id| id.parse::<usize>().ok()) > Some(since))
        .map(|e| {
            (
                e["target"].as_str().unwrap_or("").to_string(),
                e["smsContent"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    sent.sort();
    sent
}

fn newest_event(s: &Synced) -> usize {
    s.emulator
        .with_state(|state| state.events.last().map_or(0, |e| e.id as usize))
}

#[test]
fn messages_are_sent_exactly_once_under_lost_answers() {
    let s = synced();
    let before = newest_event(&s);
    let doc = pdf(&s, "letter.pdf");
    let mut wanted = Vec::new();
    for i in 0..10 {
        // Two of them are the same message to the same number: both must go out.
        let text = if i < 2 {
            "see you".to_string()
        } else {
            format!("message {i}")
        };
        // (The identical two go to the same number; the others spread over three.)
        let to = format!("+491579991234{}", if i < 2 { 0 } else { i % 3 });
        s.v2_cmd(&["send", "sms", "--queue-only", "--to", &to, "--text", &text])
            .assert()
            .success();
        wanted.push((to, text));
    }
    for to in ["+4930123456", "+4940123456"] {
        s.v2_cmd(&["send", "fax", "--queue-only", "--to", to, &doc])
            .assert()
            .success();
    }
    s.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({ "lose_response_rate": 0.5 })),
    );
    for _ in 0..40 {
        s.db()
            .execute("UPDATE outbox SET next_attempt_at = NULL", [])
            .expect("due");
        let _ = s.v2_cmd(&["push"]).output().expect("push");
        if s.outbox_len() == 0 {
            break;
        }
    }
    assert_eq!(s.outbox_len(), 0, "sends left in the outbox");
    s.control("DELETE", "/_emulator/faults", None);
    wanted.sort();
    assert_eq!(sent_upstream(&s, "SMS", before), wanted);
    let faxes = sent_upstream(&s, "FAX", before);
    assert_eq!(
        faxes.iter().map(|(to, _)| to.as_str()).collect::<Vec<_>>(),
        ["+4930123456", "+4940123456"]
    );
    // Every send knows its history entry, and no entry is claimed twice.
    let (sent, distinct): (i64, i64) = s
        .db()
        .query_row(
            "SELECT count(*), count(DISTINCT upstream_event_id) FROM sends WHERE state = 'sent'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("sends");
    assert_eq!((sent, distinct), (12, 12));
}

#[test]
fn a_message_to_several_recipients_is_one_request_each() {
    let s = synced();
    s.emulator.reset_stats();
    s.v2_cmd(&[
        "send",
        "sms",
        "--to",
        "+4915799912345",
        "--to",
        "030 1234567",
        "--to",
        "+4940999888",
        "--text",
        "hello",
    ])
    .assert()
    .success();
    assert_eq!(s.emulator.stats().count("POST /v2/sessions/sms"), 3);
    let recipients: Vec<String> = s
        .db()
        .prepare("SELECT recipients FROM sends ORDER BY id")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        recipients,
        [
            r#"["+4915799912345"]"#,
            r#"["+49301234567"]"#,
            r#"["+4940999888"]"#
        ]
    );
}

#[test]
fn a_fax_is_followed_to_sent_or_failed() {
    let s = synced();
    let doc = pdf(&s, "fax.pdf");
    let output = s
        .v2_cmd(&["send", "fax", "--wait", "--to", "+4930123456", &doc])
        .output()
        .expect("send");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("SENT"));
    // A number the emulator's world cannot reach: the fax fails, exit 3, one line.
    let output = s
        .v2_cmd(&["send", "fax", "--wait", "--to", "+4930123999", &doc])
        .output()
        .expect("send");
    assert_eq!(output.status.code(), Some(3));
    assert!(one_line_stderr(&output).contains("failed upstream"));
    let statuses: Vec<(String, String, String)> = s
        .db()
        .prepare("SELECT recipients, upstream_status, fax_status FROM sends ORDER BY id")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        statuses,
        [
            (r#"["+4930123456"]"#.into(), "sent".into(), "SENT".into()),
            (
                r#"["+4930123999"]"#.into(),
                "failed".into(),
                "FAILED".into()
            ),
        ]
    );
}

#[test]
fn the_sync_keeps_a_fax_status_current() {
    let s = synced();
    let doc = pdf(&s, "fax.pdf");
    s.v2_cmd(&["send", "fax", "--to", "+4930123456", &doc])
        .assert()
        .success();
    s.v2_sync_ok(&[]);
    let status = |s: &Synced| -> String {
        s.db()
            .query_row("SELECT fax_status FROM sends", [], |r| r.get(0))
            .expect("status")
    };
    assert_eq!(status(&s), "PENDING");
    let listed =
        String::from_utf8_lossy(&s.v2_cmd(&["outbox", "list"]).output().expect("list").stdout)
            .into_owned();
    assert!(listed.contains("upstream PENDING"), "{listed}");
    let id: i64 = s
        .db()
        .query_row("SELECT upstream_event_id FROM sends", [], |r| r.get(0))
        .expect("id");
    // Upstream moves on (each read of the entry moves the emulator's fax along).
    for _ in 0..2 {
        v2_json(&s, &format!("/history/{id}"));
    }
    s.v2_sync_ok(&[]);
    assert_eq!(status(&s), "SENT");
    let listed =
        String::from_utf8_lossy(&s.v2_cmd(&["outbox", "list"]).output().expect("list").stdout)
            .into_owned();
    assert!(listed.contains("The outbox is empty"), "{listed}");
}

#[test]
fn no_credit_and_no_scope_fail_the_send_with_one_line() {
    let s = synced();
    s.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({ "no_credit": true })),
    );
    let output = s
        .v2_cmd(&["send", "sms", "--to", "+4915799912345", "--text", "hi"])
        .output()
        .expect("send");
    assert_eq!(output.status.code(), Some(3));
    assert!(one_line_stderr(&output).contains("no credit"));
    s.control("DELETE", "/_emulator/faults", None);
    let state: String = s
        .db()
        .query_row("SELECT state FROM sends", [], |r| r.get(0))
        .expect("state");
    assert_eq!(state, "failed");

    // A token without the scope to send faxes.
    let limited = sipmirror::emulator::Emulator::start(sipmirror::emulator::EmulatorConfig {
        events: 50,
        contacts: 2,
        // Everything to read, nothing to send.
        token_scopes: [
            "history:read",
            "contacts:read",
            "account:read",
            "balance:read",
            "numbers:read",
            "users:read",
            "devices:read",
            "phonelines:read",
            "faxlines:read",
            "sms:read",
            "voicemails:read",
            "groups:read",
        ]
        .map(String::from)
        .to_vec(),
        ..Default::default()
    })
    .expect("emulator");
    let home = common::TestHome::new();
    let run = |args: &[&str]| {
        home.std_cmd()
            .arg("--db")
            .arg(home.db())
            .args(args)
            .env("SIPGATE_API", "v2")
            .env("SIPGATE_BASE_URL", limited.v2_base_url())
            .env("SIPGATE_TOKEN_ID", limited.token_id())
            .env("SIPGATE_TOKEN", limited.token())
            .output()
            .expect("run")
    };
    let synced = run(&["sync"]);
    assert!(
        synced.status.success(),
        "{}",
        String::from_utf8_lossy(&synced.stderr)
    );
    let doc = pdf(&s, "fax.pdf");
    let output = run(&["send", "fax", "--from", "f0", "--to", "+4930123456", &doc]);
    assert_eq!(output.status.code(), Some(3));
    assert!(one_line_stderr(&output).contains("sessions:fax:write"));
}

#[test]
fn what_v2_cannot_take_is_refused_before_anything_is_queued() {
    let s = synced();
    let doc = pdf(&s, "fax.pdf");
    s.emulator.reset_stats();
    let far = (chrono::Local::now() + chrono::Duration::days(40))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    for (args, message) in [
        (
            vec![
                "send",
                "sms",
                "--to",
                "+4915799912345",
                "--text",
                "x",
                "--at",
                &far,
            ],
            "30 days",
        ),
        (
            vec![
                "send",
                "sms",
                "--from",
                "s7",
                "--to",
                "+4915799912345",
                "--text",
                "x",
            ],
            "SMS extensions",
        ),
        (
            vec!["send", "fax", "--from", "f9", "--to", "+4930123456", &doc],
            "fax extensions",
        ),
    ] {
        let output = s.v2_cmd(&args).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(one_line_stderr(&output).contains(message), "{args:?}");
    }
    assert_eq!((s.outbox_len(), s.emulator.stats().requests_total), (0, 0));
}

/// v2's `POST /sessions/fax` takes no time to send at: a fax with `--at` waits in the outbox
/// and goes out with the first push at or after its time, not at once.
#[test]
fn a_v2_fax_for_later_waits_in_the_outbox_until_its_time() {
    let s = synced();
    let doc = pdf(&s, "fax.pdf");
    let before = newest_event(&s);
    let later = (chrono::Local::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let output = s
        .v2_cmd(&[
            "send",
            "fax",
            "--from",
            "f0",
            "--to",
            "+4930123456",
            "--at",
            &later,
            &doc,
        ])
        .output()
        .expect("send");
    assert!(output.status.success());
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(said.contains("waits in the outbox until"), "{said}");
    s.v2_cmd(&["push"]).assert().success();
    assert!(
        sent_upstream(&s, "FAX", before).is_empty(),
        "sent before its time"
    );
    assert_eq!(s.outbox_len(), 1);
    // Its time comes (the schedule moved into the past, as the clock would move past it).
    s.db()
        .execute(
            "UPDATE outbox SET payload_json = json_set(payload_json, '$.schedule', '2001-01-01 00:00:00'),
                               next_attempt_at = NULL",
            [],
        )
        .expect("time passes");
    s.v2_cmd(&["push"]).assert().success();
    assert_eq!(
        sent_upstream(&s, "FAX", before).len(),
        1,
        "sent once its time came"
    );
    assert_eq!(s.outbox_len(), 0);
}

/// Two identical messages (same text, same number) and the second one's answer lost: v2 does
/// not say which history entry an SMS became, so the lost one is looked up, and it must not
/// take the entry the first one claimed: two distinct entries, each sent once.
#[test]
fn identical_messages_both_go_out_when_the_second_answer_is_lost() {
    let s = synced();
    let before = newest_event(&s);
    for _ in 0..2 {
        s.v2_cmd(&[
            "send",
            "sms",
            "--queue-only",
            "--to",
            "+4915799912340",
            "--text",
            "same words",
        ])
        .assert()
        .success();
    }
    s.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({"lose_matching": {"contains": "POST /v2/sessions/sms", "after": 1}})),
    );
    for _ in 0..5 {
        s.db()
            .execute("UPDATE outbox SET next_attempt_at = NULL", [])
            .expect("due");
        let _ = s.v2_cmd(&["push"]).output().expect("push");
        if s.outbox_len() == 0 {
            break;
        }
    }
    let faults = s.control("GET", "/_emulator/faults", None);
    assert_eq!(
        faults["lose_matching"]["count"], 0,
        "the second answer was lost"
    );
    s.control("DELETE", "/_emulator/faults", None);
    assert_eq!(s.outbox_len(), 0, "sends left in the outbox");
    let sent = sent_upstream(&s, "SMS", before);
    assert_eq!(
        sent,
        vec![
            ("+4915799912340".to_string(), "same words".to_string()),
            ("+4915799912340".to_string(), "same words".to_string())
        ]
    );
    let (count, distinct): (i64, i64) = s
        .db()
        .query_row(
            "SELECT count(*), count(DISTINCT upstream_event_id) FROM sends WHERE state = 'sent'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("sends");
    assert_eq!((count, distinct), (2, 2), "each claimed its own entry");
}
