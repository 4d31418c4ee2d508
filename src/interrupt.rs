//! SIGINT and SIGTERM during a sync: the run stops at the next page boundary (the transaction
//! in progress commits or rolls back as SQLite ends it), is recorded as interrupted, and the
//! process exits with 130 or 143, as a shell expects of a program stopped by a signal. A
//! second signal ends the process at once (the handler hands the signal back to the default).

use std::sync::atomic::{AtomicI32, Ordering};

use crate::error::Error;

static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    RECEIVED.store(signal, Ordering::SeqCst);
    // Only async-signal-safe calls here: hand the next signal back to the default action.
    // SAFETY: `signal` with SIG_DFL is async-signal-safe and takes a valid signal number.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
    }
}

/// Lets SIGINT and SIGTERM stop the current run cleanly instead of killing the process.
pub fn install() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic and calls `signal`, both allowed in a
        // signal handler.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// The signal received, if one was.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// An error that stops the run, once a signal came.
pub fn check() -> crate::error::Result<()> {
    match received() {
        None => Ok(()),
        Some(signal) => Err(Error::interrupted(
            signal,
            format!(
                "interrupted by {}; the next run goes on from here",
                name(signal)
            ),
        )),
    }
}

pub fn name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
