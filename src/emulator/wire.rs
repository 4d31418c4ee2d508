//! The emulator's wire shapes, built as JSON trees. XML is rendered from the same tree
//! (see [`super::formats`]), so both formats always carry the same data.
//!
//! Shapes follow the classic API's reference as `docs/upstream.md` sums it up; where it is
//! silent the choice is documented in [`super`] (the module documentation lists every
//! envelope).

use chrono::{Datelike, TimeZone, Utc};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use super::model::*;
use super::state::State;

/// What links are built from: the server's base URL and the user segment of the request.
pub struct Links<'a> {
    pub base: &'a str,
    pub user: &'a str,
}

impl Links<'_> {
    pub fn api(&self, path: &str) -> String {
        format!("{}/{}/{}", self.base, self.user, path)
    }

    pub fn media(&self, path: &str) -> String {
        format!("{}/_media/{}", self.base, path)
    }
}

/// `2012-03-01T14:05:09.000+0100`: milliseconds and a numeric offset (German local time).
pub fn timestamp(ms: i64) -> String {
    let offset = berlin_offset_minutes(ms);
    let tz = chrono::FixedOffset::east_opt(offset * 60)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset"));
    match tz.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string(),
        None => String::new(),
    }
}

/// Central European offset: +02:00 from the last Sunday of March to the last Sunday of
/// October (01:00 UTC both), else +01:00.
fn berlin_offset_minutes(ms: i64) -> i32 {
    let Some(t) = Utc.timestamp_millis_opt(ms).single() else {
        return 60;
    };
    let last_sunday = |month: u32| -> i64 {
        let mut day = Utc.with_ymd_and_hms(t.year(), month, 31, 1, 0, 0).single();
        while let Some(d) = day {
            if d.weekday() == chrono::Weekday::Sun {
                return d.timestamp_millis();
            }
            day = d.checked_sub_signed(chrono::Duration::days(1));
        }
        0
    };
    if ms >= last_sunday(3) && ms < last_sunday(10) {
        120
    } else {
        60
    }
}

/// A source or target as upstream sends it.
#[derive(Serialize)]
struct EndpointWire<'a> {
    #[serde(rename = "numberE164", skip_serializing_if = "Option::is_none")]
    e164: Option<&'a str>,
    #[serde(rename = "numberPretty")]
    pretty: &'a str,
    #[serde(rename = "contactFN", skip_serializing_if = "Option::is_none")]
    contact_fn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    get: Option<String>,
}

fn endpoint<'a>(state: &'a State, links: &Links, number: u32) -> EndpointWire<'a> {
    let n = state.numbers.get(number);
    if n.e164.is_empty() {
        return EndpointWire {
            e164: None,
            pretty: "anonymous",
            contact_fn: None,
            get: None,
        };
    }
    let contact = state.name_for_number(&n.e164);
    EndpointWire {
        e164: Some(&n.e164),
        pretty: &n.pretty,
        contact_fn: contact.map(|(name, _)| name),
        get: contact.map(|(_, uuid)| links.api(&format!("contacts/{uuid}/"))),
    }
}

#[derive(Serialize)]
struct Property<'a> {
    value: bool,
    get: &'a str,
    modify: &'a str,
    name: &'static str,
}

#[derive(Serialize)]
struct Labels<'a> {
    value: &'a str,
    modify: &'a str,
}

#[derive(Serialize)]
struct Link {
    get: String,
}

#[derive(Serialize)]
struct ExtensionRef<'a> {
    id: &'a str,
    alias: &'a str,
    get: String,
}

#[derive(Serialize)]
struct Preview {
    #[serde(rename = "pageNumber")]
    page_number: u8,
    small: Link,
    big: Link,
}

/// One event in the shape of its type's resource, serialized straight from the emulator's
/// data (a page of 1,000 events is served without building a tree). `with_type` adds `type`
/// (the generic `/events/` listing, whose entries would otherwise not say what they are).
pub struct EventWire<'a> {
    pub state: &'a State,
    pub links: &'a Links<'a>,
    pub event: &'a Event,
    pub with_type: bool,
}

