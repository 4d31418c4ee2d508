//! vCard 3.0 (the default: what phones, Apple and FRITZ!Box import) and 4.0, written by hand.
//!
//! The `vcard_parser` crate is not used: it reads 4.0 only, loses `TEL;VALUE=uri` values and
//! `\n` escapes, and writes LF line ends without folding. The rules here are RFC 2426 / 6350's:
//! CRLF line ends; lines folded at 75 octets, never inside a UTF-8 character, continuation
//! lines starting with one space; `\`, `,`, `;` and newlines escaped in text; no control
//! characters; 3.0 has N and FN, 4.0 has VERSION right after BEGIN and FN; UID is the
//! contact's upstream UUID, so it is stable across runs.

use super::contact::{Contact, Number};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Version {
    #[value(name = "3.0")]
    V3,
    #[value(name = "4.0")]
    V4,
}

/// Escapes a text value (or one component of a structured value).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn structured(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| escape(p))
        .collect::<Vec<_>>()
        .join(";")
}

/// Appends `line` folded at 75 octets, with CRLF.
fn push_folded(out: &mut String, line: &str) {
    if line.len() <= 75 {
        out.push_str(line);
        out.push_str("\r\n");
        return;
    }
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// TYPE values for a number: WORK,VOICE / HOME,VOICE / CELL / WORK,FAX; others kept.
fn tel_types(number: &Number) -> Vec<String> {
    let has = |t: &str| number.types.iter().any(|x| x == t);
    let mut types: Vec<String> = Vec::new();
    if has("FAX") {
        types.push(if has("HOME") { "HOME" } else { "WORK" }.into());
        types.push("FAX".into());
    } else if has("CELL") {
        types.push("CELL".into());
    } else {
        if has("HOME") {
            types.push("HOME".into());
        } else if has("WORK") {
            types.push("WORK".into());
        }
        types.push("VOICE".into());
    }
    for t in &number.types {
        let word: String = t
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if !word.is_empty() && !["WORK", "HOME", "CELL", "FAX", "VOICE"].contains(&word.as_str()) {
            types.push(word);
        }
    }
    types
}

fn type_param(types: &[String], version: Version) -> String {
    if types.is_empty() {
        return String::new();
    }
    let list = types.join(",");
    match version {
        Version::V3 => format!(";TYPE={list}"),
        Version::V4 => format!(";TYPE={}", list.to_lowercase()),
    }
}

/// A UUID-shaped id becomes `urn:uuid:...` in 4.0.
fn uid(contact: &Contact, version: Version) -> String {
    let uuid_shaped = contact.uuid.len() == 36
        && contact
            .uuid
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == '-');
    match version {
        Version::V4 if uuid_shaped => format!("urn:uuid:{}", contact.uuid.to_lowercase()),
        _ => escape(&contact.uuid),
    }
}

/// One contact as a vCard.
pub fn render(contact: &Contact, version: Version) -> String {
    let mut out = String::new();
    render_into(contact, version, &mut out);
    out
}

