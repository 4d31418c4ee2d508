//! Contacts from arbitrary bytes through every phone-book and vCard exporter.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sipmirror::fuzzing::exporters(data));
