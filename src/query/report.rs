//! A named report: its header (title, description, parameters) and its SQL.

use serde::Serialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    Integer,
    Text,
    /// `YYYY-MM-DD`.
    Date,
}

#[derive(Debug, Clone, Serialize)]
pub struct Param {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// `None`: the parameter is required.
    pub default: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub name: String,
    pub title: String,
    pub description: String,
    pub params: Vec<Param>,
    #[serde(skip)]
    pub sql: String,
    /// Where a user's own report was read from; `None` for the built-in ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<std::path::PathBuf>,
}

impl Report {
    /// Parses the header comment of `queries/NAME.sql`.
    pub fn parse(name: &str, sql: &str) -> Result<Report> {
        let bad = |what: &str| Error::store(format!("report {name}: {what}"));
        let mut title = None;
        let mut description = Vec::new();
        let mut params = Vec::new();
        for line in sql.lines() {
            let Some(comment) = line.strip_prefix("--") else {
                break;
            };
            let comment = comment.trim();
            if let Some(rest) = comment.strip_prefix("title:") {
                title = Some(rest.trim().to_string());
            } else if let Some(rest) = comment.strip_prefix("param:") {
                params.push(parse_param(rest.trim()).map_err(|e| bad(&e))?);
            } else if !comment.is_empty() {
                description.push(comment.to_string());
            }
        }
        Ok(Report {
            name: name.to_string(),
            title: title.ok_or_else(|| bad("no `-- title:` line"))?,
            description: description.join(" "),
            params,
            sql: sql.to_string(),
            file: None,
        })
    }

    /// The value to bind for each declared parameter: the given one (checked), else the
    /// default. Unknown names and missing required parameters are usage errors.
    pub fn resolve_params(&self, given: &[(String, String)]) -> Result<Vec<(String, String)>> {
        for (key, _) in given {
            if !self.params.iter().any(|p| &p.name == key) {
                let known = match self.params.len() {
                    0 => "it takes none".to_string(),
                    _ => format!(
                        "it takes {}",
                        self.params
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Err(Error::usage(format!(
                    "report {} has no parameter {key:?}; {known}",
                    self.name
                )));
            }
        }
        let mut values = Vec::new();
        for param in &self.params {
            let value = given
                .iter()
                .rev()
                .find(|(k, _)| *k == param.name)
                .map(|(_, v)| v.clone())
                .or_else(|| param.default.clone());
            let Some(value) = value else {
                return Err(Error::usage(format!(
                    "report {} needs --param {}=... ({})",
                    self.name, param.name, param.description
                )));
            };
            check_value(&self.name, param, &value)?;
            values.push((param.name.clone(), value));
        }
        Ok(values)
    }
}

/// `days (integer, default 30): how many days back` or `with (text, required): ...`.
fn parse_param(text: &str) -> std::result::Result<Param, String> {
    let (name, rest) = text
        .split_once(" (")
        .ok_or_else(|| format!("param {text:?}: expected `NAME (TYPE, ...): description`"))?;
    let (spec, description) = rest
        .split_once("):")
        .ok_or_else(|| format!("param {name}: expected `): description`"))?;
    let mut parts = spec.split(',').map(str::trim);
    let kind = match parts.next() {
        Some("integer") => ParamType::Integer,
        Some("text") => ParamType::Text,
        Some("date") => ParamType::Date,
        other => return Err(format!("param {name}: unknown type {other:?}")),
    };
    let default = match parts.next() {
        Some("required") => None,
        // Optional with no value: bound as NULL, which the SQL reads as "not given".
        Some("default none") => Some(String::new()),
        Some(d) if d.starts_with("default ") => Some(d["default ".len()..].to_string()),
        other => {
            return Err(format!(
                "param {name}: expected `default VALUE` or `required`, not {other:?}"
            ));
        }
    };
    Ok(Param {
        name: name.trim().to_string(),
        kind,
        default,
        description: description.trim().to_string(),
    })
}

fn check_value(report: &str, param: &Param, value: &str) -> Result<()> {
    let ok = match param.kind {
        _ if value.is_empty() && param.default.as_deref() == Some("") => true,
        ParamType::Integer => value.trim().parse::<i64>().is_ok(),
        ParamType::Text => true,
        ParamType::Date => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
    };
    if ok {
        return Ok(());
    }
    let wanted = match param.kind {
        ParamType::Integer => "a whole number",
        ParamType::Text => "text",
        ParamType::Date => "a date like 2026-11-28",
    };
    Err(Error::usage(format!(
        "report {report}: --param {}={value:?} is not {wanted}",
        param.name
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQL: &str = "-- title: T\n-- What it does.\n-- param: days (integer, default 7): how far back\n-- param: with (text, required): who\nSELECT :days, :with";

    #[test]
    fn headers_and_parameters_are_parsed_and_checked() {
        let report = Report::parse("t", SQL).unwrap();
        assert_eq!(report.title, "T");
        assert_eq!(report.description, "What it does.");
        assert_eq!(report.params.len(), 2);
        assert_eq!(report.params[0].default.as_deref(), Some("7"));
        assert!(report.params[1].default.is_none());
        let values = report
            .resolve_params(&[("with".into(), "Anna".into())])
            .unwrap();
        assert_eq!(values[0], ("days".into(), "7".into()));
        let missing = report.resolve_params(&[]).unwrap_err().to_string();
        assert!(missing.contains("--param with="), "{missing}");
        let typed = report
            .resolve_params(&[("with".into(), "x".into()), ("days".into(), "many".into())])
            .unwrap_err()
            .to_string();
        assert!(typed.contains("whole number"), "{typed}");
        let unknown = report
            .resolve_params(&[("dayz".into(), "1".into())])
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("days, with"), "{unknown}");
        assert!(Report::parse("x", "SELECT 1").is_err());
    }
}
