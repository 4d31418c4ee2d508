//! The command line, in one place. Parsed once in `main`, then resolved into
//! [`crate::config::Settings`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};
use clap_complete::Shell;

use crate::config::GlobalArgs;
use crate::query::Format;

const AFTER_HELP: &str = "\
Connection (v2, the default): SIPGATE_TOKEN_ID and SIPGATE_TOKEN, a personal access token (or
token_command in the config file); classic: SIPGATE_API=classic, SIPGATE_USERNAME and
SIPGATE_PASSWORD.
Config file: $XDG_CONFIG_HOME/sipmirror/config.toml (see the README; `sipmirror config` shows
what is in effect).
Exit codes: 0 ok, 1 failed, 2 usage or configuration error (a refused token too), 3 partial
(some items failed), 4 another run holds the lock, 5 the lock is held by a run that seems to
hang, 130/143 stopped by SIGINT/SIGTERM.";

/// What `--version` says: the release, the schema it writes and the APIs it speaks.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (mirror schema ",
    env!("SIPMIRROR_SCHEMA_VERSION"),
    "; sipgate APIs: v2, classic)"
);

/// Keep a local SQLite mirror of a sipgate account.
#[derive(Debug, Parser)]
#[command(name = "sipmirror", version = VERSION, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: CommandLine,
}

impl Cli {
    /// Parses the process's arguments, noting which global flags were given on the command
    /// line rather than taken from the environment.
    pub fn try_parse_with_origins() -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().try_get_matches()?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        cli.global.note_command_line(&matches);
        Ok(cli)
    }
}

#[derive(Debug, Subcommand)]
pub enum CommandLine {
    /// Create the mirror, or upgrade its schema to this version of sipmirror
    Init,
    /// Show the mirror: record counts, recent runs, pending and failed edits, schema version
    Status,
    /// Push pending local edits, then bring the mirror up to date: events, contacts, settings
    /// and balance
    Sync(SyncArgs),
    /// Replay pending local edits (read, starred, labels, archived, note, delete) and send
    /// queued SMS and faxes
    Push {
        /// Show what would be pushed; contact nobody, change nothing
        #[arg(long)]
        dry_run: bool,
        /// Send deletions even when there are more than `[push] max_deletes` (v2 deletes for
        /// good: there is no trash to take them back from)
        #[arg(long)]
        confirm_deletes: bool,
        /// If another run holds the mirror, wait for it instead of exiting with code 4
        #[arg(long)]
        wait: bool,
    },
    /// Edit events locally; `push` (or the next `sync`) sends the edits upstream
    #[command(subcommand)]
    Event(EventCommand),
    /// Downloaded voicemail recordings and fax documents
    #[command(subcommand)]
    Media(MediaCommand),
    /// Send an SMS or a fax: queued in the outbox and sent exactly once, at once when upstream
    /// is reachable, else by the next push or sync
    #[command(subcommand)]
    Send(SendCommand),
    /// Running calls: dial, list, show, hang up, record; park (classic); hold, mute,
    /// transfer, DTMF (v2). Online, not mirrored
    #[command(subcommand)]
    Call(CallCommand),
    /// Get the number to dial for a callthrough call from SOURCE to TARGET (online; classic)
    Callthrough {
        /// The phone you call from
        #[arg(long, value_name = "NUMBER")]
        source: String,
        /// Whom you want to reach
        #[arg(long, value_name = "NUMBER")]
        target: String,
    },
    /// Change account settings upstream (DND; forwardings with v2; outgoing number and mobile
    /// extensions with classic); the mirror's settings are refreshed afterwards
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Receive sipgate's push API (webhooks): calls into `live_calls` while they happen, and
    /// a pull of the history seconds after each hangup; `webhook setup` shows or sets the
    /// account's webhook URLs (v2)
    Webhook(WebhookArgs),
    /// Local edits and sends waiting for upstream: list them, retry failed ones, drop them
    Outbox {
        #[command(subcommand)]
        command: Option<OutboxCommand>,
    },
    /// Try sipmirror on the built-in emulator: sync a demo account into DIR and show it
    Demo {
        /// Where the demo mirror goes
        #[arg(long, value_name = "DIR", default_value = "sipmirror-demo")]
        dir: PathBuf,
    },
    /// Write the contacts as vCards or as a desk-phone phone book
    #[command(subcommand)]
    Export(ExportCommand),
    /// Serve the phone books and vCards over HTTP for desk phones to fetch, from the mirror
    ServePhonebook(ServeArgs),
    /// Run a named report from queries/ (missed calls, talk time, unheard voicemails, ...)
    Query(QueryArgs),
    /// Write one self-contained HTML page with charts of a period: calls per day and week,
    /// missed calls by hour, talk time per user and line, callers, voicemails, faxes, SMS,
    /// balance
    Report(ReportArgs),
    /// Print metadata for Datasette: the reports as canned queries, the views described, the
    /// internal tables hidden (`datasette serve MIRROR.db -m metadata.json`)
    DatasetteMetadata,
    /// Run one read-only SQL statement on the mirror and print the result
    Sql {
        /// The statement, e.g. "SELECT kind, count(*) FROM events GROUP BY kind"
        #[arg(value_name = "SQL")]
        sql: String,
        /// Output format
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Print the reference of the mirror's tables and views (Markdown; docs/schema.md is this)
    Schema,
    /// Show the settings in effect and where the config file is (secrets are never shown)
    Config,
    /// Check the config, the credentials and what the token may read, upstream, the mirror,
    /// the lock and the media folder; say what to do about each problem (exit 0: all is well)
    Doctor,
    /// Run the built-in emulator of the sipgate API, for trying sipmirror without an account
    Emulator(EmulatorArgs),
    /// Print shell completions: sipmirror completions bash > ~/.local/share/bash-completion/completions/sipmirror
    Completions {
        /// The shell to write completions for
        shell: Shell,
    },
}

/// Options every phone-book format shares.
#[derive(Debug, Clone, Args)]
pub struct PhoneArgs {
    /// How numbers are written: as your phone receives callers' numbers
    #[arg(long = "numbers", value_enum, default_value = "e164")]
    pub style: crate::export::NumberStyle,
    /// Keep fax numbers (left out by default; snom has no fax type and never gets them)
    #[arg(long)]
    pub include_fax: bool,
    /// The most entries to write; what does not fit is named in a warning
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_entries: usize,
    /// Only contacts whose name, company, e-mail or number contains TEXT
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Only contacts of these scopes, comma-separated (a mirror fed by v2; the classic API
    /// sends none) [default: all]
    #[arg(long, value_enum, value_name = "SCOPES", value_delimiter = ',')]
    pub scope: Vec<ContactScope>,
}

/// A contact's scope in sipgate's API v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ContactScope {
    /// The token owner's own contacts
    Private,
    /// The account's shared phone book
    Shared,
    /// The account's users, as sipgate lists them
    Internal,
}

impl ContactScope {
    pub fn upstream_name(self) -> &'static str {
        match self {
            ContactScope::Private => "PRIVATE",
            ContactScope::Shared => "SHARED",
            ContactScope::Internal => "INTERNAL",
        }
    }
}

