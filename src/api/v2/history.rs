//! v2 history: `GET /history` (calls, voicemails, SMS and faxes in one listing), turned into
//! the same records the classic listings give.
//!
//! A listing is filtered by `types` (one per event stream), `archived` (omitted or false lists
//! only entries that are not archived, so a stream is listed twice) and `from`/`to` (ISO-8601,
//! `created`). Entries are newest first; `{items, totalCount}`.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::api::event_record::utc_timestamp;
use crate::api::events::{PageRequest, loose_u32, null_as_empty};
use crate::api::{ApiError, ApiErrorKind, Client, parse_json};
use crate::numbers::number_key;
use crate::records::EventKind;
use crate::records::event::Detail;
use crate::records::event::EndpointRecord;
use crate::records::event::EventRecord;
use crate::store::events::event_key;

#[derive(Deserialize)]
struct Page {
    items: Vec<Box<RawValue>>,
    #[serde(rename = "totalCount")]
    total_count: u64,
}

/// A history entry as v2 sends it. Unknown fields are ignored and optional ones may be absent
/// or null; `id`, `type` and `created` are required.
#[derive(Debug, Deserialize)]
struct WireEntry {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: String,
    #[serde(default, rename = "lastModified")]
    last_modified: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default, rename = "sourceAlias")]
    source_alias: Option<String>,
    #[serde(default, rename = "targetAlias")]
    target_alias: Option<String>,
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, rename = "connectionIds", deserialize_with = "null_as_empty")]
    connection_ids: Vec<String>,
    #[serde(default)]
    read: Option<bool>,
    #[serde(default)]
    archived: Option<bool>,
    #[serde(default)]
    starred: Option<bool>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    labels: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    endpoints: Vec<Box<RawValue>>,
    #[serde(default, deserialize_with = "null_as_empty")]
    recordings: Vec<WireRecording>,
    #[serde(default, deserialize_with = "seconds")]
    duration: Option<u32>,
    #[serde(default, rename = "callStatus")]
    call_status: Option<String>,
    #[serde(default)]
    transcription: Option<String>,
    #[serde(default, rename = "recordingUrl")]
    recording_url: Option<String>,
    #[serde(default, rename = "smsContent")]
    sms_content: Option<String>,
    #[serde(default)]
    scheduled: Option<String>,
    #[serde(default, rename = "faxStatusType")]
    fax_status_type: Option<String>,
    #[serde(default, rename = "documentUrl")]
    document_url: Option<String>,
    #[serde(default, rename = "reportUrl")]
    report_url: Option<String>,
    #[serde(default, rename = "previewUrl")]
    preview_url: Option<String>,
    #[serde(default, rename = "pageCount", deserialize_with = "loose_u32")]
    page_count: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct WireRecording {
    #[serde(default)]
    url: Option<String>,
}

/// A duration in seconds: v2 types it as a number, which may come with a fraction.
fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let value: Option<f64> = Option::deserialize(d)?;
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && (0.0..=f64::from(u32::MAX)).contains(&v) => {
            Ok(Some(v.round() as u32))
        }
        Some(v) => Err(serde::de::Error::custom(format!(
            "duration {v} is not a number of seconds"
        ))),
    }
}

/// The `types` value of an event stream.
pub fn type_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Call => "CALL",
        EventKind::Fax => "FAX",
        EventKind::Sms => "SMS",
        EventKind::Voicemail => "VOICEMAIL",
    }
}

/// v2 takes ISO-8601 date-times; the sync's bounds are UTC `yyyy-MM-ddTHH:mm:ss`.
fn iso(time: &str) -> String {
    format!("{time}Z")
}

impl Client {
    /// One page of one type's history, as records, and the listing's total.
    pub(crate) async fn history_page(
        &self,
        kind: EventKind,
        request: &PageRequest,
        country_code: &str,
    ) -> Result<(Vec<EventRecord>, u64), ApiError> {
        let mut query = vec![
            ("types", type_name(kind).to_string()),
            ("archived", request.archived.unwrap_or(false).to_string()),
            ("offset", request.offset.to_string()),
            (
                "limit",
                request.limit.min(super::MAX_HISTORY_LIMIT).to_string(),
            ),
        ];
        if let Some(start) = &request.period_start {
            query.push(("from", iso(start)));
        }
        if let Some(end) = &request.period_end {
            query.push(("to", iso(end)));
        }
        let page: Page = self.get_json("history", &query).await?;
        let records = page
            .items
            .iter()
            .enumerate()
            .map(|(i, raw)| to_record(kind, raw, request.offset + i as u64, country_code))
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok((records, page.total_count))
    }
}

