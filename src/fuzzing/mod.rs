//! Entry points for the fuzz targets in `fuzz/` (cargo fuzz), kept in the library so they are
//! compiled, and run over a seed corpus, by the ordinary `cargo test`.
//!
//! Each function takes arbitrary bytes and panics only when sipmirror breaks one of its
//! promises: no panic on any input, errors on one line, exported XML that parses and vCards
//! within the line-length and line-ending rules. Upstream bodies are JSON: the client asks
//! for JSON and never parses upstream XML, so XML is fuzzed where sipmirror writes it.

mod shapes;

use serde_json::value::RawValue;

use crate::export::contact::{Contact, Number};
use crate::export::{NumberStyle, PhoneFormat, PhoneOptions, vcard};
use crate::records::EventKind;

/// An upstream event or contact item, through the same conversions the sync uses (both
/// dialects'): the bytes as they are, and the JSON record they build as choices.
pub fn upstream_item(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        convert_item(text);
    }
    convert_item(&shapes::json_item(data));
}

fn convert_item(text: &str) {
    let Ok(raw) = serde_json::from_str::<Box<RawValue>>(text) else {
        return;
    };
    for kind in EventKind::ALL {
        if let Err(e) = crate::api::event_record::to_record(kind, &raw, 0, "49") {
            assert_one_line(&e.to_string());
        }
        if let Err(e) = crate::api::v2::history::to_record(kind, &raw, 0, "49") {
            assert_one_line(&e.to_string());
        }
    }
    if let Err(e) = crate::api::contact_record::to_record(&raw, 0, "49") {
        assert_one_line(&e.to_string());
    }
    if let Err(e) = crate::api::v2::contacts::to_record(&raw, 0, "49") {
        assert_one_line(&e.to_string());
    }
}

/// A whole upstream body: the envelopes of listings, settings, balance and calls, from the
/// bytes as they are and from the JSON record they build.
pub fn upstream_body(data: &[u8]) {
    parse_body(data);
    parse_body(shapes::json_item(data).as_bytes());
}

fn parse_body(data: &[u8]) {
    use crate::api::parse_json;
    use crate::api::resources::WireBalance;
    use crate::api::sessions::WireSession;
    let results = [
        parse_json::<WireBalance>(data).err(),
        parse_json::<Vec<WireSession>>(data).err(),
        parse_json::<crate::api::resources::WireNumbers>(data).err(),
        parse_json::<std::collections::BTreeMap<String, Box<RawValue>>>(data).err(),
    ];
    for error in results.into_iter().flatten() {
        assert_one_line(&error.to_string());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::api::event_record::utc_timestamp(text);
    }
}

/// A config file's text, read and resolved as a run would: the bytes as they are, and the
/// config file they build as choices.
pub fn config_file(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        resolve_config(text);
    }
    resolve_config(&shapes::toml_config(data));
}

fn resolve_config(text: &str) {
    if let Err(e) = crate::config::settings_from_text(text) {
        assert_one_line(&e.to_string());
    }
}

/// Contacts built from arbitrary bytes, through every exporter; every XML output must parse
/// and give back each exported name, every vCard must keep to CRLF and 75 octets.
pub fn exporters(data: &[u8]) {
    let contacts = contacts_from(data);
    let formats = [
        PhoneFormat::Snom(crate::export::snom::SnomFormat::Classic),
        PhoneFormat::Snom(crate::export::snom::SnomFormat::V2),
        PhoneFormat::Grandstream { account_index: 1 },
        PhoneFormat::Yealink,
        PhoneFormat::Fritzbox,
    ];
    let options = PhoneOptions {
        style: NumberStyle::National,
        include_fax: true,
        max_entries: 1000,
        country_code: "49".into(),
    };
    for format in formats {
        // Rendering writes into memory and escapes every text: it has no way to fail.
        let rendered = crate::export::render_phone(&contacts, format, &options)
            .unwrap_or_else(|e| panic!("rendering a {format:?} book failed: {e}"));
        assert_well_formed_xml(&rendered.bytes);
    }
    for version in [vcard::Version::V3, vcard::Version::V4] {
        let cards = crate::export::render_vcards(&contacts, version);
        assert_vcard_lines(&cards);
    }
}

/// Up to a few contacts, their fields separated by 0xFF bytes and the contacts by 0xFE.
fn contacts_from(data: &[u8]) -> Vec<Contact> {
    data.split(|b| *b == 0xFE)
        .take(8)
        .enumerate()
        .map(|(i, chunk)| {
            let fields: Vec<String> = chunk
                .split(|b| *b == 0xFF)
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            let field = |n: usize| fields.get(n).cloned().unwrap_or_default();
            let numbers = (3..fields.len().min(8))
                .map(|n| Number {
                    types: vec![if n % 2 == 0 { "CELL" } else { "FAX" }.to_string()],
                    key: crate::numbers::number_key(&field(n), "49"),
                    value: field(n),
                    local: None,
                })
                .collect();
            Contact {
                uuid: format!("{i}-{}", field(0)),
                name: field(1),
                family: field(2),
                given: field(8),
                organization: field(9),
                note: field(10),
                numbers,
                ..Contact::default()
            }
        })
        .collect()
}

fn assert_one_line(message: &str) {
    assert!(
        !message.contains('\n') && !message.contains('\r'),
        "an error message spans lines: {message:?}"
    );
}

fn assert_well_formed_xml(bytes: &[u8]) {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("exported XML does not parse: {e}"),
        }
        buffer.clear();
    }
}

fn assert_vcard_lines(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    assert!(bytes.ends_with(b"\r\n"), "a vCard file ends with CRLF");
    for line in bytes.split(|b| *b == b'\n') {
        if line.is_empty() {
            continue;
        }
        assert!(line.ends_with(b"\r"), "a vCard line without CRLF");
        assert!(line.len() - 1 <= 75, "a vCard line over 75 octets");
        assert!(
            std::str::from_utf8(line).is_ok(),
            "a line split inside a character"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed corpus in `fuzz/seeds`: real bodies and known traps (one found by cargo fuzz:
    /// a key with a carriage return that ended up in an error's field path). The fuzzers
    /// start from the same files.
    #[test]
    fn every_target_survives_the_seeds() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds");
        let seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .expect("fuzz/seeds")
            .map(|entry| std::fs::read(entry.expect("entry").path()).expect("seed"))
            .collect();
        assert!(seeds.len() >= 17, "the seed corpus is there");
        for seed in &seeds {
            upstream_item(seed);
            upstream_body(seed);
            config_file(seed);
            exporters(seed);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn every_target_survives_random_bytes(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            upstream_item(&data);
            upstream_body(&data);
            config_file(&data);
            exporters(&data);
        }
    }
}
