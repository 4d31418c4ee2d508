//! The HTML around the charts: one file with its style inline, no script, no font and no link
//! to fetch, readable on a phone (one column that wraps) and on paper (`@media print`).

use std::fmt::Write;

use rusqlite::types::Value;

use super::svg::{escape, number};
use super::{Drawn, Period};
use crate::query::{self, Rows};

const STYLE: &str = r#"
:root { color-scheme: light; --answered: #2e7d32; --missed: #c62828; --outgoing: #1565c0;
        --ink: #1d1d1f; --muted: #5f6368; --line: #dadce0; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0 auto; padding: 1rem; max-width: 60rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .25rem; border-bottom: 1px solid var(--line); }
p.meta, p.about { color: var(--muted); margin: .25rem 0 .75rem; }
.tiles { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; }
.tile { flex: 1 1 8rem; border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; }
.tile b { display: block; font-size: 1.4rem; }
.legend span { margin-right: 1rem; white-space: nowrap; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
svg.chart { width: 100%; min-width: 34rem; height: auto; display: block; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg text { font-size: 11px; fill: var(--muted); }
svg text.label, svg text.value { font-size: 12px; fill: var(--ink); }
.answered, .legend .answered { fill: var(--answered); background: var(--answered); }
.missed, .legend .missed { fill: var(--missed); background: var(--missed); }
.outgoing, .legend .outgoing { fill: var(--outgoing); background: var(--outgoing); }
svg .bar { fill: var(--outgoing); }
svg .line { fill: none; stroke: var(--outgoing); stroke-width: 2; }
svg .point { fill: var(--outgoing); }
svg .heat0 { fill: #f1f3f4; } svg .heat1 { fill: #f9c0b8; } svg .heat2 { fill: #ef8a7c; }
svg .heat3 { fill: #d9534f; } svg .heat4 { fill: #8e1b16; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; min-width: 50%; }
th, td { border-bottom: 1px solid var(--line); padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
details summary { cursor: pointer; color: var(--muted); }
p.empty { color: var(--muted); font-style: italic; }
@media print {
  body { max-width: none; font-size: 11pt; }
  section { break-inside: avoid; }
  details > *:not(summary) { display: block; }
  details summary { display: none; }
}
"#;

/// A table with more rows than this is folded away (print unfolds it).
const LONG_TABLE: usize = 15;

/// The whole page.
pub(super) fn render(title: &str, period: Period, generated: &str, sections: &[Drawn]) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>{title}</h1>\n<p class=\"meta\">{} to {} · made by sipmirror {} on {}</p>\n",
        period.from,
        period.to,
        env!("CARGO_PKG_VERSION"),
        escape(generated),
        title = escape(title),
    );
    tiles(&mut html, sections);
    for section in sections {
        section_html(&mut html, section);
    }
    html.push_str("</body>\n</html>\n");
    html
}

/// The period's totals, each the sum of a report's column.
fn tiles(html: &mut String, sections: &[Drawn]) {
    let rows_of = |name: &str| sections.iter().find(|s| s.report == name).map(|s| &s.rows);
    let sum = |name: &str, column: &str| {
        rows_of(name).map_or(0.0, |rows| {
            let Some(i) = rows.columns.iter().position(|c| c == column) else {
                return 0.0;
            };
            rows.rows.iter().map(|r| as_number(&r[i])).sum()
        })
    };
    let count = |name: &str| rows_of(name).map_or(0, |rows| rows.rows.len());
    let tiles = [
        ("answered", number(sum("calls_per_day", "incoming"))),
        ("missed", number(sum("calls_per_day", "missed"))),
        ("outgoing", number(sum("calls_per_day", "outgoing"))),
        (
            "hours talked",
            number((sum("calls_per_day", "talk_minutes") / 6.0).round() / 10.0),
        ),
        (
            "unheard voicemails",
            count("unheard_voicemails").to_string(),
        ),
        ("failed faxes", count("failed_faxes").to_string()),
    ];
    html.push_str("<div class=\"tiles\">");
    for (label, value) in tiles {
        let _ = write!(html, "<div class=\"tile\"><b>{value}</b>{label}</div>");
    }
    html.push_str("</div>\n");
}

fn section_html(html: &mut String, section: &Drawn) {
    let _ = write!(
        html,
        "<section id=\"{}\">\n<h2>{}</h2>\n<p class=\"about\">{}</p>\n",
        section.report,
        escape(section.heading),
        escape(&for_the_period(&section.description))
    );
    if section.rows.rows.is_empty() {
        html.push_str("<p class=\"empty\">Nothing in this period.</p>\n");
    }
    if let Some(chart) = section
        .chart
        .as_deref()
        .filter(|_| !section.rows.rows.is_empty())
    {
        if chart.contains("class=\"answered\"") || chart.contains("class=\"missed\"") {
            html.push_str(
                "<p class=\"legend\"><span><i class=\"answered\"></i>answered / received</span>\
                 <span><i class=\"missed\"></i>missed</span>\
                 <span><i class=\"outgoing\"></i>outgoing / sent</span></p>\n",
            );
        }
        // On a phone the chart keeps a readable size and scrolls sideways.
        let _ = writeln!(html, "<div class=\"scroll\">{chart}</div>");
        let _ = writeln!(
            html,
            "<details><summary>the numbers ({} rows; `sipmirror query {}`)</summary>",
            section.rows.rows.len(),
            section.report
        );
        table(html, section.report, &section.rows);
        html.push_str("</details>\n");
    } else if section.rows.rows.len() > LONG_TABLE {
        let _ = writeln!(
            html,
            "<details><summary>{} rows</summary>",
            section.rows.rows.len()
        );
        table(html, section.report, &section.rows);
        html.push_str("</details>\n");
    } else if !section.rows.rows.is_empty() {
        table(html, section.report, &section.rows);
    }
    html.push_str("</section>\n");
}

/// A report's description as the page says it: the page has a period where the report has
/// a number of days back.
fn for_the_period(description: &str) -> String {
    [
        "over the last `days` days",
        "in the last `days` days",
        "over the last `weeks` weeks",
    ]
    .iter()
    .fold(description.to_string(), |text, phrase| {
        text.replace(phrase, "in the period")
    })
}

/// A report's rows as they are, cell for cell what `sipmirror query NAME --format csv-raw`
/// prints.
fn table(html: &mut String, report: &str, rows: &Rows) {
    let _ = write!(
        html,
        "<div class=\"scroll\"><table data-report=\"{report}\">\n<thead><tr>"
    );
    for column in &rows.columns {
        let _ = write!(html, "<th>{}</th>", escape(column));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for row in &rows.rows {
        html.push_str("<tr>");
        for value in row {
            let class = match value {
                Value::Integer(_) | Value::Real(_) => " class=\"n\"",
                _ => "",
            };
            let _ = write!(html, "<td{class}>{}</td>", escape(&query::cell(value)));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table></div>\n");
}

fn as_number(value: &Value) -> f64 {
    match value {
        Value::Integer(n) => *n as f64,
        Value::Real(x) => *x,
        _ => 0.0,
    }
}