/// An entry's editable fields, as `GET /history/{id}` sends them.
pub(crate) fn fields(raw: &RawValue) -> Result<crate::records::writes::EventFields, ApiError> {
    let e: WireEntry = parse_json(raw.get().as_bytes())?;
    Ok(entry_fields(e))
}

impl Client {
    /// One page of the whole history (every type) created between `from` and `to` (ISO-8601),
    /// archived or not, as each entry's id and editable fields; and the listing's total. An
    /// entry that does not parse is left out: the caller reads it alone.
    pub(crate) async fn history_fields_page(
        &self,
        from: &str,
        to: &str,
        archived: bool,
        offset: u64,
    ) -> Result<(Vec<(String, crate::records::writes::EventFields)>, u64), ApiError> {
        let query = [
            ("archived", archived.to_string()),
            ("from", from.to_string()),
            ("to", to.to_string()),
            ("offset", offset.to_string()),
            ("limit", super::MAX_HISTORY_LIMIT.to_string()),
        ];
        let page: Page = self.get_json("history", &query).await?;
        let fields = page
            .items
            .iter()
            .filter_map(|raw| parse_json::<WireEntry>(raw.get().as_bytes()).ok())
            .map(|e| (e.id.clone(), entry_fields(e)))
            .collect();
        Ok((fields, page.total_count))
    }
}

fn entry_fields(e: WireEntry) -> crate::records::writes::EventFields {
    let outgoing = e
        .direction
        .as_deref()
        .is_some_and(|d| d.to_ascii_lowercase().ends_with("outgoing"));
    crate::records::writes::EventFields {
        read: e.read.unwrap_or(false),
        starred: e.starred.unwrap_or(false),
        labels: e.labels.join(","),
        location: location(e.archived.unwrap_or(false), outgoing).to_string(),
        archived: e.archived.unwrap_or(false),
        note: e.note.unwrap_or_default(),
    }
}

/// The mirror's `location` of a v2 entry: v2 has no trash, and no folders but the archive.
fn location(archived: bool, outgoing: bool) -> &'static str {
    if archived {
        "archive"
    } else if outgoing {
        "sent"
    } else {
        "inbox"
    }
}

fn permanent(message: String) -> ApiError {
    ApiError::new(ApiErrorKind::Permanent, message)
}

