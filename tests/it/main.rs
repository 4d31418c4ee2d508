//! The integration tests: the real binary, run against the built-in emulator on 127.0.0.1.
//! One binary (not one per file) so the dependencies are linked once; each module is a feature.

mod common;

mod account_actions;
mod api_client;
mod busy;
mod cli;
mod concurrency;
mod config_file;
mod conflicts;
mod crash;
mod datasette;
mod demo;
mod disk;
mod docs;
mod doctor;
mod emulator;
mod export;
mod export_formats;
mod hardening;
mod media;
mod mirror_file;
mod phonebook_server_abuse;
mod queries;
mod report;
mod secrets;
mod sends;
mod short_pages;
mod soak;
mod structure;
mod sync;
mod teams;
mod v2_actions;
mod v2_contract;
mod v2_sends;
mod v2_sync;
mod v2_write_back;
mod views;
mod webhook;
mod write_back;
mod write_back_defects;
mod write_back_property;
