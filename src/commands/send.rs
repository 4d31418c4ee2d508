//! `sipmirror send sms|fax`: checks the message, queues it in the outbox (no network needed),
//! then, unless `--queue-only`, pushes at once so that it goes out now when upstream is
//! reachable. Whatever happens to that push, the message stays queued until it is sent, once.
//!
//! Through v2 a message goes to one recipient per request, so a send to several is queued as
//! one entry per recipient (all in one transaction); it goes out from an SMS extension or fax
//! line of the mirror's settings (`--from s1`, `--from f1`; default the first), and a time
//! given with `--at` may lie at most 30 days ahead.

use crate::api::{Capabilities, Recipients, Sender, Upstream};
use crate::cli::SendCommand;
use crate::compose;
use crate::config::Settings;
use crate::error::{Error, ErrorKind, ExitCode, Result};
use crate::output;
use crate::records::EventKind;
use crate::store::sends::{self, Send, SendRequest};
use crate::store::{Access, Mirror, WriterLock, now_utc};

pub fn run(settings: &Settings, command: &SendCommand) -> Result<ExitCode> {
    let api = settings.connection.api;
    let capabilities = Capabilities::of(api);
    // Everything about the message is checked before the mirror is opened: a refused send
    // leaves no trace, not even a new empty mirror. (Where `--from` is a number it is checked
    // here; where it is an extension, against the mirror below.)
    let from_number = |from: &Option<String>| match capabilities.sender() {
        Sender::Number => from.clone(),
        Sender::Extension => None,
    };
    let (message, options, from, wait) = match command {
        SendCommand::Sms {
            options,
            text,
            from,
        } => {
            let text = read_text(text)?;
            let request = compose::sms(
                &options.to,
                &text,
                from_number(from).as_deref(),
                options.at.as_deref(),
                &settings.country_code,
                settings.timezone,
            )?;
            (Message::Sms(request), options, from, false)
        }
        SendCommand::Fax {
            options,
            from,
            wait,
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
            (Message::Fax(fax), options, from, *wait)
        }
    };
    compose::within_schedule(
        message.request().schedule.as_deref(),
        capabilities.max_schedule_ahead_days(),
        capabilities.api_name(),
    )?;
    let mut mirror = Mirror::open(&settings.db_path, Access::Existing)?;
    crate::sync::check_feeding_api(&mirror, api, false)?;
    let kind = message.kind();
    let source = match capabilities.sender() {
        Sender::Number => {
            if let (Message::Fax(_), Some(id)) = (&message, from) {
                check_extension(&mirror, kind, id, false)?;
            }
            None
        }
        Sender::Extension => Some(sending_extension(&mirror, kind, from.as_deref())?),
    };
    let requests = split(
        message.request(),
        capabilities.recipients_per_send(),
        source,
    );
    let document = match &message {
        Message::Fax(fax) => Some(fax.document()),
        Message::Sms(_) => None,
    };
    let queued = sends::queue(
        mirror.conn_mut(),
        kind,
        &requests,
        document.as_ref(),
        &now_utc(),
    )?;
    drop(mirror);
    if options.queue_only {
        for send in &queued {
            report(
                settings,
                send,
                "queued; the next push or sync sends it",
                None,
            )?;
        }
        return Ok(ExitCode::Ok);
    }
    let code = push_now(settings, &queued)?;
    if wait {
        return super::fax_wait::follow(settings, &queued).map(|c| c.or(code));
    }
    Ok(code)
}

enum Message {
    Sms(SendRequest),
    Fax(compose::Fax),
}

impl Message {
    fn kind(&self) -> EventKind {
        match self {
            Message::Sms(_) => EventKind::Sms,
            Message::Fax(_) => EventKind::Fax,
        }
    }

    fn request(&self) -> &SendRequest {
        match self {
            Message::Sms(request) => request,
            Message::Fax(fax) => &fax.request,
        }
    }
}

/// The requests that send `request`: one, or one per recipient where the API takes one
/// recipient a request; each from the sending extension where the API wants one named.
fn split(request: &SendRequest, per_send: Recipients, source: Option<String>) -> Vec<SendRequest> {
    let source = source.or_else(|| request.source.clone());
    match per_send {
        Recipients::All => vec![SendRequest {
            source,
            ..request.clone()
        }],
        Recipients::One => request
            .targets
            .iter()
            .map(|target| SendRequest {
                targets: vec![target.clone()],
                source: source.clone(),
                ..request.clone()
            })
            .collect(),
    }
}

