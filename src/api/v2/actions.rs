//! v2 actions: click-to-dial (`POST /sessions/calls`), the calls running now and their
//! controls (`/calls`, "real-time call manipulation"), a device's Do Not Disturb
//! (`PUT /devices/{id}`) and a phoneline's forwardings (`/{userId}/phonelines/{id}/forwardings`).
//!
//! Setting a value (mute, hold, recording, DND, the forwardings) is idempotent and retried
//! like a read. Dialing, a transfer and DTMF digits act anew each time: they are sent once,
//! and a lost answer is said to be one.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{ApiError, Body, Client, CreateError, Delivery, Method, parse_json};
use crate::records::calls::CallControl;
pub use crate::records::settings::Forwarding;

/// A call running now, as `GET /calls` lists it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WireCall {
    #[serde(rename = "callId")]
    pub call_id: String,
    #[serde(default)]
    pub muted: Option<bool>,
    #[serde(default)]
    pub recording: Option<bool>,
    #[serde(default)]
    pub hold: Option<bool>,
    #[serde(default, deserialize_with = "crate::api::events::null_as_empty")]
    pub participants: Vec<WireParticipant>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WireParticipant {
    #[serde(rename = "participantId")]
    pub participant_id: String,
    #[serde(default, rename = "phoneNumber")]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub muted: Option<bool>,
    #[serde(default)]
    pub hold: Option<bool>,
    #[serde(default)]
    pub owner: Option<bool>,
}

#[derive(Deserialize)]
struct Calls {
    #[serde(default, deserialize_with = "crate::api::events::null_as_empty")]
    data: Vec<WireCall>,
}

#[derive(Deserialize)]
struct Forwardings {
    items: Vec<Forwarding>,
}

#[derive(Deserialize)]
struct UserInfo {
    sub: String,
}

#[derive(Deserialize)]
struct Users {
    items: Vec<UserId>,
}

#[derive(Deserialize)]
struct UserId {
    id: String,
}

impl Client {
    /// `POST /sessions/calls`: the caller's device rings first, then the callee. `caller` is
    /// a device id (`e0`) or a number; a number needs `device`. Returns the session id.
    pub async fn dial_v2(
        &self,
        caller: &str,
        callee: &str,
        device: Option<&str>,
        caller_id: Option<&str>,
    ) -> Result<String, CreateError> {
        let mut request = json!({ "caller": caller, "callee": callee });
        if let Some(device) = device {
            request["deviceId"] = device.into();
        }
        if let Some(caller_id) = caller_id {
            request["callerId"] = caller_id.into();
        }
        let body = request.to_string().into_bytes();
        let answer = self
            .create("sessions/calls", &[], Body::Json(&body))
            .await?;
        #[derive(Deserialize)]
        struct Session {
            #[serde(rename = "sessionId")]
            session_id: String,
        }
        parse_json::<Session>(&answer)
            .map(|s| s.session_id)
            .map_err(|error| CreateError {
                error: error.context("the call was started but the answer is unreadable"),
                delivery: Delivery::Unknown,
            })
    }

    /// The calls running now (`GET /calls`; ringing calls are not listed).
    pub async fn calls(&self) -> Result<Vec<WireCall>, ApiError> {
        let calls: Calls = self.get_json("calls", &[]).await?;
        Ok(calls.data)
    }

    /// Acts on a running call.
    pub async fn control_call(&self, id: &str, control: &CallControl) -> Result<(), CreateError> {
        let path = |what: &str| format!("calls/{}{what}", crate::api::writes::url_segment(id));
        let (method, path, body) = match control {
            CallControl::Hangup => (Method::DELETE, path(""), None),
            CallControl::Record { on, announce } => (
                Method::PUT,
                path("/recording"),
                Some(json!({ "value": on, "announcement": announce })),
            ),
            CallControl::Hold(on) => (Method::PUT, path("/hold"), Some(json!({ "value": on }))),
            CallControl::Mute(on) => (Method::PUT, path("/muted"), Some(json!({ "value": on }))),
            CallControl::Transfer { number, attended } => {
                let body = json!({ "attended": attended, "phoneNumber": number });
                return self.create_json(&path("/transfer"), &body).await;
            }
            CallControl::Dtmf(digits) => {
                let body = json!({ "sequence": digits });
                return self.create_json(&path("/dtmf"), &body).await;
            }
            CallControl::Park { .. } => return Err(CreateError::unsupported("call park")),
        };
        self.write_json(method, &path, &[], body.as_ref())
            .await
            .map(drop)
            .map_err(|error| CreateError {
                error,
                delivery: Delivery::NotDelivered,
            })
    }

