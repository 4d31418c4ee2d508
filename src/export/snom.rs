//! snom `tbook`: the classic form (one record per number, master and member records for a
//! person with several numbers) and, with `--snom-format v2`, the newer one (one `<contact>`
//! per person). Both carry `e="2"` (character references above 255) and `complete="true"` (the
//! phone deletes entries that are gone). snom has no fax type: fax numbers are left out even
//! with --include-fax.

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
pub fn classic_records(contact: &PhoneContact<'_>) -> usize {
    match contact.numbers.len() {
        1 => 1,
        n => n + 1,
    }
}

/// First and last name for the phone; a contact with neither shows its display name (or its
/// company) as the last name.
pub fn names(contact: &PhoneContact<'_>) -> (String, String) {
    let c = contact.contact;
    if c.given.trim().is_empty() && c.family.trim().is_empty() {
        (String::new(), super::phone::display_name(c))
    } else {
        (c.given.clone(), c.family.clone())
    }
}

pub fn render(prepared: &Prepared<'_>, format: SnomFormat) -> Result<Vec<u8>> {
    let mut xml = Xml::new()?;
    match format {
        SnomFormat::Classic => {
            xml.open("tbook", &[("e", "2"), ("complete", "true")])?;
            let mut index = 0usize;
            for contact in &prepared.contacts {
                classic(&mut xml, contact, &mut index)?;
            }
        }
        SnomFormat::V2 => {
            xml.open(
                "tbook",
                &[("complete", "true"), ("e", "2"), ("version", "2.0")],
            )?;
            for contact in &prepared.contacts {
                v2(&mut xml, contact)?;
            }
        }
    }
    xml.close("tbook")?;
    Ok(xml.finish())
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

fn classic(xml: &mut Xml, contact: &PhoneContact<'_>, index: &mut usize) -> Result<()> {
    let c = contact.contact;
    let (first, last) = names(contact);
    let email = c.emails.first().map(|(_, e)| e.as_str()).unwrap_or("");
    let mut next = || {
        let i = index.to_string();
        *index += 1;
        i
    };
    if let [only] = contact.numbers.as_slice() {
        let i = next();
        xml.open("item", &item_attributes("none", &i))?;
        xml.element("name", &[], &super::phone::display_name(c))?;
        xml.element("first_name", &[], &first)?;
        xml.element("last_name", &[], &last)?;
        xml.element("organization", &[], &c.organization)?;
        xml.element("email", &[], email)?;
        xml.element("number", &[], &only.text)?;
        xml.element("number_type", &[], number_type(only.kind))?;
        return xml.close("item");
    }
    // The master's number is the key its members point to.
    let key = &contact.numbers[0].text;
    let i = next();
    xml.open("item", &item_attributes("master", &i))?;
    xml.element("number", &[], key)?;
    xml.element("first_name", &[], &first)?;
    xml.element("last_name", &[], &last)?;
    xml.element("organization", &[], &c.organization)?;
    xml.element("email", &[], email)?;
    xml.close("item")?;
    for number in &contact.numbers {
        let i = next();
        xml.open("item", &item_attributes("none", &i))?;
        xml.element("first_name", &[], "Member_Alias")?;
        xml.element("last_name", &[], key)?;
        xml.element("number", &[], &number.text)?;
        xml.element("number_type", &[], number_type(number.kind))?;
        xml.close("item")?;
    }
    Ok(())
}

fn v2(xml: &mut Xml, contact: &PhoneContact<'_>) -> Result<()> {
    let c = contact.contact;
    let (first, last) = names(contact);
    xml.open(
        "contact",
        &[("fav", "false"), ("vip", "false"), ("blocked", "false")],
    )?;
    xml.element("first_name", &[], &first)?;
    xml.element("last_name", &[], &last)?;
    xml.element("organization", &[], &c.organization)?;
    if let Some((_, email)) = c.emails.first() {
        xml.element("email", &[], email)?;
    }
    xml.open("numbers", &[])?;
    for number in &contact.numbers {
        xml.empty(
            "number",
            &[
                ("no", &number.text),
                ("type", number_type(number.kind)),
                ("outgoing_id", "0"),
            ],
        )?;
    }
    xml.close("numbers")?;
    xml.close("contact")
}
