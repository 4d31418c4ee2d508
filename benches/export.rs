//! Export speed and memory: 50,000 contacts written in every format.
//!
//! Run with `cargo bench --bench export`. Builds a mirror of 50,000 contacts from the
//! in-process emulator, then re-runs itself on that mirror (so the emulator and the sync do not
//! count towards the export's memory) and prints, per format, the time to load the contacts and
//! write the file, and the process's peak memory. `EXPORT_BENCH_CONTACTS` changes the size.

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
    let started = Instant::now();
    let mut count = 0;
    contact::each(conn, Scope::Everything, None, |_| {
        count += 1;
        Ok(())
    })
    .expect("read");
    println!(
        "export: read {count} contacts in {:.0} ms (peak so far {} MiB)",
        started.elapsed().as_secs_f64() * 1000.0,
        common::status_kib("VmHWM:") / 1024
    );
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
        let started = Instant::now();
        let path = out.path().join(name);
        let summary = files::write_atomic_with(&path, |file| {
            Ok(export::phone_book(conn, None, format, &options, file)?.1)
        })
        .expect("write");
        println!(
            "export: {name:<14} {:>6.0} ms ({} entries, {} KiB; peak so far {} MiB)",
            started.elapsed().as_secs_f64() * 1000.0,
            summary.entries,
            std::fs::metadata(&path).map_or(0, |m| m.len()) / 1024,
            common::status_kib("VmHWM:") / 1024
        );
    }
    let started = Instant::now();
    let path = out.path().join("all.vcf");
    files::write_atomic_with(&path, |file| {
        Ok(export::vcard_file(conn, None, export::vcard::Version::V3, file)?.1)
    })
    .expect("write");
    println!(
        "export: {:<14} {:>6.0} ms ({} KiB; peak so far {} MiB)",
        "vcard single",
        started.elapsed().as_secs_f64() * 1000.0,
        std::fs::metadata(&path).map_or(0, |m| m.len()) / 1024,
        common::status_kib("VmHWM:") / 1024
    );
    for (name, version) in [
        ("vcards 3.0", export::vcard::Version::V3),
        ("vcards 4.0", export::vcard::Version::V4),
    ] {
        let started = Instant::now();
        let dir = out.path().join(name.replace(' ', "-"));
        let (_, report) = export::vcard_folder(conn, None, &dir, version).expect("folder");
        println!(
            "export: {name:<14} {:>6.0} ms ({} files; peak so far {} MiB)",
            started.elapsed().as_secs_f64() * 1000.0,
            report.written,
            common::status_kib("VmHWM:") / 1024
        );
    }
    println!(
        "export: peak memory {} MiB",
        common::status_kib("VmHWM:") / 1024
    );
}
