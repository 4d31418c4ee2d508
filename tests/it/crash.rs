//! Crash test: `sync`, `push` and `send` killed with SIGKILL at random crash points (see
//! `src/crashpoint.rs`), over and over, while local edits, sends and upstream changes keep
//! coming. After every kill the mirror must pass `PRAGMA integrity_check` and the foreign-key
//! check, and no local edit or queued message may be lost; at the end the mirror must equal
//! upstream, every edit must be upstream and every message sent exactly once. It runs through
//! both dialects of the API: classic edits read, starred and labels, v2 read, starred,
//! archived and notes.
//!
//! Beside the killed runs, a push API receiver (`webhook`) takes posts and `serve-phonebook`
//! answers, both running the whole time, while the `sqlite3` shell and the test's own
//! connections open and close the mirror: every answered post must be stored after every
//! kill (see `docs/reliability.md`, "One rule for the mirror file").
//!
//! The default `cargo test` runs 8 kill rounds. `SIPMIRROR_CRASH_ROUNDS=150 cargo test --release
//! --test it crash::` runs the full suite; `SIPMIRROR_CRASH_SEED=N` replays one sequence (the seed is
//! printed when a round fails).

use crate::common;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;

use common::{Dialect, Synced, v2_json};
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

/// The field values local edits asked for: (event, field as the outbox names it) → value, as
/// the mirror stores it.
type Edits = BTreeMap<(i64, &'static str), String>;

/// The column of `mirror_events` that shows a field.
fn column(field: &str) -> &str {
    if field == "note" { "comment" } else { field }
}

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

/// Upstream's events, all types, read once per check through the dialect's own API: id →
/// record.
struct Upstream {
    dialect: Dialect,
    events: std::collections::HashMap<i64, serde_json::Value>,
}

impl Upstream {
    fn read(s: &Synced, dialect: Dialect) -> Upstream {
        let mut events = std::collections::HashMap::new();
        let mut add = |event: serde_json::Value| {
            let id = event["id"]
                .as_str()
                .and_then(|i| i.parse().ok())
                .expect("id");
            events.insert(id, event);
        };
        match dialect {
            Dialect::Classic => {
                for (plural, _) in common::KINDS {
                    s.upstream_events(plural).into_iter().for_each(&mut add);
                }
            }
            Dialect::V2 => {
                for archived in [false, true] {
                    let mut offset = 0;
                    loop {
                        let page = v2_json(
                            s,
                            &format!("/history?archived={archived}&limit=1000&offset={offset}"),
                        );
                        let items = page["items"].as_array().expect("items").clone();
                        offset += items.len();
                        let done = items.len() < 1000;
                        items.into_iter().for_each(&mut add);
                        if done {
                            break;
                        }
                    }
                }
            }
        }
        Upstream { dialect, events }
    }

    /// A field as the mirror stores it: `0`/`1` for flags, the text for labels and notes.
    fn value(&self, id: i64, field: &str) -> String {
        let event = &self.events[&id];
        let flag = |on: Option<bool>| if on.unwrap_or(false) { "1" } else { "0" }.to_string();
        match (self.dialect, field) {
            (Dialect::Classic, "read" | "starred") => flag(event[field]["value"].as_bool()),
            (Dialect::Classic, other) => event[other]["value"].as_str().unwrap_or("").to_string(),
            (Dialect::V2, "read" | "starred" | "archived") => flag(event[field].as_bool()),
            (Dialect::V2, other) => event[other].as_str().unwrap_or("").to_string(),
        }
    }

    /// How many outgoing SMS carry `text`.
    fn sent(&self, text: &str) -> usize {
        self.events
            .values()
            .filter(|e| match self.dialect {
                Dialect::Classic => e["direction"] == "outgoing" && e["text"] == text,
                Dialect::V2 => e["direction"] == "OUTGOING" && e["smsContent"] == text,
            })
            .count()
    }
}

/// After a kill: the file is whole, foreign keys hold, and every local edit is still visible
/// and either waiting in the outbox or already upstream.
fn assert_nothing_lost(
    s: &Synced,
    dialect: Dialect,
    edits: &Edits,
    messages: &[String],
    context: &str,
) {
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
    let upstream = Upstream::read(s, dialect);
    for ((id, field), value) in edits {
        let visible: String = db
            .query_row(
                &format!(
                    "SELECT coalesce(CAST({} AS TEXT), '') FROM mirror_events WHERE id = ?1",
                    column(field)
                ),
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
fn sync_push_and_send_killed_at_random_points_lose_nothing_through_classic() {
    killed_at_random_points(Dialect::Classic);
}

#[test]
fn sync_push_and_send_killed_at_random_points_lose_nothing_through_v2() {
    killed_at_random_points(Dialect::V2);
}

fn killed_at_random_points(dialect: Dialect) {
    let rounds = env_number("SIPMIRROR_CRASH_ROUNDS", 8);
    let seed = env_number("SIPMIRROR_CRASH_SEED", 0x5eed_cafe);
    let mut rng = Rng(seed | 1);
    // Apart, so that the kills follow the same sequence whatever the sizes.
    let mut sizes = Rng(seed.rotate_left(17) | 1);
    let s = Synced::start(3000, 60);
    dialect.sync_ok(&s, &[]);
    // Local edits go to even ids, upstream changes to odd ones: no conflicts, so every edit's
    // final value is known.
    let local_ids = ids_where(&s, "id % 2 = 0");
    let upstream_ids = ids_where(&s, "id % 2 = 1");
    let mut edits = Edits::new();
    let mut messages: Vec<String> = Vec::new();
    let mut kills = 0;
    let mut edit_kills = 0;
    let (receiver, post_url) = common::receiver(dialect.std_cmd(&s, &[]), "crash-key");
    let _receiver = common::Stop(receiver);
    let (phonebook, phonebook_url) = common::serve(&s, &[], None);
    let _phonebook = common::Stop(phonebook);
    let mut posted: Vec<String> = Vec::new();
    let http = reqwest::blocking::Client::new();
    for round in 0..rounds {
        let context = format!("{dialect:?} round {round} (SIPMIRROR_CRASH_SEED={seed})");
        let flags: &[(&str, &str, &str)] = match dialect {
            Dialect::Classic => &[
                ("read", "read", "1"),
                ("unread", "read", "0"),
                ("star", "starred", "1"),
                ("unstar", "starred", "0"),
            ],
            Dialect::V2 => &[
                ("read", "read", "1"),
                ("unread", "read", "0"),
                ("star", "starred", "1"),
                ("unstar", "starred", "0"),
                ("archive", "archived", "1"),
                ("unarchive", "archived", "0"),
            ],
        };
        for _ in 0..3 {
            let id = *rng.pick(&local_ids);
            let (verb, field, value) = *rng.pick(flags);
            dialect
                .cmd(&s, &["event", verb, &id.to_string()])
                .assert()
                .success();
            edits.insert((id, field), value.to_string());
        }
        if rng.below(3) == 0 {
            let id = rng.pick(&local_ids).to_string();
            let text = format!("round{round}");
            let (verb, field) = match dialect {
                Dialect::Classic => ("label", "labels"),
                Dialect::V2 => ("note", "note"),
            };
            dialect
                .cmd(&s, &["event", verb, &id, &text])
                .assert()
                .success();
            edits.insert((id.parse().expect("id"), field), text);
        }
        if rng.below(2) == 0 {
            let text = format!("crash test message {round}");
            dialect
                .cmd(
                    &s,
                    &[
                        "send",
                        "sms",
                        "--queue-only",
                        "--to",
                        "+4930123456",
                        "--text",
                        &text,
                    ],
                )
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
        // Now and then the mirror falls far behind: more than a page of one type arrives, so
        // the run is killed between the pages and listings of a type (v2: archived and not).
        let count = if sizes.below(3) == 0 {
            1000 + sizes.below(600)
        } else {
            1 + sizes.below(40)
        };
        s.control(
            "POST",
            "/_emulator/events",
            Some(json!({ "type": kind, "count": count })),
        );
        // The crash points a run passes: about 2 per page committed, per stream, per event
        // pushed (v2: per bulk update) and per message sent, plus start and end.
        let commands: [(&[&str], u64); 4] = match dialect {
            Dialect::Classic => [
                (&["sync"][..], 22),
                (&["sync", "--full"], 28),
                (&["sync", "--media"], 24),
                (&["push"], 8),
            ],
            Dialect::V2 => [
                (&["sync"][..], 16),
                (&["sync", "--full"], 18),
                (&["sync", "--media"], 18),
                (&["push"], 6),
            ],
        };
        // An edit killed on either side of its commit: applied and queued, or not at all.
        {
            let id = *rng.pick(&local_ids);
            let (verb, value) = *rng.pick(&[("star", "1"), ("unstar", "0")]);
            let point = 1 + rng.below(2);
            let status = dialect
                .std_cmd(&s, &["event", verb, &id.to_string()])
                .env("SIPMIRROR_CRASH_AT", format!("*#{point}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .expect("edit");
            let queued: i64 = s
                .db()
                .query_row(
                    "SELECT count(*) FROM outbox WHERE event_id = ?1 AND field = 'starred' AND value = ?2",
                    rusqlite::params![id, value],
                    |r| r.get(0),
                )
                .expect("outbox");
            if status.success() || queued > 0 {
                edits.insert((id, "starred"), value.to_string());
            }
            if status.signal() == Some(9) {
                edit_kills += 1;
            }
        }
        // Calls ringing meanwhile (no hangups: their pulls would hold the writer lock the runs
        // below need), a phone reading its book, and a person in the sqlite3 shell.
        for call in 0..3 {
            let id = format!("R{round}C{call}");
            let status = http
                .post(&post_url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "event=newCall&callId={id}&from=4930111&to=4930222&direction=in"
                ))
                .send()
                .expect("post")
                .status();
            assert_eq!(status.as_u16(), 200, "post {id}");
            posted.push(id);
        }
        let book = http
            .get(format!("{phonebook_url}/snom.xml"))
            .send()
            .expect("phone book");
        assert_eq!(book.status().as_u16(), 200);
        common::sqlite3_shell(&s.home.db(), "SELECT count(*) FROM events;");
        let (command, points) = *rng.pick(&commands);
        let point = 1 + rng.below(points);
        let status = dialect
            .std_cmd(&s, command)
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
            dialect,
            &edits,
            &messages,
            &format!("{context}, {command:?} killed at point {point}"),
        );
        let stored: i64 = s
            .db()
            .query_row("SELECT count(*) FROM live_calls", [], |r| r.get(0))
            .expect("live calls");
        assert_eq!(
            stored,
            posted.len() as i64,
            "{context}: every answered post is stored"
        );
    }
    eprintln!(
        "crash test: {kills} of {rounds} runs and {edit_kills} of {rounds} edits killed (seed {seed})"
    );
    assert!(
        kills * 2 >= rounds,
        "only {kills} of {rounds} runs were killed: crash points too rare"
    );
    // Recovery: an ordinary run finishes everything.
    dialect.sync_ok(&s, &["--full"]);
    dialect.assert_equal(&s);
    let outbox: i64 = s
        .db()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .expect("outbox");
    assert_eq!(outbox, 0, "every edit and message went out");
    let upstream = Upstream::read(&s, dialect);
    for ((id, field), value) in &edits {
        assert_eq!(&upstream.value(*id, field), value, "event {id} {field}");
    }
    for text in &messages {
        assert_eq!(upstream.sent(text), 1, "{text:?} sent exactly once");
    }
}
