//! Apply progress on stderr: a bar on a terminal, one line per finished step otherwise (CI logs).

use crate::escape::visible;
use crate::report::StepResult;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Progress on stderr: a bar on a terminal, a line per finished step otherwise.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            total,
            done: AtomicUsize::new(0),
        }
    }

    /// Called once per step, when its result is final.
    pub fn step(&self, r: &StepResult) {
        let n = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                let message = format!("{} {}", r.outcome.label(), visible(&r.pool.name));
                bar.set_message(crate::redact::redact(&message).into_owned());
            }
            None => {
                let width = self.total.to_string().len();
                let why = r
                    .error
                    .as_ref()
                    .map(|e| e.message.as_str())
                    .or(r.detail.as_deref())
                    .unwrap_or("");
                let why = if why.is_empty() {
                    String::new()
                } else {
                    format!(": {why}")
                };
                crate::output::stderr_line(&format!(
                    "[{n:>width$}/{}] {} {} ({}){}",
                    self.total,
                    r.outcome.label(),
                    visible(&r.pool.name),
                    r.pool.id,
                    visible(&why)
                ));
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
