//! The typed client for sipgate's REST API (or the built-in emulator).
//!
//! JSON via `Accept: application/json`, Basic auth and `version` on every call. Idempotent
//! requests are retried on transient errors (network faults, timeouts, 5xx, 429, cut or
//! unparseable bodies) with capped exponential backoff and jitter, honouring `Retry-After`;
//! other errors come back at once, typed as permanent. These types are the client's own; the
//! emulator renders the wire shapes itself.

mod classic_settings;
pub mod contact_record;
mod error;
pub mod event_record;
pub mod events;
mod records;
pub mod resources;
mod sends;
pub mod sessions;
mod settings_writes;
mod upstream;
pub mod v2;
pub mod writes;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
pub use reqwest::Method;
use reqwest::{StatusCode, header};
use serde::de::DeserializeOwned;

pub use error::{ApiError, ApiErrorKind};
pub use sends::Outgoing;
pub use upstream::Upstream;

use crate::config::{Api, Connection, HttpSettings, Secret};
use crate::error::{Error, Result, one_line};

/// When to give up and how long to wait between attempts.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// Exponential backoff with "equal jitter": half fixed, half random, so clients that failed
    /// together do not retry together. A longer `Retry-After` from upstream wins (up to a minute).
    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = self
            .base_delay
            .saturating_mul(1u32 << (attempt - 1).min(16));
        let capped = exponential.min(self.max_delay);
        let half = capped / 2;
        let jittered = half + half.mul_f64(random_unit());
        match retry_after {
            Some(wait) => jittered.max(wait.min(Duration::from_secs(60))),
            None => jittered,
        }
    }
}

/// A number in [0, 1) that differs between calls and processes (for jitter only).
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// What a request carries besides its query string.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    Empty,
    /// `application/x-www-form-urlencoded` fields; repeated keys for lists (`target`).
    Form(&'a [(&'a str, String)]),
    /// A raw PDF document (a fax).
    Pdf(&'a Bytes),
    /// A JSON document (v2).
    Json(&'a [u8]),
}

/// Whether upstream may have acted on a request that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// It did not: the connection was never made, or upstream answered with a 4xx (429
    /// included) saying it refused.
    NotDelivered,
    /// It may have: the request went out and the answer was lost, cut, timed out, or a 5xx.
    Unknown,
}

/// A failed [`Client::create`].
#[derive(Debug, Clone)]
pub struct CreateError {
    pub error: ApiError,
    pub delivery: Delivery,
}

impl CreateError {
    /// The error for the user: `what` failed, and when the request may have reached upstream,
    /// `maybe_done` says what may have happened all the same and where to look.
    pub fn into_error(self, what: &str, maybe_done: &str) -> Error {
        let error = Error::from(self.error);
        let message = match self.delivery {
            Delivery::Unknown => format!("{what}{error}; {maybe_done}"),
            Delivery::NotDelivered => format!("{what}{error}"),
        };
        Error::new(error.kind(), message)
    }
}

pub struct Client {
    http: reqwest::Client,
    api: Api,
    base: String,
    user_id: String,
    version: String,
    allow_insecure: bool,
    /// classic: the user name; v2: the token id.
    login: String,
    /// classic: the password; v2: the token.
    secret: Secret,
    policy: RetryPolicy,
    requests: AtomicU64,
}