/// `sipmirror export ...`.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// vCards: a folder with one <uid>.vcf per contact (khard, vdirsyncer), or one file
    Vcard {
        /// The folder to keep in step with the mirror (files of gone contacts are removed)
        #[arg(long, value_name = "DIR", required_unless_present = "single")]
        out: Option<PathBuf>,
        /// Write all contacts into this one file instead
        #[arg(long, value_name = "FILE", conflicts_with = "out")]
        single: Option<PathBuf>,
        /// The vCard version
        #[arg(long, value_enum, default_value = "3.0")]
        vcard_version: crate::export::vcard::Version,
        /// Only contacts whose name, company, e-mail or number contains TEXT
        #[arg(long, value_name = "TEXT")]
        filter: Option<String>,
        /// Only contacts of these scopes, comma-separated (a mirror fed by v2) [default: all]
        #[arg(long, value_enum, value_name = "SCOPES", value_delimiter = ',')]
        scope: Vec<ContactScope>,
    },
    /// snom tbook, for the phone's local directory
    Snom {
        /// The phone book file to write (replaced whole, so a phone never reads half of it)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// classic: all firmware since 8.x; v2: one contact per person (newer firmware)
        #[arg(long, value_enum, default_value = "classic")]
        snom_format: crate::export::snom::SnomFormat,
        #[command(flatten)]
        phone: PhoneArgs,
    },
    /// Grandstream AddressBook (phonebook.xml)
    Grandstream {
        /// The phone book file to write (replaced whole, so a phone never reads half of it)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The SIP account the numbers dial out on (0-based on current firmware)
        #[arg(long, default_value_t = 0, value_name = "N")]
        account_index: u32,
        #[command(flatten)]
        phone: PhoneArgs,
    },
    /// Yealink remote phone book
    Yealink {
        /// The phone book file to write (replaced whole, so a phone never reads half of it)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        phone: PhoneArgs,
    },
    /// FRITZ!Box phone book, for import in its web interface
    Fritzbox {
        /// The phone book file to write (replaced whole, so a phone never reads half of it)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        phone: PhoneArgs,
    },
}

