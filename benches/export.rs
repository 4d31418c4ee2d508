//! Export speed and memory: 50,000 contacts written in every format.
//!
//! Run with `cargo bench --bench export`. Builds a mirror of 50,000 contacts from the
//! in-process emulator, then re-runs itself on that mirror (so the emulator and the sync do not
//! count towards the export's memory) and prints, per format, the minimum and median time of
//! `EXPORT_BENCH_RUNS` (5) writes, as `sipmirror export` does them, and the process's peak
//! memory. `EXPORT_BENCH_CONTACTS` changes the size; `EXPORT_BENCH_DB=FILE` runs on a mirror
//! that exists.

mod common;

use std::time::Instant;

use sipmirror::api::Upstream;
use sipmirror::config::Settings;
use sipmirror::emulator::{Emulator, EmulatorConfig};
use sipmirror::export::contact::{self, Scope};
use sipmirror::export::snom::SnomFormat;
use sipmirror::export::{self, NumberStyle, PhoneFormat, PhoneOptions, files};
use sipmirror::progress::Progress;
use sipmirror::store::{Access, Mirror};
use sipmirror::sync::{self, Stream, SyncOptions};

fn main() {
    common::start();
    if let Ok(db) = std::env::var("EXPORT_BENCH_DB") {
        return export_all(std::path::Path::new(&db));
    }
    let count: usize = std::env::var("EXPORT_BENCH_CONTACTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let emulator = Emulator::start(EmulatorConfig {
        events: 10,
        contacts: count,
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bench.db");
    let settings =
        Settings::for_local(db.clone(), emulator.base_url(), "demo", "demo").expect("settings");
    let upstream = Upstream::connect(&settings).expect("upstream");
    {
        let mut mirror = Mirror::open(&db, Access::ReadWrite).expect("mirror");
        sync::run(
            &mut mirror,
            &settings,
            &upstream,
            &SyncOptions {
                only: vec![Stream::Contacts],
                ..SyncOptions::default()
            },
            &Progress::hidden(),
        )
        .expect("sync");
    }
    let status = std::process::Command::new(std::env::current_exe().expect("exe"))
        .env("EXPORT_BENCH_DB", &db)
        .status()
        .expect("export run");
    assert!(status.success());
}

/// Runs `write` `RUNS` times and prints its minimum and median time and the peak memory so
/// far. The minimum is the figure to compare: on a shared machine noise only ever adds.
fn timed(what: &str, mut write: impl FnMut() -> String) {
    let mut times = Vec::new();
    let mut detail = String::new();
    for _ in 0..runs() {
        let started = Instant::now();
        detail = write();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "export: {what:<16} min {:>5.0} ms, median {:>5.0} ms ({detail}; peak so far {} MiB)",
        times[0],
        times[times.len() / 2],
        common::status_kib("VmHWM:") / 1024
    );
}

/// How often each format is written: `EXPORT_BENCH_RUNS`, default 5.
fn runs() -> usize {
    std::env::var("EXPORT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5)
}

fn size_kib(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len()) / 1024
}

fn export_all(db: &std::path::Path) {
    let out = tempfile::tempdir().expect("tempdir");
    let mirror = Mirror::open(db, Access::ReadOnly).expect("mirror");
    let conn = mirror.conn();
    let options = PhoneOptions {
        style: NumberStyle::E164,
        include_fax: false,
        max_entries: usize::MAX,
        country_code: "49".into(),
    };
    timed("read contacts", || {
        let mut count = 0;
        contact::each(conn, Scope::Everything, &contact::Selection::all(), |_| {
            count += 1;
            Ok(())
        })
        .expect("read");
        format!("{count} contacts")
    });
    for (name, format) in [
        ("snom.xml", PhoneFormat::Snom(SnomFormat::Classic)),
        ("snom-v2.xml", PhoneFormat::Snom(SnomFormat::V2)),
        (
            "phonebook.xml",
            PhoneFormat::Grandstream { account_index: 0 },
        ),
        ("yealink.xml", PhoneFormat::Yealink),
        ("fritzbox.xml", PhoneFormat::Fritzbox),
    ] {
        let path = out.path().join(name);
        timed(name, || {
            let summary = files::write_atomic_with(&path, |file| {
                Ok(export::phone_book(conn, &export::Selection::all(), format, &options, file)?.1)
            })
            .expect("write");
            format!("{} entries, {} KiB", summary.entries, size_kib(&path))
        });
    }
    let path = out.path().join("all.vcf");
    timed("vcard single", || {
        let count = files::write_atomic_with(&path, |file| {
            Ok(export::vcard_file(
                conn,
                &export::Selection::all(),
                export::vcard::Version::V3,
                file,
            )?
            .1)
        })
        .expect("write");
        format!("{count} cards, {} KiB", size_kib(&path))
    });
    for (name, version) in [
        ("vcards-3.0", export::vcard::Version::V3),
        ("vcards-4.0", export::vcard::Version::V4),
    ] {
        // The first write of a folder creates a file per contact (the file system's cost,
        // once); every later run only compares, which is what a timer-driven export does.
        let dir = out.path().join(name);
        let started = Instant::now();
        let (_, report) =
            export::vcard_folder(conn, &export::Selection::all(), &dir, version).expect("folder");
        println!(
            "export: {name:<16} first write {:.0} ms ({} files; peak so far {} MiB)",
            started.elapsed().as_secs_f64() * 1000.0,
            report.written,
            common::status_kib("VmHWM:") / 1024
        );
        timed(&format!("{name} again"), || {
            let (_, report) = export::vcard_folder(conn, &export::Selection::all(), &dir, version)
                .expect("folder");
            format!("{} unchanged", report.unchanged)
        });
    }
    println!(
        "export: peak memory {} MiB",
        common::status_kib("VmHWM:") / 1024
    );
}
