//! The HTTP server under `serve-phonebook` and `webhook`: both face clients they do not
//! control (a LAN of phones; the internet behind a reverse proxy), so what a client can make
//! them hold is bounded the same way.
//!
//! - A client must send its request headers within `header_timeout`; an idle keep-alive
//!   connection is closed after the same time.
//! - Headers larger than `MAX_HEADER_BYTES` end the connection (hyper answers 431), so a
//!   connection holds at most that much of a request before its body.
//! - At most `max_connections` are open at once. When a new one comes at the limit, the
//!   oldest connection that is not in the middle of a request makes room (an idle or
//!   half-sent one): whoever holds connections open, a real request is answered. Only when
//!   every one is busy is the new one closed.
//!
//! Bodies are the handler's business (it knows how large and how slow one may be). Each
//! request carries the peer's address as axum's `ConnectInfo<SocketAddr>`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;

use crate::error::{Error, Result};

/// The most a connection buffers of a request's headers.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// What a client can make the server hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            max_connections: 512,
        }
    }
}

/// An open connection: whether a request is being answered on it, and how to close it.
struct Slot {
    id: u64,
    busy: Arc<AtomicBool>,
    close: Arc<tokio::sync::Notify>,
}

/// The open connections, oldest first.
struct Slots {
    open: Mutex<VecDeque<Slot>>,
    next_id: AtomicU64,
    max: usize,
}

impl Slots {
    fn new(max: usize) -> Slots {
        Slots {
            open: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(0),
            max: max.max(1),
        }
    }

    /// Makes room for a new connection if needed and registers it; `None` when every open
    /// connection is busy.
    fn admit(&self) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.len() >= self.max {
            let idle = open.iter().position(|s| !s.busy.load(Ordering::SeqCst))?;
            if let Some(evicted) = open.remove(idle) {
                evicted.close.notify_one();
            }
        }
        let slot = Slot {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            busy: Arc::new(AtomicBool::new(false)),
            close: Arc::new(tokio::sync::Notify::new()),
        };
        open.push_back(Slot {
            id: slot.id,
            busy: slot.busy.clone(),
            close: slot.close.clone(),
        });
        Some(slot)
    }

    fn leave(&self, id: u64) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|s| s.id != id);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.open.lock().map(|o| o.len()).unwrap_or(0)
    }
}

/// Serves `app` on `listener` until `stop` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    stop: impl std::future::Future<Output = ()>,
) -> Result<()> {
    tokio::pin!(stop);
    let slots = Arc::new(Slots::new(limits.max_connections));
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, say: pause rather than spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = slots.admit() else {
            drop(stream);
            continue;
        };
        tokio::spawn(connection(
            stream,
            peer,
            app.clone(),
            slot,
            slots.clone(),
            limits,
        ));
    }
    Ok(())
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    slot: Slot,
    slots: Arc<Slots>,
    limits: Limits,
) {
    let busy = slot.busy.clone();
    let service =
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let mut app = app.clone();
            let busy = busy.clone();
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            async move {
                busy.store(true, Ordering::SeqCst);
                let response = tower_service::Service::call(&mut app, request).await;
                busy.store(false, Ordering::SeqCst);
                response
            }
        });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEADER_BYTES)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        _ = slot.close.notified() => {}
    }
    slots.leave(slot.id);
}

/// Resolves when the process gets SIGINT or SIGTERM.
pub async fn interrupted() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

/// Binds `listen`, naming it in the error.
pub async fn bind(listen: &str) -> Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Error::usage(format!("cannot listen on {listen}: {e}")))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::io(format!("cannot read the listening address: {e}")))?;
    Ok((listener, address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_limit_the_oldest_idle_connection_makes_room_and_busy_ones_stay() {
        let slots = Slots::new(2);
        let first = slots.admit().expect("first");
        let second = slots.admit().expect("second");
        first.busy.store(true, Ordering::SeqCst);
        // The second is idle: it is closed for the third.
        let third = slots.admit().expect("third");
        assert_eq!(slots.len(), 2);
        second.busy.store(true, Ordering::SeqCst);
        third.busy.store(true, Ordering::SeqCst);
        assert!(slots.admit().is_none(), "every connection is busy");
        slots.leave(first.id);
        assert!(slots.admit().is_some());
    }
}
