//! Hardening against a hostile local user and bad input: the mirror is private whatever the
//! umask, exports are as readable as the user's files, a planted lock-file link is refused, a
//! config file others can write is refused, a fax is read bounded, absurd durations are refused.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;

use common::{Synced, TestHome, one_line_stderr, set_mode};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// The command with umask 022, as a login shell has it.
fn with_umask_022(cmd: std::process::Command) -> std::process::Command {
    with_umask(cmd, 0o022)
}

/// The command with the given umask.
fn with_umask(mut cmd: std::process::Command, mask: libc::mode_t) -> std::process::Command {
    // SAFETY: umask is async-signal-safe and only changes the child's mask.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(mask);
            Ok(())
        });
    }
    cmd
}

#[test]
fn the_mirror_and_its_files_are_private_whatever_the_umask() {
    let s = Synced::start(200, 10);
    let db = s.home.path().join("data").join("private").join("mirror.db");
    // A mirror in a folder that does not exist yet: `init` makes both (a sync refuses a
    // folder that is not there, which is more often a typo).
    let mut init = s.std_cmd(&["init"]);
    init.arg("--db").arg(&db);
    let output = with_umask_022(init).output().expect("init");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut sync = s.std_cmd(&["sync", "--media"]);
    sync.arg("--db").arg(&db);
    let output = with_umask_022(sync).output().expect("sync");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(mode(&db), 0o600, "mirror");
    assert_eq!(
        mode(db.parent().expect("folder")),
        0o700,
        "the folder made for it"
    );
    let mut media = db.as_os_str().to_os_string();
    media.push(".media");
    assert_eq!(mode(std::path::Path::new(&media)), 0o700, "media folder");
}

#[test]
fn exports_keep_a_target_s_mode_or_follow_the_umask() {
    let s = Synced::start(20, 30);
    s.sync_ok(&[]);
    let existing = s.home.path().join("snom.xml");
    std::fs::write(&existing, "old").expect("write");
    set_mode(&existing, 0o644);
    let fresh = s.home.path().join("yealink.xml");
    let cards = s.home.path().join("cards");
    for args in [
        vec!["export", "snom", "--out", existing.to_str().expect("path")],
        vec!["export", "yealink", "--out", fresh.to_str().expect("path")],
        vec!["export", "vcard", "--out", cards.to_str().expect("path")],
    ] {
        let output = with_umask_022(s.std_cmd(&args)).output().expect("export");
        assert!(output.status.success(), "{args:?}");
    }
    assert_eq!(
        mode(&existing),
        0o644,
        "an existing phone book keeps its mode"
    );
    assert_eq!(mode(&fresh), 0o644, "a new one follows the umask");
    let card = std::fs::read_dir(&cards)
        .expect("cards")
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "vcf"))
        .expect("a card");
    assert_eq!(mode(&card.path()), 0o644, "cards follow the umask");
    // A re-export into the vCard folder keeps the cards' mode too.
    set_mode(&card.path(), 0o640);
    std::fs::write(card.path(), "changed by hand").expect("write");
    s.cmd(&["export", "vcard", "--out", cards.to_str().expect("path")])
        .assert()
        .success();
    assert_eq!(mode(&card.path()), 0o640);
}

#[test]
fn a_planted_lock_file_link_is_refused() {
    let s = Synced::start(20, 5);
    let victim = s.home.path().join("victim.txt");
    std::fs::write(&victim, "precious").expect("write");
    let mut lock = s.home.db().into_os_string();
    lock.push(".lock");
    std::os::unix::fs::symlink(&victim, &lock).expect("symlink");
    let output = s.sync(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("symbolic link"));
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
}

#[test]
fn a_config_file_others_can_write_is_refused() {
    let home = TestHome::new();
    let config = home.write_config("country_code = \"49\"\n", 0o666);
    let output = home.run(&["config"]).output().expect("config");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("can be written by others"));
    set_mode(&config, 0o644);
    set_mode(config.parent().expect("folder"), 0o777);
    let output = home.run(&["config"]).output().expect("config");
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("config folder"));
    set_mode(config.parent().expect("folder"), 0o755);
    home.run(&["config"]).assert().success();
}

#[test]
fn durations_beyond_the_calendar_are_one_line_exit_2() {
    for text in [
        "[sync]\nlookback = \"100000000d\"\n",
        "[media]\nmax_age = \"99999999999d\"\n",
    ] {
        let home = TestHome::new();
        home.write_config(text, 0o600);
        let output = home.run(&["config"]).output().expect("config");
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(one_line_stderr(&output).contains("too long"));
    }
}

#[test]
fn a_fax_from_an_endless_device_is_read_bounded() {
    let s = Synced::start(20, 2);
    s.cmd(&["init"]).assert().success();
    let output = s
        .cmd(&["send", "fax", "--to", "+4930123456", "/dev/zero"])
        .output()
        .expect("send");
    assert_eq!(output.status.code(), Some(2));
    // Refused for its size after a bounded read, not for anything else about the device.
    let line = one_line_stderr(&output);
    assert!(
        line.contains("/dev/zero") && line.contains("20 MiB at most"),
        "{line}"
    );
}

