//! Files written so that a reader never sees half of one: a temporary file in the same
//! directory, fsync, rename over the target, fsync of the directory. Many files in one folder
//! (a vCard folder) go through [`Batch`], which makes the same promise with one flush of the
//! file system instead of one fsync per file, or, when the folder does not exist yet, through
//! [`NewFolder`], which builds the whole folder under a temporary name and renames it into
//! place.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

mod batch;
mod new_folder;

pub use batch::Batch;
pub use new_folder::NewFolder;

/// The SHA-256 of `bytes` in lowercase hex: the name of content-addressed files, and the
/// checksum recorded for media, contacts and fax documents.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// `bytes` in lowercase hex. (A `format!` per byte made hashing 50,000 vCards for the folder
/// export cost more than the hashing itself.)
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The folder `path` is in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::io(format!("{what} {}: {e}", path.display()))
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |out| {
        out.write_all(bytes)
            .map_err(|e| io_error("cannot write", path, e))
    })
}

/// The mode of a file meant for others to read (a phone book a TFTP server hands out, a vCard
/// folder a CardDAV tool reads): a target that exists keeps its mode; a new one gets what the
/// umask allows of 0666, as files made by other tools do.
pub fn shared_mode(target: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(target) {
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(_) => 0o666 & !umask(),
    }
}

/// The process's umask: from `/proc` where it says (reading it through `umask(2)` means
/// setting it, for a moment, under threads that may be creating files).
fn umask() -> u32 {
    let from_proc = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        });
    from_proc.unwrap_or_else(|| {
        // SAFETY: umask only swaps the process's mask; it is put back at once.
        unsafe {
            let mask = libc::umask(0o077);
            libc::umask(mask);
            mask as u32
        }
    })
}

/// Like [`write_atomic_with`], for a file meant for others to read: see [`shared_mode`].
pub fn write_shared_atomic_with<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<T> {
    write_atomic_mode(path, Some(shared_mode(path)), write)
}

/// Writes `path` atomically from what `write` puts into the (buffered) writer it is given, so
/// a large file is streamed, never held. If `write` fails, the target is left as it was. The
/// file is private to its owner (0600): mirror data, media, manifests.
pub fn write_atomic_with<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<T> {
    write_atomic_mode(path, None, write)
}

fn write_atomic_mode<T>(
    path: &Path,
    mode: Option<u32>,
    write: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<T> {
    let dir = parent_of(path);
    std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".sipmirror-")
        .tempfile_in(dir)
        .map_err(|e| io_error("cannot write in", dir, e))?;
    let mut out = FirstError {
        inner: std::io::BufWriter::with_capacity(256 * 1024, temp.as_file_mut()),
        error: None,
    };
    let written = write(&mut out);
    let _ = out.flush();
    // A failed write is reported as the file's error (the disk is full, say), whatever the
    // writer made of it.
    if let Some(e) = out.error.take() {
        return Err(io_error("cannot write", path, e));
    }
    drop(out);
    let value = written?;
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| io_error("cannot write", path, e))?;
    }
    temp.as_file()
        .sync_all()
        .map_err(|e| io_error("cannot write", path, e))?;
    temp.persist(path)
        .map_err(|e| io_error("cannot replace", path, e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Makes the rename itself durable; not possible on every file system, hence no error.
        let _ = d.sync_all();
    }
    Ok(value)
}

/// A writer that remembers the first error of the one it wraps.
struct FirstError<W: Write> {
    inner: W,
    error: Option<std::io::Error>,
}

impl<W: Write> FirstError<W> {
    fn keep<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        result.inspect_err(|e| {
            if self.error.is_none() {
                self.error = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        })
    }
}

impl<W: Write> Write for FirstError<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.inner.write(buf);
        self.keep(result)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let result = self.inner.write_all(buf);
        self.keep(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.inner.flush();
        self.keep(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_written_in_lowercase_hex() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// The names in `dir`, sorted.
    pub(super) fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_failed_streamed_write_leaves_the_target_as_it_was() {
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("snom.xml");
        std::fs::write(&target, "old").expect("write");
        let result: Result<()> = write_atomic_with(&target, |out| {
            out.write_all(&[b'x'; 300_000]).expect("buffered");
            Err(Error::io("the renderer gave up"))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read(&target).expect("read"), b"old");
        assert_eq!(names(dir.path()), ["snom.xml"], "no temporary file left");
        let count = write_atomic_with(&target, |out| {
            out.write_all(b"new").expect("write");
            Ok(3)
        })
        .expect("written");
        assert_eq!(
            (count, std::fs::read(&target).expect("read")),
            (3, b"new".to_vec())
        );
    }

    /// A writer that fails, as a full disk does.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("No space left on device"))
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_first_write_error_is_kept_whatever_the_writer_makes_of_it() {
        let mut out = FirstError {
            inner: Full,
            error: None,
        };
        assert!(out.write_all(b"a").is_err());
        assert!(out.write_all(b"b").is_err());
        let kept = out.error.expect("kept");
        assert_eq!(kept.to_string(), "No space left on device");
    }
}
