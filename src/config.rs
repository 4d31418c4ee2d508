//! Resolved settings: command-line flags, then environment, then the config file, then defaults.
//!
//! The config file is TOML, by default `$XDG_CONFIG_HOME/sipmirror/config.toml`
//! (`~/.config/sipmirror/config.toml`), or the file named by `--config` / `SIPMIRROR_CONFIG`.
//! Every key is optional; unknown keys are an error so that typos do not go unnoticed:
//!
//! ```toml
//! # Where the mirror lives. Default: $XDG_DATA_HOME/sipmirror/mirror.db
//! db = "/var/lib/sipmirror/mirror.db"
//! # Which of sipgate's APIs feeds the mirror: "v2" (api.sipgate.com/v2, personal access tokens;
//! # what accounts use today) or "classic" (api.sipgate.net, user name and password; switched
//! # off by sipgate, kept for old accounts and the emulator). Environment: SIPGATE_API.
//! # Default: v2
//! api = "v2"
//! # The upstream. Default: https://api.sipgate.com/v2 (v2), https://api.sipgate.net (classic)
//! base_url = "https://api.sipgate.com/v2"
//!
//! # v2: the personal access token (app.sipgate.com/personal-access-token).
//! # Environment: SIPGATE_TOKEN_ID
//! token_id = "token-AB12CD"
//! # Either the token itself (then the file must be private: chmod 600) ...
//! token = "..."
//! # ... or a command whose first line of output is the token. Environment: SIPGATE_TOKEN
//! token_command = "pass show sipgate-token"
//!
//! # classic: the web login (user name or e-mail). Environment: SIPGATE_USERNAME
//! username = "office@example.com"
//! # Either the password itself (then the file must be private: chmod 600) ...
//! password = "..."
//! # ... or a command whose first line of output is the password. Environment: SIPGATE_PASSWORD
//! password_command = "pass show sipgate"
//! # classic: the user id in upstream paths. Default: my (the logged-in user)
//! user_id = "my"
//! # classic: the API version sent on every request. Default: 2.41.0
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
//! # A run that finds the mirror locked by a run older than this says so as an error (exit 5)
//! # instead of the quiet exit 4: that run probably hangs. Default: 1h
//! stale_after = "1h"
//!
//! [push]
//! # When upstream changed a field since the last sync and a local edit of it waits:
//! # "local-wins" (write the local value; the conflict is logged and counted), "upstream-wins"
//! # (keep upstream's value, drop the local edit) or "fail" (leave the edit failed for
//! # `sipmirror outbox retry|drop`). Default: local-wins
//! conflict = "local-wins"
//! # Events written at once (edits of one event always go one at a time). Default: 16
//! concurrency = 16
//! # v2 deletes events for good. A push that would delete more than this many holds every
//! # deletion back (the other edits still go) until `sipmirror push --confirm-deletes`.
//! # Default: 50
//! max_deletes = 50
//! # `send fax --wait` reads the fax's status this often, and gives up after fax_wait.
//! # Default: 5s and 10m
//! fax_poll = "5s"
//! fax_wait = "10m"
//!
//! [webhook]
//! # The secret every push API post must carry as ?key= (`sipmirror webhook`). A secret like
//! # the password: SIPMIRROR_WEBHOOK_KEY overrides it. Default: none (the receiver then refuses
//! # to start unless --no-key)
//! key = "a-long-random-string"
//! # Take posts only from these addresses (sipgate's own client names 217.116.118.254 and
//! # 212.9.46.32). Default: from anywhere
//! allow = ["217.116.118.254", "212.9.46.32"]
//! # Behind a reverse proxy every post comes from the proxy: read the client's address from
//! # the last entry of this header, which your proxy sets. Only when set. Default: none
//! proxy_header = "X-Forwarded-For"
//! # Check each post's x-sipgate-signature (RSA-SHA256 over the body) against this public key
//! # (PEM). Default: not checked
//! public_key_file = "/etc/sipmirror/sipgate-push.pem"
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
//! # The largest file accepted, in MiB; a larger one is refused (a per-item error), and never
//! # held whole in memory. Defaults: 64, 40, 16
//! max_voicemail_mib = 64
//! max_fax_mib = 40
//! max_preview_mib = 16
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