impl Client {
    /// Checks the base URL and resolves the credentials (running `password_command` if set).
    pub fn new(connection: &Connection, settings: &HttpSettings) -> Result<Client> {
        let base = check_base_url(&connection.base_url, connection.allow_insecure)?;
        let (login, secret) = credentials(connection)?;
        let http = reqwest::Client::builder()
            .redirect(same_host_redirects())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("sipmirror/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::io(format!("cannot set up the HTTP client: {}", chain(&e))))?;
        Ok(Client {
            http,
            api: connection.api,
            base,
            user_id: connection.user_id.clone(),
            version: connection.api_version.clone(),
            allow_insecure: connection.allow_insecure,
            login,
            secret,
            policy: RetryPolicy {
                max_attempts: settings.max_attempts.max(1),
                base_delay: settings.retry_base,
                max_delay: Duration::from_secs(10),
            },
            requests: AtomicU64::new(0),
        })
    }

    /// How many times a request is tried in all; also how often a send is attempted in one
    /// run.
    pub fn max_attempts(&self) -> u32 {
        self.policy.max_attempts
    }

    /// The pause before attempt `attempt + 1`.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        self.policy.delay(attempt, retry_after)
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The dialect this client speaks.
    pub fn api(&self) -> Api {
        self.api
    }

    /// classic: `{base}/{userId}/{path}`; v2: `{base}/{path}`. `path` has no leading slash.
    pub fn url(&self, path: &str) -> String {
        match self.api {
            Api::Classic => format!("{}/{}/{}", self.base, self.user_id, path),
            Api::V2 => format!("{}/{}", self.base, path),
        }
    }

    /// How a request is named in errors: `GET /my/events/calls/` or `GET /history`.
    fn resource(&self, method: &Method, path: &str) -> String {
        match self.api {
            Api::Classic => format!("{method} /{}/{path}", self.user_id),
            Api::V2 => format!("{method} /{path}"),
        }
    }

    /// GETs `path` and parses the JSON body as `T`, retrying transient failures. `resource`
    /// names the request in errors.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let url = self.url(path);
        let resource = self.resource(&Method::GET, path);
        self.with_retries(&resource, || async {
            let body = self.send(Method::GET, &url, query, Body::Empty).await?;
            parse_json(&body)
        })
        .await
    }

    /// Sends an idempotent write to `path`, retrying transient failures: doing it twice leaves
    /// upstream as doing it once. PUT and DELETE, and the POSTs that set a value (DND, the
    /// outgoing number), whose fields go in a form body. Creates never come through here; see
    /// [`Client::create`].
    pub async fn write_idempotent(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Bytes, ApiError> {
        let url = self.url(path);
        let resource = self.resource(&method, path);
        let (query, form) = if method == Method::POST {
            (&[][..], Body::Form(query))
        } else {
            (query, Body::Empty)
        };
        self.with_retries(&resource, || async {
            self.send(method.clone(), &url, query, form).await
        })
        .await
    }

    /// Sends an idempotent write with a JSON body (v2), retrying transient failures: the body
    /// holds target values, so doing it twice leaves upstream as doing it once.
    pub async fn write_json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Bytes, ApiError> {
        let url = self.url(path);
        let resource = self.resource(&method, path);
        let bytes = body.map(|b| b.to_string().into_bytes());
        self.with_retries(&resource, || async {
            let body = bytes.as_deref().map_or(Body::Empty, Body::Json);
            self.send(method.clone(), &url, query, body).await
        })
        .await
    }

    /// Sends a request that is not idempotent (an SMS, a fax, a call) exactly once: no
    /// automatic retry. On failure, the error says whether upstream may have acted, so the
    /// caller can look before trying again.
    pub async fn create(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: Body<'_>,
    ) -> Result<Bytes, CreateError> {
        let url = self.url(path);
        let resource = self.resource(&Method::POST, path);
        self.send(Method::POST, &url, query, body)
            .await
            .map_err(|error| CreateError {
                delivery: error.delivery(),
                error: error.context(&resource),
            })
    }

    async fn with_retries<T, F, Fut>(&self, resource: &str, mut attempt: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt().await {
                Ok(value) => return Ok(value),
                Err(e) if e.is_transient() && tries < self.policy.max_attempts => {
                    let wait = self.policy.delay(tries, e.retry_after);
                    tracing::debug!(%resource, attempt = tries, error = %e, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e) if e.is_transient() => {
                    return Err(e.context(&format!("{resource} (gave up after {tries} attempts)")));
                }
                Err(e) => return Err(e.context(resource)),
            }
        }
    }

    /// One request; a status other than 2xx is an error.
    async fn send(
        &self,
        method: Method,
        url: &str,
        query: &[(&str, String)],
        body: Body<'_>,
    ) -> Result<Bytes, ApiError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut params: Vec<(&str, &str)> = Vec::with_capacity(query.len() + 1);
        if self.api == Api::Classic {
            params.push(("version", self.version.as_str()));
        }
        params.extend(query.iter().map(|(k, v)| (*k, v.as_str())));
        let mut request = self
            .http
            .request(method, url)
            .query(&params)
            .basic_auth(&self.login, Some(self.secret.expose()))
            .header(header::ACCEPT, "application/json");
        request = match body {
            Body::Empty => request,
            Body::Form(fields) => request.form(fields),
            Body::Pdf(bytes) => request
                .header(header::CONTENT_TYPE, "application/pdf")
                .body(bytes.clone()),
            Body::Json(bytes) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(bytes.to_vec()),
        };
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map_err(transport_error)?;
        if status.is_success() {
            return Ok(body);
        }
        let path = url.strip_prefix(self.base.as_str()).unwrap_or(url);
        Err(status_error(self.api, path, status, &body, retry_after))
    }
}

