//! The memory allocator of the binary (and of the benchmarks, so that their figures are the
//! binary's): mimalloc instead of the system's.
//!
//! The sync and the exports hand many small strings from the thread that reads to the thread
//! that writes. glibc's allocator spent about a fifth of their time in `malloc`, `free` and the
//! lock between its per-thread arenas; with mimalloc a re-run of a 50,000-card vCard folder
//! went from 1.2–1.6 s to 0.8–1.0 s (figures in the README). SQLite's allocations are routed
//! to it as well (see [`configure`]); with that and SQLite built without memory statistics
//! (`.cargo/config.toml`), a first sync of 200,000 events went from 6.5–6.65 s to 6.3–6.4 s.

/// The allocator to declare with `#[global_allocator]`.
pub type Allocator = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_t` (the same in its versions 2 and 3; the
/// Rust bindings do not name it).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Call first thing in `main`. Freed memory goes back to the system at once rather than a
/// second later: held back, pages freed by the other thread piled up and a 50,000-contact
/// export peaked at 100–126 MiB instead of 70.
pub fn configure() {
    // SAFETY: mi_option_set only stores the value; mimalloc reads the option when it purges.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
    sqlite_through_mimalloc();
}

/// SQLite (C code) allocates through its own hooks, which default to the system's `malloc`: a
/// first sync spent a twelfth of its writing thread there. Handing them to mimalloc must happen
/// before SQLite initialises, that is before the first connection; later, SQLite refuses the
/// change (`SQLITE_MISUSE`) and keeps the system's, which only costs speed.
fn sqlite_through_mimalloc() {
    use libmimalloc_sys as mi;
    use rusqlite::ffi;
    use std::os::raw::{c_int, c_void};

    unsafe extern "C" fn malloc(size: c_int) -> *mut c_void {
        // SAFETY: any size may be asked for; SQLite never asks for a negative one.
        unsafe { mi::mi_malloc(usize::try_from(size).unwrap_or(0)) }
    }
    unsafe extern "C" fn free(block: *mut c_void) {
        // SAFETY: SQLite frees only what these hooks allocated.
        unsafe { mi::mi_free(block) }
    }
    unsafe extern "C" fn realloc(block: *mut c_void, size: c_int) -> *mut c_void {
        // SAFETY: as for `malloc` and `free`.
        unsafe { mi::mi_realloc(block, usize::try_from(size).unwrap_or(0)) }
    }
    unsafe extern "C" fn size(block: *mut c_void) -> c_int {
        // SAFETY: as for `free`. SQLite's allocations are far below 2 GiB.
        let usable = unsafe { mi::mi_usable_size(block) };
        c_int::try_from(usable).unwrap_or(c_int::MAX)
    }
    unsafe extern "C" fn roundup(size: c_int) -> c_int {
        size
    }
    unsafe extern "C" fn init(_: *mut c_void) -> c_int {
        ffi::SQLITE_OK
    }
    unsafe extern "C" fn shutdown(_: *mut c_void) {}

    let methods = ffi::sqlite3_mem_methods {
        xMalloc: Some(malloc),
        xFree: Some(free),
        xRealloc: Some(realloc),
        xSize: Some(size),
        xRoundup: Some(roundup),
        xInit: Some(init),
        xShutdown: Some(shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: SQLite copies the struct before returning, and calls the functions from any
    // thread: mimalloc is thread-safe.
    let status = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &raw const methods) };
    if status != ffi::SQLITE_OK {
        tracing::debug!(status, "SQLite keeps the system allocator");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_the_one_mimalloc_documents() {
        // mimalloc 3's default purge_delay is 1000 (ms, in its options.c); a wrong index
        // reads another option.
        // SAFETY: reading an option has no preconditions.
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, 1000);
        configure();
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, 0);
    }
}
