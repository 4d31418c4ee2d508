//! A connection to the upstream for one command: the client and the async runtime it runs
//! on, made once so that `sync` pushes and pulls with one client (one `password_command` run,
//! one request count).

use std::future::Future;
use std::sync::Arc;

use super::Client;
use crate::config::Settings;
use crate::error::{Error, Result};

pub struct Upstream {
    pub client: Arc<Client>,
    runtime: tokio::runtime::Runtime,
}

impl Upstream {
    /// Checks the base URL, resolves the credentials and starts the runtime. Nothing is sent
    /// yet.
    pub fn connect(settings: &Settings) -> Result<Upstream> {
        let client = Arc::new(Client::new(&settings.connection, &settings.http)?);
        // Two workers: the machine this runs on is often small, and the work is mostly waiting.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::io(format!("cannot start the async runtime: {e}")))?;
        Ok(Upstream { client, runtime })
    }

    /// Runs `future` to completion on this connection's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}
