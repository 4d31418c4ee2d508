//! The write-back property: random interleavings of local edits (the CLI's code path and plain
//! SQL), upstream edits "on the website", pushes and pulls under injected faults (so pulls
//! come between edits and their pushes, and pushes fail and are retried after more pulls),
//! under the `local-wins` and the `upstream-wins` conflict policy, through both dialects of the
//! API: classic (read, starred, labels, trash) and v2 (read, starred, archived, note, deletion
//! for good; the website may delete events too). After a final push and sync, every local edit
//! was applied upstream or settled by the policy (a conflict: upstream changed the field after
//! the edit was made) or its event is gone upstream, none was lost silently, and mirror and
//! upstream agree.
//!
//! Runs in-process (library calls against the in-process emulator) so that many cases fit in
//! a test run; the binary-level tests in `write_back.rs` cover the same paths end to end.

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;
use sipmirror::api::Upstream;
use sipmirror::config::{Api, ConflictPolicy, Settings};
use sipmirror::emulator::{Emulator, EmulatorConfig, EventPatch, Faults, Location};
use sipmirror::progress::Progress;
use sipmirror::push;
use sipmirror::store::edits::{self, Edit};
use sipmirror::store::{Access, Mirror};
use sipmirror::sync::{self, SyncOptions};

const EVENTS: usize = 5;
const LABELS: [&str; 4] = ["", "a", "b,c", "rückruf"];
const NOTES: [&str; 4] = ["", "x", "call back", "Rückruf\nMontag"];
const VIEWS: [&str; 2] = ["events", "event_flags"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Read,
    Starred,
    Labels,
    Location,
    Archived,
    Note,
}

const FIELDS: [Field; 6] = [
    Field::Read,
    Field::Starred,
    Field::Labels,
    Field::Location,
    Field::Archived,
    Field::Note,
];

impl Field {
    /// The column of `mirror_events`.
    fn column(self) -> &'static str {
        match self {
            Field::Read => "read",
            Field::Starred => "starred",
            Field::Labels => "labels",
            Field::Location => "location",
            Field::Archived => "archived",
            Field::Note => "comment",
        }
    }

    /// The name in the outbox and the views.
    fn name(self) -> &'static str {
        match self {
            Field::Note => "note",
            other => other.column(),
        }
    }

    /// Whether the dialect writes the field (the others are refused before queueing).
    fn writable(self, v2: bool) -> bool {
        match self {
            Field::Labels => !v2,
            Field::Archived | Field::Note => v2,
            _ => true,
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// An edit through `edits::apply_edits`, the CLI's path.
    Cli {
        event: usize,
        field: Field,
        pick: usize,
    },
    /// The same through an UPDATE on a view from a plain connection.
    Sql {
        event: usize,
        field: Field,
        pick: usize,
        view: usize,
    },
    /// A change made upstream, behind the mirror's back.
    Upstream {
        event: usize,
        field: Field,
        pick: usize,
    },
    Push {
        faults: bool,
    },
    Pull {
        full: bool,
        faults: bool,
    },
}

fn field() -> impl Strategy<Value = Field> {
    (0..FIELDS.len()).prop_map(|i| FIELDS[i])
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..EVENTS, field(), 0..4usize).prop_map(|(event, field, pick)| Step::Cli { event, field, pick }),
        3 => (0..EVENTS, field(), 0..4usize, 0..VIEWS.len())
            .prop_map(|(event, field, pick, view)| Step::Sql { event, field, pick, view }),
        2 => (0..EVENTS, field(), 0..4usize).prop_map(|(event, field, pick)| Step::Upstream { event, field, pick }),
        1 => any::<bool>().prop_map(|faults| Step::Push { faults }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(full, faults)| Step::Pull { full, faults }),
    ]
}

/// The value a step sets, in the mirror's text form. Locally, location can only become trash.
fn local_value(field: Field, pick: usize) -> String {
    match field {
        Field::Read | Field::Starred | Field::Archived => (pick % 2).to_string(),
        Field::Labels => LABELS[pick].to_string(),
        Field::Note => NOTES[pick].to_string(),
        Field::Location => "trash".to_string(),
    }
}

struct World {
    /// Through v2 (else classic).
    v2: bool,
    emulator: Emulator,
    _dir: tempfile::TempDir,
    settings: Settings,
    upstream: Upstream,
    mirror: Mirror,
    ids: Vec<i64>,
    /// The user's latest intent per (event, field) that is not known to be upstream yet, and
    /// the upstream value the mirror knew when the first of its edits was made.
    intents: HashMap<(i64, Field), (String, String)>,
}

