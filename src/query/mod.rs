//! The SQL query layer: the named reports of `queries/` and ad-hoc SQL, run read-only.
//!
//! A report is one SELECT in `queries/NAME.sql` with a header of `--` comments:
//!
//! ```sql
//! -- title: Calls per day
//! -- What it answers, in a sentence or two (any number of lines).
//! -- param: days (integer, default 30): how many days back
//! -- param: with (text, required): a name or a number
//! SELECT ... WHERE created >= ... coalesce(:days, 30) ...
//! ```
//!
//! Parameters are named (`:days`). The SQL gives each optional one its default with
//! `coalesce(:days, 30)`, so the file runs as is in the `sqlite3` shell (where unset
//! parameters are NULL); `sipmirror query` binds what `--param` gives, checked against the
//! declared type, and refuses a missing required one.

pub mod datasette;
mod format;
mod report;
mod run;

pub use format::{Format, cell, write_rows};
pub use report::{Param, ParamType, Report};
pub use run::{Rows, run_report, run_sql};

/// The reports that ship with sipmirror, embedded from `queries/` (a test checks that the
/// list and the folder agree).
macro_rules! embedded_reports {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../queries/", $name, ".sql")))),*]
    };
}

pub const REPORT_SOURCES: &[(&str, &str)] = embedded_reports![
    "balance_history",
    "calls_now",
    "calls_per_day",
    "calls_per_group",
    "calls_per_week",
    "contacts_without_numbers",
    "events_per_label",
    "failed_faxes",
    "missed_calls_by_hour",
    "missed_calls_not_called_back",
    "missed_calls_per_user",
    "repeated_unknown_callers",
    "search",
    "shared_numbers",
    "sms_conversation",
    "sms_per_month",
    "talk_time_per_extension",
    "talk_time_per_user",
    "top_callees",
    "top_callers",
    "unheard_voicemails",
    "voucher_use",
];

/// Every embedded report, parsed. A malformed header is a bug caught by the tests, so it is
/// reported rather than hidden.
pub fn reports() -> crate::error::Result<Vec<Report>> {
    REPORT_SOURCES
        .iter()
        .map(|(name, sql)| Report::parse(name, sql))
        .collect()
}

/// The built-in reports and the user's own, `NAME.sql` files in `folder` with the same
/// header: listed and run beside the built-in ones; one with a built-in report's name takes
/// its place. A file that cannot be read or whose header is malformed is an error naming it.
pub fn all_reports(folder: Option<&std::path::Path>) -> crate::error::Result<Vec<Report>> {
    let mut all = reports()?;
    let Some(entries) = folder.and_then(|f| std::fs::read_dir(f).ok()) else {
        return Ok(all);
    };
    let mut paths: Vec<std::path::PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sql = std::fs::read_to_string(&path)
            .map_err(|e| crate::error::Error::usage(format!("report {}: {e}", path.display())))?;
        let mut report = Report::parse(&name, &sql)
            .map_err(|e| crate::error::Error::usage(format!("{} ({})", e, path.display())))?;
        report.file = Some(path);
        all.retain(|r| r.name != report.name);
        all.push(report);
    }
    Ok(all)
}

/// The report called `name`, or an error suggesting the closest names.
pub fn find(name: &str) -> crate::error::Result<Report> {
    find_in(reports()?, name)
}

/// The report called `name` among `all`, or an error suggesting the closest names.
pub fn find_in(all: Vec<Report>, name: &str) -> crate::error::Result<Report> {
    if let Some(report) = all.iter().find(|r| r.name == name) {
        return Ok(report.clone());
    }
    let mut close: Vec<(usize, &str)> = all
        .iter()
        .map(|r| (distance(name, &r.name), r.name.as_str()))
        .filter(|(d, candidate)| *d <= 3 || candidate.contains(name))
        .collect();
    close.sort();
    let hint = match close.first() {
        Some(_) => format!(
            "; did you mean {}?",
            close
                .iter()
                .take(3)
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "; `sipmirror query --list` shows them all".to_string(),
    };
    Err(crate::error::Error::usage(format!(
        "no report named {name:?}{hint}"
    )))
}

/// Levenshtein distance, for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_parses_and_declares_its_parameters() {
        for report in reports().unwrap() {
            assert!(!report.title.is_empty(), "{}", report.name);
            assert!(!report.description.is_empty(), "{}", report.name);
            for param in &report.params {
                assert!(
                    report.sql.contains(&format!(":{}", param.name)),
                    "{}: :{} unused",
                    report.name,
                    param.name
                );
            }
        }
    }

    #[test]
    fn unknown_names_get_suggestions() {
        let error = find("calls_per_dya").unwrap_err().to_string();
        assert!(error.contains("calls_per_day"), "{error}");
        let error = find("zzzzzzzzzzzz").unwrap_err().to_string();
        assert!(error.contains("--list"), "{error}");
    }
}
