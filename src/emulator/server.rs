//! The HTTP side: accept loop, authentication, `version` check, request counting, fault
//! injection and content negotiation. Handlers in `routes/` return a JSON tree or raw bytes;
//! this module turns that into XML, JSON or vCard as the client asked.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower_service::Service;

use super::faults::{After, Before, FaultState};
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

/// Counts the request and applies the configured faults around it.
pub async fn faults_and_stats(
    AxumState(shared): AxumState<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let served = {
        let mut stats = shared.stats();
        stats.requests_total += 1;
        *stats
            .requests
            .entry(format!("{} {}", request.method(), request.uri().path()))
            .or_default() += 1;
        stats.requests_total
    };
    let deletion = shared.faults().due_deletion(served);
    if let Some(count) = deletion {
        shared
            .write()
            .remove_newest(super::model::Kind::Call, count);
    }
    let abort = request.extensions().get::<ConnAbort>().cloned();
    let (delay, before, slow, retry_after) = {
        let mut faults = shared.faults();
        (
            faults.delay_ms(),
            faults.before(),
            faults.faults.slow_body_ms,
            faults.faults.retry_after_s.unwrap_or(1),
        )
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    match before {
        Before::Serve => {}
        Before::Reset => {
            if let Some(abort) = &abort {
                return abort.abort().await;
            }
        }
        Before::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = error_body(format_of(request.headers()), status, "injected fault");
            if matches!(code, 429 | 503) {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            return r;
        }
    }
    let response = next.run(request).await;
    let after = shared.faults().after();
    match after {
        After::LoseResponse => match &abort {
            Some(abort) => abort.abort().await,
            None => response,
        },
        After::Truncate => truncate(response).await,
        After::Malformed => malformed(response).await,
        After::WrongType => wrong_type(response).await,
        After::Deliver if slow > 0 => slow_body(response, slow).await,
        After::Deliver => response,
    }
}

async fn body_bytes(response: Response) -> (axum::http::response::Parts, Bytes) {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    (parts, bytes)
}

/// Declares the full length, sends half, then fails the body: the client sees a cut connection.
async fn truncate(response: Response) -> Response {
    let (mut parts, bytes) = body_bytes(response).await;
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(bytes.len().max(1)),
    );
    // The pause lets the first half reach the client before the connection is torn down.
    let stream = futures_util::stream::unfold(0u8, move |step| {
        let half = half.clone();
        async move {
            match step {
                0 => Some((Ok::<Bytes, std::io::Error>(half), 1)),
                1 => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Some((
                        Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "injected truncation",
                        )),
                        2,
                    ))
                }
                _ => None,
            }
        }
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// A complete answer whose body is not what its content type says.
async fn malformed(response: Response) -> Response {
    let (mut parts, bytes) = body_bytes(response).await;
    let mut garbage = bytes[..bytes.len() / 3].to_vec();
    garbage.extend_from_slice(b"\x00}<]]not-valid");
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(garbage))
}

/// A well-formed body in which the first string id made of digits has become a number.
async fn wrong_type(response: Response) -> Response {
    let (mut parts, bytes) = body_bytes(response).await;
    let text = String::from_utf8_lossy(&bytes).to_string();
    let key = "\"id\":\"";
    let mut changed = None;
    let mut from = 0;
    while let Some(found) = text[from..].find(key) {
        let value_start = from + found + key.len();
        let Some(len) = text[value_start..].find('"') else {
            break;
        };
        let value = &text[value_start..value_start + len];
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            changed = Some(format!(
                "{}{value}{}",
                &text[..value_start - 1],
                &text[value_start + len + 1..]
            ));
            break;
        }
        from = value_start + len;
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(changed.unwrap_or(text)))
}

/// Sends the body in small chunks with a pause between them.
async fn slow_body(response: Response, pause_ms: u64) -> Response {
    let (parts, bytes) = body_bytes(response).await;
    let chunks: Vec<Bytes> = bytes.chunks(512).map(Bytes::copy_from_slice).collect();
    let stream = futures_util::stream::unfold(chunks.into_iter(), move |mut rest| async move {
        let chunk = rest.next()?;
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        Some((Ok::<Bytes, std::io::Error>(chunk), rest))
    });
    Response::from_parts(parts, Body::from_stream(stream))
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
