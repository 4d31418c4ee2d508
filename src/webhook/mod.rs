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
//! (429). Nothing is stored unless all of that holds. The receiver writes only
//! `mirror_live_calls`, and the pull writes what a sync writes.

pub mod event;
mod pull;
mod signature;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
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
    window: Mutex<(u64, u64)>,
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
            allow: settings.webhook.allow.clone(),
            proxy_header: settings.webhook.proxy_header.clone(),
            public_key,
            path: url.path().to_string(),
            callback_url: callback.to_string(),
            key,
            country_code: settings.country_code.clone(),
            max_per_second,
            mirror: Mutex::new(mirror),
            hangups,
            window: Mutex::new((0, 0)),
        })
    }

    /// Counts a post against this second's allowance.
    fn admit(&self) -> bool {
        let second = chrono::Utc::now().timestamp() as u64;
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if window.0 != second {
            *window = (second, 0);
        }
        window.1 += 1;
        window.1 <= self.max_per_second
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
    /// configured, the last address the proxy put there.
    fn source_allowed(&self, peer: SocketAddr, headers: &HeaderMap) -> bool {
        if self.allow.is_empty() {
            return true;
        }
        let source = match &self.proxy_header {
            None => Some(peer.ip()),
            Some(name) => headers
                .get(name.as_str())
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|last| last.trim().parse().ok()),
        };
        source.is_some_and(|ip| self.allow.contains(&ip))
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
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(receiver)
}

fn text(status: StatusCode, message: &str) -> Response {
    (status, format!("{message}\n")).into_response()
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !receiver.admit() {
        return text(StatusCode::TOO_MANY_REQUESTS, "too many posts this second");
    }
    if !receiver.source_allowed(peer, &headers) {
        return text(StatusCode::FORBIDDEN, "not an allowed source");
    }
    if !receiver.key_matches(&uri) {
        return text(StatusCode::FORBIDDEN, "wrong or missing key");
    }
    if !receiver.signature_valid(&headers, &body) {
        return text(StatusCode::FORBIDDEN, "missing or bad x-sipgate-signature");
    }
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
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
