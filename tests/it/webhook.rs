//! The push API receiver (`sipmirror webhook`) end to end: the emulator plays calls through
//! the account's webhook URLs, the receiver records them in `live_calls` and pulls the history
//! after each hangup; bad, duplicate and out-of-order posts; a lost hangup.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Synced, one_line_stderr};
use serde_json::json;

const KEY: &str = "s3cret-key";

/// A running receiver, stopped when dropped.
struct Hook {
    child: Child,
    url: String,
}

impl Drop for Hook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now, for a receiver whose public URL must name it.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts the receiver and waits for its "listening" line; points the account's webhooks at it.
fn start(s: &Synced) -> Hook {
    let hook = start_without_setup(s);
    s.v2_cmd(&[
        "webhook",
        "setup",
        "--incoming",
        &hook.url,
        "--outgoing",
        &hook.url,
    ])
    .assert()
    .success();
    hook
}

/// The receiver alone, on a mirror that exists (made with `init` if need be).
fn start_without_setup(s: &Synced) -> Hook {
    start_with(s, "")
}

/// The same with `[webhook]` settings (after the test's `[http]` ones).
fn start_with(s: &Synced, webhook: &str) -> Hook {
    start_on(s, webhook, "127.0.0.1", &[])
}

/// The same listening on `host` (the public URL names 127.0.0.1), with more arguments.
fn start_on(s: &Synced, webhook: &str, host: &str, extra: &[&str]) -> Hook {
    if !webhook.is_empty() {
        s.home.write_config(
            &format!("[http]\nretry_base = \"1ms\"\nmax_attempts = 12\n[webhook]\n{webhook}"),
            0o600,
        );
    }
    if !s.home.db().exists() {
        s.v2_cmd(&["init"]).assert().success();
    }
    // The public URL must name the port before the receiver binds it, so a free port is
    // picked first; another process may take it in between, and then another one is tried.
    for _ in 0..10 {
        if let Some(hook) = try_start_on(s, host, free_port(), extra) {
            return hook;
        }
    }
    panic!("no free port for the receiver in 10 tries");
}

