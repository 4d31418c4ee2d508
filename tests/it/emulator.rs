//! The built-in emulator of the sipgate API: resources, formats, paging, writes, errors,
//! faults, determinism and the command line.

use crate::common;

use common::{Http, xml_root};
use serde_json::{Value, json};
use sipmirror::emulator::{Emulator, EmulatorConfig, Faults};

fn start(events: usize, contacts: usize) -> (Emulator, Http) {
    let emulator = Emulator::start(EmulatorConfig {
        events,
        contacts,
        ..EmulatorConfig::default()
    })
    .expect("emulator starts");
    let http = Http::new(emulator.base_url());
    (emulator, http)
}

fn first_id(http: &Http, kind: &str) -> String {
    let listing = http.json(&format!("/my/events/{kind}/?limit=1"));
    listing["events"][kind][0]["id"]
        .as_str()
        .expect("id")
        .to_string()
}

#[test]
fn every_resource_answers_in_json_and_xml() {
    let (_emulator, http) = start(400, 30);
    let call = first_id(&http, "calls");
    let fax = first_id(&http, "faxes");
    let sms = first_id(&http, "sms");
    let voicemail = first_id(&http, "voicemails");
    let contacts = http.json("/my/contacts/?limit=1");
    let uuid = contacts["Contacts"]["items"][0]["contactMeta"]["UUID"]
        .as_str()
        .expect("uuid")
        .to_string();
    let resources: Vec<(String, &str)> = vec![
        ("/my/settings/numbers/".into(), "numbers"),
        ("/my/settings/numbers/list/".into(), "numberlist"),
        ("/my/settings/numbers/outgoing/".into(), "outgoingNumbers"),
        ("/my/settings/extensions/".into(), "extensions"),
        ("/my/settings/extensions/e0/".into(), "extension"),
        ("/my/settings/extensions/v0/dnd/".into(), "dnd"),
        ("/my/settings/baseproducttype/".into(), "baseproducttype"),
        (
            "/my/settings/registeredmobiledevices/".into(),
            "registeredMobileDevices",
        ),
        ("/my/settings/mobile/extensions/".into(), "mobileExtensions"),
        (
            "/my/settings/mobile/extensions/unifiedvoicemailgsmcode/".into(),
            "gsmCode",
        ),
        ("/my/events/".into(), "eventlist"),
        ("/w0/events/".into(), "eventlist"),
        ("/my/events/calls/".into(), "events"),
        ("/my/events/faxes/".into(), "events"),
        ("/my/events/sms/".into(), "events"),
        ("/my/events/voicemails/".into(), "events"),
        (format!("/my/events/calls/{call}/"), "call"),
        (format!("/my/events/faxes/{fax}/"), "fax"),
        (format!("/my/events/sms/{sms}/"), "sms"),
        (format!("/my/events/voicemails/{voicemail}/"), "voicemail"),
        (format!("/my/events/calls/{call}/read/"), "property"),
        (format!("/my/events/faxes/{fax}/starred/"), "property"),
        ("/my/sessions/calls/".into(), "sessions"),
        ("/my/contacts/".into(), "Contacts"),
        (format!("/my/contacts/{uuid}/"), "Contacts"),
        ("/my/billing/balance/".into(), "balance"),
    ];
    for (path, root) in &resources {
        let json = http.json(path);
        assert!(
            json.get(root).is_some(),
            "{path}: expected root {root}, got {json}"
        );
        // Without an Accept header the answer is XML with the same root.
        let xml = http.send("GET", path, "").expect("request");
        assert_eq!(xml.status, 200, "{path}");
        assert!(
            xml.headers["content-type"]
                .to_str()
                .expect("type")
                .contains("xml")
        );
        assert_eq!(&xml_root(&xml.body), root, "{path}");
        // And without the trailing slash.
        let bare = http
            .send("GET", path.trim_end_matches('/'), "application/json")
            .expect("request");
        assert_eq!(bare.status, 200, "{path} without slash");
    }
    for vendor in ["snom", "grandstream"] {
        let book = http
            .send("GET", &format!("/my/contacts/phonebook/{vendor}/"), "")
            .expect("request");
        assert_eq!(book.status, 200);
        let root = xml_root(&book.body);
        assert_eq!(
            root,
            if vendor == "snom" {
                "tbook"
            } else {
                "AddressBook"
            }
        );
    }
}

#[test]
fn xml_carries_the_same_data_as_json() {
    let (_emulator, http) = start(200, 40);
    let json = http.json("/my/events/calls/?limit=5");
    let xml = http
        .send("GET", "/my/events/calls/?limit=5", "")
        .expect("request")
        .text();
    for call in json["events"]["calls"].as_array().expect("calls") {
        let id = call["id"].as_str().expect("id");
        assert!(
            xml.contains(&format!("<id>{id}</id>")),
            "{id} missing from XML"
        );
    }
    assert!(xml.contains(&format!(
        "<overallCount>{}</overallCount>",
        json["events"]["overallCount"]
    )));
}

