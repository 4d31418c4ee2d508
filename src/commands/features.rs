//! Which dialect-specific features a command line asks for, so that a feature the configured
//! API lacks is refused before any argument is resolved or anything is sent.

use crate::api::Feature;
use crate::cli::{CallCommand, CommandLine, SettingsCommand};

/// Every feature `command` needs that not every dialect has.
pub(super) fn needed(command: &CommandLine) -> Vec<Feature> {
    match command {
        CommandLine::Callthrough { .. } => vec![Feature::Callthrough],
        CommandLine::Webhook(args) if args.setup.is_some() => vec![Feature::PushApiSettings],
        CommandLine::Settings(settings) => settings_features(settings).into_iter().collect(),
        CommandLine::Call(call) => call_features(call),
        _ => Vec::new(),
    }
}

fn settings_features(command: &SettingsCommand) -> Option<Feature> {
    match command {
        SettingsCommand::Forwarding { .. } => Some(Feature::Forwardings),
        SettingsCommand::GsmCode => Some(Feature::GsmCode),
        SettingsCommand::OutgoingNumber { .. } => Some(Feature::OutgoingNumber),
        SettingsCommand::MobileExtension(_) => Some(Feature::MobileExtensionAdd),
        SettingsCommand::Dnd { .. } => None,
    }
}

fn call_features(command: &CallCommand) -> Vec<Feature> {
    match command {
        CallCommand::Dial {
            register_sip,
            device,
            caller_id,
            ..
        } => [
            (register_sip.is_some(), Feature::CallDialRegisterSip),
            (device.is_some(), Feature::CallDialDevice),
            (caller_id.is_some(), Feature::CallDialCallerId),
        ]
        .into_iter()
        .filter_map(|(asked, feature)| asked.then_some(feature))
        .collect(),
        CallCommand::Record { announce: true, .. } => vec![Feature::CallRecordAnnounce],
        CallCommand::Hold { .. } => vec![Feature::CallHold],
        CallCommand::Mute { .. } => vec![Feature::CallMute],
        CallCommand::Transfer { .. } => vec![Feature::CallTransfer],
        CallCommand::Dtmf { .. } => vec![Feature::CallDtmf],
        CallCommand::Park { .. } => vec![Feature::CallPark],
        CallCommand::Record { .. }
        | CallCommand::List
        | CallCommand::Show { .. }
        | CallCommand::Hangup { .. } => Vec::new(),
    }
}
