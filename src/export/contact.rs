//! Contacts as the exporters see them, loaded from the mirror in export order: by family name,
//! then given name, then display name (case-insensitive), then UUID, so every run writes the
//! same file for the same contacts.

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
    /// The sort key: family, given, name (case-insensitive), uuid, as one string with NUL
    /// separators (one allocation per contact, compared like the tuple).
    fn sort_key(&self) -> String {
        let family = if self.family.is_empty() && self.given.is_empty() {
            &self.name
        } else {
            &self.family
        };
        let mut key = String::with_capacity(
            family.len() + self.given.len() + self.name.len() + self.uuid.len() + 3,
        );
        for part in [family, &self.given, &self.name] {
            key.extend(part.chars().flat_map(char::to_lowercase));
            key.push('\0');
        }
        key.push_str(&self.uuid);
        key
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

/// Adds one entry row (TEL, EMAIL, NOTE, ADR, N, ORG, GEO) to its contact; `key` is the
/// normalized number of a TEL entry.
fn add_entry(contact: &mut Contact, row: &rusqlite::Row<'_>, key: Option<String>) -> Result<()> {
    let text = |i: usize| -> rusqlite::Result<String> {
        Ok(row.get_ref(i)?.as_str().unwrap_or_default().to_string())
    };
    let types = || -> rusqlite::Result<Vec<String>> {
        Ok(split_types(row.get_ref(3)?.as_str().unwrap_or_default()))
    };
    match row.get_ref(2)?.as_str().unwrap_or_default() {
        "TEL" => {
            let value = text(4)?;
            if !value.trim().is_empty() {
                contact.numbers.push(Number {
                    value,
                    local: row.get(5)?,
                    key,
                    types: types()?,
                });
            }
        }
        "EMAIL" => {
            let value = text(4)?;
            if !value.trim().is_empty() {
                contact.emails.push((types()?, value));
            }
        }
        "NOTE" if contact.note.is_empty() => contact.note = text(4)?,
        "ADR" => contact.addresses.push(Address {
            types: types()?,
            parts: [
                text(6)?,
                text(7)?,
                text(8)?,
                text(9)?,
                text(10)?,
                String::new(),
                text(11)?,
            ],
        }),
        "N" => {
            contact.middle = text(12)?;
            contact.prefixes = text(13)?;
            contact.suffixes = text(14)?;
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
    Ok(())
}

/// What of each contact to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Names, organisation, numbers and e-mails: what phone books show (and `filter` reads).
    PhoneBook,
    /// Every entry, for vCards.
    Everything,
}

/// Every contact present upstream, in export order, optionally only those matching `filter`.
///
/// Contacts, their entries and the entries' normalized numbers are read by three statements
/// stepped side by side, all in `(uuid, position)` order (primary keys: no sort, no lookups),
/// and merged as they come, so nothing but the contacts themselves is held in memory.
pub fn load(conn: &Connection, filter: Option<&str>, scope: Scope) -> Result<Vec<Contact>> {
    // The load scans each table once; a large page cache would only hold pages never read
    // again (and a phone book server should stay small).
    conn.pragma_update(None, "cache_size", -8192)?;
    let mut contacts: Vec<Contact> = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT uuid, coalesce(formatted_name, ''), coalesce(family_name, ''),
                    coalesce(given_name, ''), coalesce(organization, '')
             FROM mirror_contacts WHERE upstream_state = 'present' ORDER BY uuid",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            contacts.push(Contact {
                uuid: row.get(0)?,
                name: row.get(1)?,
                family: row.get(2)?,
                given: row.get(3)?,
                organization: row.get(4)?,
                ..Contact::default()
            });
        }
    }
    let mut number_stmt = conn.prepare(
        "SELECT contact_uuid, position, number_key FROM mirror_contact_numbers NOT INDEXED
         ORDER BY contact_uuid, position",
    )?;
    let mut numbers = number_stmt.query([])?;
    let mut number = numbers.next()?;
    let only = match scope {
        Scope::PhoneBook => "WHERE entry_name IN ('TEL', 'EMAIL')",
        Scope::Everything => "",
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT contact_uuid, position, entry_name, types, value, local_value, po_box, extended,
                street, city, region, country, middle, prefixes, suffixes, lat, long, org_units
         FROM mirror_contact_entries NOT INDEXED {only}
         ORDER BY contact_uuid, position"
    ))?;
    let mut rows = stmt.query([])?;
    let mut slot = 0;
    while let Some(row) = rows.next()? {
        let uuid = row.get_ref(0)?.as_str().unwrap_or_default();
        // Contacts are in uuid order too: move forward to this entry's contact, if present.
        while slot < contacts.len() && contacts[slot].uuid.as_str() < uuid {
            slot += 1;
        }
        if slot == contacts.len() || contacts[slot].uuid != uuid {
            continue;
        }
        let position: i64 = row.get(1)?;
        let key = if row.get_ref(2)?.as_str().unwrap_or_default() == "TEL" {
            while let Some(n) = number {
                let at = (
                    n.get_ref(0)?.as_str().unwrap_or_default(),
                    n.get::<_, i64>(1)?,
                );
                if at >= (uuid, position) {
                    break;
                }
                number = numbers.next()?;
            }
            match number {
                Some(n)
                    if n.get_ref(0)?.as_str().unwrap_or_default() == uuid
                        && n.get::<_, i64>(1)? == position =>
                {
                    n.get(2)?
                }
                _ => None,
            }
        } else {
            None
        };
        add_entry(&mut contacts[slot], row, key)?;
    }
    if let Some(filter) = filter.filter(|f| !f.trim().is_empty()) {
        contacts.retain(|c| c.matches(filter.trim()));
    }
    contacts.sort_by_cached_key(Contact::sort_key);
    Ok(contacts)
}
