//! Turning a classic event (as listed) into the record the mirror stores: one function for
//! all four types, strict about the id and the time, tolerant about everything optional. (The
//! v2 entries are turned into the same records in `api::v2::history`.)

use std::sync::LazyLock;

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde_json::value::RawValue;

use crate::api::ApiError;
use crate::api::events::WireEvent;
use crate::numbers::number_key;
use crate::records::EventKind;
use crate::records::event::Detail;
use crate::records::event::EndpointRecord;
use crate::records::event::EventRecord;

/// Upstream's form of `created`, parsed once: `parse_from_str` would parse the pattern again
/// for every event.
static UPSTREAM_TIME: LazyLock<Vec<Item<'static>>> = LazyLock::new(|| {
    StrftimeItems::new("%Y-%m-%dT%H:%M:%S%.f%z")
        .parse()
        .unwrap_or_default()
});

/// Upstream's `created` (`2012-03-01T14:05:09.000+0100`) in the mirror's UTC form.
pub fn utc_timestamp(created: &str) -> Option<String> {
    let upstream = || {
        let mut parsed = Parsed::new();
        chrono::format::parse(&mut parsed, created, UPSTREAM_TIME.iter())?;
        parsed.to_datetime()
    };
    let parsed = upstream()
        .or_else(|_| DateTime::parse_from_rfc3339(created))
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(created, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc())
        })
        .ok()?;
    Some(parsed.to_rfc3339_opts(SecondsFormat::Millis, true))
}

pub(crate) fn to_record(
    kind: EventKind,
    raw: &RawValue,
    index: u64,
    country_code: &str,
) -> Result<EventRecord, ApiError> {
    let what = format!("events/{} item {index}", kind.plural());
    let e = WireEvent::parse(raw, &what)?;
    let created_utc = utc_timestamp(&e.created).ok_or_else(|| {
        ApiError::new(
            crate::api::ApiErrorKind::Permanent,
            format!("{what}: created {:?} is not a timestamp", e.created),
        )
    })?;
    let endpoint = |role: &'static str, ep: &crate::api::events::WireEndpoint| EndpointRecord {
        role,
        number_e164: ep.number_e164.clone(),
        number_pretty: ep.number_pretty.clone(),
        contact_fn: ep.contact_fn.clone(),
        contact_url: ep.get.clone(),
        number_key: ep
            .number_e164
            .as_deref()
            .filter(|n| !n.is_empty())
            // numberE164 is international but sent without `+`.
            .map(|n| {
                if n.starts_with('+') {
                    n.to_string()
                } else {
                    format!("+{n}")
                }
            })
            .and_then(|n| number_key(&n, country_code)),
    };
    let endpoints = e
        .sources
        .iter()
        .map(|ep| endpoint("source", ep))
        .chain(e.targets.iter().map(|ep| endpoint("target", ep)))
        .collect();
    let link = |l: &Option<crate::api::events::WireLink>| l.as_ref().and_then(|l| l.get.clone());
    let detail = match kind {
        EventKind::Call => Detail::Call {
            duration_s: e.duration,
            recordings: e.recordings.iter().filter_map(|r| r.get.clone()).collect(),
            call_status: None,
        },
        EventKind::Fax => Detail::Fax {
            page_count: e.page_count,
            sent: e.sent.clone(),
            content_url: link(&e.content).or(e.get.clone()),
            fail_reason: e.fail_reason.clone(),
            pages: e
                .previews
                .iter()
                .map(|p| (p.page_number, link(&p.small), link(&p.big)))
                .collect(),
            status_type: None,
            report_url: None,
        },
        EventKind::Sms => Detail::Sms {
            sent: e.sent.clone(),
            text: e.text.clone(),
        },
        EventKind::Voicemail => Detail::Voicemail {
            duration_s: e.duration,
            caller: e.caller.clone(),
            content_url: link(&e.content).or(e.get.clone()),
            transcription: e.transcription.clone(),
        },
    };
    Ok(EventRecord {
        upstream_id: None,
        last_modified: None,
        connection_status: None,
        connection_ids: None,
        routing_json: None,
        kind: kind.as_str(),
        created_upstream: e.created.clone(),
        created_utc,
        scheduled_upstream: e.scheduled.clone(),
        direction: e.direction.clone(),
        status: e.status.clone(),
        comment: e.comment.clone(),
        extension_id: e.extension.as_ref().and_then(|x| x.id.clone()),
        extension_alias: e.extension.as_ref().and_then(|x| x.alias.clone()),
        extension_url: e.extension.as_ref().and_then(|x| x.get.clone()),
        read: e.read.as_ref().is_some_and(|f| f.value),
        starred: e.starred.as_ref().is_some_and(|f| f.value),
        labels: e
            .labels
            .as_ref()
            .and_then(|l| l.value.clone())
            .unwrap_or_default(),
        location: e.location.clone(),
        content_url: e.get.clone(),
        modify_url: e.modify.clone(),
        endpoints,
        detail,
        raw_json: raw.get().to_string(),
        id: e.id.parse().map_err(|_| {
            ApiError::new(
                crate::api::ApiErrorKind::Permanent,
                format!("{what}: id {:?} is too large", e.id),
            )
        })?,
    })
}

#[cfg(test)]
mod tests {
    use super::utc_timestamp;

    #[test]
    fn upstream_timestamps_become_utc() {
        assert_eq!(
            utc_timestamp("2012-03-01T14:05:09.000+0100").as_deref(),
            Some("2012-03-01T13:05:09.000Z")
        );
        assert_eq!(
            utc_timestamp("2012-07-01T14:05:09+02:00").as_deref(),
            Some("2012-07-01T12:05:09.000Z")
        );
        assert_eq!(utc_timestamp("yesterday"), None);
    }
}
