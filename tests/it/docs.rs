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

#[test]
fn the_readme_is_short_and_every_relative_link_in_the_docs_leads_somewhere() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = readme();
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; details go in docs/"
    );
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let mut broken = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("page");
        for link in text.split("](").skip(1) {
            let target = link.split(')').next().unwrap_or_default();
            let file = target.split('#').next().unwrap_or_default();
            if file.is_empty() || file.contains("://") || file.starts_with("mailto:") {
                continue;
            }
            let base = page.parent().expect("folder");
            if !base.join(file).exists() {
                broken.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(broken.is_empty(), "links to nothing: {broken:?}");
}
