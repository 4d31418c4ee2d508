//! Entry points for the fuzz targets in `fuzz/` (cargo fuzz), kept in the library so they are
//! compiled, and run over a seed corpus, by the ordinary `cargo test`.
//!
//! Each function takes arbitrary bytes and panics only when sipmirror breaks one of its
//! promises: no panic on any input, errors on one line, exported XML that parses and vCards
//! within the line-length and line-ending rules. Upstream bodies are JSON: the client asks
//! for JSON and never parses upstream XML, so XML is fuzzed where sipmirror writes it.

use serde_json::value::RawValue;

use crate::export::contact::{Contact, Number};
use crate::export::{NumberStyle, PhoneFormat, PhoneOptions, vcard};
use crate::records::EventKind;

/// An upstream event or contact item, through the same conversions the sync uses (both
/// dialects').
pub fn upstream_item(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
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

/// A whole upstream body: the envelopes of listings, settings, balance and calls.
pub fn upstream_body(data: &[u8]) {
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

/// A config file's text, read and resolved as a run would.
pub fn config_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
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
        let Ok(rendered) = crate::export::render_phone(&contacts, format, &options) else {
            continue;
        };
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

    /// Seeds: real bodies and known traps. The fuzzer starts from the same files (fuzz/seeds).
    const SEEDS: &[&[u8]] = &[
        br#"{"id":"12","created":"2024-01-01T10:00:00.000+0100","read":{"value":true}}"#,
        br#"{"id":"12","created":"not a time"}"#,
        br#"{"id":"x","created":"2024-01-01T10:00:00.000+0100"}"#,
        br#"{"id":"99999999999999999999999","created":"2024-01-01T10:00:00.000+0100"}"#,
        br#"{"entries":[{"entryName":"TEL","value":"+49 30 1","types":["FAX"]}],"contactMeta":{"UUID":"u"}}"#,
        br#"{"entries":[{"entryName":"N","value":null}],"contactMeta":{}}"#,
        // v2 history entries and contacts.
        br#"{"id":"100001235","type":"CALL","created":"2020-09-14T09:00:00Z","source":"anonymous","duration":1e308,"labels":null}"#,
        br#"{"id":"h7","type":"FAX","created":"2020-09-14T09:00:00.5+02:00","faxStatusType":"SENDING","endpoints":[{"type":"ROUTED"}],"connectionIds":[""]}"#,
        br#"{"id":"b3d9","name":"]0;x","numbers":[{"number":"+49 30 1","type":null}],"organization":[[]],"addresses":[{}]}"#,
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        b"timezone = \"Mars/Olympus\"\n",
        b"country_code = \"\"\n[sync]\nlookback = \"-1d\"\n",
        b"[media]\nfetch = \"all\"\nmax_age = \"99999999999999999d\"\n",
        b"password = \"x\"\npassword_command = \"echo\"\n",
        b"a\xffb\xff\xff<&>\"'\xff+49 (30) 12-34\xff\x00\x1b\xff*21#\xfe\xff\xffZ\xc3\xa4hler\xff../x",
        "\u{1F600}\u{FEFF}\u{202E}\u{0085}".as_bytes(),
        // Found by cargo fuzz (upstream_body): a key with a carriage return ended up in the
        // error's field path and broke the one-line message.
        b"{  \":\\recording[-: \":{\"\n",
    ];

    #[test]
    fn every_target_survives_the_seeds() {
        for seed in SEEDS {
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
