//! `sipmirror demo`: the README's first command.

use crate::common;

use common::TestHome;

#[test]
fn demo_syncs_the_demo_account_and_says_what_to_try() {
    let home = TestHome::new();
    let output = home
        .cmd()
        .args(["demo", "--dir", "tour"])
        .output()
        .expect("run demo");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("sync ok"), "{text}");
    assert!(text.contains("sqlite3 "), "{text}");
    // The status it shows is the mirror's after the demo, not the demo holding its own lock.
    assert!(text.contains("lock      free"), "{text}");
    let db = home.path().join("tour/sipmirror.db");
    let conn = rusqlite::Connection::open(&db).expect("demo mirror");
    let (events, contacts): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM mirror_events), (SELECT count(*) FROM mirror_contacts)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("counts");
    // The demo speaks v2, which has no trash: the demo account's trashed events (about 8%) are
    // not listed.
    assert!((17_000..20_000).contains(&events), "{events}");
    assert_eq!(contacts, 500);
    let api: String = conn
        .query_row("SELECT value FROM sync_meta WHERE key = 'api'", [], |r| {
            r.get(0)
        })
        .expect("api");
    assert_eq!(api, "v2");
    // Every query the demo suggests works on the demo mirror.
    let suggested: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("sqlite3 "))
        .filter_map(|l| l.split_once(" \"").map(|(_, sql)| sql))
        .filter_map(|sql| sql.split_once('"').map(|(sql, _)| sql))
        .collect();
    assert!(suggested.len() >= 4, "{text}");
    for sql in suggested {
        // What a user is shown first reads the public views, not the tables behind them.
        assert!(!sql.contains("mirror_"), "{sql}");
        let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let mut rows = stmt.raw_query();
        while rows
            .next()
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .is_some()
        {}
    }
    // The exports are there and say so.
    for file in [
        "snom.xml",
        "snom-v2.xml",
        "phonebook.xml",
        "yealink.xml",
        "fritzbox.xml",
    ] {
        let bytes = std::fs::read(home.path().join("tour/exports").join(file)).expect(file);
        common::xml_root(&bytes);
    }
    assert!(
        home.path()
            .join("tour/exports/vcards")
            .read_dir()
            .expect("vcards")
            .count()
            > 400
    );
    assert!(text.contains("exports/"), "{text}");
    // So are the charts of the last 90 days and the metadata for Datasette.
    let page = std::fs::read_to_string(home.path().join("tour/report.html")).expect("page");
    assert!(page.contains("<svg") && page.ends_with("</html>\n"));
    let metadata = std::fs::read(home.path().join("tour/metadata.json")).expect("metadata");
    let metadata: serde_json::Value = serde_json::from_slice(&metadata).expect("json");
    assert!(metadata["databases"]["sipmirror"]["queries"]["calls_per_day"].is_object());
    assert!(text.contains("datasette serve"), "{text}");
    // Running it again brings the same mirror up to date instead of failing.
    home.cmd()
        .args(["demo", "--dir", "tour", "--json"])
        .assert()
        .success();
}
