//! Changes to the account's settings: Do Not Disturb, the outgoing number of an extension, a
//! new mobile extension. Setting a value is idempotent (retried like a read); adding a mobile
//! extension creates one and is tried once.

use serde::Deserialize;

use crate::api::resources::WireMobile;
use crate::api::{ApiError, Body, Client, CreateError, Delivery, Method, parse_json};

#[derive(Deserialize)]
struct MobileEnvelope {
    #[serde(rename = "mobileExtension")]
    mobile_extension: WireMobile,
}

impl Client {
    /// `POST /settings/extensions/{id}/dnd/` with `value`.
    pub(crate) async fn set_extension_dnd(
        &self,
        extension: &str,
        on: bool,
    ) -> Result<(), ApiError> {
        let path = format!("settings/extensions/{extension}/dnd/");
        self.write_idempotent(Method::POST, &path, &[("value", on.to_string())])
            .await
            .map(drop)
    }

    /// `POST /settings/numbers/outgoing/` with `extensionId` and `number`.
    pub async fn set_outgoing_number(&self, extension: &str, number: &str) -> Result<(), ApiError> {
        let form = [
            ("extensionId", extension.to_string()),
            ("number", number.to_string()),
        ];
        self.write_idempotent(Method::POST, "settings/numbers/outgoing/", &form)
            .await
            .map(drop)
    }

    /// `POST /settings/mobile/extensions/`: sets up a mobile phone as an extension.
    pub async fn add_mobile_extension(
        &self,
        phone: &str,
        model: &str,
        vendor: &str,
        firmware: &str,
    ) -> Result<WireMobile, CreateError> {
        let form = [
            ("phoneNumber", phone.to_string()),
            ("model", model.to_string()),
            ("vendor", vendor.to_string()),
            ("firmware", firmware.to_string()),
        ];
        let path = "settings/mobile/extensions/";
        let body = self.create(path, &[], Body::Form(&form)).await?;
        parse_json::<MobileEnvelope>(&body)
            .map(|e| e.mobile_extension)
            .map_err(|error| CreateError {
                error: error.context("the extension was added but the answer is unreadable"),
                delivery: Delivery::Unknown,
            })
    }
}
