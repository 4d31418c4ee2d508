//! snom `tbook`: the classic form (one record per number, master and member records for a
//! person with several numbers) and, with `--snom-format v2`, the newer one (one `<contact>`
//! per person). Both carry `e="2"` (character references above 255) and `complete="true"` (the
//! phone deletes entries that are gone). snom has no fax type: fax numbers are left out even
//! with --include-fax.

use std::io::Write;

use super::phone::{Kind, PhoneContact, Prepared};
use super::xml::Xml;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SnomFormat {
    /// One record per number; a master record plus members for several numbers
    Classic,
    /// `version="2.0"`: one contact with all its numbers (newer firmware)
    V2,
}

fn number_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Work => "business",
        Kind::Home => "home",
        Kind::Mobile => "mobile",
        Kind::Fax | Kind::Other => "fixed",
    }
}

/// Records one contact takes in the classic form.
/// Records a contact with `numbers` numbers takes: one, or a master and a member per number.
pub fn classic_records(numbers: usize) -> usize {
    match numbers {
        1 => 1,
        n => n + 1,
    }
}

/// First and last name for the phone; a contact with neither shows its display name (or its
/// company) as the last name.
pub fn names<'a>(contact: &PhoneContact<'a>) -> (&'a str, &'a str) {
    if contact.given.trim().is_empty() && contact.family.trim().is_empty() {
        ("", contact.display)
    } else {
        (contact.given, contact.family)
    }
}

pub fn render<W: Write>(prepared: &Prepared, format: SnomFormat, xml: &mut Xml<W>) -> Result<()> {
    match format {
        SnomFormat::Classic => {
            xml.open("tbook", &[("e", "2"), ("complete", "true")])?;
            let mut index = 0usize;
            for contact in prepared.contacts() {
                classic(xml, &contact, &mut index)?;
            }
        }
        SnomFormat::V2 => {
            xml.open(
                "tbook",
                &[("complete", "true"), ("e", "2"), ("version", "2.0")],
            )?;
            for contact in prepared.contacts() {
                v2(xml, &contact)?;
            }
        }
    }
    xml.close("tbook")
}

fn item_attributes<'a>(kind: &'a str, index: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("context", "active"),
        ("type", kind),
        ("fav", "false"),
        ("mod", "true"),
        ("index", index),
    ]
}

fn classic<W: Write>(xml: &mut Xml<W>, contact: &PhoneContact, index: &mut usize) -> Result<()> {
    let (first, last) = names(contact);
    let email = contact.emails.first().copied().unwrap_or("");
    let mut next = || {
        let i = index.to_string();
        *index += 1;
        i
    };
    if let [only] = contact.numbers.as_slice() {
        let i = next();
        xml.open("item", &item_attributes("none", &i))?;
        xml.element("name", &[], contact.display)?;
        xml.element("first_name", &[], first)?;
        xml.element("last_name", &[], last)?;
        xml.element("organization", &[], contact.organization)?;
        xml.element("email", &[], email)?;
        xml.element("number", &[], only.text)?;
        xml.element("number_type", &[], number_type(only.kind))?;
        return xml.close("item");
    }
    // The master's number is the key its members point to.
    let key = contact.numbers.first().map_or("", |n| n.text);
    let i = next();
    xml.open("item", &item_attributes("master", &i))?;
    xml.element("number", &[], key)?;
    xml.element("first_name", &[], first)?;
    xml.element("last_name", &[], last)?;
    xml.element("organization", &[], contact.organization)?;
    xml.element("email", &[], email)?;
    xml.close("item")?;
    for number in &contact.numbers {
        let i = next();
        xml.open("item", &item_attributes("none", &i))?;
        xml.element("first_name", &[], "Member_Alias")?;
        xml.element("last_name", &[], key)?;
        xml.element("number", &[], number.text)?;
        xml.element("number_type", &[], number_type(number.kind))?;
        xml.close("item")?;
    }
    Ok(())
}

fn v2<W: Write>(xml: &mut Xml<W>, contact: &PhoneContact) -> Result<()> {
    let (first, last) = names(contact);
    xml.open(
        "contact",
        &[("fav", "false"), ("vip", "false"), ("blocked", "false")],
    )?;
    xml.element("first_name", &[], first)?;
    xml.element("last_name", &[], last)?;
    xml.element("organization", &[], contact.organization)?;
    if let Some(email) = contact.emails.first() {
        xml.element("email", &[], email)?;
    }
    xml.open("numbers", &[])?;
    for number in &contact.numbers {
        xml.empty(
            "number",
            &[
                ("no", number.text),
                ("type", number_type(number.kind)),
                ("outgoing_id", "0"),
            ],
        )?;
    }
    xml.close("numbers")?;
    xml.close("contact")
}
