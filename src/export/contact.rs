//! Contacts as the exporters see them, loaded from the mirror in export order: by family name,
//! then given name, then display name (case-insensitive), then UUID, so every run writes the
//! same file for the same contacts.

use rusqlite::Connection;

use super::texts::{Span, Texts};
use crate::error::{Error, Result};

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
    /// separators (compared like the tuple).
    pub fn sort_key(&self) -> String {
        let mut key = String::new();
        self.write_sort_key(&mut key);
        key
    }

    /// Appends [`Contact::sort_key`] to `out`.
    pub fn write_sort_key(&self, out: &mut String) {
        let family = if self.family.is_empty() && self.given.is_empty() {
            &self.name
        } else {
            &self.family
        };
        for part in [family, &self.given, &self.name] {
            out.extend(part.chars().flat_map(char::to_lowercase));
            out.push('\0');
        }
        out.push_str(&self.uuid);
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
                text(18)?,
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

/// Which contacts to export: those whose text matches, of the scopes asked for.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only contacts whose name, company, e-mail or number contains this text.
    pub text: Option<String>,
    /// Only contacts of these v2 scopes (`PRIVATE`, `SHARED`, `INTERNAL`); empty: all.
    pub scopes: Vec<String>,
}

impl Selection {
    /// Every contact.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// Contacts matching `text`.
    pub fn matching(text: Option<&str>) -> Selection {
        Selection {
            text: text.map(str::to_string),
            scopes: Vec::new(),
        }
    }

    fn admits_scope(&self, scope: &str) -> bool {
        self.scopes.is_empty() || self.scopes.iter().any(|s| s.eq_ignore_ascii_case(scope))
    }
}

/// What of each contact to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Names, organisation, numbers and e-mails: what phone books show (and `filter` reads).
    PhoneBook,
    /// Every entry, for vCards.
    Everything,
}

/// The contacts' own rows, in table order (see [`each`]).
const HEADS: &str = "SELECT uuid, coalesce(formatted_name, ''), coalesce(family_name, ''),
        coalesce(given_name, ''), coalesce(organization, ''), coalesce(scope, '')
    FROM mirror_contacts NOT INDEXED WHERE upstream_state = 'present'";

/// The normalized numbers of TEL entries, in primary-key order.
const NUMBERS: &str = "SELECT contact_uuid, position, number_key FROM mirror_contact_numbers
    ORDER BY contact_uuid, position";

/// The entries `scope` needs, in primary-key order.
fn entries_sql(scope: Scope) -> String {
    let only = match scope {
        // `+` keeps the planner off the entry_name index (NOT INDEXED does not, on a table
        // without rowid): that index would mean a lookup per entry and a sort of them all.
        Scope::PhoneBook => "WHERE +entry_name IN ('TEL', 'EMAIL')",
        Scope::Everything => "",
    };
    format!(
        "SELECT contact_uuid, position, entry_name, types, value, local_value, po_box, extended,
                street, city, region, country, middle, prefixes, suffixes, lat, long, org_units,
                postal_code
         FROM mirror_contact_entries {only}
         ORDER BY contact_uuid, position"
    )
}

