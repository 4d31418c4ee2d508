//! Write-back through sipgate's API v2: local edits made with the CLI and with SQL reach
//! upstream (`PUT /history/{id}`, bulk `PUT /history`, `DELETE /history`), what v2 cannot write
//! is refused before anything is queued, deletions are for good and held back past
//! `[push] max_deletes`, and conflicts follow the configured policy.

use crate::common;

use common::{Dialect, Synced, assert_v2_mirror_equals_upstream, one_line_stderr, v2_json};
use serde_json::json;

/// A v2 mirror of a small world, with edits pushed quickly.
fn synced(events: usize) -> Synced {
    common::synced(Dialect::V2, events, 5)
}

/// Ids of present events of the mirror matching `filter`, newest first.
fn ids(s: &Synced, filter: &str, count: usize) -> Vec<String> {
    let db = s.db();
    let mut stmt = db
        .prepare(&format!(
            "SELECT id FROM events WHERE gone_upstream = 0 AND {filter} ORDER BY id DESC LIMIT {count}"
        ))
        .expect("prepare");
    let ids: Vec<i64> = stmt
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("ids");
    assert_eq!(ids.len(), count, "not enough events where {filter}");
    ids.iter().map(i64::to_string).collect()
}

/// The entry upstream, or None once it is gone (404).
fn entry(s: &Synced, id: &str) -> Option<serde_json::Value> {
    let answer = s
        .http
        .client
        .get(format!("{}/history/{id}", s.emulator.v2_base_url()))
        .basic_auth(s.emulator.token_id(), Some(s.emulator.token()))
        .send()
        .expect("request");
    match answer.status().as_u16() {
        200 => Some(answer.json().expect("json")),
        404 => None,
        other => panic!("GET /history/{id}: {other}"),
    }
}

/// Requests the emulator served whose `METHOD /path` starts with `prefix`.
fn served(s: &Synced, prefix: &str) -> u64 {
    s.emulator
        .stats()
        .requests
        .iter()
        .filter(|(key, _)| key.starts_with(prefix))
        .map(|(_, n)| n)
        .sum()
}

