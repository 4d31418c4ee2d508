//! `/download/{token}/{file}`: v2's media as capability URLs. Like sipgate's, they need no
//! credentials: the token in the path is the permission. A request that carries an
//! `Authorization` header anyway is counted apart in the stats
//! (`GET /download (with Authorization)`), so a test can show the client never sends one.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::{Shr, V2Error, V2Result};
use crate::emulator::media;
use crate::emulator::model::{Detail, Kind};

pub fn routes() -> Router<Shr> {
    Router::new().route("/download/{token}/{file}", get(download))
}

/// The keyed token of a file name: 32 hex digits, as sipgate's.
fn token(shared: &Shr, file: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(shared.media_key.to_le_bytes());
    hash.update(file.as_bytes());
    crate::fsutil::hex(&hash.finalize()[..16])
}

/// The capability URL of `file` (`voicemail-ID.wav`, `recording-ID-N.wav`, `fax-ID.pdf`,
/// `preview-ID.png`, `report-ID.pdf`).
pub fn url(shared: &Shr, file: &str) -> String {
    format!(
        "{}/download/{}/{file}",
        shared.base_url,
        token(shared, file)
    )
}

async fn download(
    State(shared): State<Shr>,
    Path((given, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> V2Result {
    if headers.contains_key(header::AUTHORIZATION) {
        *shared
            .stats()
            .requests
            .entry("GET /download (with Authorization)".into())
            .or_default() += 1;
    }
    let missing = || V2Error::not_found("no such download");
    if given != token(&shared, &file) {
        return Err(missing());
    }
    let (stem, extension) = file.rsplit_once('.').ok_or_else(missing)?;
    let mut parts = stem.split('-');
    let what = parts.next().unwrap_or("");
    let id: u64 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(missing)?;
    let detail = shared
        .read()
        .events
        .get(id)
        .map(|e| (e.kind, e.detail.clone()))
        .ok_or_else(missing)?;
    let (content_type, body) = match (what, extension, detail) {
        ("voicemail", "wav", (Kind::Voicemail, _)) => match shared.faults().faults.media_size {
            Some(size) => ("audio/wav", media::oversized(id, size)),
            None => ("audio/wav", media::wav(id, media::audio_tenths(id))),
        },
        ("recording", "wav", (Kind::Call, Detail::Call { recordings, .. })) => {
            let n: u8 = parts
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(missing)?;
            if n >= recordings {
                return Err(missing());
            }
            (
                "audio/wav",
                media::wav(id * 7 + u64::from(n), media::audio_tenths(id)),
            )
        }
        ("fax" | "report", "pdf", (Kind::Fax, Detail::Fax { pages, .. })) => (
            "application/pdf",
            media::pdf(id, if what == "fax" { pages } else { 1 }),
        ),
        ("preview", "png", (Kind::Fax, _)) => ("image/png", media::png(id, 1, false)),
        _ => return Err(missing()),
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
