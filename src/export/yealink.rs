//! Yealink remote phone book (`YealinkIPPhoneDirectory`): a name and up to three numbers per
//! entry, which is what the phones show.

use std::io::Write;

use super::phone::Prepared;
use super::xml::Xml;
use crate::error::Result;

/// Numbers a Yealink entry holds.
pub const MAX_NUMBERS: usize = 3;

pub fn render<W: Write>(prepared: &Prepared, xml: &mut Xml<W>) -> Result<()> {
    xml.open("YealinkIPPhoneDirectory", &[])?;
    for contact in prepared.contacts() {
        xml.open("DirectoryEntry", &[])?;
        xml.element("Name", &[], contact.display)?;
        for number in contact.numbers.iter().take(MAX_NUMBERS) {
            xml.element("Telephone", &[], number.text)?;
        }
        xml.close("DirectoryEntry")?;
    }
    xml.close("YealinkIPPhoneDirectory")
}
