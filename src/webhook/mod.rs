//! `sipmirror webhook`: a receiver for sipgate's push API. sipgate posts every call's
//! `newCall`, `answer` and `hangup` (and `dtmf`) to a URL of the account's; the receiver keeps
//! them in `live_calls`, answers `newCall` with the XML that asks for `onAnswer` and `onHangup`
//! to come back to it (it changes nothing about how the call is routed), and after a hangup
//! pulls the history, so the finished call is in `calls` seconds later.
//!
//! It listens on the internet behind a reverse proxy, so everything is checked: POST only
//! (405), form bodies only (415), at most 16 KiB (413), the secret `?key=` of every post
//! (403), an allowed source address and a valid `x-sipgate-signature` where configured (403),
//! a known event with well-formed fields (400), and at most `max_per_second` posts a second
//! (429). Who sent a post is checked before anything is counted, so refused posts never use
//! up what real ones may send (they have their own cap, past which they get a bare 429).
//! Connections are guarded as `serve-phonebook`'s are (`http_server`), and a body must come
//! within 10 s. Nothing is stored unless all of that holds. The receiver writes only
//! `mirror_live_calls`, and the pull writes what a sync writes.

pub mod event;
mod pull;
mod signature;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::store::{Mirror, live_calls, now_utc};
use event::PushEvent;

pub use pull::{PullTiming, Puller};

/// The largest post taken.
const MAX_BODY: usize = 16 * 1024;

/// What the receiver needs to answer posts.
pub struct Receiver {
    /// The path sipgate posts to (the public URL's path).
    pub path: String,
    /// The public URL, with the key, for `onAnswer` and `onHangup`.
    pub callback_url: String,
    /// `?key=` every post must carry; `None` with `--no-key`.
    pub key: Option<String>,
    pub country_code: String,
    pub max_per_second: u64,
    /// Addresses posts may come from; empty: any.
    allow: Vec<IpAddr>,
    /// The header a reverse proxy puts the client's address in, when configured.
    proxy_header: Option<String>,
    public_key: Option<signature::PublicKey>,
    pub mirror: Mutex<Mirror>,
    pub hangups: std::sync::mpsc::Sender<()>,
    /// Posts that passed every check, this second: at most `max_per_second`.
    admitted: PerSecond,
    /// Posts refused for their key, source or signature, this second: counted apart, so a
    /// flood of them never uses up what real posts may send.
    refused: PerSecond,
}

/// The refused posts answered with 403 in a second; past that they get a bare 429.
const REFUSED_PER_SECOND: u64 = 100;

/// How long a client may take to send a post's body once its headers are in.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A count of things in the current second.
#[derive(Default)]
struct PerSecond(Mutex<(i64, u64)>);

impl PerSecond {
    /// Counts one; whether it is within `limit` for this second.
    fn take(&self, limit: u64) -> bool {
        let second = chrono::Utc::now().timestamp();
        let mut window = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if window.0 != second {
            *window = (second, 0);
        }
        window.1 += 1;
        window.1 <= limit
    }
}

