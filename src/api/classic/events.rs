//! Event listings: `GET /{userId}/events/{calls,faxes,sms,voicemails}/`.

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::api::{ApiError, ApiErrorKind, Client, parse_json};
pub use crate::records::event_kind::EventKind;

/// One page of a listing: the raw items (kept verbatim in the mirror) and the total.
#[derive(Debug)]
pub struct EventPage {
    pub items: Vec<Box<RawValue>>,
    pub overall_count: u64,
}

#[derive(Deserialize)]
struct Envelope {
    events: Page,
}

#[derive(Deserialize)]
struct Page {
    #[serde(alias = "calls", alias = "faxes", alias = "sms", alias = "voicemails")]
    items: Vec<Box<RawValue>>,
    #[serde(rename = "overallCount")]
    overall_count: u64,
}

#[derive(Deserialize)]
struct AllEnvelope {
    eventlist: AllPage,
}

#[derive(Deserialize)]
struct AllPage {
    events: Vec<Box<RawValue>>,
    #[serde(rename = "overallCount")]
    overall_count: u64,
}

#[derive(Deserialize)]
struct Typed {
    #[serde(rename = "type")]
    kind: String,
}

/// The time window and page of a listing. Times are UTC `yyyy-MM-ddTHH:mm:ss`.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub offset: u64,
    pub limit: u64,
    /// v2 only: list the archived entries (`Some(true)`) or the others. classic: `None`.
    pub archived: Option<bool>,
}

impl PageRequest {
    /// The listing's query parameters.
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = vec![
            ("limit", self.limit.to_string()),
            ("offset", self.offset.to_string()),
        ];
        if let Some(start) = &self.period_start {
            query.push(("period_start", start.clone()));
        }
        if let Some(end) = &self.period_end {
            query.push(("period_end", end.clone()));
        }
        query
    }
}

impl Client {
    pub async fn event_page(
        &self,
        kind: EventKind,
        request: &PageRequest,
    ) -> Result<EventPage, ApiError> {
        let query = request.query();
        let envelope: Envelope = self
            .get_json(&format!("events/{}/", kind.plural()), &query)
            .await?;
        Ok(EventPage {
            items: envelope.events.items,
            overall_count: envelope.events.overall_count,
        })
    }
}