/// `sipmirror serve-phonebook`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// Require HTTP Basic auth with this user; the password comes from
    /// SIPMIRROR_PHONEBOOK_PASSWORD
    #[arg(long, value_name = "USER")]
    pub auth_user: Option<String>,
    /// Grandstream: the SIP account the numbers dial out on
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub account_index: u32,
    /// Seconds a client has to send its request headers (and an idle connection stays open)
    #[arg(long, default_value_t = 10, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub header_timeout: u64,
    #[command(flatten)]
    pub phone: PhoneArgs,
}

/// `sipmirror report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Where the page goes (`-` for standard output)
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
    /// The first day, YYYY-MM-DD (local time) [default: 89 days before --to]
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// The last day, YYYY-MM-DD (local time) [default: today]
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// The page's heading [default: "sipgate account, FROM to TO"]
    #[arg(long)]
    pub title: Option<String>,
}

/// `sipmirror query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The report to run (see --list)
    #[arg(value_name = "NAME", required_unless_present = "list")]
    pub name: Option<String>,
    /// List the reports with what they answer and their parameters
    #[arg(long, conflicts_with = "name")]
    pub list: bool,
    /// Print the report's SQL instead of running it (to read it, or to start your own)
    #[arg(long, requires = "name")]
    pub show: bool,
    /// A report parameter, e.g. --param days=30 (repeatable)
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub params: Vec<(String, String)>,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

/// `sipmirror event ...`: local edits, shown in the mirror at once and queued for upstream.
/// Ids are the views' `id`; an event whose v2 id is not a number has a negative one.
#[derive(Debug, Subcommand)]
pub enum EventCommand {
    /// Mark events as read (heard, seen)
    Read {
        /// The events' ids (`id` in the views)
        #[arg(required = true, value_name = "ID", allow_negative_numbers = true)]
        ids: Vec<i64>,
    },
    /// Mark events as unread
    Unread {
        /// The events' ids (`id` in the views)
        #[arg(required = true, value_name = "ID", allow_negative_numbers = true)]
        ids: Vec<i64>,
    },
    /// Star events
    Star {
        /// The events' ids (`id` in the views)
        #[arg(required = true, value_name = "ID", allow_negative_numbers = true)]
        ids: Vec<i64>,
    },
    /// Remove the star from events
    Unstar {
        /// The events' ids (`id` in the views)
        #[arg(required = true, value_name = "ID", allow_negative_numbers = true)]
        ids: Vec<i64>,
    },
    /// Archive events (v2 only; the classic API cannot move events)
    Archive {
        /// The events' ids (`id` in the views)
        #[arg(required = true, value_name = "ID", allow_negative_numbers = true)]
        ids: Vec<i64>,
    },
    /// Take events out of the archive (v2 only)
    Unarchive {
        /// The events' ids (`id` in the views)
        #[arg(required = true, value_name = "ID", allow_negative_numbers = true)]
        ids: Vec<i64>,
    },
    /// Set an event's note ("" removes it; v2 only)
    Note {
        /// The event's id (`id` in the views)
        #[arg(value_name = "ID", allow_negative_numbers = true)]
        id: i64,
        /// The note, at most 2,000 characters
        #[arg(value_name = "TEXT")]
        text: String,
    },
    /// Delete events upstream: classic moves them to the trash, v2 deletes them for good (they
    /// stay in the mirror with location = trash, and gone_upstream once pushed)
    Delete {
        /// The events' ids (`id` in the views)
        #[arg(required = true, value_name = "ID", allow_negative_numbers = true)]
        ids: Vec<i64>,
    },
    /// Set an event's labels: comma-separated, replacing the old ones ("" removes all;
    /// classic only: v2 cannot write labels)
    Label {
        /// The event's id (`id` in the views)
        #[arg(value_name = "ID", allow_negative_numbers = true)]
        id: i64,
        /// Comma-separated, e.g. "callback,urgent"
        #[arg(value_name = "LABELS")]
        labels: String,
    },
}

