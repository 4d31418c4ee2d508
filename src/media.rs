//! Media: voicemail recordings, fax documents and fax page previews, downloaded into a
//! content-addressed folder (`<sha256[..2]>/<sha256>.<ext>`) and indexed in `media_files`.
//!
//! A file appears only whole: it is written to a temporary file, checked (the body must be what
//! its kind says: WAV/MP3, PDF/TIFF, PNG/JPEG/GIF), fsynced and renamed; only then is its row
//! written. What is indexed and on disk is not fetched again. One item's failure (a 404, a cut
//! connection, a redirect to another host, a full disk) is reported and the others go on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use rusqlite::params;
use serde::Serialize;

use crate::api::{ApiErrorKind, Upstream};
use crate::config::{MediaFetch, Settings};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::{Mirror, now_utc};

/// What a media run did, as `sync --json` prints it under `media`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MediaReport {
    pub fetched: u64,
    pub bytes: u64,
    pub failed: u64,
    pub pruned: u64,
    /// The first few failures, one line each.
    pub errors: Vec<String>,
}

/// One file to fetch.
#[derive(Debug, Clone)]
struct Item {
    event_id: i64,
    kind: String,
    page: i64,
    url: String,
}

const CANDIDATES: &str = "
SELECT e.id, 'voicemail_audio', 0, v.content_url
FROM mirror_events e JOIN mirror_voicemails v ON v.event_id = e.id
WHERE ?1 AND e.upstream_state = 'present' AND v.content_url IS NOT NULL AND e.created_utc >= ?3
UNION ALL
SELECT e.id, 'fax_document', 0, f.content_url
FROM mirror_events e JOIN mirror_faxes f ON f.event_id = e.id
WHERE ?2 AND e.upstream_state = 'present' AND f.content_url IS NOT NULL AND e.created_utc >= ?3
UNION ALL
SELECT e.id, 'fax_preview_big', p.page_number, p.big_url
FROM mirror_events e JOIN mirror_fax_pages p ON p.event_id = e.id
WHERE ?2 AND e.upstream_state = 'present' AND p.big_url IS NOT NULL AND e.created_utc >= ?3";

/// The items not yet in `media_files` (or whose file went missing).
fn wanted(mirror: &Mirror, settings: &Settings, fetch: MediaFetch) -> Result<Vec<Item>> {
    let conn = mirror.conn();
    // Rows whose file is gone from disk are forgotten, so the file is fetched again.
    let rows: Vec<(i64, String, i64, String)> = conn
        .prepare("SELECT event_id, kind, page, path FROM media_files")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (event, kind, page, path) in rows {
        if !settings.media.dir.join(&path).is_file() {
            conn.execute(
                "DELETE FROM media_files WHERE event_id = ?1 AND kind = ?2 AND page = ?3",
                params![event, kind, page],
            )?;
        }
    }
    let since = settings
        .media
        .max_age
        .and_then(|age| chrono::Duration::from_std(age).ok())
        .map(|age| {
            (chrono::Utc::now() - age)
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string()
        })
        .unwrap_or_default();
    let voicemails = matches!(fetch, MediaFetch::All | MediaFetch::Voicemails);
    let faxes = matches!(fetch, MediaFetch::All | MediaFetch::Faxes);
    let mut stmt = conn.prepare(CANDIDATES)?;
    let mut have = conn.prepare_cached(
        "SELECT 1 FROM media_files WHERE event_id = ?1 AND kind = ?2 AND page = ?3",
    )?;
    let mut items = Vec::new();
    let mut rows = stmt.query(params![voicemails, faxes, since])?;
    while let Some(row) = rows.next()? {
        let item = Item {
            event_id: row.get(0)?,
            kind: row.get(1)?,
            page: row.get(2)?,
            url: row.get(3)?,
        };
        if !have.exists(params![item.event_id, item.kind, item.page])? {
            items.push(item);
        }
    }
    Ok(items)
}

/// Whether `body` is what a file of `kind` must be, whole; returns the file extension. A file
/// is recognised by its signature and, where the format says where it ends, checked to be
/// complete: a body cut off or garbled after a good start is refused, not stored.
fn check_body(kind: &str, body: &[u8]) -> std::result::Result<&'static str, String> {
    let expected: &[(&str, FormatCheck)] = match kind {
        "voicemail_audio" | "call_recording" => &[("wav", wav), ("mp3", mp3)],
        "fax_document" => &[("pdf", pdf), ("tiff", tiff)],
        _ => &[("png", png), ("jpg", jpeg), ("gif", gif)],
    };
    for (extension, check) in expected {
        match check(body) {
            Some(true) => return Ok(extension),
            Some(false) => {
                return Err(format!(
                    "the {extension} body is incomplete or damaged ({} bytes)",
                    body.len()
                ));
            }
            None => {}
        }
    }
    Err(format!(
        "the body is not a {kind} file ({} bytes)",
        body.len()
    ))
}

/// A format check: None = not this format; Some(whole) = this format, whole or not.
type FormatCheck = fn(&[u8]) -> Option<bool>;

