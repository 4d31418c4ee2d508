//! v2 account resources: `/account`, `/numbers`, `/users`, and per user its devices,
//! phonelines (with their forwardings), fax lines and SMS extensions; `/voicemails`, `/groups`
//! and `/balance`. They fill the same settings tables as the classic API: every device, line
//! and box is an extension (`mirror_extensions.type` says which).

use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::api::events::null_as_empty;
use crate::api::{ApiError, ApiErrorKind, Client, parse_json, secrets};
use crate::records::settings::AccountDetails;
use crate::records::settings::BalanceRecord;
use crate::records::settings::ExtensionRecord;
use crate::records::settings::ForwardingRecord;
use crate::records::settings::KeptSections;
use crate::records::settings::NumberRecord;
use crate::records::settings::SettingsRecord;
use crate::records::settings::UnreadResource;
use crate::records::settings::UserRecord;

#[derive(Deserialize)]
struct Items {
    #[serde(default, deserialize_with = "null_as_empty")]
    items: Vec<Box<RawValue>>,
}

#[derive(Default, Deserialize)]
struct WireAccount {
    #[serde(default)]
    company: Option<String>,
    #[serde(default, rename = "mainProductType")]
    main_product_type: Option<String>,
    #[serde(default, rename = "historyLifeTime")]
    history_lifetime: Option<String>,
    #[serde(default)]
    verified: Option<bool>,
}

#[derive(Deserialize)]
struct WireNumber {
    number: String,
    #[serde(default)]
    localized: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, rename = "endpointId")]
    endpoint_id: Option<String>,
}

#[derive(Deserialize)]
struct WireUser {
    id: String,
    #[serde(default)]
    firstname: Option<String>,
    #[serde(default)]
    lastname: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, rename = "defaultDevice")]
    default_device: Option<String>,
    #[serde(default)]
    admin: Option<bool>,
    #[serde(default)]
    timezone: Option<String>,
}

/// Devices, phonelines, fax lines, SMS extensions, voicemail boxes and groups share these.
#[derive(Deserialize)]
struct WireExtension {
    id: String,
    #[serde(default)]
    alias: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    dnd: Option<bool>,
    #[serde(default, rename = "callerId")]
    caller_id: Option<String>,
}

#[derive(Deserialize)]
struct WireForwarding {
    #[serde(default)]
    destination: Option<String>,
    #[serde(default)]
    timeout: Option<i64>,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    alias: Option<String>,
}

#[derive(Deserialize)]
struct WireBalance {
    amount: i64,
    #[serde(default)]
    currency: Option<String>,
}

/// GETs a `{items}` listing and parses each item, naming the item that does not fit.
async fn items<T: for<'de> Deserialize<'de>>(
    client: &Client,
    path: &str,
) -> Result<Vec<(String, T)>, ApiError> {
    let list: Items = client.get_json(path, &[]).await?;
    list.items
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let parsed = parse_json(raw.get().as_bytes())
                .map_err(|e| e.context(&format!("{path} item {i}")))?;
            Ok((raw.get().to_string(), parsed))
        })
        .collect()
}

/// What reading one settings resource came to. Each resource is read alone: one that the
/// account lacks, or that the token may not read, takes nothing else down with it.
enum Read<T> {
    Got(T),
    /// Left out by `[sync] skip_settings`.
    Skipped,
    /// Not read; why (absent, or failed) is in the collected [`UnreadResource`]s.
    Missing,
}

impl<T> Read<T> {
    fn got(self) -> Option<T> {
        match self {
            Read::Got(value) => Some(value),
            Read::Skipped | Read::Missing => None,
        }
    }
}

/// What the reads of one settings pull did not get.
#[derive(Default)]
struct Gaps {
    unread: Vec<UnreadResource>,
    /// The first error that was not a refusal (a broken answer, upstream down): the stream
    /// fails with it after storing what it got.
    error: Option<ApiError>,
}

impl Gaps {
    /// Takes in a read's outcome: 403 "Feature not booked" and 404 mean the account lacks the
    /// resource; another 403 names the scope the token lacks.
    fn note<T>(&mut self, path: &str, result: Result<T, ApiError>) -> Read<T> {
        let error = match result {
            Ok(value) => return Read::Got(value),
            Err(error) => error,
        };
        let absent = error.is_not_booked();
        let refused = error.status == Some(403) && !absent;
        let scope = refused.then(|| read_scope(path).to_string());
        if !absent && !refused && self.error.is_none() {
            self.error = Some(error.clone());
        }
        self.unread.push(UnreadResource {
            resource: path.to_string(),
            absent,
            scope,
            reason: crate::error::one_line(&error.message),
        });
        Read::Missing
    }
}

/// The read scope of a v2 path, e.g. `faxlines:read`.
fn read_scope(path: &str) -> &'static str {
    let scope = super::scope_for(path);
    scope.split(' ').next().unwrap_or(scope)
}

