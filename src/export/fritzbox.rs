//! AVM FRITZ!Box phone book (`phonebooks/phonebook/contact`), importable in its web UI; at most
//! nine numbers per contact.

use std::io::Write;

use super::phone::{Kind, Prepared};
use super::xml::Xml;
use crate::error::Result;

/// Numbers a FRITZ!Box contact holds.
pub const MAX_NUMBERS: usize = 9;

fn number_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Work => "work",
        Kind::Home => "home",
        Kind::Mobile => "mobile",
        Kind::Fax => "fax_work",
        Kind::Other => "other",
    }
}

pub fn render<W: Write>(prepared: &Prepared, xml: &mut Xml<W>) -> Result<()> {
    xml.open("phonebooks", &[])?;
    xml.open("phonebook", &[("name", "sipgate")])?;
    for contact in prepared.contacts() {
        let real_name = if !contact.family.trim().is_empty() && !contact.given.trim().is_empty() {
            format!("{}, {}", contact.family, contact.given)
        } else {
            contact.display.to_string()
        };
        let numbers: Vec<_> = contact.numbers.iter().take(MAX_NUMBERS).collect();
        xml.open("contact", &[])?;
        xml.element("category", &[], "0")?;
        xml.open("person", &[])?;
        xml.element("realName", &[], &real_name)?;
        xml.close("person")?;
        xml.open("telephony", &[("nid", &numbers.len().to_string())])?;
        for (i, number) in numbers.iter().enumerate() {
            let id = i.to_string();
            let prio = if i == 0 { "1" } else { "0" };
            xml.element(
                "number",
                &[
                    ("type", number_type(number.kind)),
                    ("prio", prio),
                    ("id", &id),
                ],
                number.text,
            )?;
        }
        xml.close("telephony")?;
        if !contact.emails.is_empty() {
            xml.open("services", &[])?;
            for (i, email) in contact.emails.iter().enumerate() {
                xml.element(
                    "email",
                    &[("classifier", "work"), ("id", &i.to_string())],
                    email,
                )?;
            }
            xml.close("services")?;
        }
        xml.element("carddav_uid", &[], contact.uuid)?;
        xml.close("contact")?;
    }
    xml.close("phonebook")?;
    xml.close("phonebooks")
}
