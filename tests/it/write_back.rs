//! Write-back: local edits (CLI and SQL) reach upstream through the outbox, survive pulls, and
//! conflicts and errors are settled as documented.

use crate::common;

use common::{Dialect, Synced, one_line_stderr};
use rusqlite::OptionalExtension;
use serde_json::json;

/// The plural path segment of a mirror kind.
/// An event's record upstream, through the API.
fn upstream_event(synced: &Synced, id: i64) -> serde_json::Value {
    synced.upstream_event(id)
}

fn upstream_flags(synced: &Synced, id: i64) -> (bool, bool, String, String) {
    let e = upstream_event(synced, id);
    (
        e["read"]["value"].as_bool().unwrap_or(false),
        e["starred"]["value"].as_bool().unwrap_or(false),
        e["labels"]["value"].as_str().unwrap_or("").to_string(),
        e["location"].as_str().unwrap_or("").to_string(),
    )
}

/// Ids of `n` present, not-trashed events of `kind`, newest first.
fn event_ids(synced: &Synced, kind: &str, n: usize) -> Vec<i64> {
    let db = synced.db();
    let mut stmt = db
        .prepare(
            "SELECT id FROM mirror_events WHERE kind = ?1 AND location_base <> 'trash'
             AND upstream_state = 'present' ORDER BY id DESC LIMIT ?2",
        )
        .expect("prepare");
    stmt.query_map(rusqlite::params![kind, n as i64], |r| r.get(0))
        .expect("query")
        .collect::<Result<Vec<i64>, _>>()
        .expect("ids")
}

fn outbox_rows(synced: &Synced) -> Vec<(String, i64, String, String, String)> {
    let db = synced.db();
    let mut stmt = db
        .prepare("SELECT op, event_id, field, value, state FROM outbox ORDER BY id")
        .expect("prepare");
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .expect("query")
    .collect::<Result<Vec<_>, _>>()
    .expect("rows")
}

