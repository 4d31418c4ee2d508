//! `sipmirror status`: what is in the mirror and how the last runs went.

use crate::config::Settings;
use crate::error::{ExitCode, Result};
use crate::output;
use crate::store::{Access, Mirror, MirrorStatus};

const RECENT_RUNS: usize = 5;

pub fn run(settings: &Settings) -> Result<ExitCode> {
    let mirror = Mirror::open(&settings.db_path, Access::ReadOnly)?;
    let mut status = MirrorStatus::read(&mirror, RECENT_RUNS)?;
    status.lock_stale = status
        .lock_holder
        .as_ref()
        .and_then(|h| h.age())
        .is_some_and(|age| age > settings.sync.stale_after);
    if settings.json {
        output::json(&status)?;
    } else {
        output::write_bytes(render(&status).as_bytes())?;
    }
    Ok(ExitCode::Ok)
}

pub(crate) fn render(status: &MirrorStatus) -> String {
    let count = |name: &str| status.counts.get(name).copied().unwrap_or(0);
    let mut out = String::new();
    out += &format!(
        "mirror    {} (schema version {}, {})\n",
        status.db,
        status.schema_version,
        human_bytes(status.size_bytes)
    );
    out += &format!(
        "api       {}\n",
        status
            .api
            .as_deref()
            .unwrap_or("none yet (the first sync records it)")
    );
    out += &match &status.lock_holder {
        Some(holder) if status.lock_stale => format!(
            "lock      held by {holder}: longer than [sync] stale_after; that run probably hangs\n"
        ),
        Some(holder) => format!("lock      held by {holder}\n"),
        None => "lock      free\n".to_string(),
    };
    out += &format!(
        "events    {} ({} calls, {} faxes, {} sms, {} voicemails; {} unread, {} deleted upstream)\n",
        count("events"),
        count("calls"),
        count("faxes"),
        count("sms"),
        count("voicemails"),
        count("events_unread"),
        count("events_deleted_upstream"),
    );
    out += &format!(
        "contacts  {} ({} deleted upstream)\n",
        count("contacts"),
        count("contacts_deleted_upstream")
    );
    out += &format!(
        "settings  {} extensions, {} numbers; {} media files\n",
        count("extensions"),
        count("numbers"),
        count("media_files")
    );
    let (absent, stale): (Vec<_>, Vec<_>) = status.settings_unread.iter().partition(|u| u.absent);
    if !absent.is_empty() {
        let names: Vec<&str> = absent.iter().map(|u| u.resource.as_str()).collect();
        out += &format!(
            "          not booked on this account: {}\n",
            names.join(", ")
        );
    }
    if !stale.is_empty() {
        let names: Vec<String> = stale
            .iter()
            .map(|u| match &u.scope {
                Some(scope) => format!("{} (needs {scope})", u.resource),
                None => u.resource.clone(),
            })
            .collect();
        out += &format!(
            "          stale (not read by the last sync, rows as mirrored before): {}\n",
            names.join(", ")
        );
    }
    out += &format!(
        "outbox    {} pending, {} failed{}\n",
        count("outbox_pending"),
        count("outbox_failed"),
        if count("outbox_failed") > 0 {
            " (see `sipmirror outbox list`)"
        } else {
            ""
        }
    );
    if status.recent_runs.is_empty() {
        out += "runs      none yet\n";
    } else {
        out += "recent runs\n";
        for run in &status.recent_runs {
            out += &format!(
                "  #{:<5} {:<6} {:<8} {}  {} requests{}\n",
                run.id,
                run.command,
                run.outcome,
                run.started_at,
                run.requests,
                run.error
                    .as_deref()
                    .map(|e| format!("  error: {e}"))
                    .unwrap_or_default()
            );
        }
    }
    out += "views (what to query; `sipmirror schema` describes them)\n";
    for (view, rows) in &status.views {
        out += &format!("  {view:<28} {rows}\n");
    }
    out
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
