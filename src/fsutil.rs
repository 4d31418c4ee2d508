//! Files written so that a reader never sees half of one: a temporary file in the same
//! directory, fsync, rename over the target, fsync of the directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The SHA-256 of `bytes` in lowercase hex: the name of content-addressed files, and the
/// checksum recorded for media, contacts and fax documents.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::io(format!("{what} {}: {e}", path.display()))
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| io_error("cannot create", &dir, e))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".sipmirror-")
        .tempfile_in(&dir)
        .map_err(|e| io_error("cannot write in", &dir, e))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| io_error("cannot write", path, e))?;
    temp.persist(path)
        .map_err(|e| io_error("cannot replace", path, e.error))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        // Makes the rename itself durable; not possible on every file system, hence no error.
        let _ = d.sync_all();
    }
    Ok(())
}