fn visible_and_base(synced: &Synced, id: i64, field: &str) -> (String, String) {
    synced
        .db()
        .query_row(
            &format!("SELECT CAST({field} AS TEXT), CAST({field}_base AS TEXT) FROM mirror_events WHERE id = ?1"),
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("event")
}

/// The id of the one outbox entry.
fn only_entry(synced: &Synced) -> i64 {
    synced
        .db()
        .query_row("SELECT id FROM outbox", [], |r| r.get(0))
        .expect("one outbox entry")
}

fn log_results(synced: &Synced) -> Vec<String> {
    let db = synced.db();
    let mut stmt = db
        .prepare("SELECT result FROM outbox_log ORDER BY id")
        .expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<Vec<String>, _>>()
        .expect("rows")
}

fn synced(events: usize) -> Synced {
    common::synced(Dialect::Classic, events, 20)
}

/// Sets `read`/`starred` of an event to known values upstream and in the mirror.
fn reset_upstream(synced: &Synced, id: i64, read: bool, starred: bool) {
    synced.control(
        "PATCH",
        &format!("/_emulator/events/{id}"),
        Some(json!({ "read": read, "starred": starred, "labels": "" })),
    );
}

#[test]
fn cli_edits_show_at_once_and_reach_upstream() {
    let synced = synced(300);
    let calls = event_ids(&synced, "call", 2);
    let voicemail = event_ids(&synced, "voicemail", 1)[0];
    let fax = event_ids(&synced, "fax", 1)[0];
    for id in &calls {
        reset_upstream(&synced, *id, false, false);
    }
    reset_upstream(&synced, voicemail, false, false);
    synced.sync_ok(&["--full"]);

    let (a, b) = (calls[0].to_string(), calls[1].to_string());
    synced.cmd(&["event", "read", &a, &b]).assert().success();
    synced
        .cmd(&["event", "star", &voicemail.to_string()])
        .assert()
        .success();
    synced
        .cmd(&["event", "label", &a, " Rückruf , todo "])
        .assert()
        .success();
    synced
        .cmd(&["event", "delete", &fax.to_string()])
        .assert()
        .success();

    // Visible at once, through the views, and queued.
    let db = synced.db();
    let (read, labels): (i64, String) = db
        .query_row(
            "SELECT read, labels FROM calls WHERE id = ?1",
            [calls[0]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("call");
    assert_eq!((read, labels.as_str()), (1, "Rückruf,todo"));
    let location: String = db
        .query_row("SELECT location FROM faxes WHERE id = ?1", [fax], |r| {
            r.get(0)
        })
        .expect("fax");
    assert_eq!(location, "trash");
    assert_eq!(outbox_rows(&synced).len(), 5);
    assert!(!upstream_flags(&synced, calls[0]).0, "nothing sent yet");

    synced.cmd(&["push"]).assert().success();
    assert!(outbox_rows(&synced).is_empty());
    assert_eq!(
        upstream_flags(&synced, calls[0]),
        (
            true,
            false,
            "Rückruf,todo".into(),
            upstream_flags(&synced, calls[0]).3
        )
    );
    assert!(upstream_flags(&synced, calls[1]).0);
    assert!(upstream_flags(&synced, voicemail).1);
    assert_eq!(upstream_flags(&synced, fax).3, "trash");
    assert_eq!(
        visible_and_base(&synced, calls[0], "labels").1,
        "Rückruf,todo"
    );
    assert_eq!(log_results(&synced), vec!["pushed"; 5]);

    // Upstream and mirror agree: a full sync changes nothing.
    let output = synced
        .cmd(&["--json", "sync", "--full"])
        .output()
        .expect("sync");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    for stream in report["streams"].as_array().expect("streams") {
        assert_eq!(stream["deleted"], 0, "{stream}");
    }
    assert_eq!(
        visible_and_base(&synced, fax, "location"),
        ("trash".into(), "trash".into())
    );
}

#[test]
fn sql_edits_from_a_plain_connection_reach_upstream() {
    let synced = synced(300);
    let voicemails = event_ids(&synced, "voicemail", 3);
    let sms = event_ids(&synced, "sms", 1)[0];
    for id in &voicemails {
        reset_upstream(&synced, *id, false, false);
    }
    synced.sync_ok(&["--full"]);
    // A connection with no functions registered, as the sqlite3 shell has.
    let db = rusqlite::Connection::open(synced.home.db()).expect("open");
    let list = voicemails
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    db.execute_batch(&format!(
        "UPDATE voicemails SET read = 1, labels = 'heard' WHERE id IN ({list});
         DELETE FROM sms WHERE id = {sms};"
    ))
    .expect("SQL edits");
    drop(db);
    assert_eq!(outbox_rows(&synced).len(), 7);
    synced.cmd(&["push"]).assert().success();
    for id in &voicemails {
        let (read, _, labels, _) = upstream_flags(&synced, *id);
        assert!(read);
        assert_eq!(labels, "heard");
    }
    assert_eq!(upstream_flags(&synced, sms).3, "trash");
    assert!(outbox_rows(&synced).is_empty());
}

#[test]
fn sql_edits_in_the_stock_sqlite3_shell_reach_upstream() {
    // The shell people actually use.
    if !common::has_sqlite3_shell() {
        return;
    }
    let synced = synced(200);
    let call = event_ids(&synced, "call", 1)[0];
    reset_upstream(&synced, call, false, false);
    synced.sync_ok(&["--full"]);
    let output = std::process::Command::new("sqlite3")
        .arg(synced.home.db())
        .arg(format!(
            "UPDATE calls SET starred = 1, labels = 'shell' WHERE id = {call};"
        ))
        .output()
        .expect("sqlite3 runs");
    assert!(output.status.success(), "{output:?}");
    let refused = std::process::Command::new("sqlite3")
        .arg(synced.home.db())
        .arg(format!("UPDATE calls SET starred = 7 WHERE id = {call};"))
        .output()
        .expect("sqlite3 runs");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("starred must be 0 or 1"));
    synced.cmd(&["push"]).assert().success();
    let (_, starred, labels, _) = upstream_flags(&synced, call);
    assert!(starred);
    assert_eq!(labels, "shell");
}

#[test]
fn outbox_keeps_one_target_value_per_field() {
    let synced = synced(200);
    let id = event_ids(&synced, "call", 1)[0];
    reset_upstream(&synced, id, false, false);
    synced.sync_ok(&["--full"]);
    let db = synced.db();
    let edit = |sql: &str| {
        db.execute(&format!("{sql} WHERE id = {id}"), [])
            .expect(sql);
    };
    // An edit back to the upstream value removes the entry.
    edit("UPDATE events SET read = 1");
    edit("UPDATE events SET read = 0");
    assert!(outbox_rows(&synced).is_empty());
    // A second edit replaces the first.
    edit("UPDATE events SET labels = 'a'");
    edit("UPDATE events SET labels = 'b'");
    edit("UPDATE events SET starred = 1");
    assert_eq!(
        outbox_rows(&synced),
        vec![
            (
                "set".into(),
                id,
                "labels".into(),
                "b".into(),
                "pending".into()
            ),
            (
                "set".into(),
                id,
                "starred".into(),
                "1".into(),
                "pending".into()
            ),
        ]
    );
    // Unchanged values make no entry.
    edit("UPDATE events SET read = 0, starred = 1");
    assert_eq!(outbox_rows(&synced).len(), 2);
    // A delete supersedes the waiting field edits, which show upstream's values again.
    edit("UPDATE events SET location = 'trash'");
    assert_eq!(
        outbox_rows(&synced),
        vec![(
            "delete".into(),
            id,
            "location".into(),
            "trash".into(),
            "pending".into()
        )]
    );
    assert_eq!(
        visible_and_base(&synced, id, "labels"),
        ("".into(), "".into())
    );
    // Setting the location back cancels the delete.
    let base = visible_and_base(&synced, id, "location").1;
    edit(&format!("UPDATE events SET location = '{base}'"));
    assert!(outbox_rows(&synced).is_empty());
    // Edits after a delete keep their order behind it.
    edit("DELETE FROM calls");
    edit("UPDATE calls SET read = 1");
    let ops: Vec<String> = outbox_rows(&synced).into_iter().map(|r| r.0).collect();
    assert_eq!(ops, vec!["delete", "set"]);
    drop(db);
    synced.cmd(&["push"]).assert().success();
    let (read, _, _, location) = upstream_flags(&synced, id);
    assert!(read);
    assert_eq!(location, "trash");
}

/// Everything a refused edit could have touched.
fn snapshot(synced: &Synced) -> String {
    synced
        .db()
        .query_row(
            "SELECT (SELECT group_concat(id || read || starred || labels || location, ';') FROM mirror_events)
                 || '|' || (SELECT count(*) FROM outbox)",
            [],
            |r| r.get(0),
        )
        .expect("snapshot")
}

#[test]
fn bad_edits_are_refused_and_change_nothing() {
    let synced = synced(200);
    let id = event_ids(&synced, "sms", 1)[0].to_string();
    let before = snapshot(&synced);
    for (args, message) in [
        (vec!["event", "read", "123"], "no event with id 123"),
        (vec!["event", "read", &id, "123"], "no event with id 123"),
        (vec!["event", "label", &id, "a,,b"], "empty entry"),
        (vec!["event", "label", &id, "a\u{1}b"], "control characters"),
        (vec!["event", "read", "twelve"], "invalid value"),
        (vec!["event", "archive", &id], "cannot archive events"),
        (vec!["event", "note", &id, "call back"], "write notes"),
        (vec!["event", "note", &id, "a\u{7}"], "control characters"),
    ] {
        let output = synced.cmd(&args).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            one_line_stderr(&output).contains(message),
            "{args:?}: {}",
            one_line_stderr(&output)
        );
    }
    let long = "x".repeat(65);
    let output = synced
        .cmd(&["event", "label", &id, &long])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));

    let db = synced.db();
    for (sql, message) in [
        ("UPDATE sms SET read = 2", "read must be 0 or 1"),
        ("UPDATE sms SET read = 'yes'", "read must be 0 or 1"),
        ("UPDATE sms SET starred = NULL", "starred must be 0 or 1"),
        ("UPDATE sms SET labels = 'a,,b'", "labels must be"),
        ("UPDATE sms SET labels = 'a, b'", "labels must be"),
        ("UPDATE sms SET labels = ',a'", "labels must be"),
        ("UPDATE sms SET labels = NULL", "labels must be"),
        ("UPDATE sms SET labels = 'a' || char(10)", "labels must be"),
        (
            "UPDATE sms SET location = 'archive'",
            "location can only be set to 'trash'",
        ),
        (
            "UPDATE sms SET text = 'x'",
            "only read, starred, labels, location, archived and note",
        ),
        (
            "UPDATE sms SET read = 1, text = 'x'",
            "only read, starred, labels, location, archived and note",
        ),
        ("UPDATE sms SET archived = 2", "archived must be 0 or 1"),
        ("UPDATE sms SET note = 'a' || char(1)", "a note is text"),
        // What the classic API cannot write is refused at once.
        ("UPDATE sms SET archived = 1 - archived", "cannot archive"),
        (
            "UPDATE sms SET note = 'call back'",
            "cannot archive events or write notes",
        ),
    ] {
        let error = db
            .execute(&format!("{sql} WHERE id = {id}"), [])
            .expect_err(sql);
        assert!(error.to_string().contains(message), "{sql}: {error}");
    }
    let error = db
        .execute("INSERT INTO events (id) VALUES (1)", [])
        .expect_err("insert");
    assert!(error.to_string().contains("cannot be inserted"), "{error}");
    drop(db);
    assert_eq!(snapshot(&synced), before);
}