#[test]
fn paging_covers_every_event_once_newest_first() {
    let (_emulator, http) = start(1500, 20);
    for kind in ["calls", "faxes", "sms", "voicemails"] {
        let first = http.json(&format!("/my/events/{kind}/?limit=100"));
        let total = first["events"]["overallCount"]
            .as_u64()
            .expect("overallCount") as usize;
        assert!(total > 0, "{kind}");
        let mut ids = Vec::new();
        let mut offset = 0;
        while offset < total {
            let page = http.json(&format!("/my/events/{kind}/?limit=100&offset={offset}"));
            let items = page["events"][kind].as_array().expect("items");
            assert_eq!(page["events"]["count"].as_u64(), Some(items.len() as u64));
            assert_eq!(page["events"]["overallCount"].as_u64(), Some(total as u64));
            ids.extend(items.iter().map(|e| {
                e["id"]
                    .as_str()
                    .expect("id")
                    .parse::<u64>()
                    .expect("numeric id")
            }));
            offset += 100;
        }
        assert_eq!(ids.len(), total, "{kind}");
        assert!(
            ids.windows(2).all(|w| w[0] > w[1]),
            "{kind}: newest first, no duplicates"
        );
        let past_end = http.json(&format!("/my/events/{kind}/?limit=100&offset={total}"));
        assert_eq!(past_end["events"]["count"], 0);
    }
    // The generic listing pages through all four types.
    let all = http.json("/my/events/?limit=1");
    assert_eq!(all["eventlist"]["overallCount"], 1500);
    assert!(all["eventlist"]["events"][0]["type"].is_string());
}

#[test]
fn period_windows_add_up_to_the_total() {
    let (_emulator, http) = start(2000, 20);
    let total = http.json("/my/events/calls/?limit=1")["events"]["overallCount"]
        .as_u64()
        .expect("total");
    let cut = "2025-11-01T00:00:00";
    let before =
        http.json(&format!("/my/events/calls/?limit=1&period_end={cut}"))["events"]["overallCount"]
            .as_u64()
            .expect("n");
    let after = http.json(&format!("/my/events/calls/?limit=1&period_start={cut}"))["events"]["overallCount"].as_u64().expect("n");
    assert!(before > 0 && after > 0);
    assert_eq!(before + after, total);
    // Every event in a window lies inside it.
    let window = http.json(&format!(
        "/my/events/calls/?limit=1000&period_start=2026-01-01T00:00:00&period_end={}",
        "2026-02-01T00:00:00"
    ));
    for call in window["events"]["calls"].as_array().expect("calls") {
        let created = chrono::DateTime::parse_from_str(
            call["created"].as_str().expect("created"),
            "%Y-%m-%dT%H:%M:%S%.3f%z",
        )
        .expect("timestamp");
        let utc = created.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string();
        assert!(
            utc.as_str() >= "2026-01-01T00:00:00" && utc.as_str() < "2026-02-01T00:00:00",
            "{utc}"
        );
    }
}

#[test]
fn a_listing_without_limit_has_the_100_newest() {
    let (_emulator, http) = start(500, 5);
    let page = http.json("/my/events/");
    assert_eq!(page["eventlist"]["count"], 100);
    assert_eq!(page["eventlist"]["overallCount"], 500);
}