/// The login and the secret of the dialect in use; a one-line usage error naming what is
/// missing.
fn credentials(connection: &Connection) -> Result<(String, Secret)> {
    match connection.api {
        Api::Classic => {
            let username = connection.username.clone().ok_or_else(|| {
                Error::usage("no user name configured: set SIPGATE_USERNAME, --username or username in the config file (or use --api v2 with a token)")
            })?;
            Ok((username, connection.password.resolve()?))
        }
        Api::V2 => {
            let token_id = connection.token_id.clone().ok_or_else(|| {
                Error::usage("no personal access token configured: set SIPGATE_TOKEN_ID and SIPGATE_TOKEN, or token_id and token / token_command in the config file (create one at app.sipgate.com/personal-access-token)")
            })?;
            Ok((token_id, connection.token.resolve()?))
        }
    }
}

/// Downloads follow upstream's 307 to the file, but only on the same host and port (the
/// credentials must not travel elsewhere) and at most five times (no loops).
fn same_host_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let origin = attempt
            .previous()
            .first()
            .map(|u| (u.host_str().map(str::to_string), u.port_or_known_default()));
        let target = (
            attempt.url().host_str().map(str::to_string),
            attempt.url().port_or_known_default(),
        );
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects (a loop?)")
        } else if origin.is_some_and(|o| o != target) {
            let to = attempt.url().host_str().unwrap_or("?").to_string();
            attempt.error(format!("redirect to another host ({to}) refused"))
        } else {
            attempt.follow()
        }
    })
}

impl Client {
    /// GETs an absolute media URL from an event and returns the body and its Content-Type,
    /// retrying transient failures. classic: the URL must be on the configured upstream (same
    /// scheme, host and port), and the credentials go with it. v2: media links are capability
    /// URLs on sipgate's download host; they are fetched without credentials, over https
    /// (plain http only to loopback, or with `--allow-insecure`).
    pub async fn download(&self, url: &str, max_bytes: u64) -> Result<(String, Bytes), ApiError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            ApiError::new(
                ApiErrorKind::Permanent,
                format!("{} is not a URL: {e}", one_line(url)),
            )
        })?;
        let authenticated = match self.api {
            Api::Classic => {
                if !same_origin(&parsed, &self.base) {
                    return Err(ApiError::new(
                        ApiErrorKind::Permanent,
                        format!(
                            "{} is not on the configured upstream {}",
                            one_line(url),
                            self.base
                        ),
                    ));
                }
                true
            }
            Api::V2 => {
                let allowed = parsed.scheme() == "https"
                    || (parsed.scheme() == "http" && (is_loopback(&parsed) || self.allow_insecure));
                if !allowed {
                    return Err(ApiError::new(
                        ApiErrorKind::Permanent,
                        format!("refusing to download {} over plain http", one_line(url)),
                    ));
                }
                false
            }
        };
        self.with_retries(&format!("GET {}", one_line(url)), || async {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let mut request = self.http.get(url);
            if authenticated {
                request = request
                    .query(&[("version", self.version.as_str())])
                    .basic_auth(&self.login, Some(self.secret.expose()));
            }
            let mut response = request.send().await.map_err(transport_error)?;
            let status = response.status();
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_string();
            let too_large = || {
                ApiError::new(
                    ApiErrorKind::Permanent,
                    format!(
                        "larger than the {} MiB allowed (see [media] max_*_mib)",
                        max_bytes / 1024 / 1024
                    ),
                )
            };
            if response.content_length().is_some_and(|n| n > max_bytes) {
                return Err(too_large());
            }
            // Read piece by piece, and stop at the limit: a body is never held past it.
            let mut body = bytes::BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
                if body.len() as u64 + chunk.len() as u64 > max_bytes {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            let body = body.freeze();
            if status.is_success() {
                Ok((content_type, body))
            } else {
                Err(status_error(self.api, parsed.path(), status, &body, None))
            }
        })
        .await
    }
}

