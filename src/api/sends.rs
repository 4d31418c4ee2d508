//! Sending SMS and faxes, and listing what was sent, so that a send whose answer was lost can
//! be found instead of sent again.
//!
//! | | classic | v2 |
//! |---|---|---|
//! | SMS | `POST /{userId}/events/sms/` (form: targets, source, content, schedule); answers the event | `POST /sessions/sms` `{smsId, recipient, message, sendAt?}`, one recipient; answers nothing known |
//! | fax | `POST /{userId}/events/faxes/?target=..` with the PDF as the body; answers the event | `POST /sessions/fax` `{faxlineId, recipient, filename, base64Content}`; answers `{sessionId}`, the history id |
//! | what was sent | `GET /events/{sms,faxes}/?period_start=` | `GET /history?types=..&from=` |

use base64::Engine;
use bytes::Bytes;
use serde_json::json;
use serde_json::value::RawValue;

use super::events::{PageRequest, WireEvent};
use super::{ApiError, ApiErrorKind, Body, Client, CreateError, Delivery, parse_json};
use crate::config::Api;
use crate::records::EventKind;
use crate::records::event::EventRecord;
use crate::store::events::event_key;

/// What to send, as upstream takes it.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Recipients in E.164 (`+4930...`); exactly one through v2.
    pub targets: &'a [String],
    /// The sending number or extension; `None` for the account's default. v2: the SMS
    /// extension (`s0`) or fax line (`f0`), always given.
    pub source: Option<&'a str>,
    /// When upstream should send it, UTC `YYYY-MM-DD HH:MM:SS`; `None` for now.
    pub schedule: Option<&'a str>,
}

impl Outgoing<'_> {
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut fields: Vec<(&'static str, String)> =
            self.targets.iter().map(|t| ("target", t.clone())).collect();
        if let Some(source) = self.source {
            fields.push(("source", source.to_string()));
        }
        if let Some(schedule) = self.schedule {
            fields.push(("schedule", schedule.to_string()));
        }
        fields
    }

    /// v2 takes one recipient, and the extension to send from.
    fn v2_parts(&self) -> Result<(&str, &str), CreateError> {
        match (self.targets, self.source) {
            ([recipient], Some(source)) => Ok((recipient.as_str(), source)),
            _ => Err(CreateError {
                error: ApiError::new(
                    ApiErrorKind::Permanent,
                    "a v2 send has one recipient and names its extension",
                ),
                delivery: Delivery::NotDelivered,
            }),
        }
    }

    /// `sendAt`: Unix seconds.
    fn send_at(&self) -> Option<i64> {
        let at = self.schedule?;
        chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S")
            .ok()
            .map(|t| t.and_utc().timestamp())
    }
}

impl Client {
    /// Whether upstream takes a time to send a message of `kind` at. v2's `POST /sessions/fax`
    /// has no such field (sipgate's own web client sends none): a fax for later waits in the
    /// outbox until its time instead.
    pub fn schedules(&self, kind: EventKind) -> bool {
        match self.api() {
            Api::Classic => true,
            Api::V2 => kind == EventKind::Sms,
        }
    }

    /// Sends an SMS once; returns the id of the event upstream made for it, when the answer
    /// names it (classic does, v2 does not).
    pub async fn send_sms(&self, to: Outgoing<'_>, text: &str) -> Result<Option<i64>, CreateError> {
        match self.api() {
            Api::Classic => {
                let mut form = to.fields();
                form.push(("content", text.to_string()));
                let body = self.create("events/sms/", &[], Body::Form(&form)).await?;
                created_event_id(&body, "events/sms").map(Some)
            }
            Api::V2 => {
                let (recipient, sms_id) = to.v2_parts()?;
                let mut request =
                    json!({ "smsId": sms_id, "recipient": recipient, "message": text });
                if let Some(at) = to.send_at() {
                    request["sendAt"] = at.into();
                }
                let body = request.to_string().into_bytes();
                self.create("sessions/sms", &[], Body::Json(&body)).await?;
                Ok(None)
            }
        }
    }

