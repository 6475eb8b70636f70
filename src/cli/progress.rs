//! Progress on stderr, so that poolform is never silent for long: on a terminal a spinner (a
//! listing) or a bar (the deletes) that moves at least every 2 s; in a log (CI) plain lines,
//! one per finished step and a status line at most every 10 s while something slow goes on.

use crate::apply::Observer;
use crate::cli::render::plural;
use crate::core::escape::visible;
use crate::core::model::PoolRef;
use crate::core::report::StepResult;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a log (no terminal) hears about something slow.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// How often a status line is written to a log: every 10 s, or more often when
/// `POOLFORM_PROGRESS_EVERY` (a duration) asks for it, for tests; never less often.
fn log_every() -> Duration {
    std::env::var("POOLFORM_PROGRESS_EVERY")
        .ok()
        .and_then(|v| humantime::parse_duration(&v).ok())
        .filter(|d| !d.is_zero())
        .map_or(LOG_EVERY, |d| d.min(LOG_EVERY))
}
/// How often a terminal gets a full status line while blocked pools are waited on.
const TERMINAL_STATUS_EVERY: Duration = Duration::from_secs(30);
/// How often a spinner's text is refreshed.
const TICK: Duration = Duration::from_millis(100);

/// Whether progress goes to a terminal (spinners, a bar) or a log (plain lines).
pub fn on_terminal() -> bool {
    std::io::stderr().is_terminal() && std::env::var("TERM").as_deref() != Ok("dumb")
}

/// `4m 30s`, to the second.
fn duration(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

fn spinner() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(TICK);
    bar
}

/// Something slow under way, said while it lasts: a spinner with what `status` says, or a
/// line every 10 s in a log. Ends when finished or dropped.
pub struct Activity {
    bar: Option<indicatif::ProgressBar>,
    task: tokio::task::JoinHandle<()>,
}

impl Activity {
    pub fn start(what: &'static str, status: impl Fn() -> String + Send + 'static) -> Activity {
        Activity::with_news(what, status, || (0, None))
    }

    /// [`Activity::start`], and news said at once: `news` gives a note and how many notes
    /// there have been; a log gets each new one as a line of its own, a spinner shows the
    /// current one after the status.
    pub fn with_news(
        what: &'static str,
        status: impl Fn() -> String + Send + 'static,
        news: impl Fn() -> (usize, Option<String>) + Send + Sync + 'static,
    ) -> Activity {
        let news = Arc::new(news);
        if on_terminal() {
            let bar = spinner();
            let current = news.clone();
            let mut activity = Activity::on_bar(&bar, what, move || match current().1 {
                Some(note) => format!("{}; {}", status(), visible(&note)),
                None => status(),
            });
            activity.bar = Some(bar);
            activity
        } else {
            let started = Instant::now();
            let task = tokio::spawn(async move {
                let mut said = Instant::now();
                let mut seen = 0;
                loop {
                    tokio::time::sleep(TICK).await;
                    if let (count, Some(note)) = news() {
                        if count != seen {
                            seen = count;
                            crate::cli::output::stderr_line(&format!("{what}: {}", visible(&note)));
                        }
                    }
                    if said.elapsed() >= log_every() {
                        said = Instant::now();
                        crate::cli::output::stderr_line(&format!(
                            "{what}: {} ({} so far)",
                            status(),
                            duration(started.elapsed())
                        ));
                    }
                }
            });
            Activity { bar: None, task }
        }
    }

    /// Says what `status` says as the message of `bar` (a bar this activity does not own:
    /// it is left as it is when the activity ends).
    fn on_bar(
        bar: &indicatif::ProgressBar,
        what: &'static str,
        status: impl Fn() -> String + Send + 'static,
    ) -> Activity {
        bar.set_message(format!("{what}: {}", status()));
        let shown = bar.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(TICK).await;
                shown.set_message(format!("{what}: {}", status()));
            }
        });
        Activity { bar: None, task }
    }

    /// A listing: the pages and pools read so far.
    pub fn listing(what: &'static str, counts: Arc<crate::api::ListingCounts>) -> Activity {
        let troubled = counts.clone();
        Activity::with_news(
            what,
            move || {
                let (pages, pools, rereads) = counts.read();
                let again = match rereads {
                    0 => String::new(),
                    n => format!(" (it changed while it was read; reading it again, {n} of 3)"),
                };
                format!(
                    "{} and {} read{again}",
                    plural(pages, "page", "pages"),
                    plural(pools, "pool", "pools")
                )
            },
            move || troubled.trouble_now(),
        )
    }

    pub fn finish(self) {}
}

impl Drop for Activity {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// When the wait on blocked pools was last said.
#[derive(Default)]
struct WaitSaid {
    last: Option<Instant>,
}

/// The deletes' progress: a bar on a terminal, a line per finished step in a log; the wait on
/// blocked pools said when it starts and then every 30 s (terminal) or 10 s (log).
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: AtomicUsize,
    wait: Mutex<WaitSaid>,
    /// The verification listing's progress, while it runs.
    listing: Arc<crate::api::ListingCounts>,
    verifying: Mutex<Option<Activity>>,
}

