//! Sync throughput and cost growth against the in-process emulator.
//!
//! Run with `cargo bench --bench sync`. Prints:
//! - the first sync of 200,000 events and 5,000 contacts: events/s and peak memory;
//! - a no-change sync on mirrors of 10,000 and 200,000 events: requests and wall time;
//! - a first sync with 20 ms of latency per request against the ideal pages / concurrency × 20 ms.
//!
//! `SYNC_BENCH_EVENTS` changes the large size.

mod common;

use std::time::Instant;

use sipmirror::api::Upstream;
use sipmirror::config::Settings;
use sipmirror::emulator::{Emulator, EmulatorConfig, Faults};
use sipmirror::progress::Progress;
use sipmirror::store::{Access, Mirror};
use sipmirror::sync::{self, SyncOptions, SyncReport};

struct Setup {
    emulator: Emulator,
    _dir: tempfile::TempDir,
    settings: Settings,
    upstream: Upstream,
    mirror: Mirror,
}

fn setup(events: usize, contacts: usize) -> Setup {
    setup_span(events, contacts, 730)
}

/// An account whose `events` cover `span_days` of history.
fn setup_span(events: usize, contacts: usize, span_days: u32) -> Setup {
    let emulator = Emulator::start(EmulatorConfig {
        events,
        contacts,
        span_days,
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bench.db");
    let settings =
        Settings::for_local(db.clone(), emulator.base_url(), "demo", "demo").expect("settings");
    let mirror = Mirror::open(&db, Access::ReadWrite).expect("mirror");
    let upstream = Upstream::connect(&settings).expect("upstream");
    Setup {
        emulator,
        _dir: dir,
        settings,
        upstream,
        mirror,
    }
}

fn sync(setup: &mut Setup) -> (SyncReport, f64) {
    let started = Instant::now();
    let report = sync::run(
        &mut setup.mirror,
        &setup.settings,
        &setup.upstream,
        &SyncOptions::default(),
        &Progress::hidden(),
    )
    .expect("sync");
    assert_eq!(report.outcome, "ok");
    (report, started.elapsed().as_secs_f64())
}

fn main() {
    common::start();
    let large: usize = std::env::var("SYNC_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);

    // First sync, no latency.
    let base_rss = common::status_kib("VmRSS:");
    let mut big = setup(large, 5_000);
    let emulator_rss = common::status_kib("VmRSS:") - base_rss;
    let (report, seconds) = sync(&mut big);
    let events: u64 = report
        .streams
        .iter()
        .filter(|s| ["calls", "faxes", "sms", "voicemails"].contains(&s.stream))
        .map(|s| s.counts.new)
        .sum();
    println!(
        "sync: first sync of {events} events + 5000 contacts in {seconds:.2} s = {:.0} events/s ({} requests); process peak {} MiB, of which the in-process emulator holds about {} MiB",
        events as f64 / seconds,
        report.requests,
        common::status_kib("VmHWM:") / 1024,
        emulator_rss / 1024
    );

    // No-change syncs on a small and a large mirror with the same recent activity (the large
    // one has a longer history) and the same contacts: the cost must not grow with history.
    drop(big);
    let mut small = setup_span(10_000, 500, 730);
    sync(&mut small);
    let mut big = setup_span(large, 500, (730 * large / 10_000) as u32);
    sync(&mut big);
    let mut rows = Vec::new();
    for (name, setup) in [("10k", &mut small), ("large", &mut big)] {
        setup.emulator.reset_stats();
        let mut best = f64::MAX;
        for _ in 0..5 {
            let (_, seconds) = sync(setup);
            best = best.min(seconds);
        }
        let requests = setup.emulator.stats().requests_total / 5;
        rows.push((name, requests, best));
    }
    println!(
        "sync: no-change sync: 10k events {} requests in {:.0} ms; {large} events {} requests in {:.0} ms (ratio {:.2})",
        rows[0].1,
        rows[0].2 * 1000.0,
        rows[1].1,
        rows[1].2 * 1000.0,
        rows[1].2 / rows[0].2
    );
    drop(big);
    drop(small);

    // With 20 ms latency per request: a first sync (which also pays for writing), and a
    // complete re-listing of the same account (network-bound: nothing changed).
    let latency_events = 40_000;
    let mut slow = setup(latency_events, 500);
    slow.emulator
        .set_faults(Faults {
            latency_ms: 20,
            ..Faults::default()
        })
        .expect("faults");
    let (report, seconds) = sync(&mut slow);
    let concurrency = slow.settings.sync.concurrency as f64;
    let event_pages: u64 = report
        .streams
        .iter()
        .filter(|s| ["calls", "faxes", "sms", "voicemails"].contains(&s.stream))
        .map(|s| s.counts.pages)
        .sum();
    let ideal = report.requests as f64 / concurrency * 0.020;
    println!(
        "sync: {latency_events} events with 20 ms latency, first sync: {seconds:.2} s for {} requests ({event_pages} event pages); requests/concurrency x 20 ms = {ideal:.2} s (ratio {:.2})",
        report.requests,
        seconds / ideal
    );
    let started = Instant::now();
    let report = sync::run(
        &mut slow.mirror,
        &slow.settings,
        &slow.upstream,
        &SyncOptions {
            full: true,
            ..SyncOptions::default()
        },
        &Progress::hidden(),
    )
    .expect("sync");
    let seconds = started.elapsed().as_secs_f64();
    let ideal = report.requests as f64 / concurrency * 0.020;
    println!(
        "sync: {latency_events} events with 20 ms latency, full re-listing: {seconds:.2} s for {} requests; requests/concurrency x 20 ms = {ideal:.2} s (ratio {:.2})",
        report.requests,
        seconds / ideal
    );
}
