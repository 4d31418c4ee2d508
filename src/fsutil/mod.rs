//! Files written so that a reader never sees half of one: a temporary file in the same
//! directory, fsync, rename over the target, fsync of the directory. Many files in one folder
//! (a vCard folder) go through [`Batch`], which makes the same promise with one flush of the
//! file system instead of one fsync per file.

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
    write_atomic_with(path, |out| {
        out.write_all(bytes)
            .map_err(|e| io_error("cannot write", path, e))
    })
}

/// Writes `path` atomically from what `write` puts into the (buffered) writer it is given, so
/// a large file is streamed, never held. If `write` fails, the target is left as it was.
pub fn write_atomic_with<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<T> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| io_error("cannot create", &dir, e))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".sipmirror-")
        .tempfile_in(&dir)
        .map_err(|e| io_error("cannot write in", &dir, e))?;
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
    temp.as_file()
        .sync_all()
        .map_err(|e| io_error("cannot write", path, e))?;
    temp.persist(path)
        .map_err(|e| io_error("cannot replace", path, e.error))?;
    if let Ok(d) = std::fs::File::open(&dir) {
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

/// Many files written into one folder, each atomically: every one is written to a hidden
/// temporary file first; [`Batch::commit`] makes all of them durable with one `syncfs` (Linux;
/// elsewhere one fsync each), then renames each over its target and syncs the folder once.
/// A crash leaves every target either old or new, never half-written; leftover temporary
/// files are removed by the next batch in that folder.
pub struct Batch {
    dir: PathBuf,
    staged: Vec<(tempfile::TempPath, PathBuf)>,
}

const BATCH_PREFIX: &str = ".sipmirror-batch-";

impl Batch {
    pub fn new(dir: &Path) -> Result<Batch> {
        std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))?;
        // Temporary files of a batch that was killed before it committed.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(BATCH_PREFIX)
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(Batch {
            dir: dir.to_path_buf(),
            staged: Vec::new(),
        })
    }

    /// Writes `bytes` for `name` (a plain file name in the folder) to a temporary file.
    pub fn stage(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let target = self.dir.join(name);
        let mut temp = tempfile::Builder::new()
            .prefix(BATCH_PREFIX)
            .tempfile_in(&self.dir)
            .map_err(|e| io_error("cannot write in", &self.dir, e))?;
        temp.write_all(bytes)
            .map_err(|e| io_error("cannot write", &target, e))?;
        if !cfg!(target_os = "linux") {
            temp.as_file()
                .sync_all()
                .map_err(|e| io_error("cannot write", &target, e))?;
        }
        self.staged.push((temp.into_temp_path(), target));
        Ok(())
    }

    /// Makes every staged file durable, then puts each in place. Returns how many.
    pub fn commit(self) -> Result<usize> {
        if self.staged.is_empty() {
            return Ok(0);
        }
        let dir =
            std::fs::File::open(&self.dir).map_err(|e| io_error("cannot open", &self.dir, e))?;
        sync_file_system(&dir).map_err(|e| io_error("cannot flush", &self.dir, e))?;
        let count = self.staged.len();
        for (temp, target) in self.staged {
            temp.persist(&target)
                .map_err(|e| io_error("cannot replace", &target, e.error))?;
        }
        // Makes the renames durable; not possible on every file system, hence no error.
        let _ = dir.sync_all();
        Ok(count)
    }
}

/// Flushes every file written on the file system that holds `file` (Linux `syncfs`). On other
/// systems each staged file was synced when it was written.
fn sync_file_system(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: syncfs(2) takes an open descriptor, which `file` keeps open for the call.
        if unsafe { libc::syncfs(file.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    let _ = file;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_batch_shows_nothing_before_commit_and_cleans_up_after_a_killed_one() {
        let dir = tempfile::tempdir().expect("dir");
        let dir = dir.path();
        std::fs::write(dir.join(".sipmirror-batch-left-by-a-crash"), "half").expect("write");
        std::fs::write(dir.join("b.vcf"), "old").expect("write");
        let mut batch = Batch::new(dir).expect("batch");
        assert_eq!(names(dir), ["b.vcf"], "the leftover is gone");
        batch.stage("a.vcf", b"A").expect("stage");
        batch.stage("b.vcf", b"new").expect("stage");
        assert!(
            !dir.join("a.vcf").exists(),
            "nothing in place before commit"
        );
        assert_eq!(std::fs::read(dir.join("b.vcf")).expect("read"), b"old");
        assert_eq!(batch.commit().expect("commit"), 2);
        assert_eq!(names(dir), ["a.vcf", "b.vcf"], "no temporary file left");
        assert_eq!(std::fs::read(dir.join("b.vcf")).expect("read"), b"new");
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
