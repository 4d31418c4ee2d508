//! `/v2/sessions/calls` (click-to-dial), `/v2/calls` (the calls running now and their
//! controls), `PUT /v2/devices/{id}` (Do Not Disturb) and `PUT
//! /v2/{user}/phonelines/{id}/forwardings`. A call dialled through v2 is answered at once (v2
//! lists established calls only) and lasts until it is hung up.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, post, put};
use serde_json::{Value, json};

use super::{Shr, V2Error, V2Result, ok};
use crate::emulator::model::{Forwarding, Session};

pub fn routes() -> Router<Shr> {
    Router::new()
        .route("/sessions/calls", post(dial))
        .route("/calls", axum::routing::get(list))
        .route("/calls/{id}", delete(hang_up))
        .route("/calls/{id}/muted", put(mute))
        .route("/calls/{id}/hold", put(hold))
        .route("/calls/{id}/recording", put(record))
        .route("/calls/{id}/transfer", post(transfer))
        .route("/calls/{id}/dtmf", post(dtmf))
        .route("/devices/{id}", put(set_device).get(device))
        .route(
            "/{user}/phonelines/{line}/forwardings",
            put(set_forwardings),
        )
}

fn body(bytes: &Bytes) -> Result<Value, V2Error> {
    serde_json::from_slice(bytes).map_err(|e| V2Error::bad_request(format!("invalid JSON: {e}")))
}

fn flag(request: &Value, key: &str) -> Result<bool, V2Error> {
    request[key]
        .as_bool()
        .ok_or_else(|| V2Error::bad_request(format!("{key} must be true or false")))
}

/// `+` and 6 to 15 digits.
fn number(request: &Value, key: &str) -> Result<String, V2Error> {
    let value = request[key].as_str().unwrap_or_default();
    let digits = value.strip_prefix('+').unwrap_or(value);
    if (6..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(format!("+{digits}"))
    } else {
        Err(V2Error::bad_request(format!(
            "{key} {value:?} is not a phone number"
        )))
    }
}

fn is_device(shared: &Shr, id: &str) -> bool {
    shared
        .read()
        .account
        .extensions
        .iter()
        .any(|x| x.id == id && matches!(x.kind, "register" | "external" | "mobile"))
}

