//! `sipmirror serve-phonebook`: the phone books and vCards over HTTP, rendered from the mirror
//! on each request (GET, and POST for snom's remote directory), with an ETag so phones that
//! poll get `304 Not Modified` while nothing changed, and optional Basic auth.
//!
//! Each render opens the mirror read-only: a running sync never blocks it (WAL) and it never
//! blocks the sync.
//!
//! It faces a LAN of phones, sometimes more, so what a client can make it hold is bounded: a
//! client must send its request headers within `--header-timeout` (10 s; an idle keep-alive
//! connection is closed after the same time), at most 512 connections are open at once (more
//! are closed at once, and the ones held idle time out), and a book is rendered once per state
//! of the mirror and shared by every request for it, one render at a time per book, two at a
//! time in all: 200 phones asking at once cost one render, not 200.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::export::Selection;

use crate::cli::ServeArgs;
use crate::config::{Secret, Settings};
use crate::error::{Error, ExitCode, Result};
use crate::export::snom::SnomFormat;
use crate::export::vcard::Version;
use crate::export::{self, PhoneFormat, PhoneOptions};
use crate::store::{Access, Mirror};

/// What each path serves.
#[derive(Debug, Clone, Copy)]
enum Book {
    Phone(PhoneFormat),
    Vcards,
}

const PATHS: [&str; 7] = [
    "/snom.xml",
    "/snom-v2.xml",
    "/phonebook.xml",
    "/gs_phonebook.xml",
    "/yealink.xml",
    "/fritzbox.xml",
    "/contacts.vcf",
];

struct Shared {
    db: PathBuf,
    options: PhoneOptions,
    account_index: u32,
    selection: Selection,
    /// (user, password) when auth is on.
    auth: Option<(String, Secret)>,
    /// The last render of each book, with the state of the mirror it was made from.
    renders: std::sync::Mutex<std::collections::HashMap<String, Render>>,
    /// One render at a time per book (a request waits for the one under way and shares it).
    book_turns: std::collections::HashMap<&'static str, tokio::sync::Mutex<()>>,
    /// Renders under way at once, all books together.
    renders_at_once: tokio::sync::Semaphore,
}

/// A book as rendered, and the state of the mirror it was rendered from.
type Render = (MirrorState, Arc<Vec<u8>>);

/// What identifies a state of the mirror: the sizes and times of the file and its WAL (any
/// committed write changes one of them).
type MirrorState = [(u64, u128); 2];

fn mirror_state(db: &std::path::Path) -> MirrorState {
    let stamp = |path: &std::path::Path| {
        std::fs::metadata(path)
            .map(|m| {
                let time = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                (m.len(), time)
            })
            .unwrap_or((0, 0))
    };
    let mut wal = db.as_os_str().to_os_string();
    wal.push("-wal");
    [stamp(db), stamp(std::path::Path::new(&wal))]
}

impl Shared {
    fn book(&self, path: &str) -> Option<Book> {
        let grandstream = PhoneFormat::Grandstream {
            account_index: self.account_index,
        };
        Some(match path {
            "/snom.xml" => Book::Phone(PhoneFormat::Snom(SnomFormat::Classic)),
            "/snom-v2.xml" => Book::Phone(PhoneFormat::Snom(SnomFormat::V2)),
            "/phonebook.xml" | "/gs_phonebook.xml" => Book::Phone(grandstream),
            "/yealink.xml" => Book::Phone(PhoneFormat::Yealink),
            "/fritzbox.xml" => Book::Phone(PhoneFormat::Fritzbox),
            "/contacts.vcf" => Book::Vcards,
            _ => return None,
        })
    }

    fn render(&self, book: Book) -> Result<Vec<u8>> {
        let mirror = Mirror::open(&self.db, Access::ReadOnly)?;
        let (conn, selection) = (mirror.conn(), &self.selection);
        Ok(match book {
            Book::Phone(format) => {
                export::phone_book(conn, selection, format, &self.options, Vec::new())?.0
            }
            Book::Vcards => export::vcard_file(conn, selection, Version::V3, Vec::new())?.0,
        })
    }

    /// The book at `path` for the mirror as it is now: the shared render if the mirror did not
    /// change since, else a new one (one per book at a time, two in all).
    async fn rendered(self: &Arc<Self>, path: &str, book: Book) -> Result<Arc<Vec<u8>>> {
        let key = book_key(path);
        let turn = self
            .book_turns
            .get(key)
            .ok_or_else(|| Error::io(format!("no phone book at {path}")))?;
        let _turn = turn.lock().await;
        let state = mirror_state(&self.db);
        if let Some((seen, bytes)) = self.cached(key)
            && seen == state
        {
            return Ok(bytes);
        }
        let _slot = self
            .renders_at_once
            .acquire()
            .await
            .map_err(|e| Error::io(format!("cannot render: {e}")))?;
        let worker = self.clone();
        let bytes = tokio::task::spawn_blocking(move || worker.render(book))
            .await
            .map_err(|e| Error::io(format!("the render failed: {e}")))??;
        let bytes = Arc::new(bytes);
        if let Ok(mut renders) = self.renders.lock() {
            renders.insert(key.to_string(), (state, bytes.clone()));
        }
        Ok(bytes)
    }

    fn cached(&self, key: &str) -> Option<Render> {
        self.renders.lock().ok()?.get(key).cloned()
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some((user, password)) = &self.auth else {
            return true;
        };
        let expected = base64::engine::general_purpose::STANDARD
            .encode(format!("{user}:{}", password.expose()));
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .is_some_and(|given| constant_time_eq(given.trim().as_bytes(), expected.as_bytes()))
    }
}

