//! v2 account resources: `/account`, `/numbers`, `/users`, and per user its devices,
//! phonelines (with their forwardings), fax lines and SMS extensions; `/voicemails`, `/groups`
//! and `/balance`. They fill the same settings tables as the classic API: every device, line
//! and box is an extension (`mirror_extensions.type` says which).

use futures_util::future::try_join_all;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::api::events::null_as_empty;
use crate::api::{ApiError, ApiErrorKind, Client, parse_json};
use crate::store::settings::{
    AccountDetails, BalanceRecord, ExtensionRecord, ForwardingRecord, NumberRecord, SettingsRecord,
    UserRecord,
};

#[derive(Deserialize)]
struct Items {
    #[serde(default, deserialize_with = "null_as_empty")]
    items: Vec<Box<RawValue>>,
}

#[derive(Deserialize)]
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

/// The extensions of one user: devices, phonelines (and their forwardings), fax lines, SMS.
async fn user_extensions(
    client: &Client,
    user: &str,
) -> Result<(Vec<ExtensionRecord>, Vec<ForwardingRecord>), ApiError> {
    let (devices, phonelines, faxlines, sms) = futures_util::future::try_join4(
        items::<WireExtension>(client, &format!("{user}/devices")),
        items::<WireExtension>(client, &format!("{user}/phonelines")),
        items::<WireExtension>(client, &format!("{user}/faxlines")),
        items::<WireExtension>(client, &format!("{user}/sms")),
    )
    .await?;
    let forwardings = try_join_all(phonelines.iter().map(|(_, line)| async move {
        let list = items::<WireForwarding>(
            client,
            &format!("{user}/phonelines/{}/forwardings", line.id),
        )
        .await?;
        Ok::<_, ApiError>(
            list.into_iter()
                .map(|(_, f)| ForwardingRecord {
                    phoneline: line.id.clone(),
                    destination: f.destination,
                    timeout_s: f.timeout,
                    active: f.active,
                    alias: f.alias,
                })
                .collect::<Vec<_>>(),
        )
    }))
    .await?
    .into_iter()
    .flatten()
    .collect();
    let mut extensions = Vec::new();
    for (list, kind) in [
        (devices, None),
        (phonelines, Some("phoneline")),
        (faxlines, Some("fax")),
        (sms, Some("sms")),
    ] {
        extensions.extend(list.into_iter().map(|(raw, e)| extension(raw, e, kind)));
    }
    Ok((extensions, forwardings))
}

/// A device keeps its own type (register, mobile, external); the other kinds are named.
fn extension(raw: String, e: WireExtension, kind: Option<&str>) -> ExtensionRecord {
    ExtensionRecord {
        kind: kind
            .map(str::to_string)
            .or(e.kind.map(|k| k.to_ascii_lowercase())),
        id: e.id,
        alias: e.alias,
        dnd: e.dnd,
        outgoing_number: e.caller_id,
        raw_json: raw,
        ..ExtensionRecord::default()
    }
}

/// Everything the settings stream mirrors, as one record.
pub(crate) async fn settings(client: &Client) -> Result<SettingsRecord, ApiError> {
    let account_raw: Box<RawValue> = client.get_json("account", &[]).await?;
    let account: WireAccount =
        parse_json(account_raw.get().as_bytes()).map_err(|e| e.context("account"))?;
    let (numbers, users, voicemails, groups) = futures_util::future::try_join4(
        items::<WireNumber>(client, "numbers"),
        items::<WireUser>(client, "users"),
        items::<WireExtension>(client, "voicemails"),
        items::<WireExtension>(client, "groups"),
    )
    .await?;
    for (_, user) in &users {
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
    let per_user = try_join_all(
        users
            .iter()
            .map(|(_, user)| user_extensions(client, &user.id)),
    )
    .await?;
    let mut extensions = Vec::new();
    let mut forwardings = Vec::new();
    for (user_extensions, user_forwardings) in per_user {
        extensions.extend(user_extensions);
        forwardings.extend(user_forwardings);
    }
    extensions.extend(
        voicemails
            .into_iter()
            .map(|(raw, e)| extension(raw, e, Some("voicemail"))),
    );
    extensions.extend(
        groups
            .into_iter()
            .map(|(raw, e)| extension(raw, e, Some("group"))),
    );
    // A device shared by two users is listed twice; the mirror keeps it once.
    let mut seen = std::collections::HashSet::new();
    extensions.retain(|e| seen.insert(e.id.clone()));
    let numbers: Vec<NumberRecord> = numbers
        .into_iter()
        .map(|(raw, n)| NumberRecord {
            e164: n.number.strip_prefix('+').unwrap_or(&n.number).to_string(),
            pretty: n.localized,
            kind: n.kind.map(|k| k.to_ascii_lowercase()),
            extension_id: n.endpoint_id.filter(|e| !e.is_empty()),
            raw_json: raw,
        })
        .collect();
    Ok(SettingsRecord {
        base_product_type: account.main_product_type,
        allow_add: None,
        allow_empty_oadc: None,
        account_raw_json: account_raw.get().to_string(),
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
            .into_iter()
            .map(|(raw, u)| UserRecord {
                id: u.id,
                first_name: u.firstname,
                last_name: u.lastname,
                email: u.email,
                default_device: u.default_device,
                admin: u.admin,
                timezone: u.timezone,
                raw_json: raw,
            })
            .collect(),
        forwardings,
    })
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