impl Client {
    /// A page of `/events/` (all types, newest first), each item with its type.
    pub async fn all_events_page(
        &self,
        request: &PageRequest,
    ) -> Result<(Vec<(EventKind, Box<RawValue>)>, u64), ApiError> {
        let query = request.query();
        let envelope: AllEnvelope = self.get_json("events/", &query).await?;
        let items = envelope
            .eventlist
            .events
            .into_iter()
            .enumerate()
            .map(|(i, raw)| {
                let typed: Typed = parse_json(raw.get().as_bytes())
                    .map_err(|e| e.context(&format!("events item {i}")))?;
                let kind = EventKind::ALL
                    .into_iter()
                    .find(|k| k.as_str() == typed.kind)
                    .ok_or_else(|| {
                        ApiError::new(
                            ApiErrorKind::Permanent,
                            format!("events item {i}: unknown type {:?}", typed.kind),
                        )
                    })?;
                Ok((kind, raw))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok((items, envelope.eventlist.overall_count))
    }
}

/// An event as upstream sends it. Unknown fields are ignored and optional ones may be absent;
/// `id` and `created` are required.
#[derive(Debug, Deserialize)]
pub struct WireEvent {
    pub id: String,
    #[serde(default)]
    pub comment: Option<String>,
    pub created: String,
    #[serde(default)]
    pub scheduled: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub labels: Option<WireLabels>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub get: Option<String>,
    #[serde(default)]
    pub modify: Option<String>,
    #[serde(default)]
    pub read: Option<WireFlag>,
    #[serde(default)]
    pub starred: Option<WireFlag>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub sources: Vec<WireEndpoint>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub targets: Vec<WireEndpoint>,
    #[serde(default)]
    pub extension: Option<WireExtension>,
    #[serde(default, deserialize_with = "loose_u32")]
    pub duration: Option<u32>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub recordings: Vec<WireLink>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub previews: Vec<WirePreview>,
    #[serde(default, rename = "pageCount", deserialize_with = "loose_u32")]
    pub page_count: Option<u32>,
    #[serde(default)]
    pub sent: Option<String>,
    #[serde(default)]
    pub content: Option<WireLink>,
    #[serde(default, rename = "failReason")]
    pub fail_reason: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub caller: Option<String>,
    #[serde(default)]
    pub transcription: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WireLabels {
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WireFlag {
    #[serde(deserialize_with = "loose_bool")]
    pub value: bool,
}

#[derive(Debug, Deserialize)]
pub struct WireEndpoint {
    #[serde(default, rename = "numberE164")]
    pub number_e164: Option<String>,
    #[serde(default, rename = "numberPretty")]
    pub number_pretty: Option<String>,
    #[serde(default, rename = "contactFN")]
    pub contact_fn: Option<String>,
    #[serde(default)]
    pub get: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WireExtension {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub get: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WireLink {
    #[serde(default)]
    pub get: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WirePreview {
    #[serde(rename = "pageNumber", deserialize_with = "strict_u32")]
    pub page_number: u32,
    #[serde(default)]
    pub small: Option<WireLink>,
    #[serde(default)]
    pub big: Option<WireLink>,
}

impl WireEvent {
    /// Parses one raw item of a listing, naming the field that does not fit.
    pub fn parse(raw: &RawValue, what: &str) -> Result<WireEvent, ApiError> {
        let event: WireEvent = parse_json(raw.get().as_bytes()).map_err(|e| e.context(what))?;
        if event.id.is_empty() || !event.id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::new(
                ApiErrorKind::Permanent,
                format!("{what}: id {:?} is not a numeric id", event.id),
            ));
        }
        Ok(event)
    }
}

/// `true`/`false`, also as the strings and 0/1 some API versions sent.
pub(crate) fn loose_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose {
        Bool(bool),
        Int(u8),
        Text(String),
    }
    match Loose::deserialize(d)? {
        Loose::Bool(b) => Ok(b),
        Loose::Int(0) => Ok(false),
        Loose::Int(1) => Ok(true),
        Loose::Text(t) if t == "true" || t == "1" => Ok(true),
        Loose::Text(t) if t == "false" || t == "0" => Ok(false),
        _ => Err(serde::de::Error::custom("expected true or false")),
    }
}

/// A count or duration sent as a number or a numeric string.
pub(crate) fn loose_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose {
        Int(u32),
        Text(String),
    }
    match Option::<Loose>::deserialize(d)? {
        None => Ok(None),
        Some(Loose::Int(n)) => Ok(Some(n)),
        Some(Loose::Text(t)) if t.is_empty() => Ok(None),
        Some(Loose::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected a number, got {t:?}"))),
    }
}

fn strict_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    loose_u32(d)?.ok_or_else(|| serde::de::Error::custom("expected a number"))
}

pub(crate) fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).expect("json")
    }

    #[test]
    fn tolerant_of_missing_and_unknown_fields() {
        let e = WireEvent::parse(&raw(r#"{"id":"12","created":"2024-01-01T10:00:00.000+0100","brandNew":{"x":1},"duration":"37","read":{"value":"true"}}"#), "calls[0]").expect("parses");
        assert_eq!(e.duration, Some(37));
        assert!(e.read.expect("read").value);
        assert!(e.sources.is_empty());
    }

    #[test]
    fn strict_where_it_matters() {
        let missing = WireEvent::parse(&raw(r#"{"created":"2024"}"#), "calls[3]").unwrap_err();
        assert!(
            missing.message.contains("calls[3]") && missing.message.contains("id"),
            "{}",
            missing.message
        );
        let wrong = WireEvent::parse(&raw(r#"{"id":12,"created":"x"}"#), "calls[0]").unwrap_err();
        assert!(wrong.message.contains("id"), "{}", wrong.message);
        let not_numeric =
            WireEvent::parse(&raw(r#"{"id":"abc","created":"x"}"#), "calls[0]").unwrap_err();
        assert!(not_numeric.message.contains("not a numeric id"));
        let bad_flag = WireEvent::parse(
            &raw(r#"{"id":"1","created":"x","read":{"value":"perhaps"}}"#),
            "calls[0]",
        )
        .unwrap_err();
        assert!(bad_flag.message.contains("read"), "{}", bad_flag.message);
    }
}
