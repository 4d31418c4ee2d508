//! Whole upstream bodies (JSON envelopes) and timestamps.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sipmirror::fuzzing::upstream_body(data));
