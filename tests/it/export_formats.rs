//! The exporters' output: golden files per format on a fixed set of contacts, and properties
//! over arbitrary contact data checked with independent parsers (quick-xml for XML, `calcard`
//! for vCard 3.0 and 4.0, `vcard4` for 4.0).
//!
//! Regenerate the golden files with `UPDATE_GOLDEN=1 cargo test --test it export_formats::`.

use proptest::prelude::*;
use sipmirror::export::contact::{Address, Contact, Number};
use sipmirror::export::snom::SnomFormat;
use sipmirror::export::vcard::Version;
use sipmirror::export::{self, NumberStyle, PhoneFormat, PhoneOptions};

fn number(value: &str, key: Option<&str>, types: &[&str]) -> Number {
    Number {
        value: value.into(),
        local: None,
        key: key.map(Into::into),
        types: types.iter().map(|t| t.to_string()).collect(),
    }
}

/// A small book with the cases that break phone books.
fn fixed_contacts() -> Vec<Contact> {
    vec![
        Contact {
            uuid: "4fbe8971-0bc3-424c-9c26-36c3e1eff6b1".into(),
            name: "Dr. Jürgen Müller-Lüdenscheidt".into(),
            family: "Müller-Lüdenscheidt".into(),
            given: "Jürgen".into(),
            prefixes: "Dr.".into(),
            organization: "Beispiel GmbH & Co. KG".into(),
            org_units: vec!["Vertrieb".into()],
            numbers: vec![
                number("+49 30 1234567", Some("49301234567"), &["WORK"]),
                number("+49 170 1234567", Some("491701234567"), &["CELL"]),
                number("+49 30 1234568", Some("49301234568"), &["WORK", "FAX"]),
            ],
            emails: vec![(vec!["WORK".into()], "j.mueller@example.de".into())],
            addresses: vec![Address {
                types: vec!["WORK".into()],
                parts: [
                    "".into(),
                    "".into(),
                    "Hauptstraße 1".into(),
                    "Berlin".into(),
                    "".into(),
                    "10115".into(),
                    "Deutschland".into(),
                ],
            }],
            note: "Zeile 1\nZeile 2, mit Komma; und Semikolon".into(),
            geo: Some(("52.520008".into(), "13.404954".into())),
            ..Contact::default()
        },
        Contact {
            uuid: "../../etc/passwd".into(),
            name: "Tom & Jerry <Cartoons> \"Inc\"\u{1}".into(),
            family: "Tom & Jerry".into(),
            numbers: vec![number("030 / 555-0100", Some("49305550100"), &["HOME"])],
            ..Contact::default()
        },
        Contact {
            uuid: "only-company".into(),
            organization: "Bäckerei Östlich".into(),
            name: "Bäckerei Östlich".into(),
            numbers: vec![
                // The same number as Jürgen's office, written differently: Jürgen keeps it.
                number("+49 (30) 123 45 67", Some("49301234567"), &["WORK"]),
                number("**21#", None, &[]),
            ],
            ..Contact::default()
        },
        Contact {
            uuid: "no-number".into(),
            name: "Zoë Ohnenummer".into(),
            family: "Ohnenummer".into(),
            given: "Zoë".into(),
            emails: vec![(vec![], "zoe@example.org".into())],
            ..Contact::default()
        },
        Contact {
            uuid: "no-name".into(),
            numbers: vec![number("+44 20 7946 0000", Some("442079460000"), &["CELL"])],
            ..Contact::default()
        },
    ]
}

fn options() -> PhoneOptions {
    PhoneOptions {
        style: NumberStyle::E164,
        include_fax: false,
        max_entries: 1000,
        country_code: "49".into(),
    }
}

const PHONE_FORMATS: [(&str, PhoneFormat); 5] = [
    ("snom.xml", PhoneFormat::Snom(SnomFormat::Classic)),
    ("snom-v2.xml", PhoneFormat::Snom(SnomFormat::V2)),
    (
        "grandstream.xml",
        PhoneFormat::Grandstream { account_index: 1 },
    ),
    ("yealink.xml", PhoneFormat::Yealink),
    ("fritzbox.xml", PhoneFormat::Fritzbox),
];

fn golden(name: &str, actual: &[u8]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        expected == actual,
        "{name} differs from the golden file:\n{}",
        String::from_utf8_lossy(actual)
    );
}

#[test]
fn golden_files() {
    // In no particular order: the phone books sort by family name, then given name.
    let contacts = fixed_contacts();
    for (name, format) in PHONE_FORMATS {
        let rendered = export::render_phone(&contacts, format, &options()).expect("render");
        golden(name, &rendered.bytes);
    }
    golden(
        "contacts-3.0.vcf",
        &export::render_vcards(&contacts, Version::V3),
    );
    golden(
        "contacts-4.0.vcf",
        &export::render_vcards(&contacts, Version::V4),
    );
}