#[test]
fn every_column_but_the_editable_ones_is_read_only_in_every_view() {
    let synced = synced(200);
    let db = synced.db();
    for view in [
        "event_flags",
        "events",
        "calls",
        "faxes",
        "sms",
        "voicemails",
    ] {
        let columns: Vec<String> = db
            .prepare(&format!("SELECT name FROM pragma_table_info('{view}')"))
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("columns");
        assert!(columns.len() > 5, "{view}");
        let id: i64 = db
            .query_row(&format!("SELECT min(id) FROM {view}"), [], |r| r.get(0))
            .expect("an event");
        for column in columns {
            let sql = format!("UPDATE {view} SET {column} = {column} WHERE id = {id}");
            let result = db.execute(&sql, []);
            let editable = ["read", "starred", "labels", "location", "archived", "note"];
            if editable.contains(&column.as_str()) {
                result.unwrap_or_else(|e| panic!("{sql}: {e}"));
            } else {
                let error = result.expect_err(&sql).to_string();
                assert!(error.contains("only read, starred"), "{sql}: {error}");
            }
        }
    }
    assert!(outbox_rows(&synced).is_empty());
}

#[test]
fn a_pull_keeps_a_pending_edit_and_the_push_settles_it() {
    let synced = synced(300);
    let id = event_ids(&synced, "call", 1)[0];
    reset_upstream(&synced, id, false, false);
    synced.sync_ok(&["--full"]);
    synced
        .cmd(&["event", "read", &id.to_string()])
        .assert()
        .success();
    synced
        .cmd(&["event", "label", &id.to_string(), "mine"])
        .assert()
        .success();
    // Upstream changes the same event meanwhile ("on the website").
    synced.control(
        "PATCH",
        &format!("/_emulator/events/{id}"),
        Some(json!({ "starred": true, "labels": "website" })),
    );
    synced.sync_ok(&["--no-push", "--full"]);
    assert_eq!(
        visible_and_base(&synced, id, "read"),
        ("1".into(), "0".into())
    );
    assert_eq!(
        visible_and_base(&synced, id, "labels"),
        ("mine".into(), "website".into())
    );
    // Fields without a local edit follow upstream.
    assert_eq!(
        visible_and_base(&synced, id, "starred"),
        ("1".into(), "1".into())
    );
    assert_eq!(outbox_rows(&synced).len(), 2);
    // The website changed the labels after the local edit was made: a conflict, although a
    // pull came between (settled by the default policy: the local value is written, and the
    // conflict counted). The read flag was not changed upstream: no conflict.
    let output = synced.cmd(&["--json", "push"]).output().expect("push");
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["pushed"], 2);
    assert_eq!(report["conflicts"], 1);
    assert_eq!(
        visible_and_base(&synced, id, "read"),
        ("1".into(), "1".into())
    );
    assert_eq!(
        visible_and_base(&synced, id, "labels"),
        ("mine".into(), "mine".into())
    );
    let (read, starred, labels, _) = upstream_flags(&synced, id);
    assert_eq!((read, starred, labels.as_str()), (true, true, "mine"));
}