/// Calls `visit` with every contact present upstream (those `selection` admits), one
/// at a time in UUID order, with what `scope` asks for.
///
/// The contacts' names are read first and sorted by UUID; their entries and the entries'
/// normalized numbers are then read by two statements stepped side by side in the same order
/// (their primary keys: no sort, no lookups) and merged as they come. Only the names and the
/// contact being assembled are held, so an exporter does not hold every contact's entries.
pub fn each(
    conn: &Connection,
    scope: Scope,
    selection: &Selection,
    mut visit: impl FnMut(Contact) -> Result<()>,
) -> Result<()> {
    // Each table is scanned once; a large page cache would only hold pages never read again
    // (and a phone book server should stay small).
    conn.pragma_update(None, "cache_size", -8192)?;
    let filter = selection
        .text
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty());
    // The contacts' own rows, in UUID order to merge with the entries: read in table order and
    // sorted here (walking the UUID index would fetch each row from a random page of a table
    // that also holds the raw JSON, several times slower), held in one buffer (50,000 names as
    // separate strings cost more to free than to read).
    let mut texts = Texts::default();
    let mut heads: Vec<[Span; 5]> = Vec::new();
    {
        let mut stmt = conn.prepare(HEADS)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            if !selection.admits_scope(row.get_ref(5)?.as_str().unwrap_or_default()) {
                continue;
            }
            let mut head = [Span::default(); 5];
            for (i, span) in head.iter_mut().enumerate() {
                *span = texts.push(row.get_ref(i)?.as_str().unwrap_or_default());
            }
            heads.push(head);
        }
    }
    let uuids: Vec<Span> = heads.iter().map(|head| head[0]).collect();
    let order = texts.sorted_order(&uuids);
    let mut number_stmt = conn.prepare(NUMBERS)?;
    let mut numbers = number_stmt.query([])?;
    let mut number = numbers.next()?;
    let mut entry_stmt = conn.prepare(&entries_sql(scope))?;
    let mut entries = entry_stmt.query([])?;
    let mut entry = entries.next()?;
    for [uuid, name, family, given, organization] in order.into_iter().map(|i| heads[i]) {
        let text = |span| texts.get(span).to_string();
        let mut contact = Contact {
            uuid: text(uuid),
            name: text(name),
            family: text(family),
            given: text(given),
            organization: text(organization),
            ..Contact::default()
        };
        // Entries of contacts that sort before this one belong to deleted contacts: skipped.
        while let Some(row) = entry {
            let uuid = row.get_ref(0)?.as_str().unwrap_or_default();
            if uuid > contact.uuid.as_str() {
                break;
            }
            if uuid == contact.uuid {
                let position: i64 = row.get(1)?;
                let mut key = None;
                if row.get_ref(2)?.as_str().unwrap_or_default() == "TEL" {
                    // The numbers walk the same order: move forward to this entry's.
                    while let Some(n) = number {
                        let at = (n.get_ref(0)?.as_str().unwrap_or_default(), n.get(1)?);
                        if at == (uuid, position) {
                            key = n.get(2)?;
                        }
                        if at >= (uuid, position) {
                            break;
                        }
                        number = numbers.next()?;
                    }
                }
                add_entry(&mut contact, row, key)?;
            }
            entry = entries.next()?;
        }
        if filter.is_none_or(|f| contact.matches(f)) {
            visit(contact)?;
        }
    }
    Ok(())
}

/// Like [`each`], but `consume` runs on a second thread, fed the contacts as this one reads
/// them: reading the mirror and rendering the export then share the two cores a small server
/// has, instead of taking turns (50,000 vCards in one file: 1.25 s -> 0.8 s on two cores).
/// Returns what `consume` returns.
///
/// If `consume` fails, reading stops and its error is returned; if reading fails, `consume`
/// sees the end of the contacts early and the read error is returned.
pub fn each_on_second_thread<T: Send>(
    conn: &Connection,
    scope: Scope,
    selection: &Selection,
    consume: impl FnOnce(&mut dyn Iterator<Item = Contact>) -> Result<T> + Send,
) -> Result<T> {
    // Contacts go over in batches (a hand-over per contact costs more than it saves); a few
    // batches in flight keep both threads busy in little memory.
    const BATCH: usize = 128;
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Contact>>(4);
    std::thread::scope(|threads| {
        let consumer = threads.spawn(move || consume(&mut receiver.into_iter().flatten()));
        let mut batch = Vec::with_capacity(BATCH);
        let mut read = each(conn, scope, selection, |contact| {
            batch.push(contact);
            if batch.len() == BATCH {
                // The consumer only hangs up when it failed; its own error says why.
                sender
                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .map_err(|_| Error::io("the export stopped"))?;
            }
            Ok(())
        });
        if read.is_ok() && !batch.is_empty() {
            read = sender
                .send(batch)
                .map_err(|_| Error::io("the export stopped"));
        }
        drop(sender);
        let consumed = consumer
            .join()
            .map_err(|_| Error::io("internal error: the export thread panicked"))?;
        match (read, consumed) {
            (_, Err(e)) => Err(e),
            (Err(e), Ok(_)) => Err(e),
            (Ok(()), Ok(value)) => Ok(value),
        }
    })
}

