//! The user documentation stays true: the README's configuration table lists every key the
//! config file takes, and the README stays short enough to read.

use std::path::PathBuf;

fn readme() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md");
    std::fs::read_to_string(path).expect("README.md")
}

/// The rows of the README's table under `## Configuration`.
fn configuration_rows(readme: &str) -> Vec<String> {
    readme
        .split("\n## Configuration")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_readme_configuration_table_lists_every_config_key() {
    let rows = configuration_rows(&readme());
    assert!(!rows.is_empty(), "no configuration table in the README");
    let missing: Vec<&str> = sipmirror::config::KEYS
        .iter()
        .map(|key| key.name)
        .filter(|name| {
            !rows.iter().any(|row| match name.split_once('.') {
                Some((section, key)) => {
                    row.contains(&format!("[{section}]"))
                        && (row.contains(&format!("] {key}`")) || row.contains(&format!("`{key}`")))
                }
                None => row.contains(&format!("`{name}`")),
            })
        })
        .collect();
    assert!(missing.is_empty(), "not in the README's table: {missing:?}");
}
