//! Writing contacts, their entries and their normalized numbers.

use rusqlite::{Connection, OptionalExtension, params};

use super::events::Upserted;
use crate::error::Result;
pub use crate::records::contact::{ContactRecord, EntryRecord};

/// Stores one contact; an unchanged one (same content hash) is not rewritten.
pub fn upsert_contact(conn: &Connection, c: &ContactRecord, now: &str) -> Result<Upserted> {
    let existing: Option<(String, String)> = conn
        .prepare_cached("SELECT content_hash, upstream_state FROM mirror_contacts WHERE uuid = ?1")?
        .query_row([&c.uuid], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let outcome = match &existing {
        Some((hash, state)) if *hash == c.content_hash && state == "present" => {
            return Ok(Upserted::Unchanged);
        }
        Some(_) => Upserted::Changed,
        None => Upserted::New,
    };
    conn.prepare_cached(
        "INSERT INTO mirror_contacts (uuid, valid_from_upstream, owner, formatted_name, family_name, given_name,
            organization, content_hash, upstream_state, deleted_upstream_at, first_seen_at, updated_at, raw_json,
            scope)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'present', NULL, ?9, ?9, ?10, ?11)
         ON CONFLICT (uuid) DO UPDATE SET valid_from_upstream = excluded.valid_from_upstream,
            owner = excluded.owner, formatted_name = excluded.formatted_name,
            family_name = excluded.family_name, given_name = excluded.given_name,
            organization = excluded.organization, content_hash = excluded.content_hash,
            upstream_state = 'present', deleted_upstream_at = NULL,
            updated_at = excluded.updated_at, raw_json = excluded.raw_json, scope = excluded.scope",
    )?
    .execute(params![
        c.uuid,
        c.valid_from,
        c.owner,
        c.formatted_name,
        c.family_name,
        c.given_name,
        c.organization,
        c.content_hash,
        now,
        c.raw_json,
        c.scope
    ])?;
    if outcome == Upserted::Changed {
        let kept: Vec<&str> = c.numbers.iter().map(|(_, key, _)| key.as_str()).collect();
        forget_names(conn, &c.uuid, &kept)?;
        conn.prepare_cached("DELETE FROM mirror_contact_entries WHERE contact_uuid = ?1")?
            .execute([&c.uuid])?;
        conn.prepare_cached("DELETE FROM mirror_contact_numbers WHERE contact_uuid = ?1")?
            .execute([&c.uuid])?;
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO mirror_contact_entries (contact_uuid, position, entry_name, entry_group, types, value,
            local_value, po_box, extended, street, city, region, country, family, given, middle, prefixes,
            suffixes, lat, long, org_name, org_units, postal_code)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
    )?;
    for (position, e) in c.entries.iter().enumerate() {
        let [po_box, extended, street, city, region, postal_code, country] = &e.address;
        let [family, given, middle, prefixes, suffixes] = &e.name;
        insert.execute(params![
            c.uuid,
            position as i64,
            e.entry_name,
            e.entry_group,
            e.types,
            e.value,
            e.local_value,
            po_box,
            extended,
            street,
            city,
            region,
            country,
            family,
            given,
            middle,
            prefixes,
            suffixes,
            e.lat,
            e.long,
            e.org_name,
            e.org_units,
            postal_code,
        ])?;
    }
    let mut insert_number = conn.prepare_cached(
        "INSERT INTO mirror_contact_numbers (contact_uuid, position, number_key, types) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (position, key, types) in &c.numbers {
        insert_number.execute(params![c.uuid, *position as i64, key, types])?;
    }
    index_for_search(conn, &c.uuid)?;
    Ok(outcome)
}

/// Rewrites the contact's row in `search_contacts` from what is stored (the same statement
/// fills the index in migration V2).
fn index_for_search(conn: &Connection, uuid: &str) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM search_contacts WHERE rowid = (SELECT rowid FROM mirror_contacts WHERE uuid = ?1)",
    )?
    .execute([uuid])?;
    conn.prepare_cached(
        "INSERT INTO search_contacts (rowid, name, organization, numbers, emails)
         SELECT c.rowid, c.formatted_name, c.organization,
                (SELECT group_concat(e.value || ' ' || coalesce(e.local_value, '') || ' ' || coalesce(n.number_key, ''), ' ')
                   FROM mirror_contact_entries e
                   LEFT JOIN mirror_contact_numbers n ON n.contact_uuid = e.contact_uuid AND n.position = e.position
                  WHERE e.contact_uuid = c.uuid AND e.entry_name = 'TEL'),
                (SELECT group_concat(e.value, ' ') FROM mirror_contact_entries e
                  WHERE e.contact_uuid = c.uuid AND e.entry_name = 'EMAIL')
         FROM mirror_contacts c WHERE c.uuid = ?1",
    )?
    .execute([uuid])?;
    Ok(())
}

pub fn present_uuids(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT uuid FROM mirror_contacts WHERE upstream_state = 'present'")?;
    let uuids = stmt
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(uuids)
}

/// The names events carry for a contact's numbers (`contactFN`, v2's aliases) came from that
/// contact. When it is deleted upstream, or loses a number, upstream names those numbers no
/// more: the names go (until the events are listed again), so that the views do not fall back
/// to a name staler than upstream's. Numbers in `kept` stay named.
fn forget_names(conn: &Connection, uuid: &str, kept: &[&str]) -> Result<()> {
    let kept = serde_json::to_string(kept).unwrap_or_else(|_| "[]".to_string());
    conn.prepare_cached(
        "UPDATE mirror_event_endpoints SET contact_fn = NULL
         WHERE contact_fn IS NOT NULL
           AND number_key IN (SELECT number_key FROM mirror_contact_numbers WHERE contact_uuid = ?1
                              EXCEPT SELECT value FROM json_each(?2))",
    )?
    .execute(params![uuid, kept])?;
    Ok(())
}

pub fn mark_deleted(conn: &Connection, uuids: &[String], now: &str) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE mirror_contacts SET upstream_state = 'deleted', deleted_upstream_at = ?2, updated_at = ?2
         WHERE uuid = ?1 AND upstream_state = 'present'",
    )?;
    for uuid in uuids {
        stmt.execute(params![uuid, now])?;
        forget_names(conn, uuid, &[])?;
    }
    Ok(())
}
