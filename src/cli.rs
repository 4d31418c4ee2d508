//! The command line, in one place. Parsed once in `main`, then resolved into
//! [`crate::config::Settings`].

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};
use clap_complete::Shell;

const AFTER_HELP: &str = "\
Connection: SIPGATE_USERNAME and SIPGATE_PASSWORD (or password_command in the config file).
Config file: $XDG_CONFIG_HOME/sipmirror/config.toml (see the README).
Exit codes: 0 ok, 1 failed, 2 usage error, 3 partial (some items failed), 4 another run holds the lock.";

/// Keep a local SQLite mirror of a sipgate account.
#[derive(Debug, Parser)]
#[command(name = "sipmirror", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: CommandLine,
}

/// Flags accepted before or after any subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The mirror database [default: $XDG_DATA_HOME/sipmirror/mirror.db]
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "SIPMIRROR_DB",
        hide_env_values = true
    )]
    pub db: Option<PathBuf>,

    /// The config file [default: $XDG_CONFIG_HOME/sipmirror/config.toml]
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "SIPMIRROR_CONFIG",
        hide_env_values = true
    )]
    pub config: Option<PathBuf>,

    /// More output on stderr (-v: info, -vv: debug, -vvv: trace); RUST_LOG overrides
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Machine-readable JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,

    /// The upstream API [default: https://api.sipgate.net]
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "SIPGATE_BASE_URL",
        hide_env_values = true
    )]
    pub base_url: Option<String>,

    /// The web login: user name or e-mail
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        env = "SIPGATE_USERNAME",
        hide_env_values = true
    )]
    pub username: Option<String>,

    /// The user id in upstream paths [default: my]
    #[arg(
        long,
        global = true,
        value_name = "ID",
        env = "SIPGATE_USER_ID",
        hide_env_values = true
    )]
    pub user_id: Option<String>,

    /// The API version sent with every request [default: 2.41.0]
    #[arg(
        long,
        global = true,
        value_name = "VERSION",
        env = "SIPGATE_API_VERSION",
        hide_env_values = true
    )]
    pub api_version: Option<String>,

    /// Allow plain http:// to hosts other than loopback
    #[arg(long, global = true)]
    pub allow_insecure: bool,
}

#[derive(Debug, Subcommand)]
pub enum CommandLine {
    /// Create the mirror, or upgrade its schema to this version of sipmirror
    Init,
    /// Show the mirror: record counts, recent runs, pending and failed edits, schema version
    Status,
    /// Show the settings in effect and where the config file is (the password is never shown)
    Config,
    /// Print shell completions: sipmirror completions bash > ~/.local/share/bash-completion/completions/sipmirror
    Completions {
        /// The shell to write completions for
        shell: Shell,
    },
}