#[test]
fn what_is_left_out_is_said() {
    let rendered =
        export::render_phone(&fixed_contacts(), PhoneFormat::Yealink, &options()).expect("render");
    let notes = rendered.summary.notes.join("\n");
    assert!(notes.contains("1 fax numbers"), "{notes}");
    assert!(notes.contains("already has"), "{notes}");
    assert!(notes.contains("Zoë Ohnenummer"), "{notes}");
    let capped = export::render_phone(
        &fixed_contacts(),
        PhoneFormat::Snom(SnomFormat::Classic),
        &PhoneOptions {
            max_entries: 3,
            ..options()
        },
    )
    .expect("render");
    assert!(
        capped
            .summary
            .notes
            .iter()
            .any(|n| n.contains("limit of 3")),
        "{:?}",
        capped.summary.notes
    );
}

/// Element texts (and attribute values) of an XML document, parsed strictly.
fn xml_texts(bytes: &[u8]) -> Vec<(String, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut texts = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    // Text arrives in pieces (plain runs and entity references): joined per element.
    let mut pending = String::new();
    let flush = |pending: &mut String, stack: &[String], texts: &mut Vec<(String, String)>| {
        if !pending.trim().is_empty() {
            texts.push((stack.last().cloned().unwrap_or_default(), pending.clone()));
        }
        pending.clear();
    };
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(Event::Start(e)) => {
                flush(&mut pending, &stack, &mut texts);
                stack.push(e.name().into_inner().to_string());
            }
            Ok(Event::End(_)) => {
                flush(&mut pending, &stack, &mut texts);
                stack.pop();
            }
            Ok(Event::Empty(e)) => {
                flush(&mut pending, &stack, &mut texts);
                for attribute in e.attributes() {
                    let attribute = attribute.expect("attribute");
                    let value = attribute
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .expect("attribute value");
                    texts.push((attribute.key.into_inner().to_string(), value.to_string()));
                }
            }
            Ok(Event::Text(t)) => pending.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) => {
                let name = r.xml10_content().to_string();
                let resolved = r.resolve_char_ref().expect("character reference");
                pending.push_str(&match (name.as_str(), resolved) {
                    (_, Some(c)) => c.to_string(),
                    ("amp", _) => "&".into(),
                    ("lt", _) => "<".into(),
                    ("gt", _) => ">".into(),
                    ("quot", _) => "\"".into(),
                    ("apos", _) => "'".into(),
                    (other, _) => panic!("unexpected entity {other}"),
                });
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("malformed XML ({e}): {}", String::from_utf8_lossy(bytes)),
        }
        buffer.clear();
    }
    texts
}

fn arbitrary_contact() -> impl Strategy<Value = Contact> {
    let text = "\\PC{0,40}";
    let any_text = ".{0,20}";
    (
        "[a-z0-9./-]{1,20}",
        text,
        any_text,
        text,
        proptest::collection::vec(
            (
                "[0-9 +()/-]{1,20}",
                proptest::option::of("[1-9][0-9]{5,12}"),
                0..4usize,
            ),
            0..6,
        ),
        proptest::option::of("[a-z]{1,8}@[a-z]{1,8}\\.de"),
        any_text,
    )
        .prop_map(|(uuid, given, family, org, numbers, email, note)| Contact {
            uuid,
            name: format!("{given} {family}").trim().to_string(),
            given,
            family,
            organization: org,
            numbers: numbers
                .into_iter()
                .map(|(value, key, t)| Number {
                    value,
                    local: None,
                    key,
                    types: vec![["WORK", "HOME", "CELL", "FAX"][t].to_string()],
                })
                .collect(),
            emails: email.map(|e| (vec![], e)).into_iter().collect(),
            note,
            ..Contact::default()
        })
}

