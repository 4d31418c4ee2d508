//! `/{userId}/events/...`: listings, single events, flags, labels, trash, content, sending.

use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{MethodRouter, get};
use serde_json::json;

use super::{
    MAX_FAX_BYTES, Shr, bool_value, e164_param, links, now_ms, schedule_param, usize_param,
};
use crate::emulator::media;
use crate::emulator::model::{Kind, Location};
use crate::emulator::server::{ApiError, ApiResult, Params, Reply, format_of};
use crate::emulator::state::{normalize_labels, validate_labels};
use crate::emulator::wire;

/// Without `limit`, a listing returns the 100 newest events, as upstream did.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest page the emulator serves.
pub const MAX_LIMIT: usize = 1000;

pub fn routes() -> Vec<(&'static str, MethodRouter<Shr>)> {
    vec![
        ("/{user}/events/", get(list_all)),
        ("/{user}/events/{kind}/", get(list_kind).post(send)),
        (
            "/{user}/events/{kind}/{id}/",
            get(one).put(set_labels).delete(trash),
        ),
        (
            "/{user}/events/{kind}/{id}/read/",
            get(get_read).put(put_read),
        ),
        (
            "/{user}/events/{kind}/{id}/starred/",
            get(get_starred).put(put_starred),
        ),
        ("/{user}/events/{kind}/{id}/content/", get(content)),
        (
            "/{user}/events/{kind}/{id}/preview/{page}/{size}/",
            get(preview),
        ),
    ]
}

fn kind(segment: &str) -> Result<Kind, ApiError> {
    Kind::from_plural(segment)
        .ok_or_else(|| ApiError::not_found(format!("no event type {segment:?}")))
}

fn event_id(kind: Kind, id: &str) -> Result<u64, ApiError> {
    id.parse::<u64>()
        .map_err(|_| ApiError::not_found(format!("no {} with id {id:?}", kind.singular())))
}

/// `yyyy-MM-ddTHH:mm:ss`, taken as UTC.
fn period(params: &Params, key: &str) -> Result<Option<i64>, ApiError> {
    match params.get(key) {
        None | Some("") => Ok(None),
        Some(v) => chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S")
            .map(|t| Some(t.and_utc().timestamp_millis()))
            .map_err(|_| {
                ApiError::bad_request(format!("{key} must be yyyy-MM-ddTHH:mm:ss, got {v:?}"))
            }),
    }
}

struct Window {
    start: Option<i64>,
    end: Option<i64>,
    offset: usize,
    limit: usize,
}

fn window(params: &Params) -> Result<Window, ApiError> {
    let limit = usize_param(params, "limit", DEFAULT_LIMIT)?;
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {limit}"
        )));
    }
    let w = Window {
        start: period(params, "period_start")?,
        end: period(params, "period_end")?,
        offset: usize_param(params, "offset", 0)?,
        limit,
    };
    if let (Some(s), Some(e)) = (w.start, w.end)
        && s > e
    {
        return Err(ApiError::bad_request("period_start is after period_end"));
    }
    Ok(w)
}

async fn list_all(
    State(shared): State<Shr>,
    Path(user): Path<String>,
    Extension(params): Extension<Params>,
    headers: HeaderMap,
) -> ApiResult {
    list(&shared, &user, None, &params, &headers)
}

async fn list_kind(
    State(shared): State<Shr>,
    Path((user, kind_segment)): Path<(String, String)>,
    Extension(params): Extension<Params>,
    headers: HeaderMap,
) -> ApiResult {
    let kind = kind(&kind_segment)?;
    list(&shared, &user, Some(kind), &params, &headers)
}

/// One page of `/events/` (all types, each with `type`) or of one type's listing.
fn list(
    shared: &Shr,
    user: &str,
    kind: Option<Kind>,
    params: &Params,
    headers: &HeaderMap,
) -> ApiResult {
    let w = window(params)?;
    let limit = shared.faults().page_size(w.offset, w.limit);
    let state = shared.read();
    let links = links(shared, user);
    let (total, page) = state.events.page(kind, w.start, w.end, w.offset, limit);
    let listing = wire::Listing {
        root: if kind.is_some() {
            "events"
        } else {
            "eventlist"
        },
        list_key: kind.map_or("events", Kind::plural),
        events: page
            .into_iter()
            .map(|event| wire::EventWire {
                state: &state,
                links: &links,
                event,
                with_type: kind.is_none(),
            })
            .collect(),
        overall_count: shared
            .faults()
            .faults
            .overall_count
            .map_or(total, |lie| usize::try_from(lie).unwrap_or(usize::MAX)),
    };
    Ok(Reply::serialized(format_of(headers), &listing))
}