fn no_content() -> V2Result {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /sessions/calls` `{caller, callee, deviceId?, callerId?}`: `{sessionId}`.
async fn dial(State(shared): State<Shr>, bytes: Bytes) -> V2Result {
    let request = body(&bytes)?;
    let caller = request["caller"].as_str().unwrap_or_default().to_string();
    let callee = number(&request, "callee")?;
    if caller.starts_with('+') {
        let device = request["deviceId"].as_str().ok_or_else(|| {
            V2Error::bad_request("DeviceId is required if caller is a phone number")
        })?;
        if !is_device(&shared, device) {
            return Err(V2Error::bad_request(format!("no device {device:?}")));
        }
    } else if !is_device(&shared, &caller) {
        return Err(V2Error::bad_request(format!("invalid caller {caller:?}")));
    }
    if shared.faults().faults.no_credit {
        return Err(V2Error::new(
            StatusCode::PAYMENT_REQUIRED,
            "INSUFFICIENT_FUNDS",
            "insufficient funds",
        ));
    }
    let mut world = shared.write();
    let session = world.dial(&caller, &callee);
    let id = session.id.clone();
    if let Some(s) = world.session_mut(&id) {
        s.status = "established";
    }
    ok(&json!({ "sessionId": id }))
}

fn call(s: &Session) -> Value {
    let participants: Vec<Value> = s
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            json!({"participantId": m.id, "phoneNumber": m.number, "muted": s.muted,
                   "hold": s.hold, "owner": i == 0})
        })
        .collect();
    json!({"callId": s.id, "muted": s.muted, "recording": s.recording, "hold": s.hold,
           "participants": participants})
}

/// `GET /calls`: `{data: [...]}`, the established calls.
async fn list(State(shared): State<Shr>) -> V2Result {
    let world = shared.read();
    let data: Vec<Value> = world
        .sessions
        .iter()
        .filter(|s| s.status == "established")
        .map(call)
        .collect();
    ok(&json!({ "data": data }))
}

/// Applies `change` to a running call; 404 for one that is not running.
fn with_call(shared: &Shr, id: &str, change: impl FnOnce(&mut Session)) -> V2Result {
    let mut world = shared.write();
    let session = world
        .session_mut(id)
        .filter(|s| s.status == "established")
        .ok_or_else(|| V2Error::not_found(format!("no running call {id:?}")))?;
    change(session);
    no_content()
}

async fn hang_up(State(shared): State<Shr>, Path(id): Path<String>) -> V2Result {
    with_call(&shared, &id, |s| s.status = "hungup")
}

async fn mute(State(shared): State<Shr>, Path(id): Path<String>, bytes: Bytes) -> V2Result {
    let on = flag(&body(&bytes)?, "value")?;
    with_call(&shared, &id, |s| s.muted = on)
}

async fn hold(State(shared): State<Shr>, Path(id): Path<String>, bytes: Bytes) -> V2Result {
    let on = flag(&body(&bytes)?, "value")?;
    with_call(&shared, &id, |s| s.hold = on)
}

async fn record(State(shared): State<Shr>, Path(id): Path<String>, bytes: Bytes) -> V2Result {
    let request = body(&bytes)?;
    let on = flag(&request, "value")?;
    flag(&request, "announcement")?;
    with_call(&shared, &id, |s| s.recording = on)
}

/// The callee is replaced by the number the call is handed to.
async fn transfer(State(shared): State<Shr>, Path(id): Path<String>, bytes: Bytes) -> V2Result {
    let request = body(&bytes)?;
    flag(&request, "attended")?;
    let to = number(&request, "phoneNumber")?;
    with_call(&shared, &id, |s| {
        s.callee = to.clone();
        if let Some(member) = s.members.get_mut(1) {
            member.number = to;
        }
    })
}

async fn dtmf(State(shared): State<Shr>, Path(id): Path<String>, bytes: Bytes) -> V2Result {
    let request = body(&bytes)?;
    let sequence = request["sequence"].as_str().unwrap_or_default().to_string();
    let valid = |c: char| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D');
    if sequence.is_empty() || !sequence.chars().all(valid) {
        return Err(V2Error::bad_request("sequence must be DTMF digits"));
    }
    with_call(&shared, &id, |s| s.dtmf.push_str(&sequence))
}

/// `PUT /devices/{id}` `{dnd, emergencyAddressId?}`.
/// `GET /devices/{id}`: one device, as the listings show it.
async fn device(State(shared): State<Shr>, Path(id): Path<String>) -> V2Result {
    if !is_device(&shared, &id) {
        return Err(V2Error::not_found(format!("no device {id:?}")));
    }
    let world = shared.read();
    let x = world
        .account
        .extension(&id)
        .ok_or_else(|| V2Error::not_found(format!("no device {id:?}")))?;
    ok(&super::account::device(&world, x))
}

/// `PUT /devices/{id}` `{dnd, emergencyAddressId}`. Whether leaving the address out keeps it
/// is not documented; the emulator takes the worse reading and clears it, so a client that
/// does not send it back is caught.
async fn set_device(State(shared): State<Shr>, Path(id): Path<String>, bytes: Bytes) -> V2Result {
    let request = body(&bytes)?;
    let dnd = flag(&request, "dnd")?;
    let address = match &request["emergencyAddressId"] {
        Value::Null => None,
        Value::Number(n) if n.is_i64() => Some(n.to_string()),
        other => {
            return Err(V2Error::bad_request(format!(
                "emergencyAddressId must be an integer, got {other}"
            )));
        }
    };
    if !is_device(&shared, &id) {
        return Err(V2Error::not_found(format!("no device {id:?}")));
    }
    let mut world = shared.write();
    if let Some(x) = world.account.extension_mut(&id) {
        x.dnd = dnd;
    }
    match address {
        Some(_) => world.emergency_address_cleared.remove(&id),
        None => world.emergency_address_cleared.insert(id.clone()),
    };
    no_content()
}

/// `PUT /{user}/phonelines/{id}/forwardings` `{forwardings: [{destination, timeout, active}]}`:
/// replaces the list.
async fn set_forwardings(
    State(shared): State<Shr>,
    Path((user, line)): Path<(String, String)>,
    bytes: Bytes,
) -> V2Result {
    let request = body(&bytes)?;
    let list = request["forwardings"]
        .as_array()
        .ok_or_else(|| V2Error::bad_request("forwardings must be a list"))?;
    // sipgate's description: `maxItems: 3`.
    if list.len() > 3 {
        return Err(V2Error::bad_request("at most 3 forwardings"));
    }
    let forwardings = list
        .iter()
        .map(|f| {
            let timeout = f["timeout"]
                .as_u64()
                .filter(|t| *t <= 600)
                .ok_or_else(|| V2Error::bad_request("timeout must be 0 to 600"))?;
            // A number, `voicemail`, or a line of the account's (sipgate answers with `p1`).
            let named = f["destination"].as_str().unwrap_or_default();
            let line = named.len() > 1
                && named.starts_with('p')
                && named[1..].chars().all(|c| c.is_ascii_digit());
            let destination = if named == "voicemail" || line {
                named.to_string()
            } else {
                number(f, "destination")?
            };
            Ok(Forwarding {
                destination,
                timeout_s: timeout as u32,
                active: flag(f, "active")?,
            })
        })
        .collect::<Result<Vec<_>, V2Error>>()?;
    let mut world = shared.write();
    if user != world.user_id {
        return Err(V2Error::not_found(format!("no user {user:?}")));
    }
    let phoneline = world
        .account
        .phonelines
        .iter_mut()
        .find(|p| p.id == line)
        .ok_or_else(|| V2Error::not_found(format!("no phoneline {line:?}")))?;
    phoneline.forwardings = forwardings;
    no_content()
}
