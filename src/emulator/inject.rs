//! The middleware that counts every request (`/_emulator/stats`) and applies the configured
//! faults around it: delays, resets, injected statuses, and answers that are lost, cut off,
//! garbled, of the wrong type or slow.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;

use super::faults::{After, Before};
use super::server::{ConnAbort, Shared, error_body, format_of};

/// The largest JSON body whose keys the wire log reads.
const LOGGED_BODY_MAX: usize = 1 << 20;

/// Notes a v2 request in [`super::server::Stats::wire_log`] (its body is read and put back).
async fn log_wire(shared: &Shared, request: Request) -> Request {
    let path = request.uri().path().to_string();
    if !path.starts_with("/v2/") || shared.stats().wire_log.len() >= super::server::WIRE_LOG_MAX {
        return request;
    }
    let mut query: Vec<String> = request
        .uri()
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect()
        })
        .unwrap_or_default();
    query.sort();
    query.dedup();
    let method = request.method().to_string();
    let small = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|length| length <= LOGGED_BODY_MAX);
    if !small {
        // No body, or one too large to look into (a fax): logged without body keys, passed
        // on untouched.
        shared.stats().wire_log.push(super::server::WireRequest {
            method,
            path,
            query,
            body: Vec::new(),
        });
        return request;
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, LOGGED_BODY_MAX)
        .await
        .unwrap_or_default();
    let mut keys: Vec<String> = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        Ok(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_object())
            .flat_map(|m| m.keys().cloned())
            .collect(),
        _ => Vec::new(),
    };
    keys.sort();
    keys.dedup();
    shared.stats().wire_log.push(super::server::WireRequest {
        method,
        path,
        query,
        body: keys,
    });
    Request::from_parts(parts, Body::from(bytes))
}

/// Counts the request and applies the configured faults around it.
pub async fn faults_and_stats(
    AxumState(shared): AxumState<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let request = log_wire(&shared, request).await;
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
    let changes = shared.faults().due_changes(served);
    for change in changes {
        let patch = super::state::EventPatch {
            read: change.read,
            starred: change.starred,
            location: change.location,
            ..Default::default()
        };
        if let Err(e) = shared.write().patch_event(change.event, &patch) {
            tracing::warn!(event = change.event, error = %e, "a planned change failed");
        }
    }
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or(String::new(), |p| p.as_str().to_string());
    let failing = shared.faults().failing(&path_and_query);
    let losing = shared
        .faults()
        .losing(&format!("{} {path_and_query}", request.method()));
    let clock_ahead_s = shared.faults().faults.clock_ahead_s;
    let abort = request.extensions().get::<ConnAbort>().cloned();
    let (delay, spared, before, slow, retry_after) = {
        let mut faults = shared.faults();
        let spared = faults.spares();
        (
            faults.delay_ms(),
            spared,
            if spared {
                Before::Serve
            } else {
                faults.before()
            },
            faults.faults.slow_body_ms,
            faults.faults.retry_after_s.unwrap_or(1),
        )
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let before = failing.map_or(before, Before::Status);
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
    let mut response = next.run(request).await;
    if clock_ahead_s != 0 {
        let upstream_now = chrono::Utc::now() + chrono::Duration::seconds(clock_ahead_s);
        let date = upstream_now.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        if let Ok(value) = HeaderValue::from_str(&date) {
            response.headers_mut().insert(header::DATE, value);
        }
    }
    let after = if losing {
        After::LoseResponse
    } else if spared {
        After::Deliver
    } else {
        shared.faults().after()
    };
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