impl Serialize for EventWire<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (e, state, links) = (self.event, self.state, self.links);
        let url = links.api(&format!("events/{}/{}/", e.kind.plural(), e.id));
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("id", &e.id.to_string())?;
        if self.with_type {
            m.serialize_entry("type", e.kind.singular())?;
        }
        if let Some(c) = &e.comment {
            m.serialize_entry("comment", c)?;
        }
        m.serialize_entry("created", &timestamp(e.created_ms))?;
        if let Some(s) = e.scheduled_ms {
            m.serialize_entry("scheduled", &timestamp(s))?;
        }
        m.serialize_entry("direction", e.direction.as_str())?;
        m.serialize_entry(
            "labels",
            &Labels {
                value: &e.labels,
                modify: &url,
            },
        )?;
        m.serialize_entry("location", e.location.as_str())?;
        m.serialize_entry("modify", &url)?;
        let read = format!("{url}read/");
        m.serialize_entry(
            "read",
            &Property {
                value: e.read,
                get: &read,
                modify: &read,
                name: "read",
            },
        )?;
        let starred = format!("{url}starred/");
        m.serialize_entry(
            "starred",
            &Property {
                value: e.starred,
                get: &starred,
                modify: &starred,
                name: "starred",
            },
        )?;
        if let Some(status) = e.status {
            m.serialize_entry("status", status.as_str())?;
        }
        let sources: Vec<_> = e
            .sources
            .iter()
            .map(|&n| endpoint(state, links, n))
            .collect();
        m.serialize_entry("sources", &sources)?;
        let targets: Vec<_> = e
            .targets
            .iter()
            .map(|&n| endpoint(state, links, n))
            .collect();
        m.serialize_entry("targets", &targets)?;
        if let Some(ext) = e
            .extension
            .and_then(|i| state.account.extensions.get(usize::from(i)))
        {
            let get = links.api(&format!("settings/extensions/{}/", ext.id));
            m.serialize_entry(
                "extension",
                &ExtensionRef {
                    id: &ext.id,
                    alias: &ext.alias,
                    get,
                },
            )?;
        }
        match &e.detail {
            Detail::Call {
                duration_s,
                recordings,
            } => {
                if let Some(d) = duration_s {
                    m.serialize_entry("duration", d)?;
                }
                if *recordings > 0 {
                    let list: Vec<Link> = (0..*recordings)
                        .map(|i| Link {
                            get: links.media(&format!("recording/{}/{}", e.id, i)),
                        })
                        .collect();
                    m.serialize_entry("recordings", &list)?;
                }
            }
            Detail::Fax {
                pages,
                sent_ms,
                fail_reason,
            } => {
                let content = format!("{url}content/");
                m.serialize_entry("get", &content)?;
                let previews: Vec<Preview> = (1..=*pages)
                    .map(|p| Preview {
                        page_number: p,
                        small: Link {
                            get: format!("{url}preview/{p}/small/"),
                        },
                        big: Link {
                            get: format!("{url}preview/{p}/big/"),
                        },
                    })
                    .collect();
                m.serialize_entry("previews", &previews)?;
                m.serialize_entry("pageCount", pages)?;
                if let Some(sent) = sent_ms {
                    m.serialize_entry("sent", &timestamp(*sent))?;
                }
                m.serialize_entry("content", &Link { get: content })?;
                if let Some(reason) = fail_reason {
                    m.serialize_entry("failReason", reason)?;
                }
            }
            Detail::Sms { sent_ms, text } => {
                if let Some(sent) = sent_ms {
                    m.serialize_entry("sent", &timestamp(*sent))?;
                }
                m.serialize_entry("text", text)?;
            }
            Detail::Voicemail {
                duration_s,
                transcription,
            } => {
                let content = format!("{url}content/");
                m.serialize_entry("get", &content)?;
                // The reference page types `duration` as a string; upstream sent it that way.
                m.serialize_entry("duration", &duration_s.to_string())?;
                let caller = e
                    .sources
                    .first()
                    .map_or("anonymous", |&n| &state.numbers.get(n).pretty);
                m.serialize_entry("caller", caller)?;
                m.serialize_entry("content", &Link { get: content })?;
                if let Some(t) = transcription {
                    m.serialize_entry("transcription", t)?;
                }
            }
        }
        m.end()
    }
}

/// An event listing envelope: `{root: {list_key: [...], "overallCount", "count"}}`.
pub struct Listing<'a> {
    pub root: &'static str,
    pub list_key: &'static str,
    pub events: Vec<EventWire<'a>>,
    pub overall_count: usize,
}

