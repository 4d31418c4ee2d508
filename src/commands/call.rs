//! `sipmirror call dial|list|show|hangup|record|park|hold|mute|transfer|dtmf`: running calls,
//! online. Nothing is mirrored (a call lives only while it rings or talks); the mirror sees
//! the call in its history with the next sync. This file is the classic API's sessions
//! (`/sessions/calls/`, with parking); v2's calls are `call_v2.rs`.

use crate::api::Upstream;
use crate::api::sessions::WireSession;
use crate::cli::CallCommand;
use crate::config::{Api, Settings};
use crate::error::{Error, ExitCode, Result};
use crate::output;
use crate::validate::{endpoint, path_id};

/// What a dial whose answer was lost says (it is tried once, never twice).
pub(super) const DIAL_MAY_HAVE_STARTED: &str =
    "the call may have started all the same: see `sipmirror call list`";

pub fn run(settings: &Settings, command: &CallCommand) -> Result<ExitCode> {
    if settings.connection.api == Api::V2 {
        return super::call_v2::run(settings, command);
    }
    // Every argument is checked before the connection is made.
    let request = Request::check(command, settings)?;
    let upstream = Upstream::connect(settings)?;
    let client = &upstream.client;
    let answer = upstream.block_on(async {
        match &request {
            Request::Dial {
                caller,
                callee,
                register_sip,
            } => client
                .dial(caller, callee, register_sip.as_deref())
                .await
                .map(|s| Answer::Calls(vec![s]))
                .map_err(|e| e.into_error("call dial: ", DIAL_MAY_HAVE_STARTED)),
            Request::List => client
                .sessions()
                .await
                .map(Answer::Calls)
                .map_err(Error::from),
            Request::Show(id) => client
                .session(id)
                .await
                .map(|s| Answer::Calls(vec![s]))
                .map_err(Error::from),
            Request::Hangup(id) => client
                .hang_up(id)
                .await
                .map(|()| Answer::Done(format!("call {id} hung up")))
                .map_err(Error::from),
            Request::Record(id, on) => client
                .set_recording(id, *on)
                .await
                .map(|s| Answer::Calls(vec![s]))
                .map_err(Error::from),
            Request::Park(id, member, on) => client
                .set_parking(id, member, *on)
                .await
                .map(|s| Answer::Calls(vec![s]))
                .map_err(Error::from),
        }
    })?;
    print(settings, &answer, describe)?;
    Ok(ExitCode::Ok)
}

/// A command with its arguments checked.
enum Request {
    Dial {
        caller: String,
        callee: String,
        register_sip: Option<String>,
    },
    List,
    Show(String),
    Hangup(String),
    Record(String, bool),
    Park(String, String, bool),
}

impl Request {
    fn check(command: &CallCommand, settings: &Settings) -> Result<Request> {
        let country_code = settings.country_code.as_str();
        let id = |raw: &str| path_id(raw, "call id");
        let v2_only = |what: &str| {
            Err(settings.unsupported(what, "it has no such call control (sipgate's API v2 has)"))
        };
        Ok(match command {
            CallCommand::Dial {
                device: Some(_), ..
            } => return v2_only("call dial --device"),
            CallCommand::Dial {
                caller_id: Some(_), ..
            } => return v2_only("call dial --caller-id"),
            CallCommand::Record { announce: true, .. } => return v2_only("call record --announce"),
            CallCommand::Hold { .. } => return v2_only("call hold"),
            CallCommand::Mute { .. } => return v2_only("call mute"),
            CallCommand::Transfer { .. } => return v2_only("call transfer"),
            CallCommand::Dtmf { .. } => return v2_only("call dtmf"),
            CallCommand::Dial {
                caller,
                callee,
                register_sip,
                ..
            } => Request::Dial {
                caller: endpoint(caller, "--caller", country_code)?,
                callee: endpoint(callee, "--callee", country_code)?,
                register_sip: register_sip
                    .as_deref()
                    .map(|r| path_id(r, "--register-sip"))
                    .transpose()?,
            },
            CallCommand::List => Request::List,
            CallCommand::Show { id: raw } => Request::Show(id(raw)?),
            CallCommand::Hangup { id: raw } => Request::Hangup(id(raw)?),
            CallCommand::Record { id: raw, state, .. } => Request::Record(id(raw)?, state.is_on()),
            CallCommand::Park {
                id: raw,
                member,
                state,
            } => Request::Park(id(raw)?, path_id(member, "member")?, state.is_on()),
        })
    }
}

/// What a `call` command prints: running calls (classic sessions or v2 calls), or what was
/// done.
pub(super) enum Answer<T> {
    Calls(Vec<T>),
    Done(String),
}

pub(super) fn print<T: serde::Serialize>(
    settings: &Settings,
    answer: &Answer<T>,
    describe: fn(&T) -> String,
) -> Result<()> {
    match answer {
        Answer::Calls(calls) if settings.json => output::json(calls),
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
fn describe(s: &WireSession) -> String {
    let unknown = "?";
    let mut line = format!(
        "call {}: {} -> {}, {}",
        s.session_id,
        s.caller.as_deref().unwrap_or(unknown),
        s.callee.as_deref().unwrap_or(unknown),
        s.status.as_deref().unwrap_or(unknown)
    );
    if s.recording == Some(true) {
        line.push_str(", recording");
    }
    if !s.members.is_empty() {
        let members: Vec<String> = s
            .members
            .iter()
            .map(|m| {
                let parked = if m.parked == Some(true) {
                    ", parked"
                } else {
                    ""
                };
                format!(
                    "{} ({}{parked})",
                    m.member_id,
                    m.number.as_deref().unwrap_or(unknown)
                )
            })
            .collect();
        line.push_str(&format!("; members: {}", members.join(", ")));
    }
    line
}
