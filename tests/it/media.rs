//! `sync --media`: recordings, fax documents and previews, byte-identical to upstream, fetched
//! once, never half-written.

use crate::common;

use common::{Synced, one_line_stderr};
use serde_json::json;
use sha2::{Digest, Sha256};

fn media_dir(synced: &Synced) -> std::path::PathBuf {
    let mut name = synced.home.db().into_os_string();
    name.push(".media");
    std::path::PathBuf::from(name)
}

fn rows(synced: &Synced) -> Vec<(i64, String, i64, String, String, i64)> {
    let db = synced.db();
    let mut stmt = db
        .prepare(
            "SELECT event_id, kind, page, path, sha256, size FROM media_files ORDER BY 1, 2, 3",
        )
        .expect("prepare");
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// Every file in the media folder, temporary ones included.
fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    for sub in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if sub.path().is_dir() {
            for f in std::fs::read_dir(sub.path()).expect("sub").flatten() {
                names.push(f.file_name().to_string_lossy().to_string());
            }
        } else {
            names.push(sub.file_name().to_string_lossy().to_string());
        }
    }
    names
}

#[test]
fn media_is_downloaded_once_and_identical_to_upstream() {
    let synced = Synced::start(120, 5);
    synced.sync_ok(&["--media"]);
    let rows = rows(&synced);
    let kinds: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        kinds,
        ["fax_document", "fax_preview_big", "voicemail_audio"]
            .into_iter()
            .collect()
    );
    let dir = media_dir(&synced);
    let db = synced.db();
    for (event, kind, page, path, hash, size) in &rows {
        let bytes = std::fs::read(dir.join(path)).expect("file");
        assert_eq!(bytes.len() as i64, *size);
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(&digest, hash);
        // The same bytes as upstream serves (through its redirect).
        let url: String = db
            .query_row(
                "SELECT source_url FROM media_files WHERE event_id = ?1 AND kind = ?2 AND page = ?3",
                rusqlite::params![event, kind, page],
                |r| r.get(0),
            )
            .expect("url");
        let upstream = reqwest::blocking::Client::new()
            .get(&url)
            .query(&[("version", "2.41.0")])
            .basic_auth("demo", Some("demo"))
            .send()
            .and_then(|r| r.bytes())
            .expect("download");
        assert_eq!(upstream.as_ref(), bytes.as_slice(), "{kind} of {event}");
    }
    // The views and `media path` show the file.
    let (id, shown): (i64, String) = db
        .query_row(
            "SELECT id, media_path FROM voicemails WHERE media_path IS NOT NULL LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a voicemail with media");
    let output = synced
        .cmd(&["media", "path", &id.to_string()])
        .output()
        .expect("media path");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), shown);
    assert!(std::path::Path::new(&shown).is_file());
    // A second run fetches nothing more: as many requests as a sync without media.
    synced.emulator.reset_stats();
    synced.sync_ok(&["--media"]);
    let with_media = synced.requests();
    synced.emulator.reset_stats();
    synced.sync_ok(&[]);
    assert_eq!(with_media, synced.requests());
    // A file removed from disk is fetched again.
    std::fs::remove_file(dir.join(&rows[0].3)).expect("remove");
    synced.sync_ok(&["--media"]);
    assert!(dir.join(&rows[0].3).is_file());
}

#[test]
fn broken_downloads_leave_no_partial_files_and_are_redone() {
    let synced = Synced::start(120, 5);
    synced.sync_ok(&[]);
    // Every request fails here: three attempts say as much as twelve, in less time.
    synced.home.write_config(
        "[http]\nretry_base = \"1ms\"\nmax_attempts = 3\ntimeout = \"20s\"\n",
        0o600,
    );
    // Every answer is cut short: the downloads fail, nothing half-written is visible.
    synced.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({ "truncate_rate": 1.0 })),
    );
    let output = synced.sync(&["--media", "--no-push", "--only", "balance"]);
    assert!(!output.status.success());
    assert!(rows(&synced).is_empty());
    let dir = media_dir(&synced);
    assert!(files(&dir).is_empty(), "{:?}", files(&dir));
    synced.control("PUT", "/_emulator/faults", Some(json!({})));
    synced.sync_ok(&["--media"]);
    assert!(!rows(&synced).is_empty());
    assert!(files(&dir).iter().all(|f| !f.starts_with(".sipmirror-")));
}