#[test]
fn edits_made_with_the_cli_and_with_sql_reach_upstream() {
    let s = synced(400);
    let unread = ids(&s, "read = 0 AND archived = 0", 3);
    let unstarred = ids(&s, "starred = 0 AND read = 1 AND archived = 0", 2);
    let noted = &unread[0];
    let call = ids(
        &s,
        "kind = 'call' AND read = 1 AND starred = 1 AND archived = 0",
        1,
    );
    let mut args = vec!["event", "read"];
    args.extend(unread.iter().map(String::as_str));
    s.v2_cmd(&args).assert().success();
    // Read again: nothing changes, nothing is queued, and the command says so.
    let queued = s.outbox_len();
    let again = s
        .v2_cmd(&["event", "read", &unread[1]])
        .output()
        .expect("run");
    assert!(again.status.success());
    let said = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(
        said.contains("already marked read; nothing changed"),
        "{said}"
    );
    assert!(!said.contains("sends the edit"), "{said}");
    assert_eq!(s.outbox_len(), queued);
    let as_json = s
        .v2_cmd(&["event", "read", &unread[1], "--json"])
        .output()
        .expect("run");
    let as_json: serde_json::Value = serde_json::from_slice(&as_json.stdout).expect("json");
    assert_eq!(
        (as_json["changed"].as_i64(), as_json["unchanged"].as_i64()),
        (Some(0), Some(1))
    );
    s.v2_cmd(&["event", "star", &unstarred[0]])
        .assert()
        .success();
    s.v2_cmd(&["event", "archive", &unstarred[1]])
        .assert()
        .success();
    s.v2_cmd(&["event", "note", noted, "call back on Monday"])
        .assert()
        .success();
    // The same through plain SQL on the views, as a person in sqlite3 would.
    let voicemails = ids(&s, "kind = 'voicemail' AND archived = 0 AND starred = 0", 4);
    let list = voicemails.join(",");
    let db = s.db();
    db.execute(
        &format!("UPDATE voicemails SET archived = 1, starred = 1 WHERE id IN ({list})"),
        [],
    )
    .expect("SQL edit");
    db.execute(
        &format!(
            "UPDATE calls SET note = 'from sqlite3' WHERE id = {}",
            call[0]
        ),
        [],
    )
    .expect("SQL note");
    drop(db);
    assert!(s.outbox_len() >= 12);

    s.emulator.reset_stats();
    s.v2_cmd(&["push"]).assert().success();
    assert_eq!(s.outbox_len(), 0);
    for id in &unread {
        assert_eq!(entry(&s, id).expect("entry")["read"], true, "{id}");
    }
    assert_eq!(entry(&s, &unstarred[0]).expect("entry")["starred"], true);
    assert_eq!(entry(&s, &unstarred[1]).expect("entry")["archived"], true);
    assert_eq!(
        entry(&s, noted).expect("entry")["note"],
        "call back on Monday"
    );
    assert_eq!(entry(&s, &call[0]).expect("entry")["note"], "from sqlite3");
    for id in &voicemails {
        let e = entry(&s, id).expect("entry");
        assert_eq!(
            (&e["archived"], &e["starred"]),
            (&json!(true), &json!(true))
        );
    }
    // Flags of many events went in bulk, notes one event at a time: far fewer writes than
    // events, and never a bulk update of 150 or more.
    let bulk = s.emulator.stats().count("PUT /v2/history");
    assert!(bulk >= 1, "no bulk update");
    let single = served(&s, "PUT /v2/history/");
    assert_eq!(single, 2, "one PUT per event with a note");

    // The next sync finds nothing to change, and the mirror equals upstream.
    s.v2_sync_ok(&[]);
    assert_v2_mirror_equals_upstream(&s);
    let note: String = s
        .db()
        .query_row(
            &format!("SELECT note FROM events WHERE id = {noted}"),
            [],
            |r| r.get(0),
        )
        .expect("note");
    assert_eq!(note, "call back on Monday");
}

