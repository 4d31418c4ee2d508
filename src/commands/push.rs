//! `sipmirror push [--dry-run]`: replay pending local edits upstream. Quiet on success unless
//! asked, like `sync`.

use crate::api::Upstream;
use crate::config::Settings;
use crate::error::{ExitCode, Result};
use crate::output;
use crate::push::{self, PushReport};
use crate::store::outbox::Entry;
use crate::store::{Access, Mirror};

pub fn run(settings: &Settings, dry_run: bool, wait: bool) -> Result<ExitCode> {
    if dry_run {
        let mirror = Mirror::open(&settings.db_path, Access::ReadOnly)?;
        let report = push::plan(&mirror)?;
        if settings.json {
            output::json(&report)?;
        } else {
            print_plan(&report)?;
        }
        return Ok(ExitCode::Ok);
    }
    let upstream = Upstream::connect(settings)?;
    let _lock = super::writer_lock(settings, "push", wait)?;
    let mut mirror = Mirror::open(&settings.db_path, Access::Existing)?;
    crate::sync::check_feeding_api(&mirror, settings.connection.api, false)?;
    let report = push::run(&mut mirror, settings, &upstream)?;
    report_outcome(settings, &report)
}

/// Prints the report as asked and turns undone edits into one stderr line and exit code 3.
fn report_outcome(settings: &Settings, report: &PushReport) -> Result<ExitCode> {
    if settings.json {
        output::json(report)?;
    } else if settings.verbose > 0 {
        output::line(&report.summary())?;
    }
    match report.problem() {
        Some(problem) => {
            eprintln!("sipmirror: {problem}");
            Ok(ExitCode::Partial)
        }
        None => Ok(ExitCode::Ok),
    }
}

fn print_plan(report: &PushReport) -> Result<()> {
    if report.planned.is_empty() && report.planned_sends.is_empty() {
        output::line("Nothing to push.")?;
    }
    for entry in &report.planned {
        output::line(&format!("would push: {}", describe(entry)))?;
    }
    for send in &report.planned_sends {
        output::line(&format!(
            "would send: {}",
            crate::store::sends::describe(send)
        ))?;
    }
    if report.waiting > 0 {
        output::line(&format!(
            "{} edits wait for a retry time (see `sipmirror outbox list`)",
            report.waiting
        ))?;
    }
    if report.failed_in_outbox > 0 {
        output::line(&format!(
            "{} failed edits are not pushed until `sipmirror outbox retry ID`",
            report.failed_in_outbox
        ))?;
    }
    Ok(())
}

/// `event 123 (voicemail): read 0 -> 1`.
pub(crate) fn describe(entry: &Entry) -> String {
    format!(
        "event {} ({}): {} {} -> {}",
        entry.event_id,
        entry.kind,
        entry.field.name(),
        shown(entry.base.as_deref().unwrap_or("?")),
        shown(&entry.value)
    )
}

fn shown(value: &str) -> String {
    if value.is_empty() {
        "''".to_string()
    } else {
        value.to_string()
    }
}
