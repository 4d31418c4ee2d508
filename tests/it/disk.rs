//! A disk that fills up under a sync, a media download or a first vCard export: a clear error,
//! the mirror (or the folder) as it was, and the next run, with room again, completes.
//!
//! The full disk is made with a file-size limit (RLIMIT_FSIZE) on the child process, which
//! refuses to grow any file past the limit as a full disk would, without needing a small
//! filesystem (and works as root, where read-only permissions do not).

use crate::common;

use std::os::unix::process::CommandExt;
use std::process::Command;

use common::{Synced, assert_mirror_equals_upstream, one_line_stderr};

/// Lets the command grow no file beyond `bytes`.
fn with_file_size_limit(cmd: &mut Command, bytes: u64) {
    // SAFETY: between fork and exec only async-signal-safe calls: signal and setrlimit.
    unsafe {
        cmd.pre_exec(move || {
            // A write past the limit then fails with EFBIG instead of killing the process.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Why a test that mounts a small filesystem fails where it cannot.
const NEEDS_MOUNT: &str = "this test mounts a small tmpfs, which needs CAP_SYS_ADMIN (root, or a \
     container allowed to mount); run the suite where it may, or leave this test out by name \
     with `cargo test -- --skip disk::`";

/// Folds the WAL into the database so the file sizes are what they look like.
fn checkpointed_size(s: &Synced) -> u64 {
    s.db()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    std::fs::metadata(s.home.db()).expect("db").len()
}

fn integrity(s: &Synced) {
    let db = s.db();
    let ok: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(ok, "ok");
    let violations: i64 = db
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .expect("fk");
    assert_eq!(violations, 0);
}

#[test]
fn a_full_disk_stops_the_sync_cleanly_and_the_next_run_completes() {
    let s = Synced::start(4000, 40);
    s.sync_ok(&["--only", "contacts"]);
    let size = checkpointed_size(&s);
    let mut cmd = s.std_cmd(&["sync"]);
    with_file_size_limit(&mut cmd, size + 16 * 1024);
    let output = cmd.output().expect("run");
    assert!(
        matches!(output.status.code(), Some(1 | 3)),
        "{:?}",
        output.status
    );
    let line = one_line_stderr(&output);
    assert!(line.contains("disk"), "{line}");
    integrity(&s);
    // With room again, the next run completes.
    s.sync_ok(&[]);
    assert_mirror_equals_upstream(&s);
}

/// A small tmpfs, unmounted when dropped: a real full disk (ENOSPC) for the media folder.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(path: std::path::PathBuf, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(&path).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .ok()?;
        status.success().then_some(SmallDisk(path))
    }

    fn grow(&self, size: &str) {
        self.remount(&format!("size={size}"));
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .status()
            .expect("remount");
        assert!(status.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn media_that_does_not_fit_fails_per_item_and_is_fetched_next_run() {
    let s = Synced::start(200, 5);
    let media = s.home.path().join("media-disk");
    // The media folder on its own small filesystem. Mounting needs CAP_SYS_ADMIN, which this
    // project's machines and CI have; elsewhere the test fails and says why (it never passes
    // by checking nothing).
    let disk = SmallDisk::mount(media.clone(), "160k").unwrap_or_else(|| panic!("{NEEDS_MOUNT}"));
    s.home.write_config(
        &format!(
            "[http]\nretry_base = \"1ms\"\nmax_attempts = 12\n[media]\ndir = \"{}\"\n",
            media.display()
        ),
        0o600,
    );
    s.sync_ok(&[]);
    let output = s.cmd(&["sync", "--media"]).output().expect("run");
    assert_eq!(output.status.code(), Some(3), "some items failed");
    let line = one_line_stderr(&output);
    assert!(line.contains("media") && line.contains("space"), "{line}");
    integrity(&s);
    let fetched = indexed_files(&s);
    assert!(!fetched.is_empty(), "what fitted was kept");
    // Every indexed file is whole, and nothing else (no partial or temporary file) is there.
    let mut on_disk = Vec::new();
    for sub in std::fs::read_dir(&media).expect("media").flatten() {
        for file in std::fs::read_dir(sub.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            on_disk.push(file.path());
        }
    }
    // Content-addressed: events with the same recording share one file.
    let distinct: std::collections::BTreeSet<&String> = fetched.iter().map(|(p, _)| p).collect();
    assert_eq!(on_disk.len(), distinct.len(), "{on_disk:?}");
    for (path, size) in &fetched {
        let len = std::fs::metadata(media.join(path))
            .expect("indexed file")
            .len();
        assert_eq!(len as i64, *size, "{path}");
    }
    // With room again, the next run fetches the rest.
    disk.grow("64m");
    s.sync_ok(&["--media"]);
    let all = indexed_files(&s);
    assert!(all.len() > fetched.len());
    let again = s.cmd(&["sync", "--media", "--json"]).output().expect("run");
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(report["media"]["failed"], 0);
    assert_eq!(report["media"]["fetched"], 0, "nothing fetched twice");
}

fn indexed_files(s: &Synced) -> Vec<(String, i64)> {
    let db = s.db();
    let mut stmt = db
        .prepare("SELECT path, size FROM media_files")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn a_read_only_mirror_folder_refuses_writes_clearly_and_still_answers_queries() {
    let s = Synced::start(200, 5);
    let folder = s.home.path().join("ro-disk");
    let disk = SmallDisk::mount(folder.clone(), "16m").unwrap_or_else(|| panic!("{NEEDS_MOUNT}"));
    let db = folder.join("mirror.db");
    let run = |args: &[&str]| {
        let mut cmd = s.home.std_cmd();
        cmd.arg("--db")
            .arg(&db)
            .args(args)
            .env("SIPGATE_BASE_URL", s.emulator.base_url())
            .env("SIPGATE_USERNAME", "demo")
            .env("SIPGATE_PASSWORD", "demo");
        cmd.output().expect("run")
    };
    assert!(run(&["sync"]).status.success());
    disk.remount("ro");
    for args in [&["sync"][..], &["event", "read", "1"], &["init"]] {
        let output = run(args);
        assert!(
            matches!(output.status.code(), Some(1 | 2)),
            "{args:?}: {:?}",
            output.status
        );
        let line = one_line_stderr(&output);
        assert!(
            line.to_lowercase().contains("read-only"),
            "{args:?}: {line}"
        );
    }
    let export = s.home.path().join("snom.xml");
    let export = export.to_str().expect("path");
    for args in [
        &["status"][..],
        &["sql", "SELECT count(*) FROM events"],
        &["query", "unheard_voicemails"],
        &["export", "snom", "--out", export],
    ] {
        let output = run(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            one_line_stderr(&output)
        );
    }
    disk.remount("rw");
    assert!(run(&["sync"]).status.success(), "writable again");
}

#[test]
fn a_first_vcard_export_that_runs_out_of_room_leaves_no_folder_behind() {
    let s = Synced::start(10, 40);
    s.sync_ok(&["--only", "contacts"]);
    // One card of about 100 KB, more than the room left below.
    let uuid: String = s
        .db()
        .query_row("SELECT uuid FROM mirror_contacts LIMIT 1", [], |r| r.get(0))
        .expect("contact");
    s.control(
        "PATCH",
        &format!("/_emulator/contacts/{uuid}"),
        Some(serde_json::json!({ "family": "Long".repeat(25_000) })),
    );
    s.sync_ok(&["--only", "contacts"]);
    let dir = s.home.path().join("cards");
    let out = dir.to_str().expect("path");
    let mut cmd = s.std_cmd(&["export", "vcard", "--out", out]);
    // Room for the mirror's own files (its 32 KiB shared-memory index), not for that card.
    with_file_size_limit(&mut cmd, 64 * 1024);
    let output = cmd.output().expect("run");
    assert!(!output.status.success(), "{output:?}");
    let line = one_line_stderr(&output);
    assert!(line.contains("cards"), "{line}");
    let left: Vec<_> = std::fs::read_dir(s.home.path())
        .expect("home")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("cards"))
        .collect();
    assert!(
        left.is_empty(),
        "neither the folder nor its hidden build: {left:?}"
    );
    // With room again, the folder appears whole.
    let output = s
        .std_cmd(&["export", "vcard", "--out", out])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let cards = std::fs::read_dir(&dir)
        .expect("folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".vcf"))
        })
        .count();
    assert_eq!(cards, 40);
}
