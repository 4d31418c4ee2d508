//! A field changed upstream since its base while a local edit of it waited: each conflict
//! policy settles it the same way through both APIs, with the text field each API lets a
//! user edit (labels through the classic API, the note through v2).

use crate::common;

use common::{BOTH, Dialect, Synced, one_line_stderr};
use serde_json::json;

/// The edit verb, the column of `mirror_events` and the emulator's name for the field.
fn text_field(dialect: Dialect) -> (&'static str, &'static str, &'static str) {
    match dialect {
        Dialect::Classic => ("label", "labels", "labels"),
        Dialect::V2 => ("note", "comment", "comment"),
    }
}

/// The field's value upstream, read through the dialect's own API.
fn upstream_text(dialect: Dialect, s: &Synced, id: i64) -> String {
    match dialect {
        Dialect::Classic => s.upstream_event(id)["labels"]["value"]
            .as_str()
            .expect("labels")
            .to_string(),
        Dialect::V2 => common::v2_json(s, &format!("/history/{id}"))["note"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    }
}

fn log_results(s: &Synced) -> Vec<String> {
    let db = s.db();
    let mut stmt = db
        .prepare("SELECT result FROM outbox_log ORDER BY id")
        .expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<Vec<String>, _>>()
        .expect("rows")
}

/// An edit of the field to "mine", upstream changing it to "theirs", a pull between (which
/// must not hide the conflict), then `push --json` under `policy`.
fn conflict_under(dialect: Dialect, policy: &str) -> (Synced, i64, std::process::Output) {
    let s = common::synced(dialect, 200, 5);
    s.home.write_config(
        &format!(
            "[http]\nretry_base = \"1ms\"\nmax_attempts = 12\n[push]\nconflict = \"{policy}\"\n"
        ),
        0o600,
    );
    let (verb, column, upstream_name) = text_field(dialect);
    let id: i64 = s
        .db()
        .query_row(
            &format!(
                "SELECT id FROM mirror_events WHERE upstream_state = 'present'
                 AND location_base <> 'trash' AND archived = 0 AND coalesce({column}, '') = ''
                 ORDER BY id LIMIT 1"
            ),
            [],
            |r| r.get(0),
        )
        .expect("an event with the field empty");
    dialect
        .cmd(&s, &["event", verb, &id.to_string(), "mine"])
        .assert()
        .success();
    s.control(
        "PATCH",
        &format!("/_emulator/events/{id}"),
        Some(json!({ upstream_name: "theirs" })),
    );
    dialect.sync_ok(&s, &["--no-push", "--full"]);
    let output = dialect.cmd(&s, &["--json", "push"]).output().expect("push");
    (s, id, output)
}

#[test]
fn local_wins_by_default_and_the_conflict_is_logged() {
    for dialect in BOTH {
        let (s, id, output) = conflict_under(dialect, "local-wins");
        assert!(output.status.success(), "{dialect:?}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(
            (report["conflicts"].as_u64(), report["pushed"].as_u64()),
            (Some(1), Some(1)),
            "{dialect:?}"
        );
        assert_eq!(upstream_text(dialect, &s, id), "mine", "{dialect:?}");
        assert_eq!(log_results(&s), vec!["conflict_local_won"], "{dialect:?}");
        let detail: String = s
            .db()
            .query_row("SELECT detail FROM outbox_log", [], |r| r.get(0))
            .expect("detail");
        assert!(detail.contains("theirs"), "{dialect:?}: {detail}");
    }
}

#[test]
fn upstream_wins_when_asked_and_the_mirror_shows_upstream() {
    for dialect in BOTH {
        let (s, id, output) = conflict_under(dialect, "upstream-wins");
        assert!(output.status.success(), "{dialect:?}");
        assert_eq!(upstream_text(dialect, &s, id), "theirs", "{dialect:?}");
        let column = text_field(dialect).1;
        let (shown, base): (String, String) = s
            .db()
            .query_row(
                &format!("SELECT {column}, {column}_base FROM mirror_events WHERE id = ?1"),
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("event");
        assert_eq!(
            (shown.as_str(), base.as_str()),
            ("theirs", "theirs"),
            "{dialect:?}"
        );
        assert_eq!(
            log_results(&s),
            vec!["conflict_upstream_won"],
            "{dialect:?}"
        );
        assert_eq!(s.outbox_len(), 0, "{dialect:?}");
    }
}

#[test]
fn fail_keeps_the_edit_waiting_for_the_user() {
    for dialect in BOTH {
        let (s, id, output) = conflict_under(dialect, "fail");
        assert_eq!(output.status.code(), Some(3), "{dialect:?}");
        assert!(
            one_line_stderr(&output).contains("1 outbox entry failed and is waiting"),
            "{dialect:?}"
        );
        assert_eq!(upstream_text(dialect, &s, id), "theirs", "{dialect:?}");
        let list = dialect.cmd(&s, &["outbox", "list"]).output().expect("list");
        let text = String::from_utf8_lossy(&list.stdout);
        assert!(
            text.contains("failed") && text.contains("conflict"),
            "{dialect:?}: {text}"
        );
        let status = dialect
            .cmd(&s, &["--json", "status"])
            .output()
            .expect("status");
        let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("json");
        assert_eq!(
            status["counts"]["outbox_failed"], 1,
            "{dialect:?}: {status}"
        );
        // `outbox retry` pushes the local value against what upstream has now.
        let entry: i64 = s
            .db()
            .query_row("SELECT id FROM outbox", [], |r| r.get(0))
            .expect("one outbox entry");
        dialect
            .cmd(&s, &["outbox", "retry", &entry.to_string()])
            .assert()
            .success();
        dialect.cmd(&s, &["push"]).assert().success();
        assert_eq!(upstream_text(dialect, &s, id), "mine", "{dialect:?}");
    }
}
