//! Running calls and callthrough (`/{userId}/sessions/...`). Online only: a call is not
//! mirrored, it is there while it rings or talks.

use serde::{Deserialize, Serialize};

use crate::api::{ApiError, Body, Client, CreateError, Method, parse_json};

/// A running call (`/sessions/calls/`).
#[derive(Debug, Deserialize, Serialize, Clone, PartialEq)]
pub struct WireSession {
    #[serde(rename = "sessionId")]
    pub session_id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub caller: Option<String>,
    #[serde(default)]
    pub callee: Option<String>,
    #[serde(default)]
    pub recording: Option<bool>,
    #[serde(default)]
    pub members: Vec<WireMember>,
}

#[derive(Debug, Deserialize, Serialize, Clone, PartialEq)]
pub struct WireMember {
    #[serde(rename = "memberId")]
    pub member_id: String,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub parked: Option<bool>,
}

#[derive(Deserialize)]
struct SessionsEnvelope {
    sessions: SessionList,
}

#[derive(Deserialize)]
struct SessionList {
    #[serde(default)]
    calls: Vec<WireSession>,
}

#[derive(Deserialize)]
struct CallEnvelope {
    #[serde(rename = "Call")]
    call: WireSession,
}

#[derive(Deserialize)]
struct CallthroughEnvelope {
    #[serde(rename = "Callthrough")]
    callthrough: Callthrough,
}

#[derive(Deserialize)]
struct Callthrough {
    number: String,
}

fn parse_call(body: &[u8], what: &str) -> Result<WireSession, ApiError> {
    parse_json::<CallEnvelope>(body)
        .map(|e| e.call)
        .map_err(|e| e.context(what))
}

impl Client {
    /// Running calls.
    pub async fn sessions(&self) -> Result<Vec<WireSession>, ApiError> {
        let envelope: SessionsEnvelope = self.get_json("sessions/calls/", &[]).await?;
        Ok(envelope.sessions.calls)
    }

    /// One running call.
    pub async fn session(&self, id: &str) -> Result<WireSession, ApiError> {
        let envelope: CallEnvelope = self.get_json(&format!("sessions/calls/{id}/"), &[]).await?;
        Ok(envelope.call)
    }

    /// Starts a call (`POST /sessions/calls/`). Not idempotent: a retry could ring twice, so
    /// it is tried once.
    pub async fn dial(
        &self,
        caller: &str,
        callee: &str,
        register_sip: Option<&str>,
    ) -> Result<WireSession, CreateError> {
        let mut form = vec![
            ("caller", caller.to_string()),
            ("callee", callee.to_string()),
        ];
        if let Some(id) = register_sip {
            form.push(("registerSip", id.to_string()));
        }
        let body = self
            .create("sessions/calls/", &[], Body::Form(&form))
            .await?;
        parse_call(&body, "sessions/calls").map_err(|error| CreateError {
            error: error.context("the call was placed but its answer is unreadable"),
            delivery: crate::api::Delivery::Unknown,
        })
    }

    /// Hangs up a running call.
    pub async fn hang_up(&self, id: &str) -> Result<(), ApiError> {
        self.write_idempotent(Method::DELETE, &format!("sessions/calls/{id}/"), &[])
            .await
            .map(drop)
    }

    /// Switches the recording of a running call on or off.
    pub async fn set_recording(&self, id: &str, on: bool) -> Result<WireSession, ApiError> {
        let path = format!("sessions/calls/{id}/recording/");
        let body = self
            .write_idempotent(Method::PUT, &path, &[("value", on.to_string())])
            .await?;
        parse_call(&body, &path)
    }

    /// Parks or unparks one member of a running call.
    pub async fn set_parking(
        &self,
        id: &str,
        member: &str,
        on: bool,
    ) -> Result<WireSession, ApiError> {
        let path = format!("sessions/calls/{id}/member/{member}/parking/");
        let body = self
            .write_idempotent(Method::PUT, &path, &[("value", on.to_string())])
            .await?;
        parse_call(&body, &path)
    }

    /// The number to dial to be connected from `source` to `target`. Asking twice does no
    /// harm, so it is retried like a read.
    pub async fn callthrough(&self, source: &str, target: &str) -> Result<String, ApiError> {
        let form = [
            ("sourceNumber", source.to_string()),
            ("targetNumber", target.to_string()),
        ];
        let path = "sessions/callthrough/";
        let body = self.write_idempotent(Method::POST, path, &form).await?;
        parse_json::<CallthroughEnvelope>(&body)
            .map(|e| e.callthrough.number)
            .map_err(|e| e.context(path))
    }
}
