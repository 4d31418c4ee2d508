//! One writer at a time: an exclusive OS file lock on `<db>.lock`, released by the kernel when
//! the process exits, however it exits. A row in the database would stay "locked" after a
//! crash; a file lock cannot.
//!
//! The holder writes who it is into the lock file so a second run can say whom it waited for.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// Who holds the writer lock.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockHolder {
    pub pid: u32,
    pub command: String,
    pub since: String,
}

impl LockHolder {
    /// How long ago the holder took the lock, if its time can be read.
    pub fn age(&self) -> Option<std::time::Duration> {
        let since = chrono::DateTime::parse_from_rfc3339(&self.since).ok()?;
        (chrono::Utc::now() - since.with_timezone(&chrono::Utc))
            .to_std()
            .ok()
    }
}

/// `1h`, `90m`, `45s`.
fn human_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else if s >= 60 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} running `{}` since {}",
            self.pid, self.command, self.since
        )
    }
}

/// The writer lock; released when dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Takes the lock for `db_path` or fails at once with [`ErrorKind::Locked`], naming the holder.
    pub fn acquire(db_path: &Path, command: &str) -> Result<WriterLock> {
        Self::take(db_path, command, None, None)
    }

    /// The same; a holder that started longer than `stale_after` ago is reported as
    /// [`ErrorKind::StaleLock`] instead: it probably hangs, and someone must look.
    pub fn acquire_unless_stale(
        db_path: &Path,
        command: &str,
        stale_after: std::time::Duration,
    ) -> Result<WriterLock> {
        Self::take(db_path, command, None, Some(stale_after))
    }

    /// Takes the lock for `db_path`, waiting as long as another run holds it; `waiting` is
    /// told whom it waits for (once, before it blocks).
    pub fn acquire_waiting(
        db_path: &Path,
        command: &str,
        waiting: &mut dyn FnMut(&str),
    ) -> Result<WriterLock> {
        Self::take(db_path, command, Some(waiting), None)
    }

    fn take(
        db_path: &Path,
        command: &str,
        waiting: Option<&mut dyn FnMut(&str)>,
        stale_after: Option<std::time::Duration>,
    ) -> Result<WriterLock> {
        let path = lock_path(db_path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            super::create_private_dir(dir)?;
        }
        let mut file = open_lock_file(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let held_by = read_holder(&mut file);
                if let (Some(holder), Some(limit)) = (&held_by, stale_after)
                    && holder.age().is_some_and(|age| age > limit)
                {
                    return Err(Error::new(
                        ErrorKind::StaleLock,
                        format!(
                            "the mirror {} has been locked for more than {} by {holder}; that run probably hangs: look at it (and end it if it does)",
                            db_path.display(),
                            human_duration(limit)
                        ),
                    ));
                }
                let holder = held_by.map(|h| format!(" ({h})")).unwrap_or_default();
                if let Some(waiting) = waiting {
                    waiting(&format!(
                        "waiting for another sipmirror run to release {}{holder}",
                        db_path.display()
                    ));
                    file.lock()
                        .map_err(|e| Error::io(format!("cannot lock {}: {e}", path.display())))?;
                    return Self::hold(file, &path, command);
                }
                return Err(Error::new(
                    ErrorKind::Locked,
                    format!(
                        "another sipmirror run holds the lock on {}{holder}; try again when it has finished",
                        db_path.display()
                    ),
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(Error::io(format!("cannot lock {}: {e}", path.display())));
            }
        }
        Self::hold(file, &path, command)
    }

    /// Records who holds the lock just taken.
    fn hold(mut file: File, path: &Path, command: &str) -> Result<WriterLock> {
        let holder = LockHolder {
            pid: std::process::id(),
            command: command.to_string(),
            since: super::now_utc(),
        };
        write_holder(&mut file, &holder)
            .map_err(|e| Error::io(format!("cannot write lock file {}: {e}", path.display())))?;
        Ok(WriterLock { _file: file })
    }

    /// Who holds the lock on `db_path` right now, if anyone. Never blocks and never creates
    /// the lock file.
    pub fn holder(db_path: &Path) -> Option<LockHolder> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(lock_path(db_path))
            .ok()
            .filter(|f| f.metadata().is_ok_and(|m| m.is_file()))?;
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                None
            }
            Err(TryLockError::WouldBlock) => read_holder(&mut file).or(Some(LockHolder {
                pid: 0,
                command: "unknown".into(),
                since: "unknown".into(),
            })),
            Err(TryLockError::Error(_)) => None,
        }
    }
}

/// Opens (or creates, private) the lock file without following a symbolic link, and only if
/// it is a regular file: in a folder others can write, a link planted there must not make a
/// run overwrite the file it points to.
fn open_lock_file(path: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                Error::usage(format!(
                    "lock file {} is a symbolic link; refusing to follow it (remove it if you made it)",
                    path.display()
                ))
            } else {
                Error::io(format!("cannot open lock file {}: {e}", path.display()))
            }
        })?;
    let regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
    if !regular {
        return Err(Error::usage(format!(
            "lock file {} is not a regular file; refusing to use it",
            path.display()
        )));
    }
    Ok(file)
}

fn lock_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

fn read_holder(file: &mut File) -> Option<LockHolder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

fn write_holder(file: &mut File, holder: &LockHolder) -> std::io::Result<()> {
    let text = serde_json::to_string(holder).map_err(std::io::Error::other)?;
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_writer_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("m.db");
        let first = WriterLock::acquire(&db, "sync").expect("first lock");
        let err = WriterLock::acquire(&db, "push").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Locked);
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(err.to_string().contains("running `sync`"), "{err}");
        let holder = WriterLock::holder(&db).expect("held");
        assert_eq!(holder.command, "sync");
        drop(first);
        assert!(WriterLock::holder(&db).is_none());
        WriterLock::acquire(&db, "push").expect("free again");
    }
}
