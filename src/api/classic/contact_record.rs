//! Turning a classic contact (`entries[]` of vCard lines) into the mirror's record. (v2
//! contacts are turned into the same records in `api::v2::contacts`.)

use serde_json::value::RawValue;

use crate::api::ApiError;
use crate::api::resources::{WireContact, WireEntry};
use crate::numbers::number_key;
use crate::records::contact::ContactRecord;
use crate::records::contact::EntryRecord;

pub(crate) fn to_record(
    raw: &RawValue,
    index: u64,
    country_code: &str,
) -> Result<ContactRecord, ApiError> {
    let contact = WireContact::parse(raw, &format!("contacts item {index}"))?;
    let first = |name: &str| {
        contact
            .entries
            .iter()
            .find(|e| e.entry_name.eq_ignore_ascii_case(name))
    };
    let n = first("N");
    let org = first("ORG").and_then(|e| e.name.clone().or(e.value.clone()));
    let formatted_name = first("FN")
        .and_then(|e| e.value.clone())
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            let name: Vec<&str> = n
                .iter()
                .flat_map(|n| {
                    [
                        n.prefixes.as_deref(),
                        n.given.as_deref(),
                        n.middle.as_deref(),
                        n.family.as_deref(),
                    ]
                })
                .flatten()
                .filter(|s| !s.is_empty())
                .collect();
            (!name.is_empty()).then(|| name.join(" "))
        })
        .or(org.clone());
    let entries: Vec<EntryRecord> = contact.entries.iter().map(entry).collect();
    let numbers = contact
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.entry_name.eq_ignore_ascii_case("TEL"))
        .filter_map(|(position, e)| {
            let key = e
                .value
                .as_deref()
                .and_then(|v| number_key(v, country_code))
                .or_else(|| {
                    e.local_value
                        .as_deref()
                        .and_then(|v| number_key(v, country_code))
                })?;
            Some((position, key, types(e)))
        })
        .collect();
    Ok(ContactRecord {
        uuid: contact.meta.uuid.clone(),
        valid_from: contact.meta.valid_from.clone(),
        owner: contact.meta.owner.clone(),
        formatted_name,
        family_name: n.and_then(|n| n.family.clone()),
        given_name: n.and_then(|n| n.given.clone()),
        organization: org,
        content_hash: crate::fsutil::sha256_hex(raw.get().as_bytes()),
        raw_json: raw.get().to_string(),
        entries,
        numbers,
        scope: None,
    })
}

fn types(e: &WireEntry) -> String {
    e.types
        .iter()
        .map(|t| t.trim().to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(",")
}

fn entry(e: &WireEntry) -> EntryRecord {
    EntryRecord {
        entry_name: e.entry_name.trim().to_ascii_uppercase(),
        entry_group: e.group.clone(),
        types: types(e),
        value: e.value.clone(),
        local_value: e.local_value.clone(),
        address: [
            e.po_box.clone(),
            e.extended.clone(),
            e.street.clone(),
            e.city.clone(),
            e.region.clone(),
            // The classic API's entries had no postal code.
            None,
            e.country.clone(),
        ],
        name: [
            e.family.clone(),
            e.given.clone(),
            e.middle.clone(),
            e.prefixes.clone(),
            e.suffixes.clone(),
        ],
        lat: e.lat.clone(),
        long: e.long.clone(),
        org_name: e.name.clone(),
        org_units: (!e.unit.is_empty()).then(|| serde_json::to_string(&e.unit).unwrap_or_default()),
    }
}