/// `{"call": {...}}` (or fax, sms, voicemail) for one event.
fn single(
    shared: &Shr,
    user: &str,
    state: &crate::emulator::state::State,
    event: &crate::emulator::model::Event,
) -> Reply {
    let links = links(shared, user);
    let wire = wire::EventWire {
        state,
        links: &links,
        event,
        with_type: false,
    };
    Reply::Tree(json!({ event.kind.singular(): serde_json::to_value(&wire).unwrap_or_default() }))
}

async fn one(
    State(shared): State<Shr>,
    Path((user, kind_segment, id)): Path<(String, String, String)>,
) -> ApiResult {
    let kind = kind(&kind_segment)?;
    let id = event_id(kind, &id)?;
    let state = shared.read();
    let event = state
        .events
        .get(id)
        .filter(|e| e.kind == kind)
        .ok_or_else(|| ApiError::not_found(format!("no {} with id {id}", kind.singular())))?;
    Ok(single(&shared, &user, &state, event))
}

/// Applies `change` to the event of `kind` with `id`, or answers 404.
fn modify(
    shared: &Shr,
    kind_segment: &str,
    id: &str,
    change: impl FnOnce(&mut crate::emulator::model::Event),
) -> Result<(), ApiError> {
    let kind = kind(kind_segment)?;
    let id = event_id(kind, id)?;
    let mut state = shared.write();
    let event = state
        .events
        .get_mut(id)
        .filter(|e| e.kind == kind)
        .ok_or_else(|| ApiError::not_found(format!("no {} with id {id}", kind.singular())))?;
    change(event);
    Ok(())
}

async fn set_labels(
    State(shared): State<Shr>,
    Path((_, kind_segment, id)): Path<(String, String, String)>,
    Extension(params): Extension<Params>,
) -> ApiResult {
    let value = params
        .get("value")
        .ok_or_else(|| ApiError::bad_request("missing parameter: value"))?;
    validate_labels(value).map_err(ApiError::bad_request)?;
    let labels = normalize_labels(value);
    modify(&shared, &kind_segment, &id, |e| e.labels = labels.into())?;
    Ok(Reply::Empty)
}

async fn trash(
    State(shared): State<Shr>,
    Path((_, kind_segment, id)): Path<(String, String, String)>,
) -> ApiResult {
    modify(&shared, &kind_segment, &id, |e| {
        e.location = Location::Trash
    })?;
    Ok(Reply::Empty)
}

fn get_flag(shared: &Shr, kind_segment: &str, id: &str, name: &'static str) -> ApiResult {
    let mut value = false;
    modify(shared, kind_segment, id, |e| {
        value = if name == "read" { e.read } else { e.starred }
    })?;
    Ok(Reply::Tree(
        json!({ "property": { "name": name, "value": value } }),
    ))
}

fn put_flag(
    shared: &Shr,
    kind_segment: &str,
    id: &str,
    params: &Params,
    name: &'static str,
) -> ApiResult {
    let value = bool_value(params)?;
    modify(shared, kind_segment, id, |e| {
        if name == "read" {
            e.read = value
        } else {
            e.starred = value
        }
    })?;
    Ok(Reply::Empty)
}

async fn get_read(
    State(shared): State<Shr>,
    Path((_, k, id)): Path<(String, String, String)>,
) -> ApiResult {
    get_flag(&shared, &k, &id, "read")
}

async fn get_starred(
    State(shared): State<Shr>,
    Path((_, k, id)): Path<(String, String, String)>,
) -> ApiResult {
    get_flag(&shared, &k, &id, "starred")
}

async fn put_read(
    State(shared): State<Shr>,
    Path((_, k, id)): Path<(String, String, String)>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    put_flag(&shared, &k, &id, &p, "read")
}

async fn put_starred(
    State(shared): State<Shr>,
    Path((_, k, id)): Path<(String, String, String)>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    put_flag(&shared, &k, &id, &p, "starred")
}

/// Voicemail audio and fax documents: a 307 to the real bytes.
async fn content(
    State(shared): State<Shr>,
    Path((user, kind_segment, id)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let kind = kind(&kind_segment)?;
    if !matches!(kind, Kind::Fax | Kind::Voicemail) {
        return Err(ApiError::not_found(format!(
            "{} events have no content",
            kind.singular()
        )));
    }
    modify(&shared, &kind_segment, &id, |_| {})?;
    let own = with_query(
        format!("/{user}/events/{kind_segment}/{id}/content/"),
        query,
    );
    Ok(Reply::Redirect(media_location(
        &shared,
        &format!("/_media/{}/{id}", kind.singular()),
        &own,
    )))
}

fn with_query(path: String, query: Option<String>) -> String {
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    }
}

