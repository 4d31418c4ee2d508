//! The `sipmirror` binary: parse arguments, run the command, map errors to exit codes.

use sipmirror::cli::Cli;
use sipmirror::error::ExitCode;

#[global_allocator]
static ALLOCATOR: sipmirror::allocator::Allocator = sipmirror::allocator::Allocator {};

fn main() -> std::process::ExitCode {
    sipmirror::allocator::configure();
    report_panics_on_one_line();
    let cli = match Cli::try_parse_with_origins() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    sipmirror::logging::init(cli.global.verbose, cli.global.quiet);
    let code = match sipmirror::commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // Messages are built on one line; this also keeps any upstream text in them from
            // breaking it or reaching the terminal as escape sequences.
            eprintln!(
                "sipmirror: {}",
                sipmirror::error::one_line(&err.to_string())
            );
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
            let hint = suggestion(&err).unwrap_or_else(|| "see `sipmirror --help`".to_string());
            eprintln!("sipmirror: {message} ({hint})");
            std::process::ExitCode::from(ExitCode::Usage as u8)
        }
    }
}

/// clap's "did you mean" for a mistyped subcommand, flag or value, which its later paragraphs
/// hold and the one-line message would lose.
fn suggestion(err: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    [
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedArg,
        ContextKind::SuggestedValue,
    ]
    .into_iter()
    .find_map(|kind| match err.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(list) => list.first().cloned(),
        _ => None,
    })
    .map(|s| format!("did you mean `{s}`?"))
}

/// A panic is a bug: say so on one line, like every other error, and where it happened. The
/// exit code stays Rust's 101, distinct from the documented ones.
fn report_panics_on_one_line() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "sipmirror: internal error (a bug, please report it): {}{place}",
            sipmirror::error::one_line(&message)
        );
    }));
}