#[test]
fn sync_pushes_first_unless_told_not_to() {
    let synced = synced(200);
    let id = event_ids(&synced, "voicemail", 1)[0];
    reset_upstream(&synced, id, false, false);
    synced.sync_ok(&["--full"]);
    synced
        .cmd(&["event", "star", &id.to_string()])
        .assert()
        .success();
    synced.sync_ok(&["--no-push"]);
    assert!(!upstream_flags(&synced, id).1);
    assert_eq!(outbox_rows(&synced).len(), 1);
    let output = synced.cmd(&["--json", "sync"]).output().expect("sync");
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["push"]["pushed"], 1);
    assert!(upstream_flags(&synced, id).1);
    assert!(outbox_rows(&synced).is_empty());
}

/// Labels an event locally, then changes them upstream behind the mirror's back.
#[test]
fn dropping_an_edit_shows_the_upstream_value_again() {
    let synced = synced(200);
    let id = event_ids(&synced, "fax", 1)[0];
    reset_upstream(&synced, id, false, false);
    synced.sync_ok(&["--full"]);
    synced
        .cmd(&["event", "read", &id.to_string()])
        .assert()
        .success();
    let entry = only_entry(&synced);
    synced
        .cmd(&["outbox", "drop", &entry.to_string()])
        .assert()
        .success();
    assert_eq!(
        visible_and_base(&synced, id, "read"),
        ("0".into(), "0".into())
    );
    assert!(outbox_rows(&synced).is_empty());
    assert_eq!(log_results(&synced), vec!["dropped"]);
    let output = synced
        .cmd(&["outbox", "drop", "999"])
        .output()
        .expect("drop");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("no outbox entry with id 999"));
}

