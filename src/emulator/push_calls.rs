//! Calls played through the push API: `POST /_emulator/calls {from, to, direction, answer,
//! duration_s, end}` posts `newCall` to the URL the account's `/settings/sipgateio` names for
//! the direction, then `answer` (if the call is answered and the receiver asked for it with
//! `onAnswer`), and, unless `end` is false, adds the finished call to the history and posts
//! `hangup` (if asked for with `onHangup`), as sipgate does. A call played with `end: false`
//! rings (or is talked) until `POST /_emulator/calls/{callId}/hangup`.
//!
//! Faults per call: `lose` (events not posted), `duplicate` (events posted twice), and `late`
//! (`["answer"]`: the answer arrives after the hangup, as a delayed post would).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::push_call::{PlayRequest, PushCall};
use super::server::Shared;

/// The emulator's own key for the push API's `x-sipgate-signature` (a test key made once with
/// openssl, not a secret); its public half is [`PUSH_PUBLIC_KEY`], printed by
/// `sipmirror emulator --print-push-key`.
const PUSH_SIGNING_KEY: &[u8] = include_bytes!("data/push-key.pk8");

/// The public half of the emulator's push key, PEM.
pub const PUSH_PUBLIC_KEY: &str = include_str!("data/push-key.pub.pem");

/// `x-sipgate-signature` of `body`: RSA-SHA256 (PKCS#1 v1.5), base64, as sipgate signs.
fn signature(body: &[u8]) -> Result<String, String> {
    use base64::Engine;
    let key = ring::signature::RsaKeyPair::from_pkcs8(PUSH_SIGNING_KEY)
        .map_err(|e| format!("the emulator's push key: {e}"))?;
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        body,
        &mut signature,
    )
    .map_err(|e| format!("signing a push: {e}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signature))
}

/// The group's users: the account's own first, then numbered ones.
fn users(r: &PlayRequest) -> Vec<(String, String)> {
    (0..r.users.max(1))
        .map(|i| match i {
            0 => ("Jürgen".to_string(), "w0".to_string()),
            _ => (format!("User {i}"), format!("w{}", i + 1)),
        })
        .collect()
}

fn digits(number: &str) -> String {
    number.trim().trim_start_matches('+').to_string()
}

fn fields(id: &str, r: &PlayRequest, event: &str) -> Vec<(String, String)> {
    let mut fields = vec![
        ("event".to_string(), event.to_string()),
        ("callId".into(), id.to_string()),
        ("origCallId".into(), id.to_string()),
        ("from".into(), digits(&r.from)),
        ("to".into(), digits(&r.to)),
        ("direction".into(), r.direction.clone()),
    ];
    match event {
        "newCall" => {
            for (name, user) in users(r) {
                fields.push(("user[]".into(), name));
                fields.push(("fullUserId[]".into(), format!("1234567{user}")));
                fields.push(("userId[]".into(), user));
            }
            fields.push(("xcid".into(), format!("x{id}")));
        }
        "answer" => {
            // Who answered: the first of the group.
            if let Some((name, user)) = users(r).into_iter().next() {
                fields.push(("user[]".into(), name));
                fields.push(("fullUserId[]".into(), format!("1234567{user}")));
                fields.push(("userId[]".into(), user));
            }
            fields.push(("answeringNumber".into(), digits(&r.to)));
        }
        _ => {
            let cause = if r.answer { "normalClearing" } else { "cancel" };
            fields.push(("cause".into(), cause.into()));
            if r.answer {
                fields.push(("answeringNumber".into(), digits(&r.to)));
            }
        }
    }
    fields
}

/// Posts one event (twice when asked, not at all when it is to be lost); returns the body of
/// the (last) answer.
async fn post(url: &str, id: &str, r: &PlayRequest, event: &str) -> Result<String, String> {
    if r.lose.contains(event) {
        return Ok(String::new());
    }
    crate::api::install_tls_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let times = if r.duplicate.contains(event) { 2 } else { 1 };
    let mut body = String::new();
    let form = fields(id, r, event);
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&form)
        .finish();
    let signed = signature(encoded.as_bytes())?;
    for _ in 0..times {
        let answer = client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-sipgate-signature", &signed)
            .body(encoded.clone())
            .send()
            .await
            .map_err(|e| format!("posting {event} to {url}: {e}"))?;
        if !answer.status().is_success() {
            return Err(format!(
                "{event}: the receiver answered {}",
                answer.status()
            ));
        }
        body = answer.text().await.map_err(|e| e.to_string())?;
    }
    Ok(body)
}

