//! Teams: which user, line and group each event belongs to (v2's `connectionIds` and the
//! users' settings; classic's extension), and the reports built on it, checked against what
//! upstream says.

use std::collections::BTreeMap;

use crate::common::{Dialect, Synced, synced, v2_get, v2_json};

/// A v2 resource, or None when upstream refuses it (403 "Feature not booked").
fn v2_json_if_booked(s: &Synced, path: &str) -> Option<serde_json::Value> {
    match v2_get(s, path) {
        (200, body) => body,
        _ => None,
    }
}

fn items(value: &serde_json::Value) -> Vec<serde_json::Value> {
    value["items"].as_array().cloned().unwrap_or_default()
}

/// Every call of the v2 history: (extension ids, direction, duration in seconds).
fn upstream_calls(s: &Synced) -> Vec<(Vec<String>, String, i64)> {
    let mut calls = Vec::new();
    for archived in ["false", "true"] {
        let mut offset = 0;
        loop {
            let page = v2_json(
                s,
                &format!("/history?archived={archived}&types=CALL&limit=1000&offset={offset}"),
            );
            let entries = items(&page);
            for e in &entries {
                let ids = e["connectionIds"]
                    .as_array()
                    .map(|ids| {
                        ids.iter()
                            .filter_map(|i| i.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                calls.push((
                    ids,
                    e["direction"].as_str().unwrap_or_default().to_string(),
                    e["duration"].as_i64().unwrap_or(0),
                ));
            }
            offset += entries.len();
            if entries.len() < 1000 {
                break;
            }
        }
    }
    calls
}

/// A report's rows over all time, through `dialect`'s mirror.
fn report(dialect: Dialect, s: &Synced, name: &str) -> Vec<serde_json::Value> {
    let output = dialect
        .cmd(s, &["query", name, "--param", "from=2000-01-01", "--json"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{name}");
    serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .expect("json")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn per_user_and_per_group_reports_match_the_history_and_the_users_upstream() {
    let s = synced(Dialect::V2, 800, 20);
    // Who owns what, from the users' own lists, and the groups' names.
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for user in items(&v2_json(&s, "/users")) {
        let id = user["id"].as_str().expect("id");
        let name = format!(
            "{} {}",
            user["firstname"].as_str().unwrap_or_default(),
            user["lastname"].as_str().unwrap_or_default()
        );
        for list in ["devices", "phonelines", "faxlines", "sms"] {
            for x in v2_json_if_booked(&s, &format!("/{id}/{list}"))
                .map(|v| items(&v))
                .unwrap_or_default()
            {
                let x = x["id"].as_str().expect("id").to_string();
                owner.entry(x).or_insert_with(|| name.clone());
            }
        }
    }
    let groups: BTreeMap<String, String> = items(&v2_json(&s, "/groups"))
        .iter()
        .map(|g| {
            (
                g["id"].as_str().expect("id").to_string(),
                g["alias"].as_str().expect("alias").to_string(),
            )
        })
        .collect();
    assert!(!groups.is_empty(), "the emulator's account has a group");

    let mut missed: BTreeMap<String, i64> = BTreeMap::new();
    let mut talk: BTreeMap<String, i64> = BTreeMap::new();
    let mut per_group: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for (ids, direction, duration) in upstream_calls(&s) {
        let users: std::collections::BTreeSet<&String> =
            ids.iter().filter_map(|i| owner.get(i)).collect();
        for user in users {
            match direction.as_str() {
                "MISSED_INCOMING" => *missed.entry(user.clone()).or_default() += 1,
                "INCOMING" | "OUTGOING" => *talk.entry(user.clone()).or_default() += duration,
                _ => {}
            }
        }
        for group in ids.iter().filter_map(|i| groups.get(i)) {
            let slot = per_group.entry(group.clone()).or_default();
            slot.0 += 1;
            slot.1 += i64::from(direction == "INCOMING");
            slot.2 += i64::from(direction == "MISSED_INCOMING");
        }
    }
    assert!(missed.len() >= 2, "calls of two users: {missed:?}");

    let got: BTreeMap<String, i64> = report(Dialect::V2, &s, "missed_calls_per_user")
        .iter()
        .map(|r| {
            (
                r["user"].as_str().expect("user").to_string(),
                r["missed"].as_i64().expect("n"),
            )
        })
        .collect();
    assert_eq!(got, missed);

    let got: BTreeMap<String, f64> = report(Dialect::V2, &s, "talk_time_per_user")
        .iter()
        .map(|r| {
            (
                r["user"].as_str().expect("user").to_string(),
                r["talk_minutes"].as_f64().expect("minutes"),
            )
        })
        .collect();
    let want: BTreeMap<String, f64> = talk
        .iter()
        .map(|(user, seconds)| (user.clone(), (*seconds as f64 / 6.0).round() / 10.0))
        .collect();
    assert_eq!(got, want);

    let got: BTreeMap<String, (i64, i64, i64)> = report(Dialect::V2, &s, "calls_per_group")
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_i64().expect("n");
            (
                r["group"].as_str().expect("group").to_string(),
                (n("calls"), n("answered"), n("missed")),
            )
        })
        .collect();
    assert_eq!(got, per_group);
}

#[test]
fn classic_events_belong_to_their_extension() {
    let s = synced(Dialect::Classic, 300, 10);
    let per_user = report(Dialect::Classic, &s, "missed_calls_per_user");
    let db = s.db();
    let want: i64 = db
        .query_row(
            "SELECT count(*) FROM calls WHERE direction = 'missed_incoming' AND extension IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    let got: i64 = per_user
        .iter()
        .map(|r| r["missed"].as_i64().expect("n"))
        .sum();
    assert_eq!(got, want);
    // The classic API does not say which group a call came through.
    assert!(report(Dialect::Classic, &s, "calls_per_group").is_empty());
}