/// A RIFF WAVE file is whole when it holds at least the size its header declares. A recording
/// written as a stream declares 0 or 0xFFFFFFFF (its writer could not go back to fill the size
/// in): that says nothing, and is taken as it is.
fn wav(b: &[u8]) -> Option<bool> {
    (b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WAVE")).then(|| {
        let declared = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        if declared == 0 || declared == u32::MAX {
            return true;
        }
        (declared as usize)
            .checked_add(8)
            .is_some_and(|whole| whole <= b.len())
    })
}

/// MP3: an ID3v2 tag, or an MPEG audio frame of layer III: MPEG-1 (`FF FB`), MPEG-2 (`FF F3`)
/// or MPEG-2.5 (`FF E3`), with or without CRC. Telephone recordings are often bare MPEG-2 or
/// 2.5 streams at 8 kHz. MP3 has no length or end marker to check.
fn mp3(b: &[u8]) -> Option<bool> {
    let frame = match b {
        [0xFF, second, ..] => {
            let sync = second & 0xE0 == 0xE0;
            let version_known = (second >> 3) & 0b11 != 0b01;
            let layer_three = (second >> 1) & 0b11 == 0b01;
            sync && version_known && layer_three
        }
        _ => false,
    };
    (b.starts_with(b"ID3") || frame).then_some(true)
}

fn pdf(b: &[u8]) -> Option<bool> {
    b.starts_with(b"%PDF-").then(|| {
        let tail = &b[b.len().saturating_sub(1024)..];
        tail.windows(5).any(|w| w == b"%%EOF")
    })
}

fn tiff(b: &[u8]) -> Option<bool> {
    (b.starts_with(b"II*\0") || b.starts_with(b"MM\0*")).then_some(true)
}

fn png(b: &[u8]) -> Option<bool> {
    b.starts_with(b"\x89PNG\r\n\x1a\n")
        .then(|| b.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]))
}

fn jpeg(b: &[u8]) -> Option<bool> {
    b.starts_with(&[0xFF, 0xD8, 0xFF])
        .then(|| b.ends_with(&[0xFF, 0xD9]))
}

fn gif(b: &[u8]) -> Option<bool> {
    b.starts_with(b"GIF8").then(|| b.ends_with(b";"))
}

/// Stores a checked body; returns its path relative to `dir`, its size and hash.
fn store(dir: &Path, kind: &str, body: &[u8]) -> Result<(String, u64, String), String> {
    let extension = check_body(kind, body)?;
    let hash = crate::fsutil::sha256_hex(body);
    let relative = format!("{}/{hash}.{extension}", &hash[..2]);
    let path = dir.join(&relative);
    let same = std::fs::metadata(&path).is_ok_and(|m| m.len() == body.len() as u64);
    if !same {
        crate::fsutil::write_atomic(&path, body).map_err(|e| e.to_string())?;
    }
    Ok((relative, body.len() as u64, hash))
}

/// Downloads what is wanted, bounded by the sync's concurrency. The caller holds the lock.
pub fn run(
    mirror: &mut Mirror,
    settings: &Settings,
    upstream: &Upstream,
    fetch: MediaFetch,
    progress: &Progress,
) -> Result<MediaReport> {
    let mut report = MediaReport::default();
    if settings.media.prune {
        report.pruned = prune(mirror, &settings.media.dir)?;
    }
    if fetch == MediaFetch::None {
        return Ok(report);
    }
    // Recordings and faxes are as private as the mirror.
    crate::store::create_private_dir(&settings.media.dir)
        .map_err(|e| e.context("the media folder"))?;
    crate::store::runs::set_meta(
        mirror.conn(),
        "media_dir",
        &settings.media.dir.display().to_string(),
    )?;
    let items = wanted(mirror, settings, fetch)?;
    let bar = progress.bar("media", "files");
    bar.set_total(items.len() as u64);
    let dir = Arc::new(settings.media.dir.clone());
    upstream.block_on(async {
        let mut results = futures_util::stream::iter(items)
            .map(|item| {
                let client = upstream.client.clone();
                let dir = dir.clone();
                let max_bytes = settings.media.max_bytes(&item.kind);
                async move {
                    let outcome = match client.download(&item.url, max_bytes).await {
                        Ok((mime, body)) => {
                            let dir = dir.clone();
                            let kind = item.kind.clone();
                            tokio::task::spawn_blocking(move || {
                                store(&dir, &kind, &body).map(|stored| (mime, stored))
                            })
                            .await
                            .unwrap_or_else(|e| Err(e.to_string()))
                        }
                        Err(e) if e.kind == ApiErrorKind::Unauthorized => {
                            return (item, Err((true, e.message)));
                        }
                        Err(e) => Err(e.message),
                    };
                    (item, outcome.map_err(|m| (false, m)))
                }
            })
            .buffer_unordered(settings.sync.concurrency);
        while let Some((item, outcome)) = results.next().await {
            bar.advance(1);
            match outcome {
                Ok((mime, (path, size, hash))) => {
                    // The file is in place but not yet indexed: the next run re-fetches and
                    // finds it already there.
                    crate::crashpoint::reached("media:file_stored");
                    mirror.conn().execute(
                        "INSERT INTO media_files (event_id, kind, page, mime_type, size, sha256, path, source_url, fetched_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                         ON CONFLICT (event_id, kind, page) DO UPDATE SET mime_type = excluded.mime_type,
                           size = excluded.size, sha256 = excluded.sha256, path = excluded.path,
                           source_url = excluded.source_url, fetched_at = excluded.fetched_at",
                        params![item.event_id, item.kind, item.page, mime, size as i64, hash, path, item.url, now_utc()],
                    )?;
                    report.fetched += 1;
                    report.bytes += size;
                    bar.message(&format!("{} downloaded", human_bytes(report.bytes)));
                }
                Err((stop, message)) => {
                    report.failed += 1;
                    let line = format!("event {} {}: {message}", item.event_id, item.kind);
                    tracing::info!("{line}");
                    if report.errors.len() < 5 {
                        report.errors.push(line);
                    }
                    if stop {
                        return Err(Error::usage(message));
                    }
                }
            }
        }
        Ok(())
    })?;
    bar.finish(&format!(
        "{} files, {}",
        report.fetched,
        human_bytes(report.bytes)
    ));
    Ok(report)
}

