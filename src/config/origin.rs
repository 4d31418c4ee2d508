//! Where each setting came from (a flag, the environment, the config file or the default), for
//! `sipmirror config`, and the one list of the config file's keys that the typo hint, the
//! `config` listing and the README's table are checked against.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use super::env_nonempty;

/// A config key: its dotted name (`sync.lookback`), the flag that can set it (a clap argument
/// id of `GlobalArgs`), and its environment variable.
pub struct Key {
    pub name: &'static str,
    flag: Option<&'static str>,
    env: Option<&'static str>,
}

const fn key(name: &'static str) -> Key {
    Key {
        name,
        flag: None,
        env: None,
    }
}

const fn flag_env(name: &'static str, flag: &'static str, env: &'static str) -> Key {
    Key {
        name,
        flag: Some(flag),
        env: Some(env),
    }
}

const fn env(name: &'static str, env: &'static str) -> Key {
    Key {
        name,
        flag: None,
        env: Some(env),
    }
}

/// Every key the config file takes, in the order `sipmirror config` lists them. A unit test
/// keeps it equal to what the file parser accepts, and one in `tests/` to the README's table.
pub const KEYS: &[Key] = &[
    flag_env("db", "db", "SIPMIRROR_DB"),
    flag_env("api", "api", "SIPGATE_API"),
    flag_env("base_url", "base_url", "SIPGATE_BASE_URL"),
    env("token_id", "SIPGATE_TOKEN_ID"),
    env("token", "SIPGATE_TOKEN"),
    env("token_command", "SIPGATE_TOKEN"),
    flag_env("username", "username", "SIPGATE_USERNAME"),
    env("password", "SIPGATE_PASSWORD"),
    env("password_command", "SIPGATE_PASSWORD"),
    flag_env("user_id", "user_id", "SIPGATE_USER_ID"),
    flag_env("api_version", "api_version", "SIPGATE_API_VERSION"),
    Key {
        name: "allow_insecure",
        flag: Some("allow_insecure"),
        env: None,
    },
    key("country_code"),
    // The file's zone beats TZ (see `timezone::resolve`); `Origins::of` knows.
    env("timezone", "TZ"),
    key("sync.lookback"),
    key("sync.full_every"),
    key("sync.max_delete_ratio"),
    key("sync.concurrency"),
    key("sync.stale_after"),
    key("sync.skip_settings"),
    key("push.conflict"),
    key("push.concurrency"),
    key("push.max_deletes"),
    key("push.fax_poll"),
    key("push.fax_wait"),
    key("media.fetch"),
    key("media.max_age"),
    key("media.dir"),
    key("media.prune"),
    key("media.max_voicemail_mib"),
    key("media.max_fax_mib"),
    key("media.max_preview_mib"),
    key("http.connect_timeout"),
    key("http.timeout"),
    key("http.max_attempts"),
    key("http.retry_base"),
    env("webhook.key", "SIPMIRROR_WEBHOOK_KEY"),
    key("webhook.allow"),
    key("webhook.proxy_header"),
    key("webhook.public_key_file"),
];

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A flag on the command line (`--base-url`).
    Flag(String),
    Environment(&'static str),
    /// The config file, with its path.
    File(PathBuf),
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => write!(f, "flag {flag}"),
            Origin::Environment(var) => write!(f, "environment {var}"),
            Origin::File(path) => write!(f, "file {}", path.display()),
            Origin::Default => f.write_str("default"),
        }
    }
}

/// What the resolution saw: the flags given on the command line, the config file and the keys
/// set in it.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    pub(super) command_line: Vec<String>,
    pub(super) file: Option<PathBuf>,
    pub(super) file_keys: BTreeSet<String>,
}

