//! `sipmirror config`: the settings in effect. Runs `password_command` / `token_command` to
//! check that they work, but never prints the password or the token.

use crate::config::Settings;
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
    let password = conn.password.describe();
    let token = conn.token.describe();
    let config_file = settings
        .config_file
        .as_ref()
        .map(|p| p.display().to_string());
    if settings.json {
        output::json(&serde_json::json!({
            "config_file": config_file,
            "db": settings.db_path.display().to_string(),
            "api": conn.api.name(),
            "base_url": conn.base_url,
            "token_id": conn.token_id,
            "token": token,
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
        ("api", conn.api.name().to_string()),
        ("base_url", conn.base_url.clone()),
        (
            "token_id",
            conn.token_id.clone().unwrap_or_else(|| "not set".into()),
        ),
        ("token", token),
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