impl Serialize for Listing<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Inner<'b, 'a>(&'b Listing<'a>);
        impl Serialize for Inner<'_, '_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut m = serializer.serialize_map(Some(3))?;
                m.serialize_entry(self.0.list_key, &self.0.events)?;
                m.serialize_entry("overallCount", &self.0.overall_count)?;
                m.serialize_entry("count", &self.0.events.len())?;
                m.end()
            }
        }
        let mut m = serializer.serialize_map(Some(1))?;
        m.serialize_entry(self.root, &Inner(self))?;
        m.end()
    }
}

pub fn contact(c: &Contact) -> Value {
    let entries: Vec<Value> = c
        .entries
        .iter()
        .map(|e| {
            let mut m = Map::new();
            m.insert("entryName".into(), e.name.clone().into());
            if let Some(g) = &e.group {
                m.insert("group".into(), g.clone().into());
            }
            m.insert("types".into(), e.types.clone().into());
            if let Some(v) = &e.value {
                m.insert("value".into(), v.clone().into());
            }
            if let Some(l) = &e.local_value {
                m.insert("x-local-value".into(), l.clone().into());
            }
            for (k, v) in &e.parts {
                m.insert((*k).into(), v.clone().into());
            }
            if e.name == "ORG" {
                m.insert("unit".into(), e.units.clone().into());
            }
            Value::Object(m)
        })
        .collect();
    json!({
        "entries": entries,
        "contactMeta": {
            "validFrom": timestamp(c.valid_from_ms),
            "UUID": c.uuid,
            "owner": c.owner,
        }
    })
}

pub fn extension(links: &Links, e: &Extension, full: bool) -> Value {
    let mut m = Map::new();
    m.insert("extensionId".into(), e.id.clone().into());
    m.insert("alias".into(), e.alias.clone().into());
    m.insert("type".into(), e.kind.into());
    m.insert(
        "resource".into(),
        json!({ "get": links.api(&format!("settings/extensions/{}/", e.id)) }),
    );
    m.insert("incomingNumbers".into(), e.incoming_numbers.clone().into());
    m.insert(
        "directDialNumbers".into(),
        e.direct_dial_numbers.clone().into(),
    );
    m.insert("dnd".into(), e.dnd.into());
    if let Some(o) = &e.outgoing_number {
        m.insert("outgoingNumber".into(), json!({ "numberE164": o }));
    }
    if e.kind == "register" {
        let devices: Vec<Value> = e.devices.iter().map(|d| json!({ "deviceId": d })).collect();
        m.insert("devices".into(), devices.into());
    }
    if full {
        for (k, v) in &e.specifics {
            m.insert((*k).into(), v.clone());
        }
    }
    Value::Object(m)
}

pub fn mobile(device: &MobileDevice, id_key: &str) -> Value {
    json!({
        id_key: device.id,
        "phoneNumber": device.phone_number,
        "model": device.model,
        "vendor": device.vendor,
        "firmware": device.firmware,
    })
}

pub fn balance(b: &Balance) -> Value {
    let mut m = Map::new();
    m.insert("currency".into(), b.currency.clone().into());
    m.insert("totalIncludingVat".into(), b.total_including_vat.into());
    m.insert("vatPercent".into(), b.vat_percent.into());
    for (key, vouchers) in &b.vouchers {
        let list: Vec<Value> = vouchers
            .iter()
            .map(|v| {
                json!({
                    "redeemDate": v.redeem_date,
                    "endOfValidityDate": v.end_of_validity,
                    "creditsInit": v.credits_init,
                    "creditsUsed": v.credits_used,
                    "creditsLeft": v.credits_left,
                })
            })
            .collect();
        m.insert((*key).into(), list.into());
    }
    json!({ "balance": Value::Object(m) })
}

pub fn session(s: &Session) -> Value {
    let members: Vec<Value> = s
        .members
        .iter()
        .map(|m| json!({ "memberId": m.id, "number": m.number, "parked": m.parked }))
        .collect();
    json!({
        "sessionId": s.id,
        "status": s.status,
        "caller": s.caller,
        "callee": s.callee,
        "recording": s.recording,
        "members": members,
    })
}