/// Contacts whose numbers are already in E.164 (what the E.164 style writes as it is) and
/// differ from every other contact's, with visible names of letters and spaces (a contact
/// without a name is shown by its first number, which this oracle leaves aside).
fn e164_contacts() -> impl Strategy<Value = Vec<Contact>> {
    proptest::collection::vec(
        (
            "[A-Za-zÄÖÜäöüß]{1,8}( {1,2}[A-Za-zÄÖÜäöüß]{1,8}){0,2}",
            0..12usize,
            0..4usize,
        ),
        0..10,
    )
    .prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (name, count, kind))| Contact {
                uuid: format!("c{i}"),
                name: name.trim().to_string(),
                numbers: (0..count)
                    .map(|j| {
                        let value = format!("+4930{i:03}{j:03}");
                        Number {
                            key: Some(value[1..].to_string()),
                            value,
                            local: None,
                            types: vec![["WORK", "HOME", "CELL", "FAX"][(kind + j) % 4].into()],
                        }
                    })
                    .collect(),
                ..Contact::default()
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
    ))]

    #[test]
    fn phone_books_parse_and_give_back_names_and_numbers(
        contacts in proptest::collection::vec(arbitrary_contact(), 0..12)
    ) {
        let mut options = options();
        options.include_fax = true;
        for (_, format) in PHONE_FORMATS {
            let rendered = export::render_phone(&contacts, format, &options).expect("render");
            let texts = xml_texts(&rendered.bytes);
            for (tag, text) in &texts {
                prop_assert!(!text.contains(|c: char| c.is_control()), "{tag}: {text:?}");
            }
        }
    }

    /// The expectation comes from the contacts alone, not from the exporter: numbers already
    /// in E.164 and different in every contact are written as they are, each contact's first
    /// ones up to the format's limit per contact, and nothing else; a visible name comes back
    /// where the format has one name field.
    #[test]
    fn phone_books_hold_each_contacts_numbers_and_no_other(
        contacts in e164_contacts()
    ) {
        let mut options = options();
        options.include_fax = true;
        for (_, format) in PHONE_FORMATS {
            let per_contact = match format {
                PhoneFormat::Yealink => 3,
                PhoneFormat::Fritzbox => 9,
                _ => usize::MAX,
            };
            let rendered = export::render_phone(&contacts, format, &options).expect("render");
            let texts = xml_texts(&rendered.bytes);
            let values: std::collections::HashSet<&str> =
                texts.iter().map(|(_, t)| t.as_str()).collect();
            let all_numbers: std::collections::HashSet<&str> = contacts
                .iter()
                .flat_map(|c| c.numbers.iter().map(|n| n.value.as_str()))
                .collect();
            // snom has no fax type: its books never keep fax numbers.
            let dialable = |n: &&Number| {
                !(matches!(format, PhoneFormat::Snom(_)) && n.types.iter().any(|t| t == "FAX"))
            };
            for contact in &contacts {
                let kept: Vec<&Number> = contact.numbers.iter().filter(dialable).collect();
                for number in &contact.numbers {
                    let position = kept.iter().position(|k| std::ptr::eq(*k, number));
                    let expected = position.is_some_and(|i| i < per_contact);
                    let shown = values.contains(number.value.as_str());
                    prop_assert_eq!(shown, expected, "{:?}: {}", format, number.value);
                }
                if matches!(format, PhoneFormat::Yealink) && !kept.is_empty() {
                    // Shown with single spaces between its words.
                    let name = contact.name.split_whitespace().collect::<Vec<_>>().join(" ");
                    prop_assert!(values.contains(name.as_str()), "{name:?} missing");
                }
            }
            for (tag, text) in &texts {
                if text.starts_with("+49") && text[1..].chars().all(|c| c.is_ascii_digit()) {
                    prop_assert!(all_numbers.contains(text.as_str()), "{tag}: {text} from nowhere");
                }
            }
        }
    }

    #[test]
    fn vcards_parse_with_independent_parsers(
        contacts in proptest::collection::vec(arbitrary_contact(), 1..6)
    ) {
        for version in [Version::V3, Version::V4] {
            for contact in &contacts {
                let card = sipmirror::export::vcard::render(contact, version);
                prop_assert!(card.ends_with("\r\n"));
                for line in card.split("\r\n") {
                    prop_assert!(line.len() <= 75, "{line:?}");
                    prop_assert!(!line.contains('\n') && !line.contains('\r'));
                }
                let parsed = calcard::vcard::VCard::parse(&card)
                    .map_err(|e| TestCaseError::fail(format!("calcard: {e:?}\n{card}")))?;
                let fn_ = parsed
                    .property(&calcard::vcard::VCardProperty::Fn)
                    .and_then(|e| e.values.first())
                    .and_then(|v| v.as_text())
                    .unwrap_or_default()
                    .to_string();
                prop_assert!(!fn_.is_empty());
                // The numbers as the contact has them: typed (3.0), or as a tel: URI of the
                // normalized number where there is one (4.0).
                let mut tels: Vec<String> = parsed
                    .properties(&calcard::vcard::VCardProperty::Tel)
                    .filter_map(|p| p.values.first().and_then(|v| v.as_text()).map(str::to_string))
                    .collect();
                let mut expected: Vec<String> = contact
                    .numbers
                    .iter()
                    .map(|n| match (&n.key, version) {
                        (Some(key), Version::V4) => format!("tel:+{key}"),
                        _ => n.value.trim().to_string(),
                    })
                    .collect();
                tels.sort();
                expected.sort();
                prop_assert_eq!(tels, expected);
                if version == Version::V4 {
                    let strict = vcard4::parse(&card)
                        .map_err(|e| TestCaseError::fail(format!("vcard4: {e}\n{card}")))?;
                    prop_assert_eq!(strict.len(), 1);
                    // vcard4 unescapes backslashes and newlines only in part; calcard checks
                    // those, vcard4 the rest.
                    if !fn_.contains('\\') && !fn_.contains('\n') {
                        // vcard4 leaves some `\,` escaped (at the end of a value).
                        prop_assert_eq!(strict[0].formatted_name[0].value.replace('\\', ""), fn_.clone());
                    }
                    prop_assert_eq!(strict[0].tel.len(), contact.numbers.len());
                }
            }
        }
    }
}