/// The SMS extension or fax line to send from, where the API sends from one: `from` if it
/// is one of the mirror's, else the first. The settings must have been synced (they list
/// them).
fn sending_extension(mirror: &Mirror, kind: EventKind, from: Option<&str>) -> Result<String> {
    let known = sends::extensions(mirror.conn(), kind)?;
    let what = extension_kind(kind);
    match from {
        Some(id) => check_extension(mirror, kind, id, true).map(|()| id.to_string()),
        None => known.into_iter().next().ok_or_else(|| {
            Error::usage(format!(
                "the mirror knows none of the account's {what}s to send from: run `sipmirror sync` first (the token needs the scope {}:read)",
                if kind == EventKind::Sms { "sms" } else { "faxlines" }
            ))
        }),
    }
}

fn extension_kind(kind: EventKind) -> &'static str {
    if kind == EventKind::Sms {
        "SMS extension"
    } else {
        "fax extension"
    }
}

/// `--text -` reads the text from stdin, for scripts.
fn read_text(text: &str) -> Result<String> {
    if text != "-" {
        return Ok(text.to_string());
    }
    std::io::read_to_string(std::io::stdin())
        .map_err(|e| Error::usage(format!("--text -: cannot read the text from stdin: {e}")))
}

/// An extension named with `--from` must be one of the mirror's extensions of that kind, once
/// the settings are synced (`required`: even before).
fn check_extension(mirror: &Mirror, kind: EventKind, id: &str, required: bool) -> Result<()> {
    let known = sends::extensions(mirror.conn(), kind)?;
    if (known.is_empty() && !required) || known.iter().any(|k| k == id) {
        return Ok(());
    }
    let what = extension_kind(kind);
    let list = if known.is_empty() {
        "none is known yet: run `sipmirror sync` first".to_string()
    } else {
        format!("its {what}s: {}", known.join(", "))
    };
    Err(Error::usage(format!(
        "--from {id:?}: not one of the account's {what}s ({list})"
    )))
}

/// Pushes the outbox now. A held lock or an unreachable upstream is not an error: the message
/// is queued and goes out with the next run.
fn push_now(settings: &Settings, queued: &[Send]) -> Result<ExitCode> {
    let lock = match WriterLock::acquire(&settings.db_path, "send") {
        Ok(lock) => lock,
        Err(e) if e.kind() == ErrorKind::Locked => {
            let note = format!(
                "queued; another run holds the mirror ({e}); the next push or sync sends it"
            );
            for send in queued {
                report(settings, send, &note, None)?;
            }
            return Ok(ExitCode::Ok);
        }
        Err(e) => return Err(e),
    };
    let mut mirror = Mirror::open(&settings.db_path, Access::Existing)?;
    // No credentials or a bad base URL: the message is queued all the same, and saying so
    // (not failing) keeps a script from queuing it twice.
    let pushed = Upstream::connect(settings)
        .and_then(|upstream| crate::push::run(&mut mirror, settings, &upstream));
    drop(lock);
    let mut code = ExitCode::Ok;
    for send in queued {
        let outcome = match &pushed {
            Err(e) => {
                let note = format!("queued, not sent yet: {e}; the next push or sync sends it");
                report(settings, send, &note, None)
            }
            Ok(_) => outcome(settings, &mirror, send),
        };
        code = outcome?.or(code);
    }
    Ok(code)
}

/// Says what became of one queued send after the push.
fn outcome(settings: &Settings, mirror: &Mirror, send: &Send) -> Result<ExitCode> {
    match sends::find(mirror.conn(), send.id)? {
        None => {
            let event = sends::sent_event(mirror.conn(), send.id)?;
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
        Some(waiting) if waiting.last_error.is_none() && waiting.next_attempt_at.is_some() => {
            let until = waiting.next_attempt_at.as_deref().unwrap_or_default();
            let note = format!(
                "waits in the outbox until {until} (upstream cannot send it later for us); the first push or sync from then on sends it"
            );
            report(settings, &waiting, &note, None)
        }
        Some(waiting) => {
            let why = waiting.last_error.as_deref().unwrap_or("not tried yet");
            let note = format!("queued, not sent yet ({why}); the next push or sync sends it");
            report(settings, &waiting, &note, None)
        }
    }
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
