//! The typed client against the emulator: every GET resource parses, errors are typed.

use sipmirror::api::events::{EventKind, PageRequest};
use sipmirror::api::{ApiErrorKind, Client};
use sipmirror::config::Settings;
use sipmirror::emulator::{Emulator, EmulatorConfig};

fn client(emulator: &Emulator, password: &str) -> Client {
    let dir = std::env::temp_dir().join("unused.db");
    let mut settings =
        Settings::for_local(dir, emulator.base_url(), "demo", password).expect("settings");
    settings.http.retry_base = std::time::Duration::from_millis(1);
    Client::new(&settings.connection, &settings.http).expect("client")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn every_get_resource_parses() {
    let emulator = Emulator::start(EmulatorConfig {
        events: 400,
        contacts: 30,
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    let client = client(&emulator, "demo");
    runtime().block_on(async {
        let window = PageRequest { period_start: None, period_end: None, offset: 0, limit: 50, archived: None };
        let (items, total) = client.all_events_page(&window).await.expect("all events");
        assert_eq!(total, 400);
        assert_eq!(items.len(), 50);
        for kind in EventKind::ALL {
            let page = client.event_page(kind, &window).await.expect("listing");
            let first = page.items.first().expect("an event");
            let id: i64 = serde_json::from_str::<serde_json::Value>(first.get()).expect("json")["id"]
                .as_str()
                .expect("id")
                .parse()
                .expect("numeric");
            let (raw, event) = client.event(kind, id).await.expect("one event");
            assert_eq!(event.id, id.to_string());
            assert!(raw.contains(&event.created));
            let read = client.flag(kind, id, "read").await.expect("read flag");
            assert_eq!(Some(read), event.read.map(|f| f.value));
            client.flag(kind, id, "starred").await.expect("starred flag");
        }
        let page = client.contact_page(0, 0).await.expect("contacts");
        assert_eq!(page.overall_matches, 30);
        let uuid = serde_json::from_str::<serde_json::Value>(page.items[0].get()).expect("json")["contactMeta"]["UUID"]
            .as_str()
            .expect("uuid")
            .to_string();
        let (_, contact) = client.contact(&uuid).await.expect("one contact");
        assert_eq!(contact.meta.uuid, uuid);
        let settings = client.settings().await.expect("settings");
        assert_eq!(settings.extensions.len(), 7);
        assert!(!settings.number_list.is_empty());
        assert!(client.dnd("e2").await.expect("dnd"), "e2 is generated with DND on");
        assert!(!client.dnd("e0").await.expect("dnd"));
        let (_, balance) = client.balance().await.expect("balance");
        assert_eq!(balance.currency.as_deref(), Some("EUR"));
        assert!(client.gsm_code().await.expect("gsm code").starts_with("**"));
        assert!(client.sessions().await.expect("sessions").is_empty());
    });
    emulator.with_state(|state| {
        state.dial("sip:e0", "tel:+4930123456");
    });
    runtime().block_on(async {
        let sessions = client.sessions().await.expect("sessions");
        assert_eq!(sessions.len(), 1);
        let one = client
            .session(&sessions[0].session_id)
            .await
            .expect("one session");
        assert_eq!(one, sessions[0]);
    });
}

#[test]
fn errors_are_typed() {
    let emulator = Emulator::start(EmulatorConfig {
        events: 10,
        contacts: 2,
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    runtime().block_on(async {
        let good = client(&emulator, "demo");
        let missing = good
            .event(EventKind::Call, 1)
            .await
            .expect_err("no such event");
        assert_eq!(missing.kind, ApiErrorKind::NotFound);
        assert!(
            missing.message.contains("GET /my/events/calls/1/"),
            "{}",
            missing.message
        );
        let missing = good.session("nope").await.expect_err("no such session");
        assert_eq!(missing.kind, ApiErrorKind::NotFound);
        let bad = client(&emulator, "wrong");
        let refused = bad.balance().await.expect_err("bad credentials");
        assert_eq!(refused.kind, ApiErrorKind::Unauthorized);
        assert!(!refused.message.contains("wrong"));
    });
    emulator
        .set_faults(sipmirror::emulator::Faults {
            reset_rate: 1.0,
            ..Default::default()
        })
        .expect("faults");
    runtime().block_on(async {
        let good = client(&emulator, "demo");
        let before = good.requests();
        let cut = good.balance().await.expect_err("resets");
        assert_eq!(cut.kind, ApiErrorKind::Transient);
        assert!(
            cut.message.contains("gave up after 5 attempts"),
            "{}",
            cut.message
        );
        assert_eq!(good.requests() - before, 5, "bounded attempts");
    });
}
