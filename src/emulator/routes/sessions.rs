//! `/{userId}/sessions/...`: running calls (dial, list, show, hang up, record, park) and
//! callthrough.

use axum::extract::{Extension, Path, State};
use axum::routing::{MethodRouter, get, post, put};
use serde_json::{Value, json};

use super::{Shr, bool_value, e164_param};
use crate::emulator::server::{ApiError, ApiResult, Params, Reply};
use crate::emulator::wire;

pub fn routes() -> Vec<(&'static str, MethodRouter<Shr>)> {
    vec![
        ("/{user}/sessions/calls/", get(list).post(dial)),
        (
            "/{user}/sessions/calls/{session}/",
            get(one).delete(hang_up),
        ),
        ("/{user}/sessions/calls/{session}/recording/", put(record)),
        (
            "/{user}/sessions/calls/{session}/member/{member}/parking/",
            put(park),
        ),
        ("/{user}/sessions/callthrough/", post(callthrough)),
    ]
}

/// `tel:+49...` (a number) or `sip:e0` (an extension), as the reference page requires.
fn endpoint(params: &Params, key: &str) -> Result<String, ApiError> {
    let value = params
        .get(key)
        .ok_or_else(|| ApiError::bad_request(format!("missing parameter: {key}")))?;
    if let Some(number) = value.strip_prefix("tel:") {
        e164_param(number)?;
        Ok(value.to_string())
    } else if value.strip_prefix("sip:").is_some_and(|e| !e.is_empty()) {
        Ok(value.to_string())
    } else {
        Err(ApiError::bad_request(format!(
            "{key} must start with tel: or sip:, got {value:?}"
        )))
    }
}

fn call(tree: Value) -> Reply {
    Reply::Tree(json!({ "Call": tree }))
}

async fn list(State(shared): State<Shr>) -> ApiResult {
    let state = shared.read();
    let calls: Vec<Value> = state
        .sessions
        .iter()
        .filter(|s| s.status != "hungup")
        .map(wire::session)
        .collect();
    Ok(Reply::Tree(json!({ "sessions": { "calls": calls } })))
}

async fn dial(State(shared): State<Shr>, Extension(params): Extension<Params>) -> ApiResult {
    let caller = endpoint(&params, "caller")?;
    let callee = endpoint(&params, "callee")?;
    if let Some(register) = params.get("registerSip")
        && shared.read().account.extension(register).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "registerSip: no extension {register:?}"
        )));
    }
    let mut state = shared.write();
    Ok(call(wire::session(state.dial(&caller, &callee))))
}

fn with_session(
    shared: &Shr,
    id: &str,
    change: impl FnOnce(&mut crate::emulator::model::Session) -> Result<(), ApiError>,
) -> ApiResult {
    let mut state = shared.write();
    let session = state
        .session_mut(id)
        .filter(|s| s.status != "hungup")
        .ok_or_else(|| ApiError::not_found(format!("no running call {id:?}")))?;
    change(session)?;
    Ok(call(wire::session(session)))
}

async fn one(State(shared): State<Shr>, Path((_, id)): Path<(String, String)>) -> ApiResult {
    with_session(&shared, &id, |_| Ok(()))
}

async fn hang_up(State(shared): State<Shr>, Path((_, id)): Path<(String, String)>) -> ApiResult {
    let mut state = shared.write();
    let session = state
        .session_mut(&id)
        .filter(|s| s.status != "hungup")
        .ok_or_else(|| ApiError::not_found(format!("no running call {id:?}")))?;
    session.status = "hungup";
    Ok(call(wire::session(session)))
}

async fn record(
    State(shared): State<Shr>,
    Path((_, id)): Path<(String, String)>,
    Extension(params): Extension<Params>,
) -> ApiResult {
    let value = bool_value(&params)?;
    with_session(&shared, &id, |s| {
        s.recording = value;
        Ok(())
    })
}

async fn park(
    State(shared): State<Shr>,
    Path((_, id, member)): Path<(String, String, String)>,
    Extension(params): Extension<Params>,
) -> ApiResult {
    let value = bool_value(&params)?;
    with_session(&shared, &id, |s| {
        let m = s
            .members
            .iter_mut()
            .find(|m| m.id == member)
            .ok_or_else(|| ApiError::not_found(format!("no member {member:?}")))?;
        m.parked = value;
        Ok(())
    })
}

async fn callthrough(State(shared): State<Shr>, Extension(params): Extension<Params>) -> ApiResult {
    let get = |k: &str| {
        params
            .get(k)
            .ok_or_else(|| ApiError::bad_request(format!("missing parameter: {k}")))
    };
    let source = e164_param(get("sourceNumber")?)?;
    let target = e164_param(get("targetNumber")?)?;
    let state = shared.read();
    let base = state
        .account
        .numbers
        .first()
        .map(|n| n.e164.clone())
        .unwrap_or_default();
    // A stable dial-in number per (source, target), like upstream's pool of callthrough numbers.
    let suffix = (source
        .bytes()
        .chain(target.bytes())
        .map(u64::from)
        .sum::<u64>()
        % 90)
        + 10;
    Ok(Reply::Tree(
        json!({ "Callthrough": { "number": format!("+{}{suffix}", &base[..base.len().saturating_sub(1)]) } }),
    ))
}
