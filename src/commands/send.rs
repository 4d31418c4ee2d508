//! `sipmirror send sms|fax`: checks the message, queues it in the outbox (no network needed),
//! then, unless `--queue-only`, pushes at once so that it goes out now when upstream is
//! reachable. Whatever happens to that push, the message stays queued until it is sent, once.

use crate::api::Upstream;
use crate::api::events::EventKind;
use crate::cli::SendCommand;
use crate::compose;
use crate::config::Settings;
use crate::error::{Error, ErrorKind, ExitCode, Result};
use crate::output;
use crate::store::sends::{self, Send, SendRequest};
use crate::store::{Access, Mirror, WriterLock, now_utc};

pub fn run(settings: &Settings, command: &SendCommand) -> Result<ExitCode> {
    settings.require_classic("sending SMS and faxes")?;
    // Everything about the message is checked before the mirror is opened: a refused send
    // leaves no trace, not even a new empty mirror.
    let (message, options) = match command {
        SendCommand::Sms {
            options,
            text,
            from,
        } => {
            let text = read_text(text)?;
            let request = compose::sms(
                &options.to,
                &text,
                from.as_deref(),
                options.at.as_deref(),
                &settings.country_code,
                settings.timezone,
            )?;
            (Message::Sms(request), options)
        }
        SendCommand::Fax {
            options,
            from,
            file,
        } => {
            let fax = compose::fax(
                &options.to,
                from.as_deref(),
                options.at.as_deref(),
                file,
                &settings.country_code,
                settings.timezone,
            )?;
            (Message::Fax(fax), options)
        }
    };
    let mut mirror = Mirror::open(&settings.db_path, Access::Existing)?;
    let send = match &message {
        Message::Sms(request) => {
            sends::queue(mirror.conn_mut(), EventKind::Sms, request, None, &now_utc())?
        }
        Message::Fax(fax) => {
            if let Some(id) = &fax.request.source {
                check_fax_extension(&mirror, id)?;
            }
            sends::queue(
                mirror.conn_mut(),
                EventKind::Fax,
                &fax.request,
                Some(&fax.document()),
                &now_utc(),
            )?
        }
    };
    drop(mirror);
    if options.queue_only {
        return report(
            settings,
            &send,
            "queued; the next push or sync sends it",
            None,
        );
    }
    push_now(settings, &send)
}

enum Message {
    Sms(SendRequest),
    Fax(compose::Fax),
}

/// `--text -` reads the text from stdin, for scripts.
fn read_text(text: &str) -> Result<String> {
    if text != "-" {
        return Ok(text.to_string());
    }
    std::io::read_to_string(std::io::stdin())
        .map_err(|e| Error::usage(format!("--text -: cannot read the text from stdin: {e}")))
}

/// A fax extension named with `--from` must be one of the mirror's fax extensions, once the
/// settings are synced.
fn check_fax_extension(mirror: &Mirror, id: &str) -> Result<()> {
    let known: Vec<String> = mirror
        .conn()
        .prepare(
            "SELECT extension_id FROM mirror_extensions WHERE type = 'fax' ORDER BY extension_id",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if known.is_empty() || known.iter().any(|k| k == id) {
        return Ok(());
    }
    Err(Error::usage(format!(
        "--from {id:?}: not a fax extension of the account (its fax extensions: {})",
        known.join(", ")
    )))
}

/// Pushes the outbox now. A held lock or an unreachable upstream is not an error: the message
/// is queued and goes out with the next run.
fn push_now(settings: &Settings, send: &Send) -> Result<ExitCode> {
    let lock = match WriterLock::acquire(&settings.db_path, "send") {
        Ok(lock) => lock,
        Err(e) if e.kind() == ErrorKind::Locked => {
            let note = format!(
                "queued; another run holds the mirror ({e}); the next push or sync sends it"
            );
            return report(settings, send, &note, None);
        }
        Err(e) => return Err(e),
    };
    let mut mirror = Mirror::open(&settings.db_path, Access::Existing)?;
    // No credentials or a bad base URL: the message is queued all the same, and saying so
    // (not failing) keeps a script from queuing it twice.
    let pushed = Upstream::connect(settings)
        .and_then(|upstream| crate::push::run(&mut mirror, settings, &upstream));
    drop(lock);
    if let Err(e) = pushed {
        let note = format!("queued, not sent yet: {e}; the next push or sync sends it");
        return report(settings, send, &note, None);
    }
    match sends::find(mirror.conn(), send.id)? {
        None => {
            let event = sent_event(&mirror, send.id)?;
            let note = match event {
                Some(id) => format!("sent (upstream event {id})"),
                None => "sent".to_string(),
            };
            report(settings, send, &note, event)
        }
        Some(waiting) if waiting.state == "failed" => {
            let why = waiting.last_error.as_deref().unwrap_or("refused");
            eprintln!(
                "sipmirror: outbox entry {}: upstream refused the {}: {why}; fix it and `sipmirror outbox retry {}`, or `sipmirror outbox drop {}`",
                send.id, send.kind, send.id, send.id
            );
            report(settings, &waiting, "failed", None)?;
            Ok(ExitCode::Partial)
        }
        Some(waiting) => {
            let why = waiting.last_error.as_deref().unwrap_or("not tried yet");
            let note = format!("queued, not sent yet ({why}); the next push or sync sends it");
            report(settings, &waiting, &note, None)
        }
    }
}

fn sent_event(mirror: &Mirror, outbox_id: i64) -> Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    Ok(mirror
        .conn()
        .query_row(
            "SELECT upstream_event_id FROM outbox_log WHERE outbox_id = ?1 ORDER BY id DESC LIMIT 1",
            [outbox_id],
            |row| row.get(0),
        )
        .optional()?
        .flatten())
}

fn report(
    settings: &Settings,
    send: &Send,
    note: &str,
    upstream_event_id: Option<i64>,
) -> Result<ExitCode> {
    if settings.json {
        output::json(&serde_json::json!({
            "outbox_id": send.id,
            "client_token": send.client_token,
            "kind": send.kind,
            "state": if upstream_event_id.is_some() { "sent" } else { send.state.as_str() },
            "upstream_event_id": upstream_event_id,
            "request": send.request,
        }))?;
    } else if !settings.quiet {
        output::line(&format!(
            "outbox entry {}: {}: {note}",
            send.id,
            sends::describe(send)
        ))?;
    }
    Ok(ExitCode::Ok)
}