#[test]
fn generated_data_covers_every_case() {
    let (_emulator, http) = start(3000, 80);
    let mut seen = std::collections::BTreeSet::new();
    for kind in ["calls", "faxes", "sms", "voicemails"] {
        let mut offset = 0;
        loop {
            let page = http.json(&format!("/my/events/{kind}/?limit=1000&offset={offset}"));
            let items = page["events"][kind].as_array().expect("items").clone();
            for e in &items {
                seen.insert(format!(
                    "{kind} direction {}",
                    e["direction"].as_str().expect("direction")
                ));
                seen.insert(format!(
                    "location {}",
                    e["location"].as_str().expect("location")
                ));
                if let Some(s) = e["status"].as_str() {
                    seen.insert(format!("status {s}"));
                }
                for optional in [
                    "comment",
                    "extension",
                    "scheduled",
                    "failReason",
                    "transcription",
                    "recordings",
                    "duration",
                    "sent",
                ] {
                    seen.insert(format!("{kind} {optional} {}", e.get(optional).is_some()));
                }
                seen.insert(format!("read {}", e["read"]["value"]));
                seen.insert(format!("starred {}", e["starred"]["value"]));
                seen.insert(format!("labels {}", e["labels"]["value"] != ""));
                seen.insert(format!(
                    "contactFN {}",
                    e["sources"][0].get("contactFN").is_some()
                ));
            }
            if items.len() < 1000 {
                break;
            }
            offset += 1000;
        }
    }
    for expected in [
        "calls direction incoming",
        "calls direction outgoing",
        "calls direction missed_incoming",
        "calls direction missed_outgoing",
        "faxes direction incoming",
        "faxes direction outgoing",
        "sms direction incoming",
        "sms direction outgoing",
        "voicemails direction incoming",
        "location inbox",
        "location sent",
        "location archive",
        "location trash",
        "status sent",
        "status failed",
        "status pending",
        "status scheduled",
        "read true",
        "read false",
        "starred true",
        "starred false",
        "labels true",
        "labels false",
        "contactFN true",
        "contactFN false",
        "calls comment true",
        "calls comment false",
        "calls extension true",
        "calls extension false",
        "calls recordings true",
        "calls recordings false",
        "calls duration true",
        "calls duration false",
        "faxes failReason true",
        "faxes failReason false",
        "voicemails transcription true",
        "voicemails transcription false",
        "sms scheduled true",
        "sms scheduled false",
        "faxes sent true",
        "faxes sent false",
    ] {
        assert!(
            seen.contains(expected),
            "no generated event with {expected}"
        );
    }
    let contacts = http.json("/my/contacts/");
    let items = contacts["Contacts"]["items"].as_array().expect("items");
    assert_eq!(items.len(), 80);
    let text = serde_json::to_string(items).expect("json");
    for hostile in ["&", "<", "\\\"", ",", ";", "\\\\", "\\n", "📞", "ä", "../"] {
        assert!(text.contains(hostile), "no contact with {hostile}");
    }
    let tels = |c: &Value| {
        c["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["entryName"] == "TEL")
            .count()
    };
    assert!(
        items.iter().any(|c| tels(c) == 0),
        "a contact without numbers"
    );
    assert!(
        items.iter().any(|c| tels(c) >= 10),
        "a contact with many numbers"
    );
    assert!(
        items.iter().any(|c| !c["entries"]
            .as_array()
            .expect("e")
            .iter()
            .any(|e| e["entryName"] == "N")),
        "a company-only contact"
    );
    let mut numbers = std::collections::HashMap::new();
    for c in items {
        for e in c["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["entryName"] == "TEL")
        {
            *numbers
                .entry(e["value"].as_str().expect("value").to_string())
                .or_insert(0) += 1;
        }
    }
    assert!(
        numbers.values().any(|&n| n > 1),
        "a number shared between contacts"
    );
    for entry in ["ADR", "GEO", "ORG", "EMAIL", "NOTE", "URL"] {
        assert!(
            text.contains(&format!("\"entryName\":\"{entry}\"")),
            "no {entry} entry"
        );
    }
    let extensions = http.json("/my/settings/extensions/");
    let types: std::collections::BTreeSet<_> = extensions["extensions"]["extensions"]
        .as_array()
        .expect("extensions")
        .iter()
        .map(|e| e["type"].as_str().expect("type").to_string())
        .collect();
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        ["external", "fax", "register", "sms", "voicemail"]
    );
}

#[test]
fn identical_seeds_give_identical_data() {
    let (_a, http_a) = start(700, 60);
    let (_b, http_b) = start(700, 60);
    let strip = |v: Value, base: &str| v.to_string().replace(base, "BASE");
    for path in [
        "/my/events/?limit=1000",
        "/my/contacts/",
        "/my/settings/extensions/",
        "/my/billing/balance/",
    ] {
        assert_eq!(
            strip(http_a.json(path), &http_a.base),
            strip(http_b.json(path), &http_b.base),
            "{path}"
        );
    }
    let other = Emulator::start(EmulatorConfig {
        seed: 7,
        events: 700,
        contacts: 60,
        ..EmulatorConfig::default()
    })
    .expect("start");
    let http_c = Http::new(other.base_url());
    assert_ne!(
        strip(http_a.json("/my/contacts/"), &http_a.base),
        strip(http_c.json("/my/contacts/"), &http_c.base)
    );
}

#[test]
fn writes_are_visible_in_later_reads() {
    let (emulator, http) = start(300, 20);
    let id = first_id(&http, "voicemails");
    let path = format!("/my/events/voicemails/{id}/");
    let before = http.json(&path)["voicemail"].clone();
    let flip_read = !before["read"]["value"].as_bool().expect("read");
    assert_eq!(
        http.send("PUT", &format!("{path}read/?value={flip_read}"), "")
            .expect("put")
            .status,
        204
    );
    // A form body is accepted too.
    let starred = http
        .send_with("PUT", &format!("{path}starred/"), "", |r| {
            r.form(&[("value", "true")])
        })
        .expect("put");
    assert_eq!(starred.status, 204);
    assert_eq!(
        http.send("PUT", &format!("{path}?value=kunde,r%C3%BCckruf"), "")
            .expect("put")
            .status,
        204
    );
    let after = http.json(&path)["voicemail"].clone();
    assert_eq!(after["read"]["value"], flip_read);
    assert_eq!(after["starred"]["value"], true);
    assert_eq!(after["labels"]["value"], "kunde,rückruf");
    assert_eq!(
        http.json(&format!("{path}read/"))["property"]["value"],
        flip_read
    );
    assert_eq!(http.send("DELETE", &path, "").expect("delete").status, 204);
    assert_eq!(
        http.json(&path)["voicemail"]["location"],
        "trash",
        "a deleted event stays listed, in the trash"
    );

    // Settings.
    let dnd = http
        .send_with(
            "POST",
            "/my/settings/extensions/e0/dnd/",
            "application/json",
            |r| r.form(&[("value", "true")]),
        )
        .expect("dnd");
    assert_eq!(dnd.status, 200);
    assert_eq!(
        http.json("/my/settings/extensions/e0/dnd/")["dnd"]["value"],
        true
    );
    let own = http.json("/my/settings/numbers/list/")["numberlist"]["numbers"][2]
        .as_str()
        .expect("number")
        .to_string();
    let set = http
        .send_with("POST", "/my/settings/numbers/outgoing/", "", |r| {
            r.form(&[("extensionId", "e1"), ("number", own.as_str())])
        })
        .expect("set");
    assert_eq!(set.status, 200);
    let outgoing = http.json("/my/settings/numbers/outgoing/");
    assert!(
        outgoing["outgoingNumbers"]["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["extensionId"] == "e1" && i["numberE164"] == own.as_str())
    );
    let added = http
        .send_with(
            "POST",
            "/my/settings/mobile/extensions/",
            "application/json",
            |r| {
                r.form(&[
                    ("phoneNumber", "+491701234567"),
                    ("model", "X"),
                    ("vendor", "Y"),
                    ("firmware", "1.0"),
                ])
            },
        )
        .expect("mobile");
    assert_eq!(added.status, 200);
    assert_eq!(
        http.json("/my/settings/mobile/extensions/")["mobileExtensions"]["items"]
            .as_array()
            .expect("items")
            .len(),
        2
    );

    // Sessions.
    let dialed = http
        .send_with("POST", "/my/sessions/calls/", "application/json", |r| {
            r.form(&[
                ("caller", "sip:e0"),
                ("callee", "tel:+4930123456"),
                ("registerSip", "e0"),
            ])
        })
        .expect("dial")
        .json();
    let session = dialed["Call"]["sessionId"]
        .as_str()
        .expect("session")
        .to_string();
    assert_eq!(
        http.json("/my/sessions/calls/")["sessions"]["calls"]
            .as_array()
            .expect("calls")
            .len(),
        1
    );
    assert_eq!(
        http.send(
            "PUT",
            &format!("/my/sessions/calls/{session}/recording/?value=true"),
            "application/json"
        )
        .expect("rec")
        .json()["Call"]["recording"],
        true
    );
    let member = dialed["Call"]["members"][1]["memberId"]
        .as_str()
        .expect("member")
        .to_string();
    let parked = http
        .send(
            "PUT",
            &format!("/my/sessions/calls/{session}/member/{member}/parking/?value=true"),
            "application/json",
        )
        .expect("park")
        .json();
    assert_eq!(parked["Call"]["members"][1]["parked"], true);
    assert_eq!(
        http.send(
            "DELETE",
            &format!("/my/sessions/calls/{session}/"),
            "application/json"
        )
        .expect("hangup")
        .status,
        200
    );
    assert_eq!(
        http.json("/my/sessions/calls/")["sessions"]["calls"]
            .as_array()
            .expect("calls")
            .len(),
        0
    );
    assert_eq!(
        http.send("GET", &format!("/my/sessions/calls/{session}/"), "")
            .expect("get")
            .status,
        404
    );
    let through = http
        .send_with(
            "POST",
            "/my/sessions/callthrough/",
            "application/json",
            |r| {
                r.form(&[
                    ("sourceNumber", "+491701234567"),
                    ("targetNumber", "+4930123456"),
                ])
            },
        )
        .expect("ct")
        .json();
    assert!(
        through["Callthrough"]["number"]
            .as_str()
            .expect("number")
            .starts_with('+')
    );

    // Sends appear as the newest events of their type.
    let sent = http
        .send_with("POST", "/my/events/sms/", "application/json", |r| {
            r.form(&[
                ("target", "+4915112345678"),
                ("target", "+4930123456"),
                ("content", "Hallo & tschüss"),
            ])
        })
        .expect("sms")
        .json();
    let sms_id = sent["sms"]["id"].as_str().expect("id").to_string();
    let newest = http.json("/my/events/sms/?limit=1");
    assert_eq!(
        newest["events"]["sms"][0]["id"].as_str(),
        Some(sms_id.as_str())
    );
    assert_eq!(newest["events"]["sms"][0]["text"], "Hallo & tschüss");
    assert_eq!(
        newest["events"]["sms"][0]["targets"]
            .as_array()
            .expect("targets")
            .len(),
        2
    );
    let pdf = emulator_pdf();
    let fax = http
        .send_with(
            "POST",
            "/my/events/faxes/?target=%2B4930123456",
            "application/json",
            |r| r.header("Content-Type", "application/pdf").body(pdf),
        )
        .expect("fax")
        .json();
    assert_eq!(fax["fax"]["pageCount"], 2);
    assert_eq!(
        http.json("/my/events/faxes/?limit=1")["events"]["faxes"][0]["id"],
        fax["fax"]["id"]
    );
    drop(emulator);
}

/// A two-page PDF, fetched from the emulator's own fax content of a two-page fax.
fn emulator_pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R >> endobj\n4 0 obj << /Type /Page /Parent 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

#[test]
fn media_downloads_redirect_to_real_content() {
    let (_emulator, http) = start(600, 10);
    let voicemail = first_id(&http, "voicemails");
    let answer = http
        .send(
            "GET",
            &format!("/my/events/voicemails/{voicemail}/content/"),
            "application/json",
        )
        .expect("content");
    assert_eq!(answer.status, 307);
    let location = answer.headers["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert_eq!(
        answer.json()["HandlerResultRedirect"]["url"],
        location.as_str()
    );
    let wav = http
        .client
        .get(&location)
        .send()
        .expect("download")
        .bytes()
        .expect("bytes");
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..12], b"WAVE");
    let fax_listing = http.json("/my/events/faxes/?limit=1");
    let fax = &fax_listing["events"]["faxes"][0];
    let content = http
        .send(
            "GET",
            &format!(
                "/my/events/faxes/{}/content/",
                fax["id"].as_str().expect("id")
            ),
            "",
        )
        .expect("content");
    assert_eq!(content.status, 307);
    let pdf = http
        .client
        .get(content.headers["location"].to_str().expect("location"))
        .send()
        .expect("pdf")
        .bytes()
        .expect("bytes");
    assert!(pdf.starts_with(b"%PDF-") && pdf.windows(5).any(|w| w == b"%%EOF"));
    let preview_url = fax["previews"][0]["small"]["get"]
        .as_str()
        .expect("preview");
    let preview = http
        .client
        .get(format!("{preview_url}?version=2.41.0"))
        .basic_auth("demo", Some("demo"))
        .send()
        .expect("preview");
    assert_eq!(preview.status().as_u16(), 307);
    let png = http
        .client
        .get(preview.headers()["location"].to_str().expect("location"))
        .send()
        .expect("png")
        .bytes()
        .expect("bytes");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // Same event, same bytes.
    let again = http
        .client
        .get(&location)
        .send()
        .expect("download")
        .bytes()
        .expect("bytes");
    assert_eq!(wav, again);
}