/// The receiver on `port`, or `None` when the port was taken meanwhile.
fn try_start_on(s: &Synced, host: &str, port: u16, extra: &[&str]) -> Option<Hook> {
    let public = format!("http://127.0.0.1:{port}/sipgate");
    let mut args = vec![
        "--listen".to_string(),
        format!("{host}:{port}"),
        "--public-url".into(),
        public.clone(),
        "--retry".into(),
        "100ms".into(),
    ];
    if !extra.contains(&"--debounce") {
        args.extend(["--debounce".into(), "100ms".into()]);
    }
    let mut child = s
        .v2_std_cmd(&["webhook"])
        .args(args)
        .args(extra)
        .env("SIPMIRROR_WEBHOOK_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(stderr_file(s)).expect("stderr file"))
        .spawn()
        .expect("start the receiver");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    if line.is_empty() {
        let _ = child.wait();
        let stderr = std::fs::read_to_string(stderr_file(s)).unwrap_or_default();
        assert!(
            stderr.contains("in use"),
            "the receiver did not start: {stderr}"
        );
        return None;
    }
    assert!(line.contains("listening on"), "{line:?}");
    Some(Hook {
        child,
        url: format!("{public}?key={KEY}"),
    })
}

/// Where the receiver's messages go.
fn stderr_file(s: &Synced) -> std::path::PathBuf {
    s.home.path().join("webhook.stderr")
}

fn live_call(s: &Synced, id: &str) -> Option<(String, Option<String>, Option<String>)> {
    use rusqlite::OptionalExtension;
    s.db()
        .query_row(
            "SELECT state, hangup_cause, from_number FROM live_calls WHERE call_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .expect("query")
}

/// Plays a call through the account's webhooks (`POST /_emulator/calls`).
fn play(s: &Synced, call: serde_json::Value) -> serde_json::Value {
    s.control("POST", "/_emulator/calls", Some(call))
}

/// How many calls the receiver has stored.
fn stored(s: &Synced) -> i64 {
    s.db()
        .query_row("SELECT count(*) FROM mirror_live_calls", [], |r| r.get(0))
        .expect("count")
}

fn in_calls(s: &Synced, history_id: u64) -> bool {
    s.db()
        .query_row(
            "SELECT count(*) FROM calls WHERE id = ?1",
            [history_id as i64],
            |r| r.get::<_, i64>(0),
        )
        .expect("count")
        == 1
}

/// Waits, up to a generous bound, for what the receiver does in the background.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn post(hook: &Hook, url: &str, content_type: &str, body: &str) -> u16 {
    let _ = hook;
    reqwest::blocking::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .expect("post")
        .status()
        .as_u16()
}

#[test]
fn a_call_is_live_while_it_lasts_and_in_calls_after_the_hangup() {
    let s = Synced::start(40, 5);
    s.v2_sync_ok(&[]);
    let _hook = start(&s);
    let played = play(
        &s,
        json!({"from": "+4915799912345", "to": "+4930123456", "answer": true,
                    "duration_s": 42, "end": false}),
    );
    let id = played["callId"].as_str().expect("callId").to_string();
    // newCall and answer arrived: the call is being talked, and nobody synced.
    assert_eq!(
        live_call(&s, &id),
        Some(("talking".into(), None, Some("4915799912345".into())))
    );
    let now = s
        .v2_cmd(&["query", "calls_now", "--format", "csv"])
        .output()
        .expect("report");
    let now = String::from_utf8_lossy(&now.stdout).into_owned();
    assert!(now.contains(&id) && now.contains("talking"), "{now}");
    let ended = s.control("POST", &format!("/_emulator/calls/{id}/hangup"), None);
    let history = ended["historyId"].as_u64().expect("historyId");
    eventually("the pull after the hangup", || in_calls(&s, history));
    assert_eq!(
        live_call(&s, &id),
        Some((
            "ended".into(),
            Some("normalClearing".into()),
            Some("4915799912345".into())
        ))
    );
    let now = s
        .v2_cmd(&["query", "calls_now", "--format", "csv"])
        .output()
        .expect("report");
    assert!(!String::from_utf8_lossy(&now.stdout).contains(&id));
    let (direction, duration): (String, i64) = s
        .db()
        .query_row(
            "SELECT direction, duration_s FROM calls WHERE id = ?1",
            [history as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("call");
    assert_eq!((direction.as_str(), duration), ("incoming", 42));

    // Several at once, one of them outgoing and one not answered: all mirrored.
    let calls: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = [("in", true), ("out", true), ("in", false)]
            .into_iter()
            .enumerate()
            .map(|(i, (direction, answer))| {
                let s = &s;
                scope.spawn(move || {
                    play(
                        s,
                        json!({"from": format!("+49157999123{i}0"), "to": "+4930123456",
                                    "direction": direction, "answer": answer}),
                    )["historyId"]
                        .as_u64()
                        .expect("historyId")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    eventually("the three calls in calls", || {
        calls.iter().all(|&id| in_calls(&s, id))
    });
    let ended: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM live_calls WHERE state = 'ended'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(ended, 4);
}

#[test]
fn bad_posts_get_4xx_and_store_nothing() {
    let s = Synced::start(20, 2);
    s.v2_sync_ok(&[]);
    let hook = start(&s);
    let base = hook.url.split('?').next().expect("url").to_string();
    let form = "application/x-www-form-urlencoded";
    let good = "event=newCall&callId=ABC1&from=4915799912345&to=4930123456&direction=in";
    for (url, content_type, body, status) in [
        (format!("{base}?key=wrong"), form, good.to_string(), 403),
        (base.clone(), form, good.to_string(), 403),
        (hook.url.clone(), "application/json", good.to_string(), 415),
        (
            hook.url.clone(),
            form,
            "event=ring&callId=ABC1".to_string(),
            400,
        ),
        (hook.url.clone(), form, "event=newCall".to_string(), 400),
        (
            hook.url.clone(),
            form,
            "event=newCall&callId=../x".to_string(),
            400,
        ),
        (hook.url.clone(), form, format!("{good}&from=%00"), 400),
        (
            hook.url.clone(),
            form,
            format!("{good}&pad={}", "x".repeat(20_000)),
            413,
        ),
    ] {
        assert_eq!(post(&hook, &url, content_type, &body), status, "{body:.60}");
    }
    let get = reqwest::blocking::get(&hook.url)
        .expect("get")
        .status()
        .as_u16();
    assert_eq!(get, 405);
    let stored: i64 = stored(&s);
    assert_eq!(stored, 0);
    assert_eq!(post(&hook, &hook.url, form, good), 200);
}

#[test]
fn duplicate_and_out_of_order_posts_give_one_whole_row() {
    let s = Synced::start(20, 2);
    s.v2_sync_ok(&[]);
    let hook = start(&s);
    let form = "application/x-www-form-urlencoded";
    for body in [
        "event=hangup&callId=C9&cause=busy&from=4930111&to=4930222&direction=out",
        "event=hangup&callId=C9&cause=busy&from=4930111&to=4930222&direction=out",
        "event=newCall&callId=C9&origCallId=C9&from=4930111&to=4930222&direction=out&user%5B%5D=Ann&userId%5B%5D=w0",
        "event=newCall&callId=C9&from=4930111&to=4930222&direction=out",
        "event=dtmf&callId=C9&dtmf=01",
        "event=dtmf&callId=C9&dtmf=01",
    ] {
        assert_eq!(post(&hook, &hook.url, form, body), 200, "{body}");
    }
    let row: (i64, String, String, String, String, Option<String>) = s
        .db()
        .query_row(
            "SELECT count(*), state, hangup_cause, users, dtmf, answered_at FROM live_calls",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .expect("row");
    assert_eq!(
        row,
        (
            1,
            "ended".into(),
            "busy".into(),
            r#"["Ann"]"#.into(),
            "01".into(),
            None
        )
    );
}

#[test]
fn a_late_answer_and_a_doubled_newcall_change_nothing_for_the_worse() {
    let s = Synced::start(20, 2);
    s.v2_sync_ok(&[]);
    let _hook = start(&s);
    let played = play(
        &s,
        json!({"from": "+4915799912345", "to": "+4930123456",
                    "late": ["answer"], "duplicate": ["newCall"]}),
    );
    let id = played["callId"].as_str().expect("callId");
    let history = played["historyId"].as_u64().expect("historyId");
    eventually("the pull after the hangup", || in_calls(&s, history));
    let (rows, state, answered): (i64, String, Option<String>) = s
        .db()
        .query_row(
            "SELECT count(*), state, answered_at FROM live_calls WHERE call_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("row");
    assert_eq!((rows, state.as_str()), (1, "ended"));
    assert!(answered.is_some(), "the late answer still fills its time");
}

#[test]
fn a_lost_hangup_is_mirrored_by_the_next_sync() {
    let s = Synced::start(20, 2);
    s.v2_sync_ok(&[]);
    let _hook = start(&s);
    let played = play(
        &s,
        json!({"from": "+4915799912345", "to": "+4930123456", "lose": ["hangup"]}),
    );
    let history = played["historyId"].as_u64().expect("historyId");
    let id = played["callId"].as_str().expect("callId");
    assert_eq!(live_call(&s, id).map(|c| c.0), Some("talking".into()));
    assert!(!in_calls(&s, history));
    s.v2_sync_ok(&[]);
    assert!(in_calls(&s, history));
}

#[test]
fn a_pull_that_failed_is_tried_again() {
    let s = Synced::start(20, 2);
    s.v2_sync_ok(&[]);
    let _hook = start(&s);
    // Upstream fails every request while the call ends and its pull runs.
    s.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({"status_rates": {"500": 1.0}})),
    );
    let played = play(&s, json!({"from": "+4915799912345", "to": "+4930123456"}));
    let history = played["historyId"].as_u64().expect("historyId");
    eventually("a failed pull", || {
        std::fs::read_to_string(stderr_file(&s))
            .is_ok_and(|text| text.contains("the pull after a hangup failed"))
    });
    assert!(!in_calls(&s, history));
    // Upstream is back: the next try, with no further hangup, mirrors the call.
    s.control("DELETE", "/_emulator/faults", None);
    eventually("the call in calls", || in_calls(&s, history));
}

#[test]
fn the_receiver_needs_a_key_or_no_key() {
    let s = Synced::start(10, 1);
    s.v2_sync_ok(&[]);
    let output = s
        .v2_cmd(&["webhook", "--public-url", "https://pbx.example.com/sipgate"])
        .env_remove("SIPMIRROR_WEBHOOK_KEY")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("--no-key"));
    let output = s
        .v2_cmd(&["webhook", "--public-url", "ftp://x/y"])
        .env("SIPMIRROR_WEBHOOK_KEY", KEY)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    one_line_stderr(&output);
    // A config file holding the key is a secret like one holding the token.
    s.home
        .write_config("[webhook]\nkey = \"s3cret-key\"\n", 0o644);
    // Bounded: a receiver that took the file would listen for ever instead of refusing it.
    let output = s
        .v2_cmd(&[
            "webhook",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://pbx.example.com/sipgate",
        ])
        .env_remove("SIPMIRROR_WEBHOOK_KEY")
        .timeout(Duration::from_secs(30))
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("chmod 600"));
    s.home.write_config("", 0o644);
    // A retry without a wait would hammer upstream; a bad duration is refused.
    for retry in ["0s", "soon"] {
        let output = s
            .v2_cmd(&["webhook", "--public-url", "https://pbx.example.com/sipgate"])
            .args(["--retry", retry])
            .env("SIPMIRROR_WEBHOOK_KEY", KEY)
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "--retry {retry}");
        assert!(
            one_line_stderr(&output).contains("--retry"),
            "--retry {retry}"
        );
    }
}

#[test]
fn the_receiver_keeps_answering_while_a_sync_runs() {
    let s = Synced::start(30_000, 50);
    // A first sync of 30,000 events holds the writer for a while; posts come all the time.
    let hook = start_without_setup(&s);
    let mut sync = s
        .v2_std_cmd(&["sync"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sync");
    let form = "application/x-www-form-urlencoded";
    let mut answered = 0;
    while sync.try_wait().expect("wait").is_none() && answered < 2_000 {
        let body = format!("event=newCall&callId=L{answered}&from=4930111&to=4930222&direction=in");
        assert_eq!(post(&hook, &hook.url, form, &body), 200, "post {answered}");
        answered += 1;
    }
    assert!(sync.wait().expect("sync").success());
    assert!(
        answered > 10,
        "the sync was over before the posts began ({answered})"
    );
    let stored: i64 = s
        .db()
        .query_row("SELECT count(*) FROM live_calls", [], |r| r.get(0))
        .expect("count");
    assert_eq!(stored, answered);
}

/// A test key pair made once with openssl (test data, not a secret): the receiver checks with
/// the public half, the test signs with the private one, as sipgate does with its own.
fn sign(body: &str) -> String {
    use base64::Engine;
    let der = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/push-signing-key.pk8"
    ))
    .expect("test key");
    let key = ring::signature::RsaKeyPair::from_pkcs8(&der).expect("key");
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        body.as_bytes(),
        &mut signature,
    )
    .expect("sign");
    base64::engine::general_purpose::STANDARD.encode(signature)
}

fn post_with(url: &str, body: &str, headers: &[(&str, &str)]) -> u16 {
    let mut request = reqwest::blocking::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().expect("post").status().as_u16()
}

#[test]
fn signatures_and_sources_are_checked_where_configured() {
    let s = Synced::start(10, 1);
    s.v2_sync_ok(&[]);
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/push-signing-key.pub.pem"
    );
    let hook = start_with(
        &s,
        &format!("public_key_file = {key:?}\nallow = [\"127.0.0.1\"]\n"),
    );
    let body = "event=newCall&callId=SIG1&from=4930111&to=4930222&direction=in";
    assert_eq!(post_with(&hook.url, body, &[]), 403, "unsigned");
    let signature = sign(body);
    assert_eq!(
        post_with(
            &hook.url,
            &body.replace("SIG1", "SIG2"),
            &[("x-sipgate-signature", &signature)]
        ),
        403,
        "signed another body"
    );
    assert_eq!(
        post_with(&hook.url, body, &[("x-sipgate-signature", "bm90IGl0")]),
        403
    );
    assert_eq!(
        post_with(&hook.url, body, &[("x-sipgate-signature", &signature)]),
        200
    );
    drop(hook);

    // Only from 203.0.113.7: loopback is refused, and a proxy header counts only when
    // configured, and then only its last entry (the one the proxy adds).
    let hook = start_with(&s, "allow = [\"203.0.113.7\"]\n");
    let forwarded = [("x-forwarded-for", "203.0.113.7")];
    assert_eq!(post_with(&hook.url, body, &[]), 403);
    assert_eq!(
        post_with(&hook.url, body, &forwarded),
        403,
        "no proxy header configured"
    );
    drop(hook);
    let hook = start_with(
        &s,
        "allow = [\"203.0.113.7\"]\nproxy_header = \"X-Forwarded-For\"\n",
    );
    assert_eq!(post_with(&hook.url, body, &forwarded), 200);
    let spoofed = [("x-forwarded-for", "203.0.113.7, 198.51.100.1")];
    assert_eq!(
        post_with(&hook.url, body, &spoofed),
        403,
        "only the proxy's entry counts"
    );
    // A proxy that appends its own line: the client's forged first line does not count.
    let two_lines = [
        ("x-forwarded-for", "203.0.113.7"),
        ("x-forwarded-for", "198.51.100.1"),
    ];
    assert_eq!(
        post_with(&hook.url, body, &two_lines),
        403,
        "last line counts"
    );
    let proxied = [
        ("x-forwarded-for", "198.51.100.1"),
        ("x-forwarded-for", "10.0.0.1, 203.0.113.7"),
    ];
    assert_eq!(post_with(&hook.url, body, &proxied), 200);
    let stored: i64 = stored(&s);
    assert_eq!(stored, 1);
}

/// Opens the mirror as another program would (a rusqlite connection of the test process, or
/// the system's `sqlite3` shell), changes or reads something, and closes it again.
fn touch_from_outside(s: &Synced, round: usize) {
    let db = s.db();
    db.execute(
        "UPDATE events SET starred = ?1 WHERE id = (SELECT max(id) FROM calls)",
        [(round % 2) as i64],
    )
    .expect("edit through the view");
    let _: i64 = db
        .query_row("SELECT count(*) FROM live_calls", [], |r| r.get(0))
        .expect("read");
    drop(db);
    if round.is_multiple_of(3) {
        let shell = std::process::Command::new("sqlite3")
            .arg(s.home.db())
            .arg("UPDATE events SET starred = 1 WHERE id = (SELECT min(id) FROM calls); SELECT count(*) FROM live_calls;")
            .stdout(Stdio::null())
            .status();
        // Without a sqlite3 shell on the machine, the rusqlite connections stand in for it.
        if let Ok(status) = shell {
            assert!(status.success(), "sqlite3 shell failed");
        }
    }
}

/// A `sqlite3` session or any other program that opens and closes the mirror beside the
/// receiver and `serve-phonebook` must not make it the "last user" that deletes the WAL they
/// still write to (`docs/reliability.md`, "One rule for the mirror file"). With `check_header`
/// reading the file through `std::fs::File`, the pull after the first hangup dropped the
/// receiver's locks, and the posts of the next calls went into a deleted WAL.
#[test]
fn programs_opening_the_mirror_beside_the_receiver_lose_no_post_and_corrupt_nothing() {
    let s = Synced::start(200, 20);
    s.v2_sync_ok(&[]);
    let _hook = start(&s);
    let (phonebook, url) = common::serve(&s, &[], None);
    let _phonebook = common::Stop(phonebook);
    let mut answered = Vec::new();
    for round in 0..30 {
        let played = play(&s, json!({"from": "+4915799912345", "to": "+4930123456"}));
        answered.push(played["callId"].as_str().expect("callId").to_string());
        let history = played["historyId"].as_u64().expect("historyId");
        eventually("the pull after the hangup", || in_calls(&s, history));
        touch_from_outside(&s, round);
        let book = reqwest::blocking::get(format!("{url}/snom.xml")).expect("phone book");
        assert_eq!(book.status().as_u16(), 200);
        if round % 10 == 9 {
            s.v2_sync_ok(&[]);
        }
    }
    for id in &answered {
        assert!(
            live_call(&s, id).is_some(),
            "answered call {id} is not stored"
        );
    }
    let check: String = s
        .db()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
    s.v2_sync_ok(&[]);
}

#[test]
fn ipv4_posts_to_a_receiver_on_all_ipv6_addresses_match_ipv4_entries_of_allow() {
    let s = Synced::start(10, 1);
    s.v2_sync_ok(&[]);
    // On [::] an IPv4 peer is ::ffff:127.0.0.1; the entry says 127.0.0.1.
    let hook = start_on(&s, "allow = [\"127.0.0.1\"]\n", "[::]", &[]);
    let body = "event=newCall&callId=V4M1&from=4930111&to=4930222&direction=in";
    assert_eq!(post_with(&hook.url, body, &[]), 200);
    drop(hook);
    // And the other way round: an entry written as mapped matches the IPv4 peer.
    let hook = start_on(&s, "allow = [\"::ffff:127.0.0.1\"]\n", "127.0.0.1", &[]);
    let body = "event=newCall&callId=V4M2&from=4930111&to=4930222&direction=in";
    assert_eq!(post_with(&hook.url, body, &[]), 200);
    drop(hook);
    let hook = start_on(&s, "allow = [\"::ffff:127.0.0.2\"]\n", "[::]", &[]);
    assert_eq!(post_with(&hook.url, body, &[]), 403);
    assert_eq!(stored(&s), 2);
}

#[test]
fn wrong_key_posts_do_not_use_up_what_real_posts_may_send() {
    let s = Synced::start(10, 1);
    s.v2_sync_ok(&[]);
    let hook = start_on(&s, "", "127.0.0.1", &["--max-per-second", "50"]);
    let wrong = hook.url.replace(KEY, "not-the-key");
    let client = reqwest::blocking::Client::new();
    let form = "application/x-www-form-urlencoded";
    for round in 0..10 {
        // A flood of wrong keys just before each real post, well past the limit.
        for _ in 0..120 {
            let status = client
                .post(&wrong)
                .header("content-type", form)
                .body("event=newCall&callId=FLOOD&from=4930111&to=4930222")
                .send()
                .expect("post")
                .status()
                .as_u16();
            assert!(status == 403 || status == 429, "{status}");
        }
        let body = format!("event=newCall&callId=REAL{round}&from=4930111&to=4930222");
        assert_eq!(
            post(&hook, &hook.url, form, &body),
            200,
            "real post {round}"
        );
    }
    assert_eq!(stored(&s), 10);
}

#[test]
fn media_types_are_compared_without_case_and_answer_before_newcall_keeps_all_users() {
    let s = Synced::start(10, 1);
    s.v2_sync_ok(&[]);
    let hook = start_without_setup(&s);
    let mixed = "Application/X-WWW-Form-Urlencoded; Charset=UTF-8";
    for body in [
        "event=answer&callId=G1&user%5B%5D=Bob&userId%5B%5D=w1&answeringNumber=4930222",
        "event=newCall&callId=G1&from=4930111&to=4930222&direction=in&user%5B%5D=Ann&userId%5B%5D=w0&user%5B%5D=Bob&userId%5B%5D=w1",
    ] {
        assert_eq!(post(&hook, &hook.url, mixed, body), 200, "{body}");
    }
    let (users, ids): (String, String) = s
        .db()
        .query_row(
            "SELECT users, user_ids FROM live_calls WHERE call_id = 'G1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert_eq!(users, r#"["Bob","Ann"]"#);
    assert_eq!(ids, r#"["w1","w0"]"#);
}

#[test]
fn steady_hangups_still_get_a_pull_within_max_delay() {
    let s = Synced::start(20, 2);
    s.v2_sync_ok(&[]);
    // A debounce far longer than `eventually` waits: only --max-delay can bring the pull.
    let _hook = start_on(
        &s,
        "",
        "127.0.0.1",
        &["--debounce", "10m", "--max-delay", "300ms"],
    );
    s.v2_cmd(&[
        "webhook",
        "setup",
        "--incoming",
        &_hook.url,
        "--outgoing",
        &_hook.url,
    ])
    .assert()
    .success();
    let mut histories = Vec::new();
    for _ in 0..3 {
        let played = play(&s, json!({"from": "+4915799912345", "to": "+4930123456"}));
        histories.push(played["historyId"].as_u64().expect("historyId"));
    }
    eventually("a pull while hangups keep coming", || {
        histories.iter().all(|&h| in_calls(&s, h))
    });
}

#[test]
fn idle_and_half_sent_connections_are_closed_and_do_not_keep_posts_out() {
    use std::io::{Read, Write};
    let s = Synced::start(10, 1);
    s.v2_sync_ok(&[]);
    let hook = start_on(&s, "", "127.0.0.1", &["--header-timeout", "1"]);
    let addr = hook
        .url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("address")
        .to_string();
    // More than the receiver keeps open (512): a real post must make an idle one give way.
    let mut idle: Vec<std::net::TcpStream> = (0..600)
        .map(|_| std::net::TcpStream::connect(&addr).expect("connect"))
        .collect();
    for stream in idle.iter_mut().take(100) {
        stream
            .write_all(b"POST /sipgate HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .expect("half a header");
    }
    let form = "application/x-www-form-urlencoded";
    let body = "event=newCall&callId=IDLE1&from=4930111&to=4930222&direction=in";
    assert_eq!(post(&hook, &hook.url, form, body), 200);
    for stream in idle.iter_mut().step_by(50) {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut buffer = [0u8; 256];
        let ended = match stream.read(&mut buffer) {
            Ok(_) => true,
            Err(e) => {
                e.kind() != std::io::ErrorKind::WouldBlock
                    && e.kind() != std::io::ErrorKind::TimedOut
            }
        };
        assert!(ended, "an idle connection was kept open");
    }
    assert_eq!(stored(&s), 1);
}

#[test]
fn a_call_to_a_group_of_100_users_lands_in_live_calls() {
    let s = Synced::start(10, 1);
    s.v2_sync_ok(&[]);
    let hook = start_without_setup(&s);
    let users = (0..100)
        .map(|i| format!("user%5B%5D=User+{i}&userId%5B%5D=w{i}&fullUserId%5B%5D=1234567w{i}"))
        .collect::<Vec<_>>()
        .join("&");
    let body = format!("event=newCall&callId=GROUP1&from=4930111&to=4930222&direction=in&{users}");
    assert!(body.len() < 16 * 1024);
    let form = "application/x-www-form-urlencoded";
    assert_eq!(post(&hook, &hook.url, form, &body), 200);
    let ids: String = s
        .db()
        .query_row(
            "SELECT user_ids FROM live_calls WHERE call_id = 'GROUP1'",
            [],
            |r| r.get(0),
        )
        .expect("row");
    let ids: Vec<String> = serde_json::from_str(&ids).expect("json");
    assert_eq!(ids.len(), 100);
}

/// v2's history names the push API's `callId` of each call: `call_ids` joins `calls` to
/// `live_calls` by it.
#[test]
fn a_played_call_joins_live_calls_to_calls_by_its_call_id() {
    let s = Synced::start(20, 2);
    s.v2_sync_ok(&[]);
    let _hook = start(&s);
    let played = play(&s, json!({"from": "+4915799912345", "to": "+4930123456"}));
    let id = played["callId"].as_str().expect("callId").to_string();
    let history = played["historyId"].as_u64().expect("historyId");
    eventually("the pull after the hangup", || in_calls(&s, history));
    let (event, state): (i64, String) = s
        .db()
        .query_row(
            "SELECT c.id, l.state FROM calls c JOIN call_ids i ON i.event_id = c.id
               JOIN live_calls l USING (call_id) WHERE l.call_id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the call joined to its live row");
    assert_eq!((event, state.as_str()), (history as i64, "ended"));
}

/// The emulator signs its pushes with a key of its own (`emulator --print-push-key`): with
/// that key as `[webhook] public_key_file`, a played call to a group of 20 gets through the
/// receiver's signature check end to end, with every user of the group.
#[test]
fn the_emulators_signed_pushes_of_a_group_call_pass_the_signature_check() {
    let s = Synced::start(20, 2);
    s.v2_sync_ok(&[]);
    let printed = s
        .home
        .cmd()
        .args(["emulator", "--print-push-key"])
        .output()
        .expect("print key");
    assert!(printed.status.success());
    let key = s.home.path().join("push-key.pub.pem");
    std::fs::write(&key, &printed.stdout).expect("key file");
    let hook = start_with(&s, &format!("public_key_file = {key:?}\n"));
    s.v2_cmd(&[
        "webhook",
        "setup",
        "--incoming",
        &hook.url,
        "--outgoing",
        &hook.url,
    ])
    .assert()
    .success();
    let played = play(
        &s,
        json!({"from": "+4915799912345", "to": "+4930123456", "users": 20}),
    );
    let id = played["callId"].as_str().expect("callId").to_string();
    let history = played["historyId"].as_u64().expect("historyId");
    eventually("the pull after the hangup", || in_calls(&s, history));
    let (ids, answered): (String, Option<String>) = s
        .db()
        .query_row(
            "SELECT user_ids, answered_at FROM live_calls WHERE call_id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    let ids: Vec<String> = serde_json::from_str(&ids).expect("json");
    assert_eq!(ids.len(), 20);
    assert!(answered.is_some());
    // An unsigned post is still refused.
    let body = "event=newCall&callId=UNSIGNED&from=4930111&to=4930222&direction=in";
    assert_eq!(post_with(&hook.url, body, &[]), 403);
}
