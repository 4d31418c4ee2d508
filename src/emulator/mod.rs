//! A local stand-in for sipgate's REST API, for tests, benchmarks and the demo.
//!
//! Start it from Rust with [`Emulator::start`] (it runs on its own thread, so plain `#[test]`
//! functions can use it), or from the command line with `sipmirror emulator`.
//!
//! # The contract
//!
//! It follows the classic API's reference as `docs/upstream.md` sums it up. Where the
//! reference is silent, these are the emulator's choices, and the client follows them too:
//!
//! | resource | JSON envelope |
//! |---|---|
//! | `GET /events/` | `{"eventlist": {"events": [..], "overallCount", "count"}}`; each event has `type` |
//! | `GET /events/{calls,faxes,sms,voicemails}/` | `{"events": {"calls": [..], "overallCount", "count"}}` |
//! | `GET /events/calls/{id}/` | `{"call": {..}}` (`fax`, `sms`, `voicemail`) |
//! | `GET .../{id}/read/`, `.../starred/` | `{"property": {"name", "value"}}` |
//! | `PUT .../{id}/read/?value=`, `.../starred/`, `PUT .../{id}/?value=labels`, `DELETE .../{id}/` | 204 |
//! | `POST /events/sms/` (form), `POST /events/faxes/` (PDF body) | the new event, `{"sms": {..}}` / `{"fax": {..}}`; `target` repeatable, `source` a number or (faxes) a fax extension id such as `f0`, `schedule` UTC `YYYY-MM-DD HH:MM:SS` |
//! | `GET /contacts/`, `GET /contacts/{uuid}/` | `{"Contacts": {"items": [..], "overallMatches"}}` |
//! | `GET /settings/numbers/` | `{"numbers": {"allowAdd", "allowEmptyOadc", "phonenumbers": [{numberE164, numberPretty, type, extensionId}]}}` |
//! | `GET /settings/numbers/list/` | `{"numberlist": {"numbers": ["4921..", ..]}}` |
//! | `GET/POST /settings/numbers/outgoing/` | `{"outgoingNumbers": {"items": [{extensionId, numberE164}]}}`; POST form `extensionId`, `number` |
//! | `GET /settings/extensions/` | `{"extensions": {"extensions": [..]}}`; `GET .../{id}/` → `{"extension": {..}}` with type-specific fields |
//! | `GET/POST /settings/extensions/{id}/dnd/` | `{"dnd": {"value"}}`; POST form `value` |
//! | `GET /settings/baseproducttype/` | `{"baseproducttype": {"value"}}` |
//! | `GET /settings/registeredmobiledevices/` | `{"registeredMobileDevices": {"items": [{deviceId, phoneNumber, model, vendor, firmware}]}}` |
//! | `GET/POST /settings/mobile/extensions/` | `{"mobileExtensions": {"items": [{extensionId, ..}]}}`; POST → `{"mobileExtension": {..}}` |
//! | `GET /settings/mobile/extensions/unifiedvoicemailgsmcode/` | `{"gsmCode": {"code"}}` |
//! | `GET /billing/balance/` | `{"balance": {currency, totalIncludingVat, vatPercent, smsVouchers, minuteVouchers, faxVouchers}}` |
//! | `GET/POST /sessions/calls/` | `{"sessions": {"calls": [..]}}`; POST and the per-call resources → `{"Call": {sessionId, status, caller, callee, recording, members}}` |
//! | `POST /sessions/callthrough/` | `{"Callthrough": {"number"}}` |
//! | content, previews | 307 to `/_media/...`, body `{"HandlerResultRedirect": {"url"}}` |
//! | errors | `{"error": {"status", "message"}}` (XML: `<error><status/><message/></error>`) |
//!
//! Other choices: call events carry `duration` (seconds, optional); voicemail `duration` is a
//! string, as the reference types it; `numberE164` has no `+`; an anonymous caller has no
//! `numberE164` and `numberPretty` "anonymous". `period_start` is inclusive and `period_end`
//! exclusive, both UTC. Without `limit` a listing has the 100 newest events; `limit` is 1 to
//! 1000. Contacts: `limit=0` or none means all, listed in creation order. XML arrays hold one
//! element per item, named in [`formats::item_name`].

mod faults;
mod formats;
mod generate;
mod inject;
/// The sample files it serves (WAV, PDF, PNG), also for tests that need real ones.
pub mod media;
mod model;
mod prng;
mod push_call;
mod push_calls;
mod routes;
mod server;
mod state;
mod v2;
mod vocab;
mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

pub use faults::Faults;
/// A small valid PDF of `pages` pages, as the emulator serves for faxes; tests send it.
pub use media::pdf as sample_pdf;
pub use model::{Detail, Direction, Kind, Location, Session};
pub use push_calls::PUSH_PUBLIC_KEY;
pub use server::Stats;
pub use state::{ContactPatch, EventPatch, State};