    /// Sends a fax once; returns the id of the event upstream made for it.
    pub async fn send_fax(
        &self,
        to: Outgoing<'_>,
        file_name: &str,
        pdf: &Bytes,
    ) -> Result<Option<i64>, CreateError> {
        match self.api() {
            Api::Classic => {
                let query = to.fields();
                let body = self.create("events/faxes/", &query, Body::Pdf(pdf)).await?;
                created_event_id(&body, "events/faxes").map(Some)
            }
            Api::V2 => {
                let (recipient, faxline_id) = to.v2_parts()?;
                let request = json!({
                    "faxlineId": faxline_id,
                    "recipient": recipient,
                    "filename": file_name,
                    "base64Content": base64::engine::general_purpose::STANDARD.encode(pdf),
                });
                let body = request.to_string().into_bytes();
                let answer = self.create("sessions/fax", &[], Body::Json(&body)).await?;
                session_id(&answer).map(Some)
            }
        }
    }

    /// Every event of `kind` created upstream since `period_start` (UTC
    /// `yyyy-MM-ddTHH:mm:ss`), as records, newest first within each listing.
    pub async fn sent_since(
        &self,
        kind: EventKind,
        period_start: &str,
        country_code: &str,
    ) -> Result<Vec<EventRecord>, ApiError> {
        const LIMIT: u64 = 1000;
        let mut events = Vec::new();
        for &archived in self.listing_parts() {
            let mut offset = 0;
            loop {
                let request = PageRequest {
                    period_start: Some(period_start.to_string()),
                    period_end: None,
                    offset,
                    limit: LIMIT,
                    archived,
                };
                let (page, _) = self.event_records(kind, &request, country_code).await?;
                let got = page.len() as u64;
                offset += got;
                events.extend(page);
                if got == 0 || got < LIMIT {
                    break;
                }
            }
        }
        Ok(events)
    }

    /// One event as the mirror's record (`send fax --wait` follows a fax with it).
    pub async fn event_record(
        &self,
        kind: EventKind,
        id: &str,
        country_code: &str,
    ) -> Result<EventRecord, ApiError> {
        match self.api() {
            Api::Classic => {
                let numeric = id.parse::<i64>().map_err(|_| {
                    ApiError::new(
                        ApiErrorKind::Permanent,
                        format!("event id {id:?} is not a number"),
                    )
                })?;
                let (raw, _) = self.event(kind, numeric).await?;
                let raw: Box<RawValue> = parse_json(raw.as_bytes())?;
                super::event_record::to_record(kind, &raw, 0, country_code)
            }
            Api::V2 => {
                let raw: Box<RawValue> = self
                    .get_json(&format!("history/{}", super::writes::url_segment(id)), &[])
                    .await?;
                super::v2::history::to_record(kind, &raw, 0, country_code)
            }
        }
    }
}

/// The history id in a v2 fax answer (`{"sessionId": "..."}`). Upstream said 2xx, so it acted;
/// an answer we cannot read is an unknown outcome, which makes the caller look the fax up
/// instead of sending it again.
fn session_id(body: &[u8]) -> Result<i64, CreateError> {
    #[derive(serde::Deserialize)]
    struct Session {
        #[serde(rename = "sessionId")]
        session_id: String,
    }
    parse_json::<Session>(body)
        .and_then(|s| {
            if s.session_id.trim().is_empty() {
                Err(ApiError::new(
                    ApiErrorKind::Permanent,
                    "the sessionId is empty",
                ))
            } else {
                Ok(event_key(&s.session_id).0)
            }
        })
        .map_err(|error| CreateError {
            error: error.context("upstream accepted the fax but its answer is unreadable"),
            delivery: Delivery::Unknown,
        })
}

/// The event id in a create's answer (`{"sms": {...}}`). Upstream said 2xx, so it acted; an
/// answer we cannot read is reported as an unknown outcome, which makes the caller look the
/// message up instead of sending it again.
fn created_event_id(body: &[u8], what: &str) -> Result<i64, CreateError> {
    parse_single_event(body, what)
        .and_then(|event| {
            event.id.parse::<i64>().map_err(|_| {
                ApiError::new(
                    ApiErrorKind::Permanent,
                    format!("{what}: id {:?} is out of range", event.id),
                )
            })
        })
        .map_err(|error| CreateError {
            error: error.context("upstream accepted the message but its answer is unreadable"),
            delivery: Delivery::Unknown,
        })
}

/// Parses a single-event answer: one root key (`sms`, `fax`, `call`, ...) around the event.
pub(crate) fn parse_single_event(body: &[u8], what: &str) -> Result<WireEvent, ApiError> {
    let envelope: std::collections::BTreeMap<String, Box<RawValue>> = parse_json(body)?;
    let raw = envelope
        .into_values()
        .next()
        .ok_or_else(|| ApiError::new(ApiErrorKind::Permanent, format!("{what}: empty answer")))?;
    WireEvent::parse(&raw, what)
}
