//! `sipmirror report --html`: one self-contained HTML page about a period of the account, for
//! people who would rather look than query. Every figure on it comes from a named report of
//! `queries/`, run with the page's period (`from`, `to`), so the page and `sipmirror query`
//! never disagree; each chart is followed by its report's rows as a table.

mod page;
pub mod svg;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use chrono::NaiveDate;
use rusqlite::Connection;
use rusqlite::types::Value;

use crate::error::Result;
use crate::query::{self, Rows};
use crate::store::{Access, Mirror};

/// The days the page covers, both included, in the mirror's local time.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// How a section draws its report's rows.
enum Chart {
    /// Stacked bars over the label column; `fill_days` adds the days without a row as zero.
    Stacked {
        label: &'static str,
        series: &'static [(&'static str, &'static str, &'static str)],
        fill_days: bool,
    },
    /// A bar per row: its label column, its value column and the value's unit.
    Bars {
        label: &'static str,
        value: &'static str,
        unit: &'static str,
    },
    /// `weekday` (1–7), `hour` (0–23) and `missed`.
    Heatmap,
    /// A line through `value` over `label`, oldest first.
    Line {
        label: &'static str,
        value: &'static str,
    },
    /// The table alone.
    Table,
}

struct Section {
    report: &'static str,
    heading: &'static str,
    chart: Chart,
}

/// The call columns of `calls_per_day` and `calls_per_week`: column, legend, CSS class.
const CALLS: &[(&str, &str, &str)] = &[
    ("incoming", "answered", "answered"),
    ("missed", "missed", "missed"),
    ("outgoing", "outgoing", "outgoing"),
];

const SECTIONS: &[Section] = &[
    Section {
        report: "calls_per_day",
        heading: "Calls per day",
        chart: Chart::Stacked {
            label: "day",
            series: CALLS,
            fill_days: true,
        },
    },
    Section {
        report: "calls_per_week",
        heading: "Calls per week",
        chart: Chart::Stacked {
            label: "week_starting",
            series: CALLS,
            fill_days: false,
        },
    },
    Section {
        report: "missed_calls_by_hour",
        heading: "Missed calls by hour of the week",
        chart: Chart::Heatmap,
    },
    Section {
        report: "talk_time_per_user",
        heading: "Talk time per user",
        chart: Chart::Bars {
            label: "user",
            value: "talk_minutes",
            unit: "min",
        },
    },
    Section {
        report: "talk_time_per_extension",
        heading: "Talk time per line",
        chart: Chart::Bars {
            label: "name",
            value: "talk_minutes",
            unit: "min",
        },
    },
    Section {
        report: "missed_calls_per_user",
        heading: "Missed calls per user",
        chart: Chart::Bars {
            label: "user",
            value: "missed",
            unit: "missed",
        },
    },
    Section {
        report: "calls_per_group",
        heading: "Calls per group",
        chart: Chart::Bars {
            label: "group",
            value: "calls",
            unit: "calls",
        },
    },
    Section {
        report: "top_callers",
        heading: "Busiest callers",
        chart: Chart::Bars {
            label: "caller",
            value: "calls",
            unit: "calls",
        },
    },
    Section {
        report: "unheard_voicemails",
        heading: "Unheard voicemails",
        chart: Chart::Table,
    },
    Section {
        report: "failed_faxes",
        heading: "Failed faxes",
        chart: Chart::Table,
    },
    Section {
        report: "sms_per_month",
        heading: "SMS per month",
        chart: Chart::Stacked {
            label: "month",
            series: &[
                ("sent", "sent", "outgoing"),
                ("received", "received", "answered"),
            ],
            fill_days: false,
        },
    },
    Section {
        report: "balance_history",
        heading: "Balance",
        chart: Chart::Line {
            label: "observed_at",
            value: "balance",
        },
    },
];

/// A section as drawn: its report, chart and rows.
struct Drawn {
    report: &'static str,
    heading: &'static str,
    description: String,
    chart: Option<String>,
    rows: Rows,
}

/// Builds the page for `period` from the mirror behind `conn` (read-only), one report after
/// the other.
pub fn html(conn: &Connection, period: Period, title: &str, generated: &str) -> Result<String> {
    let drawn = SECTIONS
        .iter()
        .map(|section| draw(conn, section, period))
        .collect::<Result<Vec<_>>>()?;
    Ok(page::render(title, period, generated, &drawn))
}