/// Removes the media of events deleted upstream; a file shared with a kept event stays.
fn prune(mirror: &mut Mirror, dir: &Path) -> Result<u64> {
    let tx = mirror
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let gone: Vec<(i64, String, i64, String, String)> = tx
        .prepare(
            "SELECT m.event_id, m.kind, m.page, m.path, m.sha256 FROM media_files m
             JOIN mirror_events e ON e.id = m.event_id WHERE e.upstream_state = 'deleted'",
        )?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut unused = Vec::new();
    for (event, kind, page, path, hash) in &gone {
        tx.execute(
            "DELETE FROM media_files WHERE event_id = ?1 AND kind = ?2 AND page = ?3",
            params![event, kind, page],
        )?;
        let shared: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM media_files WHERE sha256 = ?1)",
            [hash],
            |r| r.get(0),
        )?;
        if !shared {
            unused.push(dir.join(path));
        }
    }
    crate::crashpoint::commit(tx, "media:prune")?;
    // Only once no row points at them: a crash before this leaves files nobody indexes, never
    // an index entry without its file.
    for path in unused {
        let _ = std::fs::remove_file(path);
    }
    Ok(gone.len() as u64)
}

/// The absolute paths of an event's media files.
pub fn paths(mirror: &Mirror, dir: &Path, event_id: i64) -> Result<Vec<PathBuf>> {
    let paths: Vec<String> = mirror
        .conn()
        .prepare("SELECT path FROM media_files WHERE event_id = ?1 ORDER BY kind, page")?
        .query_map([event_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(paths.into_iter().map(|p| dir.join(p)).collect())
}

/// `12.3 MiB`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files made by real encoders (see `tests/data/media/README.md`), not by the emulator.
    #[test]
    fn recordings_as_real_encoders_write_them_are_taken() {
        let files: [(&[u8], &str); 4] = [
            (
                include_bytes!("../tests/data/media/voicemail-8khz.wav"),
                "wav",
            ),
            (
                include_bytes!("../tests/data/media/voicemail-streamed-size.wav"),
                "wav",
            ),
            (
                include_bytes!("../tests/data/media/voicemail-mpeg2-16khz.mp3"),
                "mp3",
            ),
            (
                include_bytes!("../tests/data/media/voicemail-mpeg25-8khz.mp3"),
                "mp3",
            ),
        ];
        for (body, extension) in files {
            assert_eq!(check_body("voicemail_audio", body), Ok(extension));
        }
        // A WAV whose data stops before its declared size is cut off.
        let whole = include_bytes!("../tests/data/media/voicemail-8khz.wav");
        assert!(check_body("voicemail_audio", &whole[..whole.len() / 2]).is_err());
        // Layer I or II and the reserved MPEG version are not MP3.
        for header in [[0xFF, 0xFF], [0xFF, 0xFD], [0xFF, 0xEB]] {
            assert!(
                check_body("voicemail_audio", &header).is_err(),
                "{header:x?}"
            );
        }
    }

    #[test]
    fn bodies_must_be_whole_and_what_their_kind_says() {
        use crate::emulator::media as sample;
        let cases = [
            ("voicemail_audio", sample::wav(3, 25), "wav"),
            ("fax_document", sample::pdf(3, 2), "pdf"),
            ("fax_preview_big", sample::png(3, 1, true), "png"),
        ];
        for (kind, whole, extension) in cases {
            assert_eq!(check_body(kind, &whole), Ok(extension), "{kind}");
            // What the emulator's `malformed` fault sends: a good start, then garbage.
            let mut damaged = whole[..whole.len() / 3].to_vec();
            damaged.extend_from_slice(b"\x00}<]]not-valid");
            let error = check_body(kind, &damaged).unwrap_err();
            assert!(error.contains("incomplete or damaged"), "{kind}: {error}");
        }
        assert!(check_body("fax_document", b"<html>error</html>").is_err());
        assert!(check_body("voicemail_audio", b"").is_err());
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(3 * 1024 * 1024 / 2), "1.5 MiB");
    }
}
