//! The push API receiver under the two measures, with the `sipmirror` binary as a
//! user runs it and the emulator in this process:
//!
//! 1. From the emulator's hangup to the call's row in `calls`, over `WEBHOOK_BENCH_CALLS`
//!    (100) calls played one after the other, with a 1 s debounce: median and worst.
//! 2. The receiver's answer time under `WEBHOOK_BENCH_RATE` (1,000) posts a second for
//!    `WEBHOOK_BENCH_SECONDS` (10) s from a local load generator: median, 99th percentile and
//!    worst, and how many posts were lost (not answered 200, or not stored).
//!
//! 3. Abuse: `WEBHOOK_BENCH_IDLE` (2,000) connections held open, half of them stopped half-way
//!    through a 60 KB header, a wrong-key flood from 8 clients as fast as they go, and real
//!    posts at 20 a second, all for `WEBHOOK_BENCH_ABUSE_SECONDS` (10) s: every real post must
//!    be answered 200 and stored, and the receiver's peak memory (VmHWM) stay under 100 MB.
//!
//! Run with `cargo bench --bench webhook`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sipmirror::emulator::{Emulator, EmulatorConfig};

const BIN: &str = env!("CARGO_BIN_EXE_sipmirror");
const KEY: &str = "bench-key";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sipmirror(emulator: &Emulator, home: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--db")
        .arg(home.join("mirror.db"))
        .args(args)
        .env("XDG_CONFIG_HOME", home)
        .env("SIPGATE_API", "v2")
        .env("SIPGATE_BASE_URL", emulator.v2_base_url())
        .env("SIPGATE_TOKEN_ID", emulator.token_id())
        .env("SIPGATE_TOKEN", emulator.token())
        .env("SIPMIRROR_WEBHOOK_KEY", KEY);
    cmd
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    sipmirror::api::install_tls_provider();
    common::start();
    let emulator = Emulator::start(EmulatorConfig {
        events: 2_000,
        contacts: 200,
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    let home = tempfile::tempdir().expect("home");
    let db = home.path().join("mirror.db");
    assert!(
        sipmirror(&emulator, home.path(), &["-q", "sync"])
            .status()
            .expect("sync")
            .success()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let public = format!("http://127.0.0.1:{port}/sipgate");
    let mut child = sipmirror(
        &emulator,
        home.path(),
        &[
            "webhook",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--public-url",
            &public,
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("receiver");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening");
    let receiver_pid = child.id();
    let _receiver = Killed(child);
    let url = format!("{public}?key={KEY}");
    emulator.with_state(|w| {
        w.sipgateio = serde_json::json!({"incomingUrl": url, "outgoingUrl": url, "log": false, "whitelist": []});
    });

    // 1. Hangup to `calls`.
    let http = reqwest::blocking::Client::new();
    let conn = rusqlite::Connection::open(&db).expect("mirror");
    conn.busy_timeout(Duration::from_secs(10)).expect("timeout");
    let mut latencies = Vec::new();
    for i in 0..env_number("WEBHOOK_BENCH_CALLS", 100) {
        let played: serde_json::Value = http
            .post(format!("{}/_emulator/calls", emulator.base_url()))
            .body(
                serde_json::json!({"from": format!("+4915799{i:06}"), "to": "+4930123456",
                                     "answer": true, "duration_s": 30})
                .to_string(),
            )
            .send()
            .and_then(|r| r.json())
            .expect("play");
        let hung_up = Instant::now();
        let id = played["historyId"].as_i64().expect("historyId");
        while conn
            .query_row("SELECT count(*) FROM calls WHERE id = ?1", [id], |r| {
                r.get::<_, i64>(0)
            })
            .expect("query")
            == 0
        {
            assert!(
                hung_up.elapsed() < Duration::from_secs(60),
                "call {id} never arrived"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        latencies.push(hung_up.elapsed());
    }
    latencies.sort();
    println!(
        "webhook: hangup to calls over {} calls (debounce 1 s): median {:.0} ms, worst {:.0} ms",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        latencies.last().expect("a call").as_secs_f64() * 1000.0
    );

    // 2. Answer time under load.
    let rate = env_number("WEBHOOK_BENCH_RATE", 1_000);
    let seconds = env_number("WEBHOOK_BENCH_SECONDS", 10);
    let total = rate * seconds;
    let before: i64 = conn
        .query_row("SELECT count(*) FROM mirror_live_calls", [], |r| r.get(0))
        .expect("count");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (mut answers, failed) = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut tasks = Vec::with_capacity(total as usize);
        for i in 0..total {
            ticks.tick().await;
            let client = client.clone();
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                let body = format!(
                    "event=newCall&callId=LOAD{i}&origCallId=LOAD{i}&from=4930{i:07}&to=4930123456&direction=in&user%5B%5D=Bench&userId%5B%5D=w0"
                );
                let started = Instant::now();
                let answer = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await;
                let ok = matches!(&answer, Ok(a) if a.status().is_success());
                (started.elapsed(), ok)
            }));
        }
        let mut answers = Vec::with_capacity(tasks.len());
        let mut failed = 0;
        for task in tasks {
            let (took, ok) = task.await.expect("task");
            if ok {
                answers.push(took);
            } else {
                failed += 1;
            }
        }
        (answers, failed)
    });
    answers.sort();
    let stored: i64 = conn
        .query_row("SELECT count(*) FROM mirror_live_calls", [], |r| r.get(0))
        .expect("count");
    println!(
        "webhook: {total} posts at {rate}/s: answer median {:.2} ms, p99 {:.2} ms, worst {:.1} ms; {failed} not answered 200, {} not stored",
        percentile(&answers, 0.5).as_secs_f64() * 1000.0,
        percentile(&answers, 0.99).as_secs_f64() * 1000.0,
        answers.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        total as i64 - (stored - before)
    );

    abuse(&runtime, &url, port, receiver_pid, &conn);
}

/// The receiver's peak resident memory, in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmHWM");
    kib / 1024.0
}

/// Part 3: idle and half-sent connections, a wrong-key flood and real posts at once.
fn abuse(
    runtime: &tokio::runtime::Runtime,
    url: &str,
    port: u16,
    pid: u32,
    conn: &rusqlite::Connection,
) {
    use std::io::Write;
    let idle = env_number("WEBHOOK_BENCH_IDLE", 2_000) as usize;
    let seconds = env_number("WEBHOOK_BENCH_ABUSE_SECONDS", 10);
    let header = format!(
        "POST /sipgate HTTP/1.1\r\nHost: x\r\nX-Pad: {}",
        "a".repeat(60 * 1024)
    );
    let mut held = Vec::with_capacity(idle);
    for i in 0..idle {
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            continue;
        };
        if i % 2 == 1 {
            let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
            let _ = stream.write_all(header.as_bytes());
        }
        held.push(stream);
    }
    let wrong = url.replace(KEY, "not-the-key");
    let real_url = url.to_string();
    let (real, refused) = runtime.block_on(async move {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let client = reqwest::Client::new();
        let flood: Vec<_> = (0..8)
            .map(|_| {
                let client = client.clone();
                let wrong = wrong.clone();
                tokio::spawn(async move {
                    let mut sent = 0u64;
                    while Instant::now() < deadline {
                        let _ = client
                            .post(&wrong)
                            .header("content-type", "application/x-www-form-urlencoded")
                            .body("event=newCall&callId=FLOOD&from=4930111&to=4930222")
                            .send()
                            .await;
                        sent += 1;
                    }
                    sent
                })
            })
            .collect();
        let mut real = Vec::new();
        let mut ticks = tokio::time::interval(Duration::from_millis(50));
        let mut i = 0;
        while Instant::now() < deadline {
            ticks.tick().await;
            let body =
                format!("event=newCall&callId=ABUSE{i}&from=4930111&to=4930222&direction=in");
            let status = client
                .post(&real_url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .map(|a| a.status().as_u16())
                .unwrap_or(0);
            real.push((format!("ABUSE{i}"), status));
            i += 1;
        }
        let mut refused = 0;
        for task in flood {
            refused += task.await.unwrap_or(0);
        }
        (real, refused)
    });
    drop(held);
    let not_answered = real.iter().filter(|(_, status)| *status != 200).count();
    let not_stored = real
        .iter()
        .filter(|(id, _)| {
            conn.query_row(
                "SELECT count(*) FROM mirror_live_calls WHERE call_id = ?1",
                [id],
                |r| r.get::<_, i64>(0),
            )
            .expect("count")
                == 0
        })
        .count();
    let peak = peak_rss_mib(pid);
    println!(
        "webhook abuse: {idle} idle/half-sent connections, {refused} wrong-key posts in {seconds} s, {} real posts: {not_answered} not answered 200, {not_stored} not stored; receiver peak memory {peak:.0} MB",
        real.len()
    );
    assert_eq!((not_answered, not_stored), (0, 0), "real posts were lost");
    assert!(peak < 100.0, "the receiver grew to {peak:.0} MB");
}