/// The classic API's address (switched off by sipgate; the emulator still speaks it).
pub const DEFAULT_BASE_URL: &str = "https://api.sipgate.net";
/// REST API v2, what accounts use today.
pub const DEFAULT_V2_BASE_URL: &str = "https://api.sipgate.com/v2";

/// The dialect of sipgate's REST API that feeds a mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// REST API v2 (api.sipgate.com/v2), personal access tokens.
    V2,
    /// The classic REST API (api.sipgate.net), user name and password.
    Classic,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::V2 => "v2",
            Api::Classic => "classic",
        }
    }

    pub fn parse(text: &str) -> Option<Api> {
        match text.trim().to_ascii_lowercase().as_str() {
            "v2" => Some(Api::V2),
            "classic" => Some(Api::Classic),
            _ => None,
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            Api::V2 => DEFAULT_V2_BASE_URL,
            Api::Classic => DEFAULT_BASE_URL,
        }
    }
}
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

/// Where a secret (the classic password or the v2 token) comes from. It is only fetched when
/// a command talks to upstream, so a locked password manager does not stop `status` or `query`.
#[derive(Debug, Clone)]
pub enum PasswordSource {
    /// The environment variable named.
    Environment(&'static str, Secret),
    /// The secret's key in the config file.
    ConfigFile(Secret),
    /// The command key (`password_command`, `token_command`) in the config file.
    Command(&'static str, String),
    /// Not configured; the names say where it could be set.
    None(SecretNames),
}

/// Where a secret can be set: its environment variable and its config-file keys.
#[derive(Debug, Clone, Copy)]
pub struct SecretNames {
    pub what: &'static str,
    pub env: &'static str,
    pub key: &'static str,
    pub command_key: &'static str,
}

pub const PASSWORD_NAMES: SecretNames = SecretNames {
    what: "password",
    env: "SIPGATE_PASSWORD",
    key: "password",
    command_key: "password_command",
};

pub const TOKEN_NAMES: SecretNames = SecretNames {
    what: "token",
    env: "SIPGATE_TOKEN",
    key: "token",
    command_key: "token_command",
};

impl PasswordSource {
    pub fn describe(&self) -> String {
        match self {
            PasswordSource::Environment(var, _) => format!("set (from {var})"),
            PasswordSource::ConfigFile(_) => "set (from the config file)".to_string(),
            PasswordSource::Command(key, _) => format!("set (from {key})"),
            PasswordSource::None(_) => "not set".to_string(),
        }
    }

    pub fn is_set(&self) -> bool {
        !matches!(self, PasswordSource::None(_))
    }

    /// Returns the secret, running the command if that is the source.
    pub fn resolve(&self) -> Result<Secret> {
        match self {
            PasswordSource::Environment(_, s) | PasswordSource::ConfigFile(s) => Ok(s.clone()),
            PasswordSource::Command(key, cmd) => run_password_command(key, cmd),
            PasswordSource::None(names) => Err(Error::usage(format!(
                "no {} configured: set {}, or {} / {} in the config file",
                names.what, names.env, names.key, names.command_key
            ))),
        }
    }

    /// The secret from the environment, else the config file's value or command.
    fn from_sources(
        names: SecretNames,
        value: Option<String>,
        command: Option<String>,
        config_file: &Option<PathBuf>,
    ) -> Result<PasswordSource> {
        if let Some(secret) = env_nonempty(names.env) {
            return Ok(PasswordSource::Environment(names.env, Secret::new(secret)));
        }
        match (value, command) {
            (Some(_), Some(_)) => Err(Error::usage(format!(
                "config file {}: set either {} or {}, not both",
                display_opt(config_file),
                names.key,
                names.command_key
            ))),
            (Some(p), None) => Ok(PasswordSource::ConfigFile(Secret::new(p))),
            (None, Some(cmd)) => Ok(PasswordSource::Command(names.command_key, cmd)),
            (None, None) => Ok(PasswordSource::None(names)),
        }
    }
}

/// Everything needed to talk to the upstream.
#[derive(Debug, Clone)]
pub struct Connection {
    pub api: Api,
    pub base_url: String,
    /// classic: the web login and its password.
    pub username: Option<String>,
    pub password: PasswordSource,
    /// v2: the personal access token's id and the token.
    pub token_id: Option<String>,
    pub token: PasswordSource,
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
    /// A run that finds the lock held by a run older than this reports it as an error (exit
    /// 5): the other run probably hangs, and cron would otherwise stay quiet for ever.
    pub stale_after: Duration,
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
    /// The largest recording, fax document and preview accepted, in bytes.
    pub max_voicemail_bytes: u64,
    pub max_fax_bytes: u64,
    pub max_preview_bytes: u64,
}

impl MediaSettings {
    /// The largest file of a media kind (`voicemail_audio`, `fax_document`, `fax_preview_big`).
    pub fn max_bytes(&self, kind: &str) -> u64 {
        match kind {
            "voicemail_audio" => self.max_voicemail_bytes,
            "fax_document" => self.max_fax_bytes,
            _ => self.max_preview_bytes,
        }
    }
}

/// How local edits are replayed. See the `[push]` keys above.
#[derive(Debug, Clone)]
pub struct PushSettings {
    pub conflict: ConflictPolicy,
    pub concurrency: usize,
    pub max_deletes: u64,
    pub fax_poll: Duration,
    pub fax_wait: Duration,
    /// `push --confirm-deletes`: send deletions past `max_deletes`.
    pub confirm_deletes: bool,
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
    /// `[webhook] key` or `SIPMIRROR_WEBHOOK_KEY`: the secret of the push API receiver.
    pub webhook_key: Option<Secret>,
    pub webhook: WebhookSettings,
    pub json: bool,
    pub verbose: u8,
    pub quiet: bool,
}

/// The config file's keys. See the module documentation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    db: Option<PathBuf>,
    api: Option<Api>,
    base_url: Option<String>,
    token_id: Option<String>,
    token: Option<String>,
    token_command: Option<String>,
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
    #[serde(default)]
    webhook: FileWebhook,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWebhook {
    key: Option<String>,
    #[serde(default)]
    allow: Vec<String>,
    proxy_header: Option<String>,
    public_key_file: Option<PathBuf>,
}

/// The push API receiver's checks. See the `[webhook]` keys above.
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    pub allow: Vec<std::net::IpAddr>,
    pub proxy_header: Option<String>,
    pub public_key_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMedia {
    fetch: Option<MediaFetch>,
    max_age: Option<String>,
    dir: Option<PathBuf>,
    prune: Option<bool>,
    max_voicemail_mib: Option<u64>,
    max_fax_mib: Option<u64>,
    max_preview_mib: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePush {
    conflict: Option<ConflictPolicy>,
    concurrency: Option<usize>,
    max_deletes: Option<u64>,
    fax_poll: Option<String>,
    fax_wait: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSync {
    lookback: Option<String>,
    full_every: Option<String>,
    max_delete_ratio: Option<f64>,
    concurrency: Option<usize>,
    stale_after: Option<String>,
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
        let password = PasswordSource::from_sources(
            PASSWORD_NAMES,
            file.password,
            file.password_command,
            &config_file,
        )?;
        let token = PasswordSource::from_sources(
            TOKEN_NAMES,
            file.token,
            file.token_command,
            &config_file,
        )?;
        let api = match (args.api, env_nonempty("SIPGATE_API")) {
            (Some(api), _) => api,
            (None, Some(text)) => Api::parse(&text).ok_or_else(|| {
                Error::usage(format!(
                    "SIPGATE_API must be \"v2\" or \"classic\", not {:?}",
                    one_line(&text)
                ))
            })?,
            (None, None) => file.api.unwrap_or(Api::V2),
        };
        let connection = Connection {
            api,
            base_url: first(&args.base_url, file.base_url, api.default_base_url()),
            username: args.username.clone().or(file.username),
            password,
            token_id: env_nonempty("SIPGATE_TOKEN_ID").or(file.token_id),
            token,
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
            stale_after: duration(
                "sync.stale_after",
                &file.sync.stale_after,
                Duration::from_secs(3600),
            )?,
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
            max_deletes: file.push.max_deletes.unwrap_or(50),
            fax_poll: duration("push.fax_poll", &file.push.fax_poll, Duration::from_secs(5))?,
            fax_wait: duration(
                "push.fax_wait",
                &file.push.fax_wait,
                Duration::from_secs(600),
            )?,
            confirm_deletes: false,
        };
        if !(1..=64).contains(&push.concurrency) {
            return Err(Error::usage(format!(
                "config file {where_}: push.concurrency must be between 1 and 64"
            )));
        }
        let mib = |key: &str, value: Option<u64>, default: u64| -> Result<u64> {
            match value.unwrap_or(default) {
                n @ 1..=4096 => Ok(n * 1024 * 1024),
                n => Err(Error::usage(format!(
                    "config file {where_}: {key} must be between 1 and 4096 (MiB), not {n}"
                ))),
            }
        };
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
            max_voicemail_bytes: mib("media.max_voicemail_mib", file.media.max_voicemail_mib, 64)?,
            max_fax_bytes: mib("media.max_fax_mib", file.media.max_fax_mib, 40)?,
            max_preview_bytes: mib("media.max_preview_mib", file.media.max_preview_mib, 16)?,
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
            webhook_key: env_nonempty("SIPMIRROR_WEBHOOK_KEY")
                .or(file.webhook.key)
                .map(Secret::new),
            webhook: WebhookSettings {
                allow: file
                    .webhook
                    .allow
                    .iter()
                    .map(|a| {
                        a.trim().parse().map_err(|_| {
                            Error::usage(format!(
                                "config file {where_}: webhook.allow: {a:?} is not an IP address"
                            ))
                        })
                    })
                    .collect::<Result<_>>()?,
                proxy_header: file.webhook.proxy_header,
                public_key_file: file.webhook.public_key_file,
            },
            json: args.json,
            verbose: args.verbose,
            quiet: args.quiet,
        })
    }
}

impl Settings {
    /// Refuses what the configured API cannot do, before anything is queued or sent: one line,
    /// exit 2, no request. `why` says what that API lacks.
    pub fn unsupported(&self, what: &str, why: &str) -> Error {
        let api = match self.connection.api {
            Api::Classic => "the classic API",
            Api::V2 => "sipgate's API v2",
        };
        Error::usage(format!("{what} is not possible through {api}: {why}"))
    }

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
        settings.connection.api = Api::Classic;
        settings.connection.base_url = base_url.to_string();
        settings.connection.username = Some(username.to_string());
        settings.connection.password =
            PasswordSource::Environment(PASSWORD_NAMES.env, Secret::new(password));
        Ok(settings)
    }