#[test]
fn labels_are_refused_at_once_from_the_cli_and_from_sql() {
    let s = synced(100);
    let id = &ids(&s, "1", 1)[0];
    s.emulator.reset_stats();
    let output = s
        .v2_cmd(&["event", "label", id, "todo"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("labels cannot be written through sipgate's API v2"));
    let error = s
        .db()
        .execute(
            &format!("UPDATE events SET labels = 'todo', read = 1 WHERE id = {id}"),
            [],
        )
        .expect_err("refused");
    assert!(error.to_string().contains("API v2"), "{error}");
    // Nothing changed, nothing queued, nothing sent.
    let (labels, read_changed): (String, i64) = s
        .db()
        .query_row(
            &format!("SELECT labels, read IS NOT read_base FROM mirror_events WHERE id = {id}"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert_eq!((labels.as_str(), read_changed, s.outbox_len()), ("", 0, 0));
    assert_eq!(s.emulator.stats().requests_total, 0);
}

#[test]
fn deletions_are_for_good_and_many_wait_for_confirmation() {
    let s = synced(400);
    let few = ids(&s, "1", 3);
    let mut args = vec!["event", "delete"];
    args.extend(few.iter().map(String::as_str));
    s.v2_cmd(&args).assert().success();
    s.v2_cmd(&["push"]).assert().success();
    for id in &few {
        assert!(entry(&s, id).is_none(), "{id} still upstream");
        let (location, gone): (String, i64) = s
            .db()
            .query_row(
                &format!("SELECT location, gone_upstream FROM events WHERE id = {id}"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("row");
        assert_eq!((location.as_str(), gone), ("trash", 1), "{id}");
    }

    // 60 deletions are more than max_deletes (50): all held back, the other edits still go.
    let many = ids(&s, "1", 60);
    s.db()
        .execute(
            &format!("DELETE FROM events WHERE id IN ({})", many.join(",")),
            [],
        )
        .expect("delete");
    let other = &ids(&s, "read = 0 AND location <> 'trash'", 1)[0];
    s.v2_cmd(&["event", "read", other]).assert().success();
    s.emulator.reset_stats();
    let output = s.v2_cmd(&["push"]).output().expect("push");
    assert_eq!(output.status.code(), Some(3));
    let line = one_line_stderr(&output);
    assert!(
        line.contains("60 deletions held back") && line.contains("--confirm-deletes"),
        "{line}"
    );
    assert_eq!(served(&s, "DELETE "), 0);
    assert_eq!(entry(&s, other).expect("entry")["read"], true);
    assert!(many.iter().all(|id| entry(&s, id).is_some()));
    assert_eq!(s.outbox_len(), 60);
    // A sync keeps them held back too, and says so.
    let output = s.v2_sync(&[]);
    assert_eq!(output.status.code(), Some(3));

    s.emulator.reset_stats();
    s.v2_cmd(&["push", "--confirm-deletes"]).assert().success();
    assert_eq!(s.outbox_len(), 0);
    assert!(many.iter().all(|id| entry(&s, id).is_none()));
    // In batches of at most 50 ids, never without one.
    assert_eq!(s.emulator.stats().count("DELETE /v2/history"), 2);
    s.v2_sync_ok(&["--full"]);
    assert_v2_mirror_equals_upstream(&s);
}

#[test]
fn a_larger_limit_lets_deletions_through_without_confirmation() {
    let s = synced(200);
    s.home.write_config(
        "[http]\nretry_base = \"1ms\"\nmax_attempts = 12\n[push]\nmax_deletes = 100\n",
        0o600,
    );
    let many = ids(&s, "1", 60);
    s.db()
        .execute(
            &format!("DELETE FROM events WHERE id IN ({})", many.join(",")),
            [],
        )
        .expect("delete");
    s.v2_cmd(&["push"]).assert().success();
    assert!(many.iter().all(|id| entry(&s, id).is_none()));
}

/// Edits a field locally, changes it "on the website", pushes under `policy`.
/// v2 files an archived event in the archive, so pushing `archived` moves the event's
/// location too. That was our own change: a delete made after it is no conflict, and
/// `upstream-wins` must not drop it.
#[test]
fn a_delete_after_an_archive_push_is_no_conflict() {
    let s = synced(150);
    s.home
        .write_config("[push]\nconflict = \"upstream-wins\"\n", 0o600);
    let id = ids(&s, "archived = 0 AND location = 'inbox'", 1).remove(0);
    s.v2_cmd(&["event", "archive", &id]).assert().success();
    s.v2_cmd(&["push"]).assert().success();
    let shown = |s: &Synced| -> String {
        s.db()
            .query_row(
                &format!("SELECT location FROM events WHERE id = {id}"),
                [],
                |r| r.get(0),
            )
            .expect("location")
    };
    assert_eq!(entry(&s, &id).expect("entry")["archived"], true);
    assert_eq!(
        shown(&s),
        "archive",
        "the push moved the location as a pull would"
    );
    s.v2_cmd(&["event", "delete", &id]).assert().success();
    let output = s.v2_cmd(&["--json", "push"]).output().expect("push");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["conflicts"].as_u64(), Some(0), "{report}");
    assert!(entry(&s, &id).is_none(), "the delete reached upstream");
    s.v2_sync_ok(&["--full"]);
    assert_v2_mirror_equals_upstream(&s);
}

#[test]
fn an_event_gone_upstream_fails_alone_in_a_bulk_update() {
    let s = synced(300);
    let edited = ids(&s, "read = 0", 5);
    let mut args = vec!["event", "read"];
    args.extend(edited.iter().map(String::as_str));
    s.v2_cmd(&args).assert().success();
    // Deleted on the website after it was read for the push: the bulk update meets a 404.
    let gone = &edited[2];
    s.control("DELETE", &format!("/_emulator/events/{gone}"), None);
    s.v2_cmd(&["push"]).assert().success();
    for id in edited.iter().filter(|id| *id != gone) {
        assert_eq!(entry(&s, id).expect("entry")["read"], true, "{id}");
    }
    let gone_upstream: i64 = s
        .db()
        .query_row(
            &format!("SELECT gone_upstream FROM events WHERE id = {gone}"),
            [],
            |r| r.get(0),
        )
        .expect("row");
    assert_eq!((gone_upstream, s.outbox_len()), (1, 0));
}

#[test]
fn edits_reach_upstream_under_faults_and_with_text_ids() {
    let s = Synced::start(300, 5);
    s.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({ "text_ids": true })),
    );
    s.v2_sync_ok(&[]);
    let text_id: String = s
        .db()
        .query_row(
            "SELECT id FROM events e JOIN mirror_events m USING (id) WHERE m.upstream_id IS NOT NULL AND e.read = 0 LIMIT 1",
            [],
            |r| r.get::<_, i64>(0).map(|i| i.to_string()),
        )
        .expect("an event with a text id");
    let edited = ids(&s, "read = 0", 20);
    let mut args = vec!["event", "read", text_id.as_str()];
    args.extend(edited.iter().map(String::as_str));
    s.v2_cmd(&args).assert().success();
    s.v2_cmd(&["event", "note", &text_id, "text ids work"])
        .assert()
        .success();
    s.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({
            "text_ids": true,
            "status_rates": {"500": 0.2, "429": 0.05},
            "reset_rate": 0.05,
            "lose_response_rate": 0.1
        })),
    );
    // Pushes under faults converge: what fails for now is retried by the next one.
    for _ in 0..20 {
        s.db()
            .execute("UPDATE outbox SET next_attempt_at = NULL", [])
            .expect("due");
        let _ = s.v2_cmd(&["push"]).output().expect("push");
        if s.outbox_len() == 0 {
            break;
        }
    }
    assert_eq!(s.outbox_len(), 0);
    s.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({ "text_ids": true })),
    );
    let upstream = v2_json(&s, "/history?archived=false&limit=1000");
    let text_entry = upstream["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["note"] == "text ids work")
        .expect("the note reached the entry with a text id");
    assert!(
        text_entry["id"]
            .as_str()
            .is_some_and(|id| id.starts_with('h'))
    );
    assert_eq!(text_entry["read"], true);
    // Every edit is upstream, checked before any pull could show upstream's value again.
    let upstream = common::v2_upstream(&s);
    for id in edited.iter().chain([&text_id]) {
        let upstream_id: String = s
            .db()
            .query_row(
                "SELECT coalesce(upstream_id, CAST(id AS TEXT)) FROM mirror_events WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .expect("upstream id");
        let entry = upstream.get(&upstream_id).expect("still upstream");
        assert!(entry.0, "event {id} ({upstream_id}) is read upstream");
    }
    s.v2_sync_ok(&["--full"]);
    assert_v2_mirror_equals_upstream(&s);
}

#[test]
fn many_edits_are_read_back_in_a_few_listings_and_conflicts_still_seen() {
    let s = synced(1500);
    s.home.write_config(
        "[http]\nretry_base = \"1ms\"\nmax_attempts = 12\n[push]\nconflict = \"upstream-wins\"\n",
        0o600,
    );
    let edited = ids(&s, "starred = 0 AND archived = 0", 300);
    s.db()
        .execute(
            &format!(
                "UPDATE events SET starred = 1 WHERE id IN ({})",
                edited.join(",")
            ),
            [],
        )
        .expect("edit");
    // A local note, and meanwhile on the website: the same event gets another note (a
    // conflict, which upstream wins here), one edited event is deleted (the listing cannot
    // show it), one is starred there too (upstream already has the value).
    let noted = &edited[30];
    s.v2_cmd(&["event", "note", noted, "mine"])
        .assert()
        .success();
    s.control(
        "PATCH",
        &format!("/_emulator/events/{noted}"),
        Some(json!({ "comment": "the website's" })),
    );
    let gone = &edited[10];
    s.control("DELETE", &format!("/_emulator/events/{gone}"), None);
    let already = &edited[20];
    s.control(
        "PATCH",
        &format!("/_emulator/events/{already}"),
        Some(json!({ "starred": true })),
    );
    s.emulator.reset_stats();
    s.v2_cmd(&["push"]).assert().success();
    let stats = s.emulator.stats();
    let reads = served(&s, "GET /v2/history/");
    let listings = stats.count("GET /v2/history");
    // 300 events read in a few listing pages; only the deleted one alone.
    assert_eq!(reads, 1, "single reads");
    assert!(listings <= 6, "{listings} listing pages");
    // 298 events to write: two bulk updates of 149 (the noted one among them: a conflict
    // settled for upstream leaves only its star to write).
    assert_eq!(
        stats.count("PUT /v2/history"),
        2,
        "bulk updates of up to 149"
    );
    assert_eq!(served(&s, "PUT /v2/history/"), 0);
    assert_eq!(entry(&s, noted).expect("entry")["note"], "the website's");
    assert!(entry(&s, gone).is_none());
    for id in edited.iter().filter(|id| *id != gone) {
        assert_eq!(entry(&s, id).expect("entry")["starred"], true, "{id}");
    }
    assert_eq!(s.outbox_len(), 0);
    s.v2_sync_ok(&["--full"]);
    assert_v2_mirror_equals_upstream(&s);
}

#[test]
fn the_emulator_refuses_what_sipgate_refuses_for_history_writes() {
    let s = Synced::start(200, 2);
    let send = |method: &str, path: &str, body: serde_json::Value| {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        s.http
            .client
            .request(method, format!("{}{path}", s.emulator.v2_base_url()))
            .basic_auth(s.emulator.token_id(), Some(s.emulator.token()))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .expect("request")
            .status()
            .as_u16()
    };
    let ids: Vec<String> = v2_json(&s, "/history?limit=150")["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(ids.len(), 150);
    let bulk = |n: usize| {
        json!(
            ids[..n]
                .iter()
                .map(|id| json!({"id": id, "read": true}))
                .collect::<Vec<_>>()
        )
    };
    assert_eq!(send("PUT", "/history", bulk(150)), 400, "150 entries");
    assert_eq!(send("PUT", "/history", bulk(149)), 204);
    assert_eq!(
        send("PUT", "/history", json!([{"id": ids[0], "note": "x"}])),
        400,
        "no notes in bulk"
    );
    assert_eq!(
        send("PUT", "/history", json!([{"id": ids[0]}, {"id": "nope"}])),
        404
    );
    assert_eq!(
        send("DELETE", "/history", json!(null)),
        400,
        "never without ids"
    );
    assert_eq!(
        send(
            "DELETE",
            &format!("/history?id={}&id=nope", ids[1]),
            json!(null)
        ),
        404
    );
    assert!(entry(&s, &ids[1]).is_some(), "all or nothing");
    assert_eq!(
        send(
            "PUT",
            &format!("/history/{}", ids[2]),
            json!({"archived": "yes"})
        ),
        400
    );
    assert_eq!(
        send(
            "PUT",
            &format!("/history/{}", ids[2]),
            json!({"note": "ok"})
        ),
        204
    );
    assert_eq!(entry(&s, &ids[2]).expect("entry")["note"], "ok");
    // A token that may read the history but not write it.
    let reader = sipmirror::emulator::Emulator::start(sipmirror::emulator::EmulatorConfig {
        events: 10,
        contacts: 1,
        token_scopes: vec!["history:read".into()],
        ..Default::default()
    })
    .expect("emulator");
    let status = s
        .http
        .client
        .put(format!("{}/history", reader.v2_base_url()))
        .basic_auth(reader.token_id(), Some(reader.token()))
        .body("[]")
        .send()
        .expect("request")
        .status()
        .as_u16();
    assert_eq!(status, 403);
}
