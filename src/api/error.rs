//! Errors from the upstream, classified by whether retrying can help.

use std::time::Duration;

use crate::error::{Error, ErrorKind};

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
            ApiErrorKind::Unauthorized | ApiErrorKind::NotFound | ApiErrorKind::Permanent => {
                ErrorKind::Permanent
            }
        };
        Error::new(kind, e.message)
    }
}