/// The same, with the reports shared out over `threads` read-only connections to the mirror
/// at `db`: they are independent, and a large mirror's page takes half the time on two cores.
/// Each section is consistent in itself; a sync that commits while the page is made can show
/// in the sections read after it, as in two `sipmirror query` runs.
pub fn html_parallel(
    db: &Path,
    threads: usize,
    period: Period,
    title: &str,
    generated: &str,
) -> Result<String> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Drawn>>>> =
        Mutex::new((0..SECTIONS.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, SECTIONS.len()) {
            scope.spawn(|| {
                let mirror = match Mirror::open(db, Access::ReadOnly) {
                    Ok(mirror) => mirror,
                    Err(e) => {
                        store(&results, next.fetch_add(1, Ordering::Relaxed), Err(e));
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(section) = SECTIONS.get(i) else {
                        return;
                    };
                    store(&results, i, draw(mirror.conn(), section, period));
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(PoisonError::into_inner);
    let mut drawn = Vec::with_capacity(SECTIONS.len());
    for result in results {
        match result {
            Some(section) => drawn.push(section?),
            // Only when a thread could not open the mirror; its error is stored above.
            None => continue,
        }
    }
    if drawn.len() < SECTIONS.len() {
        return Err(crate::error::Error::store(
            "report: a section could not be made".to_string(),
        ));
    }
    Ok(page::render(title, period, generated, &drawn))
}

fn store(results: &Mutex<Vec<Option<Result<Drawn>>>>, i: usize, result: Result<Drawn>) {
    let mut results = results.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(slot) = results.get_mut(i) {
        *slot = Some(result);
    } else if let (Err(e), Some(first)) = (result, results.first_mut()) {
        // Every section was taken: the error still has to reach the caller.
        *first = Some(Err(e));
    }
}

/// Runs a section's report for the period and draws its chart.
fn draw(conn: &Connection, section: &Section, period: Period) -> Result<Drawn> {
    let report = query::find(section.report)?;
    let given = [
        ("from".to_string(), period.from.to_string()),
        ("to".to_string(), period.to.to_string()),
    ];
    let takes = |name: &str| report.params.iter().any(|p| p.name == name);
    let given: Vec<(String, String)> = given.into_iter().filter(|(name, _)| takes(name)).collect();
    let values = report.resolve_params(&given)?;
    let rows = query::run_report(conn, &report, &values)?;
    Ok(Drawn {
        report: section.report,
        heading: section.heading,
        description: report.description.clone(),
        chart: chart(&section.chart, &rows, period, section.heading),
        rows,
    })
}

fn chart(chart: &Chart, rows: &Rows, period: Period, title: &str) -> Option<String> {
    match chart {
        Chart::Stacked {
            label,
            series,
            fill_days,
        } => {
            let mut labels = texts(rows, label);
            let mut columns: Vec<Vec<f64>> = series
                .iter()
                .map(|(column, _, _)| numbers(rows, column))
                .collect();
            if *fill_days {
                (labels, columns) = every_day(period, &labels, &columns);
            }
            let series: Vec<svg::Series> = series
                .iter()
                .zip(columns)
                .map(|((_, name, class), values)| svg::Series {
                    name,
                    class,
                    values,
                })
                .collect();
            Some(svg::stacked_bars(title, &labels, &series))
        }
        Chart::Bars { label, value, unit } => {
            let bars: Vec<(String, f64)> = texts(rows, label)
                .into_iter()
                .zip(numbers(rows, value))
                .collect();
            (!bars.is_empty()).then(|| svg::horizontal_bars(title, &bars, unit))
        }
        Chart::Heatmap => {
            let mut cells = [[0.0; 24]; 7];
            for ((day, hour), missed) in numbers(rows, "weekday")
                .into_iter()
                .zip(numbers(rows, "hour"))
                .zip(numbers(rows, "missed"))
            {
                if (1.0..=7.0).contains(&day) && (0.0..24.0).contains(&hour) {
                    cells[day as usize - 1][hour as usize] = missed;
                }
            }
            Some(svg::heatmap(title, &cells))
        }
        Chart::Line { label, value } => {
            // The report lists the newest first; the line runs left to right in time.
            let mut points: Vec<(String, f64)> = texts(rows, label)
                .into_iter()
                .zip(numbers(rows, value))
                .collect();
            points.reverse();
            (points.len() > 1).then(|| svg::line(title, &points))
        }
        Chart::Table => None,
    }
}

/// Every day of the period, with the report's values where it has a row and zero elsewhere.
fn every_day(
    period: Period,
    labels: &[String],
    columns: &[Vec<f64>],
) -> (Vec<String>, Vec<Vec<f64>>) {
    let days: Vec<String> = period
        .from
        .iter_days()
        .take_while(|d| *d <= period.to)
        .map(|d| d.to_string())
        .collect();
    let filled = columns
        .iter()
        .map(|values| {
            days.iter()
                .map(|day| {
                    labels
                        .iter()
                        .position(|l| l == day)
                        .and_then(|i| values.get(i).copied())
                        .unwrap_or(0.0)
                })
                .collect()
        })
        .collect();
    (days, filled)
}

fn index(rows: &Rows, column: &str) -> Option<usize> {
    rows.columns.iter().position(|c| c == column)
}

fn texts(rows: &Rows, column: &str) -> Vec<String> {
    let Some(i) = index(rows, column) else {
        return Vec::new();
    };
    rows.rows.iter().map(|r| query::cell(&r[i])).collect()
}

fn numbers(rows: &Rows, column: &str) -> Vec<f64> {
    let Some(i) = index(rows, column) else {
        return Vec::new();
    };
    rows.rows
        .iter()
        .map(|r| match &r[i] {
            Value::Integer(n) => *n as f64,
            Value::Real(x) => *x,
            _ => 0.0,
        })
        .collect()
}
