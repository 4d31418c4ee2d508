//! `sipmirror report --html`: one self-contained page whose every table is, cell for cell, what
//! the named report returns for the same period.

use std::collections::BTreeMap;

use crate::common::{Dialect, Synced, one_line_stderr, synced};

/// The emulator's history (fixed anchor, two years) lies within these days.
const FROM: &str = "2024-10-30";
const TO: &str = "2026-11-01";

/// The columns and rows of every `<table data-report="NAME">` of the page, cells unescaped.
type Table = (Vec<String>, Vec<Vec<String>>);

fn tables(html: &str) -> BTreeMap<String, Table> {
    let mut found = BTreeMap::new();
    for part in html.split("<table data-report=\"").skip(1) {
        let (name, rest) = part.split_once('"').expect("report name");
        let columns = rest
            .split_once("<thead>")
            .and_then(|(_, h)| h.split_once("</thead>"))
            .map(|(h, _)| h)
            .expect("thead")
            .split("<th>")
            .skip(1)
            .map(|c| unescape(c.split("</th>").next().unwrap_or_default()))
            .collect();
        let body = rest
            .split_once("<tbody>")
            .and_then(|(_, b)| b.split_once("</tbody>"))
            .map(|(b, _)| b)
            .expect("tbody");
        let rows = body
            .split("<tr>")
            .skip(1)
            .map(|row| {
                row.split("<td")
                    .skip(1)
                    .map(|cell| {
                        let text = cell.split_once('>').expect("td").1;
                        unescape(text.split("</td>").next().unwrap_or_default())
                    })
                    .collect()
            })
            .collect();
        found.insert(name.to_string(), (columns, rows));
    }
    found
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// What `sipmirror query NAME` returns for the period, each cell as text, in `columns`' order.
fn report_rows(s: &Synced, name: &str, columns: &[String]) -> Vec<Vec<String>> {
    let output = s
        .v2_cmd(&[
            "query",
            name,
            "--param",
            &format!("from={FROM}"),
            "--param",
            &format!("to={TO}"),
            "--json",
        ])
        .output()
        .expect("run");
    let rows: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            // Reports without a period take their defaults.
            let output = s.v2_cmd(&["query", name, "--json"]).output().expect("run");
            serde_json::from_slice(&output.stdout).expect("json")
        });
    rows.iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| match &row[c] {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => match n.as_i64() {
                        Some(i) => i.to_string(),
                        None => n.as_f64().unwrap_or_default().to_string(),
                    },
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

#[test]
fn every_figure_on_the_page_is_what_the_reports_return_and_the_page_fetches_nothing() {
    // Two years of 20,000 events: the page's size target is for that.
    let s = synced(Dialect::V2, 20_000, 200);
    let output = s
        .v2_cmd(&[
            "report",
            "--html",
            "-",
            "--from",
            FROM,
            "--to",
            TO,
            "--title",
            "Büro <Demo>",
        ])
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", one_line_stderr(&output));
    let html = String::from_utf8(output.stdout).expect("utf-8");
    assert!(html.len() < 1024 * 1024, "{} bytes", html.len());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<h1>Büro &lt;Demo&gt;</h1>"));
    for fetching in [
        "http://", "https://", "<script", "<link", "src=", "url(", "@import",
    ] {
        assert!(!html.contains(fetching), "the page holds {fetching:?}");
    }
    let tables = tables(&html);
    for name in [
        "calls_per_day",
        "calls_per_week",
        "missed_calls_by_hour",
        "talk_time_per_user",
        "talk_time_per_extension",
        "missed_calls_per_user",
        "calls_per_group",
        "top_callers",
        "unheard_voicemails",
        "failed_faxes",
        "sms_per_month",
    ] {
        let (columns, shown) = tables
            .get(name)
            .unwrap_or_else(|| panic!("no table of {name}"));
        assert!(!shown.is_empty(), "{name} is empty");
        let want = report_rows(&s, name, columns);
        assert_eq!(shown.len(), want.len(), "{name}: rows");
        let differing = shown.iter().zip(&want).position(|(a, b)| a != b);
        if let Some(i) = differing {
            panic!(
                "{name} row {i}: the page shows {:?}, the report says {:?} ({columns:?})",
                shown[i], want[i]
            );
        }
    }
    // The tiles are the sums of the reports' columns.
    let per_day = report_rows(&s, "calls_per_day", &["missed".to_string()]);
    let missed: i64 = per_day
        .iter()
        .map(|r| r[0].parse::<i64>().expect("n"))
        .sum();
    assert!(
        html.contains(&format!("<b>{missed}</b>missed")),
        "missed tile"
    );
    // A chart for each charted section; the balance was seen once (one sync), and one
    // observation draws no line.
    assert_eq!(html.matches("<svg").count(), 9, "a chart for each section");
}

#[test]
fn a_report_of_a_bad_period_is_refused_and_writes_nothing() {
    let s = synced(Dialect::V2, 50, 5);
    let out = s.home.path().join("report.html");
    let out_arg = out.display().to_string();
    for args in [
        &[
            "report",
            "--html",
            &out_arg,
            "--from",
            "2026-02-01",
            "--to",
            "2026-01-01",
        ][..],
        &["report", "--html", &out_arg, "--from", "yesterday"],
        &["report", "--html", &out_arg, "--to", "2026-13-01"],
    ] {
        let output = s.v2_cmd(args).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!out.exists(), "{args:?}");
    }
    // No mirror there: one line, no page, no mirror made.
    let missing = s.home.path().join("nowhere.db");
    let output = s
        .home
        .cmd()
        .arg("--db")
        .arg(&missing)
        .args(["report", "--html", &out_arg])
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(one_line_stderr(&output).contains("nowhere.db"));
    assert!(!out.exists() && !missing.exists());
    s.v2_cmd(&["report", "--html", &out_arg]).assert().success();
    let page = std::fs::read_to_string(&out).expect("page");
    assert!(page.ends_with("</html>\n"));
}
