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
pub mod vcard;
mod xml;
pub mod yealink;

pub use contact::Contact;
pub use phone::{NumberStyle, PhoneOptions};

use crate::error::Result;

/// The desk-phone formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneFormat {
    Snom(snom::SnomFormat),
    Grandstream { account_index: u32 },
    Yealink,
    Fritzbox,
}

/// A rendered file and what was left out of it.
#[derive(Debug)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub entries: usize,
    pub notes: Vec<String>,
}

/// Renders `contacts` (in export order) as a phone book.
pub fn render_phone(
    contacts: &[Contact],
    format: PhoneFormat,
    options: &PhoneOptions,
) -> Result<Rendered> {
    let mut options = options.clone();
    // snom has no fax type.
    if matches!(format, PhoneFormat::Snom(_)) {
        options.include_fax = false;
    }
    let mut prepared = phone::prepare(contacts, &options);
    match format {
        PhoneFormat::Snom(snom::SnomFormat::Classic) => {
            phone::cap(&mut prepared, options.max_entries, snom::classic_records)
        }
        _ => phone::cap(&mut prepared, options.max_entries, |_| 1),
    }
    let per_entry = match format {
        PhoneFormat::Yealink => Some(yealink::MAX_NUMBERS),
        PhoneFormat::Fritzbox => Some(fritzbox::MAX_NUMBERS),
        _ => None,
    };
    if let Some(max) = per_entry {
        let over: Vec<String> = prepared
            .contacts
            .iter()
            .filter(|c| c.numbers.len() > max)
            .map(|c| phone::display_name(c.contact))
            .collect();
        if !over.is_empty() {
            prepared.notes.push(format!(
                "kept the first {max} numbers of {} contacts with more: {}",
                over.len(),
                over.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let bytes = match format {
        PhoneFormat::Snom(f) => snom::render(&prepared, f)?,
        PhoneFormat::Grandstream { account_index } => {
            grandstream::render(&prepared, account_index)?
        }
        PhoneFormat::Yealink => yealink::render(&prepared)?,
        PhoneFormat::Fritzbox => fritzbox::render(&prepared)?,
    };
    Ok(Rendered {
        bytes,
        entries: prepared.contacts.len(),
        notes: prepared.notes,
    })
}

/// All contacts in one vCard file.
pub fn render_vcards(contacts: &[Contact], version: vcard::Version) -> Vec<u8> {
    let mut out = String::new();
    for contact in contacts {
        out.push_str(&vcard::render(contact, version));
    }
    out.into_bytes()
}
