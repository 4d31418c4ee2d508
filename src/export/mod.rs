//! Exporters: the mirror's contacts as vCards and as desk-phone phone books.
//!
//! One file per format; [`phone`] holds the rules the phone formats share (number style, fax
//! numbers, duplicates, entry caps), [`files`] the atomic writes and the vCard folder. Every
//! exporter says what it left out: nothing is dropped silently.

pub mod contact;
pub mod files;
pub mod fritzbox;
pub mod grandstream;
pub mod phone;
pub mod snom;
mod texts;
pub mod vcard;
mod xml;
pub mod yealink;

pub use contact::{Contact, Selection};
pub use phone::{NumberStyle, PhoneOptions};

use std::io::Write;
use std::path::Path;

use rusqlite::Connection;

use contact::Scope;

use crate::error::Result;

/// The desk-phone formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneFormat {
    Snom(snom::SnomFormat),
    Grandstream { account_index: u32 },
    Yealink,
    Fritzbox,
}

impl PhoneFormat {
    /// A collector for this format's book: snom has no fax type, so its books never keep
    /// fax numbers.
    pub fn collector(self, options: &PhoneOptions) -> phone::Collector {
        let mut options = options.clone();
        if matches!(self, PhoneFormat::Snom(_)) {
            options.include_fax = false;
        }
        phone::Collector::new(options)
    }

    /// A collector for this format's book holding `contacts`.
    pub fn collect(self, contacts: &[Contact], options: &PhoneOptions) -> phone::Collector {
        let mut collector = self.collector(options);
        for contact in contacts {
            collector.add(contact);
        }
        collector
    }
}

/// What a phone book holds and what was left out of it.
#[derive(Debug)]
pub struct Summary {
    pub entries: usize,
    pub notes: Vec<String>,
}

/// Writes the contacts of `collector` as a `format` phone book into `out`, applying the entry
/// cap and the format's limit of numbers per entry (both said in the notes).
pub fn write_phone<W: Write>(
    collector: phone::Collector,
    format: PhoneFormat,
    max_entries: usize,
    out: W,
) -> Result<(W, Summary)> {
    let mut prepared = collector.finish();
    match format {
        PhoneFormat::Snom(snom::SnomFormat::Classic) => {
            prepared.cap(max_entries, snom::classic_records)
        }
        _ => prepared.cap(max_entries, |_| 1),
    }
    let per_entry = match format {
        PhoneFormat::Yealink => Some(yealink::MAX_NUMBERS),
        PhoneFormat::Fritzbox => Some(fritzbox::MAX_NUMBERS),
        _ => None,
    };
    if let Some(max) = per_entry {
        let over: Vec<String> = prepared
            .contacts()
            .filter(|c| c.numbers.len() > max)
            .map(|c| c.display.to_string())
            .collect();
        if !over.is_empty() {
            prepared.notes.push(format!(
                "kept the first {max} numbers of {} contacts with more: {}",
                over.len(),
                over.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let mut xml = xml::Xml::new(out)?;
    match format {
        PhoneFormat::Snom(f) => snom::render(&prepared, f, &mut xml)?,
        PhoneFormat::Grandstream { account_index } => {
            grandstream::render(&prepared, account_index, &mut xml)?
        }
        PhoneFormat::Yealink => yealink::render(&prepared, &mut xml)?,
        PhoneFormat::Fritzbox => fritzbox::render(&prepared, &mut xml)?,
    }
    let summary = Summary {
        entries: prepared.len(),
        notes: prepared.notes,
    };
    Ok((xml.finish()?, summary))
}

/// The mirror's contacts (those `selection` admits) as a `format` phone book, streamed into
/// `out`: only what the book shows is held for each contact.
pub fn phone_book<W: Write>(
    conn: &Connection,
    selection: &Selection,
    format: PhoneFormat,
    options: &PhoneOptions,
    out: W,
) -> Result<(W, Summary)> {
    let collector =
        contact::each_on_second_thread(conn, Scope::PhoneBook, selection, |contacts| {
            let mut collector = format.collector(options);
            for contact in contacts {
                collector.add(&contact);
            }
            Ok(collector)
        })?;
    write_phone(collector, format, options.max_entries, out)
}

/// The mirror's contacts (those `selection` admits) as one vCard file in export order, written
/// into `out`. Returns how many.
pub fn vcard_file<W: Write>(
    conn: &Connection,
    selection: &Selection,
    version: vcard::Version,
    mut out: W,
) -> Result<(W, usize)> {
    // Each card is rendered as its contact is read (and the contact dropped); only the cards
    // wait for the sort, in one buffer.
    let (texts, mut cards) =
        contact::each_on_second_thread(conn, Scope::Everything, selection, |contacts| {
            let mut texts = texts::Texts::default();
            let mut cards = Vec::new();
            for contact in contacts {
                let key = texts.push_with(|out| contact.write_sort_key(out));
                let card = texts.push_with(|out| vcard::render_into(&contact, version, out));
                cards.push((key, card));
            }
            Ok((texts, cards))
        })?;
    cards.sort_unstable_by(|a, b| texts.get(a.0).cmp(texts.get(b.0)));
    for &(_, card) in &cards {
        out.write_all(texts.get(card).as_bytes())
            .map_err(|e| crate::error::Error::io(format!("cannot write vCards: {e}")))?;
    }
    Ok((out, cards.len()))
}

/// Brings the vCard folder `dir` in step with the mirror's contacts (those `selection`
/// admits); see [`files::Folder`]. Returns how many contacts it holds and what changed.
pub fn vcard_folder(
    conn: &Connection,
    selection: &Selection,
    dir: &Path,
    version: vcard::Version,
) -> Result<(usize, files::FolderReport)> {
    let mut folder = files::Folder::open(dir, version)?;
    let count = contact::each_on_second_thread(conn, Scope::Everything, selection, |contacts| {
        let mut count = 0;
        for contact in contacts {
            count += 1;
            folder.add(&contact)?;
        }
        Ok(count)
    })?;
    Ok((count, folder.finish()?))
}

/// A phone book rendered in memory, and what it holds.
#[derive(Debug)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub summary: Summary,
}

/// `contacts` (in any order) as a phone book in memory.
pub fn render_phone(
    contacts: &[Contact],
    format: PhoneFormat,
    options: &PhoneOptions,
) -> Result<Rendered> {
    let collector = format.collect(contacts, options);
    let (bytes, summary) = write_phone(collector, format, options.max_entries, Vec::new())?;
    Ok(Rendered { bytes, summary })
}

/// All contacts in one vCard file, in the order given.
pub fn render_vcards(contacts: &[Contact], version: vcard::Version) -> Vec<u8> {
    let mut out = String::new();
    for contact in contacts {
        vcard::render_into(contact, version, &mut out);
    }
    out.into_bytes()
}
