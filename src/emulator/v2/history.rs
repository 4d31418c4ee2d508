//! `/v2/history` and `/v2/history/{id}`: the world's events as v2 history entries.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::{Query, Shr, V2Error, V2Result, download, iso, ok, time_param};
use crate::emulator::model::{Detail, Direction, Event, Kind, Location, Status};
use crate::emulator::state::State as World;

/// v2's page size without `limit`, and the most it serves.
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 1000;

pub fn routes() -> Router<Shr> {
    Router::new()
        .route("/history", get(list).put(update_many).delete(delete_many))
        .route("/history/{id}", get(one).put(update_one).delete(delete_one))
}

/// The reference's limit for a bulk update: "less than 150".
const MAX_BULK_UPDATE: usize = 149;

/// What `PUT /history/{id}` (and each item of `PUT /history`) may set. sipgate's description
/// gives `read`, `starred` and `archived` `default: false`; whether a body that leaves one out
/// clears it is not said, so the emulator takes the worse reading and clears it (a client must
/// send every flag). A note left out stays as it is.
#[derive(Debug, Default)]
struct Update {
    read: Option<bool>,
    starred: Option<bool>,
    archived: Option<bool>,
    note: Option<String>,
}

impl Update {
    /// Reads the fields of one update; `note` only where `allow_note` (the bulk form has none).
    fn parse(value: &Value, allow_note: bool) -> Result<Update, V2Error> {
        let object = value
            .as_object()
            .ok_or_else(|| V2Error::bad_request("an update is a JSON object"))?;
        let flag = |key: &str| match object.get(key) {
            None | Some(Value::Null) => Ok(Some(false)),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(V2Error::bad_request(format!(
                "{key} must be true or false, got {other}"
            ))),
        };
        let note = match object.get("note") {
            None | Some(Value::Null) => None,
            Some(Value::String(n)) if allow_note => Some(n.clone()),
            Some(_) if !allow_note => {
                return Err(V2Error::bad_request("a bulk update cannot set notes"));
            }
            Some(other) => {
                return Err(V2Error::bad_request(format!(
                    "note must be a string, got {other}"
                )));
            }
        };
        Ok(Update {
            read: flag("read")?,
            starred: flag("starred")?,
            archived: flag("archived")?,
            note,
        })
    }

    fn apply(&self, e: &mut Event) {
        if let Some(v) = self.read {
            e.read = v;
        }
        if let Some(v) = self.starred {
            e.starred = v;
        }
        if let Some(archived) = self.archived {
            e.location = match (archived, e.direction) {
                (true, _) => Location::Archive,
                (false, Direction::Outgoing | Direction::MissedOutgoing) => Location::Sent,
                (false, _) => Location::Inbox,
            };
        }
        if let Some(note) = &self.note {
            e.comment = (!note.is_empty()).then(|| note.as_str().into());
        }
    }
}

fn json_body(body: &Bytes) -> Result<Value, V2Error> {
    serde_json::from_slice(body).map_err(|e| V2Error::bad_request(format!("invalid JSON: {e}")))
}

/// The world's id of a history id v2 showed, if such an entry exists (not in the trash).
fn existing(world: &World, id: &str, text_ids: bool) -> Option<u64> {
    parse_history_id(id)
        .filter(|&n| history_id(n, text_ids) == id)
        .filter(|&n| {
            world
                .events
                .get(n)
                .is_some_and(|e| e.location != Location::Trash)
        })
}

