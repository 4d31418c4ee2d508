//! Diagnostics on stderr through `tracing`. Quiet by default, so cron mails only on trouble.

use tracing_subscriber::EnvFilter;

/// `-q` → errors only; default → warnings; `-v` → info; `-vv` → debug; `-vvv` → trace.
/// `RUST_LOG`, when set, wins.
pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("sipmirror={level},warn")));
    // A second initialisation (tests calling in twice) is harmless; ignore its error.
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
