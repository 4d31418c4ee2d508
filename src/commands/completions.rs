//! `sipmirror completions SHELL`: shell completion scripts, generated from the clap definitions.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{ExitCode, Result};
use crate::output;

pub fn run(shell: Shell) -> Result<ExitCode> {
    let mut buffer = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "sipmirror", &mut buffer);
    output::write_bytes(&buffer)?;
    Ok(ExitCode::Ok)
}
