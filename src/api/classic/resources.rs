//! Contacts, settings and balance.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::api::events::WireLink;
use crate::api::{ApiError, ApiErrorKind, Client, parse_json};

#[derive(Debug, Deserialize)]
struct ContactsEnvelope {
    #[serde(rename = "Contacts")]
    contacts: ContactsPage,
}

#[derive(Debug, Deserialize)]
struct ContactsPage {
    items: Vec<Box<RawValue>>,
    #[serde(rename = "overallMatches")]
    overall_matches: u64,
}

/// A page of contacts: raw items and the total without paging.
pub struct ContactPage {
    pub items: Vec<Box<RawValue>>,
    pub overall_matches: u64,
}

#[derive(Debug, Deserialize)]
pub struct WireContact {
    #[serde(default)]
    pub entries: Vec<WireEntry>,
    #[serde(rename = "contactMeta")]
    pub meta: WireContactMeta,
}

#[derive(Debug, Deserialize)]
pub struct WireContactMeta {
    #[serde(default, rename = "validFrom")]
    pub valid_from: Option<String>,
    #[serde(rename = "UUID")]
    pub uuid: String,
    #[serde(default)]
    pub owner: Option<String>,
}

/// One contact line. The structured parts are filled only for their entry type.
#[derive(Debug, Deserialize, Default)]
pub struct WireEntry {
    #[serde(rename = "entryName")]
    pub entry_name: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub types: Vec<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default, rename = "x-local-value")]
    pub local_value: Option<String>,
    #[serde(default)]
    pub po_box: Option<String>,
    #[serde(default)]
    pub extended: Option<String>,
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub family: Option<String>,
    #[serde(default)]
    pub given: Option<String>,
    #[serde(default)]
    pub middle: Option<String>,
    #[serde(default)]
    pub prefixes: Option<String>,
    #[serde(default)]
    pub suffixes: Option<String>,
    #[serde(default)]
    pub lat: Option<String>,
    #[serde(default)]
    pub long: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub unit: Vec<String>,
}

impl WireContact {
    pub fn parse(raw: &RawValue, what: &str) -> Result<WireContact, ApiError> {
        let contact: WireContact = parse_json(raw.get().as_bytes()).map_err(|e| e.context(what))?;
        if contact.meta.uuid.trim().is_empty() {
            return Err(ApiError::new(
                ApiErrorKind::Permanent,
                format!("{what}: contactMeta.UUID is empty"),
            ));
        }
        Ok(contact)
    }
}

#[derive(Debug, Deserialize)]
pub struct WireNumbers {
    #[serde(default, rename = "allowAdd")]
    pub allow_add: Option<bool>,
    #[serde(default, rename = "allowEmptyOadc")]
    pub allow_empty_oadc: Option<bool>,
    #[serde(default)]
    pub phonenumbers: Vec<Box<RawValue>>,
}

#[derive(Debug, Deserialize)]
pub struct WireNumber {
    #[serde(rename = "numberE164")]
    pub number_e164: String,
    #[serde(default, rename = "numberPretty")]
    pub number_pretty: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default, rename = "extensionId")]
    pub extension_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WireOutgoing {
    #[serde(rename = "extensionId")]
    pub extension_id: String,
    #[serde(default, rename = "numberE164")]
    pub number_e164: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WireExtension {
    #[serde(rename = "extensionId")]
    pub extension_id: String,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub resource: Option<WireLink>,
    #[serde(default, rename = "incomingNumbers")]
    pub incoming_numbers: Vec<String>,
    #[serde(default, rename = "directDialNumbers")]
    pub direct_dial_numbers: Vec<String>,
    #[serde(default)]
    pub dnd: Option<bool>,
    #[serde(default, rename = "outgoingNumber")]
    pub outgoing_number: Option<WireOutgoingNumber>,
    #[serde(default)]
    pub devices: Vec<Box<RawValue>>,
    #[serde(default, rename = "sipPassword")]
    pub sip_password: Option<String>,
    #[serde(default, rename = "registerUrl")]
    pub register_url: Option<String>,
    #[serde(default, rename = "outboundProxyUrl")]
    pub outbound_proxy_url: Option<String>,
    #[serde(default, rename = "faxIn")]
    pub fax_in: Option<bool>,
    #[serde(default)]
    pub pin: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default, rename = "announcementUrl")]
    pub announcement_url: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default, rename = "externalPhonenumber")]
    pub external_phonenumber: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WireOutgoingNumber {
    #[serde(default, rename = "numberE164")]
    pub number_e164: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WireDevice {
    #[serde(rename = "deviceId")]
    pub device_id: String,
}

/// A registered mobile device or a mobile extension (they share the shape).
#[derive(Debug, Deserialize, serde::Serialize)]
pub struct WireMobile {
    #[serde(alias = "deviceId", alias = "extensionId")]
    pub id: String,
    #[serde(default, rename = "phoneNumber")]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub firmware: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WireBalance {
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, rename = "totalIncludingVat")]
    pub total_including_vat: Option<f64>,
    #[serde(default, rename = "vatPercent")]
    pub vat_percent: Option<f64>,
    #[serde(default, rename = "smsVouchers")]
    pub sms_vouchers: Vec<WireVoucher>,
    #[serde(default, rename = "minuteVouchers")]
    pub minute_vouchers: Vec<WireVoucher>,
    #[serde(default, rename = "faxVouchers")]
    pub fax_vouchers: Vec<WireVoucher>,
}