/// One v2 history entry as the mirror's record.
pub(crate) fn to_record(
    kind: EventKind,
    raw: &RawValue,
    index: u64,
    country_code: &str,
) -> Result<EventRecord, ApiError> {
    let what = format!("history ({}) item {index}", type_name(kind));
    let e: WireEntry = parse_json(raw.get().as_bytes()).map_err(|e| e.context(&what))?;
    if e.kind != type_name(kind) {
        return Err(permanent(format!(
            "{what}: type {:?} in a listing of {}",
            e.kind,
            type_name(kind)
        )));
    }
    if e.id.trim().is_empty() {
        return Err(permanent(format!("{what}: the id is empty")));
    }
    let created_utc = utc_timestamp(&e.created).ok_or_else(|| {
        permanent(format!(
            "{what}: created {:?} is not a timestamp",
            e.created
        ))
    })?;
    let (id, keep_text) = event_key(&e.id);
    let direction = e.direction.as_deref().map(str::to_ascii_lowercase);
    let outgoing = direction
        .as_deref()
        .is_some_and(|d| d.ends_with("outgoing"));
    let location = location(e.archived.unwrap_or(false), outgoing);
    let endpoints = [
        ("source", &e.source, &e.source_alias),
        ("target", &e.target, &e.target_alias),
    ]
    .into_iter()
    .filter(|(_, number, alias)| number.is_some() || alias.is_some())
    .map(|(role, number, alias)| endpoint(role, number.as_deref(), alias.as_deref(), country_code))
    .collect();
    let detail = match kind {
        EventKind::Call => Detail::Call {
            duration_s: e.duration,
            recordings: e.recordings.iter().filter_map(|r| r.url.clone()).collect(),
            call_status: e.call_status.clone(),
        },
        EventKind::Fax => Detail::Fax {
            page_count: e.page_count,
            sent: None,
            content_url: e.document_url.clone(),
            fail_reason: None,
            pages: e
                .preview_url
                .iter()
                .map(|url| (1, Some(url.clone()), None))
                .collect(),
            status_type: e.fax_status_type.clone(),
            report_url: e.report_url.clone(),
        },
        EventKind::Sms => Detail::Sms {
            sent: None,
            text: e.sms_content.clone(),
        },
        EventKind::Voicemail => Detail::Voicemail {
            duration_s: e.duration,
            caller: e.source.clone(),
            content_url: e.recording_url.clone(),
            transcription: e.transcription.clone().filter(|t| !t.is_empty()),
        },
    };
    let routing_json = if e.endpoints.is_empty() {
        None
    } else {
        Some(format!(
            "[{}]",
            e.endpoints
                .iter()
                .map(|r| r.get())
                .collect::<Vec<_>>()
                .join(",")
        ))
    };
    Ok(EventRecord {
        id,
        upstream_id: keep_text.then(|| e.id.clone()),
        last_modified: e.last_modified.clone(),
        connection_status: e.status.clone(),
        connection_ids: (!e.connection_ids.is_empty()).then(|| e.connection_ids.join(",")),
        routing_json,
        kind: kind.as_str(),
        created_upstream: e.created.clone(),
        created_utc,
        scheduled_upstream: e.scheduled.clone().filter(|s| !s.is_empty()),
        status: classic_status(kind, &e, outgoing),
        direction,
        comment: e.note.clone().filter(|n| !n.is_empty()),
        extension_id: e.connection_ids.first().cloned(),
        extension_alias: None,
        extension_url: None,
        read: e.read.unwrap_or(false),
        starred: e.starred.unwrap_or(false),
        labels: e.labels.join(","),
        location: Some(location.to_string()),
        content_url: e.document_url.clone().or(e.recording_url.clone()),
        modify_url: None,
        endpoints,
        detail,
        raw_json: raw.get().to_string(),
    })
}

/// The mirror's `status` (failed, sent, pending, scheduled: the classic values, which the views
/// and reports use) for what v2 says: a fax's `faxStatusType`; an outgoing SMS is sent unless
/// it is scheduled. Calls and voicemails have none (v2's connection status is kept apart).
fn classic_status(kind: EventKind, e: &WireEntry, outgoing: bool) -> Option<String> {
    let status = match kind {
        EventKind::Fax => match e.fax_status_type.as_deref()? {
            "SENT" => "sent",
            "FAILED" => "failed",
            "PENDING" | "SENDING" => "pending",
            "SCHEDULED" => "scheduled",
            _ => return None,
        },
        EventKind::Sms if outgoing => {
            if e.scheduled.as_deref().is_some_and(|s| !s.is_empty()) {
                "scheduled"
            } else {
                "sent"
            }
        }
        _ => return None,
    };
    Some(status.to_string())
}

