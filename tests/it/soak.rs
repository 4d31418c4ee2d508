//! Soak test: many syncs against an emulator whose data keeps changing, with faults on, while
//! `serve-phonebook` answers. Memory of each sync and of the server, and the server's file
//! descriptors, must stay flat; the mirror must keep up with upstream.
//!
//! The default `cargo test` runs 25 rounds on a small account; a long run:
//! ```sh
//! SIPMIRROR_SOAK_ROUNDS=1000 SIPMIRROR_SOAK_EVENTS=20000 cargo test --release --test it soak:: -- --nocapture
//! ```
//! It prints the figures it compared.

use crate::common;

use common::{Stop, Synced, assert_mirror_equals_upstream, serve};
use serde_json::json;

/// Runs `sync --json` and returns its exit code and the peak memory it reports (KiB). The
/// process measures itself: `wait4`'s ru_maxrss would include the test process's memory,
/// which Linux carries into a forked child's high-water mark.
fn sync_measured(s: &Synced) -> (i32, i64) {
    let output = s.cmd(&["--json", "sync"]).output().expect("sync");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("report");
    let peak = report["peak_memory_kib"].as_i64().expect("peak memory");
    (output.status.code().unwrap_or(-1), peak)
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .expect("the server's descriptors")
}

fn rss_kib(pid: u32) -> i64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .expect("the server's memory (VmRSS)")
}

fn median(values: &[i64]) -> i64 {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn syncs_keep_up_with_flat_memory_and_descriptors() {
    let rounds = from_env("SIPMIRROR_SOAK_ROUNDS", 25).max(5);
    let s = Synced::start(from_env("SIPMIRROR_SOAK_EVENTS", 3000), 200);
    s.sync_ok(&[]);
    let (server, url) = serve(&s, &[], None);
    let server_pid = server.id();
    let _stop = Stop(server);
    let client = reqwest::blocking::Client::new();
    let faults =
        json!({"status_rates": {"500": 0.05, "429": 0.02}, "retry_after_s": 0, "reset_rate": 0.02});
    let mut sync_rss = Vec::new();
    let mut server_samples = Vec::new();
    for round in 0..rounds {
        s.control("PUT", "/_emulator/faults", Some(faults.clone()));
        let kind = ["calls", "faxes", "sms", "voicemails"][round % 4];
        s.control(
            "POST",
            "/_emulator/events",
            Some(json!({"type": kind, "count": 1 + round % 50})),
        );
        s.control("POST", "/_emulator/contacts", Some(json!({"count": 1})));
        let (code, rss) = sync_measured(&s);
        assert!(matches!(code, 0 | 3), "round {round}: sync exited {code}");
        sync_rss.push(rss);
        let response = client.get(format!("{url}/snom.xml")).send().expect("get");
        assert_eq!(response.status(), 200);
        server_samples.push((open_fds(server_pid), rss_kib(server_pid)));
        if round % 25 == 24 {
            s.control("DELETE", "/_emulator/faults", None);
            s.sync_ok(&["--full"]);
            assert_mirror_equals_upstream(&s);
        }
    }
    s.control("DELETE", "/_emulator/faults", None);
    s.sync_ok(&["--full"]);
    assert_mirror_equals_upstream(&s);

    eprintln!("soak: sync peak RSS per round (KiB): {sync_rss:?}");
    let fifth = (rounds / 5).max(1);
    let early = median(&sync_rss[..fifth]);
    let late = median(&sync_rss[rounds - fifth..]);
    let (fds_start, server_rss_start) = server_samples[fifth - 1];
    let (fds_end, server_rss_end) = server_samples[rounds - 1];
    eprintln!(
        "soak: {rounds} rounds; sync peak RSS median {early} KiB early, {late} KiB late; server fds {fds_start} -> {fds_end}, RSS {server_rss_start} -> {server_rss_end} KiB"
    );
    assert!(
        late <= early * 13 / 10 + 8 * 1024,
        "sync memory grew: {early} -> {late} KiB"
    );
    assert!(
        fds_end <= fds_start + 2,
        "server descriptors grew: {fds_start} -> {fds_end}"
    );
    assert!(
        server_rss_end <= server_rss_start * 3 / 2 + 16 * 1024,
        "server memory grew: {server_rss_start} -> {server_rss_end} KiB"
    );
}
