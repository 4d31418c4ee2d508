//! `/_media/...`: the real bytes behind the 307 redirects of the content and preview
//! resources. Like upstream's download URLs they need no credentials.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

use super::Shr;
use crate::emulator::media::{self, audio_tenths};
use crate::emulator::model::{Detail, Kind};
use crate::emulator::server::{ApiError, ApiResult, Reply};

pub fn routes() -> Router<Shr> {
    Router::new()
        .route("/_media/voicemail/{id}", get(voicemail))
        .route("/_media/fax/{id}", get(fax))
        .route("/_media/preview/{id}/{page}/{size}", get(preview))
        .route("/_media/recording/{id}/{n}", get(recording))
}

fn detail(shared: &Shr, id: &str, kind: Kind) -> Result<(u64, Detail), ApiError> {
    let missing = || ApiError::not_found(format!("no {} content {id:?}", kind.singular()));
    let id: u64 = id.parse().map_err(|_| missing())?;
    let state = shared.read();
    let event = state
        .events
        .get(id)
        .filter(|e| e.kind == kind)
        .ok_or_else(missing)?;
    Ok((id, event.detail.clone()))
}

async fn voicemail(State(shared): State<Shr>, Path(id): Path<String>) -> ApiResult {
    let (id, _) = detail(&shared, &id, Kind::Voicemail)?;
    if let Some(size) = shared.faults().faults.media_size {
        return Ok(Reply::Raw("audio/wav", media::oversized(id, size)));
    }
    Ok(Reply::Raw("audio/wav", media::wav(id, audio_tenths(id))))
}

async fn recording(State(shared): State<Shr>, Path((id, n)): Path<(String, String)>) -> ApiResult {
    let (id, detail) = detail(&shared, &id, Kind::Call)?;
    let count = match detail {
        Detail::Call { recordings, .. } => recordings,
        _ => 0,
    };
    match n.parse::<u8>() {
        Ok(n) if n < count => Ok(Reply::Raw(
            "audio/wav",
            media::wav(id * 7 + u64::from(n), audio_tenths(id)),
        )),
        _ => Err(ApiError::not_found(format!(
            "call {id} has no recording {n:?}"
        ))),
    }
}

fn fax_pages(detail: &Detail) -> u8 {
    match detail {
        Detail::Fax { pages, .. } => *pages,
        _ => 0,
    }
}

async fn fax(State(shared): State<Shr>, Path(id): Path<String>) -> ApiResult {
    let (id, detail) = detail(&shared, &id, Kind::Fax)?;
    Ok(Reply::Raw(
        "application/pdf",
        media::pdf(id, fax_pages(&detail)),
    ))
}

async fn preview(
    State(shared): State<Shr>,
    Path((id, page, size)): Path<(String, String, String)>,
) -> ApiResult {
    let (id, detail) = detail(&shared, &id, Kind::Fax)?;
    let page: u8 = page
        .parse()
        .map_err(|_| ApiError::not_found("no such page"))?;
    if page == 0 || page > fax_pages(&detail) || !matches!(size.as_str(), "small" | "big") {
        return Err(ApiError::not_found("no such preview"));
    }
    Ok(Reply::Raw("image/png", media::png(id, page, size == "big")))
}
