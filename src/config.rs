//! Resolved settings: command-line flags, then environment, then the config file, then defaults.
//!
//! The config file is TOML, by default `$XDG_CONFIG_HOME/sipmirror/config.toml`
//! (`~/.config/sipmirror/config.toml`), or the file named by `--config` / `SIPMIRROR_CONFIG`.
//! Every key is optional; unknown keys are an error so that typos do not go unnoticed:
//!
//! ```toml
//! # Where the mirror lives. Default: $XDG_DATA_HOME/sipmirror/mirror.db
//! db = "/var/lib/sipmirror/mirror.db"
//! # The upstream. Default: https://api.sipgate.net
//! base_url = "https://api.sipgate.net"
//! # The web login (user name or e-mail). Environment: SIPGATE_USERNAME
//! username = "office@example.com"
//! # Either the password itself (then the file must be private: chmod 600) ...
//! password = "..."
//! # ... or a command whose first line of output is the password. Environment: SIPGATE_PASSWORD
//! password_command = "pass show sipgate"
//! # The user id in upstream paths. Default: my (the logged-in user)
//! user_id = "my"
//! # The API version sent on every request. Default: 2.41.0
//! api_version = "2.41.0"
//! # Allow http:// to hosts other than loopback. Default: false
//! allow_insecure = false
//! # Country code for numbers written nationally (030 ...), for caller-name lookups. Default: 49
//! country_code = "49"
//! # The time zone of local times in the mirror (`created_local`). Default: TZ, else the system's
//! timezone = "Europe/Berlin"
//!
//! [sync]
//! # Re-read events this far back from the newest known one on every run (flag changes made on
//! # the website). Units: s, m, h, d. Default: 7d
//! lookback = "7d"
//! # Do a complete listing (catches old flag changes and deletions) when the last one is older
//! # than this. Default: 24h
//! full_every = "24h"
//! # Refuse to mark more than this share of a stream deleted in one run. Default: 0.1
//! max_delete_ratio = 0.1
//! # Pages fetched at once. Default: 4
//! concurrency = 4
//!
//! [push]
//! # When upstream changed a field since the last sync and a local edit of it waits:
//! # "local-wins" (write the local value; the conflict is logged and counted), "upstream-wins"
//! # (keep upstream's value, drop the local edit) or "fail" (leave the edit failed for
//! # `sipmirror outbox retry|drop`). Default: local-wins
//! conflict = "local-wins"
//! # Events written at once (edits of one event always go one at a time). Default: 16
//! concurrency = 16
//!
//! [media]
//! # What `sync` downloads: "all", "voicemails", "faxes" or "none" (`sync --media` means all).
//! # Default: none
//! fetch = "voicemails"
//! # Only media of events younger than this. Default: no limit
//! max_age = "365d"
//! # Where the files go (content-addressed). Default: a folder beside the database, <db>.media
//! dir = "/var/lib/sipmirror/media"
//! # Remove the files of events deleted upstream. Default: false (they are kept)
//! prune = false
//!
//! [http]
//! # Default: 10s and 60s
//! connect_timeout = "10s"
//! timeout = "60s"
//! # Attempts per request, first try included, for transient errors. Default: 5
//! max_attempts = 5
//! # First backoff delay; it doubles each retry, capped at 10 s, with jitter. Default: 250ms
//! retry_base = "250ms"
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result, one_line};

pub const DEFAULT_BASE_URL: &str = "https://api.sipgate.net";
pub const DEFAULT_USER_ID: &str = "my";
pub const DEFAULT_API_VERSION: &str = "2.41.0";

/// A secret that never shows up in `Debug` output, logs or error messages.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it (the Authorization header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where the password comes from. It is only fetched when a command talks to upstream, so a
/// locked password manager does not stop `status` or `query`.
#[derive(Debug, Clone)]
pub enum PasswordSource {
    /// `SIPGATE_PASSWORD`.
    Environment(Secret),
    /// `password` in the config file.
    ConfigFile(Secret),
    /// `password_command` in the config file.
    Command(String),
    None,
}

