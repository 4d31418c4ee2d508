//! The memory allocator of the binary (and of the benchmarks, so that their figures are the
//! binary's): mimalloc instead of the system's.
//!
//! The sync and the exports hand many small strings from the thread that reads to the thread
//! that writes. glibc's allocator spent about a fifth of their time in `malloc`, `free` and the
//! lock between its per-thread arenas; with mimalloc a re-run of a 50,000-card vCard folder
//! went from 1.2–1.6 s to 0.8–1.0 s (figures in the README).

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