#[test]
fn a_missing_download_fails_alone() {
    let synced = Synced::start(120, 5);
    synced.sync_ok(&[]);
    let voicemail: i64 = synced
        .db()
        .query_row("SELECT max(id) FROM voicemails", [], |r| r.get(0))
        .expect("a voicemail");
    // Gone upstream after the pull: its content answers 404.
    synced.control("DELETE", &format!("/_emulator/events/{voicemail}"), None);
    let output = synced.sync(&["--media", "--only", "balance"]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = one_line_stderr(&output);
    assert!(stderr.contains("media: 1 downloads failed"), "{stderr}");
    assert!(stderr.contains(&voicemail.to_string()), "{stderr}");
    // The others were fetched.
    assert!(rows(&synced).len() > 5);
    let output = synced
        .cmd(&["media", "path", &voicemail.to_string()])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn redirects_elsewhere_or_in_circles_are_refused() {
    let synced = Synced::start(60, 5);
    synced.sync_ok(&[]);
    for target in ["http://192.0.2.1:9", "loop"] {
        synced.control(
            "PUT",
            "/_emulator/faults",
            Some(json!({ "media_redirect": target })),
        );
        let output = synced.sync(&["--media", "--only", "balance"]);
        assert_eq!(output.status.code(), Some(3), "{target}");
        let stderr = one_line_stderr(&output);
        let expected = if target == "loop" {
            "too many redirects"
        } else {
            "redirect to another host (192.0.2.1) refused"
        };
        assert!(stderr.contains(expected), "{target}: {stderr}");
        assert!(rows(&synced).is_empty());
    }
    synced.control("PUT", "/_emulator/faults", Some(json!({})));
    synced.sync_ok(&["--media"]);
    assert!(!rows(&synced).is_empty());
}

#[test]
fn bodies_that_are_not_what_their_type_says_are_refused_per_item() {
    let synced = Synced::start(120, 5);
    synced.sync_ok(&[]);
    // Every answer starts well and ends in garbage, as a broken proxy or disk might send.
    synced.control(
        "PUT",
        "/_emulator/faults",
        Some(json!({ "malformed_rate": 1.0 })),
    );
    let output = synced
        .cmd(&[
            "--json",
            "sync",
            "--media",
            "--no-push",
            "--only",
            "balance",
        ])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let media = &report["media"];
    assert_eq!(media["fetched"], 0);
    assert!(media["failed"].as_u64().unwrap_or(0) > 5, "{media}");
    let first = media["errors"][0].as_str().unwrap_or_default();
    assert!(first.contains("incomplete or damaged"), "{first}");
    assert!(rows(&synced).is_empty(), "nothing damaged is indexed");
    assert!(files(&media_dir(&synced)).is_empty(), "nor stored");
    synced.control("DELETE", "/_emulator/faults", None);
    synced.sync_ok(&["--media"]);
    assert!(rows(&synced).len() > 5);
}

#[test]
fn media_of_events_deleted_upstream_is_kept_unless_pruning_is_on() {
    let synced = Synced::start(120, 5);
    synced.sync_ok(&["--media"]);
    let (event, path): (i64, String) = synced
        .db()
        .query_row(
            "SELECT event_id, path FROM media_files WHERE kind = 'voicemail_audio'
             AND sha256 NOT IN (SELECT sha256 FROM media_files GROUP BY sha256 HAVING count(*) > 1)
             LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a voicemail recording of its own");
    let file = media_dir(&synced).join(&path);
    synced.control("DELETE", &format!("/_emulator/events/{event}"), None);
    synced.sync_ok(&["--full", "--force-delete", "--media"]);
    let state: String = synced
        .db()
        .query_row(
            "SELECT upstream_state FROM mirror_events WHERE id = ?1",
            [event],
            |r| r.get(0),
        )
        .expect("event");
    assert_eq!(state, "deleted");
    assert!(file.exists(), "kept by default");
    let before = rows(&synced).len();
    synced.home.write_config(
        "[http]\nretry_base = \"1ms\"\nmax_attempts = 12\n[media]\nprune = true\n",
        0o600,
    );
    let output = synced
        .cmd(&["--json", "sync", "--no-push", "--only", "balance"])
        .output()
        .expect("sync");
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["media"]["pruned"], 1);
    assert!(!file.exists(), "removed with pruning on");
    assert_eq!(rows(&synced).len(), before - 1);
    // Every remaining row still has its file.
    for row in rows(&synced) {
        assert!(media_dir(&synced).join(&row.3).exists(), "{}", row.3);
    }
}
