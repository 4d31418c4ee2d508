//! `sipmirror export vcard|snom|grandstream|yealink|fritzbox`: files from the mirror's
//! contacts, written atomically. What an export leaves out is said on stderr.

use crate::cli::{ContactScope, ExportCommand, PhoneArgs};
use crate::config::Settings;
use crate::error::{Error, ExitCode, Result};
use crate::export::{self, PhoneFormat, PhoneOptions, Selection};
use crate::fsutil::write_shared_atomic_with;
use crate::output;
use crate::store::{Access, Mirror};

/// The contacts an export takes. Scopes exist only where the API that feeds the mirror has
/// them: asking for them elsewhere is refused rather than answered with every contact or none.
pub(crate) fn selection(
    mirror: &Mirror,
    text: Option<&str>,
    scopes: &[ContactScope],
) -> Result<Selection> {
    let feeding = crate::store::runs::feeding_api(mirror.conn())?.map(crate::api::Capabilities::of);
    if let Some(api) = feeding.filter(|api| !scopes.is_empty() && !api.contacts_have_scopes()) {
        return Err(Error::usage(format!(
            "--scope: this mirror is fed by {}, whose contacts have no scope",
            api.api_name()
        )));
    }
    Ok(Selection {
        text: text.map(str::to_string),
        scopes: scopes
            .iter()
            .map(|s| s.upstream_name().to_string())
            .collect(),
    })
}

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
            scope,
        } => {
            let selection = selection(&mirror, filter.as_deref(), scope)?;
            if let Some(file) = single {
                let count = write_shared_atomic_with(file, |out| {
                    Ok(export::vcard_file(mirror.conn(), &selection, *vcard_version, out)?.1)
                })?;
                return done(settings, &format!("{count} contacts to {}", file.display()));
            }
            let Some(dir) = out else {
                return Err(Error::usage(
                    "export vcard needs --out DIR or --single FILE",
                ));
            };
            let (count, report) =
                export::vcard_folder(mirror.conn(), &selection, dir, *vcard_version)?;
            return done(
                settings,
                &format!(
                    "{count} contacts in {}: {} written, {} unchanged, {} removed",
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
    let options = phone_options(settings, phone);
    let selection = selection(&mirror, phone.filter.as_deref(), &phone.scope)?;
    let summary = write_shared_atomic_with(out, |file| {
        Ok(export::phone_book(mirror.conn(), &selection, format, &options, file)?.1)
    })?;
    for note in &summary.notes {
        // Warnings are not errors: `-q` keeps them quiet. Contact names in them are upstream's
        // text, so they go through the same escaping as every message.
        if !settings.quiet {
            eprintln!("sipmirror: warning: {}", crate::error::one_line(note));
        }
    }
    done(
        settings,
        &format!("{} contacts to {}", summary.entries, out.display()),
    )
}

fn done(settings: &Settings, what: &str) -> Result<ExitCode> {
    if !settings.quiet {
        output::line(&format!("exported {what}"))?;
    }
    Ok(ExitCode::Ok)
}
