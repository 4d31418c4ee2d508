//! `sipmirror webhook --public-url URL [--listen ADDR]`: the push API receiver (see
//! `webhook/mod.rs`), and `sipmirror webhook setup [--incoming URL] [--outgoing URL]`: the
//! account's webhook URLs through v2's `/settings/sipgateio`, read, changed and written back.

use std::sync::Arc;

use crate::api::Upstream;
use crate::cli::{WebhookArgs, WebhookCommand};
use crate::config::{Settings, parse_duration};
use crate::error::{Error, ExitCode, Result};
use crate::http_server::{self, Limits};
use crate::output;
use crate::store::{Access, Mirror};
use crate::webhook::{PullTiming, Puller, Receiver, router};

pub fn run(settings: &Settings, args: &WebhookArgs) -> Result<ExitCode> {
    if let Some(WebhookCommand::Setup { incoming, outgoing }) = &args.setup {
        return setup(settings, incoming.as_deref(), outgoing.as_deref());
    }
    let public_url = args.public_url.as_deref().ok_or_else(|| {
        Error::usage("--public-url is required: the URL sipgate posts to, e.g. https://pbx.example.com/sipgate")
    })?;
    let key = match (&settings.webhook_key, args.no_key) {
        (Some(key), _) => Some(key.expose().to_string()),
        (None, true) => None,
        (None, false) => {
            return Err(Error::usage(
                "no webhook key: set SIPMIRROR_WEBHOOK_KEY or [webhook] key (posts must carry it as ?key=), or pass --no-key",
            ));
        }
    };
    let timing = PullTiming {
        debounce: parse_duration(&args.debounce)
            .map_err(|e| Error::usage(format!("--debounce: {e}")))?,
        max_delay: parse_duration(&args.max_delay)
            .map_err(|e| Error::usage(format!("--max-delay: {e}")))?,
        first_retry: parse_duration(&args.retry)
            .map_err(|e| Error::usage(format!("--retry: {e}")))?,
    };
    if timing.first_retry.is_zero() {
        return Err(Error::usage(
            "--retry must be longer than 0 (the wait before a failed pull is tried again)",
        ));
    }
    if args.max_per_second == 0 {
        return Err(Error::usage("--max-per-second must be at least 1"));
    }
    // The receiver needs a mirror to write to and credentials for its pulls. The receiver and
    // the pulls each keep their connection for the process's life (`docs/reliability.md`,
    // "One rule for the mirror file").
    let mirror = Mirror::open(&settings.db_path, Access::Existing)?;
    let pull_mirror = Mirror::open(&settings.db_path, Access::Existing)?;
    Upstream::connect(settings)?;
    let (hangups, pulls) = std::sync::mpsc::channel();
    let receiver = Arc::new(Receiver::new(
        settings,
        public_url,
        key,
        args.max_per_second,
        mirror,
        hangups,
    )?);
    let _puller = Puller::spawn(settings.clone(), timing, pull_mirror, pulls);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let (listener, addr) = http_server::bind(&args.listen).await?;
        if !settings.quiet {
            output::line(&format!(
                "sipmirror webhook: listening on {addr} for posts to {} (path {})",
                public_url, receiver.path
            ))?;
        }
        let limits = Limits {
            header_timeout: std::time::Duration::from_secs(args.header_timeout),
            ..Limits::default()
        };
        http_server::serve(
            listener,
            router(receiver),
            limits,
            http_server::interrupted(),
        )
        .await
    })?;
    Ok(ExitCode::Ok)
}

/// Shows the account's webhook settings; with `--incoming`/`--outgoing`, changes those and
/// writes the rest back as it was.
fn setup(settings: &Settings, incoming: Option<&str>, outgoing: Option<&str>) -> Result<ExitCode> {
    for url in [incoming, outgoing].into_iter().flatten() {
        let parsed = url::Url::parse(url).map_err(|e| Error::usage(format!("{url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::usage(format!(
                "{url:?}: give an http(s) URL (sipgate wants https)"
            )));
        }
    }
    let upstream = Upstream::connect(settings)?;
    let client = &upstream.client;
    let current = upstream.block_on(async {
        let mut current = client.sipgateio_settings().await?;
        if incoming.is_some() || outgoing.is_some() {
            if let Some(url) = incoming {
                current["incomingUrl"] = url.into();
            }
            if let Some(url) = outgoing {
                current["outgoingUrl"] = url.into();
            }
            client.set_sipgateio_settings(&current).await?;
        }
        Ok::<_, crate::api::ApiError>(current)
    })?;
    if settings.json {
        output::json(&current)?;
    } else {
        let url = |key: &str| current[key].as_str().unwrap_or("(none)").to_string();
        output::line(&format!("incoming calls post to: {}", url("incomingUrl")))?;
        output::line(&format!("outgoing calls post to: {}", url("outgoingUrl")))?;
    }
    Ok(ExitCode::Ok)
}
