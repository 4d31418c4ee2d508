//! A config file's text, parsed and resolved as a run would.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sipmirror::fuzzing::config_file(data));
