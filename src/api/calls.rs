//! Running calls and Do Not Disturb, whatever the dialect: dial, list, show and control calls. The classic API's
//! sessions (`sessions.rs`) and v2's calls (`v2/actions.rs`) are turned into one
//! [`RunningCall`] here, so `commands/call.rs` is one command over both.

use serde::Serialize;

use super::sessions::WireSession;
use super::v2::actions::WireCall;
use super::{ApiError, ApiErrorKind, Client, CreateError, Delivery};
use crate::config::Api;
pub use crate::records::calls::{CallControl, Dial, Dialed, Party, RunningCall};

fn wire_json(wire: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(wire).unwrap_or(serde_json::Value::Null)
}

impl From<WireSession> for RunningCall {
    fn from(s: WireSession) -> RunningCall {
        RunningCall {
            wire: wire_json(&s),
            parties: s
                .members
                .into_iter()
                .map(|m| Party {
                    member: Some(m.member_id),
                    number: m.number,
                    parked: m.parked == Some(true),
                })
                .collect(),
            id: s.session_id,
            status: s.status,
            caller: s.caller,
            callee: s.callee,
            recording: s.recording == Some(true),
            muted: false,
            hold: false,
        }
    }
}

impl From<WireCall> for RunningCall {
    fn from(c: WireCall) -> RunningCall {
        RunningCall {
            wire: wire_json(&c),
            parties: c
                .participants
                .into_iter()
                .map(|p| Party {
                    member: None,
                    number: p.phone_number,
                    parked: false,
                })
                .collect(),
            id: c.call_id,
            status: None,
            caller: None,
            callee: None,
            recording: c.recording == Some(true),
            muted: c.muted == Some(true),
            hold: c.hold == Some(true),
        }
    }
}

fn not_delivered(error: ApiError) -> CreateError {
    CreateError {
        error,
        delivery: Delivery::NotDelivered,
    }
}

impl Client {
    /// Starts a call. Not idempotent (a retry could ring twice), so it is tried once.
    pub async fn dial_call(&self, dial: &Dial) -> Result<Dialed, CreateError> {
        match self.api() {
            Api::Classic => {
                let call = RunningCall::from(
                    self.dial(&dial.caller, &dial.callee, dial.register_sip.as_deref())
                        .await?,
                );
                Ok(Dialed {
                    id: call.id.clone(),
                    call: Some(call),
                })
            }
            Api::V2 => {
                let id = self
                    .dial_v2(
                        &dial.caller,
                        &dial.callee,
                        dial.device.as_deref(),
                        dial.caller_id.as_deref(),
                    )
                    .await?;
                Ok(Dialed { id, call: None })
            }
        }
    }

    /// The calls running now.
    pub async fn running_calls(&self) -> Result<Vec<RunningCall>, ApiError> {
        Ok(match self.api() {
            Api::Classic => self.sessions().await?.into_iter().map(Into::into).collect(),
            Api::V2 => self.calls().await?.into_iter().map(Into::into).collect(),
        })
    }

    /// One running call.
    pub async fn running_call(&self, id: &str) -> Result<RunningCall, ApiError> {
        match self.api() {
            Api::Classic => self.session(id).await.map(Into::into),
            // v2 has no call by id: the list is searched.
            Api::V2 => self
                .calls()
                .await?
                .into_iter()
                .find(|c| c.call_id == id)
                .map(Into::into)
                .ok_or_else(|| {
                    ApiError::new(
                        ApiErrorKind::NotFound,
                        format!("no running call {id:?} (GET /calls lists established calls only)"),
                    )
                }),
        }
    }

    /// Applies `control` to call `id`. Returns the call as it is now where upstream answers
    /// with it (the classic API does for recording and parking).
    pub async fn control_running_call(
        &self,
        id: &str,
        control: &CallControl,
    ) -> Result<Option<RunningCall>, CreateError> {
        match self.api() {
            Api::Classic => self.control_session(id, control).await,
            Api::V2 => self.control_call(id, control).await.map(|()| None),
        }
    }

    /// Switches Do Not Disturb: of an extension (classic) or of a device (v2), as `target`
    /// names it.
    pub async fn set_dnd(&self, target: &str, on: bool) -> Result<(), ApiError> {
        match self.api() {
            Api::Classic => self.set_extension_dnd(target, on).await,
            Api::V2 => self.set_device_dnd(target, on).await,
        }
    }

    async fn control_session(
        &self,
        id: &str,
        control: &CallControl,
    ) -> Result<Option<RunningCall>, CreateError> {
        let call = match control {
            CallControl::Hangup => {
                return self.hang_up(id).await.map(|()| None).map_err(not_delivered);
            }
            CallControl::Record {
                on,
                announce: false,
            } => self.set_recording(id, *on).await,
            CallControl::Park { member, on } => self.set_parking(id, member, *on).await,
            // Refused up front by the capability table; only a caller that skipped it gets here.
            CallControl::Record { announce: true, .. }
            | CallControl::Hold(_)
            | CallControl::Mute(_)
            | CallControl::Transfer { .. }
            | CallControl::Dtmf(_) => {
                return Err(CreateError::unsupported("this call control"));
            }
        };
        call.map(|c| Some(c.into())).map_err(not_delivered)
    }
}