impl Origins {
    /// The origin of a key's value, by the precedence the resolution uses: flag, environment,
    /// file, default (for `timezone`: file, then TZ).
    pub fn of(&self, name: &str) -> Origin {
        let Some(key) = KEYS.iter().find(|k| k.name == name) else {
            return Origin::Default;
        };
        if let Some(flag) = key.flag
            && self.command_line.iter().any(|given| given == flag)
        {
            return Origin::Flag(format!("--{}", flag.replace('_', "-")));
        }
        // A secret's command (`token_command`) sets the secret as much as the key itself.
        let in_file =
            self.file_keys.contains(name) || self.file_keys.contains(&format!("{name}_command"));
        let from_env = key.env.filter(|var| env_nonempty(var).is_some());
        match (from_env, &self.file) {
            (_, Some(path)) if in_file && name == "timezone" => Origin::File(path.clone()),
            (Some(var), _) => Origin::Environment(var),
            (None, Some(path)) if in_file => Origin::File(path.clone()),
            _ => Origin::Default,
        }
    }
}

/// The dotted names of the keys set in a config file's text (`[sync] lookback` is
/// `sync.lookback`); empty if it does not parse (the typed parse says why).
pub(super) fn keys_in(text: &str) -> BTreeSet<String> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return BTreeSet::new();
    };
    let mut keys = BTreeSet::new();
    for (name, value) in &table {
        match value {
            toml::Value::Table(section) => {
                keys.extend(section.keys().map(|inner| format!("{name}.{inner}")));
            }
            _ => {
                keys.insert(name.clone());
            }
        }
    }
    keys
}

/// The known key closest to an unknown one in the same section, if one is close enough to be
/// a typo (`pasword` → `password`, `[sync] lokback` → `lookback`).
pub(super) fn closest_key(section: Option<&str>, unknown: &str) -> Option<&'static str> {
    KEYS.iter()
        .filter_map(|key| match (section, key.name.split_once('.')) {
            (Some(s), Some((ks, name))) if s == ks => Some(name),
            (None, None) => Some(key.name),
            _ => None,
        })
        .map(|name| (strsim::damerau_levenshtein(unknown, name), name))
        .filter(|(distance, name)| *distance <= 2.max(name.len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names serde lists as expected when it meets an unknown key in `section`.
    fn accepted_in(section: Option<&str>) -> BTreeSet<String> {
        let text = match section {
            Some(s) => format!("[{s}]\nzzz_unknown = 1\n"),
            None => "zzz_unknown = 1\n".to_string(),
        };
        let err = toml::from_str::<super::super::file::FileConfig>(&text)
            .err()
            .map(|e| e.message().to_string())
            .unwrap_or_default();
        let list = err.split("expected one of").nth(1).unwrap_or_default();
        list.split('`')
            .skip(1)
            .step_by(2)
            .map(|name| match section {
                Some(s) => format!("{s}.{name}"),
                None => name.to_string(),
            })
            .collect()
    }

    #[test]
    fn the_key_list_is_what_the_file_parser_accepts() {
        let sections = ["sync", "push", "media", "http", "webhook"];
        let mut accepted = accepted_in(None);
        accepted.retain(|name| !sections.contains(&name.as_str()));
        for section in sections {
            let inner = accepted_in(Some(section));
            assert!(!inner.is_empty(), "no key list for [{section}]");
            accepted.extend(inner);
        }
        let listed: BTreeSet<String> = KEYS.iter().map(|k| k.name.to_string()).collect();
        assert_eq!(listed, accepted);
    }

    #[test]
    fn typos_get_the_closest_key_of_their_section() {
        assert_eq!(closest_key(None, "pasword"), Some("password"));
        assert_eq!(closest_key(Some("sync"), "lokback"), Some("lookback"));
        assert_eq!(closest_key(Some("push"), "lokback"), None);
        assert_eq!(closest_key(None, "zzzzzzzz"), None);
    }

    #[test]
    fn keys_in_a_file_are_dotted_by_section() {
        let keys = keys_in("db = \"x\"\n[sync]\nlookback = \"1d\"\n");
        assert!(keys.contains("db") && keys.contains("sync.lookback"));
        assert!(keys_in("db = [").is_empty());
    }
}
