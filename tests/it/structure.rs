//! The repository's own rules, checked on its source: the dialect is asked as capabilities
//! outside `api/` and `emulator/`, and nothing cites a document the clone does not have.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn text_files(under: &[&str]) -> Vec<(String, String)> {
    let mut paths = Vec::new();
    for dir in under {
        files(&root().join(dir), &mut paths);
    }
    paths
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let name = p.strip_prefix(root()).ok()?.to_string_lossy().into_owned();
            Some((name, text))
        })
        .collect()
}

/// Where the dialect may be named outside `api/` and `emulator/`: where the mirror records
/// which API feeds it, where the settings choose it, and where the emulator is started.
const MAY_NAME_THE_DIALECT: &[&str] = &[
    "src/records/api.rs",
    "src/store/runs.rs",
    "src/sync/mod.rs",
    "src/commands/demo.rs",
    "src/commands/emulator.rs",
    "src/fuzzing/mod.rs",
];

#[test]
fn outside_api_and_emulator_code_asks_capabilities_not_the_dialect() {
    let naming = ["Api::Classic", "Api::V2", "api::v2::", ".api()"];
    let mut found = Vec::new();
    for (name, text) in text_files(&["src"]) {
        let exempt = name.starts_with("src/api/")
            || name.starts_with("src/emulator/")
            || name.starts_with("src/config/")
            || MAY_NAME_THE_DIALECT.contains(&name.as_str());
        if exempt || !name.ends_with(".rs") {
            continue;
        }
        // Unit tests may use one dialect's data.
        let code_part = text.split("#[cfg(test)]").next().unwrap_or("");
        for (number, line) in code_part.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if naming.iter().any(|n| code.contains(n)) {
                found.push(format!("{name}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "branch on api::Capabilities instead:\n{}",
        found.join("\n")
    );
}

#[test]
fn nothing_cites_a_document_outside_the_repository() {
    // Spelt in pieces so that this file does not cite them itself.
    let outside = [
        ["sync-", "lessons.md"].concat(),
        ["upstream-", "api.md"].concat(),
        ["sipgate-rest-", "api.txt"].concat(),
        ["../", "shared"].concat(),
    ];
    let mut found = Vec::new();
    let dirs = [
        "src", "docs", "tests", "benches", "queries", "contrib", "fuzz", ".ci",
    ];
    let mut texts = text_files(&dirs);
    for file in ["README.md", "Cargo.toml"] {
        if let Ok(text) = std::fs::read_to_string(root().join(file)) {
            texts.push((file.to_string(), text));
        }
    }
    for (name, text) in texts {
        for cited in &outside {
            if text.contains(cited.as_str()) {
                found.push(format!("{name} cites {cited}"));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