/// Whether `url` has the scheme, host and port of `base` (compared parsed, not as text:
/// `http://127.0.0.12` is not `http://127.0.0.1`).
fn same_origin(url: &reqwest::Url, base: &str) -> bool {
    let Ok(base) = reqwest::Url::parse(base) else {
        return false;
    };
    url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default()
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn status_error(
    api: Api,
    path: &str,
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> ApiError {
    let detail = upstream_message(body);
    let (kind, text) = match (status.as_u16(), api) {
        (401, Api::Classic) => (
            ApiErrorKind::Unauthorized,
            "upstream refused the credentials (401); check SIPGATE_USERNAME and SIPGATE_PASSWORD"
                .to_string(),
        ),
        (401, Api::V2) => (
            ApiErrorKind::Unauthorized,
            "upstream refused the personal access token (401); check SIPGATE_TOKEN_ID and SIPGATE_TOKEN (or token_id and token in the config file)"
                .to_string(),
        ),
        (403, Api::V2) => (
            ApiErrorKind::Permanent,
            format!(
                "forbidden (403): the token needs the scope {} (or the feature is not booked for this account){detail}",
                v2::scope_for(path)
            ),
        ),
        (402, _) => (
            ApiErrorKind::Permanent,
            format!("upstream refused it: the account has no credit left (402){detail}"),
        ),
        (404, _) => (ApiErrorKind::NotFound, format!("not found (404){detail}")),
        (408 | 429 | 500..=599, _) => (
            ApiErrorKind::Transient,
            format!("upstream answered {status}{detail}"),
        ),
        _ => (
            ApiErrorKind::Permanent,
            format!("upstream refused the request: {status}{detail}"),
        ),
    };
    ApiError {
        kind,
        status: Some(status.as_u16()),
        message: text,
        retry_after,
        reached_upstream: true,
    }
}

/// The message of an upstream error body, if it has one, as `: message`. Classic sends
/// `{"error": {"message"}}`; v2 `{"name", "message"}` or `{"errors": [{"detail"}]}` or nothing,
/// so nothing here may be relied on.
fn upstream_message(body: &[u8]) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    parsed
        .as_ref()
        .and_then(|v| {
            v["error"]["message"]
                .as_str()
                .or(v["message"].as_str())
                .or(v["errors"][0]["detail"].as_str())
        })
        .map(|m| format!(": {}", one_line(m).chars().take(200).collect::<String>()))
        .unwrap_or_default()
}

fn transport_error(e: reqwest::Error) -> ApiError {
    if e.is_redirect() {
        return ApiError::new(ApiErrorKind::Permanent, chain(&e));
    }
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "request failed"
    };
    let mut error = ApiError::new(ApiErrorKind::Transient, format!("{what}: {}", chain(&e)));
    error.reached_upstream = !e.is_connect();
    error
}

/// An error and its sources on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    one_line(&text)
}

/// Parses a body, naming the field that does not fit. Syntax errors (a cut or garbled body)
/// are transient; a well-formed body of the wrong shape is permanent.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // Bodies are nearly always right: parse at full speed first, and only a body that fails
    // is parsed again tracking the path, to name the field (tracking costs a third more).
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        // The path holds upstream's key names, which may hold anything.
        let path = one_line(&e.path().to_string());
        let inner = e.inner();
        let kind = match inner.classify() {
            serde_json::error::Category::Data => ApiErrorKind::Permanent,
            _ => ApiErrorKind::Transient,
        };
        let place = if path == "." {
            String::new()
        } else {
            format!(" at {path}")
        };
        let what = if kind == ApiErrorKind::Transient {
            "unreadable answer"
        } else {
            "unexpected answer"
        };
        ApiError::new(kind, format!("{what}{place}: {inner}"))
    })
}