/// The value of `attribute` on the answer's `<Response>` element, unescaped. (The emulator
/// reads the receiver's answer the way a plain XML reader would; attributes are quoted with
/// `"` or `'`.)
fn response_attribute(xml: &str, attribute: &str) -> Option<String> {
    let start = xml.find("<Response")?;
    let tag = &xml[start..start + xml[start..].find('>')?];
    let at = tag.find(&format!(" {attribute}="))? + attribute.len() + 2;
    let quote = tag[at..]
        .chars()
        .next()
        .filter(|q| *q == '"' || *q == '\'')?;
    let value = &tag[at + 1..];
    let value = &value[..value.find(quote)?];
    quick_xml::escape::unescape(value)
        .ok()
        .map(|v| v.into_owned())
}

/// Plays a call (see the module documentation).
pub async fn play(shared: Arc<Shared>, request: PlayRequest) -> Result<Value, String> {
    if !matches!(request.direction.as_str(), "in" | "out") {
        return Err("direction must be in or out".into());
    }
    let key = if request.direction == "in" {
        "incomingUrl"
    } else {
        "outgoingUrl"
    };
    let url = shared.read().sipgateio[key]
        .as_str()
        .unwrap_or("")
        .to_string();
    if url.is_empty() {
        return Err(format!(
            "the account's {key} is not set (PUT /v2/settings/sipgateio)"
        ));
    }
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!("{:012X}{n:04}", chrono::Utc::now().timestamp_millis());
    let answer = post(&url, &id, &request, "newCall").await?;
    let on_answer = response_attribute(&answer, "onAnswer");
    let on_hangup = response_attribute(&answer, "onHangup");
    let call = PushCall {
        request: request.clone(),
        on_hangup,
    };
    let answer_late = request.end && request.late.contains("answer");
    let mut history = None;
    if answer_late {
        history = Some(finish(&shared, &id, call.clone()).await?);
    }
    if let (true, Some(url)) = (request.answer, &on_answer) {
        post(url, &id, &request, "answer").await?;
    }
    if !request.end {
        shared.write().push_calls.insert(id.clone(), call);
        return Ok(json!({ "callId": id }));
    }
    if !answer_late {
        history = Some(finish(&shared, &id, call).await?);
    }
    Ok(json!({ "callId": id, "historyId": history }))
}

/// Hangs up a call played with `end: false`.
pub async fn hang_up(shared: Arc<Shared>, id: &str) -> Result<Value, String> {
    let call = shared
        .write()
        .push_calls
        .remove(id)
        .ok_or_else(|| format!("no ringing or talking call {id:?}"))?;
    let history = finish(&shared, id, call).await?;
    Ok(json!({ "callId": id, "historyId": history }))
}

/// The call ends: into the history first (sipgate lists it when it ends), then `hangup`.
async fn finish(shared: &Arc<Shared>, id: &str, call: PushCall) -> Result<u64, String> {
    let r = &call.request;
    let history = {
        let mut world = shared.write();
        let history = world.add_finished_call(
            &digits(&r.from),
            &digits(&r.to),
            r.direction == "in",
            r.answer,
            r.duration_s,
            chrono::Utc::now().timestamp_millis(),
        );
        world.push_call_ids.insert(history, id.to_string());
        history
    };
    if let Some(url) = &call.on_hangup {
        post(url, id, r, "hangup").await?;
    }
    Ok(history)
}