impl World {
    fn new(seed: u64, policy: ConflictPolicy, v2: bool) -> World {
        let emulator = Emulator::start(EmulatorConfig {
            seed,
            events: 40,
            contacts: 3,
            ..EmulatorConfig::default()
        })
        .expect("emulator");
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("mirror.db");
        let api = if v2 { Api::V2 } else { Api::Classic };
        let mut settings = emulator.settings(db.clone(), api).expect("settings");
        // Few, fast retries: faults must get through to the outbox's own retry logic.
        settings.http.retry_base = Duration::from_millis(1);
        settings.http.max_attempts = 2;
        settings.push.conflict = policy;
        // A deletion on the website is a large share of this small world's streams; the
        // mass-delete guard is tested on its own (tests/it/sync.rs).
        settings.sync.max_delete_ratio = 1.0;
        let upstream = Upstream::connect(&settings).expect("upstream");
        let mirror = Mirror::open(&db, Access::ReadWrite).expect("mirror");
        let mut world = World {
            v2,
            emulator,
            _dir: dir,
            settings,
            upstream,
            mirror,
            ids: Vec::new(),
            intents: HashMap::new(),
        };
        world.pull(true);
        world.ids = {
            let mut stmt = world
                .mirror
                .conn()
                .prepare("SELECT id FROM mirror_events ORDER BY id DESC LIMIT ?1")
                .expect("prepare");
            stmt.query_map([EVENTS as i64], |r| r.get(0))
                .expect("ids")
                .collect::<Result<_, _>>()
                .expect("ids")
        };
        world
    }

    fn faults(&self, on: bool) {
        let faults = if on {
            Faults {
                status_rates: [(500, 0.25)].into_iter().collect(),
                reset_rate: 0.1,
                lose_response_rate: 0.1,
                ..Faults::default()
            }
        } else {
            Faults::default()
        };
        self.emulator.set_faults(faults).expect("faults");
    }

    fn pull(&mut self, full: bool) -> bool {
        let options = SyncOptions {
            full,
            ..SyncOptions::default()
        };
        match sync::run(
            &mut self.mirror,
            &self.settings,
            &self.upstream,
            &options,
            &Progress::hidden(),
        ) {
            Ok(report) => report.outcome == "ok",
            Err(_) => false,
        }
    }

    fn mirror_value(&self, id: i64, column: &str) -> String {
        self.mirror
            .conn()
            .query_row(
                &format!(
                    "SELECT coalesce(CAST({column} AS TEXT), '') FROM mirror_events WHERE id = ?1"
                ),
                [id],
                |r| r.get(0),
            )
            .expect("value")
    }

    /// The field upstream, in the mirror's text form as this dialect shows it. v2 has no
    /// trash (a deleted event is gone: "trash") and files events only as archived or not.
    fn upstream_value(&self, id: i64, field: Field) -> String {
        let v2 = self.v2;
        self.emulator.with_state(|state| {
            let Some(event) = state.events.get(id as u64) else {
                assert!(v2, "classic events are never removed here");
                return if field == Field::Location {
                    "trash"
                } else {
                    ""
                }
                .to_string();
            };
            let archived = event.location == Location::Archive;
            match field {
                Field::Read => u8::from(event.read).to_string(),
                Field::Starred => u8::from(event.starred).to_string(),
                Field::Labels => event.labels.to_string(),
                Field::Archived => u8::from(archived).to_string(),
                Field::Note => event.comment.as_deref().unwrap_or("").to_string(),
                Field::Location if v2 && archived => "archive".to_string(),
                Field::Location if v2 => match event.direction {
                    sipmirror::emulator::Direction::Outgoing
                    | sipmirror::emulator::Direction::MissedOutgoing => "sent".to_string(),
                    _ => "inbox".to_string(),
                },
                Field::Location => event.location.as_str().to_string(),
            }
        })
    }

    fn gone_upstream(&self, id: i64) -> bool {
        self.emulator
            .with_state(|state| state.events.get(id as u64).is_none())
    }