#[derive(Debug, Deserialize, serde::Serialize, PartialEq)]
pub struct WireVoucher {
    #[serde(default, rename = "redeemDate")]
    pub redeem_date: Option<String>,
    #[serde(default, rename = "endOfValidityDate")]
    pub end_of_validity: Option<String>,
    #[serde(default, rename = "creditsInit")]
    pub credits_init: Option<String>,
    #[serde(default, rename = "creditsUsed")]
    pub credits_used: Option<String>,
    #[serde(default, rename = "creditsLeft")]
    pub credits_left: Option<String>,
}

/// Everything under `/settings/`, fetched in one go.
pub struct SettingsSnapshot {
    pub numbers: WireNumbers,
    pub number_list: Vec<String>,
    pub outgoing: Vec<WireOutgoing>,
    /// Each extension in full (`/settings/extensions/{id}/`), raw and parsed.
    pub extensions: Vec<(Box<RawValue>, WireExtension)>,
    pub base_product_type: Option<String>,
    pub mobile_devices: Vec<Box<RawValue>>,
    pub mobile_extensions: Vec<Box<RawValue>>,
    pub raw_numbers: String,
}

#[derive(Deserialize)]
struct NumbersEnvelope {
    numbers: Box<RawValue>,
}

#[derive(Deserialize)]
struct NumberListEnvelope {
    numberlist: NumberList,
}

#[derive(Deserialize)]
struct NumberList {
    #[serde(default)]
    numbers: Vec<String>,
}

#[derive(Deserialize)]
struct OutgoingEnvelope {
    #[serde(rename = "outgoingNumbers")]
    outgoing: Items<WireOutgoing>,
}

#[derive(Deserialize)]
struct Items<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

#[derive(Deserialize)]
struct ExtensionsEnvelope {
    extensions: ExtensionList,
}

#[derive(Deserialize)]
struct ExtensionList {
    #[serde(default)]
    extensions: Vec<ExtensionId>,
}

#[derive(Deserialize)]
struct ExtensionId {
    #[serde(rename = "extensionId")]
    extension_id: String,
}

#[derive(Deserialize)]
struct ExtensionEnvelope {
    extension: Box<RawValue>,
}

#[derive(Deserialize)]
struct ValueEnvelope {
    baseproducttype: Value,
}

#[derive(Deserialize)]
struct Value {
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
struct DevicesEnvelope {
    #[serde(rename = "registeredMobileDevices")]
    devices: Items<Box<RawValue>>,
}

#[derive(Deserialize)]
struct MobileExtensionsEnvelope {
    #[serde(rename = "mobileExtensions")]
    extensions: Items<Box<RawValue>>,
}

#[derive(Deserialize)]
struct BalanceEnvelope {
    balance: Box<RawValue>,
}

impl Client {
    pub async fn contact_page(&self, offset: u64, limit: u64) -> Result<ContactPage, ApiError> {
        let query = [("limit", limit.to_string()), ("offset", offset.to_string())];
        let envelope: ContactsEnvelope = self.get_json("contacts/", &query).await?;
        Ok(ContactPage {
            items: envelope.contacts.items,
            overall_matches: envelope.contacts.overall_matches,
        })
    }