fn no_content() -> V2Result {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /history/{id}`: sets some of read, starred, archived and note.
async fn update_one(State(shared): State<Shr>, Path(id): Path<String>, body: Bytes) -> V2Result {
    let update = Update::parse(&json_body(&body)?, true)?;
    let text_ids = shared.faults().faults.text_ids;
    let mut world = shared.write();
    let n = existing(&world, &id, text_ids)
        .ok_or_else(|| V2Error::not_found(format!("no history entry {id:?}")))?;
    if let Some(e) = world.events.get_mut(n) {
        update.apply(e);
    }
    no_content()
}

/// `PUT /history`: `[{id, read?, starred?, archived?}]`, fewer than 150. All or nothing: an
/// unknown id changes nothing and answers 404.
async fn update_many(State(shared): State<Shr>, body: Bytes) -> V2Result {
    let items = match json_body(&body)? {
        Value::Array(items) => items,
        _ => return Err(V2Error::bad_request("a bulk update is a JSON array")),
    };
    if items.len() > MAX_BULK_UPDATE {
        return Err(V2Error::bad_request(format!(
            "a bulk update takes less than 150 entries, got {}",
            items.len()
        )));
    }
    let text_ids = shared.faults().faults.text_ids;
    let mut world = shared.write();
    let mut updates = Vec::with_capacity(items.len());
    for item in &items {
        let id = item["id"]
            .as_str()
            .ok_or_else(|| V2Error::bad_request("every entry needs an id (a string)"))?;
        let n = existing(&world, id, text_ids)
            .ok_or_else(|| V2Error::not_found(format!("no history entry {id:?}")))?;
        updates.push((n, Update::parse(item, false)?));
    }
    for (n, update) in updates {
        if let Some(e) = world.events.get_mut(n) {
            update.apply(e);
        }
    }
    no_content()
}

/// `DELETE /history/{id}`: gone for good (v2 has no trash).
async fn delete_one(State(shared): State<Shr>, Path(id): Path<String>) -> V2Result {
    let text_ids = shared.faults().faults.text_ids;
    let mut world = shared.write();
    let n = existing(&world, &id, text_ids)
        .ok_or_else(|| V2Error::not_found(format!("no history entry {id:?}")))?;
    world.remove_event(n);
    no_content()
}

/// `DELETE /history?id=a&id=b`. Without ids it is refused: sipgate may read that as "delete
/// everything", and the emulator will not pretend otherwise. All or nothing, as updates.
async fn delete_many(State(shared): State<Shr>, Extension(query): Extension<Query>) -> V2Result {
    let ids = query.all("id");
    if ids.is_empty() {
        return Err(V2Error::bad_request(
            "DELETE /history needs at least one id (the emulator never deletes a whole history)",
        ));
    }
    let text_ids = shared.faults().faults.text_ids;
    let mut world = shared.write();
    let found = ids
        .iter()
        .map(|id| {
            existing(&world, id, text_ids)
                .ok_or_else(|| V2Error::not_found(format!("no history entry {id:?}")))
        })
        .collect::<Result<Vec<u64>, V2Error>>()?;
    for n in found {
        world.remove_event(n);
    }
    no_content()
}

fn type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Call => "CALL",
        Kind::Fax => "FAX",
        Kind::Sms => "SMS",
        Kind::Voicemail => "VOICEMAIL",
    }
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Incoming => "INCOMING",
        Direction::Outgoing => "OUTGOING",
        Direction::MissedIncoming => "MISSED_INCOMING",
        Direction::MissedOutgoing => "MISSED_OUTGOING",
    }
}

/// The history id v2 shows for an event: its number, or with the `text_ids` fault, for ids
/// ending in 7, `h` and the number.
pub fn history_id(event_id: u64, text_ids: bool) -> String {
    if text_ids && event_id % 10 == 7 {
        format!("h{event_id}")
    } else {
        event_id.to_string()
    }
}

fn parse_history_id(id: &str) -> Option<u64> {
    id.strip_prefix('h').unwrap_or(id).parse().ok()
}

/// Every value of a repeated enum parameter, checked against `allowed`.
fn enums<T: Copy>(query: &Query, key: &str, allowed: &[(&str, T)]) -> Result<Vec<T>, V2Error> {
    query
        .all(key)
        .into_iter()
        .map(|v| {
            allowed
                .iter()
                .find(|(name, _)| *name == v)
                .map(|(_, value)| *value)
                .ok_or_else(|| V2Error::bad_request(format!("{key}: unknown value {v:?}")))
        })
        .collect()
}

/// What a listing asks for.
struct Filter {
    types: Vec<Kind>,
    directions: Vec<Direction>,
    archived: bool,
    starred: Vec<bool>,
    from: Option<i64>,
    to: Option<i64>,
    phonenumber: Option<String>,
    connection_ids: Vec<String>,
}

impl Filter {
    fn parse(query: &Query) -> Result<Filter, V2Error> {
        let archived = match query.get("archived") {
            None | Some("") | Some("false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(V2Error::bad_request(format!(
                    "archived must be true or false, got {v:?}"
                )));
            }
        };
        let kinds = [
            ("CALL", Kind::Call),
            ("FAX", Kind::Fax),
            ("SMS", Kind::Sms),
            ("VOICEMAIL", Kind::Voicemail),
        ];
        let directions = [
            ("INCOMING", Direction::Incoming),
            ("OUTGOING", Direction::Outgoing),
            ("MISSED_INCOMING", Direction::MissedIncoming),
            ("MISSED_OUTGOING", Direction::MissedOutgoing),
        ];
        Ok(Filter {
            types: enums(query, "types", &kinds)?,
            directions: enums(query, "directions", &directions)?,
            archived,
            starred: enums(query, "starred", &[("STARRED", true), ("UNSTARRED", false)])?,
            from: time_param(query, "from")?,
            to: time_param(query, "to")?,
            phonenumber: query
                .get("phonenumber")
                .map(|n| n.chars().filter(char::is_ascii_digit).collect::<String>())
                .filter(|n| !n.is_empty()),
            connection_ids: query
                .all("connectionIds")
                .into_iter()
                .map(str::to_string)
                .collect(),
        })
    }

    fn matches(&self, world: &World, e: &Event) -> bool {
        e.location != Location::Trash
            && (e.location == Location::Archive) == self.archived
            && (self.directions.is_empty() || self.directions.contains(&e.direction))
            && (self.starred.is_empty() || self.starred.contains(&e.starred))
            && (self.connection_ids.is_empty()
                || extension_id(world, e)
                    .is_some_and(|x| self.connection_ids.iter().any(|c| c == x)))
            && self.phonenumber.as_ref().is_none_or(|wanted| {
                e.sources.iter().chain(e.targets.iter()).any(|&n| {
                    world
                        .numbers
                        .get(n)
                        .e164
                        .ends_with(wanted.trim_start_matches('0'))
                })
            })
    }
}

fn extension_id<'w>(world: &'w World, e: &Event) -> Option<&'w str> {
    e.extension
        .and_then(|i| world.account.extensions.get(usize::from(i)))
        .map(|x| x.id.as_str())
}

async fn list(State(shared): State<Shr>, Extension(query): Extension<Query>) -> V2Result {
    let limit = query.number("limit", DEFAULT_LIMIT)?;
    if limit > MAX_LIMIT {
        return Err(V2Error::bad_request(format!(
            "limit must be at most {MAX_LIMIT}, got {limit}"
        )));
    }
    let offset = query.number("offset", 0)?;
    let filter = Filter::parse(&query)?;
    let (overall_count, limit, text_ids) = {
        let faults = shared.faults();
        (
            faults.faults.overall_count,
            faults.page_size(offset, limit),
            faults.faults.text_ids,
        )
    };
    let world = shared.read();
    let mut total = 0usize;
    let mut page = Vec::new();
    for event in world
        .events
        .window(&filter.types, filter.from, filter.to)
        .rev()
        .filter(|e| filter.matches(&world, e))
    {
        if total >= offset && page.len() < limit {
            page.push(entry(&shared, &world, event, text_ids));
        }
        total += 1;
    }
    let total = overall_count.map_or(total as u64, |lie| lie);
    ok(&json!({ "items": page, "totalCount": total }))
}

async fn one(State(shared): State<Shr>, Path(id): Path<String>) -> V2Result {
    let text_ids = shared.faults().faults.text_ids;
    // A fax in progress moves on each time its entry is read (see `State::advance_fax`).
    if let Some(n) = parse_history_id(&id) {
        shared.write().advance_fax(n);
    }
    let world = shared.read();
    let event = existing(&world, &id, text_ids)
        .and_then(|n| world.events.get(n))
        .ok_or_else(|| V2Error::not_found(format!("no history entry {id:?}")))?;
    ok(&entry(&shared, &world, event, text_ids))
}

/// A source or target: `+` and the digits, or `anonymous`, with the contact's name.
fn party(world: &World, number: Option<u32>) -> (String, String) {
    let Some(n) = number.map(|n| world.numbers.get(n)) else {
        return ("anonymous".into(), String::new());
    };
    if n.e164.is_empty() {
        return ("anonymous".into(), String::new());
    }
    let alias = world
        .name_for_number(&n.e164)
        .map(|(name, _)| name.to_string())
        .unwrap_or_default();
    (format!("+{}", n.e164), alias)
}

/// One event as a v2 history entry.
fn entry(shared: &Shr, world: &World, e: &Event, text_ids: bool) -> Value {
    let (source, source_alias) = party(world, e.sources.first().copied());
    let (target, target_alias) = party(world, e.targets.first().copied());
    let extension = e
        .extension
        .and_then(|i| world.account.extensions.get(usize::from(i)));
    let missed = matches!(
        e.direction,
        Direction::MissedIncoming | Direction::MissedOutgoing
    );
    let mut m = Map::new();
    m.insert("id".into(), history_id(e.id, text_ids).into());
    m.insert("source".into(), source.into());
    m.insert("target".into(), target.into());
    m.insert("sourceAlias".into(), source_alias.into());
    m.insert("targetAlias".into(), target_alias.into());
    m.insert("type".into(), type_name(e.kind).into());
    m.insert("created".into(), iso(e.created_ms).into());
    m.insert("lastModified".into(), iso(e.created_ms).into());
    m.insert("direction".into(), direction_name(e.direction).into());
    m.insert(
        "incoming".into(),
        matches!(e.direction, Direction::Incoming | Direction::MissedIncoming).into(),
    );
    m.insert(
        "status".into(),
        if missed { "NOPICKUP" } else { "PICKUP" }.into(),
    );
    // Incoming calls of the reception's device came in through the group, as a team's do
    // (the device first: the mirror takes the first id as the event's extension).
    let via_group = matches!(e.detail, Detail::Call { .. })
        && matches!(e.direction, Direction::Incoming | Direction::MissedIncoming)
        && extension.is_some_and(|x| x.id == super::account::GROUP_DEVICE);
    let connection_ids: Vec<String> = extension
        .map(|x| x.id.clone())
        .into_iter()
        .chain(via_group.then(|| super::account::GROUP.0.to_string()))
        .collect();
    m.insert("connectionIds".into(), connection_ids.into());
    m.insert("read".into(), e.read.into());
    m.insert("archived".into(), (e.location == Location::Archive).into());
    m.insert("starred".into(), e.starred.into());
    m.insert("note".into(), e.comment.as_deref().unwrap_or("").into());
    let labels: Vec<&str> = e.labels.split(',').filter(|l| !l.is_empty()).collect();
    m.insert("labels".into(), labels.into());
    let endpoints: Vec<Value> = extension
        .map(|x| {
            vec![json!({"type": "ROUTED", "endpoint": {
                "extension": x.id, "type": x.kind.to_ascii_uppercase()}})]
        })
        .unwrap_or_default();
    m.insert("endpoints".into(), endpoints.into());
    match &e.detail {
        Detail::Call {
            duration_s,
            recordings,
        } => {
            let call_id = world
                .push_call_ids
                .get(&e.id)
                .cloned()
                .unwrap_or_else(|| format!("{:016X}", e.id));
            m.insert("callId".into(), call_id.into());
            let recordings: Vec<Value> = (0..*recordings)
                .map(|i| {
                    json!({"id": format!("{}-{i}", e.id),
                           "url": download::url(shared, &format!("recording-{}-{i}.wav", e.id))})
                })
                .collect();
            m.insert("recordings".into(), recordings.into());
            if let Some(d) = duration_s {
                m.insert("duration".into(), (*d).into());
            }
            m.insert(
                "callStatus".into(),
                if missed { "MISSED" } else { "SUCCESS" }.into(),
            );
        }
        Detail::Voicemail {
            duration_s,
            transcription,
        } => {
            m.insert("duration".into(), (*duration_s).into());
            m.insert(
                "transcription".into(),
                transcription.as_deref().unwrap_or("").into(),
            );
            m.insert(
                "recordingUrl".into(),
                download::url(shared, &format!("voicemail-{}.wav", e.id)).into(),
            );
        }
        Detail::Sms { text, .. } => {
            m.insert("smsContent".into(), text.as_ref().into());
            m.insert(
                "scheduled".into(),
                e.scheduled_ms.map(iso).unwrap_or_default().into(),
            );
        }
        Detail::Fax { pages, .. } => {
            if let Some(status) = e.status {
                let sending = world.faxes_in_progress.get(&e.id) == Some(&true);
                let name = match status {
                    Status::Sent => "SENT",
                    Status::Failed => "FAILED",
                    Status::Pending if sending => "SENDING",
                    Status::Pending => "PENDING",
                    Status::Scheduled => "SCHEDULED",
                };
                m.insert("faxStatusType".into(), name.into());
            }
            m.insert(
                "scheduled".into(),
                e.scheduled_ms.map(iso).unwrap_or_default().into(),
            );
            m.insert(
                "documentUrl".into(),
                download::url(shared, &format!("fax-{}.pdf", e.id)).into(),
            );
            m.insert(
                "previewUrl".into(),
                download::url(shared, &format!("preview-{}.png", e.id)).into(),
            );
            m.insert(
                "reportUrl".into(),
                download::url(shared, &format!("report-{}.pdf", e.id)).into(),
            );
            m.insert("pageCount".into(), (*pages).into());
        }
    }
    Value::Object(m)
}
