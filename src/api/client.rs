//! The HTTP client both dialects share: the base URL and the credentials of the dialect in
//! use, Basic auth (and classic's `version`) on every call, retries for what is idempotent,
//! exactly one attempt for what is not.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::{Method, header};
use serde::de::DeserializeOwned;

use super::download::is_loopback;
use super::error::{chain, status_error, transport_error};
use super::{ApiError, Body, CreateError, RetryPolicy, parse_json};
use crate::config::{Api, Connection, HttpSettings, Secret};
use crate::error::{Error, Result};

pub struct Client {
    pub(super) http: reqwest::Client,
    pub(super) api: Api,
    pub(super) base: String,
    pub(super) user_id: String,
    pub(super) version: String,
    pub(super) allow_insecure: bool,
    /// classic: the user name; v2: the token id.
    pub(super) login: String,
    /// classic: the password; v2: the token.
    pub(super) secret: Secret,
    pub(super) policy: RetryPolicy,
    pub(super) requests: AtomicU64,
    /// Upstream's clock, from its answers' `Date`.
    pub(super) clock: super::clock::UpstreamClock,
}

impl Client {
    /// Checks the base URL and resolves the credentials (running `password_command` if set).
    pub fn new(connection: &Connection, settings: &HttpSettings) -> Result<Client> {
        let base = check_base_url(&connection.base_url, connection.allow_insecure)?;
        let (login, secret) = credentials(connection)?;
        super::install_tls_provider();
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
            clock: super::clock::UpstreamClock::default(),
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

    /// What upstream's answers said of its clock.
    pub fn upstream_clock(&self) -> &super::clock::UpstreamClock {
        &self.clock
    }

    /// The dialect this client speaks.
    pub fn api(&self) -> Api {
        self.api
    }

    /// What this client's dialect can do: asked instead of the dialect outside `api/`.
    pub fn capabilities(&self) -> super::Capabilities {
        super::Capabilities::of(self.api)
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

    pub(super) async fn with_retries<T, F, Fut>(
        &self,
        resource: &str,
        mut attempt: F,
    ) -> Result<T, ApiError>
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
        if let Some(date) = response
            .headers()
            .get(header::DATE)
            .and_then(|v| v.to_str().ok())
        {
            self.clock.observe(date, chrono::Utc::now());
        }
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

/// `https://` is required, except for loopback addresses (the emulator) or with
/// `allow_insecure`. Returns the URL without a trailing slash.
fn check_base_url(url: &str, allow_insecure: bool) -> Result<String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::usage(format!("base URL {url:?} is not a URL: {e}")))?;
    let loopback = is_loopback(&parsed);
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
}
