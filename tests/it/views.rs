//! The public views: names resolved through the contacts, local times in the configured zone.

use crate::common;

use chrono::TimeZone;
use common::{Synced, one_line_stderr};
use serde_json::json;

fn config(synced: &Synced, timezone: &str) {
    synced.home.write_config(
        &format!("timezone = \"{timezone}\"\n[http]\nretry_base = \"1ms\"\n"),
        0o600,
    );
}

/// `created_local` of some events against the emulator's own creation times.
fn check_local_times(synced: &Synced, tz: chrono_tz::Tz) {
    let created: Vec<(i64, i64)> = synced.emulator.with_state(|s| {
        s.events
            .iter()
            .step_by(37)
            .map(|e| (e.id as i64, e.created_ms))
            .collect()
    });
    let db = synced.db();
    for (id, ms) in created {
        let local: String = db
            .query_row(
                "SELECT created_local FROM events WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .expect("event");
        let want = tz
            .timestamp_millis_opt(ms)
            .single()
            .expect("time")
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        assert_eq!(local, want, "event {id} in {tz}");
    }
}

#[test]
fn local_times_follow_the_configured_zone() {
    let synced = Synced::start(600, 5);
    config(&synced, "Europe/Berlin");
    synced.sync_ok(&[]);
    check_local_times(&synced, chrono_tz::Europe::Berlin);
    // A new zone rewrites every event's local time on the next sync.
    config(&synced, "America/New_York");
    synced.sync_ok(&[]);
    check_local_times(&synced, chrono_tz::America::New_York);
    // A zone that does not exist is a configuration error.
    config(&synced, "Europe/Atlantis");
    let output = synced.sync(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line_stderr(&output).contains("IANA time zone"));
}

#[test]
fn names_are_resolved_through_the_contacts() {
    let synced = Synced::start(600, 5);
    synced.sync_ok(&[]);
    let db = synced.db();
    // An incoming call from a number upstream knew no name for.
    let (id, number): (i64, String) = db
        .query_row(
            "SELECT e.id, e.from_number FROM events e
              JOIN mirror_event_endpoints s ON s.event_id = e.id AND s.role = 'source' AND s.position = 0
             WHERE e.kind = 'call' AND e.from_name IS NULL AND e.from_number <> ''
               AND coalesce(s.contact_fn, '') = ''
             LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a call from an unknown number");
    let uuid: String = db
        .query_row("SELECT uuid FROM contacts LIMIT 1", [], |r| r.get(0))
        .expect("a contact");
    // The view shows E.164 with +; the number joins a contact, written nationally; only the
    // contacts are synced again.
    assert!(number.starts_with('+'), "{number}");
    let number = number.trim_start_matches('+').to_string();
    let national = format!("0{}", number.strip_prefix("49").unwrap_or(&number));
    let written = if number.starts_with("49") {
        national
    } else {
        format!("+{number}")
    };
    synced.control(
        "PATCH",
        &format!("/_emulator/contacts/{uuid}"),
        Some(json!({ "numbers": [written] })),
    );
    synced.sync_ok(&["--only", "contacts"]);
    let (name, contact_name): (Option<String>, String) = db
        .query_row(
            "SELECT e.from_name, c.name FROM events e, contacts c WHERE e.id = ?1 AND c.uuid = ?2",
            rusqlite::params![id, uuid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("names");
    assert_eq!(name.as_deref(), Some(contact_name.as_str()));
    // The full-text index follows the contact's new number.
    let hits: i64 = db
        .query_row(
            "SELECT count(*) FROM search_contacts s JOIN mirror_contacts c ON c.rowid = s.rowid
             WHERE search_contacts MATCH ?1 AND c.uuid = ?2",
            rusqlite::params![format!("\"{number}\""), uuid],
            |r| r.get(0),
        )
        .expect("search");
    assert_eq!(hits, 1);
}
