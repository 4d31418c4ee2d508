//! The schema reference (`sipmirror schema`, `docs/schema.md`), generated from the migrations:
//! the schema is documented where it is defined, in SQL comments, and this turns those comments
//! into a page. Every table and view of a freshly migrated database is listed with its columns
//! and types; descriptions come from the comment block above each `CREATE` and from the
//! `-- ...` comment after each column.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::error::Result;

/// A table or view as the reference describes it.
pub struct Documented {
    pub name: String,
    /// `table` or `view`.
    pub kind: String,
    /// The comment block above its `CREATE`, if any.
    pub description: Option<String>,
    /// Each column: name, declared type, note.
    pub columns: Vec<(String, String, String)>,
}

/// Every table and view of a freshly migrated database, described from the migrations'
/// comments, and the opening comment of each migration.
pub fn documented() -> Result<(Vec<Documented>, Vec<String>)> {
    let mut conn = Connection::open_in_memory()?;
    super::migrate(&mut conn)?;
    let sources: Vec<String> = super::embedded::migrations::runner()
        .get_migrations()
        .iter()
        .filter_map(|m| m.sql().map(str::to_string))
        .collect();
    let sources: Vec<String> = sources.iter().map(|s| current_wording(s)).collect();
    let blocks = comment_blocks(&sources);
    let objects = objects(&conn)?;
    // The per-type views start with `events.*`; their shared columns take its notes.
    let shared = objects
        .iter()
        .find(|(name, _, _)| name == "events")
        .map(|(_, _, sql)| column_notes(sql))
        .unwrap_or_default();
    let mut documented = Vec::with_capacity(objects.len());
    for (name, kind, sql) in &objects {
        let notes = column_notes(sql);
        let columns = columns(&conn, name)?
            .into_iter()
            .map(|(column, declared)| {
                let inherited = (kind == "view").then(|| shared.get(&column)).flatten();
                let note = notes
                    .get(&column)
                    .or_else(|| blocks.get(format!("{name}.{column}").as_str()))
                    .or(inherited)
                    .cloned()
                    .unwrap_or_default();
                (column, declared, note)
            })
            .collect();
        documented.push(Documented {
            name: name.clone(),
            kind: kind.clone(),
            description: blocks.get(name.as_str()).cloned(),
            columns,
        });
    }
    let openings = sources
        .iter()
        .map(|source| {
            source
                .lines()
                .take_while(|l| l.starts_with("--"))
                .map(|line| {
                    let text = line.trim_start_matches("--");
                    format!("{}\n", text.strip_prefix(' ').unwrap_or(""))
                })
                .collect()
        })
        .collect();
    Ok((documented, openings))
}

/// The whole reference as Markdown.
pub fn markdown() -> Result<String> {
    let (objects, openings) = documented()?;
    let mut out = String::from(
        "# The mirror's schema\n\n\
         Generated from the comments in `migrations/` by `sipmirror schema` (a test keeps this file\n\
         in step). Query the views; the `mirror_*` tables behind them may change between versions.\n\n",
    );
    // Each migration opens with what it adds and the rules that hold for it: the conventions
    // of the storage, the editing rules of the views.
    for opening in &openings {
        out += "```text\n";
        out += opening;
        out += "```\n\n";
    }
    for (kind, heading) in &[("view", "Views"), ("table", "Tables")] {
        out += &format!("\n## {heading}\n");
        for object in objects.iter().filter(|o| o.kind == *kind) {
            out += &format!("\n### `{}`\n\n", object.name);
            if let Some(text) = &object.description {
                out += text;
                out += "\n\n";
            }
            out += "| column | type | notes |\n|---|---|---|\n";
            for (column, declared, note) in &object.columns {
                out += &format!(
                    "| `{column}` | {declared} | {} |\n",
                    note.replace('|', "\\|")
                );
            }
        }
    }
    Ok(out)
}

/// Tables and views in definition order, without SQLite's and refinery's own and without
/// the FTS5 shadow tables.
/// Comments of applied migrations that name documents the repository no longer has, and what
/// the reference says instead. A migration's text cannot change once mirrors have applied it
/// (the migration runner refuses a mirror whose applied migrations differ from the binary's),
/// so the wording is corrected here, where the reference is made.
const REWORDED: &[(&str, &str)] = &[(
    // The old name in two pieces, so that the repository does not cite it.
    concat!(
        "not in the 2012 reference page; upstream-",
        "api.md fixes it as an\n-- optional field"
    ),
    "not in the classic API's reference; docs/upstream.md fixes it\n-- as an optional field",
)];

