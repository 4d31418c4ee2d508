//! `sipmirror doctor`: checks everything a run depends on, all at once, and says what to do
//! about each problem: the config file, the credentials, what the token may read (one cheap
//! request per scope), reaching upstream, the mirror file, the writer lock and the media
//! folder. Exit 0 only when all is well.

use std::path::Path;

use crate::api::Upstream;
use crate::api::probe::Probed;
use crate::config::{GlobalArgs, Settings};
use crate::error::{ExitCode, Result};
use crate::output;
use crate::store::{Access, Mirror, WriterLock};

/// One check: what was looked at, what was found, and what to do when it is a problem.
#[derive(Debug, serde::Serialize)]
struct Check {
    name: &'static str,
    ok: bool,
    found: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, found: impl Into<String>) -> Check {
        Check {
            name,
            ok: true,
            found: found.into(),
            fix: None,
        }
    }

    fn problem(name: &'static str, found: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            ok: false,
            found: found.into(),
            fix: Some(fix.into()),
        }
    }
}

pub fn run(global: &GlobalArgs) -> Result<ExitCode> {
    let mut checks = Vec::new();
    // A config file that does not resolve is the first problem, not a reason to stop.
    let settings = match Settings::resolve(global) {
        Ok(settings) => settings,
        Err(e) => {
            checks.push(Check::problem(
                "config",
                e.to_string(),
                "fix the file; `sipmirror config` shows what is read from where",
            ));
            return report(global.json, &checks);
        }
    };
    checks.push(config_file(&settings));
    let credentials = credentials(&settings);
    let usable = credentials.ok;
    checks.push(credentials);
    if usable {
        checks.extend(upstream(&settings));
    }
    checks.extend(mirror(&settings));
    checks.push(media_folder(&settings.media.dir));
    report(settings.json, &checks)
}

fn config_file(settings: &Settings) -> Check {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = &settings.config_file else {
        let looked = crate::config::default_config_path()
            .map_or("no config folder".to_string(), |p| p.display().to_string());
        return Check::ok(
            "config",
            format!("no config file (looked at {looked}); environment and defaults"),
        );
    };
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0);
    let private = mode & 0o077 == 0;
    Check::ok(
        "config",
        format!(
            "{} (mode {mode:03o}{})",
            path.display(),
            if private { ", private" } else { "" }
        ),
    )
}

fn credentials(settings: &Settings) -> Check {
    let (id, secret, names) = settings.connection.credentials();
    if !id || !secret.is_set() {
        return Check::problem(
            "credentials",
            "not set",
            format!("set {names}; see the README, \"Using it with your account\""),
        );
    }
    match secret.resolve() {
        Ok(_) => Check::ok("credentials", secret.describe()),
        Err(e) => Check::problem(
            "credentials",
            e.to_string(),
            "fix the command; it must print the secret on stdout and exit 0",
        ),
    }
}

/// Reaches upstream and runs every probe side by side.
fn upstream(settings: &Settings) -> Vec<Check> {
    let mut settings = settings.clone();
    // A doctor answers quickly: one retry, not a backoff for minutes.
    settings.http.max_attempts = settings.http.max_attempts.min(2);
    let upstream = match Upstream::connect(&settings) {
        Ok(upstream) => upstream,
        Err(e) => {
            return vec![Check::problem(
                "upstream",
                e.to_string(),
                "fix base_url (or SIPGATE_BASE_URL)",
            )];
        }
    };
    let client = &upstream.client;
    let probes = client.probes();
    let results = upstream.block_on(futures_util::future::join_all(
        probes.iter().map(|p| client.probe(p)),
    ));
    let base = &settings.connection.base_url;
    if let Some(Probed::Unauthorized(message)) = results
        .iter()
        .find(|r| matches!(r, Probed::Unauthorized(_)))
    {
        return vec![Check::problem(
            "upstream",
            format!("{base}: {message}"),
            "check the credentials; a personal access token is shown once when it is made",
        )];
    }
    if let Some(Probed::Unreachable(message)) =
        results.iter().find(|r| matches!(r, Probed::Unreachable(_)))
    {
        return vec![Check::problem(
            "upstream",
            format!("{base}: {message}"),
            "check the network, a proxy, the clock (TLS) and base_url; `-v` shows each attempt",
        )];
    }
    let mut checks = vec![Check::ok("upstream", format!("{base} answers"))];
    let missing: Vec<String> = probes
        .iter()
        .zip(&results)
        .filter(|(_, r)| **r == Probed::MissingScope)
        .map(|(p, _)| format!("{} ({})", p.scope, p.needed_by))
        .collect();
    let failed: Vec<String> = probes
        .iter()
        .zip(&results)
        .filter_map(|(p, r)| match r {
            Probed::Failed(m) => Some(format!("{}: {m}", p.scope)),
            _ => None,
        })
        .collect();
    let not_booked: Vec<&str> = probes
        .iter()
        .zip(&results)
        .filter(|(_, r)| **r == Probed::NotBooked)
        .map(|(p, _)| p.scope)
        .collect();
    checks.push(if missing.is_empty() {
        let allowed = probes.len() - not_booked.len() - failed.len();
        let mut found = format!("{allowed} of {} reads allowed", probes.len());
        if !not_booked.is_empty() {
            found += &format!("; not booked for this account: {}", not_booked.join(", "));
        }
        Check::ok("scopes", found)
    } else {
        Check::problem(
            "scopes",
            format!("the token lacks {}", missing.join(", ")),
            "make a token with these scopes too (or `all`) and use it; write scopes are checked when first used",
        )
    });
    if !failed.is_empty() {
        checks.push(Check::problem(
            "reads",
            failed.join("; "),
            "upstream refused or garbled a read; try again, and `-vv` shows the answers",
        ));
    }
    checks
}

