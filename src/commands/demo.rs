//! `sipmirror demo`: the two-minute tour. Starts the built-in emulator with a fixed demo
//! account, syncs it into a mirror in DIR, and shows what to do next.

use std::path::Path;

use crate::api::Upstream;
use crate::config::GlobalArgs;
use crate::config::{Api, Settings};
use crate::emulator::{Emulator, EmulatorConfig};
use crate::error::{Error, ExitCode, Result};
use crate::output;
use crate::progress::Progress;
use crate::store::{Access, Mirror, MirrorStatus, WriterLock};
use crate::sync::{self, SyncOptions};

/// The demo account: about 20,000 events over two years and 500 contacts.
const DEMO_SEED: u64 = 2026;
const DEMO_EVENTS: usize = 20_000;
const DEMO_CONTACTS: usize = 500;

pub fn run(dir: &Path, global: &GlobalArgs) -> Result<ExitCode> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create directory {}: {e}", dir.display())))?;
    let db = dir.join("sipmirror.db");
    let emulator = Emulator::start(EmulatorConfig {
        seed: DEMO_SEED,
        events: DEMO_EVENTS,
        contacts: DEMO_CONTACTS,
        // The history ends today, so the reports' "last N days" have something to show.
        anchor_ms: chrono::Utc::now().timestamp_millis(),
        ..EmulatorConfig::default()
    })?;
    // The demo speaks v2, what accounts use today.
    let mut settings = emulator.settings(db.clone(), Api::V2)?;
    settings.json = global.json;
    settings.quiet = global.quiet;
    let lock = WriterLock::acquire(&db, "demo")?;
    let mut mirror = Mirror::open(&db, Access::ReadWrite)?;
    let progress = Progress::new(!global.quiet && !global.json);
    let upstream = Upstream::connect(&settings)?;
    let report = sync::run(
        &mut mirror,
        &settings,
        &upstream,
        &SyncOptions::default(),
        &progress,
    )?;
    let mut exports = write_exports(&mirror, &settings, &dir.join("exports"))?;
    exports.extend(write_pages(&mirror, &settings, dir)?);
    if global.json {
        output::json(&serde_json::json!({
            "db": db.display().to_string(),
            "sync": report,
            "exports": exports.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        }))?;
        return Ok(ExitCode::Ok);
    }
    // The status shown is the one a user will see next: with the demo's own lock released.
    drop(lock);
    let status = MirrorStatus::read(&mirror, 3)?;
    let exported = dir.join("exports");
    let exported = exported.display();
    let shown = db.display();
    let text = format!(
        "sipmirror demo: synced a demo account from the built-in emulator into {shown}\n\
         {summary}\n\n\
         {status}\n\
         Try:\n\
         \x20 sqlite3 {shown} \"SELECT kind, direction, count(*) FROM events GROUP BY 1, 2\"\n\
         \x20 sqlite3 {shown} \"SELECT created_local, from_name, duration_s FROM calls WHERE direction = 'incoming' ORDER BY created DESC LIMIT 5\"\n\
         \x20 sqlite3 {shown} \"SELECT id, from_name, transcription FROM voicemails WHERE read = 0 ORDER BY created DESC LIMIT 5\"\n\
         \x20 sqlite3 {shown} \"SELECT name, organization, primary_number FROM contacts ORDER BY family_name LIMIT 10\"\n\
         \x20 sqlite3 {shown} \"SELECT created_local, from_name, note FROM events WHERE archived = 1 ORDER BY created DESC LIMIT 5\"\n\
         \x20 sipmirror --db {shown} query --list\n\
         \x20 sipmirror --db {shown} serve-phonebook   # then point a phone at http://127.0.0.1:8081/snom.xml\n\n\
         The phone books and vCards are in {exported}/ (snom.xml, snom-v2.xml, phonebook.xml for\n\
         Grandstream, yealink.xml, fritzbox.xml, vcards/).\n\n\
         \x20 sipmirror --db {shown} query missed_calls_not_called_back --param days=30\n\
         \x20 sipmirror --db {shown} status\n\n\
         The last 90 days as charts: {report} (`sipmirror report --html FILE`).\n\
         With Datasette: datasette serve {shown} -m {metadata}\n\n\
         Against your own account: create a personal access token at app.sipgate.com/personal-access-token,\n\
         set SIPGATE_TOKEN_ID and SIPGATE_TOKEN (or token_id and token_command in the config file),\n\
         then run `sipmirror sync` (the README lists the scopes each command needs).\n",
        summary = report.summary(),
        report = dir.join("report.html").display(),
        metadata = dir.join("metadata.json").display(),
        status = super::status::render(&status),
    );
    output::write_bytes(text.as_bytes())?;
    Ok(if report.outcome == "ok" {
        ExitCode::Ok
    } else {
        ExitCode::Partial
    })
}

/// Writes the HTML report of the last 90 days and Datasette's metadata beside the mirror.
fn write_pages(
    mirror: &Mirror,
    settings: &Settings,
    dir: &Path,
) -> Result<Vec<std::path::PathBuf>> {
    let to = chrono::Utc::now()
        .with_timezone(&settings.timezone)
        .date_naive();
    let period = crate::report::Period {
        from: to - chrono::Days::new(89),
        to,
    };
    let page = crate::report::html(
        mirror.conn(),
        period,
        "sipmirror demo account",
        &to.to_string(),
    )?;
    let report = dir.join("report.html");
    crate::fsutil::write_atomic(&report, page.as_bytes())?;
    let (schema, _) = crate::store::schema_doc::documented()?;
    let reports = crate::query::reports()?;
    let metadata = crate::query::datasette::metadata("sipmirror", &reports, &schema);
    let text = serde_json::to_string_pretty(&metadata)
        .map_err(|e| Error::io(format!("metadata.json: {e}")))?;
    let path = dir.join("metadata.json");
    crate::fsutil::write_atomic(&path, text.as_bytes())?;
    Ok(vec![report, path])
}

/// Writes every export format into `dir`, as `sipmirror export` would.
fn write_exports(
    mirror: &Mirror,
    settings: &Settings,
    dir: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>> {
    use crate::export::{self, PhoneFormat, PhoneOptions, contact, files, snom::SnomFormat};
    let contacts = contact::load(
        mirror.conn(),
        &contact::Selection::all(),
        contact::Scope::Everything,
    )?;
    let options = PhoneOptions {
        style: export::NumberStyle::E164,
        include_fax: false,
        max_entries: 1000,
        country_code: settings.country_code.clone(),
    };
    let mut written = Vec::new();
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
        let rendered = export::render_phone(&contacts, format, &options)?;
        let target = dir.join(name);
        crate::fsutil::write_shared_atomic_with(&target, |out| {
            out.write_all(&rendered.bytes)
                .map_err(|e| Error::io(format!("cannot write {}: {e}", target.display())))
        })?;
        written.push(dir.join(name));
    }
    files::write_folder(&dir.join("vcards"), &contacts, export::vcard::Version::V3)?;
    written.push(dir.join("vcards"));
    Ok(written)
}
