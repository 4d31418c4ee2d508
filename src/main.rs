//! The `sipmirror` binary: parse arguments, run the command, map errors to exit codes.

use clap::Parser;
use sipmirror::cli::Cli;
use sipmirror::error::ExitCode;

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    sipmirror::logging::init(cli.global.verbose, cli.global.quiet);
    let code = match sipmirror::commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sipmirror: {err}");
            err.exit_code()
        }
    };
    std::process::ExitCode::from(code as u8)
}

/// Help and version go to stdout as clap renders them; real usage errors become one line.
fn usage_error(err: clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            let code = if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::Usage
            } else {
                ExitCode::Ok
            };
            std::process::ExitCode::from(code as u8)
        }
        _ => {
            // The message's first paragraph, folded: clap lists missing arguments on the
            // lines after "not provided:", and they are the point of the message.
            let rendered = err.to_string();
            let paragraph: Vec<&str> = rendered
                .lines()
                .skip_while(|l| l.trim().is_empty())
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let message = match paragraph.join(" ") {
                m if m.is_empty() => "invalid arguments".to_string(),
                m => m.trim_start_matches("error: ").to_string(),
            };
            eprintln!("sipmirror: {message} (see `sipmirror --help`)");
            std::process::ExitCode::from(ExitCode::Usage as u8)
        }
    }
}
