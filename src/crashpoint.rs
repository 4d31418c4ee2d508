//! Crash points: named places where a test may have the process killed with SIGKILL, to show
//! that a crash there loses nothing (SQLite's fault-injection idea, for a whole process).
//!
//! `SIPMIRROR_CRASH_AT` selects the place:
//! - `NAME` kills at the first time `NAME` is reached (`send:posted`, `sync:page_committed`);
//! - `NAME#N` kills the N-th time it is reached (counting from 1);
//! - `*#N` kills at the N-th crash point of any name, for tests that pick points at random;
//! - `panic:SPEC` panics there instead, to test what a bug's panic prints;
//! - `pause:SPEC` stops there instead until the test lets it go on: the process creates the
//!   file `SIPMIRROR_PAUSE_FILE` and waits while it exists. A test that must act *while* a
//!   run is in a given state (between two commits of a sync) uses this barrier, never a sleep.
//!
//! Without the variable (every normal run) a crash point costs one relaxed atomic load. The
//! kill is a real SIGKILL: no destructor runs, no buffer is flushed, no transaction is rolled
//! back by us, exactly as when the machine loses power or the OOM killer strikes.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The parsed `SIPMIRROR_CRASH_AT`: which name (None = any), which occurrence, and whether
/// to panic instead of dying.
struct Target {
    name: Option<String>,
    occurrence: u64,
    panic: bool,
    pause: bool,
}

static TARGET: OnceLock<Option<Target>> = OnceLock::new();
static REACHED: AtomicU64 = AtomicU64::new(0);

fn parse(spec: &str) -> Option<Target> {
    let (spec, panic) = match spec.strip_prefix("panic:") {
        Some(rest) => (rest, true),
        None => (spec, false),
    };
    let (spec, pause) = match spec.strip_prefix("pause:") {
        Some(rest) => (rest, true),
        None => (spec, false),
    };
    let (name, occurrence) = match spec.rsplit_once('#') {
        Some((name, n)) => (name, n.parse().ok()?),
        None => (spec, 1),
    };
    if name.is_empty() || occurrence == 0 {
        return None;
    }
    Some(Target {
        name: (name != "*").then(|| name.to_string()),
        occurrence,
        panic,
        pause,
    })
}

fn target() -> Option<&'static Target> {
    TARGET
        .get_or_init(|| {
            std::env::var("SIPMIRROR_CRASH_AT")
                .ok()
                .and_then(|spec| parse(&spec))
        })
        .as_ref()
}

/// Commits `tx` with a crash point on each side: `NAME:before_commit` (the transaction's
/// writes are in the WAL but not committed) and `NAME:committed`.
pub fn commit(tx: rusqlite::Transaction<'_>, name: &str) -> rusqlite::Result<()> {
    let armed = target().is_some();
    if armed {
        reached(&format!("{name}:before_commit"));
    }
    tx.commit()?;
    if armed {
        reached(&format!("{name}:committed"));
    }
    Ok(())
}

/// Marks a crash point. Kills the process here if the environment asks for it.
pub fn reached(name: &str) {
    let Some(target) = target() else { return };
    if target.name.as_deref().is_some_and(|n| n != name) {
        return;
    }
    if REACHED.fetch_add(1, Ordering::Relaxed) + 1 == target.occurrence {
        if target.panic {
            panic!("panic asked for at crash point {name}");
        }
        if target.pause {
            return pause(name);
        }
        tracing::debug!(crash_point = name, "killing the process as asked");
        kill_self();
    }
}

/// Waits at crash point `name` while the pause file exists (created here, removed by the test).
fn pause(name: &str) {
    let Some(file) = std::env::var_os("SIPMIRROR_PAUSE_FILE") else {
        return;
    };
    if std::fs::write(&file, name).is_err() {
        return;
    }
    tracing::debug!(crash_point = name, "paused as asked");
    while std::path::Path::new(&file).exists() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn kill_self() -> ! {
    // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    // SIGKILL cannot be caught; this is only reached if kill(2) itself failed.
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn specs_are_parsed() {
        let t = parse("send:posted").unwrap();
        assert_eq!((t.name.as_deref(), t.occurrence), (Some("send:posted"), 1));
        let t = parse("sync:page_committed#3").unwrap();
        assert_eq!(
            (t.name.as_deref(), t.occurrence),
            (Some("sync:page_committed"), 3)
        );
        let t = parse("*#17").unwrap();
        assert_eq!((t.name, t.occurrence, t.panic), (None, 17, false));
        let t = parse("panic:*#2").unwrap();
        assert_eq!((t.name, t.occurrence, t.panic), (None, 2, true));
        let t = parse("pause:sync:page_committed#2").unwrap();
        assert_eq!(
            (t.name.as_deref(), t.occurrence, t.pause),
            (Some("sync:page_committed"), 2, true)
        );
        assert!(parse("x#0").is_none());
        assert!(parse("#2").is_none());
        assert!(parse("x#y").is_none());
    }
}
