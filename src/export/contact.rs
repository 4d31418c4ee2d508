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
    // Two passes over the entries: the common ones (numbers, e-mails, notes) with few columns,
    // then the structured ones with their parts. On 50,000 contacts this halves the work.
    let mut stmt = conn.prepare(
        "SELECT e.contact_uuid, e.entry_name, e.types, e.value, e.local_value, n.number_key
         FROM mirror_contact_entries e
         LEFT JOIN mirror_contact_numbers n ON n.contact_uuid = e.contact_uuid AND n.position = e.position
         WHERE e.entry_name IN ('TEL', 'EMAIL', 'NOTE')
         ORDER BY e.contact_uuid, e.position",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let uuid = row.get_ref(0)?.as_str().unwrap_or_default();
        let Some(&i) = index.get(uuid) else { continue };
        let contact = &mut contacts[i];
        let value: String = row.get::<_, Option<String>>(3)?.unwrap_or_default();
        if value.trim().is_empty() {
            continue;
        }
        match row.get_ref(1)?.as_str().unwrap_or_default() {
            "TEL" => contact.numbers.push(Number {
                value,
                local: row.get(4)?,
                key: row.get(5)?,
                types: split_types(row.get_ref(2)?.as_str().unwrap_or_default()),
            }),
            "EMAIL" => contact.emails.push((
                split_types(row.get_ref(2)?.as_str().unwrap_or_default()),
                value,
            )),
            _ if contact.note.is_empty() => contact.note = value,
            _ => {}
        }
    }
    let mut stmt = conn.prepare(
        "SELECT contact_uuid, entry_name, types, coalesce(po_box, ''), coalesce(extended, ''),
                coalesce(street, ''), coalesce(city, ''), coalesce(region, ''),
                coalesce(country, ''), coalesce(middle, ''), coalesce(prefixes, ''),
                coalesce(suffixes, ''), lat, long, org_units
         FROM mirror_contact_entries
         WHERE entry_name IN ('ADR', 'N', 'ORG', 'GEO')
         ORDER BY contact_uuid, position",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let uuid = row.get_ref(0)?.as_str().unwrap_or_default();
        let Some(&i) = index.get(uuid) else { continue };
        let contact = &mut contacts[i];
        match row.get_ref(1)?.as_str().unwrap_or_default() {
            "ADR" => contact.addresses.push(Address {
                types: split_types(row.get_ref(2)?.as_str().unwrap_or_default()),
                parts: [
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                    row.get(7)?,
                    String::new(),
                    row.get(8)?,
                ],
            }),
            "N" => {
                contact.middle = row.get(9)?;
                contact.prefixes = row.get(10)?;
                contact.suffixes = row.get(11)?;
            }
            "ORG" => {
                let units: Option<String> = row.get(14)?;
                contact.org_units = units
                    .and_then(|u| serde_json::from_str::<Vec<String>>(&u).ok())
                    .unwrap_or_default();
            }
            _ => {
                let (lat, long): (Option<String>, Option<String>) = (row.get(12)?, row.get(13)?);
                if let (Some(lat), Some(long)) = (lat, long) {
                    contact.geo = Some((lat, long));
                }
            }
        }
    }
    if let Some(filter) = filter.filter(|f| !f.trim().is_empty()) {
        contacts.retain(|c| c.matches(filter.trim()));
    }
    contacts.sort_by_cached_key(Contact::sort_key);
    Ok(contacts)
}
