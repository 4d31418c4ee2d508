//! Report and full-text search speed on a large mirror.
//!
//! Run with `cargo bench --bench queries`. Builds a mirror of 1,000,000 events (and 5,000
//! contacts) from the in-process emulator, its history ending now so that the reports' default
//! windows hold data, then runs every report of `queries/` with its defaults (median of five
//! runs), a full-text search and the HTML report of the last 90 days. `QUERY_BENCH_EVENTS`
//! changes the size.

mod common;

use std::time::{Duration, Instant};

use sipmirror::api::Upstream;
use sipmirror::config::Settings;
use sipmirror::emulator::{Emulator, EmulatorConfig};
use sipmirror::progress::Progress;
use sipmirror::query;
use sipmirror::store::{Access, Mirror};
use sipmirror::sync::{self, SyncOptions};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    common::start();
    let events: usize = std::env::var("QUERY_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let emulator = Emulator::start(EmulatorConfig {
        events,
        contacts: 5_000,
        anchor_ms: chrono::Utc::now().timestamp_millis(),
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bench.db");
    let settings =
        Settings::for_local(db.clone(), emulator.base_url(), "demo", "demo").expect("settings");
    let upstream = Upstream::connect(&settings).expect("upstream");
    let started = Instant::now();
    {
        let mut mirror = Mirror::open(&db, Access::ReadWrite).expect("mirror");
        sync::run(
            &mut mirror,
            &settings,
            &upstream,
            &SyncOptions::default(),
            &Progress::hidden(),
        )
        .expect("sync");
    }
    println!(
        "queries: built a mirror of {events} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(emulator);

    let mirror = Mirror::open(&db, Access::ReadOnly).expect("mirror");
    let conn = mirror.conn();
    let number: String = conn
        .query_row(
            "SELECT from_number FROM sms WHERE from_number <> '' ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("an sms");
    let word: String = conn
        .query_row(
            "SELECT text FROM sms WHERE text IS NOT NULL ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .map(|text: String| {
            text.split(|c: char| !c.is_alphanumeric())
                .find(|w| w.chars().count() >= 5)
                .unwrap_or("bitte")
                .to_string()
        })
        .expect("a word");
    let mut slowest = Duration::ZERO;
    for report in query::reports().expect("reports") {
        let given: Vec<(String, String)> = match report.name.as_str() {
            "search" => vec![("q".into(), word.clone())],
            "sms_conversation" => vec![("with".into(), number.clone())],
            _ => Vec::new(),
        };
        let values = report.resolve_params(&given).expect("params");
        let mut samples = Vec::new();
        let mut rows = 0;
        for _ in 0..5 {
            let started = Instant::now();
            rows = query::run_report(conn, &report, &values)
                .expect("report")
                .rows
                .len();
            samples.push(started.elapsed());
        }
        let time = median(samples);
        slowest = slowest.max(time);
        println!(
            "queries: {:<30} {:>7.1} ms  ({rows} rows)",
            report.name,
            time.as_secs_f64() * 1000.0
        );
    }
    let mut samples = Vec::new();
    let mut hits = 0i64;
    for _ in 0..5 {
        let started = Instant::now();
        hits = conn
            .query_row(
                "SELECT count(*) FROM (SELECT rowid FROM search_messages WHERE search_messages MATCH ?1
                  ORDER BY rowid DESC LIMIT 50)",
                [format!("\"{word}\"")],
                |r| r.get(0),
            )
            .expect("fts");
        samples.push(started.elapsed());
    }
    println!(
        "queries: full-text search for {word:?}: {:.1} ms ({hits} newest hits); slowest report {:.1} ms",
        median(samples).as_secs_f64() * 1000.0,
        slowest.as_secs_f64() * 1000.0
    );

    // The HTML report of the default period (90 days), built whole as `sipmirror report` builds
    // it: its twelve reports on two connections, the charts and the page.
    let to = chrono::Local::now().date_naive();
    let period = sipmirror::report::Period {
        from: to - chrono::Days::new(89),
        to,
    };
    let mut samples = Vec::new();
    let mut size = 0;
    for _ in 0..5 {
        let started = Instant::now();
        size = sipmirror::report::html_parallel(&db, 2, period, "bench", "now")
            .expect("report")
            .len();
        samples.push(started.elapsed());
    }
    println!(
        "queries: report --html of 90 days: {:.1} ms ({} KiB)",
        median(samples).as_secs_f64() * 1000.0,
        size / 1024
    );
}
