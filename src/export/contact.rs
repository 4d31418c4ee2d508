//! Contacts as the exporters see them, loaded from the mirror in export order: by family name,
//! then given name, then display name (case-insensitive), then UUID, so every run writes the
//! same file for the same contacts.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::error::Result;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Number {
    /// As written in the contact.
    pub value: String,
    /// The national form upstream gave (`x-local-value`).
    pub local: Option<String>,
    /// Digits-only international form, when the number could be read.
    pub key: Option<String>,
    /// Upper case: WORK, HOME, CELL, FAX, ...
    pub types: Vec<String>,
}

impl Number {
    pub fn is_fax(&self) -> bool {
        self.types.iter().any(|t| t == "FAX")
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Address {
    pub types: Vec<String>,
    /// po box, extended, street, city, region, postal code, country
    pub parts: [String; 7],
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contact {
    pub uuid: String,
    /// FN, or built from N / ORG.
    pub name: String,
    pub family: String,
    pub given: String,
    pub middle: String,
    pub prefixes: String,
    pub suffixes: String,
    pub organization: String,
    pub org_units: Vec<String>,
    pub numbers: Vec<Number>,
    /// (types, address)
    pub emails: Vec<(Vec<String>, String)>,
    pub addresses: Vec<Address>,
    pub note: String,
    pub geo: Option<(String, String)>,
}

impl Contact {
    /// The sort key: family, given, name, uuid; case-insensitive.
    fn sort_key(&self) -> (String, String, String, String) {
        let family = if self.family.is_empty() && self.given.is_empty() {
            &self.name
        } else {
            &self.family
        };
        (
            family.to_lowercase(),
            self.given.to_lowercase(),
            self.name.to_lowercase(),
            self.uuid.clone(),
        )
    }

    /// Whether `filter` (case-insensitive) occurs in the name, organisation, an e-mail or a
    /// number (compared by digits too, so "030 123" finds "+49 30 123...").
    pub fn matches(&self, filter: &str) -> bool {
        let needle = filter.to_lowercase();
        let digits: String = filter.chars().filter(char::is_ascii_digit).collect();
        let digits = digits.trim_start_matches('0');
        [&self.name, &self.organization]
            .into_iter()
            .any(|t| t.to_lowercase().contains(&needle))
            || self
                .emails
                .iter()
                .any(|(_, e)| e.to_lowercase().contains(&needle))
            || self.numbers.iter().any(|n| {
                n.value.contains(filter)
                    || (digits.len() >= 3 && n.key.as_deref().is_some_and(|k| k.contains(digits)))
            })
    }
}

fn split_types(types: &str) -> Vec<String> {
    types
        .split(',')
        .map(|t| t.trim().to_uppercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Every contact present upstream, in export order, optionally only those matching `filter`.
pub fn load(conn: &Connection, filter: Option<&str>) -> Result<Vec<Contact>> {
    // The load scans each table once; a large page cache would only hold pages never read
    // again (and a phone book server should stay small).
    conn.pragma_update(None, "cache_size", -8192)?;
    let mut contacts: Vec<Contact> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT uuid, coalesce(formatted_name, ''), coalesce(family_name, ''),
                    coalesce(given_name, ''), coalesce(organization, '')
             FROM mirror_contacts WHERE upstream_state = 'present'",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let contact = Contact {
                uuid: row.get(0)?,
                name: row.get(1)?,
                family: row.get(2)?,
                given: row.get(3)?,
                organization: row.get(4)?,
                ..Contact::default()
            };
            index.insert(contact.uuid.clone(), contacts.len());
            contacts.push(contact);
        }
    }
    // The entries and their normalized numbers are both read in primary-key order (no sort, no
    // index lookups) and merged here; only the columns an entry needs are copied.
    let numbers: Vec<(String, i64, String)> = conn
        .prepare("SELECT contact_uuid, position, number_key FROM mirror_contact_numbers NOT INDEXED ORDER BY contact_uuid, position")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut next_number = numbers.iter().peekable();
    let mut stmt = conn.prepare(
        "SELECT contact_uuid, position, entry_name, types, value, local_value, po_box, extended,
                street, city, region, country, middle, prefixes, suffixes, lat, long, org_units
         FROM mirror_contact_entries NOT INDEXED
         ORDER BY contact_uuid, position",
    )?;
    let text = |row: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<String> {
        Ok(row.get_ref(i)?.as_str().unwrap_or_default().to_string())
    };
    let mut rows = stmt.query([])?;
    let mut current: Option<(String, usize)> = None;
    while let Some(row) = rows.next()? {
        let uuid = row.get_ref(0)?.as_str().unwrap_or_default();
        let slot = match &current {
            Some((u, i)) if u == uuid => Some(*i),
            _ => {
                let found = index.get(uuid).copied();
                current = found.map(|i| (uuid.to_string(), i));
                found
            }
        };
        let Some(i) = slot else { continue };
        let position: i64 = row.get(1)?;
        let contact = &mut contacts[i];
        match row.get_ref(2)?.as_str().unwrap_or_default() {
            "TEL" => {
                while next_number
                    .peek()
                    .is_some_and(|(u, p, _)| (u.as_str(), *p) < (uuid, position))
                {
                    next_number.next();
                }
                let key = next_number
                    .peek()
                    .filter(|(u, p, _)| u == uuid && *p == position)
                    .map(|(_, _, k)| k.clone());
                let value = text(row, 4)?;
                if !value.trim().is_empty() {
                    contact.numbers.push(Number {
                        value,
                        local: row.get(5)?,
                        key,
                        types: split_types(row.get_ref(3)?.as_str().unwrap_or_default()),
                    });
                }
            }
            "EMAIL" => {
                let value = text(row, 4)?;
                if !value.trim().is_empty() {
                    let types = split_types(row.get_ref(3)?.as_str().unwrap_or_default());
                    contact.emails.push((types, value));
                }
            }
            "NOTE" if contact.note.is_empty() => contact.note = text(row, 4)?,
            "ADR" => contact.addresses.push(Address {
                types: split_types(row.get_ref(3)?.as_str().unwrap_or_default()),
                parts: [
                    text(row, 6)?,
                    text(row, 7)?,
                    text(row, 8)?,
                    text(row, 9)?,
                    text(row, 10)?,
                    String::new(),
                    text(row, 11)?,
                ],
            }),
            "N" => {
                contact.middle = text(row, 12)?;
                contact.prefixes = text(row, 13)?;
                contact.suffixes = text(row, 14)?;
            }
            "ORG" => {
                contact.org_units = row
                    .get_ref(17)?
                    .as_str()
                    .ok()
                    .and_then(|u| serde_json::from_str::<Vec<String>>(u).ok())
                    .unwrap_or_default();
            }
            "GEO" => {
                let (lat, long): (Option<String>, Option<String>) = (row.get(15)?, row.get(16)?);
                if let (Some(lat), Some(long)) = (lat, long) {
                    contact.geo = Some((lat, long));
                }
            }
            _ => {}
        }
    }
    if let Some(filter) = filter.filter(|f| !f.trim().is_empty()) {
        contacts.retain(|c| c.matches(filter.trim()));
    }
    contacts.sort_by_cached_key(Contact::sort_key);
    Ok(contacts)
}
