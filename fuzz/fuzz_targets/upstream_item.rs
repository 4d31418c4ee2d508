//! An upstream event or contact item (JSON) through the sync's conversion.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sipmirror::fuzzing::upstream_item(data));