fn mirror(settings: &Settings) -> Vec<Check> {
    let path = &settings.db_path;
    if !path.exists() {
        return vec![Check::problem(
            "mirror",
            format!("no mirror at {}", path.display()),
            "run `sipmirror sync` (or `sipmirror init` to create it empty)",
        )];
    }
    let mut checks = Vec::new();
    match Mirror::open(path, Access::ReadOnly) {
        Err(e) => checks.push(Check::problem(
            "mirror",
            e.to_string(),
            "`sipmirror init` brings an older schema up to date; a damaged file needs a backup or a new sync",
        )),
        Ok(mirror) => checks.push(mirror_state(&mirror, settings)),
    }
    checks.push(lock(settings));
    checks
}

fn mirror_state(mirror: &Mirror, settings: &Settings) -> Check {
    let path = mirror.path().display();
    let quick: String = mirror
        .conn()
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .unwrap_or_else(|e| e.to_string());
    if quick != "ok" {
        return Check::problem(
            "mirror",
            format!("{path}: quick_check says {quick}"),
            "restore a backup, or move the file away and sync anew",
        );
    }
    let version = mirror.schema_version().unwrap_or(0);
    let wal = std::fs::metadata(format!("{}-wal", mirror.path().display())).map_or(0, |m| m.len());
    let feeding = crate::store::runs::feeding_api(mirror.conn())
        .ok()
        .flatten();
    let configured = settings.connection.api;
    if let Some(feeding) = feeding.filter(|f| *f != configured) {
        return Check::problem(
            "mirror",
            format!(
                "{path} is fed by the {} API, the settings say {}",
                feeding.name(),
                configured.name()
            ),
            "use the API that feeds it (--api), or switch with `sipmirror sync --full --switch-api`",
        );
    }
    Check::ok(
        "mirror",
        format!(
            "{path}: sound, schema {version}, WAL {} KiB",
            wal.div_ceil(1024)
        ),
    )
}

fn lock(settings: &Settings) -> Check {
    let Some(holder) = WriterLock::holder(&settings.db_path) else {
        return Check::ok("lock", "free");
    };
    let who = format!(
        "held by `{}` (pid {}) since {}",
        holder.command, holder.pid, holder.since
    );
    match holder.age() {
        Some(age) if age > settings.sync.stale_after => Check::problem(
            "lock",
            who,
            format!(
                "a run that old probably hangs: look at pid {} and end it; its lock goes with it",
                holder.pid
            ),
        ),
        _ => Check::ok("lock", who),
    }
}

fn media_folder(dir: &Path) -> Check {
    if !dir.exists() {
        return Check::ok(
            "media",
            format!("{} (made by the first `sync --media`)", dir.display()),
        );
    }
    let probe = dir.join(format!(".sipmirror-doctor-{}", std::process::id()));
    match std::fs::create_dir(&probe).and_then(|()| std::fs::remove_dir(&probe)) {
        Ok(()) => Check::ok("media", format!("{} (writable)", dir.display())),
        Err(e) => Check::problem(
            "media",
            format!("{}: {e}", dir.display()),
            "make the folder writable for this user, or set [media] dir",
        ),
    }
}

fn report(json: bool, checks: &[Check]) -> Result<ExitCode> {
    let healthy = checks.iter().all(|c| c.ok);
    if json {
        output::json(&serde_json::json!({ "ok": healthy, "checks": checks }))?;
    } else {
        let mut text = String::new();
        for check in checks {
            let mark = if check.ok { "ok     " } else { "PROBLEM" };
            text += &format!("{mark} {:<12} {}\n", check.name, check.found);
            if let Some(fix) = &check.fix {
                text += &format!("        {:<12} -> {fix}\n", "");
            }
        }
        output::write_bytes(text.as_bytes())?;
    }
    Ok(if healthy {
        ExitCode::Ok
    } else {
        ExitCode::Failed
    })
}
