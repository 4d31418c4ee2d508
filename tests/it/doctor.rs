//! `sipmirror doctor`: every problem found at once, each with what to do; exit 0 only when
//! all is well.

use crate::common;

use common::{Synced, TestHome};
use sipmirror::emulator::{Emulator, EmulatorConfig};

fn checks(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("doctor --json")
}

fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

#[test]
fn a_synced_mirror_with_a_full_token_is_well() {
    let s = Synced::start(50, 5);
    s.v2_sync_ok(&[]);
    let output = s.v2_cmd(&["doctor"]).output().expect("doctor");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(!text.contains("PROBLEM"), "{text}");
    for name in [
        "config",
        "credentials",
        "upstream",
        "scopes",
        "mirror",
        "lock",
        "media",
    ] {
        assert!(text.contains(name), "{name}: {text}");
    }
    assert!(text.contains("6 of 6 reads allowed"), "{text}");
}

#[test]
fn a_classic_mirror_is_checked_through_the_classic_api() {
    let s = Synced::start(50, 5);
    s.sync_ok(&[]);
    let output = s.cmd(&["doctor"]).output().expect("doctor");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("4 of 4 reads allowed"), "{text}");
    let refused = s
        .std_cmd(&["doctor"])
        .env("SIPGATE_PASSWORD", "wrong")
        .output()
        .expect("doctor");
    assert_eq!(refused.status.code(), Some(1));
    let text = String::from_utf8_lossy(&refused.stdout);
    assert!(
        text.contains("PROBLEM upstream") && text.contains("401"),
        "{text}"
    );
}

#[test]
fn every_missing_scope_is_named_once_with_what_needs_it() {
    let emulator = Emulator::start(EmulatorConfig {
        events: 20,
        contacts: 2,
        token_scopes: vec!["history:read".into()],
        ..Default::default()
    })
    .expect("emulator");
    let home = TestHome::new();
    let output = home
        .std_cmd()
        .args(["--db"])
        .arg(home.db())
        .args(["--json", "doctor"])
        .env("SIPGATE_API", "v2")
        .env("SIPGATE_BASE_URL", emulator.v2_base_url())
        .env("SIPGATE_TOKEN_ID", emulator.token_id())
        .env("SIPGATE_TOKEN", emulator.token())
        .output()
        .expect("doctor");
    assert_eq!(output.status.code(), Some(1));
    let report = checks(&output);
    assert_eq!(report["ok"], false);
    let scopes = check(&report, "scopes");
    let found = scopes["found"].as_str().expect("found");
    for scope in [
        "contacts:read",
        "account:read",
        "numbers:read",
        "users:read",
        "balance:read",
    ] {
        assert_eq!(found.matches(scope).count(), 1, "{scope} once: {found}");
    }
    assert!(!found.contains("history:read"), "{found}");
    assert!(
        found.contains("export"),
        "says what needs contacts:read: {found}"
    );
    assert!(scopes["fix"].as_str().is_some());
    // No mirror yet: also a problem, in the same run.
    assert_eq!(check(&report, "mirror")["ok"], false);
    // And nothing was created.
    assert!(!home.db().exists());
}

#[test]
fn refused_credentials_and_a_dead_upstream_are_problems_with_a_fix() {
    let s = Synced::start(20, 2);
    s.v2_sync_ok(&[]);
    let refused = s
        .v2_std_cmd(&["--json", "doctor"])
        .env("SIPGATE_TOKEN", "not-the-token")
        .output()
        .expect("doctor");
    assert_eq!(refused.status.code(), Some(1));
    let upstream = check(&checks(&refused), "upstream").clone();
    assert_eq!(upstream["ok"], false);
    assert!(
        upstream["found"].as_str().unwrap_or("").contains("401"),
        "{upstream}"
    );
    let dead = s
        .v2_std_cmd(&["--json", "doctor"])
        .env("SIPGATE_BASE_URL", "http://127.0.0.1:1/v2")
        .output()
        .expect("doctor");
    assert_eq!(dead.status.code(), Some(1));
    let report = checks(&dead);
    assert_eq!(check(&report, "upstream")["ok"], false);
    // The mirror is still looked at.
    assert_eq!(check(&report, "mirror")["ok"], true, "{report}");
}

#[test]
fn a_broken_config_file_and_a_mirror_of_the_other_api_are_found() {
    let home = TestHome::new();
    home.write_config("[sync]\nlookback = \"soon\"\n", 0o600);
    let output = home.run(&["doctor"]).output().expect("doctor");
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("PROBLEM") && text.contains("lookback"),
        "{text}"
    );

    let s = Synced::start(20, 2);
    s.sync_ok(&[]);
    // Fed by the classic API, asked through v2.
    let output = s.v2_cmd(&["--json", "doctor"]).output().expect("doctor");
    let report = checks(&output);
    let mirror = check(&report, "mirror");
    assert_eq!(mirror["ok"], false, "{report}");
    assert!(
        mirror["fix"]
            .as_str()
            .unwrap_or("")
            .contains("--switch-api"),
        "{mirror}"
    );
}
