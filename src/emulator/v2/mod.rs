//! The v2 dialect of the emulator: the same world as the classic routes, served as sipgate's
//! REST API v2 under `/v2/` (base URL `http://HOST:PORT/v2`), and media as capability URLs
//! under `/download/`.
//!
//! Written from the v2 reference independently of the client's types (`docs/upstream.md`
//! says what is known and what is inferred). The emulator's choices where the reference is
//! silent:
//!
//! | what | choice |
//! |---|---|
//! | auth | Basic `tokenId:token` (or `Bearer token`); else 401. A token without the route's scope (and without `all`) gets 403 |
//! | `/history` | `types`, `directions`, `starred` and `connectionIds` repeated and OR-ed; `archived` omitted or false lists only non-archived entries; `from`/`to` ISO-8601, both inclusive, on `created`; `limit` default 10, 0 to 1000, above that 400; newest first; `{items, totalCount}` |
//! | trash | v2 has none: an event the classic side moved to the trash is gone from v2 |
//! | `lastModified` | the creation time (the world does not track edits) |
//! | errors | `{"name": "...", "message": "..."}` with the status; never needed by a client |
//! | media | `GET /download/{token}/{file}`, no credentials; `token` is a keyed hash of the file |
//! | balance | `amount` in 1/10,000 of the currency, an integer |

mod account;
mod calls;
mod download;
mod history;
mod sessions;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use super::server::Shared;

type Shr = Arc<Shared>;

/// A v2 error: status and the reference's second error shape.
#[derive(Debug)]
pub struct V2Error {
    status: StatusCode,
    name: &'static str,
    message: String,
}

impl V2Error {
    pub fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> V2Error {
        V2Error {
            status,
            name,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> V2Error {
        V2Error::new(StatusCode::BAD_REQUEST, "PARAMETER_INVALID", message)
    }

    pub fn not_found(message: impl Into<String>) -> V2Error {
        V2Error::new(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", message)
    }

    pub fn forbidden(message: impl Into<String>) -> V2Error {
        V2Error::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }
}

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({ "name": self.name, "message": self.message })),
        )
            .into_response()
    }
}

pub type V2Result = Result<Response, V2Error>;

/// A JSON answer.
pub fn ok(value: &impl serde::Serialize) -> V2Result {
    let body = serde_json::to_vec(value).map_err(|e| {
        V2Error::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            e.to_string(),
        )
    })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `{"items": [...]}`.
pub fn items(list: Vec<Value>) -> V2Result {
    ok(&json!({ "items": list }))
}

/// The query parameters, repeated keys kept.
#[derive(Clone, Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    fn of(request: &Request) -> Query {
        Query(
            request
                .uri()
                .query()
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A non-negative integer, or the default.
    pub fn number(&self, key: &str, default: usize) -> Result<usize, V2Error> {
        match self.get(key) {
            None | Some("") => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                V2Error::bad_request(format!("{key} must be a non-negative integer, got {v:?}"))
            }),
        }
    }
}

pub fn router(shared: Shr) -> Router<Shr> {
    let api = Router::new()
        .merge(history::routes())
        .merge(account::routes())
        .merge(sessions::routes())
        .merge(calls::routes())
        .route_layer(from_fn_with_state(shared, authorize));
    Router::new().nest("/v2", api).merge(download::routes())
}

