//! The emulator's wire shapes, built as JSON trees. XML is rendered from the same tree
//! (see [`super::formats`]), so both formats always carry the same data.
//!
//! Shapes follow `sipgate-rest-api.txt` and `upstream-api.md`; where both are silent the choice
//! is documented in [`super`] (the module documentation lists every envelope).

use chrono::{Datelike, TimeZone, Utc};
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

fn endpoint(state: &State, links: &Links, number: u32) -> Value {
    let n = state.numbers.get(number);
    let mut m = Map::new();
    if n.e164.is_empty() {
        m.insert("numberPretty".into(), "anonymous".into());
        return Value::Object(m);
    }
    m.insert("numberE164".into(), n.e164.as_ref().into());
    m.insert("numberPretty".into(), n.pretty.as_ref().into());
    if let Some((name, uuid)) = state.name_for_number(&n.e164) {
        m.insert("contactFN".into(), name.into());
        m.insert("get".into(), links.api(&format!("contacts/{uuid}/")).into());
    }
    Value::Object(m)
}

fn property(name: &str, value: bool, url: &str) -> Value {
    json!({ "value": value, "get": url, "modify": url, "name": name })
}

/// One event in the shape of its type's resource. `with_type` adds `type` (the generic
/// `/events/` listing, whose entries would otherwise not say what they are).
pub fn event(state: &State, links: &Links, e: &Event, with_type: bool) -> Value {
    let url = links.api(&format!("events/{}/{}/", e.kind.plural(), e.id));
    let mut m = Map::new();
    m.insert("id".into(), e.id.to_string().into());
    if with_type {
        m.insert("type".into(), e.kind.singular().into());
    }
    if let Some(c) = &e.comment {
        m.insert("comment".into(), c.as_ref().into());
    }
    m.insert("created".into(), timestamp(e.created_ms).into());
    if let Some(s) = e.scheduled_ms {
        m.insert("scheduled".into(), timestamp(s).into());
    }
    m.insert("direction".into(), e.direction.as_str().into());
    m.insert(
        "labels".into(),
        json!({ "value": e.labels.as_ref(), "modify": url }),
    );
    m.insert("location".into(), e.location.as_str().into());
    m.insert("modify".into(), url.clone().into());
    let r = format!("{url}read/");
    m.insert("read".into(), property("read", e.read, &r));
    let s = format!("{url}starred/");
    m.insert("starred".into(), property("starred", e.starred, &s));
    if let Some(status) = e.status {
        m.insert("status".into(), status.as_str().into());
    }
    m.insert(
        "sources".into(),
        e.sources
            .iter()
            .map(|&n| endpoint(state, links, n))
            .collect(),
    );
    m.insert(
        "targets".into(),
        e.targets
            .iter()
            .map(|&n| endpoint(state, links, n))
            .collect(),
    );
    if let Some(ext) = e
        .extension
        .and_then(|i| state.account.extensions.get(usize::from(i)))
    {
        m.insert(
            "extension".into(),
            json!({ "id": ext.id, "alias": ext.alias, "get": links.api(&format!("settings/extensions/{}/", ext.id)) }),
        );
    }
    match &e.detail {
        Detail::Call {
            duration_s,
            recordings,
        } => {
            if let Some(d) = duration_s {
                m.insert("duration".into(), (*d).into());
            }
            if *recordings > 0 {
                let list: Vec<Value> = (0..*recordings)
                    .map(|i| json!({ "get": links.media(&format!("recording/{}/{}", e.id, i)) }))
                    .collect();
                m.insert("recordings".into(), list.into());
            }
        }
        Detail::Fax {
            pages,
            sent_ms,
            fail_reason,
        } => {
            let content = format!("{url}content/");
            m.insert("get".into(), content.clone().into());
            let previews: Vec<Value> = (1..=*pages)
                .map(|p| {
                    json!({
                        "pageNumber": p,
                        "small": { "get": format!("{url}preview/{p}/small/") },
                        "big": { "get": format!("{url}preview/{p}/big/") },
                    })
                })
                .collect();
            m.insert("previews".into(), previews.into());
            m.insert("pageCount".into(), (*pages).into());
            if let Some(sent) = sent_ms {
                m.insert("sent".into(), timestamp(*sent).into());
            }
            m.insert("content".into(), json!({ "get": content }));
            if let Some(reason) = fail_reason {
                m.insert("failReason".into(), (*reason).into());
            }
        }
        Detail::Sms { sent_ms, text } => {
            if let Some(sent) = sent_ms {
                m.insert("sent".into(), timestamp(*sent).into());
            }
            m.insert("text".into(), text.as_ref().into());
        }
        Detail::Voicemail {
            duration_s,
            transcription,
        } => {
            let content = format!("{url}content/");
            m.insert("get".into(), content.clone().into());
            // The reference page types `duration` as a string; upstream sent it that way.
            m.insert("duration".into(), duration_s.to_string().into());
            let caller = e
                .sources
                .first()
                .map(|&n| state.numbers.get(n).pretty.to_string())
                .unwrap_or_else(|| "anonymous".into());
            m.insert("caller".into(), caller.into());
            m.insert("content".into(), json!({ "get": content }));
            if let Some(t) = transcription {
                m.insert("transcription".into(), t.as_ref().into());
            }
        }
    }
    Value::Object(m)
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