#[test]
fn contacts_page_filter_and_vcard() {
    let (_emulator, http) = start(10, 120);
    let all = http.json("/my/contacts/");
    assert_eq!(all["Contacts"]["overallMatches"], 120);
    let page = http.json("/my/contacts/?limit=50&offset=100");
    assert_eq!(
        page["Contacts"]["items"].as_array().expect("items").len(),
        20
    );
    assert_eq!(page["Contacts"]["overallMatches"], 120);
    assert_eq!(
        http.json("/my/contacts/?limit=0")["Contacts"]["items"]
            .as_array()
            .expect("items")
            .len(),
        120
    );
    let filtered = http.json("/my/contacts/?filter=m%C3%BCller");
    let n = filtered["Contacts"]["overallMatches"].as_u64().expect("n");
    assert!(n > 0 && n < 120, "{n}");
    for c in filtered["Contacts"]["items"].as_array().expect("items") {
        assert!(c.to_string().to_lowercase().contains("müller"));
    }
    let vcard = http
        .send("GET", "/my/contacts/", "text/vcard")
        .expect("vcard");
    assert!(
        vcard.headers["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/vcard")
    );
    let text = vcard.text();
    assert_eq!(text.matches("BEGIN:VCARD\r\n").count(), 120);
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "only CRLF line ends"
    );
    assert!(text.split("\r\n").all(|l| l.len() <= 75));
}