/// The scopes a route accepts (any one of them, or `all`), by its method and first path
/// segment below `/v2` (or, for per-user routes, the second), as sipgate's description lists
/// them: some routes take a broad scope as well as the narrow one (`sessions:write`,
/// `settings:read`, `phonelines:forwardings:read`). `None`: no scope needed (who am I).
fn required_scope(method: &Method, path: &str) -> Option<&'static [&'static str]> {
    let mut segments = path.trim_start_matches("/v2").trim_matches('/').split('/');
    let first = segments.next().unwrap_or("");
    let read = method == Method::GET;
    let scopes: &'static [&'static str] = match first {
        "authorization" => return None,
        "history" if !read => &["history:write"],
        "history" => &["history:read"],
        "settings" if read => &["settings:read", "settings:sipgateio:read"],
        "settings" => &["settings:write", "settings:sipgateio:write"],
        "calls" if read => &["rtcm:read"],
        "calls" => &["rtcm:write"],
        "devices" if read => &["devices:read"],
        "devices" => &["devices:write"],
        "sessions" => match segments.next().unwrap_or("") {
            "sms" => &["sessions:write", "sessions:sms:write"],
            "fax" => &["sessions:write", "sessions:fax:write"],
            "calls" => &["sessions:write", "sessions:calls:write"],
            _ => &["sessions:write"],
        },
        "contacts" => &["contacts:read"],
        "account" => &["account:read"],
        "balance" => &["balance:read"],
        "numbers" => &["numbers:read"],
        "users" => &["users:read"],
        "voicemails" => &["voicemails:read"],
        "groups" => &["groups:read"],
        _ => {
            let resource = segments.next().unwrap_or("");
            let forwardings = segments.nth(1) == Some("forwardings");
            match resource {
                "devices" => &["devices:read"],
                "phonelines" if forwardings && !read => {
                    &["phonelines:write", "phonelines:forwardings:write"]
                }
                "phonelines" if forwardings => &["phonelines:read", "phonelines:forwardings:read"],
                "phonelines" if !read => &["phonelines:write"],
                "phonelines" => &["phonelines:read"],
                "faxlines" => &["faxlines:read"],
                "sms" => &["sms:read"],
                _ => &["all"],
            }
        }
    };
    Some(scopes)
}

/// Token auth and scopes, in front of every `/v2` route.
async fn authorize(AxumState(shared): AxumState<Shr>, request: Request, next: Next) -> Response {
    if !token_matches(&shared, request.headers()) {
        return V2Error::new(
            StatusCode::UNAUTHORIZED,
            "REQUEST_NOT_AUTHENTICATED",
            "bad or missing personal access token",
        )
        .into_response();
    }
    if let Some(scopes) = required_scope(request.method(), request.uri().path()) {
        let granted = shared
            .token_scopes
            .iter()
            .any(|s| s == "all" || scopes.contains(&s.as_str()));
        if !granted {
            // The narrowest scope is the one to name (the last of the list).
            let scope = scopes.last().copied().unwrap_or("all");
            return V2Error::new(
                StatusCode::FORBIDDEN,
                "REQUEST_NOT_AUTHORIZED",
                format!("the token lacks the scope {scope}"),
            )
            .into_response();
        }
    }
    let query = Query::of(&request);
    let mut request = request;
    request.extensions_mut().insert(query);
    next.run(request).await
}

fn token_matches(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    if let Some(bearer) = value.strip_prefix("Bearer ") {
        return bearer.trim() == shared.token;
    }
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{}:{}", shared.token_id, shared.token);
    decoded == expected.as_bytes()
}

/// `2020-09-14T10:03:20Z`: UTC, no fraction, as the reference's samples.
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// An ISO-8601 date-time parameter (fraction and offset allowed) as ms since the epoch.
fn time_param(query: &Query, key: &str) -> Result<Option<i64>, V2Error> {
    match query.get(key) {
        None | Some("") => Ok(None),
        Some(v) => chrono::DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.timestamp_millis()))
            .map_err(|_| {
                V2Error::bad_request(format!("{key} must be an ISO-8601 date-time, got {v:?}"))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::{Method, required_scope};

    #[test]
    fn routes_need_their_scopes() {
        let get = &Method::GET;
        let put = &Method::PUT;
        let post = &Method::POST;
        assert_eq!(
            required_scope(get, "/v2/history"),
            Some(&["history:read"][..])
        );
        assert_eq!(
            required_scope(put, "/v2/history/1"),
            Some(&["history:write"][..])
        );
        assert_eq!(
            required_scope(get, "/v2/w0/devices"),
            Some(&["devices:read"][..])
        );
        assert_eq!(
            required_scope(get, "/v2/devices/e0"),
            Some(&["devices:read"][..])
        );
        assert_eq!(
            required_scope(get, "/v2/w0/phonelines/p0/forwardings"),
            Some(&["phonelines:read", "phonelines:forwardings:read"][..])
        );
        assert_eq!(
            required_scope(put, "/v2/w0/phonelines/p0/forwardings"),
            Some(&["phonelines:write", "phonelines:forwardings:write"][..])
        );
        assert_eq!(
            required_scope(post, "/v2/sessions/sms"),
            Some(&["sessions:write", "sessions:sms:write"][..])
        );
        assert_eq!(
            required_scope(put, "/v2/settings/sipgateio"),
            Some(&["settings:write", "settings:sipgateio:write"][..])
        );
        assert_eq!(required_scope(get, "/v2/authorization/userinfo"), None);
    }
}
