//! The typed client for sipgate's REST API (or the built-in emulator), in both dialects.
//!
//! The transport is shared: [`Client`] (`client.rs`) sends JSON requests with Basic auth;
//! idempotent ones are retried on transient errors (network faults, timeouts, 5xx, 429, cut or
//! unparseable bodies) with capped exponential backoff and jitter (`retry.rs`), honouring
//! `Retry-After`; other errors come back at once, typed as permanent (`error.rs`). Media
//! downloads are in `download.rs`. The sync reads through one dialect-neutral interface
//! (`records.rs`); each dialect turns its wire into the mirror's records. [`Upstream`] is a
//! command's connection: the client and its runtime. These types are the client's own; the emulator renders the wire shapes itself.

pub mod calls;
mod capabilities;
pub mod classic;
mod client;
pub mod clock;
mod download;
mod error;
pub mod probe;
mod records;
mod retry;
pub mod secrets;
mod sends;
mod upstream;
pub mod v2;
pub mod writes;

use bytes::Bytes;
pub use reqwest::Method;

pub use capabilities::{Capabilities, DialParties, Feature, Recipients, Sender};
pub use classic::{contact_record, event_record, events, resources, sessions};
pub use client::Client;
pub use error::{ApiError, ApiErrorKind, parse_json};
pub use retry::RetryPolicy;
pub use sends::Outgoing;
pub use upstream::Upstream;

use crate::error::Error;

/// Makes *ring* the TLS provider of this process (once; later calls do nothing). Every HTTP
/// client is built after it: reqwest is built without a provider of its own, because its
/// default (aws-lc) is a large C library whose build took more time than any other crate, and
/// *ring* is here anyway for the push API's signatures.
pub fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error means a provider is installed already, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
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
    /// A request the dialect has none for. Commands refuse these up front
    /// (`Capabilities::require`), so reaching it means a caller skipped that check.
    pub fn unsupported(what: &str) -> CreateError {
        CreateError {
            error: ApiError::new(
                ApiErrorKind::Permanent,
                format!("{what} is not possible through this API"),
            ),
            delivery: Delivery::NotDelivered,
        }
    }

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
