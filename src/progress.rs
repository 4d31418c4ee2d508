//! Progress bars on a terminal; nothing at all elsewhere (cron, pipes, `--json`, `-q`).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    multi: Option<MultiProgress>,
}

impl Progress {
    /// Bars are drawn only when stderr is a terminal and `enabled` is true.
    pub fn new(enabled: bool) -> Progress {
        use std::io::IsTerminal;
        let multi = (enabled && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { multi }
    }

    pub fn hidden() -> Progress {
        Progress { multi: None }
    }

    /// A bar for one stream; `unit` names what is counted ("events", "bytes", ...).
    pub fn bar(&self, name: &str, unit: &str) -> StreamBar {
        let bar = match &self.multi {
            Some(multi) => {
                let bar = multi.add(ProgressBar::new(0));
                let template =
                    format!("{{prefix:>10}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{msg}}");
                if let Ok(style) = ProgressStyle::with_template(&template) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_prefix(name.to_string());
                bar
            }
            None => ProgressBar::hidden(),
        };
        StreamBar { bar }
    }
}

pub struct StreamBar {
    bar: ProgressBar,
}

impl StreamBar {
    pub fn set_total(&self, total: u64) {
        self.bar.set_length(total);
    }

    pub fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Text shown after the count (bytes downloaded, the current item).
    pub fn message(&self, message: &str) {
        self.bar.set_message(message.to_string());
    }

    pub fn finish(&self, message: &str) {
        self.bar.finish_with_message(message.to_string());
    }
}
