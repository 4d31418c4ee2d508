//! `sipmirror config`: every setting in effect and where it came from (flag, environment, the
//! config file with its path, or the default). Runs `password_command` / `token_command` to
//! check that they work, but never prints the password or the token.

use std::time::Duration;

use crate::config::{KEYS, Settings, default_config_path};
use crate::error::{ExitCode, Result};
use crate::output;

pub fn run(settings: &Settings) -> Result<ExitCode> {
    let conn = &settings.connection;
    // Resolving runs password_command, so a broken one shows up here and not at 3 a.m.
    for secret in [&conn.password, &conn.token] {
        if secret.is_set() {
            secret.resolve()?;
        }
    }
    let config_file = settings
        .config_file
        .as_ref()
        .map(|p| p.display().to_string());
    // With no file, the path that was looked at: that is where one would put it.
    let looked_at = settings
        .config_file
        .clone()
        .or_else(default_config_path)
        .map(|p| p.display().to_string());
    // `token_command` and `password_command` are where `token` and `password` come from,
    // which their rows already say.
    let rows: Vec<(&str, String, String)> = KEYS
        .iter()
        .filter(|key| !key.name.ends_with("_command"))
        .map(|key| {
            let origin = settings.origins.of(key.name).to_string();
            (key.name, value_of(settings, key.name), origin)
        })
        .collect();
    if settings.json {
        let mut object = serde_json::Map::new();
        object.insert("config_file".into(), config_file.clone().into());
        object.insert("config_file_looked_at".into(), looked_at.into());
        let mut sources = serde_json::Map::new();
        for (name, value, origin) in &rows {
            object.insert((*name).into(), value.clone().into());
            sources.insert((*name).into(), origin.clone().into());
        }
        // Kept under their old names: scripts read `token_id` and friends at the top level.
        object.insert("user_id".into(), conn.user_id.clone().into());
        object.insert("allow_insecure".into(), conn.allow_insecure.into());
        object.insert("token_id".into(), conn.token_id.clone().into());
        object.insert("username".into(), conn.username.clone().into());
        object.insert("sources".into(), sources.into());
        output::json(&serde_json::Value::Object(object))?;
        return Ok(ExitCode::Ok);
    }
    let file_line = match (&config_file, &looked_at) {
        (Some(path), _) => format!("config file: {path}\n"),
        (None, Some(path)) => format!("config file: none (looked for {path})\n"),
        (None, None) => "config file: none (no home directory to look in)\n".to_string(),
    };
    let width = rows.iter().map(|(k, v, _)| (k.len(), v.chars().count()));
    let (key_width, value_width) = width.fold((0, 0), |(a, b), (k, v)| (a.max(k), b.max(v)));
    let value_width = value_width.min(40);
    let mut text = file_line;
    text.push('\n');
    for (name, value, origin) in &rows {
        text.push_str(&format!(
            "{name:<key_width$}  {value:<value_width$}  {origin}\n"
        ));
    }
    output::write_bytes(text.as_bytes())?;
    Ok(ExitCode::Ok)
}

/// A setting's value as the user would write it; secrets only say whether and where they are set.
fn value_of(settings: &Settings, key: &str) -> String {
    let conn = &settings.connection;
    let (sync, push, media, http) = (
        &settings.sync,
        &settings.push,
        &settings.media,
        &settings.http,
    );
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "not set".into());
    match key {
        "db" => settings.db_path.display().to_string(),
        "api" => conn.api.name().to_string(),
        "base_url" => conn.base_url.clone(),
        "token_id" => opt(&conn.token_id),
        "token" | "token_command" => conn.token.describe(),
        "username" => opt(&conn.username),
        "password" | "password_command" => conn.password.describe(),
        "user_id" => conn.user_id.clone(),
        "api_version" => conn.api_version.clone(),
        "allow_insecure" => conn.allow_insecure.to_string(),
        "country_code" => settings.country_code.clone(),
        "timezone" => settings.timezone.name().to_string(),
        "sync.lookback" => duration(sync.lookback),
        "sync.full_every" => duration(sync.full_every),
        "sync.max_delete_ratio" => sync.max_delete_ratio.to_string(),
        "sync.concurrency" => sync.concurrency.to_string(),
        "sync.stale_after" => duration(sync.stale_after),
        "sync.skip_settings" => list(&sync.skip_settings),
        "push.conflict" => format!("{:?}", push.conflict).to_lowercase(),
        "push.concurrency" => push.concurrency.to_string(),
        "push.max_deletes" => push.max_deletes.to_string(),
        "push.fax_poll" => duration(push.fax_poll),
        "push.fax_wait" => duration(push.fax_wait),
        "media.fetch" => format!("{:?}", media.fetch).to_lowercase(),
        "media.max_age" => media.max_age.map_or("no limit".into(), duration),
        "media.dir" => media.dir.display().to_string(),
        "media.prune" => media.prune.to_string(),
        "media.max_voicemail_mib" => (media.max_voicemail_bytes >> 20).to_string(),
        "media.max_fax_mib" => (media.max_fax_bytes >> 20).to_string(),
        "media.max_preview_mib" => (media.max_preview_bytes >> 20).to_string(),
        "http.connect_timeout" => duration(http.connect_timeout),
        "http.timeout" => duration(http.timeout),
        "http.max_attempts" => http.max_attempts.to_string(),
        "http.retry_base" => duration(http.retry_base),
        "webhook.key" => match settings.webhook_key {
            Some(_) => "set".into(),
            None => "not set".into(),
        },
        "webhook.allow" => list(&settings.webhook.allow),
        "webhook.proxy_header" => opt(&settings.webhook.proxy_header),
        "webhook.public_key_file" => settings
            .webhook
            .public_key_file
            .as_ref()
            .map_or("not set".into(), |p| p.display().to_string()),
        _ => String::new(),
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A duration the way the config file writes it: `7d`, `24h`, `250ms`.
fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}
