//! `sipmirror config`: the settings in effect. Runs `password_command` to check that it works,
//! but never prints the password.

use crate::config::{PasswordSource, Settings};
use crate::error::{ExitCode, Result};
use crate::output;

pub fn run(settings: &Settings) -> Result<ExitCode> {
    let conn = &settings.connection;
    // Resolving runs password_command, so a broken one shows up here and not at 3 a.m.
    if !matches!(conn.password, PasswordSource::None) {
        conn.password.resolve()?;
    }
    let password = conn.password.describe().to_string();
    let config_file = settings
        .config_file
        .as_ref()
        .map(|p| p.display().to_string());
    if settings.json {
        output::json(&serde_json::json!({
            "config_file": config_file,
            "db": settings.db_path.display().to_string(),
            "base_url": conn.base_url,
            "username": conn.username,
            "password": password,
            "user_id": conn.user_id,
            "api_version": conn.api_version,
            "allow_insecure": conn.allow_insecure,
        }))?;
        return Ok(ExitCode::Ok);
    }
    let rows = [
        ("config file", config_file.unwrap_or_else(|| "none".into())),
        ("db", settings.db_path.display().to_string()),
        ("base_url", conn.base_url.clone()),
        (
            "username",
            conn.username.clone().unwrap_or_else(|| "not set".into()),
        ),
        ("password", password),
        ("user_id", conn.user_id.clone()),
        ("api_version", conn.api_version.clone()),
        ("allow_insecure", conn.allow_insecure.to_string()),
    ];
    let text: String = rows.iter().map(|(k, v)| format!("{k:<15} {v}\n")).collect();
    output::write_bytes(text.as_bytes())?;
    Ok(ExitCode::Ok)
}
