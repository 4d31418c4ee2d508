//! The pull after hangups: a thread that waits for hangups, lets more that come within the
//! debounce join (up to `max_delay` after the first, so steady hangups still get pulls), and then runs an incremental sync of the event streams under the mirror's
//! writer lock (waiting while a sync holds it). A pull that fails is tried again later; a
//! crash between a hangup and its pull loses nothing, since the next pull or sync lists the
//! history anyway.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::api::Upstream;
use crate::config::Settings;
use crate::error::{Error, ErrorKind, Result};
use crate::progress::Progress;
use crate::records::EventKind;
use crate::store::{Mirror, WriterLock};
use crate::sync::{self, Stream, SyncOptions};

/// When the pulls run.
#[derive(Debug, Clone, Copy)]
pub struct PullTiming {
    /// How long after a hangup the pull waits for more hangups to join it.
    pub debounce: Duration,
    /// The longest a hangup waits for its pull, however many more keep coming: under steady
    /// hangups a pull still runs this often.
    pub max_delay: Duration,
    /// The wait after a failed pull; it doubles after each further failure, up to
    /// [`LONGEST_RETRY`].
    pub first_retry: Duration,
}

/// The longest wait between two tries of a failing pull.
const LONGEST_RETRY: Duration = Duration::from_secs(300);

/// The running pull thread.
pub struct Puller {
    pub thread: JoinHandle<()>,
}

impl Puller {
    /// Starts the thread; it pulls into `mirror`, a connection of its own kept for its life.
    pub fn spawn(
        settings: Settings,
        timing: PullTiming,
        mut mirror: Mirror,
        hangups: Receiver<()>,
    ) -> Puller {
        let thread = std::thread::spawn(move || run(&settings, timing, &mut mirror, &hangups));
        Puller { thread }
    }
}

/// Waits after the first hangup for more to join it: until none came for `debounce`, or
/// `max_delay` after the first. `false` when the receiver is gone.
fn gather(timing: PullTiming, hangups: &Receiver<()>) -> bool {
    let first = Instant::now();
    loop {
        let left = timing.max_delay.saturating_sub(first.elapsed());
        if left.is_zero() {
            return true;
        }
        match hangups.recv_timeout(timing.debounce.min(left)) {
            Ok(()) => continue,
            Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

fn run(settings: &Settings, timing: PullTiming, mirror: &mut Mirror, hangups: &Receiver<()>) {
    while hangups.recv().is_ok() {
        if !gather(timing, hangups) {
            return;
        }
        let mut wait = timing.first_retry;
        while let Err(e) = pull_once(settings, mirror) {
            tracing::warn!(error = %e, retry_in = ?wait, "the pull after a hangup failed");
            eprintln!(
                "sipmirror webhook: the pull after a hangup failed: {e}; trying again in {wait:?}"
            );
            std::thread::sleep(wait);
            wait = (wait * 2).min(LONGEST_RETRY);
            // The next try pulls for the hangups that came meanwhile too.
            while hangups.try_recv().is_ok() {}
        }
    }
}

fn pull_once(settings: &Settings, mirror: &mut Mirror) -> Result<()> {
    let upstream = Upstream::connect(settings)?;
    let _lock = WriterLock::acquire_waiting(&settings.db_path, "webhook pull", &mut |_| {})?;
    let options = SyncOptions {
        only: [EventKind::Call, EventKind::Voicemail]
            .into_iter()
            .map(Stream::Events)
            .collect(),
        ..SyncOptions::default()
    };
    let report = sync::run(mirror, settings, &upstream, &options, &Progress::hidden())?;
    match report.failed_streams().next() {
        Some(failed) => Err(Error::new(
            ErrorKind::Transient,
            failed.error.clone().unwrap_or_else(|| "failed".into()),
        )),
        None => Ok(()),
    }
}