impl PasswordSource {
    pub fn describe(&self) -> &'static str {
        match self {
            PasswordSource::Environment(_) => "set (from SIPGATE_PASSWORD)",
            PasswordSource::ConfigFile(_) => "set (from the config file)",
            PasswordSource::Command(_) => "set (from password_command)",
            PasswordSource::None => "not set",
        }
    }

    /// Returns the password, running `password_command` if that is the source.
    pub fn resolve(&self) -> Result<Secret> {
        match self {
            PasswordSource::Environment(s) | PasswordSource::ConfigFile(s) => Ok(s.clone()),
            PasswordSource::Command(cmd) => run_password_command(cmd),
            PasswordSource::None => Err(Error::usage(
                "no password configured: set SIPGATE_PASSWORD, or password / password_command in the config file",
            )),
        }
    }
}

/// Everything needed to talk to the upstream.
#[derive(Debug, Clone)]
pub struct Connection {
    pub base_url: String,
    pub username: Option<String>,
    pub password: PasswordSource,
    pub user_id: String,
    pub api_version: String,
    pub allow_insecure: bool,
}

/// How the sync pages and when it reconciles. See the `[sync]` keys above.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub lookback: Duration,
    pub full_every: Duration,
    pub max_delete_ratio: f64,
    pub concurrency: usize,
}

/// What `push` does when upstream changed a field that also has a local edit waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictPolicy {
    LocalWins,
    UpstreamWins,
    Fail,
}

/// Which media `sync` downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaFetch {
    All,
    Voicemails,
    Faxes,
    None,
}

/// Media downloads. See the `[media]` keys above.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    pub fetch: MediaFetch,
    pub max_age: Option<Duration>,
    pub dir: PathBuf,
    pub prune: bool,
}

/// How local edits are replayed. See the `[push]` keys above.
#[derive(Debug, Clone)]
pub struct PushSettings {
    pub conflict: ConflictPolicy,
    pub concurrency: usize,
}

/// Timeouts and retries of upstream requests. See the `[http]` keys above.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub retry_base: Duration,
}

/// The settings every command runs with, resolved once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub db_path: PathBuf,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    pub connection: Connection,
    pub sync: SyncSettings,
    pub push: PushSettings,
    pub media: MediaSettings,
    pub http: HttpSettings,
    pub country_code: String,
    /// The zone of `created_local` and the reports' days and weeks.
    pub timezone: chrono_tz::Tz,
    pub json: bool,
    pub verbose: u8,
    pub quiet: bool,
}