#[test]
fn an_event_gone_upstream_closes_its_edit_with_a_record() {
    let synced = synced(200);
    let id = event_ids(&synced, "sms", 1)[0];
    synced
        .cmd(&["event", "star", &id.to_string()])
        .assert()
        .success();
    synced.control("DELETE", &format!("/_emulator/events/{id}"), None);
    let output = synced.cmd(&["--json", "push"]).output().expect("push");
    assert!(output.status.success(), "{}", one_line_stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["gone"], 1);
    assert!(outbox_rows(&synced).is_empty());
    assert_eq!(log_results(&synced), vec!["gone_upstream"]);
    let state: String = synced
        .db()
        .query_row(
            "SELECT upstream_state FROM mirror_events WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .expect("event");
    assert_eq!(state, "deleted");
    // And it can no longer be edited.
    let output = synced
        .cmd(&["event", "read", &id.to_string()])
        .output()
        .expect("edit");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("gone upstream"));
}

#[test]
fn a_refused_edit_is_kept_failed_and_shown() {
    let synced = synced(200);
    let id = event_ids(&synced, "call", 1)[0];
    // The SQL path does not know the API's 64-character limit; upstream refuses it (400).
    let long = "y".repeat(70);
    synced
        .db()
        .execute(
            &format!("UPDATE calls SET labels = '{long}' WHERE id = {id}"),
            [],
        )
        .expect("edit");
    let output = synced.cmd(&["push"]).output().expect("push");
    assert_eq!(output.status.code(), Some(3));
    let row: (String, i64, String) = synced
        .db()
        .query_row("SELECT state, attempts, last_error FROM outbox", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("entry");
    assert_eq!((row.0.as_str(), row.1), ("failed", 1));
    assert!(row.2.contains("400"), "{}", row.2);
    // Failed entries are not retried on their own.
    let before = synced.requests();
    synced.cmd(&["push"]).output().expect("push");
    assert_eq!(synced.requests(), before);
    // A pull does not clobber the visible value while the entry is kept.
    synced.sync_ok(&["--no-push", "--full"]);
    assert_eq!(visible_and_base(&synced, id, "labels").0, long);
}

#[test]
fn transient_errors_leave_the_edit_pending_for_a_later_run() {
    let synced = synced(200);
    let id = event_ids(&synced, "voicemail", 1)[0];
    reset_upstream(&synced, id, false, false);
    synced.sync_ok(&["--full"]);
    synced
        .cmd(&["event", "read", &id.to_string()])
        .assert()
        .success();
    synced.control(
        "PUT",
        "/_emulator/faults",
        // No Retry-After wait: the retries are what is tested, not the clock.
        Some(json!({ "status_rates": { "503": 1.0 }, "retry_after_s": 0 })),
    );
    let output = synced.cmd(&["push"]).output().expect("push");
    assert_eq!(output.status.code(), Some(3));
    assert!(one_line_stderr(&output).contains("will be retried"));
    let (state, attempts, next): (String, i64, Option<String>) = synced
        .db()
        .query_row(
            "SELECT state, attempts, next_attempt_at FROM outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("entry");
    assert_eq!((state.as_str(), attempts), ("pending", 1));
    assert!(next.is_some());
    synced.control("PUT", "/_emulator/faults", Some(json!({})));
    // Not due yet: the next push leaves it alone and says so.
    let output = synced.cmd(&["--json", "push"]).output().expect("push");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["waiting"], 1);
    assert!(!upstream_flags(&synced, id).0);
    let entry = only_entry(&synced);
    synced
        .cmd(&["outbox", "retry", &entry.to_string()])
        .assert()
        .success();
    synced.cmd(&["push"]).assert().success();
    assert!(upstream_flags(&synced, id).0);
}

#[test]
fn bad_credentials_stop_the_push_and_keep_the_outbox() {
    let synced = synced(200);
    let id = event_ids(&synced, "call", 1)[0];
    synced
        .cmd(&["event", "delete", &id.to_string()])
        .assert()
        .success();
    let output = synced
        .cmd(&["push"])
        .env("SIPGATE_PASSWORD", "wrong")
        .output()
        .expect("push");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("check SIPGATE_USERNAME"));
    assert_eq!(outbox_rows(&synced).len(), 1);
    assert_eq!(
        outbox_rows(&synced)[0].4,
        "pending",
        "bad credentials are not the edit's fault"
    );
}

