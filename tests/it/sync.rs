//! `sipmirror sync` against the emulator: first and incremental syncs, flag changes,
//! deletions and the mass-delete guard, faults, and a sync killed mid-run.

use crate::common;

use std::collections::BTreeMap;

use common::{KINDS, Synced, TestHome, assert_mirror_equals_upstream, one_line_stderr};
use rusqlite::params;
use serde_json::{Value, json};

#[test]
fn first_sync_mirrors_everything_field_by_field() {
    let s = Synced::start(2500, 80);
    s.sync_ok(&[]);
    assert_mirror_equals_upstream(&s);
    let db = s.db();
    // A sample of each type, field by field.
    for (plural, _) in KINDS {
        for e in s.upstream_events(plural).iter().step_by(97) {
            let id = e["id"].as_str().expect("id");
            let (created, direction, status, raw): (String, Option<String>, Option<String>, String) = db
                .query_row(
                    "SELECT created_upstream, direction, status, raw_json FROM mirror_events WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .expect("row");
            assert_eq!(created, e["created"].as_str().expect("created"));
            assert_eq!(direction.as_deref(), e["direction"].as_str());
            assert_eq!(status.as_deref(), e["status"].as_str());
            assert_eq!(
                serde_json::from_str::<Value>(&raw).expect("raw json"),
                *e,
                "raw JSON kept verbatim"
            );
            let sources: i64 = db
                .query_row("SELECT count(*) FROM mirror_event_endpoints WHERE event_id = ?1 AND role = 'source'", [id], |r| r.get(0))
                .expect("sources");
            assert_eq!(
                sources as usize,
                e["sources"].as_array().expect("sources").len()
            );
            match plural {
                "sms" => {
                    let text: Option<String> = db
                        .query_row(
                            "SELECT text FROM mirror_sms WHERE event_id = ?1",
                            [id],
                            |r| r.get(0),
                        )
                        .expect("sms");
                    assert_eq!(text.as_deref(), e["text"].as_str());
                }
                "voicemails" => {
                    let (duration, transcription): (Option<i64>, Option<String>) = db
                        .query_row("SELECT duration_s, transcription FROM mirror_voicemails WHERE event_id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .expect("voicemail");
                    assert_eq!(
                        duration.map(|d| d.to_string()).as_deref(),
                        e["duration"].as_str()
                    );
                    assert_eq!(transcription.as_deref(), e["transcription"].as_str());
                }
                "faxes" => {
                    let pages: i64 = db
                        .query_row(
                            "SELECT count(*) FROM mirror_fax_pages WHERE event_id = ?1",
                            [id],
                            |r| r.get(0),
                        )
                        .expect("pages");
                    assert_eq!(pages, e["pageCount"].as_i64().expect("pageCount"));
                }
                _ => {
                    let duration: Option<i64> = db
                        .query_row(
                            "SELECT duration_s FROM mirror_calls WHERE event_id = ?1",
                            [id],
                            |r| r.get(0),
                        )
                        .expect("call");
                    assert_eq!(duration, e["duration"].as_i64());
                }
            }
        }
    }
    // Caller names resolve through the normalized numbers.
    let matched: i64 = db
        .query_row(
            "SELECT count(*) FROM mirror_event_endpoints ep JOIN mirror_contact_numbers n ON n.number_key = ep.number_key",
            [],
            |r| r.get(0),
        )
        .expect("join");
    assert!(matched > 0, "event numbers must join contact numbers");
    // Settings and balance, without credentials.
    let extensions: i64 = db
        .query_row("SELECT count(*) FROM mirror_extensions", [], |r| r.get(0))
        .expect("extensions");
    assert_eq!(extensions, 7);
    let leaked: i64 = db
        .query_row("SELECT count(*) FROM mirror_extensions WHERE raw_json LIKE '%sipPassword%' OR raw_json LIKE '%\"pin\"%'", [], |r| r.get(0))
        .expect("leak check");
    assert_eq!(leaked, 0, "SIP passwords and PINs never enter the mirror");
    let (total, history): (f64, i64) = db
        .query_row("SELECT total_including_vat, (SELECT count(*) FROM mirror_balance_history) FROM mirror_balance", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("balance");
    assert_eq!(
        Some(total),
        s.http.json("/my/billing/balance/")["balance"]["totalIncludingVat"].as_f64()
    );
    assert_eq!(history, 1);
    let (new, changed): (i64, i64) = db
        .query_row(
            "SELECT new, changed FROM sync_run_streams WHERE stream = 'balance'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("balance counts");
    assert_eq!((new, changed), (1, 0), "the first balance counts as new");
    let runs: (String, i64) = db
        .query_row("SELECT outcome, requests FROM sync_runs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("run");
    assert_eq!(runs.0, "ok");
    assert!(runs.1 > 0);
}

#[test]
fn a_second_sync_without_changes_is_cheap() {
    let s = Synced::start(4500, 30);
    s.sync_ok(&[]);
    s.emulator.reset_stats();
    s.sync_ok(&[]);
    let stats = s.emulator.stats();
    for (plural, _) in KINDS {
        let n = stats.count(&format!("GET /my/events/{plural}/"));
        assert!((1..=2).contains(&n), "{plural}: {n} requests");
    }
    let db = s.db();
    let changed: i64 = db
        .query_row("SELECT sum(new + changed + deleted) FROM sync_run_streams WHERE run_id = (SELECT max(id) FROM sync_runs)", [], |r| r.get(0))
        .expect("counts");
    assert_eq!(changed, 0);
    let history: i64 = db
        .query_row("SELECT count(*) FROM mirror_balance_history", [], |r| {
            r.get(0)
        })
        .expect("history");
    assert_eq!(history, 1, "an unchanged balance adds no history");
}

#[test]
fn new_events_and_flag_changes_inside_the_lookback() {
    let s = Synced::start(1500, 20);
    s.sync_ok(&[]);
    let added = s.control(
        "POST",
        "/_emulator/events",
        Some(json!({"type": "voicemails", "count": 3})),
    );
    let newest = s.upstream_events("calls")[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    s.control(
        "PATCH",
        &format!("/_emulator/events/{newest}"),
        Some(json!({"read": false, "starred": true, "labels": "kunde,rückruf"})),
    );
    s.sync_ok(&[]);
    let db = s.db();
    for id in added["ids"].as_array().expect("ids") {
        let kind: String = db
            .query_row(
                "SELECT kind FROM mirror_events WHERE id = ?1",
                [id.as_str().expect("id")],
                |r| r.get(0),
            )
            .expect("new event");
        assert_eq!(kind, "voicemail");
    }
    let (read, starred, labels): (bool, bool, String) = db
        .query_row(
            "SELECT read, starred, labels FROM mirror_events WHERE id = ?1",
            [&newest],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("row");
    assert_eq!(
        (read, starred, labels.as_str()),
        (false, true, "kunde,rückruf")
    );
    assert_mirror_equals_upstream(&s);
}

#[test]
fn old_flag_changes_and_hard_deletions_need_a_full_listing() {
    let s = Synced::start(1500, 20);
    s.sync_ok(&[]);
    let calls = s.upstream_events("calls");
    let old = calls.last().expect("oldest")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let old_starred = calls.last().expect("oldest")["starred"]["value"]
        .as_bool()
        .expect("starred");
    s.control(
        "PATCH",
        &format!("/_emulator/events/{old}"),
        Some(json!({"starred": !old_starred})),
    );
    let gone: Vec<String> = calls[400..402]
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect();
    for id in &gone {
        s.control("DELETE", &format!("/_emulator/events/{id}"), None);
    }
    // An incremental sync only re-reads the lookback window.
    s.sync_ok(&[]);
    let db = s.db();
    let starred: bool = db
        .query_row(
            "SELECT starred FROM mirror_events WHERE id = ?1",
            [&old],
            |r| r.get(0),
        )
        .expect("row");
    assert_eq!(starred, old_starred, "outside the lookback window");
    s.sync_ok(&["--full"]);
    let starred: bool = db
        .query_row(
            "SELECT starred FROM mirror_events WHERE id = ?1",
            [&old],
            |r| r.get(0),
        )
        .expect("row");
    assert_eq!(starred, !old_starred, "seen by --full");
    for id in &gone {
        let (state, at): (String, Option<String>) = db
            .query_row(
                "SELECT upstream_state, deleted_upstream_at FROM mirror_events WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("still in the mirror");
        assert_eq!(state, "deleted");
        assert!(at.is_some());
    }
    assert_mirror_equals_upstream(&s);
}

#[test]
fn a_full_listing_runs_on_its_own_when_the_last_is_old() {
    let s = Synced::start(1200, 10);
    s.sync_ok(&[]);
    let calls = s.upstream_events("calls");
    let old = calls.last().expect("oldest")["id"]
        .as_str()
        .expect("id")
        .to_string();
    s.control(
        "PATCH",
        &format!("/_emulator/events/{old}"),
        Some(json!({"labels": "archiv"})),
    );
    // Pretend the last complete listing was two days ago.
    s.db()
        .execute("UPDATE sync_streams SET last_full_at = '2000-01-01T00:00:00.000Z' WHERE stream = 'calls'", [])
        .expect("age the stream");
    s.sync_ok(&[]);
    let labels: String = s
        .db()
        .query_row(
            "SELECT labels FROM mirror_events WHERE id = ?1",
            [&old],
            |r| r.get(0),
        )
        .expect("row");
    assert_eq!(labels, "archiv");
}

#[test]
fn the_mass_delete_guard_refuses_until_forced() {
    let s = Synced::start(1200, 40);
    s.sync_ok(&[]);
    let calls = s.upstream_events("calls");
    let doomed: Vec<String> = calls
        .iter()
        .take(calls.len() / 4)
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect();
    for id in &doomed {
        s.control("DELETE", &format!("/_emulator/events/{id}"), None);
    }
    let output = s.sync(&["--full", "--only", "calls"]);
    assert_ne!(output.status.code(), Some(0));
    let stderr = one_line_stderr(&output);
    assert!(stderr.contains("--force-delete"), "{stderr}");
    let deleted: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM mirror_events WHERE upstream_state = 'deleted'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(deleted, 0, "nothing is marked when the guard trips");
    s.sync_ok(&["--full", "--only", "calls", "--force-delete"]);
    let deleted: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM mirror_events WHERE upstream_state = 'deleted'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(deleted as usize, doomed.len());

    // The same guard for contacts.
    let contacts = s.http.json("/my/contacts/");
    for c in contacts["Contacts"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .take(20)
    {
        s.control(
            "DELETE",
            &format!(
                "/_emulator/contacts/{}",
                c["contactMeta"]["UUID"].as_str().expect("uuid")
            ),
            None,
        );
    }
    let output = s.sync(&["--only", "contacts"]);
    assert_eq!(output.status.code(), Some(1), "the only stream failed");
    assert!(one_line_stderr(&output).contains("--force-delete"));
    s.sync_ok(&["--only", "contacts", "--force-delete"]);
    let gone: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM mirror_contacts WHERE upstream_state = 'deleted'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(gone, 20);
}

/// When each contact row was last written.
fn updated_at_by_uuid(db: &rusqlite::Connection) -> BTreeMap<String, String> {
    db.prepare("SELECT uuid, updated_at FROM mirror_contacts")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn contacts_changes_and_unchanged_contacts() {
    let s = Synced::start(10, 50);
    s.sync_ok(&[]);
    let db = s.db();
    let before = updated_at_by_uuid(&db);
    let uuid = before.keys().nth(3).expect("a contact").clone();
    s.control(
        "PATCH",
        &format!("/_emulator/contacts/{uuid}"),
        Some(json!({"given": "Änne", "family": "Zyx", "numbers": ["+49 30 5550001"]})),
    );
    s.sync_ok(&["--only", "contacts"]);
    let after = updated_at_by_uuid(&db);
    let rewritten: Vec<&String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        rewritten,
        vec![&uuid],
        "only the changed contact is rewritten"
    );
    let (name, key): (String, String) = db
        .query_row(
            "SELECT c.formatted_name, n.number_key FROM mirror_contacts c JOIN mirror_contact_numbers n ON n.contact_uuid = c.uuid WHERE c.uuid = ?1",
            [&uuid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert_eq!(name, "Änne Zyx");
    assert_eq!(key, "49305550001");
}

#[test]
fn a_pending_local_edit_is_not_overwritten_by_a_pull() {
    let s = Synced::start(800, 5);
    s.sync_ok(&[]);
    let call = s.upstream_events("calls")[0].clone();
    let id = call["id"].as_str().expect("id").to_string();
    let upstream_read = call["read"]["value"].as_bool().expect("read");
    // A local edit waiting in the outbox: visible value changed, base unchanged.
    let db = s.db();
    db.execute(
        "INSERT INTO outbox (op, event_id, field, value, created_at, updated_at) VALUES ('set', ?1, 'read', ?2, 'now', 'now')",
        params![id, if upstream_read { "0" } else { "1" }],
    )
    .expect("outbox");
    db.execute(
        "UPDATE mirror_events SET read = ?2 WHERE id = ?1",
        params![id, !upstream_read],
    )
    .expect("local edit");
    // Upstream changes other fields of the same event.
    s.control(
        "PATCH",
        &format!("/_emulator/events/{id}"),
        Some(json!({"starred": true, "labels": "x"})),
    );
    s.sync_ok(&["--no-push"]);
    let (read, read_base, starred, labels): (bool, bool, bool, String) = db
        .query_row(
            "SELECT read, read_base, starred, labels FROM mirror_events WHERE id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("row");
    assert_eq!(read, !upstream_read, "the pending edit stays visible");
    assert_eq!(read_base, upstream_read, "the base follows upstream");
    assert!(starred);
    assert_eq!(labels, "x", "fields without a pending edit follow upstream");
}

#[test]
fn events_arriving_while_a_sync_pages_are_neither_duplicated_nor_missed() {
    for dialect in common::BOTH {
        let s = Synced::start(5000, 5);
        // v2 has no trash: what the classic API shows in the trash is gone from v2.
        let listed = |e: &serde_json::Value| {
            matches!(dialect, common::Dialect::Classic) || e["location"] != "trash"
        };
        let before: usize = common::KINDS
            .iter()
            .map(|(plural, _)| {
                s.upstream_events(plural)
                    .iter()
                    .filter(|e| listed(e))
                    .count()
            })
            .sum();
        // New calls arrive while the sync pages: it is paused after its first page was
        // committed, the calls are added, and it goes on.
        let pause = s.home.path().join("paused");
        let mut child = dialect
            .std_cmd(&s, &["sync", "--only", "events"])
            .env("SIPMIRROR_CRASH_AT", "pause:sync:events_page:committed#1")
            .env("SIPMIRROR_PAUSE_FILE", &pause)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sync");
        common::wait_for_pause(&pause, &mut child);
        s.control(
            "POST",
            "/_emulator/events",
            Some(json!({"type": "calls", "count": 35})),
        );
        std::fs::remove_file(&pause).expect("go on");
        let output = child.wait_with_output().expect("sync");
        assert!(
            output.status.success(),
            "{dialect:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        // Every event that was there when the run began is in the mirror: none was missed
        // because newer ones pushed it down the listing while it paged.
        let mirrored: i64 = s
            .db()
            .query_row("SELECT count(*) FROM mirror_events", [], |r| r.get(0))
            .expect("count");
        assert!(
            mirrored as usize >= before && mirrored as usize <= before + 35,
            "{dialect:?}: {mirrored} mirrored, {before} before the run"
        );
        // The ones that arrived meanwhile come with the next run.
        dialect.sync_ok(&s, &[]);
        dialect.assert_equal(&s);
    }
}

#[test]
fn with_faults_a_sync_converges_at_bounded_cost() {
    let clean = Synced::with_seed(9, 4000, 100);
    clean.sync_ok(&[]);
    let fault_free = clean.requests();
    let s = Synced::with_seed(9, 4000, 100);
    s.control("PUT", "/_emulator/faults", Some(json!({"status_rates": {"500": 0.2, "429": 0.05}, "retry_after_s": 0, "reset_rate": 0.05})));
    let output = s.sync(&[]);
    let faulty = s.requests();
    s.control("DELETE", "/_emulator/faults", None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_mirror_equals_upstream(&s);
    assert!(
        faulty <= 2 * fault_free,
        "{faulty} requests with faults, {fault_free} without"
    );
}

/// The calls in the mirror, checked to be whole pages of the listing with their details, no
/// orphan rows and a sound file.
fn whole_pages_of_calls(s: &Synced, total: i64) -> i64 {
    let db = s.db();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(integrity, "ok");
    let (calls, details, orphans): (i64, i64, i64) = db
        .query_row(
            "SELECT (SELECT count(*) FROM mirror_events WHERE kind = 'call'),
                    (SELECT count(*) FROM mirror_calls),
                    (SELECT count(*) FROM mirror_event_endpoints ep
                       LEFT JOIN mirror_events e ON e.id = ep.event_id WHERE e.id IS NULL)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("counts");
    assert_eq!((details, orphans), (calls, 0));
    // Written oldest first: the oldest page holds the remainder, the others are full.
    assert!(
        calls == 0 || (calls - total % 1000) % 1000 == 0,
        "{calls} of {total} calls is not a whole number of pages"
    );
    calls
}

#[test]
fn bad_upstream_bodies_stop_with_a_clear_error_and_the_next_run_completes() {
    // The rate faults strike after a few good requests, so pages are already written when
    // the bad one comes: what was committed stays whole, the rest waits for the next run.
    for (fault, expected) in [
        (json!({"malformed_rate": 1.0}), "unreadable answer"),
        (json!({"truncate_rate": 1.0}), "cut off"),
        (json!({"wrong_type_rate": 1.0}), "id"),
        (
            json!({"status_rates": {"503": 1.0}, "retry_after_s": 0}),
            "503",
        ),
        (json!({"status_rates": {"400": 1.0}}), "400"),
    ] {
        let s = Synced::start(6000, 10);
        let total = s.upstream_events("calls").len() as i64;
        s.sync_ok(&["--only", "sms"]);
        // Every request fails here: three attempts say as much as twelve, in less time.
        s.home.write_config(
            "[http]\nretry_base = \"1ms\"\nmax_attempts = 3\ntimeout = \"20s\"\n",
            0o600,
        );
        let mut fault = fault.clone();
        fault["rates_after"] = json!(4);
        s.control("PUT", "/_emulator/faults", Some(fault.clone()));
        let output = s.sync(&["--only", "calls"]);
        assert_eq!(output.status.code(), Some(1), "{fault}");
        let stderr = one_line_stderr(&output);
        assert!(stderr.contains(expected), "{fault}: {stderr}");
        let written = whole_pages_of_calls(&s, total);
        assert!(
            written > 0 && written < total,
            "{fault}: some pages came before the bad one ({written} of {total})"
        );
        let outcome: String = s
            .db()
            .query_row(
                "SELECT outcome FROM sync_runs ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .expect("run");
        assert_eq!(outcome, "failed");
        s.control("DELETE", "/_emulator/faults", None);
        s.sync_ok(&[]);
        assert_mirror_equals_upstream(&s);
    }
}

#[test]
fn a_listing_claiming_a_trillion_events_is_refused_not_paged_through() {
    let s = Synced::start(2500, 10);
    s.sync_ok(&["--only", "sms"]);
    let before: i64 = s
        .db()
        .query_row("SELECT count(*) FROM mirror_events", [], |r| r.get(0))
        .expect("count");
    s.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({"overall_count": 1_000_000_000_000u64})),
    );
    let output = s.sync(&["--only", "calls"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = one_line_stderr(&output);
    assert!(stderr.contains("not believable"), "{stderr}");
    let after: i64 = s
        .db()
        .query_row("SELECT count(*) FROM mirror_events", [], |r| r.get(0))
        .expect("count");
    assert_eq!(after, before, "nothing written");
    s.control("DELETE", "/_emulator/faults", None);
    s.sync_ok(&[]);
    assert_mirror_equals_upstream(&s);
}

#[test]
fn wrong_credentials_and_a_dead_server_are_one_line() {
    let s = Synced::start(50, 5);
    let output = s
        .cmd(&["sync"])
        .env("SIPGATE_PASSWORD", "wrong")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = one_line_stderr(&output);
    assert!(
        stderr.contains("check SIPGATE_USERNAME and SIPGATE_PASSWORD"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong"), "the password is not echoed");
    let runs: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM sync_runs WHERE outcome = 'failed'",
            [],
            |r| r.get(0),
        )
        .expect("runs");
    assert_eq!(runs, 1);

    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let url = format!("http://{}", dead.local_addr().expect("addr"));
    drop(dead);
    let output = s
        .cmd(&["sync", "--only", "balance"])
        .env("SIPGATE_BASE_URL", &url)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(one_line_stderr(&output).contains("cannot connect"));

    let output = s
        .cmd(&["sync"])
        .env("SIPGATE_BASE_URL", "http://api.example.com")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("--allow-insecure"));
    let output = s
        .cmd(&["sync"])
        .env_remove("SIPGATE_USERNAME")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("user name"));
}

#[test]
fn output_is_quiet_by_default_and_json_on_request() {
    let s = Synced::start(300, 5);
    let output = s.sync(&[]);
    assert!(output.status.success());
    assert!(output.stdout.is_empty(), "nothing on stdout in cron");
    assert!(
        output.stderr.is_empty(),
        "nothing on stderr when all is well"
    );
    let output = s.sync(&["-v"]);
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("sync ok"));
    let output = s.sync(&["--json", "--only", "calls,balance"]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["outcome"], "ok");
    let streams: Vec<&str> = report["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| s["stream"].as_str().expect("name"))
        .collect();
    assert_eq!(streams, ["calls", "balance"]);
    let output = s.sync(&["--only", "letters"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_sync_killed_mid_run_is_completed_by_the_next() {
    use std::os::unix::process::ExitStatusExt;
    let s = Synced::start(6000, 200);
    // Killed (SIGKILL, at crash points) between and inside the transactions of the pages;
    // the outcome must be right whichever page each lands on.
    for point in [
        "sync:events_page:committed#1",
        "sync:events_page:before_commit#2",
        "sync:contacts_page:before_commit#1",
    ] {
        let status = s
            .std_cmd(&["sync", "--full"])
            .env("SIPMIRROR_CRASH_AT", point)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run");
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{point} was reached");
        let integrity: String = s
            .db()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("check");
        assert_eq!(integrity, "ok");
        let (orphans, violations): (i64, i64) = s
            .db()
            .query_row(
                "SELECT (SELECT count(*) FROM mirror_event_endpoints ep LEFT JOIN mirror_events e ON e.id = ep.event_id WHERE e.id IS NULL),
                        (SELECT count(*) FROM pragma_foreign_key_check)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("orphans");
        assert_eq!((orphans, violations), (0, 0), "{point}");
    }
    s.sync_ok(&[]);
    assert_mirror_equals_upstream(&s);
}

#[test]
fn the_event_streams_are_written_together_oldest_pages_first() {
    // About 14 pages: calls 9, faxes 1, SMS 2, voicemails 2.
    let s = Synced::start(12_000, 10);
    // Killed after its second commit (a commit holds one page or more).
    let status = s
        .std_cmd(&["sync"])
        .env("SIPMIRROR_CRASH_AT", "sync:events_page:committed#2")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run");
    assert!(!status.success(), "killed after the second commit");
    let db = s.db();
    // Every page of every stream as (id of its oldest event, stream, number of events).
    let mut pages = Vec::new();
    let mut written = Vec::new();
    for (plural, kind) in KINDS {
        let newest_first: Vec<i64> = s
            .upstream_events(plural)
            .iter()
            .map(|e| e["id"].as_str().expect("id").parse().expect("numeric id"))
            .collect();
        for chunk in newest_first.chunks(1000) {
            let oldest = *chunk.iter().min().expect("page");
            pages.push((oldest, plural, chunk.len()));
        }
        let mut stored: Vec<i64> = db
            .prepare("SELECT id FROM mirror_events WHERE kind = ?1")
            .expect("prepare")
            .query_map([kind], |r| r.get(0))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("ids");
        stored.sort_unstable();
        let mut oldest_first = newest_first.clone();
        oldest_first.sort_unstable();
        assert_eq!(
            stored,
            oldest_first[..stored.len()],
            "{plural}: not its oldest events"
        );
        // Whole pages, from the oldest one on.
        let mut left = stored.len();
        for chunk in newest_first.chunks(1000).rev() {
            if left == 0 {
                break;
            }
            assert!(left >= chunk.len(), "{plural}: part of a page");
            written.push((*chunk.iter().min().expect("page"), plural, chunk.len()));
            left -= chunk.len();
        }
    }
    pages.sort_unstable();
    written.sort_unstable();
    assert!(!written.is_empty() && written.len() < pages.len());
    assert_eq!(
        written,
        pages[..written.len()],
        "the pages written are not the ones with the oldest events"
    );
    s.sync_ok(&[]);
    assert_mirror_equals_upstream(&s);
}

fn has_number_index(s: &Synced) -> bool {
    s.db()
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'mirror_event_endpoints_number')",
            [],
            |r| r.get(0),
        )
        .expect("schema")
}

#[test]
fn the_first_sync_builds_the_number_index_after_the_load_and_a_killed_one_gets_it_back() {
    let s = Synced::start(5_000, 10);
    let killed = |crash_at: &str| {
        let status = s
            .std_cmd(&["sync"])
            .env("SIPMIRROR_CRASH_AT", crash_at)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run");
        assert!(!status.success(), "killed at {crash_at}");
    };
    // Killed during the load of an empty mirror: the index is not there yet...
    killed("sync:events_page:committed#1");
    assert!(!has_number_index(&s));
    // ...and nothing else is missing for it: the next writable open builds it.
    s.cmd(&["init"]).assert().success();
    assert!(has_number_index(&s));
    // A sync of a mirror that holds events keeps the index all along.
    killed("sync:events_page:committed#1");
    assert!(has_number_index(&s));
    s.sync_ok(&[]);
    assert!(has_number_index(&s));
    assert_mirror_equals_upstream(&s);
    // The mirror's schema is a fresh mirror's, index for index.
    let fresh = TestHome::new();
    fresh
        .cmd()
        .arg("--db")
        .arg(fresh.db())
        .arg("init")
        .assert()
        .success();
    let indexes = |db: &rusqlite::Connection| -> Vec<(String, Option<String>)> {
        db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY name")
            .expect("prepare")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("indexes")
    };
    let fresh_db = rusqlite::Connection::open(fresh.db()).expect("fresh");
    assert_eq!(indexes(&s.db()), indexes(&fresh_db));
}

#[test]
fn a_first_sync_leaves_the_number_index_in_place() {
    let s = Synced::start(3_000, 10);
    s.sync_ok(&[]);
    assert!(has_number_index(&s));
}