/// The config file's keys. See the module documentation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    db: Option<PathBuf>,
    base_url: Option<String>,
    username: Option<String>,
    password: Option<String>,
    password_command: Option<String>,
    user_id: Option<String>,
    api_version: Option<String>,
    allow_insecure: Option<bool>,
    country_code: Option<String>,
    timezone: Option<String>,
    #[serde(default)]
    sync: FileSync,
    #[serde(default)]
    push: FilePush,
    #[serde(default)]
    media: FileMedia,
    #[serde(default)]
    http: FileHttp,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMedia {
    fetch: Option<MediaFetch>,
    max_age: Option<String>,
    dir: Option<PathBuf>,
    prune: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePush {
    conflict: Option<ConflictPolicy>,
    concurrency: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSync {
    lookback: Option<String>,
    full_every: Option<String>,
    max_delete_ratio: Option<f64>,
    concurrency: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHttp {
    connect_timeout: Option<String>,
    timeout: Option<String>,
    max_attempts: Option<u32>,
    retry_base: Option<String>,
}

impl Settings {
    /// Resolves the settings from parsed flags (which already include their environment
    /// variables), the process environment and the config file.
    pub fn resolve(args: &GlobalArgs) -> Result<Settings> {
        let (file, config_file) = match &args.config {
            Some(path) => (load_file(path)?, Some(path.clone())),
            None => match default_config_path() {
                Some(path) if path.exists() => (load_file(&path)?, Some(path)),
                _ => (FileConfig::default(), None),
            },
        };
        Settings::resolve_with(args, file, config_file)
    }

    fn resolve_with(
        args: &GlobalArgs,
        file: FileConfig,
        config_file: Option<PathBuf>,
    ) -> Result<Settings> {
        let db_path = match args.db.clone().or(file.db.clone()) {
            Some(path) => path,
            None => default_db_path()?,
        };
        let password = match env_nonempty("SIPGATE_PASSWORD") {
            Some(p) => PasswordSource::Environment(Secret::new(p)),
            None => match (file.password, file.password_command) {
                (Some(_), Some(_)) => {
                    return Err(Error::usage(format!(
                        "config file {}: set either password or password_command, not both",
                        display_opt(&config_file)
                    )));
                }
                (Some(p), None) => PasswordSource::ConfigFile(Secret::new(p)),
                (None, Some(cmd)) => PasswordSource::Command(cmd),
                (None, None) => PasswordSource::None,
            },
        };
        let connection = Connection {
            base_url: first(&args.base_url, file.base_url, DEFAULT_BASE_URL),
            username: args.username.clone().or(file.username),
            password,
            user_id: first(&args.user_id, file.user_id, DEFAULT_USER_ID),
            api_version: first(&args.api_version, file.api_version, DEFAULT_API_VERSION),
            allow_insecure: args.allow_insecure || file.allow_insecure.unwrap_or(false),
        };
        let where_ = display_opt(&config_file);
        let duration = |key: &str, value: &Option<String>, default: Duration| -> Result<Duration> {
            match value {
                Some(text) => parse_duration(text)
                    .map_err(|e| Error::usage(format!("config file {where_}: {key}: {e}"))),
                None => Ok(default),
            }
        };
        let sync = SyncSettings {
            lookback: duration(
                "sync.lookback",
                &file.sync.lookback,
                Duration::from_secs(7 * 86_400),
            )?,
            full_every: duration(
                "sync.full_every",
                &file.sync.full_every,
                Duration::from_secs(86_400),
            )?,
            max_delete_ratio: file.sync.max_delete_ratio.unwrap_or(0.1),
            concurrency: file.sync.concurrency.unwrap_or(4),
        };
        if !(0.0..=1.0).contains(&sync.max_delete_ratio) {
            return Err(Error::usage(format!(
                "config file {where_}: sync.max_delete_ratio must be between 0 and 1"
            )));
        }
        if !(1..=32).contains(&sync.concurrency) {
            return Err(Error::usage(format!(
                "config file {where_}: sync.concurrency must be between 1 and 32"
            )));
        }
        let push = PushSettings {
            conflict: file.push.conflict.unwrap_or(ConflictPolicy::LocalWins),
            concurrency: file.push.concurrency.unwrap_or(16),
        };
        if !(1..=64).contains(&push.concurrency) {
            return Err(Error::usage(format!(
                "config file {where_}: push.concurrency must be between 1 and 64"
            )));
        }
        let media = MediaSettings {
            fetch: file.media.fetch.unwrap_or(MediaFetch::None),
            max_age: match &file.media.max_age {
                Some(_) => Some(duration(
                    "media.max_age",
                    &file.media.max_age,
                    Duration::ZERO,
                )?),
                None => None,
            },
            dir: file.media.dir.clone().unwrap_or_else(|| {
                let mut name = db_path.as_os_str().to_os_string();
                name.push(".media");
                PathBuf::from(name)
            }),
            prune: file.media.prune.unwrap_or(false),
        };
        let http = HttpSettings {
            connect_timeout: duration(
                "http.connect_timeout",
                &file.http.connect_timeout,
                Duration::from_secs(10),
            )?,
            timeout: duration("http.timeout", &file.http.timeout, Duration::from_secs(60))?,
            max_attempts: file.http.max_attempts.unwrap_or(5).clamp(1, 20),
            retry_base: duration(
                "http.retry_base",
                &file.http.retry_base,
                Duration::from_millis(250),
            )?,
        };
        let country_code = file.country_code.unwrap_or_else(|| "49".to_string());
        if country_code.is_empty()
            || !country_code.chars().all(|c| c.is_ascii_digit())
            || country_code.len() > 3
        {
            return Err(Error::usage(format!(
                "config file {where_}: country_code must be 1 to 3 digits, e.g. \"49\""
            )));
        }
        let timezone = crate::timezone::resolve(file.timezone.as_deref())
            .map_err(|e| e.context(format!("config file {where_}")))?;
        Ok(Settings {
            db_path,
            config_file,
            connection,
            sync,
            push,
            media,
            http,
            country_code,
            timezone,
            json: args.json,
            verbose: args.verbose,
            quiet: args.quiet,
        })
    }
}

impl Settings {
    /// Settings for a local upstream such as the built-in emulator: defaults everywhere, no
    /// config file. Used by `demo` and the benchmarks.
    pub fn for_local(
        db_path: PathBuf,
        base_url: &str,
        username: &str,
        password: &str,
    ) -> Result<Settings> {
        let args = GlobalArgs {
            db: Some(db_path),
            ..GlobalArgs::default()
        };
        let mut settings = Settings::resolve_with(&args, FileConfig::default(), None)?;
        settings.connection.base_url = base_url.to_string();
        settings.connection.username = Some(username.to_string());
        settings.connection.password = PasswordSource::Environment(Secret::new(password));
        Ok(settings)
    }
}

fn first(flag: &Option<String>, file: Option<String>, default: &str) -> String {
    flag.clone().or(file).unwrap_or_else(|| default.to_string())
}

fn display_opt(path: &Option<PathBuf>) -> String {
    path.as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `90s`, `15m`, `24h`, `7d`, `250ms`: a number and a unit.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; write e.g. 90s, 15m, 24h or 7d"))?;
    let seconds = match unit.trim() {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: unknown unit; use ms, s, m, h or d")),
    };
    Ok(Duration::from_secs(n.saturating_mul(seconds)))
}

/// `$XDG_CONFIG_HOME/sipmirror/config.toml`, or None when no home directory is known.
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "sipmirror")
        .map(|dirs| dirs.config_dir().join("config.toml"))
}

/// `$XDG_DATA_HOME/sipmirror/mirror.db`.
pub fn default_db_path() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "sipmirror")
        .map(|dirs| dirs.data_dir().join("mirror.db"))
        .ok_or_else(|| {
            Error::usage("cannot find a home directory for the default database: pass --db PATH")
        })
}

