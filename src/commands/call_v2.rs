//! `sipmirror call ...` through sipgate's API v2: click-to-dial (`POST /sessions/calls`) and
//! the calls running now (`/calls`: list, hang up, record, hold, mute, transfer, DTMF). v2 has
//! no parking and no `registerSip`; those are refused before any request.

use crate::api::v2::actions::{CallControl, WireCall};
use crate::api::{ApiError, ApiErrorKind, Upstream};
use crate::cli::CallCommand;
use crate::config::Settings;
use crate::error::{Error, ExitCode, Result};
use crate::validate::{path_id, phone_number};

use super::call::{Answer, DIAL_MAY_HAVE_STARTED, print};

/// A command with its arguments checked.
enum Request {
    Dial {
        caller: String,
        callee: String,
        device: Option<String>,
        caller_id: Option<String>,
    },
    List,
    Show(String),
    Control(String, CallControl),
}

pub fn run(settings: &Settings, command: &CallCommand) -> Result<ExitCode> {
    let request = check(command, settings)?;
    let upstream = Upstream::connect(settings)?;
    let client = &upstream.client;
    let answer = upstream.block_on(async {
        match &request {
            Request::Dial {
                caller,
                callee,
                device,
                caller_id,
            } => client
                .dial_v2(caller, callee, device.as_deref(), caller_id.as_deref())
                .await
                .map(|id| {
                    Answer::Done(format!(
                        "call {id} started: {caller} rings first, then {callee}"
                    ))
                })
                .map_err(|e| e.into_error("call dial: ", DIAL_MAY_HAVE_STARTED)),
            Request::List => client.calls().await.map(Answer::Calls).map_err(Error::from),
            Request::Show(id) => {
                let calls = client.calls().await?;
                match calls.into_iter().find(|c| c.call_id == *id) {
                    Some(call) => Ok(Answer::Calls(vec![call])),
                    None => Err(Error::from(ApiError::new(
                        ApiErrorKind::NotFound,
                        format!("no running call {id:?} (GET /calls lists established calls only)"),
                    ))),
                }
            }
            Request::Control(id, control) => client
                .control_call(id, control)
                .await
                .map(|()| Answer::Done(done(id, control)))
                .map_err(|e| {
                    e.into_error(
                        &format!("call {id}: "),
                        "it may have happened all the same: see `sipmirror call list`",
                    )
                }),
        }
    })?;
    print(settings, &answer, describe)?;
    Ok(ExitCode::Ok)
}

fn check(command: &CallCommand, settings: &Settings) -> Result<Request> {
    let cc = settings.country_code.as_str();
    let id = |raw: &str| path_id(raw, "call id");
    let on = |state: &crate::cli::Switch| state.is_on();
    Ok(match command {
        CallCommand::Dial {
            register_sip: Some(_),
            ..
        } => {
            return Err(settings.unsupported(
                "call dial --register-sip",
                "it has no registerSip; name the device that rings first with --device",
            ));
        }
        CallCommand::Park { .. } => {
            return Err(
                settings.unsupported("call park", "it has no parking (hold is `call hold`)")
            );
        }
        CallCommand::Dial {
            caller,
            callee,
            device,
            caller_id,
            ..
        } => {
            let caller = party(caller, "--caller", cc)?;
            let device = device
                .as_deref()
                .map(|d| path_id(d, "--device"))
                .transpose()?;
            if caller.starts_with('+') && device.is_none() {
                return Err(Error::usage(
                    "--caller is a number: name the device that rings first with --device (e.g. e0)",
                ));
            }
            Request::Dial {
                caller,
                callee: phone_number(callee.trim().trim_start_matches("tel:"), "--callee", cc)?,
                device,
                caller_id: caller_id
                    .as_deref()
                    .map(|n| phone_number(n, "--caller-id", cc))
                    .transpose()?,
            }
        }
        CallCommand::List => Request::List,
        CallCommand::Show { id: raw } => Request::Show(id(raw)?),
        CallCommand::Hangup { id: raw } => Request::Control(id(raw)?, CallControl::Hangup),
        CallCommand::Record {
            id: raw,
            state,
            announce,
        } => Request::Control(
            id(raw)?,
            CallControl::Record {
                on: on(state),
                announce: *announce,
            },
        ),
        CallCommand::Hold { id: raw, state } => {
            Request::Control(id(raw)?, CallControl::Hold(on(state)))
        }
        CallCommand::Mute { id: raw, state } => {
            Request::Control(id(raw)?, CallControl::Mute(on(state)))
        }
        CallCommand::Transfer {
            id: raw,
            number,
            attended,
        } => Request::Control(
            id(raw)?,
            CallControl::Transfer {
                number: phone_number(number, "number", cc)?,
                attended: *attended,
            },
        ),
        CallCommand::Dtmf { id: raw, digits } => {
            Request::Control(id(raw)?, CallControl::Dtmf(dtmf(digits)?))
        }
    })
}

