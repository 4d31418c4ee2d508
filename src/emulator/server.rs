//! The HTTP side: accept loop, authentication, `version` check and content negotiation
//! (request counting and fault injection are in `inject.rs`). Handlers in `routes/` return a JSON tree or raw bytes;
//! this module turns that into XML, JSON or vCard as the client asked.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower_service::Service;

use super::faults::FaultState;
use super::formats;
use super::state::State;

/// Everything the handlers share.
pub struct Shared {
    pub state: RwLock<State>,
    pub faults: Mutex<FaultState>,
    pub stats: Mutex<Stats>,
    pub base_url: String,
    pub user: String,
    pub password: String,
    pub token_id: String,
    pub token: String,
    pub token_scopes: Vec<String>,
    /// Keys the v2 download links (capability URLs), so they cannot be guessed.
    pub media_key: u64,
}

impl Shared {
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn faults(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Requests served, by `METHOD /path` (without the query). Control requests are not counted.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Stats {
    pub requests_total: u64,
    pub requests: BTreeMap<String, u64>,
    /// The v2 requests served, as the contract test checks them against sipgate's
    /// description: the first [`WIRE_LOG_MAX`] of them.
    #[serde(skip)]
    pub wire_log: Vec<WireRequest>,
}

/// The most requests [`Stats::wire_log`] keeps.
pub const WIRE_LOG_MAX: usize = 5_000;

/// What a v2 request named: its method, path, query keys and the keys of its JSON body (of
/// each item, for a list).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<String>,
    pub body: Vec<String>,
}

impl Stats {
    /// Requests served for one `METHOD /path`, e.g. `GET /my/events/calls/`.
    pub fn count(&self, key: &str) -> u64 {
        self.requests.get(key).copied().unwrap_or(0)
    }
}

/// Lets a handler or middleware close the connection without an answer.
#[derive(Clone)]
pub struct ConnAbort(Arc<Notify>);

impl ConnAbort {
    /// Closes the connection; the future never completes (the connection task drops it).
    pub async fn abort(&self) -> Response {
        self.0.notify_one();
        std::future::pending::<()>().await;
        unreachable!("the connection is dropped before this resumes")
    }
}

/// A successful answer, rendered by [`negotiate`] in the format the client asked for.
pub enum Reply {
    /// A JSON tree `{"root": ...}`; XML unless the client accepts JSON.
    Tree(Value),
    /// Already serialized JSON, for the client that asked for JSON (see [`Reply::serialized`]).
    Json(Vec<u8>),
    /// A JSON tree for contacts, or vCard when the client accepts it.
    Contacts(Value, Vec<u8>),
    /// Bytes with a fixed content type.
    Raw(&'static str, Vec<u8>),
    /// A 307 to the real content, with the target also in the body.
    Redirect(String),
    /// 204 No Content.
    Empty,
}

impl Reply {
    /// A large answer in the client's format: JSON is written straight from `value`, other
    /// formats go through the tree.
    pub fn serialized(format: Format, value: &impl Serialize) -> Reply {
        match format {
            Format::Json => Reply::Json(serde_json::to_vec(value).unwrap_or_default()),
            _ => Reply::Tree(serde_json::to_value(value).unwrap_or_default()),
        }
    }
}

/// An error answer: status and a small body naming the problem.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

pub type ApiResult = Result<Reply, ApiError>;

/// Carried from handler to [`negotiate`] in the response extensions.
#[derive(Clone)]
struct Pending(Arc<Mutex<Option<Reply>>>);

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = StatusCode::OK.into_response();
        response
            .extensions_mut()
            .insert(Pending(Arc::new(Mutex::new(Some(self)))));
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
    Vcard,
}

pub fn format_of(headers: &HeaderMap) -> Format {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("application/json") {
        Format::Json
    } else if accept.contains("text/vcard") || accept.contains("text/x-vcard") {
        Format::Vcard
    } else {
        Format::Xml
    }
}

pub fn error_body(format: Format, status: StatusCode, message: &str) -> Response {
    let (content_type, body) = match format {
        Format::Json => (
            "application/json",
            serde_json::to_vec(
                &serde_json::json!({"error": {"status": status.as_u16(), "message": message}}),
            )
            .unwrap_or_default(),
        ),
        _ => (
            "application/xml; charset=utf-8",
            formats::error_xml(status.as_u16(), message),
        ),
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Renders [`Reply`] and [`ApiError`] in the negotiated format; gives bare 404/405 a body.
pub async fn negotiate(request: Request, next: Next) -> Response {
    let format = format_of(request.headers());
    let response = next.run(request).await;
    if let Some(error) = response.extensions().get::<ApiError>().cloned() {
        let mut r = error_body(format, error.status, &error.message);
        if error.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"sipgate\""),
            );
        }
        return r;
    }
    let pending = response
        .extensions()
        .get::<Pending>()
        .and_then(|p| p.0.lock().ok()?.take());
    match pending {
        Some(reply) => render(format, reply),
        None if response.status() == StatusCode::METHOD_NOT_ALLOWED => error_body(
            format,
            response.status(),
            "method not allowed on this resource",
        ),
        None if response.status() == StatusCode::NOT_FOUND => {
            error_body(format, response.status(), "no such resource")
        }
        None => response,
    }
}

