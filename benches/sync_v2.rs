//! A first sync through sipgate's API v2, as a user runs it: the `sipmirror` binary against the
//! emulator in its own process (`sipmirror emulator`), over loopback.
//!
//! Run with `cargo bench --bench sync_v2`. Prints:
//! - the first sync of 200,000 events and 5,000 contacts: events/s, the mirror's bytes per
//!   event, and the ratio of its time to fetching the same history pages and discarding them;
//!   with the CPU seconds the emulator spends serving each and the sync process spends, since
//!   on a machine with few cores the two processes share them and the ratio follows;
//! - a no-change sync on mirrors of 10,000 and 200,000 events: history requests and wall time.
//!
//! `SYNC_BENCH_EVENTS` changes the large size.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_sipmirror");

/// `sipmirror emulator` on a free port, killed when dropped.
struct EmulatorProcess {
    child: Child,
    v2_base_url: String,
    token_id: String,
    token: String,
}

impl EmulatorProcess {
    fn start(events: usize, contacts: usize, span_days: u32) -> EmulatorProcess {
        let mut child = Command::new(BIN)
            .args(["--json", "emulator", "--listen", "127.0.0.1:0"])
            .args(["--events", &events.to_string()])
            .args(["--contacts", &contacts.to_string()])
            .args(["--span-days", &span_days.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator");
        // `--json` prints one object, over several lines; the process then keeps serving.
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut text = String::new();
        let info: serde_json::Value = loop {
            if reader.read_line(&mut text).expect("emulator answer") == 0 {
                panic!("the emulator stopped: {text}");
            }
            if let Ok(info) = serde_json::from_str(&text) {
                break info;
            }
        };
        let text = |key: &str| info[key].as_str().expect(key).to_string();
        EmulatorProcess {
            v2_base_url: text("v2_base_url"),
            token_id: text("token_id"),
            token: text("token"),
            child,
        }
    }

    fn control_url(&self) -> String {
        self.v2_base_url.trim_end_matches("/v2").to_string()
    }

    fn sync(&self, db: &Path) -> (serde_json::Value, f64) {
        let started = Instant::now();
        let output = Command::new(BIN)
            .arg("--db")
            .arg(db)
            .args(["--json", "sync"])
            .env("SIPGATE_API", "v2")
            .env("SIPGATE_BASE_URL", &self.v2_base_url)
            .env("SIPGATE_TOKEN_ID", &self.token_id)
            .env("SIPGATE_TOKEN", &self.token)
            .env("HOME", db.parent().expect("dir"))
            .env("XDG_CONFIG_HOME", db.parent().expect("dir"))
            .output()
            .expect("sync");
        let seconds = started.elapsed().as_secs_f64();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        (
            serde_json::from_slice(&output.stdout).expect("sync report"),
            seconds,
        )
    }

    fn history_requests(&self, client: &reqwest::blocking::Client) -> u64 {
        let stats: serde_json::Value = client
            .get(format!("{}/_emulator/stats", self.control_url()))
            .send()
            .and_then(|r| r.json())
            .expect("stats");
        stats["requests"]["GET /v2/history"].as_u64().unwrap_or(0)
    }

    /// Fetches every history page the sync fetched (each type, archived and not, 1,000 per
    /// page), four at a time as the sync does, and drops the bodies. Returns the seconds.
    fn fetch_and_discard(&self, client: &reqwest::blocking::Client) -> f64 {
        let mut pages = Vec::new();
        for kind in ["CALL", "FAX", "SMS", "VOICEMAIL"] {
            for archived in ["false", "true"] {
                let url = format!(
                    "{}/history?types={kind}&archived={archived}&limit=1",
                    self.v2_base_url
                );
                let total = client
                    .get(&url)
                    .basic_auth(&self.token_id, Some(&self.token))
                    .send()
                    .and_then(|r| r.json::<serde_json::Value>())
                    .expect("total")["totalCount"]
                    .as_u64()
                    .expect("totalCount");
                for offset in (0..total.max(1)).step_by(1000) {
                    pages.push(format!(
                        "{}/history?types={kind}&archived={archived}&limit=1000&offset={offset}",
                        self.v2_base_url
                    ));
                }
            }
        }
        let started = Instant::now();
        std::thread::scope(|threads| {
            for part in pages.chunks(pages.len().div_ceil(4)) {
                threads.spawn(move || {
                    for url in part {
                        let body = client
                            .get(url)
                            .basic_auth(&self.token_id, Some(&self.token))
                            .send()
                            .and_then(|r| r.bytes())
                            .expect("page");
                        assert!(!body.is_empty());
                    }
                });
            }
        });
        started.elapsed().as_secs_f64()
    }

    /// The emulator's CPU seconds so far.
    fn cpu_seconds(&self) -> f64 {
        proc_stat_seconds(&format!("/proc/{}/stat", self.child.id()), &[13, 14])
    }
}

/// Sums fields of a `/proc/.../stat` file, by their 0-based position in the line (13 utime,
/// 14 stime, 15 and 16 the same for waited-for children), as seconds; 0 where unknown (not
/// Linux). The kernel counts them in USER_HZ, which is 100 on every architecture Linux runs on.
fn proc_stat_seconds(path: &str, fields: &[usize]) -> f64 {
    let Ok(text) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    let Some((_, after_name)) = text.rsplit_once(')') else {
        return 0.0;
    };
    // The command name may hold spaces and parentheses; the fields after its last `)` start
    // with the line's third.
    let values: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields
        .iter()
        .filter_map(|&field| values.get(field.checked_sub(2)?)?.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
}

/// The CPU seconds of this process's children that have been waited for.
fn children_cpu_seconds() -> f64 {
    proc_stat_seconds("/proc/self/stat", &[15, 16])
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn events_of(report: &serde_json::Value) -> u64 {
    report["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter(|s| {
            ["calls", "faxes", "sms", "voicemails"].contains(&s["stream"].as_str().unwrap_or(""))
        })
        .map(|s| s["new"].as_u64().unwrap_or(0))
        .sum()
}

fn mirror_bytes(db: &Path) -> u64 {
    // Fold the WAL into the file first, so the size is what the mirror keeps.
    let conn = rusqlite::Connection::open(db).expect("mirror");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    std::fs::metadata(db).map(|m| m.len()).unwrap_or(0)
}

fn main() {
    sipmirror::api::install_tls_provider();
    common::start();
    let large: usize = std::env::var("SYNC_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .expect("client");
    let dir = tempfile::tempdir().expect("tempdir");

    let emulator = EmulatorProcess::start(large, 5_000, 730);
    let db = dir.path().join("first.db");
    let (emulator_before, children_before) = (emulator.cpu_seconds(), children_cpu_seconds());
    let (report, seconds) = emulator.sync(&db);
    let emulator_for_sync = emulator.cpu_seconds() - emulator_before;
    let sync_cpu = children_cpu_seconds() - children_before;
    let events = events_of(&report);
    let bytes = mirror_bytes(&db);
    let emulator_before = emulator.cpu_seconds();
    let fetch = emulator.fetch_and_discard(&client);
    let emulator_for_fetch = emulator.cpu_seconds() - emulator_before;
    println!(
        "sync_v2: first sync of {events} events + 5000 contacts through v2 (CLI, emulator in its own process): {seconds:.2} s = {:.0} events/s, {} requests; mirror {:.1} MiB = {:.0} bytes/event; fetching the same history pages and discarding them: {fetch:.2} s (ratio {:.2}); sync peak memory {} MiB",
        events as f64 / seconds,
        report["requests"],
        bytes as f64 / 1048576.0,
        bytes as f64 / events.max(1) as f64,
        seconds / fetch,
        report["peak_memory_kib"].as_u64().unwrap_or(0) / 1024,
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "sync_v2: CPU seconds: the emulator serving the sync {emulator_for_sync:.2}, serving the fetch-and-discard {emulator_for_fetch:.2}; the sync process {sync_cpu:.2} = {:.1} µs per event; on {cores} cores the sync cannot take less than {:.2} s",
        sync_cpu * 1e6 / events.max(1) as f64,
        (emulator_for_sync + sync_cpu) / cores as f64,
    );
    drop(emulator);

    // No-change syncs on a small and a large mirror with the same recent activity (the large
    // one has a longer history): the cost must not grow with history.
    let mut rows = Vec::new();
    for (name, events, span) in [
        ("10k", 10_000, 730),
        ("large", large, (730 * large / 10_000) as u32),
    ] {
        let emulator = EmulatorProcess::start(events, 500, span);
        let db = dir.path().join(format!("{name}.db"));
        emulator.sync(&db);
        let before = emulator.history_requests(&client);
        let mut best = f64::MAX;
        for _ in 0..5 {
            best = best.min(emulator.sync(&db).1);
        }
        let history = (emulator.history_requests(&client) - before) / 5;
        rows.push((events, history, best));
    }
    println!(
        "sync_v2: no-change sync (whole CLI run): {} events {} history requests in {:.0} ms; {} events {} history requests in {:.0} ms (ratio {:.2})",
        rows[0].0,
        rows[0].1,
        rows[0].2 * 1000.0,
        rows[1].0,
        rows[1].1,
        rows[1].2 * 1000.0,
        rows[1].2 / rows[0].2
    );
}