    /// What the outbox log says of an event's edits, for failure messages.
    fn log_of(&self, id: i64) -> Vec<String> {
        let mut stmt = self
            .mirror
            .conn()
            .prepare("SELECT op || ' ' || field || '=' || value || ': ' || result || ' ' || coalesce(detail, '') FROM outbox_log WHERE event_id = ?1 ORDER BY id")
            .expect("prepare");
        stmt.query_map([id], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    fn gone_in_mirror(&self, id: i64) -> bool {
        self.mirror_value(id, "upstream_state") == "deleted"
    }

    /// Records a local edit in the model: an edit to the base cancels, a delete supersedes.
    fn intend(&mut self, id: i64, field: Field, value: String, base: String) {
        if field == Field::Location {
            self.intents.retain(|(event, _), _| *event != id);
        }
        if value == base {
            self.intents.remove(&(id, field));
        } else {
            // A second edit of a field still waiting was made against the same upstream value.
            let first_base = self
                .intents
                .get(&(id, field))
                .map_or(base, |(_, base)| base.clone());
            self.intents.insert((id, field), (value, first_base));
        }
    }

    fn local_edit(&mut self, step: &Step) {
        let (event, field, pick, sql_view) = match *step {
            Step::Cli { event, field, pick } => (event, field, pick, None),
            Step::Sql {
                event,
                field,
                pick,
                view,
            } => (event, field, pick, Some(VIEWS[view])),
            _ => unreachable!(),
        };
        let id = self.ids[event];
        let value = local_value(field, pick);
        let current = self.mirror_value(id, field.column());
        if field == Field::Location && current == "trash" {
            return; // already deleted locally or upstream
        }
        if !field.writable(self.v2) || self.gone_in_mirror(id) {
            return; // refused at once (tests/it/write_back.rs, tests/it/v2_write_back.rs)
        }
        let base = self.mirror_value(id, &format!("{}_base", field.column()));
        match sql_view {
            None => {
                let edit = match field {
                    Field::Read => Edit::Read(value == "1"),
                    Field::Starred => Edit::Starred(value == "1"),
                    Field::Labels => Edit::Labels(value.clone()),
                    Field::Archived => Edit::Archived(value == "1"),
                    Field::Note => Edit::Note(value.clone()),
                    Field::Location => Edit::Delete,
                };
                edits::apply_edits(self.mirror.conn_mut(), &[id], &edit).expect("CLI edit");
            }
            Some(view) => {
                let plain = rusqlite::Connection::open(self.mirror.path()).expect("plain");
                plain
                    .execute(
                        &format!("UPDATE {view} SET {} = ?1 WHERE id = {id}", field.name()),
                        [sql_value(field, &value)],
                    )
                    .expect("SQL edit");
            }
        }
        self.intend(id, field, value, base);
    }

    fn upstream_edit(&self, event: usize, field: Field, pick: usize) {
        let id = self.ids[event] as u64;
        if self.gone_upstream(id as i64) {
            return; // deleted for good on the website
        }
        let mut patch = EventPatch::default();
        match field {
            Field::Read => patch.read = Some(pick % 2 == 1),
            Field::Starred => patch.starred = Some(pick % 2 == 1),
            Field::Labels => patch.labels = Some(LABELS[pick].to_string()),
            Field::Note => patch.comment = Some(NOTES[pick].to_string()),
            Field::Archived => {
                let location = if pick % 2 == 1 {
                    Location::Archive
                } else {
                    Location::Inbox
                };
                patch.location = Some(location.as_str().to_string());
            }
            // v2 has no trash: the website deletes for good.
            Field::Location if self.v2 && Location::ALL[pick] == Location::Trash => {
                self.emulator.with_state(|state| state.remove_event(id));
                return;
            }
            Field::Location => patch.location = Some(Location::ALL[pick].as_str().to_string()),
        }
        self.emulator
            .with_state(|state| state.patch_event(id, &patch))
            .expect("upstream edit");
    }

    /// After a push: an intent whose entry is gone must be upstream now, unless upstream
    /// changed the field after the edit was made and the policy gives upstream the conflict.
    fn push(&mut self) {
        // Upstream as the push finds it: a conflict is judged against this.
        let before: HashMap<(i64, Field), String> = self
            .intents
            .keys()
            .map(|&(id, field)| ((id, field), self.upstream_value(id, field)))
            .collect();
        let result = push::run(&mut self.mirror, &self.settings, &self.upstream);
        assert!(result.is_ok(), "push: {result:?}");
        let settled: Vec<(i64, Field)> = self
            .intents
            .keys()
            .copied()
            .filter(|(id, field)| !self.has_entry(*id, *field))
            .collect();
        for key in settled {
            let (wanted, base) = self.intents.remove(&key).expect("intent");
            if self.gone_upstream(key.0) {
                // Deleted for good upstream, by the website or by a local delete (whose answer
                // may have been lost: then its entry waits, and the next push closes it).
                assert!(
                    self.gone_in_mirror(key.0) || self.has_entry(key.0, Field::Location),
                    "{key:?}: gone upstream, not in the mirror; log {:?}",
                    self.log_of(key.0)
                );
                continue;
            }
            let now = self.upstream_value(key.0, key.1);
            let found = &before[&key];
            let conflict = found != &base && found != &wanted;
            if conflict && self.settings.push.conflict == ConflictPolicy::UpstreamWins {
                assert_eq!(&now, found, "upstream's change of {key:?} won the conflict");
            } else {
                assert_eq!(now, wanted, "a pushed edit of {key:?} is not upstream");
            }
        }
    }

    fn has_entry(&self, id: i64, field: Field) -> bool {
        self.mirror
            .conn()
            .query_row(
                "SELECT count(*) FROM outbox WHERE event_id = ?1 AND field = ?2",
                rusqlite::params![id, field.name()],
                |r| r.get::<_, i64>(0),
            )
            .expect("count")
            > 0
    }

    /// A pull never clobbers a pending edit.
    fn check_intents_visible(&self) {
        for ((id, field), (value, _)) in &self.intents {
            assert_eq!(
                &self.mirror_value(*id, field.column()),
                value,
                "the visible {field:?} of {id} lost its pending edit"
            );
            assert!(
                self.has_entry(*id, *field),
                "no outbox entry for {id} {field:?}"
            );
        }
    }
}

/// A value as an SQL parameter: 0/1 fields as integers, the others as text.
fn sql_value(field: Field, value: &str) -> rusqlite::types::Value {
    match field {
        Field::Read | Field::Starred | Field::Archived => {
            rusqlite::types::Value::Integer(i64::from(value == "1"))
        }
        _ => rusqlite::types::Value::Text(value.to_string()),
    }
}

fn run_case(seed: u64, policy: ConflictPolicy, v2: bool, steps: &[Step]) {
    let mut world = World::new(seed, policy, v2);
    for step in steps {
        match step {
            Step::Cli { .. } | Step::Sql { .. } => world.local_edit(step),
            Step::Upstream { event, field, pick } => world.upstream_edit(*event, *field, *pick),
            Step::Push { faults } => {
                world.faults(*faults);
                world.push();
            }
            Step::Pull { full, faults } => {
                world.faults(*faults);
                world.pull(*full);
            }
        }
        world.check_intents_visible();
    }
    // The end: no faults, every waiting edit due, push, then a complete pull.
    world.faults(false);
    world
        .mirror
        .conn()
        .execute("UPDATE outbox SET next_attempt_at = NULL", [])
        .expect("make due");
    world.push();
    assert!(
        world.intents.is_empty(),
        "edits neither upstream nor closed: {:?}",
        world.intents
    );
    let failed: i64 = world
        .mirror
        .conn()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .expect("count");
    assert_eq!(failed, 0, "the outbox is not empty after the final push");
    assert!(world.pull(true), "final pull");
    for &id in &world.ids {
        if world.gone_upstream(id) {
            assert!(
                world.gone_in_mirror(id),
                "{id} is gone upstream, not in the mirror"
            );
            continue;
        }
        for field in FIELDS {
            let upstream = world.upstream_value(id, field);
            assert_eq!(
                world.mirror_value(id, field.column()),
                upstream,
                "{id} {field:?}"
            );
            assert_eq!(
                world.mirror_value(id, &format!("{}_base", field.column())),
                upstream,
                "{id} {field:?} base"
            );
        }
    }
}

proptest! {
    // 48 cases by default (each dialect about half); PROPTEST_CASES=1000 for a longer hunt.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48)
    ))]

    #[test]
    fn local_edits_are_never_lost(
        seed in 0u64..1000,
        upstream_wins in any::<bool>(),
        v2 in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..30),
    ) {
        let policy = if upstream_wins { ConflictPolicy::UpstreamWins } else { ConflictPolicy::LocalWins };
        run_case(seed, policy, v2, &steps);
    }
}
