//! Sending SMS and faxes (`POST /{userId}/events/sms/`, `/events/faxes/`), and listing what
//! was sent, so that a send whose answer was lost can be found instead of sent again.

use bytes::Bytes;
use serde_json::value::RawValue;

use super::events::{EventKind, PageRequest, WireEvent};
use super::{ApiError, ApiErrorKind, Body, Client, CreateError, Delivery, parse_json};

/// What to send, as upstream takes it.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Recipients in E.164 (`+4930...`).
    pub targets: &'a [String],
    /// The sending number or extension; `None` for the account's default.
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
}

impl Client {
    /// Sends an SMS once; returns the id of the event upstream made for it.
    pub async fn send_sms(&self, to: Outgoing<'_>, text: &str) -> Result<i64, CreateError> {
        let mut form = to.fields();
        form.push(("content", text.to_string()));
        let body = self.create("events/sms/", &[], Body::Form(&form)).await?;
        created_event_id(&body, "events/sms")
    }

    /// Sends a fax once: the PDF as the body, the recipients in the query.
    pub async fn send_fax(&self, to: Outgoing<'_>, pdf: &Bytes) -> Result<i64, CreateError> {
        let query = to.fields();
        let body = self.create("events/faxes/", &query, Body::Pdf(pdf)).await?;
        created_event_id(&body, "events/faxes")
    }

    /// Every event of `kind` created upstream since `period_start` (UTC
    /// `yyyy-MM-ddTHH:mm:ss`), newest first.
    pub async fn events_since(
        &self,
        kind: EventKind,
        period_start: &str,
    ) -> Result<Vec<WireEvent>, ApiError> {
        const LIMIT: u64 = 1000;
        let mut events = Vec::new();
        loop {
            let request = PageRequest {
                period_start: Some(period_start.to_string()),
                period_end: None,
                offset: events.len() as u64,
                limit: LIMIT,
                archived: None,
            };
            let page = self.event_page(kind, &request).await?;
            let got = page.items.len() as u64;
            for (i, raw) in page.items.iter().enumerate() {
                let what = format!("events/{} item {}", kind.plural(), events.len() + i);
                events.push(WireEvent::parse(raw, &what)?);
            }
            if got < LIMIT {
                return Ok(events);
            }
        }
    }
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