fn render(format: Format, reply: Reply) -> Response {
    let typed = |content_type: &'static str, body: Vec<u8>| {
        let mut r = body.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    match reply {
        Reply::Tree(tree) | Reply::Contacts(tree, _) if format == Format::Json => typed(
            "application/json",
            serde_json::to_vec(&tree).unwrap_or_default(),
        ),
        Reply::Contacts(_, vcard) if format == Format::Vcard => {
            typed("text/vcard; charset=utf-8", vcard)
        }
        Reply::Tree(tree) | Reply::Contacts(tree, _) => {
            typed("application/xml; charset=utf-8", formats::to_xml(&tree))
        }
        Reply::Json(body) => typed("application/json", body),
        Reply::Raw(content_type, body) => typed(content_type, body),
        Reply::Redirect(url) => {
            let tree = serde_json::json!({ "HandlerResultRedirect": { "url": url } });
            let body = if format == Format::Json {
                serde_json::to_vec(&tree).unwrap_or_default()
            } else {
                formats::to_xml(&tree)
            };
            let mut r = (StatusCode::TEMPORARY_REDIRECT, body).into_response();
            if let Ok(location) = HeaderValue::from_str(&url) {
                r.headers_mut().insert(header::LOCATION, location);
            }
            r
        }
        Reply::Empty => StatusCode::NO_CONTENT.into_response(),
    }
}

/// Basic auth, the user segment, `version` and `complexity`, as upstream checked them.
pub async fn check_request(
    AxumState(shared): AxumState<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if let Err(e) = authorize(&shared, request.headers()) {
        return e.into_response();
    }
    let user = request
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    let user_id = shared.read().user_id.clone();
    if user != "my" && user != user_id {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!("no rights on user {user:?}; use 'my'"),
        )
        .into_response();
    }
    let (request, params) = match with_params(request).await {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    match params.iter().find(|(k, _)| k == "version") {
        Some((_, v)) if !v.is_empty() => {}
        _ => return ApiError::bad_request("missing parameter: version").into_response(),
    }
    if let Some((_, c)) = params.iter().find(|(k, _)| k == "complexity")
        && !c.is_empty()
        && c != "full"
    {
        return ApiError::bad_request(format!("unsupported complexity {c:?}; use 'full'"))
            .into_response();
    }
    next.run(request).await
}

fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let unauthorized = || ApiError::new(StatusCode::UNAUTHORIZED, "bad or missing credentials");
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let encoded = value.strip_prefix("Basic ").ok_or_else(unauthorized)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| unauthorized())?;
    let text = String::from_utf8(decoded).map_err(|_| unauthorized())?;
    let (user, password) = text.split_once(':').ok_or_else(unauthorized)?;
    if user == shared.user && password == shared.password {
        Ok(())
    } else {
        Err(unauthorized())
    }
}

/// The request's parameters: query string plus, for form posts, the form body (which is put
/// back so the handler can read it too).
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

async fn with_params(request: Request) -> Result<(Request, Vec<(String, String)>), ApiError> {
    let mut params: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let request = if is_form && request.method() != Method::GET {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "form body too large"))?;
        params.extend(form_urlencoded::parse(&bytes).into_owned());
        Request::from_parts(parts, Body::from(bytes))
    } else {
        request
    };
    let mut request = request;
    request.extensions_mut().insert(Params(params.clone()));
    Ok((request, params))
}

/// Serves `app` on `listener` until `shutdown` fires. Each connection can be aborted by its
/// requests (see [`ConnAbort`]), which plain `axum::serve` cannot do.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let notify = Arc::new(Notify::new());
            let abort = ConnAbort(notify.clone());
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(abort.clone());
                    let mut app = app.clone();
                    async move { app.call(request.map(Body::new)).await }
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = notify.notified() => {}
            }
        });
    }
}
