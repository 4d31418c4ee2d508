//! The account's password never reaches output, logs (at the most verbose level), the mirror
//! or exported files: not as text, and not as the base64 of the Basic auth header.

use crate::common;

use base64::Engine;
use common::TestHome;

const PASSWORD: &str = "Rec0gnisable-Secret-7d1f";

#[test]
fn the_password_appears_nowhere() {
    let emulator = sipmirror::emulator::Emulator::start(sipmirror::emulator::EmulatorConfig {
        events: 150,
        contacts: 10,
        password: PASSWORD.into(),
        ..Default::default()
    })
    .expect("emulator");
    let home = TestHome::new();
    // Fast retries: the fault runs below fail after their attempts, not after minutes.
    home.write_config("[http]\nretry_base = \"1ms\"\nmax_attempts = 3\n", 0o600);
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("demo:{PASSWORD}"));
    let run = |args: &[&str], password: &str| {
        let mut cmd = home.std_cmd();
        cmd.arg("--db")
            .arg(home.db())
            .arg("-vvv")
            .args(args)
            .env("RUST_LOG", "trace")
            .env("SIPGATE_BASE_URL", emulator.base_url())
            .env("SIPGATE_USERNAME", "demo")
            .env("SIPGATE_PASSWORD", password);
        let output = cmd.output().expect("run");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!text.contains(PASSWORD), "{args:?} printed the password");
        assert!(!text.contains(&encoded), "{args:?} printed the auth header");
        output
    };
    assert!(run(&["sync", "--media"], PASSWORD).status.success());
    // Upstream errors and refused credentials print no secret either.
    let wrong = format!("{PASSWORD}-wrong");
    let refused = run(&["sync"], &wrong);
    // Refused credentials are a configuration error: exit 2, as the README defines it.
    assert_eq!(refused.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&refused.stderr).contains(&wrong));
    run(&["config"], PASSWORD);
    run(&["status"], PASSWORD);
    // Every other command that talks to upstream or writes the mirror.
    for args in [
        &["event", "read", "100000001"][..],
        &["push"],
        &["push", "--dry-run"],
        &[
            "send",
            "sms",
            "--to",
            "+4930123456",
            "--text",
            "secret test",
        ],
        &[
            "send",
            "sms",
            "--queue-only",
            "--to",
            "+4930123456",
            "--text",
            "later",
        ],
        &["outbox", "list"],
        &["sync", "--full"],
        &[
            "call",
            "dial",
            "--caller",
            "sip:e0",
            "--callee",
            "+4930123456",
        ],
        &["call", "list"],
        &[
            "callthrough",
            "--source",
            "+4917012345678",
            "--target",
            "+4930123456",
        ],
        &["settings", "dnd", "e0", "on"],
        &["settings", "gsm-code"],
        &["query", "unheard_voicemails"],
        &["sql", "SELECT * FROM sync_runs"],
        &["media", "path", "100000001"],
    ] {
        run(args, PASSWORD);
    }
    // Upstream errors of every kind, and a panic (a bug), print no secret either.
    let http = reqwest::blocking::Client::new();
    let faults = format!("{}/_emulator/faults", emulator.base_url());
    for fault in [
        r#"{"status_rates": {"500": 1.0}}"#,
        r#"{"status_rates": {"400": 1.0}}"#,
        r#"{"malformed_rate": 1.0}"#,
        r#"{"truncate_rate": 1.0}"#,
        r#"{"reset_rate": 1.0}"#,
    ] {
        http.put(&faults).body(fault).send().expect("faults");
        let output = run(&["sync", "--full"], PASSWORD);
        assert!(!output.status.success(), "{fault}");
        run(
            &["send", "sms", "--to", "+4930123456", "--text", "fault"],
            PASSWORD,
        );
    }
    http.delete(&faults).send().expect("faults off");
    let panicked = {
        let mut cmd = home.std_cmd();
        cmd.arg("--db")
            .arg(home.db())
            .args(["-vvv", "sync"])
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "1")
            .env("SIPMIRROR_CRASH_AT", "panic:*#3")
            .env("SIPGATE_BASE_URL", emulator.base_url())
            .env("SIPGATE_USERNAME", "demo")
            .env("SIPGATE_PASSWORD", PASSWORD);
        cmd.output().expect("run")
    };
    assert_eq!(panicked.status.code(), Some(101));
    let text = String::from_utf8_lossy(&panicked.stderr);
    assert!(text.contains("internal error"), "{text}");
    assert!(!text.contains(PASSWORD) && !text.contains(&encoded));
    let out = home.path().join("out");
    let out_text = out.to_str().expect("path").to_string();
    run(&["export", "vcard", "--out", &out_text], PASSWORD);
    run(
        &["export", "snom", "--out", &format!("{out_text}/snom.xml")],
        PASSWORD,
    );
    // Nothing on disk holds it: the mirror, its WAL, the exports, the media.
    let mut stack = vec![home.path().to_path_buf()];
    let mut checked = 0;
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(
                std::fs::read_dir(&path)
                    .expect("dir")
                    .map(|e| e.expect("entry").path()),
            );
            continue;
        }
        let bytes = std::fs::read(&path).expect("file");
        let haystack = String::from_utf8_lossy(&bytes);
        assert!(
            !haystack.contains(PASSWORD),
            "{} holds the password",
            path.display()
        );
        assert!(
            !haystack.contains(&encoded),
            "{} holds the auth header",
            path.display()
        );
        checked += 1;
    }
    assert!(checked > 10, "only {checked} files checked");
}
