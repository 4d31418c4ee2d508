//! The flags every command takes (`--db`, `--config`, `--api`, ...): the command line's part of
//! the settings. The CLI flattens them into each command; `resolve.rs` merges them with the
//! environment, the config file and the defaults.

use std::path::PathBuf;

use clap::{ArgAction, Args};

/// Flags accepted before or after any subcommand. In a command's help they come under their
/// own heading, after the command's own options.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Global options")]
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

    /// Which sipgate API feeds the mirror: v2 (api.sipgate.com/v2, personal access token) or
    /// classic (api.sipgate.net, switched off by sipgate) [default: v2]
    #[arg(long, global = true, value_name = "API", value_enum)]
    pub api: Option<crate::config::Api>,

    /// The upstream API [default: https://api.sipgate.com/v2 for v2, https://api.sipgate.net
    /// for classic]
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "SIPGATE_BASE_URL",
        hide_env_values = true
    )]
    pub base_url: Option<String>,

    /// classic: the web login, user name or e-mail (v2 uses SIPGATE_TOKEN_ID and
    /// SIPGATE_TOKEN)
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        env = "SIPGATE_USERNAME",
        hide_env_values = true
    )]
    pub username: Option<String>,

    /// classic: the user id in upstream paths [default: my]
    #[arg(
        long,
        global = true,
        value_name = "ID",
        env = "SIPGATE_USER_ID",
        hide_env_values = true
    )]
    pub user_id: Option<String>,

    /// classic: the API version sent with every request [default: 2.41.0]
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

    /// The ids of the flags above that were given on the command line (not taken from the
    /// environment), so that `config` can say where a value came from.
    #[arg(skip)]
    pub given_on_command_line: Vec<String>,
}

impl GlobalArgs {
    /// Notes which of the flags came from the command line itself.
    pub fn note_command_line(&mut self, matches: &clap::ArgMatches) {
        use clap::parser::ValueSource;
        self.given_on_command_line = matches
            .ids()
            .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
            .map(|id| id.as_str().to_string())
            .collect();
    }
}
