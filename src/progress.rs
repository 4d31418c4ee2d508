//! Progress bars on a terminal; nothing at all elsewhere (cron, pipes, `--json`, `-q`).
//!
//! One bar per stream name: a stream that is read in several listings (v2 lists a type's
//! archived and other entries apart) shows one bar whose length is the sum of its listings'.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    multi: Option<MultiProgress>,
    /// The bars handed out, by stream name.
    bars: Mutex<HashMap<String, Arc<Mutex<Shared>>>>,
}

/// One drawn bar and the listings that feed it.
struct Shared {
    bar: ProgressBar,
    /// Each listing's total, by the index its [`StreamBar`] holds.
    totals: Vec<u64>,
    /// Listings not finished yet; the bar finishes with the last.
    open: usize,
}

impl Progress {
    /// Bars are drawn only when stderr is a terminal and `enabled` is true.
    pub fn new(enabled: bool) -> Progress {
        use std::io::IsTerminal;
        let multi = (enabled && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress {
            multi,
            bars: Mutex::default(),
        }
    }

    pub fn hidden() -> Progress {
        Progress {
            multi: None,
            bars: Mutex::default(),
        }
    }

    /// A handle on the bar of stream `name` (made on first use); `unit` names what is counted
    /// ("events", "bytes", ...).
    pub fn bar(&self, name: &str, unit: &str) -> StreamBar {
        let mut bars = self.bars.lock().unwrap_or_else(PoisonError::into_inner);
        let shared = bars
            .entry(name.to_string())
            .or_insert_with(|| {
                Arc::new(Mutex::new(Shared {
                    bar: self.draw(name, unit),
                    totals: Vec::new(),
                    open: 0,
                }))
            })
            .clone();
        let slot = {
            let mut inner = shared.lock().unwrap_or_else(PoisonError::into_inner);
            inner.totals.push(0);
            inner.open += 1;
            inner.totals.len() - 1
        };
        StreamBar { shared, slot }
    }

    fn draw(&self, name: &str, unit: &str) -> ProgressBar {
        let Some(multi) = &self.multi else {
            return ProgressBar::hidden();
        };
        let bar = multi.add(ProgressBar::new(0));
        let template = format!("{{prefix:>10}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{msg}}");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(name.to_string());
        bar
    }

    /// How many bars there are (one per stream name).
    pub fn bar_count(&self) -> usize {
        self.bars
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// One listing's handle on its stream's bar.
pub struct StreamBar {
    shared: Arc<Mutex<Shared>>,
    slot: usize,
}

impl StreamBar {
    fn with<T>(&self, f: impl FnOnce(&mut Shared) -> T) -> T {
        f(&mut self.shared.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// This listing's total; the bar's length is the sum of its listings'.
    pub fn set_total(&self, total: u64) {
        let slot = self.slot;
        self.with(|s| {
            s.totals[slot] = total;
            let sum = s.totals.iter().sum();
            s.bar.set_length(sum);
        });
    }

    pub fn advance(&self, n: u64) {
        self.with(|s| s.bar.inc(n));
    }

    /// Text shown after the count (bytes downloaded, the current item).
    pub fn message(&self, message: &str) {
        self.with(|s| s.bar.set_message(message.to_string()));
    }

    /// Ends this listing; the bar ends, with `message`, when its last listing does.
    pub fn finish(&self, message: &str) {
        self.with(|s| {
            s.open = s.open.saturating_sub(1);
            if s.open == 0 {
                s.bar.finish_with_message(message.to_string());
            } else {
                s.bar.set_message(message.to_string());
            }
        });
    }

    /// The bar's length: the sum of its listings' totals.
    pub fn length(&self) -> u64 {
        self.with(|s| s.bar.length().unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listings_of_one_stream_share_one_bar() {
        let progress = Progress::hidden();
        let archived = progress.bar("calls", "events");
        let other = progress.bar("calls", "events");
        let faxes = progress.bar("faxes", "events");
        assert_eq!(progress.bar_count(), 2);
        archived.set_total(30);
        other.set_total(70);
        faxes.set_total(5);
        assert_eq!(archived.length(), 100);
        assert_eq!(faxes.length(), 5);
    }
}