fn load_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("cannot read config file {}: {e}", path.display())))?;
    let config = parse_file(&text, path)?;
    if config.password.is_some() {
        check_private(path)?;
    }
    Ok(config)
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
        Error::usage(format!(
            "config file {}: {place}{}",
            path.display(),
            one_line(e.message())
        ))
    })
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

/// A config file that holds a password must not be readable by group or others.
#[cfg(unix)]
fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| Error::usage(format!("cannot read config file {}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(Error::usage(format!(
            "config file {} holds a password but is readable by others (mode {:03o}); run `chmod 600 {}` or use password_command",
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

/// Runs `password_command` with `sh -c` and returns the first line it prints.
fn run_password_command(command: &str) -> Result<Secret> {
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::usage(format!("password_command could not be started: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first_line = stderr.lines().next().unwrap_or("").trim();
        let why = if first_line.is_empty() {
            String::new()
        } else {
            format!(": {first_line}")
        };
        return Err(Error::usage(format!(
            "password_command failed ({}){why}",
            output.status
        )));
    }
    let stdout = String::from_utf8(output.stdout)
        .map_err(|_| Error::usage("password_command printed something that is not UTF-8"))?;
    let password = stdout.lines().next().unwrap_or("").trim_end_matches('\r');
    if password.is_empty() {
        return Err(Error::usage("password_command printed no password"));
    }
    Ok(Secret::new(password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_hides_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let source = PasswordSource::Environment(s);
        assert!(!format!("{source:?}").contains("hunter2"));
    }

    #[test]
    fn password_command_first_line() {
        let s = run_password_command("printf 'pw1\\nsecond\\n'").expect("runs");
        assert_eq!(s.expose(), "pw1");
    }

    #[test]
    fn password_command_failure_is_one_line() {
        let err = run_password_command("echo 'vault locked' >&2; exit 3").unwrap_err();
        assert!(err.to_string().contains("vault locked"), "{err}");
        assert!(!err.to_string().contains('\n'));
        let err = run_password_command("true").unwrap_err();
        assert!(err.to_string().contains("no password"));
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration(" 90s "), Ok(Duration::from_secs(90)));
        assert!(parse_duration("7").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3w").is_err());
    }

    #[test]
    fn line_and_column_are_one_based() {
        assert_eq!(line_and_column("a = 1\nb = x", 10), (2, 5));
        assert_eq!(line_and_column("abc", 0), (1, 1));
    }
}
