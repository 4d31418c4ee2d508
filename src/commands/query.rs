//! `sipmirror query NAME [--param KEY=VALUE]... [--format ...]`, `query --list` and
//! `query --show NAME`: the named reports of `queries/` and the user's own in
//! `$XDG_CONFIG_HOME/sipmirror/queries/`, on a read-only connection.

use crate::cli::QueryArgs;
use crate::config::Settings;
use crate::error::{ExitCode, Result};
use crate::output;
use crate::query::{self, Format, Rows};
use crate::store::{Access, Mirror};

/// Where a user keeps reports of their own: `queries/` beside the config file.
pub(crate) fn user_folder() -> Option<std::path::PathBuf> {
    crate::config::default_config_path()
        .and_then(|config| config.parent().map(|dir| dir.join("queries")))
}

pub fn run(settings: &Settings, args: &QueryArgs) -> Result<ExitCode> {
    let folder = user_folder();
    let reports = query::all_reports(folder.as_deref())?;
    let Some(name) = args.name.as_deref().filter(|_| !args.list) else {
        return list(settings, &reports, folder.as_deref());
    };
    let report = query::find_in(reports, name)?;
    if args.show {
        output::write_bytes(report.sql.as_bytes())?;
        return Ok(ExitCode::Ok);
    }
    let values = report.resolve_params(&args.params)?;
    let mirror = Mirror::open(&settings.db_path, Access::ReadOnly)?;
    let rows = query::run_report(mirror.conn(), &report, &values)?;
    show(&mirror, &rows, output_format(settings, args.format)?)
}

/// `--json` asks for the JSON format; with another `--format` it is a contradiction.
pub(crate) fn output_format(settings: &Settings, format: Format) -> Result<Format> {
    use clap::ValueEnum;
    match format {
        _ if !settings.json => Ok(format),
        Format::Table | Format::Json => Ok(Format::Json),
        other => Err(crate::error::Error::usage(format!(
            "--json and --format {} contradict each other; give one",
            other
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_string())
        ))),
    }
}

fn list(
    settings: &Settings,
    reports: &[query::Report],
    folder: Option<&std::path::Path>,
) -> Result<ExitCode> {
    if settings.json {
        output::json(&reports)?;
        return Ok(ExitCode::Ok);
    }
    let mut text = String::new();
    for report in reports {
        let origin = report
            .file
            .as_ref()
            .map(|f| format!(" (yours: {})", f.display()))
            .unwrap_or_default();
        text += &format!(
            "{}{origin}\n    {}: {}\n",
            report.name, report.title, report.description
        );
        for p in &report.params {
            let default = match &p.default {
                Some(d) if d.is_empty() => "optional".to_string(),
                Some(d) => format!("default {d}"),
                None => "required".to_string(),
            };
            text += &format!(
                "    --param {}=...  ({default}) {}\n",
                p.name, p.description
            );
        }
    }
    text += "\nEach runs as is in sqlite3 too: `sipmirror query --show NAME > NAME.sql`, then\n`sqlite3 MIRROR.db < NAME.sql`.";
    if let Some(folder) = folder {
        text += &format!(
            " Your own reports, with the same header, go in {}.",
            folder.display()
        );
    }
    text += "\n";
    output::write_bytes(text.as_bytes())?;
    Ok(ExitCode::Ok)
}

/// Prints the rows; an empty result on an empty mirror says why.
pub(crate) fn show(mirror: &Mirror, rows: &Rows, format: Format) -> Result<ExitCode> {
    let width = console::Term::stdout()
        .size_checked()
        .map(|(_, columns)| usize::from(columns));
    query::write_rows(rows, format, width)?;
    if rows.rows.is_empty() && format == Format::Table {
        let synced: bool =
            mirror
                .conn()
                .query_row("SELECT EXISTS (SELECT 1 FROM sync_runs)", [], |r| r.get(0))?;
        if synced {
            output::line("(no rows)")?;
        } else {
            output::line("(no rows: the mirror is empty; run `sipmirror sync` first)")?;
        }
    }
    Ok(ExitCode::Ok)
}
