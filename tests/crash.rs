//! Crash test: `sync`, `push` and `send` killed with SIGKILL at random crash points (see
//! `src/crashpoint.rs`), over and over, while local edits, sends and upstream changes keep
//! coming. After every kill the mirror must pass `PRAGMA integrity_check` and the foreign-key
//! check, and no local edit or queued message may be lost; at the end the mirror must equal
//! upstream, every edit must be upstream and every message sent exactly once.
//!
//! The default `cargo test` runs 8 kill rounds. `SIPMIRROR_CRASH_ROUNDS=150 cargo test --release
//! --test crash` runs the full suite; `SIPMIRROR_CRASH_SEED=N` replays one sequence (the seed is
//! printed when a round fails).

mod common;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;

use common::{Synced, assert_mirror_equals_upstream};
use serde_json::json;

/// A small deterministic generator (xorshift64*), so a failing sequence can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The field values local edits asked for: (event, field) → value, as the mirror stores them.
type Edits = BTreeMap<(i64, &'static str), String>;

fn ids_where(s: &Synced, filter: &str) -> Vec<i64> {
    let db = s.db();
    let mut stmt = db
        .prepare(&format!(
            "SELECT id FROM mirror_events WHERE upstream_state = 'present' AND location_base <> 'trash' AND {filter} ORDER BY id"
        ))
        .expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// Upstream's events, all types, read once per check: id → record.
struct Upstream(std::collections::HashMap<i64, serde_json::Value>);

impl Upstream {
    fn read(s: &Synced) -> Upstream {
        let mut events = std::collections::HashMap::new();
        for (plural, _) in common::KINDS {
            for event in s.upstream_events(plural) {
                let id = event["id"]
                    .as_str()
                    .and_then(|i| i.parse().ok())
                    .expect("id");
                events.insert(id, event);
            }
        }
        Upstream(events)
    }

    /// A field as the mirror stores it: `0`/`1` for flags, the text for labels.
    fn value(&self, id: i64, field: &str) -> String {
        let event = &self.0[&id];
        match field {
            "read" | "starred" => {
                let on = event[field]["value"].as_bool().unwrap_or(false);
                if on { "1" } else { "0" }.to_string()
            }
            other => event[other]["value"].as_str().unwrap_or("").to_string(),
        }
    }

    /// How many outgoing SMS carry `text`.
    fn sent(&self, text: &str) -> usize {
        self.0
            .values()
            .filter(|e| e["direction"] == "outgoing" && e["text"] == text)
            .count()
    }
}

/// After a kill: the file is whole, foreign keys hold, and every local edit is still visible
/// and either waiting in the outbox or already upstream.
fn assert_nothing_lost(s: &Synced, edits: &Edits, messages: &[String], context: &str) {
    let db = s.db();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity");
    assert_eq!(integrity, "ok", "{context}");
    let violations: i64 = db
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .expect("fk check");
    assert_eq!(violations, 0, "{context}: foreign keys");
    let upstream = Upstream::read(s);
    for ((id, field), value) in edits {
        let visible: String = db
            .query_row(
                &format!("SELECT CAST({field} AS TEXT) FROM mirror_events WHERE id = ?1"),
                [id],
                |r| r.get(0),
            )
            .expect("event");
        assert_eq!(
            &visible, value,
            "{context}: event {id} {field} shows the edit"
        );
        let waiting: i64 = db
            .query_row(
                "SELECT count(*) FROM outbox WHERE event_id = ?1 AND field = ?2 AND value = ?3",
                rusqlite::params![id, field, value],
                |r| r.get(0),
            )
            .expect("outbox");
        if waiting == 0 {
            assert_eq!(
                &upstream.value(*id, field),
                value,
                "{context}: event {id} {field}: neither waiting nor upstream"
            );
        }
    }
    for text in messages {
        let sent = upstream.sent(text);
        assert!(sent <= 1, "{context}: {text:?} sent {sent} times");
        let queued: i64 = db
            .query_row(
                "SELECT count(*) FROM outbox WHERE op = 'send_sms' AND json_extract(payload_json, '$.text') = ?1",
                [text],
                |r| r.get(0),
            )
            .expect("queued");
        assert!(
            queued == 1 || sent == 1,
            "{context}: {text:?} neither queued nor sent"
        );
    }
}

#[test]
fn sync_push_and_send_killed_at_random_points_lose_nothing() {
    let rounds = env_number("SIPMIRROR_CRASH_ROUNDS", 8);
    let seed = env_number("SIPMIRROR_CRASH_SEED", 0x5eed_cafe);
    let mut rng = Rng(seed | 1);
    let s = Synced::start(3000, 60);
    s.sync_ok(&[]);
    // Local edits go to even ids, upstream changes to odd ones: no conflicts, so every edit's
    // final value is known.
    let local_ids = ids_where(&s, "id % 2 = 0");
    let upstream_ids = ids_where(&s, "id % 2 = 1");
    let mut edits = Edits::new();
    let mut messages: Vec<String> = Vec::new();
    let mut kills = 0;
    for round in 0..rounds {
        let context = format!("round {round} (SIPMIRROR_CRASH_SEED={seed})");
        for _ in 0..3 {
            let id = *rng.pick(&local_ids);
            let (verb, field, value) = *rng.pick(&[
                ("read", "read", "1"),
                ("unread", "read", "0"),
                ("star", "starred", "1"),
                ("unstar", "starred", "0"),
            ]);
            s.cmd(&["event", verb, &id.to_string()]).assert().success();
            edits.insert((id, field), value.to_string());
        }
        if rng.below(3) == 0 {
            let id = *rng.pick(&local_ids);
            let labels = format!("round{round}");
            s.cmd(&["event", "label", &id.to_string(), &labels])
                .assert()
                .success();
            edits.insert((id, "labels"), labels);
        }
        if rng.below(2) == 0 {
            let text = format!("crash test message {round}");
            s.cmd(&[
                "send",
                "sms",
                "--queue-only",
                "--to",
                "+4930123456",
                "--text",
                &text,
            ])
            .assert()
            .success();
            messages.push(text);
        }
        let id = *rng.pick(&upstream_ids);
        s.control(
            "PATCH",
            &format!("/_emulator/events/{id}"),
            Some(json!({ "read": rng.below(2) == 0, "starred": rng.below(2) == 0 })),
        );
        let kind = *rng.pick(&["calls", "faxes", "sms", "voicemails"]);
        s.control(
            "POST",
            "/_emulator/events",
            Some(json!({ "type": kind, "count": 1 + rng.below(40) })),
        );
        // The crash points a run passes: about 2 per page committed, per stream, per event
        // pushed and per message sent, plus start and end.
        let (command, points): (&[&str], u64) = *rng.pick(&[
            (&["sync"][..], 22),
            (&["sync", "--full"], 28),
            (&["push"], 8),
        ]);
        let point = 1 + rng.below(points);
        let status = s
            .std_cmd(command)
            .env("SIPMIRROR_CRASH_AT", format!("*#{point}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run");
        match status.signal() {
            Some(9) => kills += 1,
            Some(other) => panic!("{context}: {command:?} died of signal {other}"),
            None => assert!(
                status.success(),
                "{context}: {command:?} at point {point} exited {status}"
            ),
        }
        assert_nothing_lost(
            &s,
            &edits,
            &messages,
            &format!("{context}, {command:?} killed at point {point}"),
        );
    }
    eprintln!("crash test: {kills} of {rounds} runs killed (seed {seed})");
    assert!(
        kills * 2 >= rounds,
        "only {kills} of {rounds} runs were killed: crash points too rare"
    );
    // Recovery: an ordinary run finishes everything.
    s.sync_ok(&["--full"]);
    assert_mirror_equals_upstream(&s);
    let outbox: i64 = s
        .db()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .expect("outbox");
    assert_eq!(outbox, 0, "every edit and message went out");
    let upstream = Upstream::read(&s);
    for ((id, field), value) in &edits {
        assert_eq!(&upstream.value(*id, field), value, "event {id} {field}");
    }
    for text in &messages {
        assert_eq!(upstream.sent(text), 1, "{text:?} sent exactly once");
    }
}
