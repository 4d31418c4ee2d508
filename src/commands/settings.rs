//! `sipmirror settings dnd|outgoing-number|mobile-extension add|gsm-code`: changes the
//! account's settings upstream (online), then refreshes the mirror's settings tables so that
//! `status` and SQL show the new state at once.

use crate::api::Upstream;
use crate::cli::{MobileExtensionCommand, SettingsCommand};
use crate::config::Settings;
use crate::error::{Error, ErrorKind, ExitCode, Result};
use crate::output;
use crate::progress::Progress;
use crate::store::{Access, Mirror, WriterLock};
use crate::sync::{self, Stream, SyncOptions};
use crate::validate::{path_id, phone_number};

/// A change with its arguments checked.
enum Change {
    Dnd {
        extension: String,
        on: bool,
    },
    OutgoingNumber {
        extension: String,
        number: String,
    },
    MobileExtension {
        phone: String,
        model: String,
        vendor: String,
        firmware: String,
    },
}

pub fn run(settings: &Settings, command: &SettingsCommand) -> Result<ExitCode> {
    settings.require_classic("sipmirror settings")?;
    let change = match command {
        SettingsCommand::GsmCode => return gsm_code(settings),
        SettingsCommand::Dnd { extension, state } => Change::Dnd {
            extension: path_id(extension, "extension")?,
            on: state.is_on(),
        },
        SettingsCommand::OutgoingNumber { extension, number } => Change::OutgoingNumber {
            extension: path_id(extension, "extension")?,
            number: phone_number(number, "number", &settings.country_code)?,
        },
        SettingsCommand::MobileExtension(MobileExtensionCommand::Add {
            phone,
            model,
            vendor,
            firmware,
        }) => Change::MobileExtension {
            phone: phone_number(phone, "--phone", &settings.country_code)?,
            model: text_field(model, "--model")?,
            vendor: text_field(vendor, "--vendor")?,
            firmware: text_field(firmware, "--firmware")?,
        },
    };
    let upstream = Upstream::connect(settings)?;
    let done = upstream.block_on(apply(&upstream, &change))?;
    let refresh = refresh_mirror(settings, &upstream);
    if settings.json {
        output::json(&serde_json::json!({
            "done": done,
            "mirror_refreshed": refresh.is_ok(),
        }))?;
    } else if !settings.quiet {
        output::line(&done)?;
    }
    if let Err(e) = refresh {
        eprintln!(
            "sipmirror: the change is made upstream, but the mirror was not refreshed: {e}; the next sync brings it"
        );
    }
    Ok(ExitCode::Ok)
}

async fn apply(upstream: &Upstream, change: &Change) -> Result<String> {
    let client = &upstream.client;
    match change {
        Change::Dnd { extension, on } => {
            client.set_dnd(extension, *on).await?;
            let state = if *on { "on" } else { "off" };
            Ok(format!("Do Not Disturb of {extension} is {state}"))
        }
        Change::OutgoingNumber { extension, number } => {
            client.set_outgoing_number(extension, number).await?;
            Ok(format!("{extension} now calls out as {number}"))
        }
        Change::MobileExtension {
            phone,
            model,
            vendor,
            firmware,
        } => {
            let added = client
                .add_mobile_extension(phone, model, vendor, firmware)
                .await
                .map_err(|e| {
                    e.into_error(
                        "",
                        "it may have been added all the same: see `sipmirror sync --only settings` and the mirror's mobile extensions",
                    )
                })?;
            Ok(format!("mobile extension {} added for {phone}", added.id))
        }
    }
}

/// Free text sent to upstream: not empty, one line, not absurdly long.
fn text_field(raw: &str, what: &str) -> Result<String> {
    let value = raw.trim();
    if value.is_empty() || value.chars().count() > 100 || value.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "{what} {raw:?}: give 1 to 100 characters on one line"
        )));
    }
    Ok(value.to_string())
}

fn gsm_code(settings: &Settings) -> Result<ExitCode> {
    let upstream = Upstream::connect(settings)?;
    let code = upstream.block_on(upstream.client.gsm_code())?;
    if settings.json {
        output::json(&serde_json::json!({ "gsm_code": code }))?;
    } else {
        output::line(&code)?;
    }
    Ok(ExitCode::Ok)
}

/// Pulls the settings stream into the mirror. Skipped (with the reason) when a sync holds the
/// lock: that sync or the next one brings the change.
fn refresh_mirror(settings: &Settings, upstream: &Upstream) -> Result<()> {
    let _lock = WriterLock::acquire(&settings.db_path, "settings")?;
    let mut mirror = Mirror::open(&settings.db_path, Access::Existing)?;
    let options = SyncOptions {
        only: vec![Stream::Settings],
        ..SyncOptions::default()
    };
    let report = sync::run(
        &mut mirror,
        settings,
        upstream,
        &options,
        &Progress::new(false),
    )?;
    match report.failed_streams().next() {
        Some(failed) => Err(Error::new(
            ErrorKind::Transient,
            failed.error.clone().unwrap_or_else(|| "failed".into()),
        )),
        None => Ok(()),
    }
}
