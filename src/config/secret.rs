//! The secrets (the classic password, the v2 token): kept out of every output, and fetched
//! only when a command talks to upstream, from the environment, the config file or a command.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{display_opt, env_nonempty};
use crate::error::{Error, Result, one_line};

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
    pub(super) fn from_sources(
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

/// How long `password_command` may take, and how much it may print.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
const COMMAND_OUTPUT_LIMIT: u64 = 64 * 1024;

/// Runs `password_command` (or `token_command`) with `sh -c` and returns the first line it
/// prints. A command that hangs (a password manager waiting for a PIN nobody types, in cron)
/// is stopped after 30 s, and at most 64 KiB of its output is read: a run must never hang or
/// fill memory on it while it holds the mirror's lock.
fn run_password_command(key: &str, command: &str) -> Result<Secret> {
    run_bounded(key, command, COMMAND_TIMEOUT)
}

fn run_bounded(key: &str, command: &str, timeout: Duration) -> Result<Secret> {
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
                std::thread::sleep(Duration::from_millis(10));
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
    fn password_command_failure_is_one_line() {
        let err = run_password_command("password_command", "echo 'vault locked' >&2; exit 3")
            .unwrap_err();
        assert!(err.to_string().contains("vault locked"), "{err}");
        assert!(!err.to_string().contains('\n'));
        let err = run_password_command("password_command", "true").unwrap_err();
        assert!(err.to_string().contains("printed nothing"));
    }
}
