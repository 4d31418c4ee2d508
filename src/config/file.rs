//! The config file: reading it safely and parsing its keys (listed in the module
//! documentation of `config`, where they are read).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::GlobalArgs;
use super::{Api, ConflictPolicy, MediaFetch, Settings};
use crate::error::{Error, Result, one_line};

/// The config file's keys, as the `config` module's documentation lists them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub(super) db: Option<PathBuf>,
    pub(super) api: Option<Api>,
    pub(super) base_url: Option<String>,
    pub(super) token_id: Option<String>,
    pub(super) token: Option<String>,
    pub(super) token_command: Option<String>,
    pub(super) username: Option<String>,
    pub(super) password: Option<String>,
    pub(super) password_command: Option<String>,
    pub(super) user_id: Option<String>,
    pub(super) api_version: Option<String>,
    pub(super) allow_insecure: Option<bool>,
    pub(super) country_code: Option<String>,
    pub(super) timezone: Option<String>,
    #[serde(default)]
    pub(super) sync: FileSync,
    #[serde(default)]
    pub(super) push: FilePush,
    #[serde(default)]
    pub(super) media: FileMedia,
    #[serde(default)]
    pub(super) http: FileHttp,
    #[serde(default)]
    pub(super) webhook: FileWebhook,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileWebhook {
    pub(super) key: Option<String>,
    #[serde(default)]
    pub(super) allow: Vec<String>,
    pub(super) proxy_header: Option<String>,
    pub(super) public_key_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileMedia {
    pub(super) fetch: Option<MediaFetch>,
    pub(super) max_age: Option<String>,
    pub(super) dir: Option<PathBuf>,
    pub(super) prune: Option<bool>,
    pub(super) max_voicemail_mib: Option<u64>,
    pub(super) max_fax_mib: Option<u64>,
    pub(super) max_preview_mib: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FilePush {
    pub(super) conflict: Option<ConflictPolicy>,
    pub(super) concurrency: Option<usize>,
    pub(super) max_deletes: Option<u64>,
    pub(super) fax_poll: Option<String>,
    pub(super) fax_wait: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileSync {
    pub(super) lookback: Option<String>,
    pub(super) full_every: Option<String>,
    pub(super) max_delete_ratio: Option<f64>,
    pub(super) concurrency: Option<usize>,
    pub(super) stale_after: Option<String>,
    pub(super) skip_settings: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileHttp {
    pub(super) connect_timeout: Option<String>,
    pub(super) timeout: Option<String>,
    pub(super) max_attempts: Option<u32>,
    pub(super) retry_base: Option<String>,
}

/// `$XDG_CONFIG_HOME/sipmirror/config.toml`, or None when no home directory is known.
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "sipmirror")
        .map(|dirs| dirs.config_dir().join("config.toml"))
}

/// Reads the config file: its settings and the dotted names of the keys it sets.
pub(super) fn load_file(path: &Path) -> Result<(FileConfig, BTreeSet<String>)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("cannot read config file {}: {e}", path.display())))?;
    check_not_writable_by_others(path)?;
    let config = parse_file(&text, path)?;
    // The webhook key is a secret like the others: whoever reads it can post calls.
    if config.password.is_some() || config.token.is_some() || config.webhook.key.is_some() {
        check_private(path)?;
    }
    Ok((config, super::origin::keys_in(&text)))
}

/// Parses a config file's text; errors name the file, line and column.
fn parse_file(text: &str, path: &Path) -> Result<FileConfig> {
    toml::from_str(text).map_err(|e| {
        let place = e
            .span()
            .map(|span| {
                let (line, column) = line_and_column(text, span.start);
                format!("line {line}, column {column}: ")
            })
            .unwrap_or_default();
        let hint = e
            .span()
            .and_then(|span| typo_hint(text, span.start, e.message()))
            .unwrap_or_default();
        Error::usage(format!(
            "config file {}: {place}{}{hint}",
            path.display(),
            one_line(e.message())
        ))
    })
}

/// "; did you mean `password`?" for an unknown key close to a known one of its section.
fn typo_hint(text: &str, offset: usize, message: &str) -> Option<String> {
    let unknown = message.strip_prefix("unknown field `")?.split('`').next()?;
    let before = &text[..offset.min(text.len())];
    let section = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| line.starts_with('['))
        .map(|line| line.trim_matches(|c| c == '[' || c == ']').trim());
    let known = super::origin::closest_key(section, unknown)?;
    Some(format!("; did you mean `{known}`?"))
}

/// Reads a config file's text as a run would, without touching the disk: for the fuzzer.
#[doc(hidden)]
pub fn settings_from_text(text: &str) -> Result<Settings> {
    let path = Path::new("fuzz.toml");
    let file = parse_file(text, path)?;
    let args = GlobalArgs {
        db: Some(PathBuf::from("fuzz.db")),
        config: Some(path.to_path_buf()),
        ..GlobalArgs::default()
    };
    Settings::resolve_with(&args, file, Some(path.to_path_buf()))
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A config file (and its folder) that others can write is refused, whatever it holds, as ssh
/// refuses its config: another user could put a `password_command` in it, which would then run
/// as the owner.
fn check_not_writable_by_others(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    for (what, place) in [("config file", path), ("config folder", folder)] {
        let Ok(meta) = std::fs::metadata(place) else {
            continue;
        };
        let mode = meta.permissions().mode();
        // A sticky folder (/tmp) lets others add files but not replace this one.
        let sticky = meta.is_dir() && mode & 0o1000 != 0;
        if mode & 0o022 != 0 && !(sticky && what == "config folder") {
            return Err(Error::usage(format!(
                "{what} {} can be written by others (mode {:03o}); run `chmod go-w {}`",
                place.display(),
                mode & 0o777,
                place.display()
            )));
        }
    }
    Ok(())
}

/// A config file that holds a secret (password, token, webhook key) must not be readable by
/// group or others.
#[cfg(unix)]
fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| Error::usage(format!("cannot read config file {}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(Error::usage(format!(
            "config file {} holds a password, token or webhook key but is readable by others (mode {:03o}); run `chmod 600 {}` or use password_command / token_command",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        assert_eq!(line_and_column("a = 1\nb = x", 10), (2, 5));
        assert_eq!(line_and_column("abc", 0), (1, 1));
    }
}
