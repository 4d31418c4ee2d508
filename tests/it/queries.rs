//! The query layer: every report in `queries/` on emulator data, checked against a computation
//! from the emulator's own records (not from the mirror); parameters; read-only enforcement.

use crate::common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, TimeZone};
use chrono_tz::Europe::Berlin;
use common::{Synced, TestHome, one_line_stderr};
use serde_json::Value;
use sipmirror::emulator::{Kind, Location};

/// One upstream event as the tests need it, straight from the emulator's state.
#[derive(Debug, Clone)]
struct Ev {
    id: i64,
    kind: Kind,
    day: chrono::NaiveDate,
    direction: &'static str,
    status: Option<&'static str>,
    trashed: bool,
    read: bool,
    labels: String,
    from: Option<String>,
    to: Option<String>,
    extension: Option<String>,
    duration: Option<u32>,
    fail_reason: Option<String>,
    text: Option<String>,
}

struct Upstream {
    events: Vec<Ev>,
    /// number key -> the contacts (uuid) that have it
    contact_numbers: HashMap<String, BTreeSet<String>>,
    contacts_without_numbers: BTreeSet<String>,
}

fn upstream(synced: &Synced) -> Upstream {
    synced.emulator.with_state(|state| {
        let number = |list: &[u32]| {
            list.first()
                .map(|&i| state.numbers.get(i).e164.to_string())
                .filter(|n| !n.is_empty())
        };
        let events = state
            .events
            .iter()
            .map(|e| {
                use sipmirror::emulator::Detail;
                let (duration, fail_reason, text) = match &e.detail {
                    Detail::Call { duration_s, .. } => (*duration_s, None, None),
                    Detail::Fax { fail_reason, .. } => (None, fail_reason.map(String::from), None),
                    Detail::Sms { text, .. } => (None, None, Some(text.to_string())),
                    Detail::Voicemail {
                        duration_s,
                        transcription,
                    } => (
                        Some(*duration_s),
                        None,
                        transcription.as_ref().map(|t| t.to_string()),
                    ),
                };
                Ev {
                    id: e.id as i64,
                    kind: e.kind,
                    day: Berlin
                        .timestamp_millis_opt(e.created_ms)
                        .single()
                        .expect("time")
                        .date_naive(),
                    direction: e.direction.as_str(),
                    status: e.status.map(|s| s.as_str()),
                    trashed: e.location == Location::Trash,
                    read: e.read,
                    labels: e.labels.to_string(),
                    from: number(&e.sources),
                    to: number(&e.targets),
                    extension: e.extension.map(|x| format!("e{x}")),
                    duration,
                    fail_reason,
                    text,
                }
            })
            .collect();
        let mut contact_numbers: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut contacts_without_numbers = BTreeSet::new();
        for contact in &state.contacts {
            let tels: Vec<_> = contact
                .entries
                .iter()
                .filter(|e| e.name == "TEL")
                .filter_map(|e| e.value.as_deref())
                .filter_map(|v| sipmirror::numbers::number_key(v, "49"))
                .collect();
            if contact.entries.iter().all(|e| e.name != "TEL") {
                contacts_without_numbers.insert(contact.uuid.clone());
            }
            for key in tels {
                contact_numbers
                    .entry(key)
                    .or_default()
                    .insert(contact.uuid.clone());
            }
        }
        Upstream {
            events,
            contact_numbers,
            contacts_without_numbers,
        }
    })
}

/// `+4930...` form of an upstream e164 (digits without +).
fn key(e164: &str) -> String {
    sipmirror::numbers::number_key(&format!("+{e164}"), "49").expect("number key")
}

fn setup() -> Synced {
    let synced = Synced::start(2000, 80);
    synced.home.write_config(
        "timezone = \"Europe/Berlin\"\n[http]\nretry_base = \"1ms\"\n",
        0o600,
    );
    synced.sync_ok(&[]);
    synced
}

