//! `sipmirror query NAME [--param KEY=VALUE]... [--format ...]` and `query --list`: the named
//! reports of `queries/`, on a read-only connection.

use crate::cli::QueryArgs;
use crate::config::Settings;
use crate::error::{ExitCode, Result};
use crate::output;
use crate::query::{self, Format, Rows};
use crate::store::{Access, Mirror};

pub fn run(settings: &Settings, args: &QueryArgs) -> Result<ExitCode> {
    let Some(name) = args.name.as_deref().filter(|_| !args.list) else {
        return list(settings);
    };
    let report = query::find(name)?;
    let values = report.resolve_params(&args.params)?;
    let mirror = Mirror::open(&settings.db_path, Access::ReadOnly)?;
    let rows = query::run_report(mirror.conn(), &report, &values)?;
    show(&mirror, &rows, args.format)
}

fn list(settings: &Settings) -> Result<ExitCode> {
    let reports = query::reports()?;
    if settings.json {
        output::json(&reports)?;
        return Ok(ExitCode::Ok);
    }
    let mut text = String::new();
    for report in &reports {
        text += &format!(
            "{}\n    {}: {}\n",
            report.name, report.title, report.description
        );
        for p in &report.params {
            let default = match &p.default {
                Some(d) => format!("default {d}"),
                None => "required".to_string(),
            };
            text += &format!(
                "    --param {}=...  ({default}) {}\n",
                p.name, p.description
            );
        }
    }
    text +=
        "\nEach is a file in queries/ that also runs as is: sqlite3 MIRROR.db < queries/NAME.sql\n";
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