/// Appends one contact as a vCard to `out`.
pub fn render_into(contact: &Contact, version: Version, out: &mut String) {
    let mut line = |text: String| push_folded(out, &text);
    line("BEGIN:VCARD".into());
    line(
        match version {
            Version::V3 => "VERSION:3.0",
            Version::V4 => "VERSION:4.0",
        }
        .into(),
    );
    line(format!(
        "PRODID:-//sipmirror//sipmirror {}//EN",
        env!("CARGO_PKG_VERSION")
    ));
    line(format!("UID:{}", uid(contact, version)));
    let only_company = contact.family.trim().is_empty()
        && contact.given.trim().is_empty()
        && !contact.organization.trim().is_empty();
    if version == Version::V4 {
        line(format!(
            "KIND:{}",
            if only_company { "org" } else { "individual" }
        ));
    }
    // FN is required in both versions: the display name, else the company, else the number.
    let name = super::phone::display_name(contact);
    line(format!("FN:{}", escape(&name)));
    line(format!(
        "N:{}",
        structured(&[
            &contact.family,
            &contact.given,
            &contact.middle,
            &contact.prefixes,
            &contact.suffixes
        ])
    ));
    if !contact.organization.is_empty() {
        let mut parts = vec![contact.organization.as_str()];
        parts.extend(contact.org_units.iter().map(String::as_str));
        line(format!("ORG:{}", structured(&parts)));
    }
    for number in &contact.numbers {
        let types = type_param(&tel_types(number), version);
        let tel_uri = number
            .key
            .as_deref()
            .filter(|_| version == Version::V4)
            .map(|key| format!("tel:+{key}"));
        match tel_uri {
            Some(uri) => line(format!("TEL;VALUE=uri{types}:{uri}")),
            None => line(format!("TEL{types}:{}", escape(number.value.trim()))),
        }
    }
    for (types, email) in &contact.emails {
        let mut list: Vec<String> = types.clone();
        if version == Version::V3 {
            list.insert(0, "INTERNET".into());
        }
        line(format!(
            "EMAIL{}:{}",
            type_param(&list, version),
            escape(email.trim())
        ));
    }
    for address in &contact.addresses {
        let parts: Vec<&str> = address.parts.iter().map(String::as_str).collect();
        line(format!(
            "ADR{}:{}",
            type_param(&address.types, version),
            structured(&parts)
        ));
    }
    if let Some((lat, long)) = &contact.geo {
        let (lat, long) = (escape(lat), escape(long));
        match version {
            Version::V3 => line(format!("GEO:{lat};{long}")),
            Version::V4 => line(format!("GEO:geo:{lat}\\,{long}")),
        }
    }
    if !contact.note.is_empty() {
        line(format!("NOTE:{}", escape(&contact.note)));
    }
    line("END:VCARD".into());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jurgen() -> Contact {
        Contact {
            uuid: "4fbe8971-0bc3-424c-9c26-36c3e1eff6b1".into(),
            name: "Dr. Jürgen Müller-Lüdenscheidt".into(),
            family: "Müller-Lüdenscheidt".into(),
            given: "Jürgen".into(),
            prefixes: "Dr.".into(),
            organization: "Beispiel GmbH & Co. KG".into(),
            org_units: vec!["Vertrieb".into()],
            numbers: vec![Number {
                value: "+49 30 1234567".into(),
                local: None,
                key: Some("49301234567".into()),
                types: vec!["WORK".into()],
            }],
            note: "Zeile 1\nZeile 2, mit Komma; und Semikolon – ein längerer Text, der gefaltet werden muss (Umlaute: äöüß)".into(),
            ..Contact::default()
        }
    }

    #[test]
    fn lines_are_folded_escaped_and_crlf() {
        let text = render(&jurgen(), Version::V3);
        assert!(text.starts_with("BEGIN:VCARD\r\nVERSION:3.0\r\n"));
        assert!(text.contains("TEL;TYPE=WORK,VOICE:+49 30 1234567\r\n"));
        assert!(text.contains("N:Müller-Lüdenscheidt;Jürgen;;Dr.;\r\n"));
        assert!(text.contains("ORG:Beispiel GmbH & Co. KG;Vertrieb\r\n"));
        assert!(text.contains("NOTE:Zeile 1\\nZeile 2\\, mit Komma\\; und"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
            assert!(!line.contains('\n'));
        }
        let v4 = render(&jurgen(), Version::V4);
        assert!(v4.contains("UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\r\n"));
        assert!(v4.contains("TEL;VALUE=uri;TYPE=work,voice:tel:+49301234567\r\n"));
    }

    #[test]
    fn folding_never_splits_a_character() {
        let contact = Contact {
            uuid: "x".into(),
            name: "ä".repeat(100),
            ..Contact::default()
        };
        let text = render(&contact, Version::V3);
        for line in text.split("\r\n") {
            assert!(line.len() <= 75);
        }
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("FN:{}", "ä".repeat(100))));
    }
}
