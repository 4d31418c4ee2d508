//! The command line: status output, global flags, completions, usage errors.

use crate::common;

use common::{TestHome, one_line_stderr};

#[test]
fn status_json_has_the_counts() {
    let home = TestHome::new();
    home.run(&["init"]).assert().success();
    let output = home.run(&["status", "--json"]).output().expect("run");
    assert!(output.status.success());
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let counts = value["counts"].as_object().expect("counts object");
    for key in [
        "events",
        "calls",
        "faxes",
        "sms",
        "voicemails",
        "contacts",
        "outbox_pending",
        "outbox_failed",
    ] {
        assert_eq!(counts.get(key).and_then(|v| v.as_i64()), Some(0), "{key}");
    }
    assert_eq!(
        value["schema_version"],
        sipmirror::store::latest_schema_version()
    );
    assert!(value["tables"]["mirror_events"].is_i64());
    assert!(value["recent_runs"].as_array().expect("runs").is_empty());
}

#[test]
fn global_flags_work_before_and_after_the_subcommand() {
    let home = TestHome::new();
    let db = home.db();
    let db = db.to_str().expect("utf-8 path");
    home.cmd().args(["--db", db, "init"]).assert().success();
    home.cmd().args(["init", "--db", db]).assert().success();
    let before = home
        .cmd()
        .args(["--json", "--db", db, "status"])
        .output()
        .expect("run");
    let after = home
        .cmd()
        .args(["status", "--db", db, "--json"])
        .output()
        .expect("run");
    assert!(before.status.success() && after.status.success());
    let a: serde_json::Value = serde_json::from_slice(&before.stdout).expect("json");
    let b: serde_json::Value = serde_json::from_slice(&after.stdout).expect("json");
    assert_eq!(a["counts"], b["counts"]);
}

#[test]
fn sipmirror_db_environment_variable_is_used() {
    let home = TestHome::new();
    home.cmd()
        .env("SIPMIRROR_DB", home.db())
        .arg("init")
        .assert()
        .success();
    assert!(home.db().exists());
}

#[test]
fn default_database_lives_in_the_xdg_data_directory() {
    let home = TestHome::new();
    home.cmd().arg("init").assert().success();
    assert!(home.path().join("data/sipmirror/mirror.db").exists());
}

#[test]
fn unknown_flags_and_commands_are_usage_errors() {
    let home = TestHome::new();
    for args in [
        &["--bogus"][..],
        &["frobnicate"],
        &["status", "--nope"],
        &["completions", "tcsh"],
    ] {
        let output = home.cmd().args(args).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = one_line_stderr(&output);
        assert!(stderr.starts_with("sipmirror: "), "{stderr}");
    }
}

#[test]
fn a_typo_gets_clap_s_suggestion_on_its_one_line() {
    let home = TestHome::new();
    for (args, suggested) in [
        (&["snyc"][..], "did you mean `sync`?"),
        (&["status", "--jsno"], "did you mean `--json`?"),
        (&["completions", "bsh"], "did you mean `bash`?"),
    ] {
        let output = home.cmd().args(args).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = one_line_stderr(&output);
        assert!(stderr.contains(suggested), "{args:?}: {stderr}");
    }
}

#[test]
fn completions_for_each_shell() {
    let home = TestHome::new();
    for (shell, marker) in [
        ("bash", "_sipmirror"),
        ("zsh", "#compdef sipmirror"),
        ("fish", "complete -c sipmirror"),
    ] {
        home.cmd()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicates::str::contains(marker));
    }
}

#[test]
fn help_never_shows_secrets_from_the_environment() {
    let home = TestHome::new();
    let output = home
        .cmd()
        .env("SIPGATE_PASSWORD", "pw-7f3a9c")
        .env("SIPGATE_USERNAME", "user-7f3a9c")
        .arg("--help")
        .output()
        .expect("run");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Usage"));
    assert!(!text.contains("7f3a9c"), "{text}");
}

#[test]
fn the_schema_reference_in_docs_is_current() {
    // Regenerate with: cargo run -- schema > docs/schema.md
    let home = TestHome::new();
    let output = home.cmd().arg("schema").output().expect("run");
    assert!(output.status.success());
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema.md"))
        .expect("docs/schema.md");
    assert!(
        String::from_utf8_lossy(&output.stdout) == committed,
        "docs/schema.md is out of date: run `cargo run -- schema > docs/schema.md`"
    );
}

#[test]
fn sync_into_a_folder_that_does_not_exist_is_refused_and_init_makes_it() {
    let s = common::Synced::start(20, 2);
    let db = s.home.path().join("typo/dir/mirror.db");
    let output = s
        .home
        .cmd()
        .arg("--db")
        .arg(&db)
        .arg("sync")
        .env("SIPGATE_BASE_URL", s.emulator.base_url())
        .env("SIPGATE_USERNAME", "demo")
        .env("SIPGATE_PASSWORD", "demo")
        .output()
        .expect("sync");
    assert_eq!(output.status.code(), Some(2));
    let line = one_line_stderr(&output);
    assert!(
        line.contains("does not exist") && line.contains("init"),
        "{line}"
    );
    assert!(!s.home.path().join("typo").exists(), "nothing was created");
    s.home
        .cmd()
        .arg("--db")
        .arg(&db)
        .arg("init")
        .assert()
        .success();
    assert!(db.exists());
}

#[test]
fn a_command_s_help_shows_its_own_options_first_and_the_global_ones_apart() {
    let home = TestHome::new();
    let output = home
        .cmd()
        .args(["export", "snom", "--help"])
        .output()
        .expect("help");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    let own = text.find("--snom-format").expect("its own option");
    let global = text
        .find("Global options:")
        .expect("a heading for the global ones");
    let db = text.find("--db").expect("a global option");
    assert!(own < global && global < db, "{text}");
    // Every option has a line of help: --out included.
    let out = &text[text.find("\n      --out <FILE>").expect("--out") + 1..];
    let described = out.lines().nth(1).unwrap_or("").trim();
    assert!(!described.is_empty(), "{text}");
}

#[test]
fn json_is_honoured_by_every_command_that_prints_a_result_and_refused_by_the_others() {
    let home = TestHome::new();
    home.run(&["init"]).assert().success();
    let json = |args: &[&str]| -> serde_json::Value {
        let output = home.run(args).output().expect("run");
        assert!(
            output.status.success(),
            "{args:?}: {}",
            one_line_stderr(&output)
        );
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON: {e}"))
    };
    assert!(json(&["query", "calls_per_day", "--json"]).is_array());
    assert!(json(&["sql", "SELECT 1 AS one", "--json"])[0]["one"] == 1);
    assert!(json(&["query", "--list", "--json"]).is_array());
    for args in [
        &["export", "vcard", "--out", "cards", "--json"][..],
        &["completions", "bash", "--json"],
        &["schema", "--json"],
        &["query", "calls_per_day", "--format", "csv", "--json"],
    ] {
        let output = home.run(args).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(one_line_stderr(&output).contains("--json"), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn every_command_and_option_says_what_it_is_for() {
    use clap::CommandFactory;
    fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !arg.is_hide_set() && !builtin && arg.get_help().is_none() {
                missing.push(format!("{path} {}", arg.get_id()));
            }
        }
        for sub in command.get_subcommands() {
            let name = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() && sub.get_name() != "help" {
                missing.push(name.clone());
            }
            walk(sub, &name, missing);
        }
    }
    let mut missing = Vec::new();
    walk(&sipmirror::cli::Cli::command(), "sipmirror", &mut missing);
    assert!(missing.is_empty(), "no help text: {missing:?}");
}
