//! Helpers shared by the benchmarks.

// The binary's allocator, set up as `main` sets it up, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: sipmirror::allocator::Allocator = sipmirror::allocator::Allocator {};

/// Call first thing in a benchmark's `main`.
pub fn start() {
    sipmirror::allocator::configure();
}

#[allow(dead_code)] // not every benchmark reports memory
/// A field of `/proc/self/status` in KiB (`VmRSS:` now, `VmHWM:` the peak); 0 where unknown.
pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
