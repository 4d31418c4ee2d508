//! `sipmirror emulator`: serve the built-in emulator until interrupted.

use crate::cli::EmulatorArgs;
use crate::emulator::{Emulator, EmulatorConfig, Faults};
use crate::error::{Error, ExitCode, Result};
use crate::output;

/// More than this would not fit in a small machine's memory; the emulator is for testing.
const MAX_EVENTS: usize = 5_000_000;
const MAX_CONTACTS: usize = 1_000_000;

pub fn run(args: &EmulatorArgs, json: bool) -> Result<ExitCode> {
    if args.print_push_key {
        output::write_bytes(crate::emulator::PUSH_PUBLIC_KEY.as_bytes())?;
        return Ok(ExitCode::Ok);
    }
    let config = config(args)?;
    let emulator = Emulator::start(config)?;
    let url = emulator.base_url().to_string();
    if json {
        output::json(&serde_json::json!({
            "base_url": url,
            "v2_base_url": emulator.v2_base_url(),
            "token_id": emulator.token_id(),
            "token": emulator.token(),
            "token_scopes": args.token_scopes,
            "user": emulator.user(),
            "password": emulator.password(),
        }))?;
    } else {
        output::line(&format!(
            "sipgate API emulator on {url} ({} events, {} contacts, seed {})\n\
             v2:       SIPGATE_BASE_URL={v2} SIPGATE_TOKEN_ID={} SIPGATE_TOKEN={} sipmirror sync\n\
             \x20         (token scopes: {})\n\
             classic:  SIPGATE_API=classic SIPGATE_BASE_URL={url} SIPGATE_USERNAME={} SIPGATE_PASSWORD={} sipmirror sync\n\
             control:  {url}/_emulator/stats\n\
             Press Ctrl-C to stop.",
            args.events,
            args.contacts,
            args.seed,
            emulator.token_id(),
            emulator.token(),
            args.token_scopes,
            emulator.user(),
            emulator.password(),
            v2 = emulator.v2_base_url(),
        ))?;
    }
    wait_for_interrupt()?;
    emulator.stop();
    Ok(ExitCode::Ok)
}

fn config(args: &EmulatorArgs) -> Result<EmulatorConfig> {
    if args.events > MAX_EVENTS {
        return Err(Error::usage(format!("--events: at most {MAX_EVENTS}")));
    }
    if args.contacts > MAX_CONTACTS {
        return Err(Error::usage(format!("--contacts: at most {MAX_CONTACTS}")));
    }
    let mut faults = Faults {
        latency_ms: args.latency_ms,
        jitter_ms: args.jitter_ms,
        retry_after_s: args.retry_after_s,
        reset_rate: args.reset_rate,
        truncate_rate: args.truncate_rate,
        malformed_rate: args.malformed_rate,
        wrong_type_rate: args.wrong_type_rate,
        slow_body_ms: args.slow_body_ms,
        lose_response_rate: args.lose_response_rate,
        ..Faults::default()
    };
    for spec in &args.status_rates {
        let parsed = spec.split_once('=').and_then(|(code, rate)| {
            Some((
                code.trim().parse::<u16>().ok()?,
                rate.trim().parse::<f64>().ok()?,
            ))
        });
        let (code, rate) = parsed.ok_or_else(|| {
            Error::usage(format!(
                "--status-rate {spec:?}: expected CODE=RATE, e.g. 500=0.2"
            ))
        })?;
        faults.status_rates.insert(code, rate);
    }
    faults
        .validate()
        .map_err(|e| Error::usage(format!("faults: {e}")))?;
    Ok(EmulatorConfig {
        listen: args.listen,
        seed: args.seed,
        events: args.events,
        contacts: args.contacts,
        span_days: args.span_days,
        user: args.user.clone(),
        password: args.password.clone(),
        token_id: args.token_id.clone(),
        token: args.token.clone(),
        token_scopes: args
            .token_scopes
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        faults,
        anchor_ms: anchor_ms(args.now.as_deref())?,
        ..EmulatorConfig::default()
    })
}

/// Where the generated history ends: `--now`, else the current time. (The library's default
/// is a fixed instant, so that tests get the same data every day.)
fn anchor_ms(now: Option<&str>) -> Result<i64> {
    let Some(text) = now else {
        return Ok(chrono::Utc::now().timestamp_millis());
    };
    let parsed = chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| {
                d.and_time(chrono::NaiveTime::MIN)
                    .and_utc()
                    .timestamp_millis()
            })
        });
    parsed.map_err(|_| {
        Error::usage(format!(
            "--now {:?}: write a time as 2026-03-01T12:00:00Z or a date as 2026-03-01",
            crate::error::one_line(text)
        ))
    })
}

/// Blocks until SIGINT or SIGTERM.
pub(crate) fn wait_for_interrupt() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io(format!("cannot start runtime: {e}")))?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .map_err(|e| Error::io(format!("cannot watch signals: {e}")))?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        Ok(())
    })
}
