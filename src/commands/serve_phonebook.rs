//! `sipmirror serve-phonebook`: the phone books and vCards over HTTP, rendered from the mirror
//! on each request (GET, and POST for snom's remote directory), with an ETag so phones that
//! poll get `304 Not Modified` while nothing changed, and optional Basic auth.
//!
//! Renders read the mirror read-only: a running sync never blocks them (WAL) and they never
//! block the sync.
//!
//! It faces a LAN of phones, sometimes more, so what a client can make it hold is bounded: the
//! connection guards of `http_server` (`--header-timeout`, 512 connections), and a book is
//! rendered once per state of the mirror and shared by every request for it, one render at a
//! time per book, two at a time in all: 200 phones asking at once cost one render, not 200.
//! The renders read through connections opened once and kept for the server's life.

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
use crate::http_server::{self, Limits};
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
    /// Read-only connections to the mirror, opened once and kept for the server's life (one
    /// per render under way): see `docs/reliability.md`, "One rule for the mirror file".
    readers: std::sync::Mutex<Vec<Mirror>>,
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
        let kept = self.readers.lock().ok().and_then(|mut r| r.pop());
        let mirror = match kept {
            Some(mirror) => mirror,
            None => Mirror::open(&self.db, Access::ReadOnly)?,
        };
        let (conn, selection) = (mirror.conn(), &self.selection);
        let rendered = match book {
            Book::Phone(format) => {
                export::phone_book(conn, selection, format, &self.options, Vec::new()).map(|r| r.0)
            }
            Book::Vcards => {
                export::vcard_file(conn, selection, Version::V3, Vec::new()).map(|r| r.0)
            }
        };
        if let Ok(mut readers) = self.readers.lock() {
            readers.push(mirror);
        }
        tracing::info!(book = ?book, "rendered a book");
        rendered
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
        readers: std::sync::Mutex::new(vec![mirror]),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io(format!("cannot start the async runtime: {e}")))?;
    let limits = Limits {
        header_timeout: std::time::Duration::from_secs(args.header_timeout),
        ..Limits::default()
    };
    runtime.block_on(serve(shared, args.listen, limits))
}

async fn serve(shared: Arc<Shared>, listen: SocketAddr, limits: Limits) -> Result<ExitCode> {
    let (listener, address) = http_server::bind(&listen.to_string()).await?;
    let app = Router::new().fallback(handle).with_state(shared);
    crate::output::line(&format!(
        "serving phone books on http://{address} ({}); Ctrl-C stops",
        PATHS.join(", ")
    ))?;
    http_server::serve(listener, app, limits, http_server::interrupted()).await?;
    Ok(ExitCode::Ok)
}