/// A device id (`e0`, `sip:e0`) as it is, or a number (`tel:+49...`, `030 ...`) in E.164.
fn party(raw: &str, what: &str, country_code: &str) -> Result<String> {
    let raw = raw.trim();
    if let Some(device) = raw.strip_prefix("sip:") {
        return path_id(device, what);
    }
    let number = raw.strip_prefix("tel:").unwrap_or(raw);
    let looks_like_device = number.starts_with(|c: char| c.is_ascii_alphabetic());
    if looks_like_device {
        path_id(number, what)
    } else {
        phone_number(number, what, country_code)
    }
}

/// DTMF digits: 0-9, *, #, A-D; at most 64.
fn dtmf(raw: &str) -> Result<String> {
    let digits = raw.trim().to_ascii_uppercase();
    let valid = |c: char| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D');
    if digits.is_empty() || digits.len() > 64 || !digits.chars().all(valid) {
        return Err(Error::usage(format!(
            "DTMF {raw:?}: give 1 to 64 of 0-9, *, #, A-D"
        )));
    }
    Ok(digits)
}

fn done(id: &str, control: &CallControl) -> String {
    let state = |on: bool| if on { "on" } else { "off" };
    match control {
        CallControl::Hangup => format!("call {id} hung up"),
        CallControl::Record { on, .. } => format!("call {id}: recording {}", state(*on)),
        CallControl::Hold(on) => format!("call {id}: hold {}", state(*on)),
        CallControl::Mute(on) => format!("call {id}: muted {}", state(*on)),
        CallControl::Transfer { number, attended } => format!(
            "call {id} transferred to {number}{}",
            if *attended { " (attended)" } else { "" }
        ),
        CallControl::Dtmf(digits) => format!("call {id}: sent {digits}"),
    }
}

/// `call 17: +4930... <-> +4940..., muted, on hold, recording`
fn describe(call: &WireCall) -> String {
    let parties: Vec<&str> = call
        .participants
        .iter()
        .map(|p| p.phone_number.as_deref().unwrap_or("?"))
        .collect();
    let mut line = format!("call {}: {}", call.call_id, parties.join(" <-> "));
    for (on, what) in [
        (call.muted, "muted"),
        (call.hold, "on hold"),
        (call.recording, "recording"),
    ] {
        if on == Some(true) {
            line.push_str(", ");
            line.push_str(what);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parties_and_digits_are_checked() {
        assert_eq!(party("e0", "x", "49").unwrap(), "e0");
        assert_eq!(party("sip:y1", "x", "49").unwrap(), "y1");
        assert_eq!(party("tel:030 123456", "x", "49").unwrap(), "+4930123456");
        assert!(party("12", "x", "49").is_err());
        assert_eq!(dtmf("12*#a").unwrap(), "12*#A");
        assert!(dtmf("12x").is_err());
        assert!(dtmf("").is_err());
    }
}
