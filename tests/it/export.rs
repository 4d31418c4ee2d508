//! `sipmirror export ...` and `serve-phonebook` against a mirror synced from the emulator.

use crate::common;

use common::{Dialect, Stop, Synced, serve, xml_root};
use serde_json::json;

fn synced() -> Synced {
    common::synced(Dialect::Classic, 50, 60)
}

#[test]
fn every_format_is_written_and_parses() {
    let synced = synced();
    let out = synced.home.path().join("out");
    for (format, file, root) in [
        ("snom", "snom.xml", "tbook"),
        ("grandstream", "phonebook.xml", "AddressBook"),
        ("yealink", "yealink.xml", "YealinkIPPhoneDirectory"),
        ("fritzbox", "fritzbox.xml", "phonebooks"),
    ] {
        let path = out.join(file);
        let output = synced
            .cmd(&["export", format, "--out", path.to_str().expect("path")])
            .output()
            .expect("export");
        assert!(output.status.success(), "{format}: {output:?}");
        let bytes = std::fs::read(&path).expect("written");
        assert_eq!(xml_root(&bytes), root, "{format}");
        // Said what it left out: the generated book has fax numbers and contacts without any.
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("left out"),
            "{format}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let single = out.join("all.vcf");
    synced
        .cmd(&[
            "export",
            "vcard",
            "--single",
            single.to_str().expect("path"),
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(&single).expect("vcf");
    let contacts: i64 = synced
        .db()
        .query_row(
            "SELECT count(*) FROM contacts WHERE gone_upstream = 0",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(text.matches("BEGIN:VCARD\r\n").count() as i64, contacts);
    assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
}

#[test]
fn phone_books_are_sorted_deduplicated_and_capped() {
    let synced = synced();
    let path = synced.home.path().join("snom.xml");
    let output = synced
        .cmd(&[
            "export",
            "snom",
            "--snom-format",
            "v2",
            "--max-entries",
            "5",
            "--out",
            path.to_str().expect("path"),
        ])
        .output()
        .expect("export");
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("beyond the limit of 5 entries"), "{stderr}");
    let text = std::fs::read_to_string(&path).expect("file");
    assert_eq!(text.matches("<contact ").count(), 5);
    // Every number once.
    let numbers: Vec<&str> = text
        .split("no=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    let unique: std::collections::HashSet<&&str> = numbers.iter().collect();
    assert_eq!(unique.len(), numbers.len(), "{text}");
    // Sorted by family name (case-insensitive).
    let families: Vec<String> = text
        .split("<last_name>")
        .skip(1)
        .filter_map(|s| s.split("</last_name>").next())
        .map(|s| s.to_lowercase())
        .collect();
    let mut sorted = families.clone();
    sorted.sort();
    assert_eq!(families, sorted);
    // --filter and national numbers.
    let output = synced
        .cmd(&[
            "export",
            "yealink",
            "--numbers",
            "national",
            "--filter",
            "zzzz-nobody",
            "--out",
            path.to_str().expect("path"),
        ])
        .output()
        .expect("export");
    assert!(output.status.success());
    assert!(
        !std::fs::read_to_string(&path)
            .expect("file")
            .contains("DirectoryEntry")
    );
}

#[test]
fn the_vcard_folder_follows_the_mirror_and_touches_only_its_own_files() {
    let synced = synced();
    let dir = synced.home.path().join("vdir");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("mine.vcf"), "not sipmirror's").expect("foreign file");
    let export = || {
        synced
            .cmd(&["export", "vcard", "--out", dir.to_str().expect("path")])
            .output()
            .expect("export")
    };
    assert!(export().status.success());
    let cards = |dir: &std::path::Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".vcf") && n != "mine.vcf")
            .collect();
        names.sort();
        names
    };
    let first = cards(&dir);
    assert!(first.len() > 10);
    let sample = dir.join(&first[0]);
    let modified = std::fs::metadata(&sample)
        .expect("meta")
        .modified()
        .expect("mtime");
    // Unchanged contacts are not rewritten.
    let output = export();
    assert!(String::from_utf8_lossy(&output.stdout).contains("0 written"));
    assert_eq!(
        std::fs::metadata(&sample)
            .expect("meta")
            .modified()
            .expect("mtime"),
        modified
    );
    // A contact deleted upstream loses its file; the foreign file stays.
    let uuid = first[0].trim_end_matches(".vcf").to_string();
    synced.control("DELETE", &format!("/_emulator/contacts/{uuid}"), None);
    synced.sync_ok(&["--only", "contacts"]);
    let output = export();
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 removed"));
    assert!(!sample.exists());
    assert!(dir.join("mine.vcf").exists());
    assert_eq!(cards(&dir).len(), first.len() - 1);
}