/// `https://` is required, except for loopback addresses (the emulator) or with
/// `allow_insecure`. Returns the URL without a trailing slash.
fn check_base_url(url: &str, allow_insecure: bool) -> Result<String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::usage(format!("base URL {url:?} is not a URL: {e}")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback || allow_insecure => {}
        "http" => {
            return Err(Error::usage(format!(
                "refusing plain http:// to {}: the password would cross the network unencrypted; use https:// or pass --allow-insecure",
                parsed.host_str().unwrap_or("?")
            )));
        }
        other => {
            return Err(Error::usage(format!(
                "base URL {url:?}: unsupported scheme {other:?}"
            )));
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::usage(
            "put credentials in SIPGATE_USERNAME / SIPGATE_PASSWORD, not in the base URL",
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_required_off_loopback() {
        assert!(check_base_url("https://api.sipgate.net", false).is_ok());
        assert!(check_base_url("http://127.0.0.1:8080/", false).is_ok());
        assert!(check_base_url("http://[::1]:8080", false).is_ok());
        assert!(check_base_url("http://localhost:1", false).is_ok());
        let err = check_base_url("http://api.example.com", false).unwrap_err();
        assert!(err.to_string().contains("--allow-insecure"));
        assert!(check_base_url("http://api.example.com", true).is_ok());
        assert!(check_base_url("ftp://x", true).is_err());
        assert!(check_base_url("https://u:p@api.example.com", false).is_err());
        assert!(check_base_url("not a url", false).is_err());
    }

    #[test]
    fn media_must_be_on_the_upstream_itself_not_a_host_that_starts_like_it() {
        let url = |u: &str| reqwest::Url::parse(u).expect("url");
        assert!(same_origin(
            &url("http://127.0.0.1:18090/_media/x"),
            "http://127.0.0.1:18090"
        ));
        assert!(!same_origin(
            &url("http://127.0.0.12:18090/_media/x"),
            "http://127.0.0.1:18090"
        ));
        assert!(!same_origin(
            &url("http://127.0.0.1:18091/x"),
            "http://127.0.0.1:18090"
        ));
        assert!(!same_origin(
            &url("https://api.sipgate.net.evil.example/x"),
            "https://api.sipgate.net"
        ));
        assert!(!same_origin(
            &url("http://api.sipgate.net/x"),
            "https://api.sipgate.net"
        ));
        assert!(same_origin(
            &url("https://api.sipgate.net:443/x"),
            "https://api.sipgate.net"
        ));
    }

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        let first = policy.delay(1, None);
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        assert!(policy.delay(10, None) <= Duration::from_secs(1));
        assert!(policy.delay(1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
        assert!(policy.delay(1, Some(Duration::from_secs(3600))) <= Duration::from_secs(60));
    }

    #[test]
    fn parse_errors_name_the_field_and_are_classified() {
        #[derive(serde::Deserialize, Debug)]
        struct Page {
            #[allow(dead_code)]
            items: Vec<Item>,
        }
        #[derive(serde::Deserialize, Debug)]
        struct Item {
            #[allow(dead_code)]
            id: String,
        }
        let wrong_type = parse_json::<Page>(br#"{"items":[{"id":"1"},{"id":7}]}"#).unwrap_err();
        assert_eq!(wrong_type.kind, ApiErrorKind::Permanent);
        assert!(
            wrong_type.message.contains("items[1].id"),
            "{}",
            wrong_type.message
        );
        let missing = parse_json::<Page>(br#"{"items":[{}]}"#).unwrap_err();
        assert!(
            missing.message.contains("missing field `id`"),
            "{}",
            missing.message
        );
        let cut = parse_json::<Page>(br#"{"items":[{"id":"1"#).unwrap_err();
        assert_eq!(cut.kind, ApiErrorKind::Transient);
    }

    #[test]
    fn statuses_are_classified() {
        assert_eq!(
            status_error(Api::Classic, "x", StatusCode::UNAUTHORIZED, b"", None).kind,
            ApiErrorKind::Unauthorized
        );
        assert_eq!(
            status_error(
                Api::Classic,
                "x",
                StatusCode::SERVICE_UNAVAILABLE,
                b"",
                None
            )
            .kind,
            ApiErrorKind::Transient
        );
        assert_eq!(
            status_error(Api::Classic, "x", StatusCode::TOO_MANY_REQUESTS, b"", None).kind,
            ApiErrorKind::Transient
        );
        assert_eq!(
            status_error(Api::Classic, "x", StatusCode::NOT_FOUND, b"", None).kind,
            ApiErrorKind::NotFound
        );
        let bad = status_error(
            Api::Classic,
            "x",
            StatusCode::BAD_REQUEST,
            br#"{"error":{"status":400,"message":"missing parameter: version"}}"#,
            None,
        );
        assert_eq!(bad.kind, ApiErrorKind::Permanent);
        assert!(bad.message.contains("missing parameter: version"));
    }
}