/// A source or target: v2 sends `+4930...` or `anonymous`; the mirror keeps numbers as the
/// classic API did, international digits without `+`.
fn endpoint(
    role: &'static str,
    number: Option<&str>,
    alias: Option<&str>,
    country_code: &str,
) -> EndpointRecord {
    let number = number.map(str::trim).filter(|n| !n.is_empty());
    let anonymous = number.is_some_and(|n| n.eq_ignore_ascii_case("anonymous"));
    let digits = number
        .filter(|_| !anonymous)
        .map(|n| n.strip_prefix('+').unwrap_or(n).to_string());
    EndpointRecord {
        role,
        number_key: number
            .filter(|_| !anonymous)
            .and_then(|n| number_key(n, country_code)),
        number_e164: digits,
        number_pretty: number.filter(|_| anonymous).map(str::to_string),
        contact_fn: alias.filter(|a| !a.is_empty()).map(str::to_string),
        contact_url: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).expect("json")
    }

    #[test]
    fn a_fax_entry_from_the_reference_becomes_a_record() {
        let entry = raw(
            r#"{"id":"0000000000","source":"+49123456789","target":"+4921112345678",
            "sourceAlias":"John Doe","targetAlias":"","type":"FAX",
            "created":"2020-09-14T10:03:20Z","lastModified":"2020-09-14T10:03:21Z",
            "direction":"OUTGOING","incoming":false,"status":"PICKUP",
            "connectionIds":["f0"],"read":true,"archived":false,"note":"",
            "endpoints":[{"type":"ROUTED","endpoint":{"extension":"f0","type":"FAX"}}],
            "starred":false,"labels":["a","b"],"faxStatusType":"SENT",
            "documentUrl":"https://secure.live.sipgate.de/download/abc/fax.pdf",
            "reportUrl":"https://secure.live.sipgate.de/download/abc/report.pdf",
            "previewUrl":"https://secure.live.sipgate.de/download/abc/preview.jpg",
            "pageCount":1,"somethingNew":{"x":1}}"#,
        );
        let r = to_record(EventKind::Fax, &entry, 0, "49").expect("parses");
        assert!(r.id < 0);
        assert_eq!(r.upstream_id.as_deref(), Some("0000000000"));
        assert_eq!(r.created_utc, "2020-09-14T10:03:20.000Z");
        assert_eq!(r.status.as_deref(), Some("sent"));
        assert_eq!(r.direction.as_deref(), Some("outgoing"));
        assert_eq!(r.location.as_deref(), Some("sent"));
        assert_eq!(r.labels, "a,b");
        assert_eq!(r.comment, None);
        assert_eq!(r.endpoints[0].number_e164.as_deref(), Some("49123456789"));
        assert_eq!(r.endpoints[0].contact_fn.as_deref(), Some("John Doe"));
        assert_eq!(r.endpoints[1].contact_fn, None);
        assert_eq!(r.connection_ids.as_deref(), Some("f0"));
        assert!(
            r.routing_json
                .as_deref()
                .is_some_and(|j| j.contains("ROUTED"))
        );
    }

    #[test]
    fn odd_dates_anonymous_callers_and_numeric_ids() {
        let entry = raw(
            r#"{"id":"100001235","source":"anonymous","target":"+4921112345678","type":"CALL",
            "created":"2020-09-14T11:00:00.250+02:00","direction":"MISSED_INCOMING","archived":true,
            "duration":12.6,"callStatus":"MISSED","recordings":null,"labels":null}"#,
        );
        let r = to_record(EventKind::Call, &entry, 0, "49").expect("parses");
        assert_eq!((r.id, r.upstream_id.clone()), (100001235, None));
        assert_eq!(r.created_utc, "2020-09-14T09:00:00.250Z");
        assert_eq!(r.location.as_deref(), Some("archive"));
        assert_eq!(r.endpoints[0].number_e164, None);
        assert_eq!(r.endpoints[0].number_pretty.as_deref(), Some("anonymous"));
        assert!(matches!(
            r.detail,
            Detail::Call {
                duration_s: Some(13),
                ..
            }
        ));
    }

    #[test]
    fn bad_entries_name_the_field() {
        for (text, needle) in [
            (
                r#"{"id":7,"type":"CALL","created":"2020-01-01T00:00:00Z"}"#,
                "id",
            ),
            (
                r#"{"id":"1","type":"SMS","created":"2020-01-01T00:00:00Z"}"#,
                "type",
            ),
            (
                r#"{"id":"1","type":"CALL","created":"yesterday"}"#,
                "created",
            ),
            (
                r#"{"id":"","type":"CALL","created":"2020-01-01T00:00:00Z"}"#,
                "empty",
            ),
            (
                r#"{"id":"1","type":"CALL","created":"2020-01-01T00:00:00Z","duration":-4}"#,
                "duration",
            ),
        ] {
            let error = to_record(EventKind::Call, &raw(text), 3, "49").unwrap_err();
            assert_eq!(error.kind, ApiErrorKind::Permanent);
            assert!(
                error.message.contains("item 3") && error.message.contains(needle),
                "{}",
                error.message
            );
        }
    }
}
