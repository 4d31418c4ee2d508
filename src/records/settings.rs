//! The account's settings and balance as the mirror stores them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone)]
pub struct NumberRecord {
    pub e164: String,
    pub pretty: Option<String>,
    pub kind: Option<String>,
    pub extension_id: Option<String>,
    pub raw_json: String,
}

#[derive(Debug, Clone, Default)]
pub struct ExtensionRecord {
    pub id: String,
    pub alias: Option<String>,
    pub kind: Option<String>,
    pub resource_url: Option<String>,
    pub dnd: Option<bool>,
    pub outgoing_number: Option<String>,
    pub register_url: Option<String>,
    pub outbound_proxy_url: Option<String>,
    pub has_sip_password: Option<bool>,
    pub fax_in: Option<bool>,
    pub has_pin: Option<bool>,
    pub timezone: Option<String>,
    pub announcement_url: Option<String>,
    pub provider: Option<String>,
    pub external_phonenumber: Option<String>,
    pub incoming_numbers: Vec<String>,
    pub direct_dial_numbers: Vec<String>,
    /// (device id, raw JSON)
    pub devices: Vec<(String, String)>,
    /// Upstream JSON with the SIP password and PIN removed.
    pub raw_json: String,
    /// The user whose list it came from (v2); None for account-wide extensions and classic.
    pub user_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MobileRecord {
    pub id: String,
    pub phone_number: Option<String>,
    pub model: Option<String>,
    pub vendor: Option<String>,
    pub firmware: Option<String>,
    pub raw_json: String,
}

#[derive(Debug, Clone)]
pub struct SettingsRecord {
    pub base_product_type: Option<String>,
    pub allow_add: Option<bool>,
    pub allow_empty_oadc: Option<bool>,
    pub account_raw_json: String,
    pub numbers: Vec<NumberRecord>,
    pub number_list: Vec<String>,
    /// (extension id, number, raw JSON)
    pub outgoing: Vec<(String, Option<String>, String)>,
    pub extensions: Vec<ExtensionRecord>,
    pub mobile_devices: Vec<MobileRecord>,
    pub mobile_extensions: Vec<MobileRecord>,
    /// v2 `/account`: company, history lifetime, verified.
    pub account: AccountDetails,
    /// v2 `/users`.
    pub users: Vec<UserRecord>,
    /// v2 phoneline forwardings, per phoneline.
    pub forwardings: Vec<ForwardingRecord>,
    /// Parts whose rows stay as last mirrored: a resource behind them was not read.
    pub kept: KeptSections,
    /// The resources not read this time, and why.
    pub unread: Vec<UnreadResource>,
}

/// Parts of the settings whose rows are kept as last mirrored, because a resource behind them
/// could not be read (or was left out with `[sync] skip_settings`): a failed read never
/// empties a table.
#[derive(Debug, Clone, Default)]
pub struct KeptSections {
    pub account: bool,
    pub numbers: bool,
    pub users: bool,
    /// No extension is marked deleted (those read are still updated).
    pub extensions: bool,
    pub forwardings: bool,
}

/// A settings resource that was not read, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnreadResource {
    /// The path below the API, e.g. `w1/faxlines`.
    pub resource: String,
    /// Upstream says the account does not have it (403 "Feature not booked", or 404): nothing
    /// to mirror, no error.
    pub absent: bool,
    /// The scope a token needs for it, when the read was refused.
    pub scope: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct AccountDetails {
    pub company: Option<String>,
    pub history_lifetime: Option<String>,
    pub verified: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub default_device: Option<String>,
    pub admin: Option<bool>,
    pub timezone: Option<String>,
    pub raw_json: String,
}

#[derive(Debug, Clone)]
pub struct ForwardingRecord {
    pub phoneline: String,
    pub destination: Option<String>,
    pub timeout_s: Option<i64>,
    pub active: Option<bool>,
    pub alias: Option<String>,
}

#[derive(Debug, Clone)]
pub struct BalanceRecord {
    pub currency: Option<String>,
    pub total_including_vat: Option<f64>,
    pub vat_percent: Option<f64>,
    /// (kind: sms | minute | fax, vouchers as [redeem, end, init, used, left])
    pub vouchers: Vec<(&'static str, Vec<[Option<String>; 5]>)>,
    pub vouchers_json: String,
    pub raw_json: String,
    /// v2: the amount exactly, in 1/10,000 of the currency.
    pub amount_units: Option<i64>,
}

/// A phoneline's forwarding: where, after how many seconds, and whether it is on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Forwarding {
    pub destination: String,
    pub timeout: u32,
    pub active: bool,
}