/// `sipmirror media ...`.
#[derive(Debug, Subcommand)]
pub enum MediaCommand {
    /// Print the file path(s) of an event's downloaded media, one per line
    Path {
        /// The event's id (`id` in the views)
        #[arg(value_name = "ID")]
        id: i64,
    },
}

/// `sipmirror outbox ...`.
/// When and how a queued send goes out.
#[derive(Debug, Args)]
pub struct SendOptions {
    /// Recipient: E.164 (+4930123456) or national (030 123456, with country_code); repeat
    /// for several
    #[arg(long = "to", value_name = "NUMBER", required = true, action = ArgAction::Append)]
    pub to: Vec<String>,
    /// Have upstream send it at this local time ('YYYY-MM-DD HH:MM:SS', in the configured
    /// timezone); must be in the future
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Only queue it; the next push or sync sends it
    #[arg(long)]
    pub queue_only: bool,
}

#[derive(Debug, Subcommand)]
pub enum SendCommand {
    /// Send an SMS (at most 460 characters)
    Sms {
        #[command(flatten)]
        options: SendOptions,
        /// The text; `-` reads it from stdin
        #[arg(long, value_name = "TEXT")]
        text: String,
        /// classic: send from this number of the account; v2: from this SMS extension (e.g.
        /// s1) [default: the account's SMS number, or its first SMS extension]
        #[arg(long = "from", value_name = "NUMBER|EXTENSION")]
        from: Option<String>,
    },
    /// Send a PDF document as a fax
    Fax {
        #[command(flatten)]
        options: SendOptions,
        /// Send from this fax extension (e.g. f0) [default: the account's fax extension]
        #[arg(long = "from", value_name = "EXTENSION")]
        from: Option<String>,
        /// After sending, follow the fax's status until it is sent or has failed (every
        /// `[push] fax_poll`, at most `[push] fax_wait`); exit 3 when it failed
        #[arg(long)]
        wait: bool,
        /// The document
        #[arg(value_name = "FILE.pdf")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum CallCommand {
    /// Start a call between two endpoints (upstream rings the caller first)
    Dial {
        /// tel:+4930... (a phone) or sip:e0 (an extension)
        #[arg(long, value_name = "ENDPOINT")]
        caller: String,
        /// tel:+4930... or sip:...
        #[arg(long, value_name = "ENDPOINT")]
        callee: String,
        /// classic: register the call on this SIP extension (e.g. e0)
        #[arg(long, value_name = "ID")]
        register_sip: Option<String>,
        /// v2: the device that rings first when the caller is a number (e.g. e0)
        #[arg(long, value_name = "ID")]
        device: Option<String>,
        /// v2: the number the callee sees
        #[arg(long, value_name = "NUMBER")]
        caller_id: Option<String>,
    },
    /// List running calls
    List,
    /// Show one running call
    Show {
        /// The call's id, as `call list` shows it
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Hang up a running call
    Hangup {
        /// The call's id, as `call list` shows it
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Switch recording of a running call on or off
    Record {
        /// The call's id, as `call list` shows it
        #[arg(value_name = "ID")]
        id: String,
        /// on or off
        #[arg(value_enum, value_name = "on|off")]
        state: Switch,
        /// v2: play the announcement that the call is recorded
        #[arg(long)]
        announce: bool,
    },
    /// Put a running call on hold, or take it off (v2)
    Hold {
        /// The call's id, as `call list` shows it
        #[arg(value_name = "ID")]
        id: String,
        /// on or off
        #[arg(value_enum, value_name = "on|off")]
        state: Switch,
    },
    /// Mute or unmute a running call (v2)
    Mute {
        /// The call's id, as `call list` shows it
        #[arg(value_name = "ID")]
        id: String,
        /// on or off
        #[arg(value_enum, value_name = "on|off")]
        state: Switch,
    },
    /// Transfer a running call to a number (v2)
    Transfer {
        /// The call's id, as `call list` shows it
        #[arg(value_name = "ID")]
        id: String,
        /// Where the call goes: E.164 or national
        #[arg(value_name = "NUMBER")]
        number: String,
        /// Talk to the new party before handing the call over
        #[arg(long)]
        attended: bool,
    },
    /// Send DTMF tones into a running call: 0-9, *, #, A-D (v2)
    Dtmf {
        /// The call's id, as `call list` shows it
        #[arg(value_name = "ID")]
        id: String,
        /// The tones, e.g. 1234#
        #[arg(value_name = "DIGITS")]
        digits: String,
    },
    /// Park or unpark a member of a running call (classic)
    Park {
        /// The call's id, as `call list` shows it
        #[arg(value_name = "ID")]
        id: String,
        /// The member of the call to park, as `call show` names it
        #[arg(value_name = "MEMBER")]
        member: String,
        /// on or off
        #[arg(value_enum, value_name = "on|off")]
        state: Switch,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

impl Switch {
    pub fn is_on(self) -> bool {
        self == Switch::On
    }
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Switch Do Not Disturb of an extension (classic) or a device (v2, e.g. e0) on or off
    Dnd {
        /// The extension or device, e.g. e0
        #[arg(value_name = "EXTENSION")]
        extension: String,
        /// on or off
        #[arg(value_enum, value_name = "on|off")]
        state: Switch,
    },
    /// Show a phoneline's call forwardings, or replace them with `set` (v2)
    Forwarding {
        /// The phoneline, e.g. p0
        #[arg(value_name = "PHONELINE")]
        phoneline: String,
        #[command(subcommand)]
        change: Option<ForwardingCommand>,
    },
    /// Set the number an extension shows when it calls out (classic)
    OutgoingNumber {
        /// The extension or device, e.g. e0
        #[arg(value_name = "EXTENSION")]
        extension: String,
        /// One of the account's numbers
        #[arg(value_name = "NUMBER")]
        number: String,
    },
    /// Mobile extensions (a mobile phone that rings as an extension; classic)
    #[command(subcommand)]
    MobileExtension(MobileExtensionCommand),
    /// Print the GSM code that forwards a mobile's unanswered calls to the sipgate voicemail
    /// (classic)
    GsmCode,
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WebhookArgs {
    #[command(subcommand)]
    pub setup: Option<WebhookCommand>,
    /// Where to listen; put a reverse proxy with TLS in front of it
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
    pub listen: String,
    /// The URL sipgate posts to, as the reverse proxy publishes it (its path is where the
    /// receiver listens), e.g. https://pbx.example.com/sipgate
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Accept posts without the secret `?key=` (only behind something else that checks them)
    #[arg(long)]
    pub no_key: bool,
    /// After a hangup, wait this long for more before pulling the history
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    pub debounce: String,
    /// The longest a hangup waits for its pull while more hangups keep coming
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub max_delay: String,
    /// After a pull that failed, wait this long before the next try; the wait doubles after
    /// each further failure, up to 5 minutes
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub retry: String,
    /// At most this many posts a second; more get 429 (refused posts are not counted)
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub max_per_second: u64,
    /// Seconds a client has to send its request headers (and an idle connection stays open)
    #[arg(long, default_value_t = 10, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub header_timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Show the account's webhook settings, or change the URLs (read, change, write back)
    Setup {
        /// Where sipgate posts incoming calls
        #[arg(long, value_name = "URL")]
        incoming: Option<String>,
        /// Where sipgate posts outgoing calls
        #[arg(long, value_name = "URL")]
        outgoing: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ForwardingCommand {
    /// Replace the phoneline's forwardings: each DESTINATION:SECONDS[:on|off], e.g.
    /// +4915799912345:20 (after 20 s) or 030123456:0:off; none to remove them all
    Set {
        /// The new forwardings, in order
        #[arg(value_name = "DEST:SECONDS[:on|off]")]
        forwardings: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MobileExtensionCommand {
    /// Set up a mobile phone as an extension
    Add {
        /// The mobile's number
        #[arg(long, value_name = "NUMBER")]
        phone: String,
        /// The phone's model, e.g. "Pixel 8"
        #[arg(long)]
        model: String,
        /// The phone's maker, e.g. Google
        #[arg(long)]
        vendor: String,
        /// The phone's operating system version, e.g. 14
        #[arg(long)]
        firmware: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List waiting and failed edits and sends (the default)
    List,
    /// Make a failed or waiting entry due again; the next push tries it
    Retry {
        /// The entry's id, as `outbox list` shows it
        #[arg(value_name = "ID", required_unless_present = "all")]
        id: Option<i64>,
        /// Every failed or waiting entry
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Forget an entry: an edit (the event shows the upstream value again) or a send (it is
    /// not sent)
    Drop {
        /// The entry's id, as `outbox list` shows it
        #[arg(value_name = "ID")]
        id: i64,
    },
}

/// `sipmirror emulator`: the account it generates, where it listens, and faults to inject.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Print the public key the emulator signs its push API posts with (PEM, for
    /// `[webhook] public_key_file`) and exit
    #[arg(long)]
    pub print_push_key: bool,
    /// Address to listen on (use port 0 for any free port)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Seed of the generated account: the same seed gives the same data
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of generated events (calls, faxes, SMS, voicemails) over two years
    #[arg(long, default_value_t = 10_000)]
    pub events: usize,
    /// The generated history ends just before this time (RFC 3339, or a date YYYY-MM-DD for
    /// midnight UTC) [default: now, so that reports of the last days show something]
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Days of history the generated events cover
    #[arg(long, default_value_t = 730, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub span_days: u32,
    /// Number of generated contacts
    #[arg(long, default_value_t = 500)]
    pub contacts: usize,
    /// The login the emulator accepts
    #[arg(long, default_value = "demo")]
    pub user: String,
    /// The password the emulator accepts (a test value, not a secret)
    #[arg(long, default_value = "demo")]
    pub password: String,
    /// v2: the personal access token id the emulator accepts
    #[arg(long, default_value = crate::emulator::DEFAULT_TOKEN_ID)]
    pub token_id: String,
    /// v2: the token the emulator accepts (a test value, not a secret)
    #[arg(long, default_value = crate::emulator::DEFAULT_TOKEN)]
    pub token: String,
    /// v2: the token's scopes, comma-separated (e.g. history:read,contacts:read); `all` grants
    /// every one
    #[arg(long, value_name = "LIST", default_value = "all")]
    pub token_scopes: String,
    /// Fault: delay every answer by this many milliseconds
    #[arg(long, default_value_t = 0, help_heading = "Faults")]
    pub latency_ms: u64,
    /// Fault: random extra delay up to this many milliseconds
    #[arg(long, default_value_t = 0, help_heading = "Faults")]
    pub jitter_ms: u64,
    /// Fault: answer with an error status at a rate, e.g. --status-rate 500=0.2 (repeatable)
    #[arg(
        long = "status-rate",
        value_name = "CODE=RATE",
        help_heading = "Faults"
    )]
    pub status_rates: Vec<String>,
    /// Fault: Retry-After seconds sent with 429 and 503
    #[arg(long, help_heading = "Faults")]
    pub retry_after_s: Option<u64>,
    /// Fault: close the connection without answering, at this rate
    #[arg(long, default_value_t = 0.0, help_heading = "Faults")]
    pub reset_rate: f64,
    /// Fault: cut the body short, at this rate
    #[arg(long, default_value_t = 0.0, help_heading = "Faults")]
    pub truncate_rate: f64,
    /// Fault: send a body that does not parse, at this rate
    #[arg(long, default_value_t = 0.0, help_heading = "Faults")]
    pub malformed_rate: f64,
    /// Fault: send a well-formed body with a field of the wrong type, at this rate
    #[arg(long, default_value_t = 0.0, help_heading = "Faults")]
    pub wrong_type_rate: f64,
    /// Fault: pause this many milliseconds between body chunks
    #[arg(long, default_value_t = 0, help_heading = "Faults")]
    pub slow_body_ms: u64,
    /// Fault: do what was asked, then drop the connection before answering, at this rate
    #[arg(long, default_value_t = 0.0, help_heading = "Faults")]
    pub lose_response_rate: f64,
}

/// `sipmirror sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// List every event completely (catches flag changes on old events and deletions); runs on
    /// its own when the last one is older than `full_every`
    #[arg(long)]
    pub full: bool,
    /// Only these streams, comma-separated: events, calls, faxes, sms, voicemails, contacts,
    /// settings, balance
    #[arg(long, value_name = "STREAMS")]
    pub only: Option<String>,
    /// Mark records deleted even when more than `max_delete_ratio` of a stream went missing
    #[arg(long)]
    pub force_delete: bool,
    /// Do not push pending local edits first
    #[arg(long)]
    pub no_push: bool,
    /// Also download voicemail recordings, fax documents and fax previews (whatever
    /// `[media] fetch` says)
    #[arg(long)]
    pub media: bool,
    /// If another run holds the mirror, wait for it instead of exiting with code 4
    #[arg(long)]
    pub wait: bool,
    /// Feed the mirror from the API now configured (`--api`) although another one fed it so
    /// far; needs --full
    #[arg(long)]
    pub switch_api: bool,
}
