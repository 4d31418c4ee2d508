//! `sipmirror sync`: push pending local edits, then pull the upstream into the mirror. Quiet on success unless asked, so cron
//! mails only when something is wrong.

use crate::api::Upstream;
use crate::cli::SyncArgs;
use crate::config::{MediaFetch, Settings};
use crate::error::{ExitCode, Result};
use crate::media;
use crate::output;
use crate::progress::Progress;
use crate::push;
use crate::store::{Access, Mirror};
use crate::sync::{self, Stream, SyncOptions, SyncReport};

pub fn run(settings: &Settings, args: &SyncArgs) -> Result<ExitCode> {
    if args.switch_api && !args.full {
        return Err(crate::error::Error::usage(
            "--switch-api needs --full: the new API's records are listed completely",
        ));
    }
    let mut options = SyncOptions {
        full: args.full,
        only: args
            .only
            .as_deref()
            .map(Stream::parse_list)
            .transpose()?
            .unwrap_or_default(),
        force_delete: args.force_delete,
        switch_api: args.switch_api,
    };
    crate::interrupt::install();
    refuse_a_missing_folder(settings)?;
    // Credentials first: a sync that cannot talk to upstream leaves no mirror file behind.
    let upstream = Upstream::connect(settings)?;
    let _lock = super::writer_lock(settings, "sync", args.wait)?;
    let mut mirror = Mirror::open(&settings.db_path, Access::ReadWrite)?;
    if sync::check_feeding_api(&mirror, settings.connection.api, args.switch_api)? {
        // What the old API listed and the new one does not is gone, by the user's choice; a
        // switch that was interrupted is continued the same way by whatever run comes next.
        options.force_delete = true;
        options.full = true;
        options.switch_api = true;
    }
    // Push first: the pull then reads upstream with the local edits in it.
    let pushed = match args.no_push {
        true => None,
        false => Some(push::run(&mut mirror, settings, &upstream)?),
    };
    let progress = Progress::new(!settings.quiet && !settings.json);
    let mut report = sync::run(&mut mirror, settings, &upstream, &options, &progress)?;
    report.push = pushed;
    let fetch = if args.media {
        MediaFetch::All
    } else {
        settings.media.fetch
    };
    if fetch != MediaFetch::None || settings.media.prune {
        report.media = Some(media::run(
            &mut mirror,
            settings,
            &upstream,
            fetch,
            &progress,
        )?);
    }
    // Measured last, so it covers the push, the pull and the media.
    report.peak_memory_kib = sync::peak_memory_kib();
    report_outcome(settings, &report)
}

/// Prints what a run did (JSON, or a summary with `-v`) and turns failures into one line on
/// stderr and the exit code.
pub(crate) fn report_outcome(settings: &Settings, report: &SyncReport) -> Result<ExitCode> {
    if settings.json {
        output::json(report)?;
    } else if settings.verbose > 0 {
        output::line(&report.summary())?;
    }
    if let Some(behind) = report.clock_behind_s {
        eprintln!(
            "sipmirror: warning: this machine's clock is {behind} s behind upstream's (its answers' Date); entries created in that time are listed by the next run. Set the clock right (NTP)."
        );
    }
    let push_problem = report.push.as_ref().and_then(|p| p.problem());
    if let Some(problem) = &push_problem {
        eprintln!("sipmirror: push: {problem}");
    }
    let media_failed = report.media.as_ref().filter(|m| m.failed > 0);
    if let Some(media) = media_failed {
        let first = media.errors.first().map(String::as_str).unwrap_or("");
        eprintln!(
            "sipmirror: media: {} downloads failed (they are tried again next run); first: {first}",
            media.failed
        );
    }
    let some_failed = push_problem.is_some() || media_failed.is_some();
    let failed: Vec<_> = report.failed_streams().collect();
    let Some(first) = failed.first() else {
        return Ok(if some_failed {
            ExitCode::Partial
        } else {
            ExitCode::Ok
        });
    };
    let more = match failed.len() {
        1 => String::new(),
        n => format!(
            " (and {} more streams failed; see `sipmirror status`)",
            n - 1
        ),
    };
    // A token made without some scopes fails one stream at a time: the doctor names them all.
    let scopes = failed
        .iter()
        .any(|s| s.error.as_deref().is_some_and(|e| e.contains("scope")));
    let doctor = if scopes {
        "; `sipmirror doctor` lists every scope the token lacks"
    } else {
        ""
    };
    eprintln!(
        "sipmirror: {}: {}{more}{doctor}",
        first.stream,
        first.error.as_deref().unwrap_or("failed")
    );
    let gaps_only = failed.iter().all(|s| s.incomplete);
    Ok(if failed.len() == report.streams.len() && !gaps_only {
        ExitCode::Failed
    } else {
        ExitCode::Partial
    })
}

/// A mirror path whose folder does not exist is a typo more often than a wish: a cron job
/// would otherwise grow a new, empty mirror somewhere else every time. Only the default place
/// is made as needed; `init` makes any.
fn refuse_a_missing_folder(settings: &Settings) -> Result<()> {
    let path = &settings.db_path;
    let is_default = crate::config::default_db_path().is_ok_and(|d| d == *path);
    match path.parent().filter(|f| !f.as_os_str().is_empty()) {
        Some(folder) if !folder.exists() && !is_default => {
            Err(crate::error::Error::usage(format!(
                "{}: the folder {} does not exist; check the path, or create the mirror there with `sipmirror --db {} init`",
                path.display(),
                folder.display(),
                path.display()
            )))
        }
        _ => Ok(()),
    }
}
