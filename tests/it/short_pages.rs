//! Pages shorter than asked, totals that are wrong, and entries deleted while a listing pages
//! never lose events silently: in both dialects, the mirror ends equal to upstream, or the run
//! says what may be missing (exit 3) and the next run closes the gap.

use crate::common;

use common::{BOTH, Dialect, Synced, one_line_stderr};
use sipmirror::emulator::Faults;

fn faults(s: &Synced, faults: Faults) {
    s.emulator.set_faults(faults).expect("faults");
}

/// Syncs a fresh account of `events` through `dialect` under `fault`: the first run alone
/// makes the mirror equal to upstream. Then it lists it completely again under the same
/// fault: still equal, and nothing was marked deleted.
fn converges_under(dialect: Dialect, events: usize, fault: Faults) {
    let s = Synced::start(events, 10);
    faults(&s, fault.clone());
    dialect.sync_ok(&s, &[]);
    dialect.assert_equal(&s);
    faults(&s, fault.clone());
    dialect.sync_ok(&s, &["--full"]);
    dialect.assert_equal(&s);
    let gone: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM mirror_events WHERE upstream_state = 'deleted'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(gone, 0, "{dialect:?} under {fault:?}");
}

#[test]
fn capped_pages_lose_nothing() {
    for dialect in BOTH {
        for cap in [1, 7, 250, 999] {
            // A cap of one entry makes a request per event: a smaller account says as much.
            let events = if cap == 1 { 300 } else { 2500 };
            let fault = Faults {
                page_cap: Some(cap),
                ..Faults::default()
            };
            converges_under(dialect, events, fault);
        }
    }
}

#[test]
fn a_cap_that_appears_in_the_middle_of_a_run_loses_nothing() {
    // The first page of each listing is whole: the client plans pages of 1,000, and then every
    // later page comes with 250.
    let fault = Faults {
        page_cap: Some(250),
        page_cap_spares_first: true,
        ..Faults::default()
    };
    for dialect in BOTH {
        converges_under(dialect, 3000, fault.clone());
    }
}

#[test]
fn a_total_that_is_too_small_does_not_end_the_listing() {
    // Every listing holds more than this (v2's archived ones too).
    let fault = Faults {
        overall_count: Some(5),
        ..Faults::default()
    };
    for dialect in BOTH {
        converges_under(dialect, 3000, fault.clone());
    }
}

#[test]
fn pages_longer_than_asked_lose_nothing_and_double_nothing() {
    let fault = Faults {
        page_extra: 130,
        ..Faults::default()
    };
    for dialect in BOTH {
        converges_under(dialect, 3500, fault.clone());
    }
}

#[test]
fn a_total_that_is_too_large_is_searched_not_walked_and_reported() {
    for dialect in BOTH {
        let s = Synced::start(3000, 10);
        faults(
            &s,
            Faults {
                overall_count: Some(100_000),
                ..Faults::default()
            },
        );
        let output = dialect.sync(&s, &[]);
        assert_eq!(output.status.code(), Some(3), "{dialect:?}");
        let line = one_line_stderr(&output);
        assert!(
            line.contains("announced") && line.contains("next sync lists everything"),
            "{line}"
        );
        // Finding the end costs a few requests per listing, not one per announced page.
        let requests = s.requests();
        assert!(
            requests < 40 * dialect.listings() + 100,
            "{dialect:?}: {requests} requests"
        );
        // Nothing that exists is missing, and nothing was marked deleted on a false total.
        dialect.assert_equal(&s);
        // Once upstream is sane again, the next run (a complete listing) is clean.
        s.emulator.reset_stats();
        dialect.sync_ok(&s, &[]);
        let full_listing_requests = s.requests();
        assert!(
            full_listing_requests > dialect.listings() * 2,
            "{dialect:?}: a complete listing"
        );
        dialect.assert_equal(&s);
    }
}

#[test]
fn an_empty_page_before_the_announced_end_stops_the_walk() {
    for dialect in BOTH {
        let s = Synced::start(400, 10);
        faults(
            &s,
            Faults {
                overall_count: Some(90_000_000),
                ..Faults::default()
            },
        );
        let output = dialect.sync(&s, &["--only", "sms"]);
        assert_eq!(output.status.code(), Some(3), "{dialect:?}");
        assert!(s.requests() < 200, "{dialect:?}: {} requests", s.requests());
    }
}

#[test]
fn events_deleted_while_a_listing_pages_shift_nothing_past_the_pager() {
    for dialect in BOTH {
        let s = Synced::start(5000, 10);
        // The five newest calls go once every listing's first page was served: the older
        // pages, fetched after, are shifted by five.
        faults(
            &s,
            Faults {
                delete_newest_calls_after: Some([dialect.listings(), 5]),
                ..Faults::default()
            },
        );
        dialect.sync_ok(&s, &[]);
        dialect.assert_equal(&s);
    }
}

#[test]
fn contacts_under_a_cap_lose_nothing() {
    for dialect in BOTH {
        let s = Synced::start(20, 180);
        faults(
            &s,
            Faults {
                page_cap: Some(7),
                ..Faults::default()
            },
        );
        dialect.sync_ok(&s, &["--only", "contacts"]);
        let count: i64 = s
            .db()
            .query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))
            .expect("count");
        assert_eq!(count, 180, "{dialect:?}");
    }
}
