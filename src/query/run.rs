//! Running a report or ad-hoc SQL on a read-only connection.

use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode};

use super::report::{ParamType, Report};
use crate::error::{Error, Result, one_line};

/// A result: column names and rows.
#[derive(Debug, Clone)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// Runs `report` with resolved parameter values (see [`Report::resolve_params`]).
pub fn run_report(conn: &Connection, report: &Report, values: &[(String, String)]) -> Result<Rows> {
    execute(conn, &report.sql, |name| {
        let param = report.params.iter().find(|p| p.name == name)?;
        let (_, text) = values.iter().find(|(k, _)| *k == name)?;
        Some(match param.kind {
            _ if text.is_empty() && param.default.as_deref() == Some("") => Value::Null,
            ParamType::Integer => text
                .trim()
                .parse::<i64>()
                .map(Value::Integer)
                .unwrap_or(Value::Null),
            ParamType::Text | ParamType::Date => Value::Text(text.clone()),
        })
    })
    .map_err(|e| e.context(format!("report {}", report.name)))
}

/// Runs one statement given on the command line. Parameters in it stay NULL.
pub fn run_sql(conn: &Connection, sql: &str) -> Result<Rows> {
    execute(conn, sql, |_| None)
}

fn execute(conn: &Connection, sql: &str, value_of: impl Fn(&str) -> Option<Value>) -> Result<Rows> {
    let mut stmt = conn.prepare(sql).map_err(|e| sql_error(sql, e))?;
    if !stmt.readonly() {
        return Err(read_only_refusal());
    }
    for index in 1..=stmt.parameter_count() {
        let value = stmt
            .parameter_name(index)
            .map(|n| n.trim_start_matches([':', '@', '$']).to_string())
            .and_then(|name| value_of(&name))
            .unwrap_or(Value::Null);
        stmt.raw_bind_parameter(index, value)
            .map_err(|e| sql_error(sql, e))?;
    }
    let columns: Vec<String> = stmt.column_names().map(str::to_string).collect();
    let width = columns.len();
    let mut rows = Vec::new();
    let mut cursor = stmt.raw_query();
    while let Some(row) = cursor.next().map_err(|e| sql_error(sql, e))? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(row.get::<_, Value>(i).map_err(|e| sql_error(sql, e))?);
        }
        rows.push(values);
    }
    Ok(Rows { columns, rows })
}

fn read_only_refusal() -> Error {
    Error::usage(
        "queries are read-only and cannot change the mirror; edit events with `sipmirror event ...` or in the sqlite3 shell",
    )
}

/// SQL mistakes are the user's: one line, with the position of the error where SQLite knows it.
fn sql_error(sql: &str, error: rusqlite::Error) -> Error {
    match &error {
        rusqlite::Error::SqlInputError { msg, offset, .. } if *offset >= 0 => {
            let offset = *offset as usize;
            let column = sql
                .get(..offset.min(sql.len()))
                .map(|before| before.chars().count() + 1)
                .unwrap_or(offset + 1);
            let near: String = sql
                .get(offset.min(sql.len())..)
                .unwrap_or("")
                .chars()
                .take(20)
                .collect();
            Error::usage(format!(
                "SQL error at character {column} (near {:?}): {}",
                one_line(&near),
                one_line(msg)
            ))
        }
        rusqlite::Error::SqlInputError { msg, .. } => {
            Error::usage(format!("SQL error: {}", one_line(msg)))
        }
        rusqlite::Error::MultipleStatement => {
            Error::usage("give one statement at a time (found more than one)")
        }
        rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::ReadOnly => {
            read_only_refusal()
        }
        rusqlite::Error::SqliteFailure(_, Some(msg)) => {
            Error::usage(format!("SQL error: {}", one_line(msg)))
        }
        _ => Error::from(error),
    }
}