/// The file URL a content or preview resource redirects to, unless the `media_redirect`
/// fault sends it elsewhere (`own` is the resource's path, for a loop).
fn media_location(shared: &Shr, path: &str, own: &str) -> String {
    let base = &shared.base_url;
    match shared.faults().faults.media_redirect.clone() {
        Some(target) if target == "loop" => format!("{base}{own}"),
        Some(other) => format!("{}{path}", other.trim_end_matches('/')),
        None => format!("{base}{path}"),
    }
}

async fn preview(
    State(shared): State<Shr>,
    Path((user, kind_segment, id, page, size)): Path<(String, String, String, String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    if kind(&kind_segment)? != Kind::Fax {
        return Err(ApiError::not_found("only faxes have previews"));
    }
    if size != "small" && size != "big" {
        return Err(ApiError::not_found(format!(
            "no preview size {size:?}; use small or big"
        )));
    }
    let page: u8 = page
        .parse()
        .map_err(|_| ApiError::not_found(format!("no page {page:?}")))?;
    let mut pages = 0;
    modify(&shared, &kind_segment, &id, |e| {
        if let crate::emulator::model::Detail::Fax { pages: p, .. } = e.detail {
            pages = p
        }
    })?;
    if page == 0 || page > pages {
        return Err(ApiError::not_found(format!("fax {id} has no page {page}")));
    }
    let own = with_query(
        format!("/{user}/events/{kind_segment}/{id}/preview/{page}/{size}/"),
        query,
    );
    Ok(Reply::Redirect(media_location(
        &shared,
        &format!("/_media/preview/{id}/{page}/{size}"),
        &own,
    )))
}

/// The number a fax extension sends from: its outgoing number, else its first own number.
fn fax_line_number(shared: &Shr, id: &str) -> Result<String, ApiError> {
    let state = shared.read();
    let extension = state
        .account
        .extension(id)
        .filter(|e| e.kind == "fax")
        .ok_or_else(|| ApiError::bad_request(format!("source: no fax extension {id:?}")))?;
    extension
        .outgoing_number
        .clone()
        .or_else(|| extension.incoming_numbers.first().cloned())
        .or_else(|| state.account.numbers.first().map(|n| n.e164.clone()))
        .ok_or_else(|| ApiError::bad_request(format!("source: fax extension {id:?} has no number")))
}

/// `POST /events/sms/` (form) and `POST /events/faxes/` (raw PDF): sends, recorded as new
/// outgoing events. Not idempotent, as upstream: a retry sends again.
async fn send(
    State(shared): State<Shr>,
    Path((user, kind_segment)): Path<(String, String)>,
    Extension(params): Extension<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let kind = kind(&kind_segment)?;
    if matches!(kind, Kind::Call | Kind::Voicemail) {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{} cannot be sent", kind.plural()),
        ));
    }
    let targets = params
        .all("target")
        .iter()
        .map(|t| e164_param(t))
        .collect::<Result<Vec<_>, _>>()?;
    if targets.is_empty() {
        return Err(ApiError::bad_request("missing parameter: target"));
    }
    let source = match params.get("source").filter(|s| !s.is_empty()) {
        None => None,
        // A fax may be sent from a fax extension (`f0`); it goes out with that line's number.
        Some(id) if kind == Kind::Fax && id.starts_with(|c: char| c.is_ascii_alphabetic()) => {
            Some(fax_line_number(&shared, id)?)
        }
        Some(number) => Some(e164_param(number)?),
    };
    let schedule = schedule_param(&params)?;
    let id = match kind {
        Kind::Sms => {
            let text = params
                .get("content")
                .filter(|c| !c.is_empty())
                .ok_or_else(|| ApiError::bad_request("missing parameter: content"))?;
            let length = text.chars().count();
            if length > 460 {
                return Err(ApiError::bad_request(format!(
                    "content has {length} characters; 460 at most"
                )));
            }
            shared
                .write()
                .send_sms(&targets, source.as_deref(), text, schedule, now_ms())
        }
        Kind::Fax => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !content_type.starts_with("application/pdf") {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "a fax must be sent as Content-Type: application/pdf",
                ));
            }
            if body.len() > MAX_FAX_BYTES {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "fax larger than 20 MiB",
                ));
            }
            let pages = media::pdf_pages(&body)
                .ok_or_else(|| ApiError::bad_request("the fax body is not a PDF document"))?;
            shared
                .write()
                .send_fax(&targets, source.as_deref(), pages, schedule, now_ms())
        }
        Kind::Call | Kind::Voicemail => unreachable!("refused above"),
    };
    let state = shared.read();
    let event = state
        .events
        .get(id)
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "sent event vanished"))?;
    Ok(single(&shared, &user, &state, event))
}
