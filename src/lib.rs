//! sipmirror keeps a local SQLite mirror of a sipgate account.
//!
//! The binary is a thin layer over these modules: [`cli`] parses the command line once,
//! [`config`] resolves it into [`config::Settings`], [`commands`] runs one subcommand, and
//! [`error`] maps what went wrong to a stable exit code.

pub mod allocator;
pub mod api;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod config;
pub mod crashpoint;
pub mod emulator;
pub mod error;
pub mod export;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod http_server;
pub mod interrupt;
pub mod logging;
pub mod media;
pub mod numbers;
pub mod output;
pub mod pdf;
pub mod progress;
pub mod push;
pub mod query;
pub mod records;
pub mod report;
pub mod store;
pub mod sync;
pub mod timezone;
pub mod validate;
pub mod webhook;