/// Every contact present upstream (those `selection` admits), in export order.
pub fn load(conn: &Connection, selection: &Selection, scope: Scope) -> Result<Vec<Contact>> {
    let mut contacts = Vec::new();
    each(conn, scope, selection, |contact| {
        contacts.push(contact);
        Ok(())
    })?;
    contacts.sort_by_cached_key(Contact::sort_key);
    Ok(contacts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Access, Mirror, query_plan};

    fn mirror_with_contacts(count: usize) -> (tempfile::TempDir, Mirror) {
        use crate::records::contact::ContactRecord;
        use crate::records::contact::EntryRecord;
        use crate::store::contacts::upsert_contact;
        let dir = tempfile::tempdir().expect("dir");
        let mirror = Mirror::open(&dir.path().join("m.db"), Access::ReadWrite).expect("mirror");
        for i in 0..count {
            let record = ContactRecord {
                uuid: format!("c{i:05}"),
                valid_from: None,
                owner: None,
                formatted_name: Some(format!("Name {i}")),
                family_name: None,
                given_name: None,
                organization: None,
                content_hash: i.to_string(),
                raw_json: "{}".into(),
                entries: vec![EntryRecord {
                    entry_name: "TEL".into(),
                    types: "WORK".into(),
                    value: Some(format!("+49 30 {i}")),
                    ..EntryRecord::default()
                }],
                numbers: vec![(0, format!("4930{i}"), "WORK".into())],
                scope: None,
            };
            upsert_contact(mirror.conn(), &record, "2026-01-01T00:00:00Z").expect("store");
        }
        (dir, mirror)
    }

    #[test]
    fn the_second_thread_gets_every_contact_in_order_across_batches() {
        let (_dir, mirror) = mirror_with_contacts(300);
        let seen = each_on_second_thread(
            mirror.conn(),
            Scope::PhoneBook,
            &Selection::all(),
            |contacts| {
                Ok(contacts
                    .map(|c| (c.uuid, c.numbers[0].key.clone()))
                    .collect::<Vec<_>>())
            },
        )
        .expect("read");
        assert_eq!(seen.len(), 300);
        assert_eq!(
            seen[299],
            ("c00299".to_string(), Some("4930299".to_string()))
        );
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
        let filtered = each_on_second_thread(
            mirror.conn(),
            Scope::PhoneBook,
            &Selection::matching(Some("Name 7")),
            |c| Ok(c.count()),
        )
        .expect("read");
        assert_eq!(filtered, 11, "Name 7, Name 70..79");
    }

    #[test]
    fn a_failure_on_either_thread_is_the_result() {
        let (_dir, mirror) = mirror_with_contacts(300);
        let consumer_failed: Result<()> = each_on_second_thread(
            mirror.conn(),
            Scope::Everything,
            &Selection::all(),
            |contacts| {
                contacts.next();
                Err(Error::io("cannot write the phone book"))
            },
        );
        let error = consumer_failed.expect_err("failed");
        assert_eq!(error.to_string(), "cannot write the phone book");
        mirror
            .conn()
            .execute_batch("DROP TABLE mirror_contact_numbers")
            .expect("drop");
        let read_failed =
            each_on_second_thread(mirror.conn(), Scope::Everything, &Selection::all(), |c| {
                Ok(c.count())
            });
        assert!(
            read_failed
                .expect_err("failed")
                .to_string()
                .contains("mirror_contact_numbers")
        );
    }

    /// Each statement of the loader must be a plain scan: an index walk means a lookup per
    /// row, a temporary B-tree a sort of the whole table (each made exports several times
    /// slower once).
    #[test]
    fn the_loader_scans_each_table_once_without_sorting() {
        let dir = tempfile::tempdir().expect("dir");
        let mirror = Mirror::open(&dir.path().join("m.db"), Access::ReadWrite).expect("mirror");
        let statements = [
            HEADS.to_string(),
            NUMBERS.to_string(),
            entries_sql(Scope::PhoneBook),
            entries_sql(Scope::Everything),
        ];
        for sql in statements {
            let plan = query_plan(mirror.conn(), &sql);
            assert!(
                plan.len() == 1 && plan[0].starts_with("SCAN ") && !plan[0].contains("INDEX"),
                "{sql}\n{plan:?}"
            );
        }
    }
}