/// Reads `path` unless `[sync] skip_settings` names its resource.
async fn read<T: for<'de> Deserialize<'de>>(
    client: &Client,
    skip: &[String],
    resource: &str,
    path: String,
) -> (String, Result<Vec<(String, T)>, ApiError>, bool) {
    if skip.iter().any(|s| s == resource) {
        return (path, Ok(Vec::new()), true);
    }
    let result = items(client, &path).await;
    (path, result, false)
}

/// Turns a [`read`] into its outcome, noting what it lacked.
fn settle<T>(gaps: &mut Gaps, read: (String, Result<T, ApiError>, bool)) -> Read<T> {
    let (path, result, skipped) = read;
    if skipped {
        return Read::Skipped;
    }
    gaps.note(&path, result)
}

/// One user's extensions and forwardings, and which parts were not read.
struct UserSettings {
    extensions: Vec<ExtensionRecord>,
    forwardings: Vec<ForwardingRecord>,
    extensions_complete: bool,
    forwardings_complete: bool,
}

/// The extensions of one user: devices, phonelines (and their forwardings), fax lines, SMS;
/// each read alone.
async fn user_extensions(
    client: &Client,
    skip: &[String],
    user: &str,
    gaps: &mut Gaps,
) -> UserSettings {
    let (devices, phonelines, faxlines, sms) = futures_util::future::join4(
        read::<WireExtension>(client, skip, "devices", format!("{user}/devices")),
        read::<WireExtension>(client, skip, "phonelines", format!("{user}/phonelines")),
        read::<WireExtension>(client, skip, "faxlines", format!("{user}/faxlines")),
        read::<WireExtension>(client, skip, "sms", format!("{user}/sms")),
    )
    .await;
    let reads = [
        (settle(gaps, devices), None),
        (settle(gaps, phonelines), Some("phoneline")),
        (settle(gaps, faxlines), Some("fax")),
        (settle(gaps, sms), Some("sms")),
    ];
    let mut settings = UserSettings {
        extensions: Vec::new(),
        forwardings: Vec::new(),
        extensions_complete: true,
        forwardings_complete: true,
    };
    let mut lines = Vec::new();
    for (read, kind) in reads {
        match read {
            Read::Got(list) => {
                if kind == Some("phoneline") {
                    lines.extend(list.iter().map(|(_, line)| line.id.clone()));
                }
                settings
                    .extensions
                    .extend(list.into_iter().map(|(raw, e)| ExtensionRecord {
                        user_id: Some(user.to_string()),
                        ..extension(raw, e, kind)
                    }));
            }
            Read::Skipped | Read::Missing => {
                settings.extensions_complete = false;
                if kind == Some("phoneline") {
                    settings.forwardings_complete = false;
                }
            }
        }
    }
    let lists = join_all(lines.iter().map(|line| {
        read::<WireForwarding>(
            client,
            skip,
            "forwardings",
            format!("{user}/phonelines/{line}/forwardings"),
        )
    }))
    .await;
    for (line, list) in lines.iter().zip(lists) {
        match settle(gaps, list) {
            Read::Got(list) => {
                settings
                    .forwardings
                    .extend(list.into_iter().map(|(_, f)| ForwardingRecord {
                        phoneline: line.clone(),
                        destination: f.destination,
                        timeout_s: f.timeout,
                        active: f.active,
                        alias: f.alias,
                    }))
            }
            Read::Skipped | Read::Missing => settings.forwardings_complete = false,
        }
    }
    settings
}

/// A device keeps its own type (register, mobile, external); the other kinds are named. What
/// upstream sent is kept in `raw_json` without its secrets (a device only with the fields of
/// [`secrets::DEVICE_FIELDS`]: its answers carry SIP passwords and SIM PUKs).
fn extension(raw: String, e: WireExtension, kind: Option<&str>) -> ExtensionRecord {
    let raw_json = match kind {
        None => secrets::keep_only(&raw, &secrets::DEVICE_FIELDS),
        Some(_) => secrets::scrub(&raw),
    };
    ExtensionRecord {
        kind: kind
            .map(str::to_string)
            .or(e.kind.map(|k| k.to_ascii_lowercase())),
        id: e.id,
        alias: e.alias,
        dnd: e.dnd,
        outgoing_number: e.caller_id,
        raw_json,
        ..ExtensionRecord::default()
    }
}

