//! Online account actions against the emulator: calls (dial, list, show, record, park,
//! hang up), callthrough, and settings changes that refresh the mirror.

use crate::common;

use common::{Synced, one_line_stderr};
use serde_json::{Value, json};

fn json_of(s: &Synced, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let output = s.cmd(&all).output().expect("run");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        one_line_stderr(&output)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

fn fails_with(s: &Synced, args: &[&str], code: i32, expected: &str) {
    let output = s.cmd(args).output().expect("run");
    assert_eq!(output.status.code(), Some(code), "{args:?}");
    let line = one_line_stderr(&output);
    assert!(line.contains(expected), "{args:?}: {line}");
}

#[test]
fn a_call_is_dialed_listed_recorded_parked_and_hung_up() {
    let s = Synced::start(20, 2);
    let dialed = json_of(
        &s,
        &[
            "call",
            "dial",
            "--caller",
            "sip:e0",
            "--callee",
            "030 9876543",
        ],
    );
    let call = &dialed[0];
    let id = call["sessionId"].as_str().expect("session id").to_string();
    assert_eq!(call["callee"], "tel:+49309876543");
    assert_eq!(s.emulator.stats().count("POST /my/sessions/calls/"), 1);

    let listed = json_of(&s, &["call", "list"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let recorded = json_of(&s, &["call", "record", &id, "on"]);
    assert_eq!(recorded[0]["recording"], true);
    let member = call["members"][1]["memberId"].as_str().expect("member");
    let parked = json_of(&s, &["call", "park", &id, member, "on"]);
    assert_eq!(parked[0]["members"][1]["parked"], true);
    let shown = json_of(&s, &["call", "show", &id]);
    assert_eq!(shown[0]["recording"], true);

    let text = s.cmd(&["call", "list"]).output().expect("list");
    let line = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(line.contains(&id) && line.contains("recording"), "{line}");

    json_of(&s, &["call", "hangup", &id]);
    assert_eq!(json_of(&s, &["call", "list"]), json!([]));
    fails_with(&s, &["call", "show", &id], 1, "404");
}

#[test]
fn call_arguments_are_checked_before_anything_is_sent() {
    let s = Synced::start(20, 2);
    let before = s.requests();
    fails_with(
        &s,
        &["call", "dial", "--caller", "mailto:x", "--callee", "sip:e1"],
        2,
        "tel:",
    );
    fails_with(
        &s,
        &["call", "dial", "--caller", "sip:e0", "--callee", "tel:abc"],
        2,
        "--callee",
    );
    fails_with(
        &s,
        &[
            "call",
            "dial",
            "--caller",
            "sip:e0",
            "--callee",
            "sip:e1",
            "--register-sip",
            "a/b",
        ],
        2,
        "--register-sip",
    );
    fails_with(&s, &["call", "hangup", "../../settings"], 2, "not an id");
    fails_with(&s, &["call", "record", "s1", "maybe"], 2, "maybe");
    fails_with(
        &s,
        &["callthrough", "--source", "x", "--target", "+4930123456"],
        2,
        "--source",
    );
    fails_with(&s, &["settings", "dnd", "e0?x=1", "on"], 2, "not an id");
    fails_with(
        &s,
        &["settings", "outgoing-number", "e0", "12"],
        2,
        "number",
    );
    fails_with(
        &s,
        &[
            "settings",
            "mobile-extension",
            "add",
            "--phone",
            "+4917012345678",
            "--model",
            "",
            "--vendor",
            "v",
            "--firmware",
            "1",
        ],
        2,
        "--model",
    );
    assert_eq!(s.requests(), before, "nothing reached upstream");
}

#[test]
fn a_dial_whose_answer_is_lost_is_not_retried() {
    let s = Synced::start(20, 2);
    s.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({"lose_response_rate": 1.0})),
    );
    fails_with(
        &s,
        &[
            "call",
            "dial",
            "--caller",
            "sip:e0",
            "--callee",
            "+4930123456",
        ],
        1,
        "may have started",
    );
    s.control("DELETE", "/_emulator/faults", None);
    assert_eq!(s.emulator.stats().count("POST /my/sessions/calls/"), 1);
    assert_eq!(
        json_of(&s, &["call", "list"]).as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn callthrough_prints_the_number_to_dial() {
    let s = Synced::start(20, 2);
    let output = s
        .cmd(&[
            "callthrough",
            "--source",
            "+4917012345678",
            "--target",
            "030 123456",
        ])
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", one_line_stderr(&output));
    let number = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert!(number.starts_with('+') && number.len() > 8, "{number}");
    let report = json_of(
        &s,
        &[
            "callthrough",
            "--source",
            "+4917012345678",
            "--target",
            "030 123456",
        ],
    );
    assert_eq!(report["dial"], number.as_str());
    assert_eq!(report["target"], "+4930123456");
}

#[test]
fn settings_changes_reach_upstream_and_the_mirror() {
    let s = Synced::start(20, 2);
    s.sync_ok(&["--only", "settings"]);
    let dnd = |s: &Synced| -> i64 {
        s.db()
            .query_row(
                "SELECT dnd FROM mirror_extensions WHERE extension_id = 'e1'",
                [],
                |r| r.get(0),
            )
            .expect("dnd")
    };
    let start = dnd(&s);
    let target = if start == 1 { "off" } else { "on" };
    let out = s
        .cmd(&["settings", "dnd", "e1", target])
        .output()
        .expect("dnd");
    assert!(out.status.success(), "{}", one_line_stderr(&out));
    assert_eq!(dnd(&s), 1 - start, "mirror refreshed");
    let upstream = s.http.json("/my/settings/extensions/e1/dnd/");
    assert_eq!(upstream["dnd"]["value"], target == "on");

    let own: String = s
        .db()
        .query_row(
            "SELECT number_e164 FROM mirror_number_list LIMIT 1 OFFSET 1",
            [],
            |r| r.get(0),
        )
        .expect("an account number");
    let report = json_of(
        &s,
        &["settings", "outgoing-number", "e1", &format!("+{own}")],
    );
    assert_eq!(report["mirror_refreshed"], true);
    let outgoing: String = s
        .db()
        .query_row(
            "SELECT outgoing_number FROM mirror_extensions WHERE extension_id = 'e1'",
            [],
            |r| r.get(0),
        )
        .expect("outgoing");
    assert_eq!(outgoing, own);
    fails_with(
        &s,
        &["settings", "outgoing-number", "e1", "+4930000001"],
        1,
        "not a number of this account",
    );
    fails_with(&s, &["settings", "dnd", "e99", "on"], 1, "404");

    let out = s
        .cmd(&[
            "settings",
            "mobile-extension",
            "add",
            "--phone",
            "0170 1234567",
            "--model",
            "Pixel 9",
            "--vendor",
            "Google",
            "--firmware",
            "15",
        ])
        .output()
        .expect("add");
    assert!(out.status.success(), "{}", one_line_stderr(&out));
    let model: String = s
        .db()
        .query_row(
            "SELECT model FROM mirror_mobile_extensions WHERE phone_number = '491701234567'",
            [],
            |r| r.get(0),
        )
        .expect("mobile extension mirrored");
    assert_eq!(model, "Pixel 9");

    let code = s.cmd(&["settings", "gsm-code"]).output().expect("gsm");
    let code = String::from_utf8_lossy(&code.stdout).trim().to_string();
    assert!(code.starts_with("**004*") && code.ends_with('#'), "{code}");
}