#[test]
fn export_warnings_escape_names_and_keep_quiet_under_q() {
    let s = Synced::start(20, 120);
    s.sync_ok(&[]);
    let out = s.home.path().join("book.xml");
    let out = out.to_str().expect("path");
    // More contacts than entries allowed: the ones left out are named in a warning.
    let loud = s
        .cmd(&["export", "snom", "--out", out, "--max-entries", "3"])
        .output()
        .expect("export");
    assert!(loud.status.success());
    let stderr = String::from_utf8_lossy(&loud.stderr);
    assert!(stderr.contains("warning"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    let quiet = s
        .cmd(&["-q", "export", "snom", "--out", out, "--max-entries", "3"])
        .output()
        .expect("export");
    assert!(quiet.status.success());
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
}

#[test]
fn a_lock_held_too_long_is_an_error_not_a_quiet_exit_4() {
    let s = Synced::start(20, 5);
    s.sync_ok(&[]);
    let mut path = s.home.db().into_os_string();
    path.push(".lock");
    let hold = |since: &str| {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("lock file");
        file.lock().expect("lock");
        std::fs::write(
            &path,
            format!("{{\"pid\":4242,\"command\":\"sync\",\"since\":\"{since}\"}}\n"),
        )
        .expect("holder");
        file
    };
    let held = hold("2020-01-01T00:00:00.000Z");
    let output = s.sync(&[]);
    assert_eq!(output.status.code(), Some(5));
    let line = one_line_stderr(&output);
    assert!(
        line.contains("pid 4242") && line.contains("probably hangs"),
        "{line}"
    );
    let status = s.cmd(&["status"]).output().expect("status");
    assert!(String::from_utf8_lossy(&status.stdout).contains("probably hangs"));
    drop(held);
    // A run that took the lock a moment ago is no reason to worry: exit 4, as before.
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let _held = hold(&now);
    assert_eq!(s.sync(&[]).status.code(), Some(4));
}

#[test]
fn media_larger_than_allowed_is_refused_per_item_without_holding_it() {
    for v2 in [false, true] {
        let s = Synced::start(300, 5);
        s.home.write_config(
            "[http]\nretry_base = \"1ms\"\nmax_attempts = 2\n[media]\nmax_voicemail_mib = 1\n",
            0o600,
        );
        s.emulator
            .set_faults(sipmirror::emulator::Faults {
                media_size: Some(24 * 1024 * 1024),
                ..Default::default()
            })
            .expect("faults");
        let output = if v2 {
            s.v2_std_cmd(&["--json", "sync", "--media"]).output()
        } else {
            s.std_cmd(&["--json", "sync", "--media"]).output()
        }
        .expect("sync");
        assert_eq!(output.status.code(), Some(3), "v2: {v2}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("report");
        let errors = report["media"]["errors"].to_string();
        assert!(errors.contains("larger than the 1 MiB allowed"), "{errors}");
        // Faxes still came; no recording was stored.
        let (faxes, recordings): (i64, i64) = s
            .db()
            .query_row(
                "SELECT (SELECT count(*) FROM media_files WHERE kind = 'fax_document'),
                        (SELECT count(*) FROM media_files WHERE kind = 'voicemail_audio')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("counts");
        assert!(
            faxes > 0 && recordings == 0,
            "v2: {v2}: {faxes} {recordings}"
        );
    }
}

/// The mirror's `-wal` and `-shm` exist only while a connection holds the mirror (the last
/// one to close removes them): they are checked while `serve-phonebook` holds it, under a
/// login shell's umask and under none at all.
#[test]
fn the_wal_and_shm_files_are_private_while_they_exist_whatever_the_umask() {
    for mask in [0o022, 0o000] {
        let s = Synced::start(50, 20);
        let db = s.home.db();
        let sync = with_umask(s.std_cmd(&["sync"]), mask)
            .output()
            .expect("sync");
        assert!(sync.status.success(), "umask {mask:03o}");
        let (child, line) = common::spawn_server(with_umask(
            s.std_cmd(&["serve-phonebook", "--listen", "127.0.0.1:0"]),
            mask,
        ));
        let _server = common::Stop(child);
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("address")
            .to_string();
        // A render reads the mirror through the server's connection.
        let book = reqwest::blocking::get(format!("{url}/snom.xml")).expect("book");
        assert_eq!(book.status().as_u16(), 200);
        for suffix in ["-wal", "-shm", ".lock"] {
            let mut name = db.as_os_str().to_os_string();
            name.push(suffix);
            let path = std::path::PathBuf::from(name);
            assert!(
                path.exists(),
                "{suffix} exists while the server holds the mirror"
            );
            assert_eq!(mode(&path), 0o600, "{suffix} under umask {mask:03o}");
        }
        assert_eq!(mode(&db), 0o600, "mirror under umask {mask:03o}");
    }
}
