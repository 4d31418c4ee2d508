//! `sipmirror call dial|list|show|hangup|record|park|hold|mute|transfer|dtmf`: running calls,
//! online. Nothing is mirrored (a call lives only while it rings or talks); the mirror sees
//! the call in its history with the next sync. Controls one API lacks were refused before
//! this runs (`features.rs`).

use crate::api::calls::{CallControl, Dial, RunningCall};
use crate::api::{Capabilities, DialParties, Upstream};
use crate::cli::{CallCommand, Switch};
use crate::config::Settings;
use crate::error::{Error, ExitCode, Result};
use crate::output;
use crate::validate::{endpoint, path_id, phone_number};

/// What a dial whose answer was lost says (it is tried once, never twice).
const DIAL_MAY_HAVE_STARTED: &str =
    "the call may have started all the same: see `sipmirror call list`";

/// A command with its arguments checked.
enum Request {
    Dial(Dial),
    List,
    Show(String),
    Control(String, CallControl),
}

/// What a `call` command prints: running calls, or what was done.
enum Answer {
    Calls(Vec<RunningCall>),
    Done(String),
}

pub fn run(settings: &Settings, command: &CallCommand) -> Result<ExitCode> {
    // Every argument is checked before the connection is made.
    let request = check(command, settings)?;
    let upstream = Upstream::connect(settings)?;
    let client = &upstream.client;
    let answer = upstream.block_on(async {
        match &request {
            Request::Dial(dial) => client
                .dial_call(dial)
                .await
                .map(|dialed| match dialed.call {
                    Some(call) => Answer::Calls(vec![call]),
                    None => Answer::Done(format!(
                        "call {} started: {} rings first, then {}",
                        dialed.id, dial.caller, dial.callee
                    )),
                })
                .map_err(|e| e.into_error("call dial: ", DIAL_MAY_HAVE_STARTED)),
            Request::List => client
                .running_calls()
                .await
                .map(Answer::Calls)
                .map_err(Error::from),
            Request::Show(id) => client
                .running_call(id)
                .await
                .map(|call| Answer::Calls(vec![call]))
                .map_err(Error::from),
            Request::Control(id, control) => client
                .control_running_call(id, control)
                .await
                .map(|call| match call {
                    Some(call) => Answer::Calls(vec![call]),
                    None => Answer::Done(done(id, control)),
                })
                .map_err(|e| {
                    e.into_error(
                        &format!("call {id}: "),
                        "it may have happened all the same: see `sipmirror call list`",
                    )
                }),
        }
    })?;
    print(settings, &answer)?;
    Ok(ExitCode::Ok)
}

fn check(command: &CallCommand, settings: &Settings) -> Result<Request> {
    let cc = settings.country_code.as_str();
    let id = |raw: &str| path_id(raw, "call id");
    let on = |state: &Switch| state.is_on();
    Ok(match command {
        CallCommand::Dial {
            caller,
            callee,
            register_sip,
            device,
            caller_id,
        } => {
            let parties = Capabilities::of(settings.connection.api).dial_parties();
            let (caller, callee) = dial_parties(parties, caller, callee, device.as_deref(), cc)?;
            Request::Dial(Dial {
                caller,
                callee,
                device: device
                    .as_deref()
                    .map(|d| path_id(d, "--device"))
                    .transpose()?,
                caller_id: caller_id
                    .as_deref()
                    .map(|n| phone_number(n, "--caller-id", cc))
                    .transpose()?,
                register_sip: register_sip
                    .as_deref()
                    .map(|r| path_id(r, "--register-sip"))
                    .transpose()?,
            })
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
        CallCommand::Park {
            id: raw,
            member,
            state,
        } => Request::Control(
            id(raw)?,
            CallControl::Park {
                member: path_id(member, "member")?,
                on: on(state),
            },
        ),
    })
}

/// The caller and callee of a dial, checked as the API names them.
fn dial_parties(
    parties: DialParties,
    caller: &str,
    callee: &str,
    device: Option<&str>,
    cc: &str,
) -> Result<(String, String)> {
    match parties {
        DialParties::Endpoints => Ok((
            endpoint(caller, "--caller", cc)?,
            endpoint(callee, "--callee", cc)?,
        )),
        DialParties::DeviceThenNumber => {
            let caller = party(caller, "--caller", cc)?;
            if caller.starts_with('+') && device.is_none() {
                return Err(Error::usage(
                    "--caller is a number: name the device that rings first with --device (e.g. e0)",
                ));
            }
            let callee = phone_number(callee.trim().trim_start_matches("tel:"), "--callee", cc)?;
            Ok((caller, callee))
        }
    }
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
        CallControl::Park { member, on } => format!("call {id}: {member} parked {}", state(*on)),
    }
}

fn print(settings: &Settings, answer: &Answer) -> Result<()> {
    match answer {
        Answer::Calls(calls) if settings.json => {
            let wire: Vec<&serde_json::Value> = calls.iter().map(|c| &c.wire).collect();
            output::json(&wire)
        }
        Answer::Done(message) if settings.json => {
            output::json(&serde_json::json!({ "ok": true, "message": message }))
        }
        Answer::Calls(calls) if calls.is_empty() => output::line("No running calls."),
        Answer::Calls(calls) => {
            for call in calls {
                output::line(&describe(call))?;
            }
            Ok(())
        }
        Answer::Done(message) => output::line(message),
    }
}

/// `call 17: tel:+4930... -> tel:+4940..., ringing, recording; members: 1 (+4930..., parked)`
/// where upstream names caller, callee and state (classic), or
/// `call 17: +4930... <-> +4940..., muted, on hold, recording` from the parties (v2).
fn describe(call: &RunningCall) -> String {
    let unknown = "?";
    let mut line = if call.caller.is_some() || call.callee.is_some() || call.status.is_some() {
        format!(
            "call {}: {} -> {}, {}",
            call.id,
            call.caller.as_deref().unwrap_or(unknown),
            call.callee.as_deref().unwrap_or(unknown),
            call.status.as_deref().unwrap_or(unknown)
        )
    } else {
        let parties: Vec<&str> = call
            .parties
            .iter()
            .map(|p| p.number.as_deref().unwrap_or(unknown))
            .collect();
        format!("call {}: {}", call.id, parties.join(" <-> "))
    };
    for (on, what) in [
        (call.muted, "muted"),
        (call.hold, "on hold"),
        (call.recording, "recording"),
    ] {
        if on {
            line.push_str(", ");
            line.push_str(what);
        }
    }
    let members: Vec<String> = call
        .parties
        .iter()
        .filter_map(|p| {
            let member = p.member.as_deref()?;
            let parked = if p.parked { ", parked" } else { "" };
            Some(format!(
                "{member} ({}{parked})",
                p.number.as_deref().unwrap_or(unknown)
            ))
        })
        .collect();
    if !members.is_empty() {
        line.push_str(&format!("; members: {}", members.join(", ")));
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
