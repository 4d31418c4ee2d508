//! The mirror: one SQLite file, opened in WAL mode, with the schema from `migrations/`.
//!
//! Opening never damages what is there: a file that is not SQLite, a SQLite file that is not a
//! mirror, or a mirror written by a newer sipmirror is refused before anything is written.
//!
//! Nothing here (nor anywhere else in sipmirror) opens the mirror file, its `-wal` or its
//! `-shm` except through SQLite. On Linux, closing *any* descriptor of a file drops every
//! POSIX lock the process holds on it, the locks of its open SQLite connections included;
//! another process (a `sqlite3` shell) that then closes the mirror believes it is the last
//! user and deletes the WAL under the connection still writing to it. SQLite itself keeps
//! the descriptors of one file shared between the connections of a process, so a foreign file
//! is told apart by SQLite's own reading of the header (`SQLITE_NOTADB`), which writes
//! nothing. See `docs/reliability.md`, "One rule for the mirror file".

pub mod bulk;
pub mod contacts;
pub mod edits;
pub mod events;
pub mod live_calls;
mod lock;
pub mod outbox;
pub mod runs;
pub mod schema_doc;
pub mod sends;
pub mod settings;
mod status;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::error::{Error, Result, one_line};

pub use lock::{LockHolder, WriterLock};
pub use status::{MirrorStatus, RecentRun};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// How long a statement waits for another connection's write lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The table refinery records applied migrations in.
const HISTORY_TABLE: &str = "refinery_schema_history";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Create the file if needed and bring the schema up to date.
    ReadWrite,
    /// The file must exist with the current schema; nothing can be written.
    ReadOnly,
    /// The file must exist (only `init` and `sync` create one); its schema is brought up to
    /// date and it can be written: the edit verbs, the outbox, sends, push.
    Existing,
}

/// An open mirror database.
pub struct Mirror {
    conn: Connection,
    path: PathBuf,
}

impl Mirror {
    pub fn open(path: &Path, access: Access) -> Result<Mirror> {
        open(path, access).map_err(|e| e.context(format!("mirror {}", path.display())))
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version the file is at.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(applied_version(&self.conn)?.unwrap_or(0))
    }
}

/// The newest schema version this binary knows.
pub fn latest_schema_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

fn open(path: &Path, access: Access) -> Result<Mirror> {
    if path.is_dir() {
        return Err(Error::usage("is a directory, not a database file"));
    }
    if access == Access::Existing && !path.exists() {
        return Err(Error::store(
            "does not exist; create it with `sipmirror sync` (or `sipmirror init`)",
        ));
    }
    let conn = match access {
        Access::ReadWrite | Access::Existing => {
            create_parent_dir(path)?;
            check_folder_writable(path)?;
            if access == Access::ReadWrite {
                create_private_file(path)?;
            }
            let create = if access == Access::ReadWrite {
                OpenFlags::SQLITE_OPEN_CREATE
            } else {
                OpenFlags::empty()
            };
            Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | create | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
        }
        Access::ReadOnly => {
            if !path.exists() {
                return Err(Error::store(
                    "does not exist; create it with `sipmirror init` or `sipmirror sync`",
                ));
            }
            if folder_access_error(path).and_then(|e| e.raw_os_error()) == Some(libc::EROFS) {
                // On read-only media SQLite cannot create the -shm file a WAL reader needs;
                // nothing can change the file there either, so it is opened as immutable.
                open_immutable(path)
            } else {
                Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
            }
        }
    }
    .map_err(|e| Error::io(format!("cannot open: {}", one_line(&e.to_string()))))?;

    conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite_error)?;
    // 24 MiB of page cache: the sync appends rows, but the endpoints' number index takes
    // entries anywhere, and the default 2 MiB makes it re-read pages from the file system for
    // every row. 64 MiB made a first sync of 200,000 events no faster and its peak memory
    // 50 MB higher; 16 MiB made it about a tenth slower.
    conn.pragma_update(None, "cache_size", -24_576)
        .map_err(sqlite_error)?;
    check_schema(&conn, access)?;
    let mut conn = conn;
    if access != Access::ReadOnly {
        configure_writable(&conn)?;
        if applied_version(&conn)?.is_some_and(|version| version >= 1) {
            // Before the migrations, so that they always find the schema they expect.
            bulk::restore(&conn)?;
        }
        migrate(&mut conn)?;
    } else {
        conn.pragma_update(None, "query_only", true)
            .map_err(sqlite_error)?;
    }
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(sqlite_error)?;
    Ok(Mirror {
        conn,
        path: path.to_path_buf(),
    })
}

