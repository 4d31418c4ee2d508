//! `sipmirror serve-phonebook`: the phone books and vCards over HTTP, rendered from the mirror
//! on each request (GET, and POST for snom's remote directory), with an ETag so phones that
//! poll get `304 Not Modified` while nothing changed, and optional Basic auth.
//!
//! Each request opens the mirror read-only: a running sync never blocks it (WAL) and it never
//! blocks the sync.

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
    let worker = shared.clone();
    let rendered = tokio::task::spawn_blocking(move || worker.render(book)).await;
    let bytes = match rendered {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            tracing::warn!(%path, error = %e, "cannot render phone book");
            return plain(StatusCode::SERVICE_UNAVAILABLE, e.to_string());
        }
        Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let digest = Sha256::digest(&bytes);
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
        Response::new(Body::from(bytes))
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
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(shared, args.listen))
}

async fn serve(shared: Arc<Shared>, listen: SocketAddr) -> Result<ExitCode> {
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
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::task::spawn_blocking(super::emulator::wait_for_interrupt).await;
        })
        .await
        .map_err(|e| Error::io(format!("phone book server failed: {e}")))?;
    Ok(ExitCode::Ok)
}