use crate::error::{Error, Result};
use server::Shared;

/// How the emulator's account is generated, and where it listens.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub listen: SocketAddr,
    pub seed: u64,
    pub events: usize,
    pub contacts: usize,
    pub user: String,
    pub password: String,
    /// v2: the personal access token's id and the token the emulator accepts.
    pub token_id: String,
    pub token: String,
    /// v2: the token's scopes (`all` grants every one).
    pub token_scopes: Vec<String>,
    /// The account's own user id, accepted in paths besides `my`.
    pub user_id: String,
    /// The generated events end just before this instant (ms since the epoch). Fixed by
    /// default so a seed always gives the same data.
    pub anchor_ms: i64,
    /// How many days of history the events cover (about two years by default).
    pub span_days: u32,
    pub faults: Faults,
}

/// The v2 token the emulator accepts unless told otherwise (test values, not secrets).
pub const DEFAULT_TOKEN_ID: &str = "token-DEMO01";
pub const DEFAULT_TOKEN: &str = "e68ead46-a7db-46cd-8a1a-44aed1e4e372";

/// 2026-11-01T00:00:00Z.
pub const DEFAULT_ANCHOR_MS: i64 = 1_793_491_200_000;

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 42,
            events: 1000,
            contacts: 100,
            user: "demo".into(),
            password: "demo".into(),
            token_id: DEFAULT_TOKEN_ID.into(),
            token: DEFAULT_TOKEN.into(),
            token_scopes: vec!["all".into()],
            user_id: "w0".into(),
            anchor_ms: DEFAULT_ANCHOR_MS,
            span_days: 730,
            faults: Faults::default(),
        }
    }
}

/// A running emulator. Stops when dropped.
pub struct Emulator {
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Generates the account and starts serving on its own thread and runtime.
    pub fn start(config: EmulatorConfig) -> Result<Emulator> {
        config.faults.validate().map_err(Error::usage)?;
        let listener = std::net::TcpListener::bind(config.listen)
            .map_err(|e| Error::io(format!("emulator: cannot listen on {}: {e}", config.listen)))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io(format!("emulator: {e}")))?;
        let address = listener
            .local_addr()
            .map_err(|e| Error::io(format!("emulator: {e}")))?;
        let state = State::generate(&config);
        let shared = Arc::new(Shared {
            state: RwLock::new(state),
            faults: Mutex::new(faults::FaultState::new(config.faults.clone(), config.seed)),
            stats: Mutex::new(Stats::default()),
            base_url: format!("http://{address}"),
            user: config.user.clone(),
            password: config.password.clone(),
            token_id: config.token_id.clone(),
            token: config.token.clone(),
            token_scopes: config.token_scopes.clone(),
            media_key: config.seed,
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("emulator")
            .build()
            .map_err(|e| Error::io(format!("emulator: cannot start runtime: {e}")))?;
        let (shutdown, stop) = tokio::sync::oneshot::channel();
        let app = routes::router(shared.clone());
        let thread = std::thread::Builder::new()
            .name("emulator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => server::serve(listener, app, stop).await,
                        Err(e) => tracing::error!("emulator: {e}"),
                    }
                });
                runtime.shutdown_background();
            })
            .map_err(|e| Error::io(format!("emulator: cannot start thread: {e}")))?;
        Ok(Emulator {
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    pub fn user(&self) -> &str {
        &self.shared.user
    }

    pub fn password(&self) -> &str {
        &self.shared.password
    }

    /// The v2 dialect's base URL: `http://127.0.0.1:PORT/v2`.
    pub fn v2_base_url(&self) -> String {
        format!("{}/v2", self.shared.base_url)
    }

    pub fn token_id(&self) -> &str {
        &self.shared.token_id
    }

    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Settings that sync `db` from this emulator through `api` (its credentials, defaults
    /// everywhere else). Used by `demo`, the benchmarks and the in-process tests.
    pub fn settings(
        &self,
        db: std::path::PathBuf,
        api: crate::config::Api,
    ) -> Result<crate::config::Settings> {
        use crate::config::{Api, Settings};
        match api {
            Api::Classic => Settings::for_local(db, self.base_url(), self.user(), self.password()),
            Api::V2 => {
                Settings::for_local_v2(db, &self.v2_base_url(), self.token_id(), self.token())
            }
        }
    }

    /// Reads or changes the served data directly.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.shared.write())
    }

    pub fn set_faults(&self, faults: Faults) -> Result<()> {
        faults.validate().map_err(Error::usage)?;
        self.shared.faults().set(faults);
        Ok(())
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats().clone()
    }

    pub fn reset_stats(&self) {
        *self.shared.stats() = Stats::default();
    }

    /// Stops serving and waits for the server thread.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}