fn create_parent_dir(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => create_private_dir(dir),
        _ => Ok(()),
    }
}

/// Creates `dir` (and its missing parents) readable by its owner only (0700): the mirror holds
/// every SMS and call of the account, like a mail store.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(format!("cannot create directory {}: {e}", dir.display())))
}

/// Creates the mirror file private to its owner (0600) whatever the umask, before SQLite opens
/// it: SQLite gives the WAL and shared-memory files the mode of the database file.
fn create_private_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(format!("cannot create: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(format!("cannot create: {e}"))),
    }
}

fn configure_writable(conn: &Connection) -> Result<()> {
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(sqlite_error)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, "could not switch the mirror to WAL mode; readers may block the sync");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sqlite_error)?;
    // Statement journals (which let one statement of a transaction roll back alone) in memory:
    // on disk they spill to a temporary file after 64 KiB, and then every page a sync touches
    // is written there too, a sixth of a first sync's time.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(sqlite_error)?;
    // Checkpoint every 32 MiB of WAL instead of every 4 MiB: a first sync writes hundreds of
    // megabytes, and each checkpoint waits for the disk.
    conn.pragma_update(None, "wal_autocheckpoint", 8192)
        .map_err(sqlite_error)?;
    Ok(())
}

/// Refuses foreign SQLite files and mirrors from a newer sipmirror; on read-only access also
/// mirrors that need an upgrade.
fn check_schema(conn: &Connection, access: Access) -> Result<()> {
    let latest = latest_schema_version();
    match applied_version(conn)? {
        Some(version) if version > latest => Err(Error::store(format!(
            "was written by a newer sipmirror (schema version {version}; this one knows up to {latest}); upgrade sipmirror or use another --db"
        ))),
        Some(version) if version < latest && access == Access::ReadOnly => {
            Err(Error::store(format!(
                "has schema version {version} but this sipmirror needs {latest}; run `sipmirror init` to upgrade it"
            )))
        }
        Some(_) => Ok(()),
        None => {
            // A run killed during its first migration can leave refinery's (empty) history
            // table behind: that file is still a fresh mirror, not a foreign database.
            let tables: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> ?1",
                    [HISTORY_TABLE],
                    |row| row.get(0),
                )
                .map_err(sqlite_error)?;
            if tables > 0 {
                Err(Error::store(
                    "is a SQLite database but not a sipmirror mirror; refusing to touch it (choose another --db)",
                ))
            } else if access == Access::ReadOnly {
                Err(Error::store(
                    "is empty; create the mirror with `sipmirror init` or `sipmirror sync`",
                ))
            } else {
                Ok(())
            }
        }
    }
}

fn applied_version(conn: &Connection) -> Result<Option<i64>> {
    let has_history: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [HISTORY_TABLE],
            |row| row.get(0),
        )
        .map_err(sqlite_error)?;
    if !has_history {
        return Ok(None);
    }
    conn.query_row(
        &format!("SELECT max(version) FROM {HISTORY_TABLE}"),
        [],
        |row| row.get::<_, Option<i64>>(0),
    )
    .optional()
    .map(Option::flatten)
    .map_err(sqlite_error)
}

/// Creates a mirror at an older schema version, as an older sipmirror would have left it: for
/// the upgrade tests.
#[doc(hidden)]
pub fn create_at_schema_version(path: &Path, version: i32) -> Result<()> {
    let mut conn = Connection::open(path)?;
    embedded::migrations::runner()
        .set_grouped(true)
        .set_target(refinery::Target::Version(version))
        .run(&mut conn)
        .map_err(|e| Error::store(one_line(&e.to_string())))?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let report = embedded::migrations::runner()
        .set_grouped(true)
        .run(conn)
        .map_err(|e| {
            Error::store(format!(
                "migrating the schema failed: {}",
                one_line(&e.to_string())
            ))
        })?;
    for migration in report.applied_migrations() {
        tracing::info!(
            version = migration.version(),
            name = migration.name(),
            "applied migration"
        );
    }
    Ok(())
}

