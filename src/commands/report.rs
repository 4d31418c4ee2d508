//! `sipmirror report --html FILE [--from DATE] [--to DATE] [--title TEXT]`: the HTML page of a
//! period, read from the mirror on a read-only connection and written whole (a reader of FILE
//! never sees half a page).

use chrono::NaiveDate;

use crate::cli::ReportArgs;
use crate::config::Settings;
use crate::error::{Error, ExitCode, Result};
use crate::report::{self, Period};
use crate::{fsutil, output};

/// The default period: 90 days, today included.
const DEFAULT_DAYS: u64 = 90;

pub fn run(settings: &Settings, args: &ReportArgs) -> Result<ExitCode> {
    let now = chrono::Utc::now().with_timezone(&settings.timezone);
    let to = match &args.to {
        Some(text) => date("--to", text)?,
        None => now.date_naive(),
    };
    let from = match &args.from {
        Some(text) => date("--from", text)?,
        None => to - chrono::Days::new(DEFAULT_DAYS - 1),
    };
    if from > to {
        return Err(Error::usage(format!(
            "--from {from} is after --to {to}; the period runs from the first to the last day"
        )));
    }
    let title = args
        .title
        .clone()
        .unwrap_or_else(|| format!("sipgate account, {from} to {to}"));
    let generated = now.format("%Y-%m-%d %H:%M %Z").to_string();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let page = report::html_parallel(
        &settings.db_path,
        threads,
        Period { from, to },
        &title,
        &generated,
    )?;
    if args.html.as_os_str() == "-" {
        output::write_bytes(page.as_bytes())?;
    } else {
        fsutil::write_atomic(&args.html, page.as_bytes())?;
        if !settings.quiet {
            eprintln!(
                "wrote {} ({} KiB) for {from} to {to}",
                args.html.display(),
                page.len().div_ceil(1024)
            );
        }
    }
    Ok(ExitCode::Ok)
}

fn date(flag: &str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        Error::usage(format!(
            "{flag} {:?} is not a date like 2026-11-28",
            crate::error::one_line(text)
        ))
    })
}
