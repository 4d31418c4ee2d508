//! Metadata for Datasette (`datasette serve mirror.db -m metadata.json`), as the dogsheep tools
//! ship it: every report as a canned query with its title, description and parameters, the
//! public views described column by column, the internal tables hidden.

use serde_json::{Map, Value, json};

use super::Report;
use crate::store::schema_doc::Documented;

/// The metadata for a mirror Datasette will call `database` (the file name without `.db`).
pub fn metadata(database: &str, reports: &[Report], schema: &[Documented]) -> Value {
    let mut tables = Map::new();
    for object in schema {
        let entry = if object.kind == "table" {
            // The views are the interface; the tables behind them change between versions.
            json!({"hidden": true})
        } else {
            let columns: Map<String, Value> = object
                .columns
                .iter()
                .filter(|(_, _, note)| !note.is_empty())
                .map(|(name, _, note)| (name.clone(), Value::from(note.as_str())))
                .collect();
            json!({
                "description": object.description.clone().unwrap_or_default(),
                "columns": columns,
            })
        };
        tables.insert(object.name.clone(), entry);
    }
    // The migration runner's own table.
    tables.insert(
        "refinery_schema_history".to_string(),
        json!({"hidden": true}),
    );
    let queries: Map<String, Value> = reports
        .iter()
        .map(|report| {
            let params: Vec<&str> = report.params.iter().map(|p| p.name.as_str()).collect();
            (
                report.name.clone(),
                json!({
                    "sql": for_blank_fields(report),
                    "title": report.title,
                    "description": describe(report),
                    "params": params,
                }),
            )
        })
        .collect();
    json!({
        "title": "sipgate account (sipmirror)",
        "description": "A local mirror of a sipgate account, kept by sipmirror. Query the views; \
                        the canned queries are sipmirror's named reports.",
        "databases": {
            database: {
                "tables": tables,
                "queries": queries,
            }
        }
    })
}

/// The description with each parameter's meaning and default, as Datasette shows no more
/// than the parameter's name beside its field.
fn describe(report: &Report) -> String {
    let mut text = report.description.clone();
    for p in &report.params {
        let default = match p.default.as_deref() {
            None => "required".to_string(),
            Some("") => "optional".to_string(),
            Some(d) => format!("blank means {d}"),
        };
        text += &format!(" · {}: {} ({default})", p.name, p.description);
    }
    text
}

/// The report's SQL with each of its parameters read as NULL when blank: Datasette sends an
/// empty field as '', where `sipmirror query` and sqlite3 leave it NULL, which the reports'
/// `coalesce(:days, 30)` defaults are written for.
pub fn for_blank_fields(report: &Report) -> String {
    let sql = &report.sql;
    let mut out = String::with_capacity(sql.len() + 64);
    let mut rest = sql.as_str();
    while let Some(at) = rest.find(':') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        if report.params.iter().any(|p| p.name == name) {
            out.push_str(&format!("nullif(:{name}, '')"));
        } else {
            out.push(':');
            out.push_str(name);
        }
        rest = &after[name_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_declared_parameters_are_wrapped() {
        let report = Report::parse(
            "r",
            "-- title: R\n-- param: days (integer, default 30): d\n\
             SELECT strftime('%H:%M', 'now'), coalesce(:days, 30), :days_other",
        )
        .expect("report");
        let sql = for_blank_fields(&report);
        assert!(sql.contains("coalesce(nullif(:days, ''), 30)"), "{sql}");
        assert!(
            sql.contains("'%H:%M'") && sql.contains(":days_other"),
            "{sql}"
        );
    }
}
