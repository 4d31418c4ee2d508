//! Resolving the settings: flags, then environment, then the config file, then defaults,
//! each value checked once here so that commands can trust what they get.

use std::path::PathBuf;
use std::time::Duration;

use super::GlobalArgs;
use super::file::{FileConfig, load_file};
use super::{
    Api, ConflictPolicy, Connection, DEFAULT_API_VERSION, DEFAULT_USER_ID, HttpSettings,
    MediaFetch, MediaSettings, Origins, PASSWORD_NAMES, PasswordSource, PushSettings, Secret,
    Settings, SyncSettings, TOKEN_NAMES, WebhookSettings, default_config_path, display_opt,
    env_nonempty, first, parse_duration,
};
use crate::error::{Error, Result, one_line};

impl Settings {
    /// Resolves the settings from parsed flags (which already include their environment
    /// variables), the process environment and the config file.
    pub fn resolve(args: &GlobalArgs) -> Result<Settings> {
        let ((file, file_keys), config_file) = match &args.config {
            Some(path) => (load_file(path)?, Some(path.clone())),
            None => match default_config_path() {
                Some(path) if path.exists() => (load_file(&path)?, Some(path)),
                _ => ((FileConfig::default(), Default::default()), None),
            },
        };
        let mut settings = Settings::resolve_with(args, file, config_file)?;
        settings.origins.file_keys = file_keys;
        Ok(settings)
    }

    pub(super) fn resolve_with(
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
            skip_settings: file.sync.skip_settings.clone().unwrap_or_default(),
        };
        if let Some(unknown) = sync
            .skip_settings
            .iter()
            .find(|r| !super::SETTINGS_RESOURCES.contains(&r.as_str()))
        {
            return Err(Error::usage(format!(
                "config file {where_}: sync.skip_settings: {unknown:?} is not a settings resource; choose from {}",
                super::SETTINGS_RESOURCES.join(", ")
            )));
        }
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
            origins: Origins {
                command_line: args.given_on_command_line.clone(),
                file: config_file.clone(),
                file_keys: Default::default(),
            },
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

/// `$XDG_DATA_HOME/sipmirror/mirror.db`.
pub fn default_db_path() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "sipmirror")
        .map(|dirs| dirs.data_dir().join("mirror.db"))
        .ok_or_else(|| {
            Error::usage("cannot find a home directory for the default database: pass --db PATH")
        })
}