/// Runs a report with `--format json` and returns its rows.
fn report(synced: &Synced, name: &str, params: &[&str]) -> Vec<Value> {
    let mut args = vec!["query", name, "--format", "json"];
    for p in params {
        args.push("--param");
        args.push(p);
    }
    let output = synced.cmd(&args).output().expect("run");
    assert!(
        output.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice::<Value>(&output.stdout)
        .expect("json")
        .as_array()
        .expect("rows")
        .clone()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn minutes(seconds: u64, per: f64) -> f64 {
    seconds as f64 / per
}

/// Equal up to the reports' rounding to one decimal.
fn close(reported: f64, exact: f64) -> bool {
    (reported - exact).abs() <= 0.05 + 1e-9
}

const ALL_TIME: &str = "days=100000";

#[test]
fn call_statistics_match_upstream() {
    let synced = setup();
    let up = upstream(&synced);
    let calls: Vec<&Ev> = up.events.iter().filter(|e| e.kind == Kind::Call).collect();

    // Per day.
    let mut per_day: BTreeMap<String, [u64; 5]> = BTreeMap::new();
    for c in &calls {
        let slot = per_day.entry(c.day.to_string()).or_default();
        match c.direction {
            "incoming" => slot[0] += 1,
            "outgoing" => slot[1] += 1,
            "missed_incoming" => slot[2] += 1,
            _ => slot[3] += 1,
        }
        slot[4] += u64::from(c.duration.unwrap_or(0));
    }
    let rows = report(&synced, "calls_per_day", &[ALL_TIME]);
    assert_eq!(rows.len(), per_day.len());
    for row in &rows {
        let day = row["day"].as_str().expect("day");
        let want = per_day[day];
        assert_eq!(
            [
                row["incoming"].clone(),
                row["outgoing"].clone(),
                row["missed"].clone(),
                row["not_reached"].clone()
            ]
            .iter()
            .map(int)
            .collect::<Vec<_>>(),
            want[..4].iter().map(|&n| n as i64).collect::<Vec<_>>(),
            "{day}"
        );
        let talk = row["talk_minutes"].as_f64().expect("minutes");
        assert!(close(talk, minutes(want[4], 60.0)), "{day}: {talk}");
    }

    // Per week, Monday first.
    let mut per_week: BTreeMap<String, u64> = BTreeMap::new();
    for c in &calls {
        let monday = c.day - chrono::Days::new(u64::from(c.day.weekday().num_days_from_monday()));
        *per_week.entry(monday.to_string()).or_default() += 1;
    }
    let rows = report(&synced, "calls_per_week", &["weeks=20000"]);
    let got: BTreeMap<String, u64> = rows
        .iter()
        .map(|r| {
            let total = ["incoming", "outgoing", "missed", "not_reached"]
                .iter()
                .map(|k| int(&r[*k]) as u64)
                .sum();
            (
                r["week_starting"].as_str().expect("week").to_string(),
                total,
            )
        })
        .collect();
    assert_eq!(got, per_week);

    // Talk time per extension.
    let mut per_extension: BTreeMap<String, (i64, i64, u64)> = BTreeMap::new();
    for c in &calls {
        let slot = per_extension
            .entry(c.extension.clone().unwrap_or_else(|| "(none)".into()))
            .or_default();
        slot.0 += 1;
        slot.1 += i64::from(matches!(c.direction, "incoming" | "outgoing"));
        slot.2 += u64::from(c.duration.unwrap_or(0));
    }
    let rows = report(&synced, "talk_time_per_extension", &[ALL_TIME]);
    assert_eq!(rows.len(), per_extension.len());
    for row in &rows {
        let extension = row["extension"].as_str().expect("ext");
        let (calls, connected, seconds) = per_extension[extension];
        assert_eq!(
            (int(&row["calls"]), int(&row["connected"])),
            (calls, connected)
        );
        let talk = row["talk_minutes"].as_f64().expect("minutes");
        assert!(close(talk, minutes(seconds, 60.0)), "{extension}: {talk}");
    }

    // Top callers and callees: the call counts of the busiest numbers.
    for (name, directions, side) in [
        ("top_callers", ["incoming", "missed_incoming"], true),
        ("top_callees", ["outgoing", "missed_outgoing"], false),
    ] {
        let mut counts: HashMap<Option<String>, i64> = HashMap::new();
        for c in calls.iter().filter(|c| directions.contains(&c.direction)) {
            let number = if side { c.from.clone() } else { c.to.clone() };
            *counts.entry(number.map(|n| key(&n))).or_default() += 1;
        }
        let mut want: Vec<i64> = counts.values().copied().collect();
        want.sort_unstable_by(|a, b| b.cmp(a));
        want.truncate(5);
        let rows = report(&synced, name, &[ALL_TIME, "limit=5"]);
        let got: Vec<i64> = rows.iter().map(|r| int(&r["calls"])).collect();
        assert_eq!(got, want, "{name}");
        for row in rows {
            if let Some(number) = row["number"].as_str() {
                // Callers are shown in E.164 with +, as the exports write them.
                let number = match name {
                    "top_callers" => number.strip_prefix('+').expect("E.164 with +"),
                    _ => number,
                };
                assert_eq!(
                    counts[&Some(key(number))],
                    int(&row["calls"]),
                    "{name} {number}"
                );
            }
        }
    }
}

#[test]
fn message_and_fax_reports_match_upstream() {
    let synced = setup();
    let up = upstream(&synced);

    let want: BTreeSet<i64> = up
        .events
        .iter()
        .filter(|e| e.kind == Kind::Voicemail && !e.read && !e.trashed)
        .map(|e| e.id)
        .collect();
    let got: BTreeSet<i64> = report(&synced, "unheard_voicemails", &[])
        .iter()
        .map(|r| int(&r["id"]))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    let want: BTreeMap<i64, String> = up
        .events
        .iter()
        .filter(|e| e.kind == Kind::Fax && e.status == Some("failed"))
        .map(|e| {
            (
                e.id,
                e.fail_reason
                    .clone()
                    .unwrap_or_else(|| "(no reason given)".into()),
            )
        })
        .collect();
    let got: BTreeMap<i64, String> = report(&synced, "failed_faxes", &[ALL_TIME])
        .iter()
        .map(|r| {
            (
                int(&r["id"]),
                r["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // The conversation with the number that has the most SMS.
    let sms: Vec<&Ev> = up.events.iter().filter(|e| e.kind == Kind::Sms).collect();
    let mut per_number: HashMap<String, usize> = HashMap::new();
    for s in &sms {
        for n in [&s.from, &s.to].into_iter().flatten() {
            *per_number.entry(n.clone()).or_default() += 1;
        }
    }
    let (busiest, _) = per_number
        .iter()
        .max_by_key(|(n, c)| (**c, (*n).clone()))
        .expect("sms");
    let want: Vec<String> = sms
        .iter()
        .filter(|s| s.from.as_ref() == Some(busiest) || s.to.as_ref() == Some(busiest))
        .map(|s| s.text.clone().unwrap_or_default())
        .collect();
    // Written internationally, and nationally when it is a German number.
    let mut forms = vec![format!("+{busiest}")];
    if let Some(rest) = busiest.strip_prefix("49") {
        forms.push(format!("0{rest}"));
    }
    for form in forms {
        let rows = report(
            &synced,
            "sms_conversation",
            &[&format!("with={form}"), "limit=100000"],
        );
        let got: Vec<String> = rows
            .iter()
            .map(|r| r["text"].as_str().unwrap_or("").to_string())
            .collect();
        assert_eq!(got, want, "{form}");
    }

    // Labels as shown.
    let mut per_label: BTreeMap<String, i64> = BTreeMap::new();
    for e in &up.events {
        for label in e.labels.split(',').filter(|l| !l.is_empty()) {
            *per_label.entry(label.to_string()).or_default() += 1;
        }
    }
    let got: BTreeMap<String, i64> = report(&synced, "events_per_label", &[])
        .iter()
        .map(|r| {
            (
                r["label"].as_str().expect("label").to_string(),
                int(&r["events"]),
            )
        })
        .collect();
    assert!(!per_label.is_empty());
    assert_eq!(got, per_label);
}

#[test]
fn number_reports_match_upstream() {
    let synced = setup();
    let up = upstream(&synced);
    let calls: Vec<&Ev> = up.events.iter().filter(|e| e.kind == Kind::Call).collect();

    // Unknown numbers calling at least twice.
    let mut unknown: BTreeMap<String, i64> = BTreeMap::new();
    for c in calls
        .iter()
        .filter(|c| matches!(c.direction, "incoming" | "missed_incoming"))
    {
        if let Some(from) = &c.from
            && !up.contact_numbers.contains_key(&key(from))
        {
            *unknown.entry(from.clone()).or_default() += 1;
        }
    }
    unknown.retain(|_, n| *n >= 2);
    let got: BTreeMap<String, i64> = report(
        &synced,
        "repeated_unknown_callers",
        &[ALL_TIME, "min_calls=2"],
    )
    .iter()
    .map(|r| {
        (
            r["number"].as_str().expect("number").to_string(),
            int(&r["calls"]),
        )
    })
    .collect();
    assert_eq!(got, unknown);

    // Missed calls after which the number was neither called nor heard from.
    let mut not_called_back: BTreeSet<String> = BTreeSet::new();
    for (i, m) in calls.iter().enumerate() {
        let Some(from) = &m.from else { continue };
        if m.direction != "missed_incoming" || m.trashed {
            continue;
        }
        let answered_later = calls[i + 1..].iter().any(|later| {
            (later.direction == "outgoing" && later.to.as_deref().map(key) == Some(key(from)))
                || (later.direction == "incoming"
                    && later.from.as_deref().map(key) == Some(key(from)))
        });
        if !answered_later {
            not_called_back.insert(from.clone());
        }
    }
    let got: BTreeSet<String> = report(&synced, "missed_calls_not_called_back", &[ALL_TIME])
        .iter()
        .map(|r| r["number"].as_str().expect("number").to_string())
        .collect();
    assert!(!not_called_back.is_empty());
    assert_eq!(got, not_called_back);

    // Contacts without numbers, and numbers in several contacts.
    let got: BTreeSet<String> = report(&synced, "contacts_without_numbers", &[])
        .iter()
        .map(|r| r["uuid"].as_str().expect("uuid").to_string())
        .collect();
    assert_eq!(got, up.contacts_without_numbers);
    let want: BTreeMap<usize, usize> = up
        .contact_numbers
        .values()
        .filter(|owners| owners.len() > 1)
        .fold(BTreeMap::new(), |mut m, owners| {
            *m.entry(owners.len()).or_default() += 1;
            m
        });
    let got: BTreeMap<usize, usize> =
        report(&synced, "shared_numbers", &[])
            .iter()
            .fold(BTreeMap::new(), |mut m, r| {
                *m.entry(int(&r["contacts"]) as usize).or_default() += 1;
                m
            });
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[test]
fn search_balance_and_vouchers_match_upstream() {
    let synced = setup();
    let up = upstream(&synced);
    // A word from some SMS text: every message whose words include it is found.
    let words = |text: &str| -> BTreeSet<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let messages: Vec<&Ev> = up
        .events
        .iter()
        .filter(|e| matches!(e.kind, Kind::Sms | Kind::Voicemail) && e.text.is_some())
        .collect();
    let word = messages
        .iter()
        .flat_map(|m| words(m.text.as_deref().unwrap_or("")))
        .find(|w| w.chars().count() >= 6 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .expect("a word");
    let want: BTreeSet<String> = messages
        .iter()
        .filter(|m| words(m.text.as_deref().unwrap_or("")).contains(&word))
        .map(|m| m.id.to_string())
        .collect();
    let rows = report(
        &synced,
        "search",
        &[&format!("q={}", word.to_uppercase()), "limit=100000"],
    );
    let got: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["kind"] != "contact")
        .map(|r| r["ref"].to_string())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    // Contacts by name, whatever the case.
    let name = synced
        .db()
        .query_row(
            "SELECT family_name FROM mirror_contacts WHERE family_name GLOB '[A-Z]*' LIMIT 1",
            [],
            |r| r.get::<_, String>(0),
        )
        .expect("a family name");
    let rows = report(&synced, "search", &[&format!("q={}", name.to_lowercase())]);
    assert!(rows.iter().any(|r| r["kind"] == "contact"), "{name}");
    // Hostile search text is a phrase, not FTS syntax.
    report(&synced, "search", &["q=\" OR * NEAR("]);

    let (total, vouchers) = synced.emulator.with_state(|s| {
        (
            s.account.balance.total_including_vat,
            s.account
                .balance
                .vouchers
                .iter()
                .map(|(_, v)| v.len())
                .sum::<usize>(),
        )
    });
    let rows = report(&synced, "balance_history", &[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["balance"].as_f64(), Some(total));
    assert_eq!(report(&synced, "voucher_use", &[]).len(), vouchers);
}

#[test]
fn every_report_runs_as_is_in_the_sqlite3_shell() {
    if !common::has_sqlite3_shell() {
        return;
    }
    let synced = setup();
    for entry in
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/queries")).expect("queries")
    {
        let path = entry.expect("entry").path();
        let output = std::process::Command::new("sqlite3")
            .arg(synced.home.db())
            .stdin(std::fs::File::open(&path).expect("open"))
            .output()
            .expect("sqlite3");
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn the_embedded_reports_are_the_queries_folder() {
    let mut files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/queries"))
        .expect("queries")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    files.sort();
    let embedded: Vec<String> = sipmirror::query::REPORT_SOURCES
        .iter()
        .map(|(name, _)| format!("{name}.sql"))
        .collect();
    assert_eq!(files, embedded);
    assert!(embedded.len() >= 12);
}

#[test]
fn defaults_are_the_same_in_sipmirror_and_in_the_file() {
    let synced = setup();
    for report_ in sipmirror::query::reports().expect("reports") {
        if report_.params.iter().any(|p| p.default.is_none()) {
            continue;
        }
        let implicit = report(&synced, &report_.name, &[]);
        // NULL parameters fall back to the SQL's own defaults, as in the sqlite3 shell.
        let db = synced.db();
        let mut stmt = db.prepare(&report_.sql).expect("prepare");
        for index in 1..=stmt.parameter_count() {
            stmt.raw_bind_parameter(index, rusqlite::types::Null)
                .expect("bind");
        }
        let mut rows = stmt.raw_query();
        let mut count = 0;
        while rows.next().expect("row").is_some() {
            count += 1;
        }
        assert_eq!(implicit.len(), count, "{}", report_.name);
    }
}

#[test]
fn bad_names_parameters_and_writes_are_refused() {
    let synced = setup();
    for (args, code, message) in [
        (
            vec!["query", "calls_per_dya"],
            2,
            "did you mean calls_per_day",
        ),
        (
            vec!["query", "calls_per_day", "--param", "days=many"],
            2,
            "not a whole number",
        ),
        (
            vec!["query", "calls_per_day", "--param", "weeks=2"],
            2,
            "has no parameter \"weeks\"",
        ),
        (
            vec!["query", "calls_per_day", "--param", "days"],
            2,
            "KEY=VALUE",
        ),
        (vec!["query", "search"], 2, "needs --param q="),
        (vec!["sql", "UPDATE events SET read = 1"], 2, "read-only"),
        (vec!["sql", "DELETE FROM mirror_events"], 2, "read-only"),
        (vec!["sql", "SELECT 1; SELECT 2"], 2, "one statement"),
        (vec!["sql", "SELEC id FROM events"], 2, "at character 1"),
        (
            vec!["sql", "SELECT nonsense FROM events"],
            2,
            "no such column: nonsense",
        ),
    ] {
        let output = synced.cmd(&args).output().expect("run");
        assert_eq!(output.status.code(), Some(code), "{args:?}");
        let stderr = one_line_stderr(&output);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    // Nothing was changed.
    let unread: i64 = synced
        .db()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .expect("count");
    assert_eq!(unread, 0);
}

#[test]
fn sql_and_query_print_tables_csv_and_json() {
    let synced = setup();
    let output = synced
        .cmd(&[
            "sql",
            "SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY kind",
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("kind"), "{text}");
    assert_eq!(text.lines().count(), 6, "{text}");
    let output = synced
        .cmd(&["sql", "--format", "csv", "SELECT 'a,b' AS x, 2 AS y"])
        .output()
        .expect("run");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "x,y\r\n\"a,b\",2\r\n"
    );
    let output = synced
        .cmd(&["--json", "query", "--list"])
        .output()
        .expect("run");
    let list: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(list.as_array().expect("reports").len() >= 12);
}

#[test]
fn an_empty_mirror_says_there_is_nothing_yet() {
    let home = TestHome::new();
    home.run(&["init"]).assert().success();
    let output = home
        .run(&["query", "unheard_voicemails"])
        .output()
        .expect("run");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("the mirror is empty"));
}

#[test]
fn show_prints_a_report_s_sql_as_the_file_has_it() {
    let home = TestHome::new();
    let output = home
        .run(&["query", "--show", "calls_per_day"])
        .output()
        .expect("show");
    assert!(output.status.success());
    let shipped = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/queries/calls_per_day.sql"
    ))
    .expect("file");
    assert_eq!(output.stdout, shipped);
}

#[test]
fn a_users_own_reports_are_listed_and_run_beside_the_built_in_ones() {
    let s = Synced::start(50, 5);
    s.sync_ok(&[]);
    let folder = s.home.path().join("config/sipmirror/queries");
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::write(
        folder.join("my_calls.sql"),
        "-- title: My calls\n-- How many calls there are.\n-- param: kind (text, default call): the kind\nSELECT count(*) AS n FROM events WHERE kind = coalesce(:kind, 'call');\n",
    )
    .expect("report");
    let list = s.cmd(&["query", "--list"]).output().expect("list");
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("my_calls (yours:"), "{text}");
    assert!(text.contains("calls_per_day"), "{text}");
    let output = s
        .cmd(&["query", "my_calls", "--format", "json"])
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Value = serde_json::from_slice(&output.stdout).expect("json");
    let expected: i64 = s
        .db()
        .query_row("SELECT count(*) FROM events WHERE kind = 'call'", [], |r| {
            r.get(0)
        })
        .expect("count");
    assert_eq!(rows[0]["n"], expected, "{rows}");
    // A report without a title is refused, naming its file.
    std::fs::write(folder.join("broken.sql"), "SELECT 1;\n").expect("report");
    let output = s.cmd(&["query", "--list"]).output().expect("list");
    assert_eq!(output.status.code(), Some(2));
    let line = one_line_stderr(&output);
    assert!(
        line.contains("broken.sql") && line.contains("title"),
        "{line}"
    );
}
