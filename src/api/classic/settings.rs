//! The classic API's settings and balance as the mirror's records. (v2's are built in
//! `api::v2::account`.)

use crate::api::resources::{WireBalance, WireDevice, WireMobile, WireNumber, WireVoucher};
use crate::api::{ApiError, Client, parse_json};
use crate::records::settings::AccountDetails;
use crate::records::settings::BalanceRecord;
use crate::records::settings::ExtensionRecord;
use crate::records::settings::MobileRecord;
use crate::records::settings::NumberRecord;
use crate::records::settings::SettingsRecord;

/// Everything under `/settings/` as one record.
pub(crate) async fn settings(client: &Client) -> Result<SettingsRecord, ApiError> {
    let snapshot = client.settings().await?;
    let numbers = snapshot
        .numbers
        .phonenumbers
        .iter()
        .map(|raw| {
            let n: WireNumber =
                parse_json(raw.get().as_bytes()).map_err(|e| e.context("settings/numbers"))?;
            Ok(NumberRecord {
                e164: n.number_e164,
                pretty: n.number_pretty,
                kind: n.kind,
                extension_id: n.extension_id,
                raw_json: raw.get().to_string(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let mobile = |items: &[Box<serde_json::value::RawValue>], what: &str| {
        items
            .iter()
            .map(|raw| {
                let m: WireMobile =
                    parse_json(raw.get().as_bytes()).map_err(|e| e.context(what))?;
                Ok(MobileRecord {
                    id: m.id,
                    phone_number: m.phone_number,
                    model: m.model,
                    vendor: m.vendor,
                    firmware: m.firmware,
                    raw_json: raw.get().to_string(),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()
    };
    let mobile_devices = mobile(&snapshot.mobile_devices, "settings/registeredmobiledevices")?;
    let mobile_extensions = mobile(&snapshot.mobile_extensions, "settings/mobile/extensions")?;
    let mut extensions = Vec::new();
    for (raw, e) in &snapshot.extensions {
        let devices = e
            .devices
            .iter()
            .map(|d| {
                let device: WireDevice = parse_json(d.get().as_bytes())
                    .map_err(|err| err.context("settings/extensions devices"))?;
                Ok((device.device_id, d.get().to_string()))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        extensions.push(ExtensionRecord {
            id: e.extension_id.clone(),
            alias: e.alias.clone(),
            kind: e.kind.clone(),
            resource_url: e.resource.as_ref().and_then(|r| r.get.clone()),
            dnd: e.dnd,
            outgoing_number: e
                .outgoing_number
                .as_ref()
                .and_then(|o| o.number_e164.clone()),
            register_url: e.register_url.clone(),
            outbound_proxy_url: e.outbound_proxy_url.clone(),
            has_sip_password: Some(e.sip_password.is_some()),
            fax_in: e.fax_in,
            has_pin: Some(e.pin.is_some()),
            timezone: e.timezone.clone(),
            announcement_url: e.announcement_url.clone(),
            provider: e.provider.clone(),
            external_phonenumber: e.external_phonenumber.clone(),
            incoming_numbers: e.incoming_numbers.clone(),
            direct_dial_numbers: e.direct_dial_numbers.clone(),
            devices,
            raw_json: crate::api::secrets::scrub(raw.get()),
            // The classic API lists only the logged-in user's extensions.
            user_id: None,
        });
    }
    let record = SettingsRecord {
        kept: Default::default(),
        unread: Vec::new(),
        base_product_type: snapshot.base_product_type.clone(),
        allow_add: snapshot.numbers.allow_add,
        allow_empty_oadc: snapshot.numbers.allow_empty_oadc,
        account_raw_json: serde_json::json!({
            "numbers": serde_json::from_str::<serde_json::Value>(&snapshot.raw_numbers).unwrap_or_default(),
            "baseproducttype": snapshot.base_product_type,
        })
        .to_string(),
        numbers,
        number_list: snapshot.number_list.clone(),
        outgoing: snapshot
            .outgoing
            .iter()
            .map(|o| {
                let raw = serde_json::json!({ "extensionId": o.extension_id, "numberE164": o.number_e164 }).to_string();
                (o.extension_id.clone(), o.number_e164.clone(), raw)
            })
            .collect(),
        extensions,
        mobile_devices,
        mobile_extensions,
        account: AccountDetails::default(),
        users: Vec::new(),
        forwardings: Vec::new(),
    };
    Ok(record)
}

/// `/billing/balance/` as a record.
pub(crate) async fn balance(client: &Client) -> Result<BalanceRecord, ApiError> {
    let (raw, balance): (String, WireBalance) = client.balance().await?;
    let list = |vouchers: &[WireVoucher]| -> Vec<[Option<String>; 5]> {
        vouchers
            .iter()
            .map(|v| {
                [
                    v.redeem_date.clone(),
                    v.end_of_validity.clone(),
                    v.credits_init.clone(),
                    v.credits_used.clone(),
                    v.credits_left.clone(),
                ]
            })
            .collect()
    };
    let record = BalanceRecord {
        currency: balance.currency.clone(),
        total_including_vat: balance.total_including_vat,
        vat_percent: balance.vat_percent,
        vouchers: vec![
            ("sms", list(&balance.sms_vouchers)),
            ("minute", list(&balance.minute_vouchers)),
            ("fax", list(&balance.fax_vouchers)),
        ],
        vouchers_json: serde_json::json!({
            "sms": balance.sms_vouchers,
            "minute": balance.minute_vouchers,
            "fax": balance.fax_vouchers,
        })
        .to_string(),
        raw_json: raw,
        amount_units: None,
    };
    Ok(record)
}

#[cfg(test)]
mod tests {
    #[test]
    fn credentials_are_removed_from_raw_json() {
        let cleaned = crate::api::secrets::scrub(
            r#"{"extensionId":"e0","sipPassword":"hunter2","pin":"1234","alias":"x"}"#,
        );
        assert!(!cleaned.contains("hunter2") && !cleaned.contains("1234"));
        assert!(cleaned.contains("\"alias\""));
    }
}