    /// The same for the v2 dialect (the emulator's `/v2` base URL and a token).
    pub fn for_local_v2(
        db_path: PathBuf,
        base_url: &str,
        token_id: &str,
        token: &str,
    ) -> Result<Settings> {
        let mut settings = Settings::for_local(db_path, base_url, "", "")?;
        settings.connection.api = Api::V2;
        settings.connection.username = None;
        settings.connection.password = PasswordSource::None(PASSWORD_NAMES);
        settings.connection.token_id = Some(token_id.to_string());
        settings.connection.token =
            PasswordSource::Environment(TOKEN_NAMES.env, Secret::new(token));
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
    // A hundred years is more than any setting needs, and keeps every date computed from a
    // duration (a lookback, a media age) inside the calendar.
    const MAX_SECONDS: u64 = 36_500 * 86_400;
    match n.checked_mul(seconds) {
        Some(total) if total <= MAX_SECONDS => Ok(Duration::from_secs(total)),
        _ => Err(format!("{text:?} is too long; at most 36500d")),
    }
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
    check_not_writable_by_others(path)?;
    let config = parse_file(&text, path)?;
    if config.password.is_some() || config.token.is_some() {
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
            "config file {} holds a password or token but is readable by others (mode {:03o}); run `chmod 600 {}` or use password_command / token_command",
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

/// How long `password_command` may take, and how much it may print.
const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
const COMMAND_OUTPUT_LIMIT: u64 = 64 * 1024;

/// Runs `password_command` (or `token_command`) with `sh -c` and returns the first line it
/// prints. A command that hangs (a password manager waiting for a PIN nobody types, in cron)
/// is stopped after 30 s, and at most 64 KiB of its output is read: a run must never hang or
/// fill memory on it while it holds the mirror's lock.
fn run_password_command(key: &str, command: &str) -> Result<Secret> {
    run_bounded(key, command, COMMAND_TIMEOUT)
}

fn run_bounded(key: &str, command: &str, timeout: std::time::Duration) -> Result<Secret> {
    use std::io::Read;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::usage(format!("{key} could not be started: {e}")))?;
    let read_limited = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(pipe) = pipe {
                let _ = pipe.take(COMMAND_OUTPUT_LIMIT + 1).read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = read_limited(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read_limited(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::usage(format!(
                    "{key} did not finish within {:.0?}; it was stopped",
                    timeout
                )));
            }
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if stdout.len() as u64 > COMMAND_OUTPUT_LIMIT {
        return Err(Error::usage(format!(
            "{key} printed more than {} KiB; it should print the secret on one line",
            COMMAND_OUTPUT_LIMIT / 1024
        )));
    }
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        let first_line = one_line(stderr.lines().next().unwrap_or("").trim());
        let why = if first_line.is_empty() {
            String::new()
        } else {
            format!(": {first_line}")
        };
        return Err(Error::usage(format!("{key} failed ({status}){why}")));
    }
    let stdout = String::from_utf8(stdout)
        .map_err(|_| Error::usage(format!("{key} printed something that is not UTF-8")))?;
    let secret = stdout.lines().next().unwrap_or("").trim_end_matches('\r');
    if secret.is_empty() {
        return Err(Error::usage(format!("{key} printed nothing")));
    }
    Ok(Secret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_hides_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let source = PasswordSource::Environment("SIPGATE_PASSWORD", s);
        assert!(!format!("{source:?}").contains("hunter2"));
    }

    #[test]
    fn password_command_first_line() {
        let s = run_password_command("password_command", "printf 'pw1\\nsecond\\n'").expect("runs");
        assert_eq!(s.expose(), "pw1");
    }

    #[test]
    fn password_command_is_stopped_after_its_timeout_and_its_output_is_bounded() {
        let started = std::time::Instant::now();
        let err =
            run_bounded("password_command", "sleep 20", Duration::from_millis(200)).unwrap_err();
        assert!(err.to_string().contains("did not finish"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let err = run_password_command("password_command", "head -c 200000 /dev/zero | tr '\\0' a")
            .unwrap_err();
        assert!(err.to_string().contains("more than 64 KiB"), "{err}");
    }

    #[test]
    fn durations_that_would_overflow_are_refused() {
        for text in [
            "100000000d",
            "99999999999d",
            "18446744073709551615s",
            "36501d",
        ] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
        assert_eq!(
            parse_duration("36500d").ok(),
            Some(Duration::from_secs(36500 * 86_400))
        );
    }

    #[test]
    fn password_command_failure_is_one_line() {
        let err = run_password_command("password_command", "echo 'vault locked' >&2; exit 3")
            .unwrap_err();
        assert!(err.to_string().contains("vault locked"), "{err}");
        assert!(!err.to_string().contains('\n'));
        let err = run_password_command("password_command", "true").unwrap_err();
        assert!(err.to_string().contains("printed nothing"));
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
