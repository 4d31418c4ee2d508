//! The non-JSON formats the emulator serves: XML (the default), vCard for contacts, and the
//! vendor phonebooks for snom and Grandstream.
//!
//! XML is rendered from the same JSON tree as the JSON answer: an object is an element per
//! key, an array is an element holding one child per item, named by [`item_name`] (`calls`
//! holds `call` elements, `entries` holds `entry`, ...). Characters XML 1.0 forbids are dropped.

use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::Value;

use super::model::Contact;

/// The element name of one item of the array under `key`.
pub fn item_name(key: &str) -> &str {
    match key {
        "calls" => "call",
        "faxes" => "fax",
        "voicemails" => "voicemail",
        "events" => "event",
        "items" => "item",
        "entries" => "entry",
        "previews" => "preview",
        "types" => "type",
        "sources" => "source",
        "targets" => "target",
        "extensions" => "extension",
        "incomingNumbers" | "directDialNumbers" | "numbers" => "number",
        "devices" => "device",
        "recordings" => "recording",
        "smsVouchers" | "minuteVouchers" | "faxVouchers" => "voucher",
        "members" => "member",
        "phonenumbers" => "phonenumber",
        "outgoingNumbers" => "outgoingNumber",
        other => other,
    }
}

/// Keeps only characters XML 1.0 allows.
pub fn xml_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |c: char| matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}');
    if text.chars().all(allowed) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}

/// Renders `{"root": ...}` as an XML document.
pub fn to_xml(value: &Value) -> Vec<u8> {
    let mut writer = Writer::new(Vec::new());
    // Writing into a Vec cannot fail; errors are ignored deliberately.
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                write_value(&mut writer, key, child);
            }
        }
        other => write_value(&mut writer, "result", other),
    }
    let mut out = writer.into_inner();
    out.push(b'\n');
    out
}

fn write_value(writer: &mut Writer<Vec<u8>>, name: &str, value: &Value) {
    let _ = writer.write_event(Event::Start(BytesStart::new(name)));
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                write_value(writer, key, child);
            }
        }
        Value::Array(items) => {
            let child = item_name(name);
            for item in items {
                write_value(writer, child, item);
            }
        }
        Value::String(s) => {
            let _ = writer.write_event(Event::Text(BytesText::new(&xml_safe(s))));
        }
        Value::Null => {}
        other => {
            let _ = writer.write_event(Event::Text(BytesText::new(&other.to_string())));
        }
    }
    let _ = writer.write_event(Event::End(BytesEnd::new(name)));
}

/// A small XML error body: `<error><status>404</status><message>...</message></error>`.
pub fn error_xml(status: u16, message: &str) -> Vec<u8> {
    to_xml(&serde_json::json!({ "error": { "status": status, "message": message } }))
}

/// Contacts as vCard 3.0 (CRLF, folded at 75 octets, escaped), as upstream served them for
/// `Accept: text/vcard`.
pub fn vcards(contacts: &[&Contact]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in contacts {
        let mut lines = vec![
            "BEGIN:VCARD".to_string(),
            "VERSION:3.0".to_string(),
            format!("UID:{}", c.uuid),
        ];
        lines.push(format!("FN:{}", escape(&c.formatted_name())));
        let mut has_n = false;
        for e in &c.entries {
            let params = if e.types.is_empty() {
                String::new()
            } else {
                format!(";TYPE={}", e.types.join(","))
            };
            let group = e
                .group
                .as_ref()
                .map(|g| format!("{g}."))
                .unwrap_or_default();
            let value = match e.name.as_str() {
                "FN" => continue,
                "N" => {
                    has_n = true;
                    ["family", "given", "middle", "prefixes", "suffixes"]
                        .map(|k| escape(e.part(k).unwrap_or("")))
                        .join(";")
                }
                "ADR" => [
                    "po_box",
                    "extended",
                    "street",
                    "city",
                    "region",
                    "postal_code",
                    "country",
                ]
                .map(|k| escape(e.part(k).unwrap_or("")))
                .join(";"),
                "ORG" => std::iter::once(e.part("name").unwrap_or(""))
                    .chain(e.units.iter().map(String::as_str))
                    .map(escape)
                    .collect::<Vec<_>>()
                    .join(";"),
                "GEO" => format!(
                    "{};{}",
                    e.part("lat").unwrap_or(""),
                    e.part("long").unwrap_or("")
                ),
                _ => escape(e.value.as_deref().unwrap_or("")),
            };
            lines.push(format!("{group}{}{params}:{value}", e.name));
        }
        if !has_n {
            lines.insert(4, "N:;;;;".to_string());
        }
        lines.push("END:VCARD".to_string());
        for line in lines {
            fold_into(&mut out, &line);
        }
    }
    out
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes one content line folded at 75 octets, never inside a UTF-8 character.
fn fold_into(out: &mut Vec<u8>, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.extend_from_slice(b"\r\n ");
            width = 1;
        }
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        width += len;
    }
    out.extend_from_slice(b"\r\n");
}