#[test]
fn bad_requests_get_the_right_status_and_a_reason() {
    let (emulator, http) = start(100, 5);
    let url = |p: &str| format!("{}{p}", emulator.base_url());
    // Credentials.
    let none = http
        .client
        .get(url("/my/events/?version=2.41.0"))
        .send()
        .expect("send");
    assert_eq!(none.status().as_u16(), 401);
    assert!(none.headers().contains_key("www-authenticate"));
    let wrong = http
        .client
        .get(url("/my/events/?version=2.41.0"))
        .basic_auth("demo", Some("nope"))
        .send()
        .expect("send");
    assert_eq!(wrong.status().as_u16(), 401);
    // Missing version.
    let no_version = http
        .client
        .get(url("/my/events/"))
        .basic_auth("demo", Some("demo"))
        .header("Accept", "application/json")
        .send()
        .expect("send");
    assert_eq!(no_version.status().as_u16(), 400);
    let body: Value = no_version.json().expect("json error body");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("version")
    );
    let cases: &[(&str, &str, u16)] = &[
        ("GET", "/my/events/calls/?limit=abc", 400),
        ("GET", "/my/events/calls/?limit=0", 400),
        ("GET", "/my/events/calls/?limit=5000", 400),
        ("GET", "/my/events/calls/?offset=-1", 400),
        ("GET", "/my/events/calls/?period_start=yesterday", 400),
        (
            "GET",
            "/my/events/calls/?period_start=2026-01-02T00:00:00&period_end=2026-01-01T00:00:00",
            400,
        ),
        ("GET", "/my/events/calls/?complexity=simple", 400),
        ("GET", "/my/events/calls/999/", 404),
        ("GET", "/my/events/calls/notanid/", 404),
        ("GET", "/my/events/letters/", 404),
        (
            "GET",
            "/my/contacts/00000000-0000-0000-0000-000000000000/",
            404,
        ),
        ("GET", "/my/contacts/phonebook/polycom/", 404),
        ("GET", "/my/settings/extensions/zz/", 404),
        ("GET", "/someone-else/events/", 403),
        ("PUT", "/my/events/calls/999/read/?value=true", 404),
        ("PATCH", "/my/events/calls/", 405),
        ("POST", "/my/events/calls/", 405),
        ("DELETE", "/my/billing/balance/", 405),
        ("GET", "/my/no/such/resource/", 404),
    ];
    for (method, path, status) in cases {
        let answer = http.send(method, path, "application/json").expect("send");
        assert_eq!(answer.status, *status, "{method} {path}: {}", answer.text());
        if *status != 405 {
            assert!(
                answer.json()["error"]["message"].is_string(),
                "{method} {path}"
            );
        }
    }
    let call = first_id(&http, "calls");
    let bad_value = http
        .send(
            "PUT",
            &format!("/my/events/calls/{call}/read/?value=maybe"),
            "",
        )
        .expect("send");
    assert_eq!(bad_value.status, 400);
    let bad_label = http
        .send("PUT", &format!("/my/events/calls/{call}/?value=a,,b"), "")
        .expect("send");
    assert_eq!(bad_label.status, 400);
    // Sends.
    let long = "x".repeat(461);
    let too_long = http
        .send_with("POST", "/my/events/sms/", "", |r| {
            r.form(&[("target", "+4930123456"), ("content", long.as_str())])
        })
        .expect("send");
    assert_eq!(too_long.status, 400);
    assert!(too_long.text().contains("460"));
    let ok_460 = http
        .send_with("POST", "/my/events/sms/", "", |r| {
            r.form(&[("target", "+4930123456"), ("content", &"ü".repeat(460))])
        })
        .expect("send");
    assert_eq!(
        ok_460.status, 200,
        "460 characters are allowed even when they are more bytes"
    );
    let bad_number = http
        .send_with("POST", "/my/events/sms/", "", |r| {
            r.form(&[("target", "030-CALL-ME"), ("content", "hi")])
        })
        .expect("send");
    assert_eq!(bad_number.status, 400);
    assert!(bad_number.text().contains("malformed number"));
    let no_target = http
        .send_with("POST", "/my/events/sms/", "", |r| {
            r.form(&[("content", "hi")])
        })
        .expect("send");
    assert_eq!(no_target.status, 400);
    let not_pdf = http
        .send_with("POST", "/my/events/faxes/?target=%2B4930123456", "", |r| {
            r.header("Content-Type", "application/pdf").body("hello")
        })
        .expect("send");
    assert_eq!(not_pdf.status, 400);
    assert!(not_pdf.text().contains("not a PDF"));
    let wrong_type = http
        .send_with("POST", "/my/events/faxes/?target=%2B4930123456", "", |r| {
            r.header("Content-Type", "text/plain").body(emulator_pdf())
        })
        .expect("send");
    assert_eq!(wrong_type.status, 415);
    let bad_dial = http
        .send_with("POST", "/my/sessions/calls/", "", |r| {
            r.form(&[("caller", "0301234"), ("callee", "tel:+4930123456")])
        })
        .expect("send");
    assert_eq!(bad_dial.status, 400);
    // Control interface.
    for (method, path, body) in [
        (
            "POST",
            "/_emulator/events",
            json!({"type": "letters", "count": 1}),
        ),
        ("POST", "/_emulator/events", json!({"count": 1})),
        (
            "PATCH",
            &format!("/_emulator/events/{call}") as &str,
            json!({"location": "moon"}),
        ),
        (
            "PATCH",
            &format!("/_emulator/events/{call}") as &str,
            json!({"colour": "red"}),
        ),
        ("PUT", "/_emulator/faults", json!({"reset_rate": 2.0})),
        (
            "PUT",
            "/_emulator/faults",
            json!({"status_rates": {"200": 0.5}}),
        ),
        ("POST", "/_emulator/contacts", json!({"count": "many"})),
    ] {
        let (status, body) = http.control(method, path, Some(body));
        assert_eq!(status, 400, "{method} {path}");
        assert!(body["error"].is_string());
    }
    assert_eq!(
        http.control("PATCH", "/_emulator/events/1", Some(json!({"read": true})))
            .0,
        404
    );
    assert_eq!(
        http.control("DELETE", "/_emulator/contacts/nope", None).0,
        404
    );
}

