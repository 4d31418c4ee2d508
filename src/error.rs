//! Error types and the exit codes they map to.
//!
//! Every error that reaches `main` is printed as one line on stderr and ends the process with a
//! stable exit code, so scripts and cron jobs can tell what happened:
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | failed (database, network, upstream, I/O) |
//! | 2 | usage error: bad arguments or configuration |
//! | 3 | partial: the run finished but some items failed or were dead-lettered |
//! | 4 | another run holds the writer lock |
//! | 5 | the writer lock is held by a run older than `[sync] stale_after`: it probably hangs |
//! | 130, 143 | stopped by SIGINT or SIGTERM (the run is recorded as interrupted) |

use std::fmt;

/// Process exit codes, one per outcome a script may want to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    Failed = 1,
    Usage = 2,
    Partial = 3,
    Locked = 4,
    /// The writer lock is held by a run older than `[sync] stale_after`: it probably hangs.
    StaleLock = 5,
    /// Stopped by SIGINT (128 + 2), as shells report it.
    Sigint = 130,
    /// Stopped by SIGTERM (128 + 15).
    Sigterm = 143,
}

impl ExitCode {
    /// This code, unless it is `Ok`: then `other`. Folds the codes of several steps into the
    /// one a command exits with.
    pub fn or(self, other: ExitCode) -> ExitCode {
        if self == ExitCode::Ok { other } else { self }
    }
}

/// What went wrong, coarsely: decides the exit code and whether retrying can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad arguments or configuration. Fix the input; retrying cannot help.
    Usage,
    /// The mirror file is missing, corrupt, foreign or too new. Retrying cannot help.
    Store,
    /// Another process holds the writer lock. Retrying later will help.
    Locked,
    /// A network fault or an upstream 5xx/429. Retrying later may help.
    Transient,
    /// The upstream refused the request (401, 403, 404, 4xx) or sent a body we cannot use.
    Permanent,
    /// A local file or directory could not be read or written.
    Io,
    /// The run finished but some items failed; they are recorded in the mirror.
    Partial,
    /// A signal (SIGINT, SIGTERM) stopped the run; the next run goes on.
    Interrupted,
    /// The writer lock is held by a run that started too long ago. Someone must look.
    StaleLock,
}

/// The error type at the boundary between the library and the binary.
///
/// The message is complete on its own (it names the file, the resource or the setting), so the
/// binary prints it as is.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    /// The signal that stopped the run, for an `Interrupted` error: it picks the exit code.
    signal: Option<i32>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            signal: None,
        }
    }

    /// The run was stopped by `signal` (SIGINT or SIGTERM).
    pub fn interrupted(signal: i32, message: impl Into<String>) -> Self {
        Error {
            signal: Some(signal),
            ..Self::new(ErrorKind::Interrupted, message)
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    pub fn store(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Store, message)
    }

    pub fn io(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether running the same command again later may succeed without any change by the user.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Transient | ErrorKind::Locked)
    }

    pub fn exit_code(&self) -> ExitCode {
        match self.kind {
            ErrorKind::Usage => ExitCode::Usage,
            ErrorKind::Locked => ExitCode::Locked,
            ErrorKind::StaleLock => ExitCode::StaleLock,
            ErrorKind::Partial => ExitCode::Partial,
            ErrorKind::Interrupted => match self.signal {
                Some(libc::SIGINT) => ExitCode::Sigint,
                _ => ExitCode::Sigterm,
            },
            ErrorKind::Store | ErrorKind::Transient | ErrorKind::Permanent | ErrorKind::Io => {
                ExitCode::Failed
            }
        }
    }

    /// Prefixes the message with what was being done, keeping the kind.
    pub fn context(self, what: impl fmt::Display) -> Self {
        Error {
            message: format!("{what}: {}", self.message),
            ..self
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    /// Failures of the disk under the mirror say so in words a user can act on; anything else
    /// is a database error with SQLite's message.
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let detail = one_line(&err.to_string());
        let what = match err.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => "cannot write the mirror: the disk is full",
            Some(ErrorCode::SystemIoFailure) => {
                "cannot read or write the mirror: the disk failed (is it full?)"
            }
            Some(ErrorCode::ReadOnly) => {
                "cannot write the mirror: it is read-only (check the permissions of the file and its folder)"
            }
            Some(ErrorCode::CannotOpen) => {
                "cannot open the mirror (check the path and the folder's permissions)"
            }
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                return Error::new(
                    ErrorKind::Locked,
                    "the mirror stayed locked by another writer for more than 10 s (a sync writing a long transaction, or a transaction left open in sqlite3); try again, or give sync and push --wait",
                );
            }
            _ => return Error::store(format!("database error: {detail}")),
        };
        Error::io(format!("{what}; {detail}"))
    }
}

/// Folds a multi-line message into one line, for the one-line-on-stderr rule.
/// Other control characters (from upstream data, say) are shown escaped, so a message can
/// neither break the line nor send escape sequences to the terminal.
pub fn one_line(text: &str) -> String {
    text.split_whitespace()
        .map(|word| {
            word.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_unicode().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_printable_line() {
        assert_eq!(one_line("a\r\n b\tc"), "a b c");
        assert_eq!(one_line("x\u{1b}[31my"), "x\\u{1b}[31my");
        assert_eq!(one_line("Zähler 🙂"), "Zähler 🙂");
    }

    #[test]
    fn exit_codes_are_stable() {
        assert_eq!(Error::usage("x").exit_code() as i32, 2);
        assert_eq!(Error::new(ErrorKind::Locked, "x").exit_code() as i32, 4);
        assert_eq!(Error::new(ErrorKind::Partial, "x").exit_code() as i32, 3);
        assert_eq!(Error::store("x").exit_code() as i32, 1);
        assert_eq!(Error::new(ErrorKind::Transient, "x").exit_code() as i32, 1);
    }

    #[test]
    fn only_transient_and_locked_are_retryable() {
        assert!(Error::new(ErrorKind::Transient, "x").is_retryable());
        assert!(Error::new(ErrorKind::Locked, "x").is_retryable());
        assert!(!Error::new(ErrorKind::Permanent, "x").is_retryable());
        assert!(!Error::usage("x").is_retryable());
    }

    #[test]
    fn context_keeps_kind_and_prefixes() {
        let e = Error::store("file is not a database").context("opening /tmp/x.db");
        assert_eq!(e.kind(), ErrorKind::Store);
        assert_eq!(e.to_string(), "opening /tmp/x.db: file is not a database");
    }

    #[test]
    fn one_line_folds_newlines() {
        assert_eq!(one_line("a\n  b\r\nc"), "a b c");
    }
}
