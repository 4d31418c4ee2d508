//! `sipmirror report --html`: one self-contained HTML page about a period of the account, for
//! people who would rather look than query. Every figure on it comes from a named report of
//! `queries/`, run with the page's period (`from`, `to`), so the page and `sipmirror query`
//! never disagree; each chart is followed by its report's rows as a table.

mod page;
mod sections;
pub mod svg;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use chrono::NaiveDate;
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::query::{self, Rows};
use crate::store::{Access, Mirror};
use sections::{SECTIONS, Section, chart};

/// The days the page covers, both included, in the mirror's local time.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

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
    let drawn: Mutex<Vec<Option<Drawn>>> = Mutex::new((0..SECTIONS.len()).map(|_| None).collect());
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, SECTIONS.len()) {
            scope.spawn(|| {
                let work = || -> Result<()> {
                    let mirror = Mirror::open(db, Access::ReadOnly)?;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(section) = SECTIONS.get(i) else {
                            return Ok(());
                        };
                        let section = draw(mirror.conn(), section, period)?;
                        lock(&drawn)[i] = Some(section);
                    }
                };
                if let Err(e) = work() {
                    lock(&failed).get_or_insert(e);
                }
            });
        }
    });
    if let Some(e) = lock(&failed).take() {
        return Err(e);
    }
    let drawn = lock(&drawn)
        .drain(..)
        .collect::<Option<Vec<Drawn>>>()
        .ok_or_else(|| Error::store("report: a section was not made"))?;
    Ok(page::render(title, period, generated, &drawn))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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
