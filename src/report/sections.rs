//! What the page shows: its sections in order, each a named report and how its rows are
//! drawn, and the drawing of rows into charts.

use rusqlite::types::Value;

use super::{Period, svg};
use crate::query::{self, Rows};

/// How a section draws its report's rows.
pub(super) enum Chart {
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

pub(super) struct Section {
    pub(super) report: &'static str,
    pub(super) heading: &'static str,
    pub(super) chart: Chart,
}

/// The call columns of `calls_per_day` and `calls_per_week`: column, legend, CSS class.
const CALLS: &[(&str, &str, &str)] = &[
    ("incoming", "answered", "answered"),
    ("missed", "missed", "missed"),
    ("outgoing", "outgoing", "outgoing"),
];

pub(super) const SECTIONS: &[Section] = &[
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

pub(super) fn chart(chart: &Chart, rows: &Rows, period: Period, title: &str) -> Option<String> {
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
