//! Mirroring an account through sipgate's REST API v2 (the emulator's `/v2`): the same world
//! as through the classic API, archived entries, flag changes, deletions, faults, scopes,
//! string ids, capability URLs, and one API per mirror.

use crate::common;

use std::collections::BTreeSet;

use common::{Synced, one_line_stderr, v2_json};
use sipmirror::emulator::{EmulatorConfig, Faults};

/// Syncs a second mirror through the classic API from the same emulator.
fn classic_mirror(s: &Synced) -> std::path::PathBuf {
    let path = s.home.path().join("classic.db");
    let output = s
        .home
        .std_cmd()
        .arg("--db")
        .arg(&path)
        .args(["sync"])
        .env("SIPGATE_BASE_URL", s.emulator.base_url())
        .env("SIPGATE_USERNAME", "demo")
        .env("SIPGATE_PASSWORD", "demo")
        .output()
        .expect("classic sync");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    path
}

/// Rows of `select` in the v2 mirror (`main`) and the classic one (`c`), as text.
fn rows(db: &rusqlite::Connection, select: &str) -> BTreeSet<String> {
    let mut stmt = db.prepare(select).expect(select);
    let columns = stmt.column_count();
    stmt.query_map([], |row| {
        (0..columns)
            .map(|i| {
                row.get::<_, rusqlite::types::Value>(i)
                    .map(|v| format!("{v:?}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join("|"))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

#[test]
fn a_mirror_fed_by_v2_equals_one_fed_by_classic_in_every_shared_column() {
    let s = Synced::start(1500, 120);
    s.v2_sync_ok(&[]);
    let classic = classic_mirror(&s);
    let db = s.db();
    db.execute("ATTACH ?1 AS c", [classic.to_str().expect("path")])
        .expect("attach");
    // Columns both dialects carry. `created` is compared to the second: v2 sends no fraction.
    // Events in the classic trash are gone in v2, which has no trash.
    let views = [
        (
            "events",
            "id, kind, substr(created, 1, 19), substr(created_local, 1, 19), direction, \
             from_number, from_number_key, from_name, to_number, to_number_key, to_name, \
             extension, note, read, starred, labels, location, archived, gone_upstream",
        ),
        ("calls", "id, duration_s, missed, recordings"),
        ("faxes", "id, page_count, status"),
        ("sms", "id, text"),
        ("voicemails", "id, duration_s, transcription"),
        (
            "contacts",
            "uuid, name, organization, primary_number, primary_email, number_count",
        ),
        ("contact_numbers", "uuid, name, number, number_key, types"),
    ];
    for (view, columns) in views {
        let trash = if view.starts_with("contact") {
            ""
        } else {
            " WHERE location IS NOT 'trash'"
        };
        let v2 = rows(&db, &format!("SELECT {columns} FROM main.{view}"));
        let classic = rows(&db, &format!("SELECT {columns} FROM c.{view}{trash}"));
        assert!(!v2.is_empty(), "{view}: empty");
        let only_v2: Vec<_> = v2.difference(&classic).take(3).collect();
        let only_classic: Vec<_> = classic.difference(&v2).take(3).collect();
        assert!(
            only_v2.is_empty() && only_classic.is_empty(),
            "{view} differs: v2 only {only_v2:?}, classic only {only_classic:?}"
        );
    }
    // What only v2 says is stored too.
    let (archived, with_status, scoped): (i64, i64, i64) = db
        .query_row(
            "SELECT (SELECT count(*) FROM events WHERE archived = 1),
                    (SELECT count(*) FROM mirror_events WHERE connection_status IS NOT NULL),
                    (SELECT count(*) FROM mirror_contacts WHERE scope IN ('PRIVATE', 'SHARED'))",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("counts");
    assert!(archived > 0 && with_status > 0 && scoped == 120);
    let balance: (i64, String) = db
        .query_row(
            "SELECT amount_units, currency FROM mirror_balance",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("balance");
    let upstream = s.http.json("/my/billing/balance/");
    let total = upstream["balance"]["totalIncludingVat"]
        .as_f64()
        .expect("total");
    assert_eq!(balance.0, (total * 10_000.0).round() as i64);
    // The view shows it exactly, without a float on the way.
    let amount: String = db
        .query_row("SELECT amount FROM balance", [], |r| r.get(0))
        .expect("amount");
    assert_eq!(
        amount,
        format!("{}.{:04}", balance.0 / 10_000, balance.0 % 10_000)
    );
    let users: i64 = db
        .query_row("SELECT count(*) FROM mirror_users", [], |r| r.get(0))
        .expect("users");
    let forwardings: i64 = db
        .query_row("SELECT count(*) FROM mirror_forwardings", [], |r| r.get(0))
        .expect("forwardings");
    // The organisation's two users (the second has no lines, so no forwardings).
    assert_eq!((users, forwardings), (2, 1));
}

fn event_state(s: &Synced, id: i64) -> (i64, String, i64) {
    s.db()
        .query_row(
            "SELECT archived, location, gone_upstream FROM events WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("event")
}

#[test]
fn archived_entries_flag_changes_and_permanent_deletions_through_v2() {
    let s = Synced::start(600, 10);
    s.v2_sync_ok(&[]);
    let ids: Vec<i64> = {
        let db = s.db();
        let mut stmt = db
            .prepare("SELECT id FROM events WHERE kind = 'call' AND archived = 0 ORDER BY created")
            .expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("ids")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let (old, recent) = (ids[0], ids[ids.len() - 1]);
    for id in [old, recent] {
        s.control(
            "PATCH",
            &format!("/_emulator/events/{id}"),
            Some(serde_json::json!({"location": "archive", "starred": true})),
        );
    }
    // The lookback window sees the recent change; the old one needs a complete listing.
    s.v2_sync_ok(&[]);
    assert_eq!(event_state(&s, recent).0, 1);
    assert_eq!(event_state(&s, old).0, 0);
    s.v2_sync_ok(&["--full"]);
    assert_eq!(event_state(&s, old), (1, "archive".into(), 0));
    // Deleted upstream: marked gone after a complete listing, never removed.
    s.control("DELETE", &format!("/_emulator/events/{old}"), None);
    s.v2_sync_ok(&["--full"]);
    assert_eq!(event_state(&s, old).2, 1);
}

#[test]
fn a_no_change_sync_makes_the_same_few_history_requests_whatever_the_size() {
    let counts: Vec<u64> = [300, 3000]
        .into_iter()
        .map(|events| {
            let s = Synced::start(events, 20);
            s.v2_sync_ok(&[]);
            s.emulator.reset_stats();
            s.v2_sync_ok(&[]);
            s.emulator.stats().count("GET /v2/history")
        })
        .collect();
    // Four types, each listed without and with archived entries: one page each, and one
    // probe behind each short page that is not empty (a cap would look the same); no more
    // for ten times the events.
    assert!(counts.iter().all(|c| (8..=16).contains(c)), "{counts:?}");
}

#[test]
fn history_ids_that_are_not_numbers_are_stored() {
    let s = Synced::start(400, 5);
    s.emulator
        .set_faults(Faults {
            text_ids: true,
            ..Faults::default()
        })
        .expect("faults");
    s.v2_sync_ok(&[]);
    let db = s.db();
    let (text, listed): (i64, i64) = db
        .query_row(
            "SELECT (SELECT count(*) FROM mirror_events WHERE upstream_id LIKE 'h%' AND id < 0),
                    (SELECT count(*) FROM events)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("counts");
    assert!(text > 10, "{text}");
    let upstream: i64 = (["CALL", "FAX", "SMS", "VOICEMAIL"].iter())
        .flat_map(|t| ["false", "true"].map(move |a| (t, a)))
        .map(|(t, a)| {
            let page = v2_json(&s, &format!("/history?types={t}&archived={a}&limit=1"));
            page["totalCount"].as_i64().expect("total")
        })
        .sum();
    assert_eq!(listed, upstream);
    // A second run finds the same rows: nothing new, nothing doubled.
    s.v2_sync_ok(&[]);
    let again: i64 = s
        .db()
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .expect("count");
    assert_eq!(again, listed);
}

#[test]
fn with_faults_a_v2_sync_converges() {
    let s = Synced::start(2500, 50);
    s.emulator
        .set_faults(Faults {
            status_rates: [(500, 0.1), (429, 0.05), (503, 0.05)].into_iter().collect(),
            retry_after_s: Some(0),
            reset_rate: 0.05,
            truncate_rate: 0.05,
            ..Faults::default()
        })
        .expect("faults");
    s.v2_sync_ok(&[]);
    s.emulator.set_faults(Faults::default()).expect("faults");
    let before: i64 = s
        .db()
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .expect("count");
    s.v2_sync_ok(&["--full"]);
    let (after, deleted): (i64, i64) = s
        .db()
        .query_row("SELECT count(*), sum(gone_upstream) FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("count");
    assert_eq!((before, deleted), (after, 0));
}

#[test]
fn bad_v2_bodies_and_refusals_are_one_line() {
    let s = Synced::start(200, 5);
    // Every request fails here: three attempts say as much as twelve, in less time.
    s.home.write_config(
        "[http]\nretry_base = \"1ms\"\nmax_attempts = 3\ntimeout = \"20s\"\n",
        0o600,
    );
    for (faults, needle) in [
        (
            Faults {
                wrong_type_rate: 1.0,
                ..Faults::default()
            },
            "history",
        ),
        (
            Faults {
                malformed_rate: 1.0,
                ..Faults::default()
            },
            "gave up",
        ),
        (
            Faults {
                status_rates: [(404, 1.0)].into_iter().collect(),
                ..Faults::default()
            },
            "404",
        ),
    ] {
        s.emulator.set_faults(faults).expect("faults");
        let output = s.v2_sync(&[]);
        assert!(!output.status.success());
        let line = one_line_stderr(&output);
        assert!(line.contains(needle), "{line}");
    }
    s.emulator.set_faults(Faults::default()).expect("faults");
    s.v2_sync_ok(&[]);
    // A wrong token: one line naming what to check.
    let output = s
        .v2_std_cmd(&["sync"])
        .env("SIPGATE_TOKEN", "not-the-token")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2), "a configuration error");
    assert!(one_line_stderr(&output).contains("SIPGATE_TOKEN_ID and SIPGATE_TOKEN"));
}

#[test]
fn a_token_without_a_scope_gets_the_scope_named() {
    let emulator = sipmirror::emulator::Emulator::start(EmulatorConfig {
        events: 100,
        contacts: 5,
        token_scopes: vec!["history:read".into(), "balance:read".into()],
        ..Default::default()
    })
    .expect("emulator");
    let home = common::TestHome::new();
    let output = home
        .std_cmd()
        .arg("--db")
        .arg(home.db())
        .arg("sync")
        .env("SIPGATE_API", "v2")
        .env("SIPGATE_BASE_URL", emulator.v2_base_url())
        .env("SIPGATE_TOKEN_ID", emulator.token_id())
        .env("SIPGATE_TOKEN", emulator.token())
        .output()
        .expect("run");
    // The events and the balance are mirrored; contacts and settings say what is missing.
    assert_eq!(output.status.code(), Some(3));
    let stderr = one_line_stderr(&output);
    assert!(
        stderr.contains("403") && stderr.contains("contacts:read"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`sipmirror doctor` lists every scope"),
        "{stderr}"
    );
    let db = rusqlite::Connection::open(home.db()).expect("db");
    let events: i64 = db
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .expect("count");
    assert!(events > 50);
}

#[test]
fn media_are_fetched_from_capability_urls_without_credentials() {
    let s = Synced::start(300, 5);
    s.v2_sync_ok(&["--media"]);
    let stats = s.emulator.stats();
    let downloads: u64 = stats
        .requests
        .iter()
        .filter(|(k, _)| k.starts_with("GET /download/"))
        .map(|(_, n)| n)
        .sum();
    assert!(downloads > 10, "{downloads}");
    assert_eq!(stats.count("GET /download (with Authorization)"), 0);
    let files: i64 = s
        .db()
        .query_row("SELECT count(*) FROM media_files", [], |r| r.get(0))
        .expect("count");
    assert_eq!(files as u64, downloads);
}

#[test]
fn one_mirror_is_fed_by_one_api_until_switched() {
    let s = Synced::start(200, 10);
    s.sync_ok(&[]);
    let output = s.v2_sync(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("--switch-api"));
    let output = s.v2_sync(&["--switch-api"]);
    assert_eq!(output.status.code(), Some(2), "--switch-api needs --full");
    s.v2_sync_ok(&["--full", "--switch-api"]);
    let (api, gone): (String, i64) = s
        .db()
        .query_row(
            "SELECT (SELECT value FROM sync_meta WHERE key = 'api'),
                    (SELECT count(*) FROM events WHERE gone_upstream = 1)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("state");
    // The classic trash is not in v2: those events are gone now.
    assert_eq!(api, "v2");
    assert!(gone > 0);
    s.v2_sync_ok(&[]);
    assert_eq!(s.sync(&[]).status.code(), Some(2));
}

#[test]
fn the_token_appears_nowhere() {
    let s = Synced::start(150, 10);
    let token = s.emulator.token().to_string();
    let check = |output: &std::process::Output, what: &str| {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!text.contains(&token), "{what} printed the token");
    };
    for args in [
        &["-vvv", "sync", "--media"][..],
        &["config"],
        &["config", "--json"],
        &["status", "--json"],
    ] {
        let output = s
            .v2_std_cmd(args)
            .env("RUST_LOG", "trace")
            .output()
            .expect("run");
        check(&output, &format!("{args:?}"));
    }
    let wrong = s
        .v2_std_cmd(&["-vvv", "sync"])
        .env("SIPGATE_TOKEN", format!("{token}-wrong"))
        .output()
        .expect("run");
    check(&wrong, "a refused token");
    assert_eq!(wrong.status.code(), Some(2), "a refused token is exit 2");
    let mirror = std::fs::read(s.home.db()).expect("mirror");
    assert!(!mirror.windows(token.len()).any(|w| w == token.as_bytes()));
    // `config` says which API and token id are in effect, and where the token comes from.
    let output = s.v2_cmd(&["config", "--json"]).output().expect("config");
    let config: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(config["api"], "v2");
    assert_eq!(config["token_id"].as_str(), Some(s.emulator.token_id()));
    assert_eq!(config["token"], "set (from SIPGATE_TOKEN)");
}

#[test]
fn exports_can_leave_private_contacts_out() {
    let s = Synced::start(50, 80);
    s.v2_sync_ok(&[]);
    let by_scope: std::collections::BTreeMap<String, i64> = {
        let db = s.db();
        let mut stmt = db
            .prepare("SELECT scope, count(*) FROM mirror_contacts GROUP BY scope")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let cards = |scope: &str| {
        let file = s.home.path().join(format!("{scope}.vcf"));
        let file_arg = file.to_str().expect("path").to_string();
        s.v2_cmd(&["export", "vcard", "--single", &file_arg, "--scope", scope])
            .assert()
            .success();
        std::fs::read_to_string(&file)
            .expect("cards")
            .matches("BEGIN:VCARD")
            .count() as i64
    };
    let private = by_scope.get("PRIVATE").copied().unwrap_or(0);
    let shared = by_scope.get("SHARED").copied().unwrap_or(0);
    assert!(private > 0 && shared > 0, "{by_scope:?}");
    assert_eq!(cards("shared"), shared);
    assert_eq!(cards("private,shared"), private + shared);
    // A classic mirror has no scopes: asking for one is refused, not answered with guesses.
    let classic = classic_mirror(&s);
    let output = s
        .home
        .std_cmd()
        .arg("--db")
        .arg(&classic)
        .args(["export", "snom", "--out", "x.xml", "--scope", "shared"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("no scope"));
}

/// Upstream ids of events the mirror marks gone although upstream still lists them.
fn wrongly_gone(s: &Synced) -> Vec<String> {
    let upstream = common::v2_upstream(s);
    let db = s.db();
    let mut stmt = db
        .prepare(
            "SELECT coalesce(m.upstream_id, CAST(e.id AS TEXT)) FROM events e
               JOIN mirror_events m ON m.id = e.id WHERE e.gone_upstream = 1",
        )
        .expect("prepare");
    stmt.query_map([], |r| r.get::<_, String>(0))
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows")
        .into_iter()
        .filter(|id| upstream.contains_key(id))
        .collect()
}

/// Ids of the emulator's newest calls (v2 history, up to 1,000), archived or not.
fn call_ids(s: &Synced, archived: bool) -> Vec<u64> {
    v2_json(
        s,
        &format!("/history?types=CALL&archived={archived}&limit=1000"),
    )["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["id"].as_str()?.parse().ok())
        .collect()
}

fn set_faults(s: &Synced, faults: serde_json::Value) {
    s.control("PUT", "/_emulator/faults", Some(faults));
}

fn served(s: &Synced) -> u64 {
    s.emulator.stats().requests_total
}

/// The id of the call at `offset` in the v2 listing of calls, archived or not.
fn call_at(s: &Synced, archived: bool, offset: u64) -> u64 {
    v2_json(
        s,
        &format!("/history?types=CALL&archived={archived}&offset={offset}&limit=1"),
    )["items"][0]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("a call there")
}

/// An entry archived and another brought back while a full sync pages move between the
/// two listings of their type; neither may be marked gone (the listings are judged as one).
/// The calls not archived span several pages, the archived ones one: the archived listing is
/// done after its first request, the middle pages of the other are fetched last.
#[test]
fn entries_archived_and_unarchived_while_a_full_sync_pages_are_not_marked_gone() {
    let s = Synced::start(9000, 10);
    s.v2_sync_ok(&[]);
    for (round, after) in [6u64, 8, 10, 12, 14, 18].into_iter().enumerate() {
        let x = call_at(&s, false, 2500 + round as u64 * 10);
        let y = call_at(&s, true, round as u64);
        let base = served(&s) + 1;
        set_faults(
            &s,
            serde_json::json!({"changes_after": [
                {"after": base + after, "event": x, "location": "archive"},
                {"after": base + after, "event": y, "location": "inbox"},
            ]}),
        );
        let output = s.v2_sync(&["--full"]);
        let code = output.status.code();
        assert!(
            code == Some(0) || code == Some(3),
            "round {round}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        s.control("DELETE", "/_emulator/faults", None);
        assert_eq!(wrongly_gone(&s), Vec::<String>::new(), "round {round}");
    }
    s.v2_sync_ok(&["--full"]);
    common::assert_v2_mirror_equals_upstream(&s);
}

/// A mirror far behind whose run fails on one listing (the calls not archived) after a page:
/// the archived listing commits newer events than the failed one reached. The next runs must
/// list what lies between, not look back from the newest event stored.
#[test]
fn a_run_that_fails_on_one_listing_leaves_no_gap_for_the_next() {
    let s = Synced::start(400, 10);
    s.home
        .write_config("[sync]\nfull_every = \"3650d\"\nlookback = \"1s\"\n", 0o600);
    s.v2_sync_ok(&[]);
    // Calls arrive, some archived at once: more than a page. (Made an hour ago by upstream's
    // clock: the emulator gives them consecutive milliseconds, which must not run into the
    // future.)
    set_faults(&s, serde_json::json!({"clock_ahead_s": -3600}));
    let added = s.control(
        "POST",
        "/_emulator/events",
        Some(serde_json::json!({"type": "calls", "count": 2500})),
    );
    let ids: Vec<u64> = added["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_u64()))
        .collect();
    assert_eq!(ids.len(), 2500, "{added}");
    s.control("DELETE", "/_emulator/faults", None);
    for id in ids.iter().rev().take(30) {
        s.control(
            "PATCH",
            &format!("/_emulator/events/{id}"),
            Some(serde_json::json!({"location": "archive"})),
        );
    }
    // The calls not archived fail after their first pages; everything else goes through.
    set_faults(
        &s,
        serde_json::json!({"fail_matching": {"contains": "types=CALL&archived=false", "status": 400, "after": 2}}),
    );
    let failed = s.v2_sync(&[]);
    assert_ne!(failed.status.code(), Some(0), "the failure is reported");
    s.control("DELETE", "/_emulator/faults", None);
    s.v2_sync_ok(&[]);
    common::assert_v2_mirror_equals_upstream(&s);
}

/// A first page that is short because upstream caps pages, with a total equal to the cap,
/// is not taken for the end: one probe behind it tells.
#[test]
fn a_cap_with_a_total_equal_to_it_is_not_taken_for_the_end() {
    let s = Synced::start(1500, 10);
    set_faults(
        &s,
        serde_json::json!({"page_cap": 100, "overall_count": 100}),
    );
    let output = s.v2_sync(&[]);
    s.control("DELETE", "/_emulator/faults", None);
    // Either the run mirrors everything, or it says what it lacks (the total was wrong).
    if output.status.success() {
        common::assert_v2_mirror_equals_upstream(&s);
    } else {
        assert_eq!(output.status.code(), Some(3));
    }
    let stored: i64 = s
        .db()
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .expect("count");
    assert!(
        stored > 400,
        "only {stored} events mirrored: the cap was taken for the end"
    );
    s.v2_sync_ok(&[]);
    common::assert_v2_mirror_equals_upstream(&s);
}

/// Upstream's clock an hour ahead of this machine's: entries created in that hour are newer
/// than the local clock. The run warns, and the next one lists them.
#[test]
fn entries_newer_than_a_local_clock_that_is_behind_are_listed_and_the_clock_named() {
    let s = Synced::start(200, 10);
    s.v2_sync_ok(&[]);
    set_faults(&s, serde_json::json!({"clock_ahead_s": 3600}));
    s.control(
        "POST",
        "/_emulator/events",
        Some(serde_json::json!({"type": "calls", "count": 5})),
    );
    let first = s.v2_sync(&[]);
    assert!(first.status.success());
    let warning = String::from_utf8_lossy(&first.stderr).into_owned();
    assert!(
        warning.contains("clock") && warning.contains("behind"),
        "{warning}"
    );
    s.v2_sync_ok(&[]);
    s.control("DELETE", "/_emulator/faults", None);
    common::assert_v2_mirror_equals_upstream(&s);
}

/// A mass deletion refused once is refused (exit 3) by every run until settled, and the
/// message names its stream once.
#[test]
fn a_refused_mass_deletion_keeps_every_run_exiting_3() {
    let s = Synced::start(300, 10);
    s.v2_sync_ok(&[]);
    for id in call_ids(&s, false).into_iter().take(200) {
        s.control("DELETE", &format!("/_emulator/events/{id}"), None);
    }
    for run in 0..2 {
        let output = s.v2_sync(&["--full"][..if run == 0 { 1 } else { 0 }]);
        assert_eq!(output.status.code(), Some(3), "run {run}");
        let line = one_line_stderr(&output);
        assert_eq!(line.matches("calls:").count(), 1, "{line}");
    }
    s.v2_sync_ok(&["--full", "--force-delete"]);
    s.v2_sync_ok(&[]);
}

/// `sync --full --switch-api` killed at each of its crash points: the mirror records the
/// switch as under way, and the next plain `sync` continues it until the mirror equals v2.
#[test]
fn an_interrupted_api_switch_is_continued_by_the_next_sync() {
    use std::os::unix::process::ExitStatusExt;
    for point in [1u64, 2, 4, 8, 12] {
        let s = Synced::start(600, 10);
        s.sync_ok(&[]);
        let status = s
            .v2_std_cmd(&["sync", "--full", "--switch-api"])
            .env("SIPMIRROR_CRASH_AT", format!("*#{point}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run");
        if status.signal() == Some(9) {
            let shown = s.v2_cmd(&["status"]).output().expect("status");
            assert!(
                String::from_utf8_lossy(&shown.stdout).contains("switch not finished"),
                "point {point}: {}",
                String::from_utf8_lossy(&shown.stdout)
            );
        }
        s.v2_sync_ok(&[]);
        common::assert_v2_mirror_equals_upstream(&s);
        let api: String = s
            .db()
            .query_row("SELECT value FROM sync_meta WHERE key = 'api'", [], |r| {
                r.get(0)
            })
            .expect("api");
        assert_eq!(api, "v2", "point {point}");
        s.v2_sync_ok(&[]);
    }
}

/// Syncs from an emulator whose token has `scopes`, with `config` as the config file; returns
/// the output and the home.
fn sync_with_scopes(scopes: &[&str], config: &str) -> (std::process::Output, common::TestHome) {
    let emulator = sipmirror::emulator::Emulator::start(EmulatorConfig {
        events: 100,
        contacts: 5,
        token_scopes: scopes.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    })
    .expect("emulator");
    let home = common::TestHome::new();
    if !config.is_empty() {
        home.write_config(config, 0o600);
    }
    let output = home
        .std_cmd()
        .arg("--db")
        .arg(home.db())
        .arg("sync")
        .env("SIPGATE_API", "v2")
        .env("SIPGATE_BASE_URL", emulator.v2_base_url())
        .env("SIPGATE_TOKEN_ID", emulator.token_id())
        .env("SIPGATE_TOKEN", emulator.token())
        .output()
        .expect("run");
    (output, home)
}

/// The settings tables' row counts: users, extensions, numbers.
fn settings_counts(db: &std::path::Path) -> (i64, i64, i64) {
    let db = rusqlite::Connection::open(db).expect("db");
    db.query_row(
        "SELECT (SELECT count(*) FROM mirror_users), (SELECT count(*) FROM mirror_extensions),
                (SELECT count(*) FROM mirror_numbers)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .expect("counts")
}

/// An organisation whose second user has no fax booked (403 "Feature not booked"): the sync
/// exits 0, every user's settings are mirrored, and `status` says what is not booked.
#[test]
fn an_unbooked_feature_of_one_user_is_recorded_and_the_rest_mirrored() {
    let s = Synced::start(100, 5);
    s.v2_sync_ok(&[]);
    let (users, extensions, numbers) = settings_counts(&s.home.db());
    assert_eq!(users, 2, "both users");
    assert!(extensions >= 7 && numbers > 0, "{extensions} {numbers}");
    let status = s.v2_cmd(&["status"]).output().expect("status");
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(
        text.contains("not booked on this account: w1/faxlines"),
        "{text}"
    );
    // The user's device is mirrored (it is listed under the second user only).
    let device: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM mirror_extensions WHERE extension_id = 'e2'",
            [],
            |r| r.get(0),
        )
        .expect("device");
    assert_eq!(device, 1);
}

/// A token without `faxlines:read` mirrors every other settings resource and names that scope
/// once (exit 3); with `[sync] skip_settings = ["faxlines"]` the same token's runs exit 0.
#[test]
fn a_missing_settings_scope_fails_alone_and_a_skipped_resource_is_quiet() {
    let mut scopes = vec![
        "history:read",
        "contacts:read",
        "balance:read",
        "account:read",
        "numbers:read",
        "users:read",
        "devices:read",
        "phonelines:read",
        "sms:read",
        "voicemails:read",
        "groups:read",
    ];
    let (output, home) = sync_with_scopes(&scopes, "");
    assert_eq!(output.status.code(), Some(3));
    let line = one_line_stderr(&output);
    assert_eq!(line.matches("faxlines:read").count(), 1, "{line}");
    assert!(line.contains("settings"), "{line}");
    let (users, extensions, numbers) = settings_counts(&home.db());
    assert!(
        users == 2 && extensions >= 6 && numbers > 0,
        "{users} {extensions} {numbers}"
    );
    let (output, _) = sync_with_scopes(&scopes, "[sync]\nskip_settings = [\"faxlines\"]\n");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    scopes.push("faxlines:read");
    let (output, _) = sync_with_scopes(&scopes, "[sync]\nskip_settings = [\"faxes\"]\n");
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unknown resource is a config error"
    );
}

/// Device answers carry SIP passwords (and SIM PUKs); none reaches the mirror file.
#[test]
fn no_device_secret_reaches_the_mirror_file() {
    let s = Synced::start(100, 5);
    s.v2_sync_ok(&[]);
    let devices = v2_json(&s, "/w0/devices");
    let passwords: Vec<String> = devices["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|d| d["credentials"]["password"].as_str().map(str::to_string))
        .collect();
    assert!(!passwords.is_empty(), "the emulator sends credentials");
    // Everything in the WAL into the file, then the file read whole (no connection open).
    {
        let db = s.db();
        db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .expect("checkpoint");
    }
    let bytes = std::fs::read(s.home.db()).expect("mirror file");
    let text = String::from_utf8_lossy(&bytes);
    for password in &passwords {
        assert!(
            !text.contains(password.as_str()),
            "{password} is in the mirror"
        );
    }
    assert!(!text.contains("\"credentials\""));
}

/// v2 sends each address's `postalCode`; it reaches the mirror and the vCards.
#[test]
fn the_postal_code_of_an_address_reaches_the_mirror_and_the_vcards() {
    let s = Synced::start(50, 120);
    s.v2_sync_ok(&[]);
    let contacts = v2_json(&s, "/contacts?limit=1000");
    let (name, code) = contacts["items"]
        .as_array()
        .expect("items")
        .iter()
        .find_map(|c| {
            let code = c["addresses"][0]["postalCode"].as_str()?;
            (!code.is_empty()).then(|| {
                (
                    c["name"].as_str().unwrap_or("").to_string(),
                    code.to_string(),
                )
            })
        })
        .expect("a contact with a postal code upstream");
    let stored: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM mirror_contact_entries WHERE entry_name = 'ADR' AND postal_code = ?1",
            [&code],
            |r| r.get(0),
        )
        .expect("count");
    assert!(stored > 0, "{code} is not in the mirror");
    let file = s.home.path().join("all.vcf");
    let file_arg = file.to_str().expect("path").to_string();
    s.v2_cmd(&["export", "vcard", "--single", &file_arg])
        .assert()
        .success();
    let cards = std::fs::read_to_string(&file).expect("cards");
    // ADR: po box; extended; street; locality; region; postal code; country.
    let codes: Vec<&str> = cards
        .lines()
        .filter(|l| l.starts_with("ADR"))
        .filter_map(|l| l.split(';').rev().nth(1))
        .collect();
    assert!(
        codes.contains(&code.as_str()),
        "{code} not in {codes:?} ({name})"
    );
}