#[test]
fn control_interface_changes_the_data_as_the_website_would() {
    let (_emulator, http) = start(100, 10);
    let before = http.json("/my/events/calls/?limit=1")["events"]["overallCount"]
        .as_u64()
        .expect("n");
    let (status, added) = http.control(
        "POST",
        "/_emulator/events",
        Some(json!({"type": "calls", "count": 3})),
    );
    assert_eq!(status, 200);
    let ids: Vec<String> = added["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_str().expect("id").to_string())
        .collect();
    assert_eq!(ids.len(), 3);
    let listing = http.json("/my/events/calls/?limit=3");
    let newest: Vec<&str> = listing["events"]["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        newest,
        ids.iter().rev().map(String::as_str).collect::<Vec<_>>(),
        "added events are the newest"
    );
    assert_eq!(listing["events"]["overallCount"].as_u64(), Some(before + 3));
    let id = &ids[0];
    let (status, _) = http.control(
        "PATCH",
        &format!("/_emulator/events/{id}"),
        Some(json!({"read": true, "starred": true, "labels": "a,b", "location": "archive"})),
    );
    assert_eq!(status, 200);
    let call = http.json(&format!("/my/events/calls/{id}/"))["call"].clone();
    assert_eq!(
        (
            call["read"]["value"].clone(),
            call["starred"]["value"].clone()
        ),
        (json!(true), json!(true))
    );
    assert_eq!(call["labels"]["value"], "a,b");
    assert_eq!(call["location"], "archive");
    assert_eq!(
        http.control("DELETE", &format!("/_emulator/events/{id}"), None)
            .0,
        200
    );
    assert_eq!(
        http.send("GET", &format!("/my/events/calls/{id}/"), "")
            .expect("get")
            .status,
        404
    );
    assert_eq!(
        http.json("/my/events/calls/?limit=1")["events"]["overallCount"].as_u64(),
        Some(before + 2)
    );

    let (_, added) = http.control("POST", "/_emulator/contacts", Some(json!({"count": 2})));
    let uuid = added["uuids"][0].as_str().expect("uuid").to_string();
    assert_eq!(http.json("/my/contacts/")["Contacts"]["overallMatches"], 12);
    let (status, _) = http.control(
        "PATCH",
        &format!("/_emulator/contacts/{uuid}"),
        Some(json!({"given": "Änne", "family": "Neumann", "numbers": ["+49 30 5550001"]})),
    );
    assert_eq!(status, 200);
    let contact = http.json(&format!("/my/contacts/{uuid}/"));
    let text = contact.to_string();
    assert!(
        text.contains("Änne Neumann") && text.contains("+49 30 5550001"),
        "{text}"
    );
    assert_eq!(
        http.control("DELETE", &format!("/_emulator/contacts/{uuid}"), None)
            .0,
        200
    );
    assert_eq!(http.json("/my/contacts/")["Contacts"]["overallMatches"], 11);
    let (_, summary) = http.control("GET", "/_emulator/summary", None);
    assert_eq!(summary["contacts"], 11);
}

#[test]
fn stats_count_api_requests_only() {
    let (emulator, http) = start(50, 5);
    http.json("/my/events/calls/?limit=10");
    http.json("/my/events/calls/?limit=10&offset=10");
    http.json("/my/contacts/");
    http.control("GET", "/_emulator/summary", None);
    let (_, stats) = http.control("GET", "/_emulator/stats", None);
    assert_eq!(stats["requests"]["GET /my/events/calls/"], 2);
    assert_eq!(stats["requests"]["GET /my/contacts/"], 1);
    assert_eq!(stats["requests_total"], 3);
    assert_eq!(emulator.stats().count("GET /my/events/calls/"), 2);
    assert_eq!(http.control("POST", "/_emulator/stats/reset", None).0, 200);
    assert_eq!(
        http.control("GET", "/_emulator/stats", None).1["requests_total"],
        0
    );
}

fn set_faults(http: &Http, faults: Value) {
    let (status, body) = http.control("PUT", "/_emulator/faults", Some(faults));
    assert_eq!(status, 200, "{body}");
}

#[test]
fn each_fault_does_what_it_says() {
    let (emulator, http) = start(200, 5);
    let path = "/my/events/calls/?limit=50";
    let clean = http
        .send("GET", path, "application/json")
        .expect("clean")
        .body;

    set_faults(
        &http,
        json!({"status_rates": {"429": 1.0}, "retry_after_s": 3}),
    );
    let limited = http.send("GET", path, "application/json").expect("answer");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.headers["retry-after"], "3");
    set_faults(&http, json!({"status_rates": {"500": 1.0}}));
    assert_eq!(http.send("GET", path, "").expect("answer").status, 500);

    set_faults(&http, json!({"reset_rate": 1.0}));
    assert!(
        http.send("GET", path, "").is_err(),
        "a reset connection is an error"
    );

    set_faults(&http, json!({"truncate_rate": 1.0}));
    assert!(
        http.send("GET", path, "application/json").is_err(),
        "a truncated body is an error"
    );

    set_faults(&http, json!({"malformed_rate": 1.0}));
    let malformed = http
        .send("GET", path, "application/json")
        .expect("complete answer");
    assert_eq!(malformed.status, 200);
    assert!(serde_json::from_slice::<Value>(&malformed.body).is_err());

    set_faults(&http, json!({"wrong_type_rate": 1.0}));
    let wrong = http
        .send("GET", path, "application/json")
        .expect("complete answer")
        .json();
    assert!(
        wrong["events"]["calls"][0]["id"].is_number(),
        "the id became a number"
    );

    set_faults(&http, json!({"slow_body_ms": 1}));
    assert_eq!(
        http.send("GET", path, "application/json")
            .expect("slow")
            .body,
        clean,
        "a slow body arrives whole"
    );

    set_faults(&http, json!({"latency_ms": 150}));
    let started = std::time::Instant::now();
    http.send("GET", path, "").expect("late");
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));

    // A lost response: the SMS is sent, but the client never hears so.
    set_faults(&http, json!({"lose_response_rate": 1.0}));
    let before = http.control("GET", "/_emulator/summary", None).1["events"]["sms"]
        .as_u64()
        .expect("n");
    let lost = http.send_with("POST", "/my/events/sms/", "", |r| {
        r.form(&[("target", "+4930123456"), ("content", "once")])
    });
    assert!(lost.is_err());
    let after = http.control("GET", "/_emulator/summary", None).1["events"]["sms"]
        .as_u64()
        .expect("n");
    assert_eq!(
        after,
        before + 1,
        "the upstream acted before dropping the connection"
    );

    assert_eq!(http.control("DELETE", "/_emulator/faults", None).0, 200);
    assert_eq!(
        http.send("GET", path, "application/json")
            .expect("clean again")
            .body,
        clean
    );
    // The same through the library.
    emulator
        .set_faults(Faults {
            reset_rate: 1.0,
            ..Faults::default()
        })
        .expect("valid");
    assert!(http.send("GET", path, "").is_err());
    assert!(
        emulator
            .set_faults(Faults {
                truncate_rate: -1.0,
                ..Faults::default()
            })
            .is_err()
    );
}

