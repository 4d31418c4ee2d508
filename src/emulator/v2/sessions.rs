//! `/v2/sessions/sms` and `/v2/sessions/fax`: sending through v2. A message becomes an
//! outgoing history entry at once; a fax answers its `sessionId` (its history id) and moves
//! PENDING → SENDING → SENT (FAILED for an unreachable number) over the reads of its entry.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};

use super::history::history_id;
use super::{Shr, V2Error, V2Result, ok};
use crate::emulator::media;

/// The most characters an SMS takes (three concatenated messages).
const MAX_SMS_CHARS: usize = 460;
/// The reference's `maxLength` of `base64Content`.
const MAX_BASE64: usize = 28_330_000;
/// How far ahead `sendAt` may lie.
const MAX_SEND_AHEAD_S: i64 = 30 * 86_400;

pub fn routes() -> Router<Shr> {
    Router::new()
        .route("/sessions/sms", post(sms))
        .route("/sessions/fax", post(fax))
}

fn body(bytes: &Bytes) -> Result<Value, V2Error> {
    serde_json::from_slice(bytes).map_err(|e| V2Error::bad_request(format!("invalid JSON: {e}")))
}

fn text<'a>(request: &'a Value, key: &str) -> Result<&'a str, V2Error> {
    request[key]
        .as_str()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| V2Error::bad_request(format!("{key} is required")))
}

/// `+4930...` as the world's digits.
fn recipient(request: &Value) -> Result<String, V2Error> {
    let number = text(request, "recipient")?;
    let digits = number.strip_prefix('+').unwrap_or(number);
    if (6..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
    {
        Ok(digits.to_string())
    } else {
        Err(V2Error::bad_request(format!(
            "recipient {number:?} is not an E.164 number"
        )))
    }
}

/// The extension must be one of the account's, of the right kind: else 403, as sipgate
/// answers for an extension the user may not use.
fn own_extension(shared: &Shr, id: &str, kind: &str) -> Result<(), V2Error> {
    let known = shared
        .read()
        .account
        .extensions
        .iter()
        .any(|x| x.id == id && x.kind == kind);
    if known {
        Ok(())
    } else {
        Err(V2Error::forbidden(format!(
            "{id:?} is not an extension of yours to send from"
        )))
    }
}

fn credit(shared: &Shr) -> Result<(), V2Error> {
    if shared.faults().faults.no_credit {
        Err(V2Error::new(
            StatusCode::PAYMENT_REQUIRED,
            "INSUFFICIENT_FUNDS",
            "insufficient funds",
        ))
    } else {
        Ok(())
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `POST /sessions/sms` `{smsId, recipient, message, sendAt?}`: 204, no body.
async fn sms(State(shared): State<Shr>, bytes: Bytes) -> V2Result {
    let request = body(&bytes)?;
    let sms_id = text(&request, "smsId")?;
    let target = recipient(&request)?;
    let message = text(&request, "message")?;
    if message.chars().count() > MAX_SMS_CHARS {
        return Err(V2Error::bad_request("message longer than 460 characters"));
    }
    let now = now_ms();
    let scheduled_ms = match &request["sendAt"] {
        Value::Null => None,
        value => {
            let at = value
                .as_i64()
                .ok_or_else(|| V2Error::bad_request("sendAt must be Unix seconds"))?;
            let ahead = at - now / 1000;
            if !(0..=MAX_SEND_AHEAD_S).contains(&ahead) {
                return Err(V2Error::bad_request(
                    "sendAt must lie between now and 30 days ahead",
                ));
            }
            Some(at * 1000)
        }
    };
    own_extension(&shared, sms_id, "sms")?;
    credit(&shared)?;
    shared
        .write()
        .send_sms(&[target], None, message, scheduled_ms, now);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /sessions/fax` `{faxlineId, recipient, filename, base64Content}`: `{sessionId}`.
async fn fax(State(shared): State<Shr>, bytes: Bytes) -> V2Result {
    let request = body(&bytes)?;
    let faxline = text(&request, "faxlineId")?;
    let target = recipient(&request)?;
    text(&request, "filename")?;
    let content = text(&request, "base64Content")?;
    if content.len() > MAX_BASE64 {
        return Err(V2Error::bad_request("base64Content is too long"));
    }
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(content)
        .map_err(|_| V2Error::bad_request("base64Content is not base64"))?;
    let pages =
        media::pdf_pages(&pdf).ok_or_else(|| V2Error::bad_request("the document is not a PDF"))?;
    own_extension(&shared, faxline, "fax")?;
    credit(&shared)?;
    let text_ids = shared.faults().faults.text_ids;
    let id = shared
        .write()
        .send_fax_in_progress(&target, pages, now_ms());
    ok(&json!({ "sessionId": history_id(id, text_ids) }))
}
