//! Media downloads: classic's from the upstream itself with the credentials, v2's capability
//! URLs without them.

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use reqwest::header;

use super::error::{status_error, transport_error};
use super::{ApiError, ApiErrorKind, Client};
use crate::config::Api;
use crate::error::one_line;

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

pub(super) fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