#[test]
fn the_server_answers_every_path_with_etags() {
    let synced = synced();
    let (child, url) = serve(&synced, &[], None);
    let _stop = Stop(child);
    let client = reqwest::blocking::Client::new();
    for (path, root) in [
        ("/snom.xml", Some("tbook")),
        ("/snom-v2.xml", Some("tbook")),
        ("/phonebook.xml", Some("AddressBook")),
        ("/gs_phonebook.xml", Some("AddressBook")),
        ("/yealink.xml", Some("YealinkIPPhoneDirectory")),
        ("/fritzbox.xml", Some("phonebooks")),
        ("/contacts.vcf", None),
    ] {
        let response = client.get(format!("{url}{path}")).send().expect("get");
        assert_eq!(response.status(), 200, "{path}");
        let etag = response
            .headers()
            .get("etag")
            .expect("etag")
            .to_str()
            .expect("ascii")
            .to_string();
        let body = response.bytes().expect("body");
        match root {
            Some(root) => assert_eq!(xml_root(&body), root, "{path}"),
            None => assert!(body.starts_with(b"BEGIN:VCARD\r\n")),
        }
        let again = client
            .get(format!("{url}{path}"))
            .header("If-None-Match", &etag)
            .send()
            .expect("get");
        assert_eq!(again.status(), 304, "{path}");
        // snom's remote directory posts.
        let posted = client.post(format!("{url}{path}")).send().expect("post");
        assert_eq!(posted.status(), 200, "{path}");
    }
    let missing = client.get(format!("{url}/nope.xml")).send().expect("get");
    assert_eq!(missing.status(), 404);
    // A change in the mirror changes the ETag.
    let before = client
        .get(format!("{url}/snom.xml"))
        .send()
        .expect("get")
        .headers()
        .get("etag")
        .cloned();
    let uuid: String = synced
        .db()
        .query_row(
            "SELECT uuid FROM contacts WHERE number_count > 0 LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("contact");
    synced.control(
        "PATCH",
        &format!("/_emulator/contacts/{uuid}"),
        Some(json!({ "family": "Aaaaron" })),
    );
    synced.sync_ok(&["--only", "contacts"]);
    let after = client
        .get(format!("{url}/snom.xml"))
        .send()
        .expect("get")
        .headers()
        .get("etag")
        .cloned();
    assert_ne!(before, after);
}

#[test]
fn the_server_refuses_bad_credentials_when_auth_is_on() {
    let synced = synced();
    let (child, url) = serve(&synced, &["--auth-user", "phone"], Some("s3cret"));
    let _stop = Stop(child);
    let client = reqwest::blocking::Client::new();
    let none = client.get(format!("{url}/snom.xml")).send().expect("get");
    assert_eq!(none.status(), 401);
    let wrong = client
        .get(format!("{url}/snom.xml"))
        .basic_auth("phone", Some("nope"))
        .send()
        .expect("get");
    assert_eq!(wrong.status(), 401);
    let right = client
        .get(format!("{url}/snom.xml"))
        .basic_auth("phone", Some("s3cret"))
        .send()
        .expect("get");
    assert_eq!(right.status(), 200);
    // Auth without a password is a usage error.
    let output = synced
        .cmd(&["serve-phonebook", "--auth-user", "phone"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
}
