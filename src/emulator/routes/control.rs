//! `/_emulator/...`: the control interface for tests and demos. JSON in and out, no
//! authentication, not counted in the stats and never subject to faults.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{Shr, now_ms};
use crate::emulator::faults::Faults;
use crate::emulator::model::Kind;
use crate::emulator::state::{ContactPatch, EventPatch};

pub fn routes() -> Router<Shr> {
    Router::new()
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/stats/reset", post(reset_stats))
        .route("/_emulator/summary", get(summary))
        .route("/_emulator/events", post(add_events))
        .route(
            "/_emulator/events/{id}",
            patch(patch_event).delete(delete_event),
        )
        .route("/_emulator/calls", post(play_call))
        .route("/_emulator/calls/{id}/hangup", post(hang_up_call))
        .route("/_emulator/contacts", post(add_contacts))
        .route(
            "/_emulator/contacts/{uuid}",
            patch(patch_contact).delete(delete_contact),
        )
        .route(
            "/_emulator/faults",
            get(get_faults).put(put_faults).delete(clear_faults),
        )
}

fn ok(value: Value) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// A control request body that could not be understood: 400 with the reason.
struct BadBody(String);

impl IntoResponse for BadBody {
    fn into_response(self) -> Response {
        error(StatusCode::BAD_REQUEST, self.0)
    }
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, BadBody> {
    serde_json::from_slice(body).map_err(|e| BadBody(format!("bad request body: {e}")))
}

async fn stats(State(shared): State<Shr>) -> Response {
    ok(serde_json::to_value(&*shared.stats()).unwrap_or_default())
}

async fn reset_stats(State(shared): State<Shr>) -> Response {
    *shared.stats() = Default::default();
    ok(json!({ "reset": true }))
}

async fn summary(State(shared): State<Shr>) -> Response {
    let state = shared.read();
    let mut events = serde_json::Map::new();
    for kind in Kind::ALL {
        events.insert(kind.plural().into(), state.events.count(kind).into());
    }
    ok(json!({
        "events": events,
        "events_total": state.events.len(),
        "newest_event_id": state.events.last().map(|e| e.id.to_string()),
        "contacts": state.contacts.len(),
        "sessions": state.sessions.iter().filter(|s| s.status != "hungup").count(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddEvents {
    #[serde(rename = "type")]
    kind: String,
    count: usize,
}

/// Largest number of records one control request may add.
const MAX_ADD: usize = 1_000_000;

/// `POST /_emulator/calls`: plays a call through the push API (see `push_calls`).
async fn play_call(State(shared): State<Shr>, body: Bytes) -> Response {
    let request: crate::emulator::push_call::PlayRequest = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match crate::emulator::push_calls::play(shared, request).await {
        Ok(value) => ok(value),
        Err(e) => error(StatusCode::CONFLICT, e),
    }
}

async fn hang_up_call(State(shared): State<Shr>, Path(id): Path<String>) -> Response {
    match crate::emulator::push_calls::hang_up(shared, &id).await {
        Ok(value) => ok(value),
        Err(e) => error(StatusCode::CONFLICT, e),
    }
}

async fn add_events(State(shared): State<Shr>, body: Bytes) -> Response {
    let request: AddEvents = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let Some(kind) = Kind::from_plural(&request.kind) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "type must be calls, faxes, sms or voicemails, got {:?}",
                request.kind
            ),
        );
    };
    if request.count > MAX_ADD {
        return error(
            StatusCode::BAD_REQUEST,
            format!("count must be at most {MAX_ADD}"),
        );
    }
    let ahead_ms = shared.faults().faults.clock_ahead_s.saturating_mul(1000);
    let ids = shared
        .write()
        .add_events(kind, request.count, now_ms().saturating_add(ahead_ms));
    ok(json!({ "ids": ids.iter().map(u64::to_string).collect::<Vec<_>>() }))
}

async fn patch_event(State(shared): State<Shr>, Path(id): Path<String>, body: Bytes) -> Response {
    let patch: EventPatch = match parse(&body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let Ok(id) = id.parse::<u64>() else {
        return error(StatusCode::NOT_FOUND, format!("no event {id:?}"));
    };
    if shared.read().events.get(id).is_none() {
        return error(StatusCode::NOT_FOUND, format!("no event {id}"));
    }
    match shared.write().patch_event(id, &patch) {
        Ok(()) => ok(json!({ "id": id.to_string() })),
        Err(message) => error(StatusCode::BAD_REQUEST, message),
    }
}

async fn delete_event(State(shared): State<Shr>, Path(id): Path<String>) -> Response {
    match id.parse::<u64>() {
        Ok(n) if shared.write().remove_event(n) => ok(json!({ "deleted": id })),
        _ => error(StatusCode::NOT_FOUND, format!("no event {id:?}")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddContacts {
    count: usize,
}

async fn add_contacts(State(shared): State<Shr>, body: Bytes) -> Response {
    let request: AddContacts = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if request.count > MAX_ADD {
        return error(
            StatusCode::BAD_REQUEST,
            format!("count must be at most {MAX_ADD}"),
        );
    }
    ok(json!({ "uuids": shared.write().add_contacts(request.count) }))
}

async fn patch_contact(
    State(shared): State<Shr>,
    Path(uuid): Path<String>,
    body: Bytes,
) -> Response {
    let patch: ContactPatch = match parse(&body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if shared.read().contact(&uuid).is_none() {
        return error(StatusCode::NOT_FOUND, format!("no contact {uuid:?}"));
    }
    match shared.write().patch_contact(&uuid, &patch) {
        Ok(()) => ok(json!({ "uuid": uuid })),
        Err(message) => error(StatusCode::BAD_REQUEST, message),
    }
}

async fn delete_contact(State(shared): State<Shr>, Path(uuid): Path<String>) -> Response {
    if shared.write().remove_contact(&uuid) {
        ok(json!({ "deleted": uuid }))
    } else {
        error(StatusCode::NOT_FOUND, format!("no contact {uuid:?}"))
    }
}

async fn get_faults(State(shared): State<Shr>) -> Response {
    ok(serde_json::to_value(&shared.faults().faults).unwrap_or_default())
}

async fn put_faults(State(shared): State<Shr>, body: Bytes) -> Response {
    let faults: Faults = match parse(&body) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    if let Err(message) = faults.validate() {
        return error(StatusCode::BAD_REQUEST, message);
    }
    shared.faults().set(faults.clone());
    ok(serde_json::to_value(&faults).unwrap_or_default())
}

async fn clear_faults(State(shared): State<Shr>) -> Response {
    shared.faults().set(Faults::default());
    ok(json!({ "cleared": true }))
}
