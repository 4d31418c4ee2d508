//! Contacts: listed completely on every run, in pages; unchanged ones are not rewritten.

use std::collections::HashSet;

use serde_json::value::RawValue;

use super::{Context, StreamFailure};
use crate::api::ApiError;
use crate::api::resources::{WireContact, WireEntry};
use crate::error::Result;
use crate::numbers::number_key;
use crate::store::contacts::{self as store, ContactRecord, EntryRecord};
use crate::store::events::Upserted;
use crate::store::runs::{self, StreamCounts};
use crate::store::{Mirror, now_utc};

const PAGE_SIZE: u64 = 1000;

pub async fn pull(
    context: &Context<'_>,
    mirror: &mut Mirror,
) -> Result<StreamCounts, StreamFailure> {
    let mut counts = StreamCounts::default();
    let bar = context.progress.bar("contacts", "contacts");
    let mut seen = HashSet::new();
    let mut offset = 0;
    let mut total = None;
    let mut consistent = true;
    loop {
        let page = context
            .client
            .contact_page(offset, PAGE_SIZE)
            .await
            .map_err(|e| StreamFailure::from_api(&counts, e))?;
        bar.set_total(page.overall_matches);
        consistent &= total.is_none_or(|t| t == page.overall_matches);
        total = Some(page.overall_matches);
        let records = page
            .items
            .iter()
            .enumerate()
            .map(|(i, raw)| to_record(raw, offset + i as u64, &context.settings.country_code))
            .collect::<Result<Vec<_>, ApiError>>()
            .map_err(|e| StreamFailure::from_api(&counts, e))?;
        commit(mirror, &records, &mut counts, &mut seen)
            .map_err(|e| StreamFailure::new(&counts, e))?;
        bar.advance(records.len() as u64);
        offset += records.len() as u64;
        if records.is_empty() || offset >= page.overall_matches {
            break;
        }
    }
    if consistent && total == Some(seen.len() as u64) {
        let present =
            store::present_uuids(mirror.conn()).map_err(|e| StreamFailure::new(&counts, e))?;
        counts.deleted += super::sweep(
            context,
            mirror,
            "contacts",
            present,
            &seen,
            store::mark_deleted,
        )
        .map_err(|e| StreamFailure::new(&counts, e))?;
    } else {
        tracing::warn!(
            seen = seen.len(),
            ?total,
            "contact listing changed while paging; deletions not applied"
        );
    }
    runs::finish_stream(mirror.conn(), "contacts", true, &now_utc())
        .map_err(|e| StreamFailure::new(&counts, e))?;
    bar.finish(&format!(
        "+{} ~{} -{}",
        counts.new, counts.changed, counts.deleted
    ));
    Ok(counts)
}

fn commit(
    mirror: &mut Mirror,
    records: &[ContactRecord],
    counts: &mut StreamCounts,
    seen: &mut HashSet<String>,
) -> Result<()> {
    let now = now_utc();
    let tx = mirror.conn_mut().transaction()?;
    for record in records {
        // The same UUID twice in one listing: the first one wins.
        if !seen.insert(record.uuid.clone()) {
            continue;
        }
        match store::upsert_contact(&tx, record, &now)? {
            Upserted::New => counts.new += 1,
            Upserted::Changed => counts.changed += 1,
            Upserted::Unchanged => {}
        }
    }
    crate::crashpoint::commit(tx, "sync:contacts_page")?;
    counts.fetched += records.len() as u64;
    counts.pages += 1;
    Ok(())
}

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
