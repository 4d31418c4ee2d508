//! `sipmirror export vcard|snom|grandstream|yealink|fritzbox`: files from the mirror's
//! contacts, written atomically. What an export leaves out is said on stderr.

use crate::cli::{ExportCommand, PhoneArgs};
use crate::config::Settings;
use crate::error::{Error, ExitCode, Result};
use crate::export::files::{write_atomic, write_folder};
use crate::export::{self, PhoneFormat, PhoneOptions, contact};
use crate::output;
use crate::store::{Access, Mirror};

pub(crate) fn phone_options(settings: &Settings, args: &PhoneArgs) -> PhoneOptions {
    PhoneOptions {
        style: args.style,
        include_fax: args.include_fax,
        max_entries: args.max_entries,
        country_code: settings.country_code.clone(),
    }
}

pub fn run(settings: &Settings, command: &ExportCommand) -> Result<ExitCode> {
    let mirror = Mirror::open(&settings.db_path, Access::ReadOnly)?;
    let (format, out, phone) = match command {
        ExportCommand::Vcard {
            out,
            single,
            vcard_version,
            filter,
        } => {
            let contacts =
                contact::load(mirror.conn(), filter.as_deref(), contact::Scope::Everything)?;
            if let Some(file) = single {
                write_atomic(file, &export::render_vcards(&contacts, *vcard_version))?;
                return done(
                    settings,
                    &format!("{} contacts to {}", contacts.len(), file.display()),
                );
            }
            let Some(dir) = out else {
                return Err(Error::usage(
                    "export vcard needs --out DIR or --single FILE",
                ));
            };
            let report = write_folder(dir, &contacts, *vcard_version)?;
            return done(
                settings,
                &format!(
                    "{} contacts in {}: {} written, {} unchanged, {} removed",
                    contacts.len(),
                    dir.display(),
                    report.written,
                    report.unchanged,
                    report.removed
                ),
            );
        }
        ExportCommand::Snom {
            out,
            snom_format,
            phone,
        } => (PhoneFormat::Snom(*snom_format), out, phone),
        ExportCommand::Grandstream {
            out,
            account_index,
            phone,
        } => (
            PhoneFormat::Grandstream {
                account_index: *account_index,
            },
            out,
            phone,
        ),
        ExportCommand::Yealink { out, phone } => (PhoneFormat::Yealink, out, phone),
        ExportCommand::Fritzbox { out, phone } => (PhoneFormat::Fritzbox, out, phone),
    };
    let contacts = contact::load(
        mirror.conn(),
        phone.filter.as_deref(),
        contact::Scope::PhoneBook,
    )?;
    let rendered = export::render_phone(&contacts, format, &phone_options(settings, phone))?;
    write_atomic(out, &rendered.bytes)?;
    for note in &rendered.notes {
        eprintln!("sipmirror: warning: {note}");
    }
    done(
        settings,
        &format!("{} contacts to {}", rendered.entries, out.display()),
    )
}

fn done(settings: &Settings, what: &str) -> Result<ExitCode> {
    if !settings.quiet {
        output::line(&format!("exported {what}"))?;
    }
    Ok(ExitCode::Ok)
}