impl Progress {
    pub fn new(total: usize, listing: Arc<crate::api::ListingCounts>) -> Progress {
        let bar = on_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            ) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(TICK);
            bar
        });
        Progress {
            bar,
            total,
            done: AtomicUsize::new(0),
            wait: Mutex::new(WaitSaid::default()),
            listing,
            verifying: Mutex::new(None),
        }
    }

    /// A line above the bar (terminal) or on its own (log).
    fn line(&self, text: &str) {
        let text = crate::api::redact::redact(text).into_owned();
        match &self.bar {
            Some(bar) => bar.println(text),
            None => crate::cli::output::stderr_line(&text),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `ci-a (3 desktops), ci-b (1 desktop)`.
fn waited_on(pools: &[(PoolRef, u64)]) -> String {
    let shown: Vec<String> = pools
        .iter()
        .take(10)
        .map(|(p, n)| {
            format!(
                "{} ({})",
                visible(&p.name),
                plural(*n as usize, "desktop", "desktops")
            )
        })
        .collect();
    let more = pools.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{}, and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

impl Observer for Progress {
    fn rejudging(&self, max_age: Duration) {
        self.line(&format!(
            "Listing the project again: the judgement of the pools left is older than {} s, and no DELETE is sent on an older one.",
            max_age.as_secs()
        ));
    }

    fn verifying(&self, claimed: usize) {
        let listing = self.listing.clone();
        let what = "Verifying";
        let status = move || {
            let (pages, pools, _) = listing.read();
            format!(
                "listing the pools to confirm {} gone ({} and {} read)",
                plural(claimed, "pool is", "pools are"),
                plural(pages, "page", "pages"),
                plural(pools, "pool", "pools")
            )
        };
        let activity = match &self.bar {
            Some(bar) => Activity::on_bar(bar, what, status),
            None => {
                self.line(&format!(
                    "{what}: listing the pools to confirm {} gone",
                    plural(claimed, "pool is", "pools are")
                ));
                Activity::start(what, status)
            }
        };
        *self.verifying.lock().unwrap_or_else(|e| e.into_inner()) = Some(activity);
    }

    fn verified(&self, _claimed: &[StepResult], _verification: &crate::core::report::Verification) {
        self.verifying
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }

    fn step_finished(&self, r: &StepResult) {
        let n = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                let message = format!("{} {}", r.outcome.label(), visible(&r.pool.name));
                bar.set_message(crate::api::redact::redact(&message).into_owned());
            }
            // One short line per step: the details are the report's, on stdout, so that a CI
            // log does not say everything twice.
            None => {
                let width = self.total.to_string().len();
                self.line(&format!(
                    "[{n:>width$}/{}] {} {} ({})",
                    self.total,
                    r.outcome.label(),
                    visible(&r.pool.name),
                    r.pool.id
                ));
            }
        }
    }

    fn wait_started(&self, pools: &[(PoolRef, u64)], wait: Duration) {
        let mut said = self.wait.lock().unwrap_or_else(|e| e.into_inner());
        said.last = Some(Instant::now());
        self.line(&format!(
            "Waiting up to {} for {} to empty (--wait-blocked); each is deleted once its desktops are gone: {}",
            humantime::format_duration(wait),
            plural(pools.len(), "blocked pool", "blocked pools"),
            waited_on(pools)
        ));
    }

    fn waiting(&self, pools: &[(PoolRef, u64)], left: Duration) {
        let mut said = self.wait.lock().unwrap_or_else(|e| e.into_inner());
        let desktops: u64 = pools.iter().map(|(_, n)| n).sum();
        // Rounded to the second: a wait of 2m reads "2m", not "1m 59s".
        let left = Duration::from_secs(left.as_secs_f64().round() as u64);
        let summary = format!(
            "waiting on {}: {} left, {} to go",
            plural(pools.len(), "blocked pool", "blocked pools"),
            plural(desktops as usize, "desktop", "desktops"),
            duration(left)
        );
        if let Some(bar) = &self.bar {
            bar.set_message(summary.clone());
        }
        let every = if self.bar.is_some() {
            TERMINAL_STATUS_EVERY
        } else {
            log_every()
        };
        if said.last.is_none_or(|t| t.elapsed() >= every) {
            said.last = Some(Instant::now());
            self.line(&format!(
                "Still waiting ({} left): {}",
                duration(left),
                waited_on(pools)
            ));
        }
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[test]
    fn counts_and_durations_read_right() {
        assert_eq!(plural(1, "page", "pages"), "1 page");
        assert_eq!(plural(2, "page", "pages"), "2 pages");
        assert_eq!(plural(0, "pool", "pools"), "0 pools");
        assert_eq!(duration(Duration::from_millis(270_900)), "4m 30s");
        assert_eq!(duration(Duration::from_secs(0)), "0s");
    }
}