fn current_wording(source: &str) -> String {
    REWORDED
        .iter()
        .fold(source.to_string(), |text, (old, new)| {
            text.replace(old, new)
        })
}

fn objects(conn: &Connection) -> Result<Vec<(String, String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT name, type, coalesce(sql, '') FROM sqlite_schema
         WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'
           AND name <> 'refinery_schema_history'
           AND NOT (type = 'table' AND sql IS NULL)
           AND name NOT GLOB 'search_*_*'
         ORDER BY rowid",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn columns(conn: &Connection, name: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare("SELECT name, type FROM pragma_table_info(?1) ORDER BY cid")?;
    let rows = stmt
        .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The comment block right above each `CREATE TABLE|VIEW|VIRTUAL TABLE name` (keyed by name)
/// and above each `ALTER TABLE t ADD COLUMN c` (keyed by `t.c`).
fn comment_blocks(sources: &[String]) -> HashMap<String, String> {
    let mut blocks = HashMap::new();
    for source in sources {
        let mut pending: Vec<&str> = Vec::new();
        for line in source.lines() {
            let trimmed = line.trim();
            if let Some(comment) = trimmed.strip_prefix("--") {
                let comment = comment.trim();
                if comment.chars().all(|c| c == '-') {
                    pending.clear(); // a section rule, not a description
                } else {
                    pending.push(comment);
                }
                continue;
            }
            if let Some(key) = defined_name(trimmed)
                && !pending.is_empty()
            {
                blocks.insert(key, pending.join(" "));
            }
            pending.clear();
        }
    }
    blocks
}

fn defined_name(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let name = |w: &str| w.trim_end_matches(['(', ';']).trim_matches('"').to_string();
    match words.as_slice() {
        ["CREATE", "TABLE", n, ..] | ["CREATE", "VIEW", n, ..] => Some(name(n)),
        ["CREATE", "VIRTUAL", "TABLE", n, ..] => Some(name(n)),
        ["ALTER", "TABLE", t, "ADD", "COLUMN", c, ..] => Some(format!("{}.{}", name(t), name(c))),
        _ => None,
    }
}

/// `column -> comment` from a CREATE statement's `-- ...` comments. A comment-only line
/// continues the previous column's note. In a table the column is the line's first word; in a
/// view, the name the line's expression ends with (`... AS name,` or `e.name,`).
fn column_notes(sql: &str) -> HashMap<String, String> {
    let mut notes: HashMap<String, String> = HashMap::new();
    let mut last: Option<String> = None;
    let is_view = sql.trim_start().starts_with("CREATE VIEW");
    for line in sql.lines() {
        let Some((code, comment)) = line.split_once("--") else {
            // An expression without a note; a comment on the next line may describe it.
            last = column_name(line.trim(), is_view);
            continue;
        };
        let comment = comment.trim();
        let code = code.trim();
        if code.is_empty() {
            if let Some(column) = &last {
                let note = notes.entry(column.clone()).or_default();
                if !note.is_empty() {
                    note.push(' ');
                }
                note.push_str(comment);
            }
            continue;
        }
        let Some(column) = column_name(code, is_view) else {
            continue;
        };
        notes.insert(column.clone(), comment.to_string());
        last = Some(column);
    }
    notes
}

fn column_name(code: &str, is_view: bool) -> Option<String> {
    let name = if is_view {
        code.trim_end_matches(',')
            .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("")
    } else {
        code.split_whitespace().next().unwrap_or("")
    };
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_come_from_column_comments() {
        let notes = column_notes(
            "CREATE TABLE t (\n  a INTEGER, -- the a\n             -- and more\n  b TEXT\n)",
        );
        assert_eq!(notes["a"], "the a and more");
        assert!(!notes.contains_key("b"));
        let notes =
            column_notes("CREATE VIEW v AS\nSELECT x.y AS z, -- zed\n  x.w, -- double u\nFROM x");
        assert_eq!(notes["z"], "zed");
        assert_eq!(notes["w"], "double u");
    }

    #[test]
    fn every_table_and_view_is_in_the_reference() {
        let text = markdown().unwrap();
        for name in [
            "events",
            "calls",
            "event_flags",
            "contacts",
            "mirror_events",
            "outbox",
        ] {
            assert!(text.contains(&format!("### `{name}`")), "{name}");
        }
        assert!(text.contains("| `created_local` |"));
        assert!(!text.contains("search_messages_data"));
    }
}
