//! Yealink remote phone book (`YealinkIPPhoneDirectory`): a name and up to three numbers per
//! entry, which is what the phones show.

use super::phone::Prepared;
use super::xml::Xml;
use crate::error::Result;

/// Numbers a Yealink entry holds.
pub const MAX_NUMBERS: usize = 3;

pub fn render(prepared: &Prepared<'_>) -> Result<Vec<u8>> {
    let mut xml = Xml::new()?;
    xml.open("YealinkIPPhoneDirectory", &[])?;
    for contact in &prepared.contacts {
        xml.open("DirectoryEntry", &[])?;
        xml.element("Name", &[], &super::phone::display_name(contact.contact))?;
        for number in contact.numbers.iter().take(MAX_NUMBERS) {
            xml.element("Telephone", &[], &number.text)?;
        }
        xml.close("DirectoryEntry")?;
    }
    xml.close("YealinkIPPhoneDirectory")?;
    Ok(xml.finish())
}