#[test]
fn the_emulator_command_serves_until_stopped() {
    use std::io::BufRead;
    let home = common::TestHome::new();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sipmirror"))
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--events",
            "50",
            "--contacts",
            "5",
            "--status-rate",
            "503=0.0",
        ])
        .current_dir(home.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let first = std::io::BufReader::new(stdout)
        .lines()
        .next()
        .expect("a line")
        .expect("utf-8");
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("url in first line")
        .to_string();
    let http = Http::new(&url);
    assert_eq!(
        http.json("/my/events/?limit=100")["eventlist"]["overallCount"],
        50
    );
    child.kill().expect("kill");
    let _ = child.wait();
    // The history ends at --now (by default: now, so "the last 14 days" has calls).
    let newest = newest_event_of_emulator(&home, &["--now", "2025-01-02"]);
    assert!(newest.starts_with("2025-01-0"), "{newest}");
    let newest = newest_event_of_emulator(&home, &[]);
    let newest_time = chrono::DateTime::parse_from_str(&newest, "%Y-%m-%dT%H:%M:%S%.f%z")
        .unwrap_or_else(|e| panic!("{newest}: {e}"));
    let age = chrono::Utc::now().signed_duration_since(newest_time);
    assert!(age.num_days() < 5, "{newest}");

    for bad in [
        &["emulator", "--status-rate", "500"][..],
        &["emulator", "--reset-rate", "3"],
        &["emulator", "--listen", "nonsense"],
        &["emulator", "--now", "yesterday"],
    ] {
        let output = home.cmd().args(bad).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
        common::one_line_stderr(&output);
    }
}

