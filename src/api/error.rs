//! Errors from the upstream, classified by whether retrying can help, and how HTTP statuses,
//! transport failures and bodies that do not parse become them.

use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::v2;
use crate::config::Api;
use crate::error::{Error, ErrorKind, one_line};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// Network faults, timeouts, 5xx, 429, cut or unparseable bodies: retrying may help.
    Transient,
    /// 401: the credentials are wrong; nothing else will work either.
    Unauthorized,
    /// 404: the resource is gone.
    NotFound,
    /// Other 4xx, or a body of the wrong shape: retrying cannot help.
    Permanent,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: ApiErrorKind,
    pub status: Option<u16>,
    pub message: String,
    /// The upstream's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
    /// False only when the request certainly never reached upstream (the connection could not
    /// be made); decides whether a failed create may have taken effect.
    pub reached_upstream: bool,
}

impl ApiError {
    /// Whether upstream says the account lacks the resource: 404, or a 403 in sipgate's own
    /// words ("Feature not booked", its API description). Our own 403 message names "the
    /// feature is not booked" only as a possibility, which does not count.
    pub fn is_not_booked(&self) -> bool {
        self.status == Some(404)
            || (self.status == Some(403)
                && self
                    .message
                    .to_ascii_lowercase()
                    .contains("feature not booked"))
    }

    pub fn new(kind: ApiErrorKind, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            status: None,
            message: message.into(),
            retry_after: None,
            reached_upstream: true,
        }
    }

    /// Whether upstream may have acted on the request that failed so.
    pub fn delivery(&self) -> super::Delivery {
        match self.status {
            Some(400..=499) => super::Delivery::NotDelivered,
            None if !self.reached_upstream => super::Delivery::NotDelivered,
            _ => super::Delivery::Unknown,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.kind == ApiErrorKind::Transient
    }

    pub fn context(mut self, what: &str) -> ApiError {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Error {
        let kind = match e.kind {
            ApiErrorKind::Transient => ErrorKind::Transient,
            // Refused credentials are a configuration error (exit 2): cron's mail says to fix
            // the token, not that upstream failed.
            ApiErrorKind::Unauthorized => ErrorKind::Usage,
            ApiErrorKind::NotFound | ApiErrorKind::Permanent => ErrorKind::Permanent,
        };
        Error::new(kind, e.message)
    }
}

pub(super) fn status_error(
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

pub(super) fn transport_error(e: reqwest::Error) -> ApiError {
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
pub(super) fn chain(e: &dyn std::error::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
