//! `sipmirror datasette-metadata`: the reports as canned queries that run as Datasette runs
//! them (a blank field is ''), the views described, the internal tables hidden.

use crate::common::{Dialect, synced};

/// The values the reports that need one are given (the rest are left blank).
fn value_for(report: &str, param: &str, number: &str) -> String {
    match (report, param) {
        ("search", "q") => "Rückruf".to_string(),
        ("sms_conversation", "with") => number.to_string(),
        _ => String::new(),
    }
}

#[test]
fn every_canned_query_runs_as_datasette_runs_it_and_agrees_with_sipmirror_query() {
    let s = synced(Dialect::V2, 600, 30);
    let output = s.v2_cmd(&["datasette-metadata"]).output().expect("run");
    assert!(output.status.success());
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    // Datasette names the database after the file.
    let database = &metadata["databases"]["mirror"];
    let db = s.db();
    let number: String = db
        .query_row(
            "SELECT from_number FROM sms WHERE from_number <> '' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("an sms");

    let queries = database["queries"].as_object().expect("queries");
    assert_eq!(
        queries.len(),
        sipmirror::query::reports().expect("reports").len()
    );
    for (name, query) in queries {
        assert!(
            !query["title"].as_str().unwrap_or_default().is_empty(),
            "{name}"
        );
        let sql = query["sql"].as_str().expect("sql");
        let mut stmt = db
            .prepare(sql)
            .unwrap_or_else(|e| panic!("{name} does not prepare: {e}"));
        let mut given = Vec::new();
        for i in 1..=stmt.parameter_count() {
            let param = stmt
                .parameter_name(i)
                .expect("named")
                .trim_start_matches(':');
            let value = value_for(name, param, &number);
            if !value.is_empty() {
                given.extend(["--param".to_string(), format!("{param}={value}")]);
            }
            stmt.raw_bind_parameter(i, value).expect("bind");
        }
        let mut rows = stmt.raw_query();
        let mut count = 0;
        while rows
            .next()
            .unwrap_or_else(|e| panic!("{name} fails: {e}"))
            .is_some()
        {
            count += 1;
        }
        let mut args = vec!["query".to_string(), name.clone(), "--json".to_string()];
        args.extend(given);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = s.v2_cmd(&args).output().expect("query");
        let want: Vec<serde_json::Value> =
            serde_json::from_slice(&output.stdout).expect("query json");
        assert_eq!(
            count,
            want.len(),
            "{name}: Datasette's rows and sipmirror query's"
        );
    }

    // The views are described; every table is hidden.
    let tables = database["tables"].as_object().expect("tables");
    let mut stmt = db
        .prepare(
            "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view')
               AND name NOT LIKE 'sqlite_%' AND name NOT GLOB 'search_*_*'",
        )
        .expect("schema");
    let objects: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    for (name, kind) in objects {
        let entry = &tables[&name];
        if kind == "table" {
            assert_eq!(entry["hidden"], true, "{name} is not hidden");
        } else {
            assert_ne!(entry["hidden"], true, "{name} is hidden");
            assert!(
                !entry["description"].as_str().unwrap_or_default().is_empty(),
                "{name} has no description"
            );
        }
    }
}
