//! One file per subcommand. Each wires the library modules together; none holds logic that
//! another command could need.

mod call;
mod callthrough;
mod completions;
mod config;
mod datasette;
mod demo;
mod doctor;
mod emulator;
mod event;
mod export;
mod fax_wait;
mod features;
mod init;
mod media;
mod outbox;
mod push;
mod query;
mod report;
mod schema;
mod send;
mod serve_phonebook;
mod settings;
mod sql;
mod status;
mod sync;
mod webhook;

use crate::api::Capabilities;
use crate::cli::{Cli, CommandLine};
use crate::config::Settings;
use crate::error::{Error, ExitCode, Result};
use crate::store::WriterLock;

/// The writer lock for a command that changes the mirror: at once (exit 4 if another run has
/// it), or with `--wait` after the other run, saying on stderr whom it waits for.
fn writer_lock(settings: &Settings, command: &str, wait: bool) -> Result<WriterLock> {
    if !wait {
        return WriterLock::acquire_unless_stale(
            &settings.db_path,
            command,
            settings.sync.stale_after,
        );
    }
    let quiet = settings.quiet;
    WriterLock::acquire_waiting(&settings.db_path, command, &mut |holder| {
        if !quiet {
            eprintln!("sipmirror: {holder}");
        }
    })
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    if cli.global.json
        && let Some(what) = prints_no_json(&cli.command)
    {
        return Err(Error::usage(format!("--json: {what}; leave --json out")));
    }
    // Completions need no settings: they must work before any config exists.
    match &cli.command {
        CommandLine::Completions { shell } => return completions::run(*shell),
        // The reference comes from the migrations built in, not from any mirror.
        CommandLine::Schema => return schema::run(),
        // The emulator serves tests and demos; a broken config file must not stop it.
        CommandLine::Emulator(args) => return emulator::run(args, cli.global.json),
        CommandLine::Demo { dir } => return demo::run(dir, &cli.global),
        // The doctor reports a broken config file as one of its findings.
        CommandLine::Doctor => return doctor::run(&cli.global),
        _ => {}
    }
    let settings = Settings::resolve(&cli.global)?;
    let capabilities = Capabilities::of(settings.connection.api);
    for feature in features::needed(&cli.command) {
        capabilities.require(feature)?;
    }
    match cli.command {
        CommandLine::Init => init::run(&settings),
        CommandLine::Status => status::run(&settings),
        CommandLine::Config => config::run(&settings),
        CommandLine::Sync(args) => sync::run(&settings, &args),
        CommandLine::Push {
            dry_run,
            wait,
            confirm_deletes,
        } => {
            let mut settings = settings;
            settings.push.confirm_deletes = confirm_deletes;
            push::run(&settings, dry_run, wait)
        }
        CommandLine::Query(args) => query::run(&settings, &args),
        CommandLine::Report(args) => report::run(&settings, &args),
        CommandLine::DatasetteMetadata => datasette::run(&settings),
        CommandLine::Export(command) => export::run(&settings, &command),
        CommandLine::ServePhonebook(args) => serve_phonebook::run(&settings, &args),
        CommandLine::Sql { sql, format } => sql::run(&settings, &sql, format),
        CommandLine::Event(command) => event::run(&settings, &command),
        CommandLine::Media(command) => media::run(&settings, &command),
        CommandLine::Outbox { command } => outbox::run(&settings, command.as_ref()),
        CommandLine::Webhook(args) => webhook::run(&settings, &args),
        CommandLine::Send(command) => send::run(&settings, &command),
        CommandLine::Call(command) => call::run(&settings, &command),
        CommandLine::Callthrough { source, target } => {
            callthrough::run(&settings, &source, &target)
        }
        CommandLine::Settings(command) => settings::run(&settings, &command),
        CommandLine::Completions { .. }
        | CommandLine::Schema
        | CommandLine::Emulator(_)
        | CommandLine::Doctor
        | CommandLine::Demo { .. } => {
            unreachable!("handled above")
        }
    }
}

/// The commands whose output is a file format or a server's log, not a result that JSON could
/// carry: `--json` is refused for them rather than ignored.
fn prints_no_json(command: &CommandLine) -> Option<&'static str> {
    match command {
        CommandLine::Export(_) => Some("`export` writes vCards and phone books, not JSON"),
        CommandLine::Report(_) => Some("`report` writes an HTML page"),
        CommandLine::ServePhonebook(_) => Some("`serve-phonebook` serves phone books, not JSON"),
        CommandLine::Completions { .. } => Some("`completions` prints a shell script"),
        CommandLine::Schema => Some("`schema` prints the schema reference as Markdown"),
        _ => None,
    }
}