/// Everything the settings stream mirrors, as one record: each resource read alone (and every
/// user's, for an organisation's token), what could not be read named in `unread` and its
/// rows kept. Fails only when nothing could be read for a reason other than a refusal: then
/// the error says why.
pub(crate) async fn settings(
    client: &Client,
    skip: &[String],
) -> Result<(SettingsRecord, Option<ApiError>), ApiError> {
    let mut gaps = Gaps::default();
    let account = if skip.iter().any(|s| s == "account") {
        Read::Skipped
    } else {
        let read = client.get_json::<Box<RawValue>>("account", &[]).await;
        gaps.note("account", read)
    };
    let account = match account.got() {
        Some(raw) => {
            let wire: WireAccount =
                parse_json(raw.get().as_bytes()).map_err(|e| e.context("account"))?;
            Some((secrets::scrub(raw.get()), wire))
        }
        None => None,
    };
    let (numbers, users, voicemails, groups) = futures_util::future::join4(
        read::<WireNumber>(client, skip, "numbers", "numbers".into()),
        read::<WireUser>(client, skip, "users", "users".into()),
        read::<WireExtension>(client, skip, "voicemails", "voicemails".into()),
        read::<WireExtension>(client, skip, "groups", "groups".into()),
    )
    .await;
    let numbers = settle(&mut gaps, numbers).got();
    let users = settle(&mut gaps, users).got();
    let voicemails = settle(&mut gaps, voicemails);
    let groups = settle(&mut gaps, groups);
    let mut kept = KeptSections {
        account: account.is_none(),
        numbers: numbers.is_none(),
        users: users.is_none(),
        extensions: users.is_none(),
        forwardings: users.is_none(),
    };
    for (_, user) in users.iter().flatten() {
        if user.id.is_empty() || user.id.contains('/') || user.id.contains('?') {
            return Err(ApiError::new(
                ApiErrorKind::Permanent,
                format!(
                    "users: {:?} is not a user id",
                    crate::error::one_line(&user.id)
                ),
            ));
        }
    }
    let mut extensions = Vec::new();
    let mut forwardings = Vec::new();
    for (_, user) in users.iter().flatten() {
        let settings = user_extensions(client, skip, &user.id, &mut gaps).await;
        kept.extensions |= !settings.extensions_complete;
        kept.forwardings |= !settings.forwardings_complete;
        extensions.extend(settings.extensions);
        forwardings.extend(settings.forwardings);
    }
    for (read, kind) in [(voicemails, "voicemail"), (groups, "group")] {
        match read {
            Read::Got(list) => extensions.extend(
                list.into_iter()
                    .map(|(raw, e)| extension(raw, e, Some(kind))),
            ),
            Read::Skipped | Read::Missing => kept.extensions = true,
        }
    }
    // A device shared by two users is listed twice; the mirror keeps it once.
    let mut seen = std::collections::HashSet::new();
    extensions.retain(|e| seen.insert(e.id.clone()));
    let numbers: Vec<NumberRecord> = numbers
        .unwrap_or_default()
        .into_iter()
        .map(|(raw, n)| NumberRecord {
            e164: n.number.strip_prefix('+').unwrap_or(&n.number).to_string(),
            pretty: n.localized,
            kind: n.kind.map(|k| k.to_ascii_lowercase()),
            extension_id: n.endpoint_id.filter(|e| !e.is_empty()),
            raw_json: secrets::scrub(&raw),
        })
        .collect();
    let (account_raw_json, account) = account.unwrap_or_default();
    let record = SettingsRecord {
        base_product_type: account.main_product_type,
        allow_add: None,
        allow_empty_oadc: None,
        account_raw_json,
        number_list: numbers.iter().map(|n| n.e164.clone()).collect(),
        numbers,
        outgoing: Vec::new(),
        extensions,
        mobile_devices: Vec::new(),
        mobile_extensions: Vec::new(),
        account: AccountDetails {
            company: account.company,
            history_lifetime: account.history_lifetime,
            verified: account.verified,
        },
        users: users
            .unwrap_or_default()
            .into_iter()
            .map(|(raw, u)| UserRecord {
                id: u.id,
                first_name: u.firstname,
                last_name: u.lastname,
                email: u.email,
                default_device: u.default_device,
                admin: u.admin,
                timezone: u.timezone,
                raw_json: secrets::scrub(&raw),
            })
            .collect(),
        forwardings,
        kept,
        unread: gaps.unread,
    };
    Ok((record, gaps.error))
}

/// `/balance`: an integer amount in 1/10,000 of the currency, kept exact.
pub(crate) async fn balance(client: &Client) -> Result<BalanceRecord, ApiError> {
    let raw: Box<RawValue> = client.get_json("balance", &[]).await?;
    let b: WireBalance = parse_json(raw.get().as_bytes()).map_err(|e| e.context("balance"))?;
    Ok(BalanceRecord {
        currency: b.currency,
        // For the classic reports; exact in `amount_units`.
        total_including_vat: Some(b.amount as f64 / 10_000.0),
        vat_percent: None,
        vouchers: Vec::new(),
        vouchers_json: "{}".to_string(),
        raw_json: raw.get().to_string(),
        amount_units: Some(b.amount),
    })
}
