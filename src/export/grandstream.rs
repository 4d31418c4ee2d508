//! Grandstream `AddressBook` (GXP, GRP, WP): one `<Contact>` per person with its numbers, all
//! on the same account (`--account-index`: 0-based on current firmware, 1-based on older).

use std::io::Write;

use super::phone::{Kind, Prepared};
use super::xml::Xml;
use crate::error::Result;

fn phone_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Work => "Work",
        Kind::Home => "Home",
        Kind::Mobile => "Mobile",
        Kind::Fax => "Fax",
        Kind::Other => "Other",
    }
}

pub fn render<W: Write>(prepared: &Prepared, account_index: u32, xml: &mut Xml<W>) -> Result<()> {
    let account = account_index.to_string();
    xml.open("AddressBook", &[])?;
    xml.element("version", &[], "1")?;
    for (i, contact) in prepared.contacts().enumerate() {
        let (first, last) = super::snom::names(&contact);
        xml.open("Contact", &[])?;
        xml.element("id", &[], &(i + 1).to_string())?;
        xml.element("FirstName", &[], first)?;
        xml.element("LastName", &[], last)?;
        xml.element("Frequent", &[], "0")?;
        for number in &contact.numbers {
            xml.open("Phone", &[("type", phone_type(number.kind))])?;
            xml.element("phonenumber", &[], number.text)?;
            xml.element("accountindex", &[], &account)?;
            xml.close("Phone")?;
        }
        for email in contact.emails.iter().take(1) {
            xml.element("Mail", &[("type", "Work")], email)?;
        }
        xml.close("Contact")?;
    }
    xml.close("AddressBook")
}