#[test]
fn the_history_span_is_configurable() {
    let emulator = Emulator::start(EmulatorConfig {
        events: 300,
        contacts: 1,
        span_days: 30,
        ..EmulatorConfig::default()
    })
    .expect("start");
    let http = Http::new(emulator.base_url());
    let all = http.json("/my/events/?limit=1000");
    let oldest = all["eventlist"]["events"]
        .as_array()
        .expect("events")
        .last()
        .expect("an event")["created"]
        .as_str()
        .expect("created")
        .to_string();
    let oldest =
        chrono::DateTime::parse_from_str(&oldest, "%Y-%m-%dT%H:%M:%S%.3f%z").expect("timestamp");
    let anchor = chrono::DateTime::from_timestamp_millis(sipmirror::emulator::DEFAULT_ANCHOR_MS)
        .expect("anchor");
    let days = (anchor - oldest.with_timezone(&chrono::Utc)).num_days();
    assert!(
        (20..=40).contains(&days),
        "300 events over about 30 days, got {days}"
    );
}

/// Starts `sipmirror emulator` with `args` and reads the time of its newest event.
fn newest_event_of_emulator(home: &common::TestHome, args: &[&str]) -> String {
    /// Stops the emulator however the test ends.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut cmd = home.std_cmd();
    cmd.args([
        "emulator",
        "--listen",
        "127.0.0.1:0",
        "--events",
        "200",
        "--span-days",
        "20",
    ])
    .args(args);
    let (child, first) = common::spawn_server(cmd);
    let _stop = Stop(child);
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("url in first line");
    let events = Http::new(url).json("/my/events/?limit=1");
    events["eventlist"]["events"][0]["created"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
