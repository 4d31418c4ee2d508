//! The config file and credentials: precedence, bad files, private permissions, password_command.

use crate::common;

use common::{TestHome, one_line_stderr, set_mode};

fn config_json(home: &TestHome) -> serde_json::Value {
    let output = home.cmd().args(["config", "--json"]).output().expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

#[test]
fn flags_beat_environment_beat_file_beat_defaults() {
    let home = TestHome::new();
    let defaults = config_json(&home);
    assert_eq!(defaults["base_url"], "https://api.sipgate.net");
    assert_eq!(defaults["user_id"], "my");
    assert_eq!(defaults["api_version"], "2.41.0");
    assert_eq!(defaults["config_file"], serde_json::Value::Null);

    home.write_config(
        "base_url = \"http://127.0.0.1:1/file\"\nuser_id = \"w0\"\n",
        0o644,
    );
    let from_file = config_json(&home);
    assert_eq!(from_file["base_url"], "http://127.0.0.1:1/file");
    assert_eq!(from_file["user_id"], "w0");

    let output = home
        .cmd()
        .env("SIPGATE_BASE_URL", "http://127.0.0.1:1/env")
        .args(["config", "--json"])
        .output()
        .expect("run");
    let from_env: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(from_env["base_url"], "http://127.0.0.1:1/env");
    assert_eq!(from_env["user_id"], "w0");

    let output = home
        .cmd()
        .env("SIPGATE_BASE_URL", "http://127.0.0.1:1/env")
        .args(["config", "--json", "--base-url", "http://127.0.0.1:1/flag"])
        .output()
        .expect("run");
    let from_flag: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(from_flag["base_url"], "http://127.0.0.1:1/flag");
}

#[test]
fn malformed_config_is_one_line_naming_the_place() {
    let home = TestHome::new();
    home.write_config("db = \"/tmp/x.db\"\nbase_url = [1, 2\n", 0o600);
    let output = home.cmd().arg("status").output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = one_line_stderr(&output);
    assert!(stderr.contains("config.toml"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
}

#[test]
fn unknown_config_keys_are_refused() {
    let home = TestHome::new();
    home.write_config("pasword = \"oops\"\n", 0o600);
    let output = home.cmd().arg("config").output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = one_line_stderr(&output);
    assert!(stderr.contains("pasword"), "{stderr}");
    assert!(
        !stderr.contains("oops"),
        "the value must not be echoed: {stderr}"
    );
}

#[test]
fn a_password_in_a_readable_config_file_is_refused() {
    let home = TestHome::new();
    let path = home.write_config("username = \"u\"\npassword = \"s3cret-pw\"\n", 0o644);
    let output = home.cmd().arg("config").output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = one_line_stderr(&output);
    assert!(stderr.contains("chmod 600"), "{stderr}");
    assert!(!stderr.contains("s3cret-pw"));
    set_mode(&path, 0o600);
    let value = config_json(&home);
    assert_eq!(value["password"], "set (from the config file)");
    assert!(!value.to_string().contains("s3cret-pw"));
}

#[test]
fn password_command_is_used_and_its_failure_is_one_line() {
    let home = TestHome::new();
    home.write_config("password_command = \"echo from-command\"\n", 0o644);
    assert_eq!(
        config_json(&home)["password"],
        "set (from password_command)"
    );

    home.write_config(
        "password_command = \"echo 'gpg: decryption failed' >&2; exit 2\"\n",
        0o644,
    );
    let output = home.cmd().arg("config").output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = one_line_stderr(&output);
    assert!(stderr.contains("password_command failed"), "{stderr}");
    assert!(stderr.contains("decryption failed"), "{stderr}");
}

#[test]
fn environment_password_wins_and_is_never_printed() {
    let home = TestHome::new();
    home.write_config("password_command = \"exit 1\"\n", 0o644);
    let output = home
        .cmd()
        .env("SIPGATE_PASSWORD", "env-pw-1234")
        .args(["config", "--json"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("SIPGATE_PASSWORD"));
    assert!(!text.contains("env-pw-1234"));
}

#[test]
fn an_explicit_missing_config_file_is_an_error() {
    let home = TestHome::new();
    let output = home
        .cmd()
        .args(["--config", "nope.toml", "status"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("nope.toml"));
}

#[test]
fn sync_and_http_settings_are_checked() {
    let home = TestHome::new();
    for (text, expected) in [
        ("[sync]\nlookback = \"a week\"\n", "sync.lookback"),
        ("[sync]\nfull_every = \"3w\"\n", "unknown unit"),
        ("[sync]\nmax_delete_ratio = 1.5\n", "max_delete_ratio"),
        ("[sync]\nconcurrency = 0\n", "concurrency"),
        ("[http]\ntimeout = \"soon\"\n", "http.timeout"),
        ("country_code = \"+49\"\n", "country_code"),
        ("[sync]\nlookbak = \"7d\"\n", "lookbak"),
    ] {
        home.write_config(text, 0o600);
        let output = home.cmd().arg("config").output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{text}");
        let stderr = one_line_stderr(&output);
        assert!(stderr.contains(expected), "{text}: {stderr}");
    }
    home.write_config(
        "country_code = \"43\"\n[sync]\nlookback = \"36h\"\nfull_every = \"12h\"\nmax_delete_ratio = 0.5\nconcurrency = 8\n[http]\ntimeout = \"90s\"\nretry_base = \"100ms\"\nmax_attempts = 3\n",
        0o600,
    );
    home.cmd().arg("config").assert().success();
}

#[test]
fn config_names_where_each_value_came_from() {
    let home = TestHome::new();
    let output = home.cmd().arg("config").output().expect("run");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let looked_at = home.path().join("config/sipmirror/config.toml");
    assert!(
        text.contains(&format!("none (looked for {})", looked_at.display())),
        "{text}"
    );
    let path = home.write_config(
        "timezone = \"Asia/Tokyo\"\n[sync]\nlookback = \"2d\"\n",
        0o600,
    );
    let output = home
        .cmd()
        .args(["config", "--user-id", "w3"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let line = |key: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_default()
            .to_string()
    };
    let from_file = format!("file {}", path.display());
    assert!(line("timezone").contains("Asia/Tokyo"), "{text}");
    assert!(line("timezone").ends_with(&from_file), "{text}");
    assert!(line("sync.lookback").contains("2d"), "{text}");
    assert!(line("sync.lookback").ends_with(&from_file), "{text}");
    assert!(line("user_id").ends_with("flag --user-id"), "{text}");
    assert!(line("sync.full_every").ends_with("default"), "{text}");
    // Every key of the file is listed (the command secrets under their secret's row).
    for key in sipmirror::config::KEYS {
        if !key.name.ends_with("_command") {
            assert!(!line(key.name).is_empty(), "{} missing: {text}", key.name);
        }
    }
    let json = config_json(&home);
    assert_eq!(json["sources"]["sync.lookback"], from_file.as_str());
    assert_eq!(json["sources"]["api"], "environment SIPGATE_API");
}

#[test]
fn a_misspelt_key_gets_the_key_it_was_meant_to_be() {
    let home = TestHome::new();
    home.write_config("[sync]\nlokback = \"2d\"\n", 0o600);
    let output = home.cmd().arg("config").output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = one_line_stderr(&output);
    assert!(stderr.contains("did you mean `lookback`?"), "{stderr}");
}