#[test]
fn dry_run_shows_the_plan_and_sends_nothing() {
    let synced = synced(200);
    let id = event_ids(&synced, "call", 1)[0];
    synced
        .cmd(&["event", "star", &id.to_string()])
        .assert()
        .success();
    let before = synced.requests();
    let output = synced.cmd(&["push", "--dry-run"]).output().expect("push");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(&format!("would push: event {id} (call): starred")),
        "{text}"
    );
    assert_eq!(synced.requests(), before);
    assert_eq!(outbox_rows(&synced).len(), 1);
    let missing: Option<i64> = synced
        .db()
        .query_row("SELECT id FROM outbox_log", [], |r| r.get(0))
        .optional()
        .expect("log");
    assert_eq!(missing, None);
}

#[test]
fn upstream_reverting_a_pushed_edit_is_seen_by_the_next_pull() {
    // Found by the property test: the push moves the base without a new raw record, so a pull
    // that sees the old record again must still notice that the base moved.
    let synced = synced(200);
    let id = event_ids(&synced, "call", 1)[0];
    reset_upstream(&synced, id, false, false);
    synced.sync_ok(&["--full"]);
    synced
        .cmd(&["event", "star", &id.to_string()])
        .assert()
        .success();
    synced.cmd(&["push"]).assert().success();
    synced.control(
        "PATCH",
        &format!("/_emulator/events/{id}"),
        Some(json!({ "starred": false })),
    );
    synced.sync_ok(&["--full"]);
    assert_eq!(
        visible_and_base(&synced, id, "starred"),
        ("0".into(), "0".into())
    );
}