/// Paths that serve the same book share one render.
fn book_key(path: &str) -> &'static str {
    match path {
        "/gs_phonebook.xml" => "/phonebook.xml",
        other => PATHS.iter().copied().find(|p| *p == other).unwrap_or("/"),
    }
}

/// A shared render as a response body, without copying it.
struct ArcBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn plain(status: StatusCode, text: String) -> Response {
    let mut response = Response::new(Body::from(text + "\n"));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    if method != axum::http::Method::GET
        && method != axum::http::Method::POST
        && method != axum::http::Method::HEAD
    {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "GET or POST".into());
    }
    if !shared.authorized(request.headers()) {
        let mut response = plain(StatusCode::UNAUTHORIZED, "authentication required".into());
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"sipmirror phone book\""),
        );
        return response;
    }
    let Some(book) = shared.book(&path) else {
        return plain(
            StatusCode::NOT_FOUND,
            format!("no phone book at {path}; try {}", PATHS.join(", ")),
        );
    };
    let bytes = match shared.rendered(&path, book).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(%path, error = %e, "cannot render phone book");
            return plain(StatusCode::SERVICE_UNAVAILABLE, e.to_string());
        }
    };
    let digest = Sha256::digest(bytes.as_slice());
    let etag = format!("\"{}\"", crate::fsutil::hex(&digest[..16]));
    let unchanged = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if unchanged {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        Response::new(Body::from(bytes::Bytes::from_owner(ArcBytes(bytes))))
    };
    let content_type = match book {
        Book::Vcards => "text/vcard; charset=utf-8",
        Book::Phone(_) => "application/xml; charset=utf-8",
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

pub fn run(settings: &Settings, args: &ServeArgs) -> Result<ExitCode> {
    // Fail early on a missing or unreadable mirror rather than on the first phone's request.
    let mirror = Mirror::open(&settings.db_path, Access::ReadOnly)?;
    let selection =
        super::export::selection(&mirror, args.phone.filter.as_deref(), &args.phone.scope)?;
    drop(mirror);
    let auth = match &args.auth_user {
        Some(user) => {
            let password = std::env::var("SIPMIRROR_PHONEBOOK_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty())
                .ok_or_else(|| {
                    Error::usage("--auth-user needs the password in SIPMIRROR_PHONEBOOK_PASSWORD")
                })?;
            Some((user.clone(), Secret::new(password)))
        }
        None => None,
    };
    let shared = Arc::new(Shared {
        db: settings.db_path.clone(),
        options: super::export::phone_options(settings, &args.phone),
        account_index: args.account_index,
        selection,
        auth,
        renders: std::sync::Mutex::new(std::collections::HashMap::new()),
        book_turns: PATHS
            .iter()
            .map(|p| (*p, tokio::sync::Mutex::new(())))
            .collect(),
        renders_at_once: tokio::sync::Semaphore::new(2),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(
        shared,
        args.listen,
        std::time::Duration::from_secs(args.header_timeout),
    ))
}

/// Connections open at once. When a new one comes at the limit, the oldest connection that is
/// not in the middle of a request makes room (an idle or half-sent one: a phone asking for its
/// book is answered, whoever holds connections open); only when every one is busy is the new
/// one closed.
const MAX_CONNECTIONS: usize = 512;

/// An open connection: whether a request is being answered on it, and how to close it.
struct Slot {
    id: u64,
    busy: Arc<std::sync::atomic::AtomicBool>,
    close: Arc<tokio::sync::Notify>,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Slots {
    open: std::sync::Mutex<std::collections::VecDeque<Slot>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Slots {
    /// Makes room for a new connection if needed and registers it; `None` when every open
    /// connection is busy.
    fn admit(&self) -> Option<Slot> {
        use std::sync::atomic::Ordering;
        let mut open = self.open.lock().ok()?;
        if open.len() >= MAX_CONNECTIONS {
            let idle = open.iter().position(|s| !s.busy.load(Ordering::SeqCst))?;
            if let Some(evicted) = open.remove(idle) {
                evicted.close.notify_one();
            }
        }
        let slot = Slot {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            busy: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            close: Arc::new(tokio::sync::Notify::new()),
        };
        open.push_back(Slot {
            id: slot.id,
            busy: slot.busy.clone(),
            close: slot.close.clone(),
        });
        Some(slot)
    }

    fn leave(&self, id: u64) {
        if let Ok(mut open) = self.open.lock() {
            open.retain(|s| s.id != id);
        }
    }
}

async fn serve(
    shared: Arc<Shared>,
    listen: SocketAddr,
    header_timeout: std::time::Duration,
) -> Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Error::usage(format!("cannot listen on {listen}: {e}")))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::io(format!("cannot read the listening address: {e}")))?;
    let app = Router::new().fallback(handle).with_state(shared);
    crate::output::line(&format!(
        "serving phone books on http://{address} ({}); Ctrl-C stops",
        PATHS.join(", ")
    ))?;
    let stop = tokio::task::spawn_blocking(super::emulator::wait_for_interrupt);
    tokio::pin!(stop);
    let slots = Arc::new(Slots::default());
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, say: pause rather than spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = slots.admit() else {
            drop(stream);
            continue;
        };
        let app = app.clone();
        let slots = slots.clone();
        tokio::spawn(async move {
            let busy = slot.busy.clone();
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let mut app = app.clone();
                    let busy = busy.clone();
                    async move {
                        busy.store(true, std::sync::atomic::Ordering::SeqCst);
                        let response =
                            tower_service::Service::call(&mut app, request.map(Body::new)).await;
                        busy.store(false, std::sync::atomic::Ordering::SeqCst);
                        response
                    }
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(64 * 1024)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = slot.close.notified() => {}
            }
            slots.leave(slot.id);
        });
    }
    Ok(ExitCode::Ok)
}