    async fn create_json(&self, path: &str, body: &Value) -> Result<(), CreateError> {
        let bytes = body.to_string().into_bytes();
        self.create(path, &[], Body::Json(&bytes)).await.map(drop)
    }

    /// `PUT /devices/{id}` with `{"dnd": ...}`.
    pub(crate) async fn set_device_dnd(&self, device: &str, on: bool) -> Result<(), ApiError> {
        let path = format!("devices/{}", crate::api::writes::url_segment(device));
        // sipgate's own client always sends the device's emergency address with `dnd`; what
        // leaving it out does is not documented, and the address is what an emergency call
        // uses. So the device is read first and its address sent back as it is.
        let current: Value = self.get_json(&path, &[]).await?;
        let mut body = json!({ "dnd": on });
        let address = match &current["emergencyAddressId"] {
            Value::String(id) => id.trim().parse::<i64>().ok(),
            Value::Number(id) => id.as_i64(),
            _ => None,
        };
        if let Some(address) = address {
            body["emergencyAddressId"] = address.into();
        }
        self.write_json(Method::PUT, &path, &[], Some(&body))
            .await
            .map(drop)
    }

    /// A phoneline's forwardings, and the user it belongs to (the token's own user first,
    /// then the account's others).
    pub async fn forwardings(
        &self,
        phoneline: &str,
    ) -> Result<(String, Vec<Forwarding>), ApiError> {
        let me: UserInfo = self.get_json("authorization/userinfo", &[]).await?;
        let mut users = vec![me.sub];
        let mut tried = 0;
        while tried < users.len() {
            let user = users[tried].clone();
            tried += 1;
            let path = forwardings_path(&user, phoneline);
            match self.get_json::<Forwardings>(&path, &[]).await {
                Ok(list) => return Ok((user, list.items)),
                Err(e) if e.kind == crate::api::ApiErrorKind::NotFound && tried == 1 => {
                    let all: Users = self.get_json("users", &[]).await?;
                    users.extend(all.items.into_iter().map(|u| u.id).filter(|id| *id != user));
                }
                Err(e) if e.kind == crate::api::ApiErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Err(ApiError::new(
            crate::api::ApiErrorKind::NotFound,
            format!("no user of the account has the phoneline {phoneline:?}"),
        ))
    }

    /// Replaces a phoneline's forwardings (`PUT`, the whole list).
    pub async fn set_forwardings(
        &self,
        user: &str,
        phoneline: &str,
        forwardings: &[Forwarding],
    ) -> Result<(), ApiError> {
        let body = json!({ "forwardings": forwardings });
        self.write_json(
            Method::PUT,
            &forwardings_path(user, phoneline),
            &[],
            Some(&body),
        )
        .await
        .map(drop)
    }
}

fn forwardings_path(user: &str, phoneline: &str) -> String {
    let segment = crate::api::writes::url_segment;
    format!(
        "{}/phonelines/{}/forwardings",
        segment(user),
        segment(phoneline)
    )
}

impl Client {
    /// The account's push API (sipgate.io) settings: `incomingUrl`, `outgoingUrl`, `log`,
    /// `whitelist` and whatever else upstream keeps there, as sent.
    pub async fn sipgateio_settings(&self) -> Result<Value, ApiError> {
        self.get_json("settings/sipgateio", &[]).await
    }

    /// Writes them back whole (the API takes the whole object).
    pub async fn set_sipgateio_settings(&self, settings: &Value) -> Result<(), ApiError> {
        self.write_json(Method::PUT, "settings/sipgateio", &[], Some(settings))
            .await
            .map(drop)
    }
}
