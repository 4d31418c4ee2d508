//! Push throughput: 10,000 queued read/starred edits replayed to the in-process emulator with
//! 5 ms of latency per request, through each dialect. classic reads each event and writes each
//! field (two requests per edit); v2 reads each event and writes the flags of up to 149 events
//! in one bulk `PUT /history`.
//!
//! Run with `cargo bench --bench push`. `PUSH_BENCH_EDITS` changes the number of edits,
//! `PUSH_BENCH_CONCURRENCY` the events read at once (default: the `[push]` default, 16),
//! `PUSH_BENCH_API` runs one dialect only (`classic` or `v2`).

mod common;

use std::time::{Duration, Instant};

use sipmirror::api::Upstream;
use sipmirror::config::Api;
use sipmirror::emulator::{Emulator, EmulatorConfig, Faults};
use sipmirror::progress::Progress;
use sipmirror::push;
use sipmirror::store::{Access, Mirror};
use sipmirror::sync::{self, SyncOptions};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    common::start();
    let only = std::env::var("PUSH_BENCH_API").ok();
    for api in ["classic", "v2"] {
        if only.as_deref().is_none_or(|o| o == api) {
            bench(api == "v2");
        }
    }
}

fn bench(v2: bool) {
    let edits = env_number("PUSH_BENCH_EDITS", 10_000);
    let emulator = Emulator::start(EmulatorConfig {
        events: edits + 1_000,
        contacts: 50,
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bench.db");
    let api = if v2 { Api::V2 } else { Api::Classic };
    let mut settings = emulator.settings(db.clone(), api).expect("settings");
    settings.push.concurrency = env_number("PUSH_BENCH_CONCURRENCY", settings.push.concurrency);
    let upstream = Upstream::connect(&settings).expect("upstream");
    let mut mirror = Mirror::open(&db, Access::ReadWrite).expect("mirror");
    sync::run(
        &mut mirror,
        &settings,
        &upstream,
        &SyncOptions::default(),
        &Progress::hidden(),
    )
    .expect("first sync");

    // One edit per event, half read and half starred, through the editable view, as a person
    // in sqlite3 would.
    mirror
        .conn()
        .execute_batch(&format!(
            "UPDATE event_flags SET read = 1 - read
             WHERE id IN (SELECT id FROM mirror_events WHERE id % 2 = 0 ORDER BY id DESC LIMIT {half});
             UPDATE event_flags SET starred = 1 - starred
             WHERE id IN (SELECT id FROM mirror_events WHERE id % 2 = 1 ORDER BY id DESC LIMIT {half});",
            half = edits / 2
        ))
        .expect("queue edits");
    let queued: i64 = mirror
        .conn()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .expect("count");
    assert_eq!(queued as usize, edits / 2 * 2);

    emulator
        .set_faults(Faults {
            latency_ms: 5,
            ..Faults::default()
        })
        .expect("faults");
    let started = Instant::now();
    let report = push::run(&mut mirror, &settings, &upstream).expect("push");
    let elapsed = started.elapsed();
    assert_eq!(report.pushed as i64, queued, "{report:?}");
    let per_second = queued as f64 / elapsed.as_secs_f64();
    let ideal = Duration::from_millis(5).as_secs_f64() * report.requests as f64
        / settings.push.concurrency as f64;
    println!(
        "push {}: {queued} edits with 5 ms latency, concurrency {}: {:.2} s, {per_second:.0} edits/s ({} requests; requests/concurrency x 5 ms = {ideal:.2} s)",
        if v2 { "v2" } else { "classic" },
        settings.push.concurrency,
        elapsed.as_secs_f64(),
        report.requests
    );
}