impl Receiver {
    pub fn new(
        settings: &Settings,
        public_url: &str,
        key: Option<String>,
        max_per_second: u64,
        mirror: Mirror,
        hangups: std::sync::mpsc::Sender<()>,
    ) -> Result<Receiver> {
        let url = url::Url::parse(public_url)
            .map_err(|e| Error::usage(format!("--public-url {public_url:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(Error::usage(format!(
                "--public-url {public_url:?}: give an http(s) URL without a query (the key is added to it)"
            )));
        }
        let mut callback = url.clone();
        if let Some(key) = &key {
            callback.query_pairs_mut().append_pair("key", key);
        }
        let public_key = settings
            .webhook
            .public_key_file
            .as_deref()
            .map(signature::PublicKey::read)
            .transpose()?;
        Ok(Receiver {
            allow: settings
                .webhook
                .allow
                .iter()
                .map(IpAddr::to_canonical)
                .collect(),
            proxy_header: settings.webhook.proxy_header.clone(),
            public_key,
            path: url.path().to_string(),
            callback_url: callback.to_string(),
            key,
            country_code: settings.country_code.clone(),
            max_per_second,
            mirror: Mutex::new(mirror),
            hangups,
            admitted: PerSecond::default(),
            refused: PerSecond::default(),
        })
    }

    fn key_matches(&self, uri: &Uri) -> bool {
        let Some(expected) = &self.key else {
            return true;
        };
        let given = uri
            .query()
            .and_then(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "key")
                    .map(|(_, v)| v.into_owned())
            })
            .unwrap_or_default();
        // Compared in constant time: how long a wrong key takes says nothing of the right one.
        given.len() == expected.len()
            && given
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Whether the post comes from an allowed address: the peer's, or with a proxy header
    /// configured, the last address the proxy put there. A proxy appends its entry, as a last
    /// line or the last item of the last line, so the last item of all lines is the one to
    /// trust; whatever the client sent comes before it. Addresses are compared in their
    /// canonical form: a listener on `[::]` sees IPv4 peers as `::ffff:a.b.c.d`.
    fn source_allowed(&self, peer: SocketAddr, headers: &HeaderMap) -> bool {
        if self.allow.is_empty() {
            return true;
        }
        let source = match &self.proxy_header {
            None => Some(peer.ip()),
            Some(name) => headers
                .get_all(name.as_str())
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|last| last.trim().parse::<IpAddr>().ok()),
        };
        source.is_some_and(|ip| self.allow.contains(&ip.to_canonical()))
    }

    /// The answer to a post refused for who sent it: 403, or past `REFUSED_PER_SECOND` a
    /// bare 429.
    fn refuse(&self, message: &str) -> Response {
        if self.refused.take(REFUSED_PER_SECOND) {
            text(StatusCode::FORBIDDEN, message)
        } else {
            StatusCode::TOO_MANY_REQUESTS.into_response()
        }
    }

    fn signature_valid(&self, headers: &HeaderMap, body: &[u8]) -> bool {
        let Some(key) = &self.public_key else {
            return true;
        };
        headers
            .get("x-sipgate-signature")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|signature| key.verifies(body, signature))
    }

    /// The answer to `newCall`: ask for `answer` and `hangup` to come back here.
    fn new_call_answer(&self) -> String {
        let url = quick_xml::escape::escape(self.callback_url.as_str());
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response onAnswer=\"{url}\" onHangup=\"{url}\"/>\n"
        )
    }
}

/// The receiver's routes: POST at the public URL's path.
pub fn router(receiver: Arc<Receiver>) -> Router {
    Router::new()
        .route(&receiver.path.clone(), post(receive))
        .with_state(receiver)
}

fn text(status: StatusCode, message: &str) -> Response {
    (status, format!("{message}\n")).into_response()
}

/// Reads a post's body: at most `MAX_BODY` bytes (413), within `BODY_TIMEOUT` (408).
async fn read_body(body: Body) -> std::result::Result<Bytes, Response> {
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(text(StatusCode::PAYLOAD_TOO_LARGE, "the post is too large")),
        Err(_) => Err(text(
            StatusCode::REQUEST_TIMEOUT,
            "the post's body came too slowly",
        )),
    }
}

/// Whether the media type is a form's, compared as media types are: without case.
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Checks in order of cost, and who sent a post before anything is counted against what real
/// posts may send: source and key (no body read), then the body and its signature, and only
/// then the rate limit of admitted posts.
async fn receive(
    State(receiver): State<Arc<Receiver>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !receiver.source_allowed(peer, &headers) {
        return receiver.refuse("not an allowed source");
    }
    if !receiver.key_matches(&uri) {
        return receiver.refuse("wrong or missing key");
    }
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    if !receiver.signature_valid(&headers, &body) {
        return receiver.refuse("missing or bad x-sipgate-signature");
    }
    if !receiver.admitted.take(receiver.max_per_second) {
        return text(StatusCode::TOO_MANY_REQUESTS, "too many posts this second");
    }
    if !is_form(&headers) {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "posts are application/x-www-form-urlencoded",
        );
    }
    let event = match event::parse(&body) {
        Ok(event) => event,
        Err(why) => return text(StatusCode::BAD_REQUEST, &why),
    };
    let stored = {
        let receiver = receiver.clone();
        let event = event.clone();
        tokio::task::spawn_blocking(move || {
            let mut mirror = receiver.mirror.lock().unwrap_or_else(|e| e.into_inner());
            live_calls::record(
                mirror.conn_mut(),
                &event,
                &now_utc(),
                &receiver.country_code,
            )
        })
        .await
    };
    match stored {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "a push post could not be stored");
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot store the post now; try again",
            );
        }
        Err(_) => return text(StatusCode::INTERNAL_SERVER_ERROR, "the store task failed"),
    }
    match event {
        PushEvent::NewCall(_) => (
            [(header::CONTENT_TYPE, "application/xml")],
            receiver.new_call_answer(),
        )
            .into_response(),
        PushEvent::Hangup(_) => {
            // The pull thread gone (it never ends on its own) only means no pull this time.
            let _ = receiver.hangups.send(());
            empty_answer()
        }
        PushEvent::Answer(_) | PushEvent::Dtmf { .. } => empty_answer(),
    }
}

fn empty_answer() -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response/>\n",
    )
        .into_response()
}