/// `snom` or `grandstream`: the phonebook XML upstream generated for those desk phones.
pub fn phonebook(vendor: &str, contacts: &[&Contact]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = |s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    let esc = |s: &str| quick_xml::escape::escape(xml_safe(s).into_owned()).into_owned();
    match vendor {
        "snom" => {
            w("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tbook e=\"2\" complete=\"true\">\n");
            let mut index = 0;
            for c in contacts {
                for e in c.entries.iter().filter(|e| e.name == "TEL") {
                    if e.has_type("FAX") {
                        continue;
                    }
                    w(&format!(
                        "  <item context=\"active\" type=\"none\" fav=\"false\" mod=\"true\" index=\"{index}\"><name>{}</name><number>{}</number><number_type>{}</number_type></item>\n",
                        esc(&c.formatted_name()),
                        esc(&e.dialable()),
                        if e.has_type("CELL") {
                            "mobile"
                        } else if e.has_type("HOME") {
                            "home"
                        } else {
                            "business"
                        }
                    ));
                    index += 1;
                }
            }
            w("</tbook>\n");
        }
        "grandstream" => {
            w("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AddressBook>\n");
            for c in contacts {
                let n = c.entries.iter().find(|e| e.name == "N");
                let first = n.and_then(|n| n.part("given")).unwrap_or("");
                let last = n
                    .and_then(|n| n.part("family"))
                    .map(str::to_string)
                    .unwrap_or_else(|| c.formatted_name());
                w(&format!(
                    "  <Contact><FirstName>{}</FirstName><LastName>{}</LastName>",
                    esc(first),
                    esc(&last)
                ));
                for e in c.entries.iter().filter(|e| e.name == "TEL") {
                    let kind = if e.has_type("FAX") {
                        "Fax"
                    } else if e.has_type("CELL") {
                        "Mobile"
                    } else if e.has_type("HOME") {
                        "Home"
                    } else {
                        "Work"
                    };
                    w(&format!(
                        "<Phone type=\"{kind}\"><phonenumber>{}</phonenumber><accountindex>1</accountindex></Phone>",
                        esc(&e.dialable())
                    ));
                }
                w("</Contact>\n");
            }
            w("</AddressBook>\n");
        }
        _ => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::model::Entry;

    #[test]
    fn arrays_become_named_items_and_text_is_escaped() {
        let xml = to_xml(
            &serde_json::json!({"events": {"calls": [{"id": "1", "text": "a & <b>\u{7}"}], "count": 1}}),
        );
        let text = String::from_utf8(xml).expect("utf-8");
        assert!(text.contains("<events><calls><call><id>1</id><text>a &amp; &lt;b&gt;</text></call></calls><count>1</count></events>"), "{text}");
    }

    #[test]
    fn phonebooks_dial_clean_numbers_and_snom_leaves_out_faxes() {
        let mut tel = Entry::simple("TEL", "+49 (30) 123-45");
        tel.types = vec!["CELL".into()];
        let mut fax = Entry::simple("TEL", "+49 30 999");
        fax.types = vec!["WORK".into(), "FAX".into()];
        let contact = Contact {
            uuid: "u".into(),
            valid_from_ms: 0,
            owner: "w0".into(),
            entries: vec![Entry::simple("FN", "A & B"), tel, fax],
        };
        let snom = String::from_utf8(phonebook("snom", &[&contact]).expect("snom")).expect("utf-8");
        assert!(
            snom.contains("<number>+493012345</number><number_type>mobile</number_type>"),
            "{snom}"
        );
        assert!(
            !snom.contains("+4930999") && snom.contains("A &amp; B"),
            "{snom}"
        );
        let gs =
            String::from_utf8(phonebook("grandstream", &[&contact]).expect("gs")).expect("utf-8");
        assert!(
            gs.contains("<Phone type=\"Fax\"><phonenumber>+4930999</phonenumber>"),
            "{gs}"
        );
        assert!(phonebook("polycom", &[&contact]).is_none());
    }

    #[test]
    fn folding_respects_utf8_boundaries() {
        let mut out = Vec::new();
        fold_into(&mut out, &format!("NOTE:{}", "ä".repeat(100)));
        let text = String::from_utf8(out).expect("folding must not split characters");
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
    }
}