    /// Everything under `/settings/`. The independent resources are fetched at once, and the
    /// extensions' details four at a time.
    pub async fn settings(&self) -> Result<SettingsSnapshot, ApiError> {
        use futures_util::{StreamExt, TryStreamExt, future::try_join5};
        let (numbers, list, outgoing, listing, base): (
            NumbersEnvelope,
            NumberListEnvelope,
            OutgoingEnvelope,
            ExtensionsEnvelope,
            ValueEnvelope,
        ) = try_join5(
            self.get_json("settings/numbers/", &[]),
            self.get_json("settings/numbers/list/", &[]),
            self.get_json("settings/numbers/outgoing/", &[]),
            self.get_json("settings/extensions/", &[]),
            self.get_json("settings/baseproducttype/", &[]),
        )
        .await?;
        let (devices, mobile): (DevicesEnvelope, MobileExtensionsEnvelope) =
            futures_util::future::try_join(
                self.get_json("settings/registeredmobiledevices/", &[]),
                self.get_json("settings/mobile/extensions/", &[]),
            )
            .await?;
        let raw_numbers = numbers.numbers.get().to_string();
        let parsed_numbers: WireNumbers =
            parse_json(raw_numbers.as_bytes()).map_err(|e| e.context("settings/numbers"))?;
        let extensions: Vec<(Box<RawValue>, WireExtension)> =
            futures_util::stream::iter(listing.extensions.extensions)
                .map(|ext| async move {
                    let path = format!("settings/extensions/{}/", ext.extension_id);
                    let one: ExtensionEnvelope = self.get_json(&path, &[]).await?;
                    let parsed: WireExtension =
                        parse_json(one.extension.get().as_bytes()).map_err(|e| e.context(&path))?;
                    Ok::<_, ApiError>((one.extension, parsed))
                })
                .buffered(4)
                .try_collect()
                .await?;
        Ok(SettingsSnapshot {
            numbers: parsed_numbers,
            number_list: list.numberlist.numbers,
            outgoing: outgoing.outgoing.items,
            extensions,
            base_product_type: base.baseproducttype.value,
            mobile_devices: devices.devices.items,
            mobile_extensions: mobile.extensions.items,
            raw_numbers,
        })
    }

    /// The balance, raw and parsed.
    pub async fn balance(&self) -> Result<(String, WireBalance), ApiError> {
        let envelope: BalanceEnvelope = self.get_json("billing/balance/", &[]).await?;
        let raw = envelope.balance.get().to_string();
        let parsed = parse_json(raw.as_bytes()).map_err(|e| e.context("billing/balance"))?;
        Ok((raw, parsed))
    }
}

#[derive(Deserialize)]
struct PropertyEnvelope {
    property: Property,
}

#[derive(Deserialize)]
struct Property {
    #[serde(deserialize_with = "crate::api::events::loose_bool")]
    value: bool,
}

#[derive(Deserialize)]
struct DndEnvelope {
    dnd: Property,
}

#[derive(Deserialize)]
struct GsmEnvelope {
    #[serde(rename = "gsmCode")]
    gsm_code: GsmCode,
}

#[derive(Deserialize)]
struct GsmCode {
    code: String,
}

impl Client {
    /// One event (`/events/{type}/{id}/`), raw and parsed.
    pub async fn event(
        &self,
        kind: crate::records::EventKind,
        id: i64,
    ) -> Result<(String, crate::api::events::WireEvent), ApiError> {
        let envelope: std::collections::BTreeMap<String, Box<RawValue>> = self
            .get_json(&format!("events/{}/{id}/", kind.plural()), &[])
            .await?;
        let raw = envelope.into_values().next().ok_or_else(|| {
            ApiError::new(
                ApiErrorKind::Permanent,
                format!("events/{}/{id}: empty answer", kind.plural()),
            )
        })?;
        let event =
            crate::api::events::WireEvent::parse(&raw, &format!("events/{}/{id}", kind.plural()))?;
        Ok((raw.get().to_string(), event))
    }

    /// The `read` or `starred` flag of an event as upstream has it now.
    pub async fn flag(
        &self,
        kind: crate::records::EventKind,
        id: i64,
        name: &str,
    ) -> Result<bool, ApiError> {
        let envelope: PropertyEnvelope = self
            .get_json(&format!("events/{}/{id}/{name}/", kind.plural()), &[])
            .await?;
        Ok(envelope.property.value)
    }

    /// Whether an extension is set to Do Not Disturb.
    pub async fn dnd(&self, extension: &str) -> Result<bool, ApiError> {
        let envelope: DndEnvelope = self
            .get_json(&format!("settings/extensions/{extension}/dnd/"), &[])
            .await?;
        Ok(envelope.dnd.value)
    }

    /// One contact, raw and parsed.
    pub async fn contact(&self, uuid: &str) -> Result<(String, WireContact), ApiError> {
        let envelope: ContactsEnvelope = self.get_json(&format!("contacts/{uuid}/"), &[]).await?;
        let raw = envelope.contacts.items.into_iter().next().ok_or_else(|| {
            ApiError::new(
                ApiErrorKind::NotFound,
                format!("contacts/{uuid}: no such contact"),
            )
        })?;
        let contact = WireContact::parse(&raw, &format!("contacts/{uuid}"))?;
        Ok((raw.get().to_string(), contact))
    }

    /// The GSM code that forwards a mobile's conditional calls to the sipgate voicemail.
    pub async fn gsm_code(&self) -> Result<String, ApiError> {
        let envelope: GsmEnvelope = self
            .get_json("settings/mobile/extensions/unifiedvoicemailgsmcode/", &[])
            .await?;
        Ok(envelope.gsm_code.code)
    }
}
