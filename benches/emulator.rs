//! Emulator scale: memory for 1,000,000 events, and the time to serve a page of 1,000 events
//! as JSON at any offset.
//!
//! Run with `cargo bench --bench emulator` (`EMULATOR_BENCH_EVENTS` changes the size).

mod common;

use std::time::{Duration, Instant};

use sipmirror::emulator::{Emulator, EmulatorConfig};

fn main() {
    sipmirror::api::install_tls_provider();
    common::start();
    let events: usize = std::env::var("EMULATOR_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let before = common::status_kib("VmRSS:");
    let started = Instant::now();
    let emulator = Emulator::start(EmulatorConfig {
        events,
        contacts: 5_000,
        ..EmulatorConfig::default()
    })
    .expect("start");
    let generated = started.elapsed();
    let after = common::status_kib("VmRSS:");
    println!(
        "emulator: {events} events + 5000 contacts generated in {:.2} s; memory {} MiB (process peak {} MiB)",
        generated.as_secs_f64(),
        (after - before) / 1024,
        common::status_kib("VmHWM:") / 1024
    );

    let client = reqwest::blocking::Client::new();
    let kinds = ["calls", "faxes", "sms", "voicemails"];
    let totals: Vec<u64> = kinds
        .iter()
        .map(|kind| {
            let url = format!(
                "{}/my/events/{kind}/?version=2.41.0&limit=1",
                emulator.base_url()
            );
            let page: serde_json::Value = client
                .get(&url)
                .basic_auth("demo", Some("demo"))
                .header("Accept", "application/json")
                .send()
                .and_then(|r| r.json())
                .expect("listing");
            page["events"]["overallCount"].as_u64().unwrap_or(0)
        })
        .collect();
    let mut times = Vec::new();
    for i in 0..60u64 {
        let k = (i % 4) as usize;
        let kind = kinds[k];
        // Offsets spread over the whole listing, deep ones included.
        let offset = (i * 7919 * 1000) % totals[k].saturating_sub(1000).max(1);
        let url = format!(
            "{}/my/events/{kind}/?version=2.41.0&limit=1000&offset={offset}",
            emulator.base_url()
        );
        let t = Instant::now();
        let body = client
            .get(&url)
            .basic_auth("demo", Some("demo"))
            .header("Accept", "application/json")
            .send()
            .and_then(|r| r.bytes())
            .expect("page");
        times.push((t.elapsed(), body.len()));
    }
    times.sort();
    let median: Duration = times[times.len() / 2].0;
    let p90: Duration = times[times.len() * 9 / 10].0;
    let bytes = times[times.len() / 2].1;
    println!(
        "emulator: page of 1000 events as JSON ({} KiB): median {:.1} ms, p90 {:.1} ms over {} requests",
        bytes / 1024,
        median.as_secs_f64() * 1000.0,
        p90.as_secs_f64() * 1000.0,
        times.len()
    );
}