/// Turns SQLite's messages about damaged or foreign files into something a person can act on.
/// SQLite writes the mirror, its `-wal` and `-shm` files beside it: a folder it cannot write
/// in gets a clear message here rather than "unable to open database file" later.
fn check_folder_writable(path: &Path) -> Result<()> {
    match folder_access_error(path) {
        None => Ok(()),
        Some(why) => Err(Error::io(format!(
            "cannot write in the folder {} ({why}); the mirror and its -wal and -shm files need a writable folder (readers such as `status` and `sql` still work)",
            folder_of(path).display()
        ))),
    }
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Why the mirror's folder cannot be written in, if it cannot.
fn folder_access_error(path: &Path) -> Option<std::io::Error> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(folder_of(path).as_os_str().as_bytes()).ok()?;
    // SAFETY: access(2) reads a NUL-terminated path and nothing else.
    if unsafe { libc::access(c_path.as_ptr(), libc::W_OK) } == 0 {
        return None;
    }
    Some(std::io::Error::last_os_error())
}

fn open_immutable(path: &Path) -> rusqlite::Result<Connection> {
    let invalid = || rusqlite::Error::InvalidPath(path.to_path_buf());
    let absolute = std::path::absolute(path).map_err(|_| invalid())?;
    let mut uri = url::Url::from_file_path(absolute).map_err(|()| invalid())?;
    uri.set_query(Some("immutable=1"));
    Connection::open_with_flags(
        uri.as_str(),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

fn sqlite_error(err: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            Error::store("is not a SQLite database; refusing to touch it (choose another --db)")
        }
        Some(ErrorCode::DatabaseCorrupt) => Error::store(
            "is corrupt (database disk image is malformed); restore it from a backup or move it away and sync again",
        ),
        Some(ErrorCode::ReadOnly)
        | Some(ErrorCode::CannotOpen)
        | Some(ErrorCode::PermissionDenied) => {
            Error::io(format!("cannot write: {}", one_line(&err.to_string())))
        }
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => Error::new(
            crate::error::ErrorKind::Transient,
            "is busy: another process kept it locked for too long; try again",
        ),
        _ => Error::from(err),
    }
}

/// Current time as stored in the mirror: UTC, milliseconds, `Z`.
pub fn now_utc() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The detail lines of `EXPLAIN QUERY PLAN sql` (parameters bound to NULL), for tests that pin
/// how a statement reads.
#[cfg(test)]
pub(crate) fn query_plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("plan");
    let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
    stmt.query_map(rusqlite::params_from_iter(nulls), |row| {
        row.get::<_, String>(3)
    })
    .expect("plan")
    .collect::<rusqlite::Result<_>>()
    .expect("plan")
}

#[cfg(test)]
mod tests {
    /// Source files that open files with `std::fs`, each reviewed: none of them opens the
    /// mirror, its `-wal` or its `-shm` (see the module documentation).
    const REVIEWED: [&str; 13] = [
        "src/store/mod.rs",         // creates a new mirror (O_EXCL) before any connection
        "src/store/lock.rs",        // the lock file, mirror.db.lock
        "src/config/file.rs",       // the config file
        "src/webhook/signature.rs", // the push API's public key
        "src/compose.rs",           // the fax PDF to send
        "src/fsutil/mod.rs",        // exports and media, written beside their target
        "src/fsutil/batch.rs",      // vCard folders
        "src/fsutil/new_folder.rs", // vCard folders
        "src/export/files.rs",      // vCard folders and their manifest
        "src/sync/mod.rs",          // /proc/self/status
        "src/crashpoint.rs",        // the pause file a test names
        "src/fuzzing/mod.rs",       // the seed corpus, in its unit test
        "src/query/mod.rs",         // the user's own reports (.sql files)
    ];

    fn rust_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }

    #[test]
    fn nothing_but_sqlite_opens_the_mirror_file() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        rust_files(&root.join("src"), &mut files);
        let opens = [
            "File::open",
            "File::create",
            "OpenOptions",
            "fs::read(",
            "fs::read_to_string(",
            "fs::write(",
            "fs::copy(",
        ];
        let mut unreviewed = Vec::new();
        for file in files {
            let relative = file.strip_prefix(root).expect("under the root");
            let name = relative.to_string_lossy().replace('\\', "/");
            // The emulator is not the client: it never sees a mirror.
            if name.starts_with("src/emulator/") || REVIEWED.contains(&name.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("source");
            if let Some(open) = opens.iter().find(|o| text.contains(*o)) {
                unreviewed.push(format!("{name} ({open})"));
            }
        }
        assert!(
            unreviewed.is_empty(),
            "these files open files outside SQLite; make sure none is the mirror, its -wal or \
             -shm (docs/reliability.md, \"One rule for the mirror file\") and add them to REVIEWED: {unreviewed:?}"
        );
    }
}
