//! `sipmirror settings dnd|forwarding|outgoing-number|mobile-extension add|gsm-code`: changes
//! the account's settings upstream (online), then refreshes the mirror's settings tables so
//! that `status` and SQL show the new state at once.
//!
//! | verb | classic | v2 |
//! |---|---|---|
//! | dnd | an extension (`/settings/extensions/{id}/dnd/`) | a device (`PUT /devices/{id}`) |
//! | forwarding | no | a phoneline's list, read and replaced whole |
//! | outgoing-number, mobile-extension add, gsm-code | yes | no |

use crate::api::Upstream;
use crate::cli::{ForwardingCommand, MobileExtensionCommand, SettingsCommand};
use crate::config::Settings;
use crate::error::{Error, ErrorKind, ExitCode, Result};
use crate::output;
use crate::progress::Progress;
use crate::records::settings::Forwarding;
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
    /// v2: replace a phoneline's forwardings.
    Forwardings {
        phoneline: String,
        forwardings: Vec<Forwarding>,
    },
}

pub fn run(settings: &Settings, command: &SettingsCommand) -> Result<ExitCode> {
    // Features the configured API lacks were refused before this (`features.rs`).
    let change = match command {
        SettingsCommand::Forwarding {
            phoneline,
            change: None,
        } => return show_forwardings(settings, &path_id(phoneline, "phoneline")?),
        SettingsCommand::Forwarding {
            phoneline,
            change: Some(ForwardingCommand::Set { forwardings }),
        } => {
            // sipgate's description: `maxItems: 3`.
            if forwardings.len() > MAX_FORWARDINGS {
                return Err(Error::usage(format!(
                    "a phoneline takes at most {MAX_FORWARDINGS} forwardings; {} given",
                    forwardings.len()
                )));
            }
            Change::Forwardings {
                phoneline: path_id(phoneline, "phoneline")?,
                forwardings: forwardings
                    .iter()
                    .map(|f| forwarding(f, &settings.country_code))
                    .collect::<Result<_>>()?,
            }
        }
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
        Change::Forwardings {
            phoneline,
            forwardings,
        } => {
            // Read, then replace: the user of the phoneline comes from the read, and what was
            // there is said, so that nothing is replaced unseen.
            let (user, before) = client.forwardings(phoneline).await?;
            client
                .set_forwardings(&user, phoneline, forwardings)
                .await?;
            Ok(format!(
                "forwardings of {phoneline}: {} (were: {})",
                describe_forwardings(forwardings),
                describe_forwardings(&before)
            ))
        }
    }
}

/// The most forwardings a phoneline takes.
const MAX_FORWARDINGS: usize = 3;

/// An extension id such as `p1`: a letter and digits.
fn is_line_id(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && text.len() > 1
        && chars.all(|c| c.is_ascii_digit())
}

/// `DESTINATION:SECONDS[:on|off]`; DESTINATION a number, `voicemail` or a line id (`p1`).
fn forwarding(raw: &str, country_code: &str) -> Result<Forwarding> {
    let refuse = |why: &str| {
        Error::usage(format!(
            "forwarding {raw:?}: {why}; write DESTINATION:SECONDS[:on|off], e.g. +4915799912345:20"
        ))
    };
    let mut parts = raw.split(':');
    let destination = parts.next().unwrap_or_default();
    let timeout = parts
        .next()
        .ok_or_else(|| refuse("no seconds"))?
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|s| *s <= 600)
        .ok_or_else(|| refuse("the seconds are 0 to 600"))?;
    let active = match parts.next().map(str::trim) {
        None | Some("on") => true,
        Some("off") => false,
        Some(_) => return Err(refuse("the last part is on or off")),
    };
    if parts.next().is_some() {
        return Err(refuse("too many parts"));
    }
    // A number, the user's voicemail, or another of the account's lines (`p1`), as sipgate's
    // answers name them.
    let destination = destination.trim();
    let destination = if destination == "voicemail" || is_line_id(destination) {
        destination.to_string()
    } else {
        phone_number(destination, "forwarding destination", country_code)?
    };
    Ok(Forwarding {
        destination,
        timeout,
        active,
    })
}

fn describe_forwardings(list: &[Forwarding]) -> String {
    if list.is_empty() {
        return "none".to_string();
    }
    list.iter()
        .map(|f| {
            let off = if f.active { "" } else { ", off" };
            format!("{} after {} s{off}", f.destination, f.timeout)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `settings forwarding PHONELINE`: the list as upstream has it now.
fn show_forwardings(settings: &Settings, phoneline: &str) -> Result<ExitCode> {
    let upstream = Upstream::connect(settings)?;
    let (_, list) = upstream.block_on(upstream.client.forwardings(phoneline))?;
    if settings.json {
        output::json(&list)?;
    } else {
        output::line(&format!(
            "forwardings of {phoneline}: {}",
            describe_forwardings(&list)
        ))?;
    }
    Ok(ExitCode::Ok)
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
