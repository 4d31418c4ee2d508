//! The emulator's routes: the API under `/{userId}/`, media under `/_media/`, and the control
//! interface under `/_emulator/`. Every API path works with and without its trailing slash.

mod contacts;
mod control;
mod events;
mod media;
mod sessions;
mod settings;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::MethodRouter;

use axum::http::{HeaderMap, StatusCode};

use super::inject::faults_and_stats;
use super::server::{ApiError, Params, Shared, check_request, error_body, format_of, negotiate};
use super::wire::Links;

type Shr = Arc<Shared>;

/// Largest fax upstream accepts.
pub const MAX_FAX_BYTES: usize = 20 * 1024 * 1024;

pub fn router(shared: Shr) -> Router {
    let mut api = Router::new();
    for (path, handler) in events::routes()
        .into_iter()
        .chain(contacts::routes())
        .chain(settings::routes())
        .chain(sessions::routes())
    {
        api = both_slashes(api, path, handler);
    }
    let api = api
        .layer(DefaultBodyLimit::max(MAX_FAX_BYTES + 1))
        .route_layer(from_fn_with_state(shared.clone(), check_request));
    let served = api
        .merge(media::routes())
        .layer(from_fn(negotiate))
        .merge(super::v2::router(shared.clone()))
        .layer(from_fn_with_state(shared.clone(), faults_and_stats));
    served
        .merge(control::routes())
        .fallback(|headers: HeaderMap| async move {
            error_body(
                format_of(&headers),
                StatusCode::NOT_FOUND,
                "no such resource",
            )
        })
        .with_state(shared)
}

fn both_slashes(router: Router<Shr>, path: &str, handler: MethodRouter<Shr>) -> Router<Shr> {
    let trimmed = path.trim_end_matches('/');
    router
        .route(&format!("{trimmed}/"), handler.clone())
        .route(trimmed, handler)
}

fn links<'a>(shared: &'a Shared, user: &'a str) -> Links<'a> {
    Links {
        base: &shared.base_url,
        user,
    }
}

/// A non-negative integer parameter, or the default when absent.
fn usize_param(params: &Params, key: &str, default: usize) -> Result<usize, ApiError> {
    match params.get(key) {
        None | Some("") => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| {
            ApiError::bad_request(format!(
                "parameter {key} must be a non-negative integer, got {v:?}"
            ))
        }),
    }
}

/// `true` or `false` (also `1`/`0`), from the `value` parameter.
fn bool_value(params: &Params) -> Result<bool, ApiError> {
    match params.get("value") {
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(v) => Err(ApiError::bad_request(format!(
            "parameter value must be true or false, got {v:?}"
        ))),
        None => Err(ApiError::bad_request("missing parameter: value")),
    }
}

/// A phone number as E.164 digits: `+49 30 123`, `4930123` and `tel:+4930123` are accepted.
fn e164_param(value: &str) -> Result<String, ApiError> {
    let trimmed = value.trim().trim_start_matches("tel:");
    let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let digits: String = body
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '/' | '(' | ')'))
        .collect();
    if (6..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
    {
        Ok(digits)
    } else {
        Err(ApiError::bad_request(format!(
            "malformed number {value:?}: use E.164, e.g. +4930123456"
        )))
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC), as `schedule` takes it.
fn schedule_param(params: &Params) -> Result<Option<i64>, ApiError> {
    match params.get("schedule") {
        None | Some("") => Ok(None),
        Some(v) => chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S")
            .map(|t| Some(t.and_utc().timestamp_millis()))
            .map_err(|_| {
                ApiError::bad_request(format!("schedule must be 'YYYY-MM-DD HH:MM:SS', got {v:?}"))
            }),
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalized_or_refused() {
        assert_eq!(
            e164_param("+49 30 1234567").ok().as_deref(),
            Some("49301234567")
        );
        assert_eq!(
            e164_param("tel:+4930123456").ok().as_deref(),
            Some("4930123456")
        );
        assert!(e164_param("030 1234567").is_err());
        assert!(e164_param("+49abc").is_err());
        assert!(e164_param("+1").is_err());
    }
}
