//! How a client paces and bounds its calls: timeouts, body and page limits, the rate ceiling,
//! the retry policy, the run's interrupt, and how far a listing has got (for a display).

use super::pacer::StopSignal;
use crate::core::retry::RetryPolicy;
use std::sync::Arc;
use std::time::Duration;

/// Calls in flight at once when `--parallelism` is not given.
pub const DEFAULT_CALLS_AT_ONCE: usize = 8;

/// Largest page the API serves.
pub const MAX_PAGE_LIMIT: u32 = 1000;

/// Client knobs; the defaults suit the real service.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Larger response bodies are refused with [`ApiError::BodyTooLarge`].
    pub max_body_bytes: usize,
    /// Pages fetched (and decoded) at once after the first: with the body cap, this bounds the
    /// memory a listing can take, whatever a server sends.
    pub list_concurrency: usize,
    /// Calls other than list pages (DELETEs, reads of one pool) in flight at once, in the
    /// whole run: `--parallelism`.
    pub calls_at_once: usize,
    /// Page size (1..=1000).
    pub page_limit: u32,
    /// How many times a listing that changed while it was read is read again.
    pub max_relists: u32,
    /// Requests per second never exceeded; the limiter starts here and adapts downwards.
    pub rate_ceiling: f64,
    /// How failed attempts are retried: reads here, DELETEs by the applier.
    pub retry: RetryPolicy,
    /// Seed of the retry jitter.
    pub seed: u64,
    /// The run's interrupt: once set, no call starts and reads in flight are abandoned.
    pub interrupt: Arc<StopSignal>,
    /// How far the listing in progress has got, for a display to show.
    pub listing: Arc<ListingCounts>,
    /// Set by the first 401: every client made with these options (every project of a run)
    /// makes no further call.
    pub auth_stop: Arc<super::pacer::AuthStop>,
    /// The HTTP clients, built when first needed by a transport made with these options and
    /// shared by the others (timeouts and proxies are the options', the same for all).
    pub http: Arc<HttpClients>,
    /// The limits of the whole run, shared by every client made with these options (every
    /// project of a run): the rate ceiling, the calls in flight, the pages read and decoded
    /// at once, the decoded pools held.
    pub run: Arc<super::run_share::RunShare>,
}

/// The HTTP clients of a run, each built when first needed and shared by every transport made
/// with the same options (the projects of a run): one for HTTPS, with the TLS roots (the
/// system's, read once, and the built-in ones), and one for plain HTTP (loopback only), which
/// reads none.
#[derive(Debug, Default)]
pub struct HttpClients {
    tls: std::sync::OnceLock<reqwest::Client>,
    plain: std::sync::OnceLock<reqwest::Client>,
}

impl HttpClients {
    /// The client for HTTPS (`tls`), or for plain HTTP, once built.
    pub(super) fn of(&self, tls: bool) -> &std::sync::OnceLock<reqwest::Client> {
        if tls {
            &self.tls
        } else {
            &self.plain
        }
    }
}

/// Pages and pools read so far by the listing in progress (reset when a listing starts or is
/// read again). Read by a display while the listing runs.
#[derive(Debug, Default)]
pub struct ListingCounts {
    pages: std::sync::atomic::AtomicUsize,
    pools: std::sync::atomic::AtomicUsize,
    /// The listing is being read again (it changed while it was read).
    rereads: std::sync::atomic::AtomicUsize,
    /// A call is being retried because its host cannot be reached (`cannot reach HOST
    /// (reason), retrying n/m`), with a count of how many times it was said.
    trouble: std::sync::Mutex<(usize, Option<String>)>,
}

impl ListingCounts {
    /// `(pages, pools, re-reads)` so far.
    pub fn read(&self) -> (usize, usize, usize) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.pages.load(Relaxed),
            self.pools.load(Relaxed),
            self.rereads.load(Relaxed),
        )
    }

    pub(super) fn start(&self, reread: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        self.pages.store(0, Relaxed);
        self.pools.store(0, Relaxed);
        if reread {
            self.rereads.fetch_add(1, Relaxed);
        } else {
            self.rereads.store(0, Relaxed);
        }
    }

    /// Says (or, with `None`, clears) why a call is being retried.
    pub(super) fn trouble(&self, text: Option<String>) {
        let mut t = self
            .trouble
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if text.is_some() {
            t.0 += 1;
        }
        t.1 = text;
    }

    /// Why a call is being retried now, if one is, and how many such notes there have been
    /// (a display shows each note once in a log).
    pub fn trouble_now(&self) -> (usize, Option<String>) {
        self.trouble
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(super) fn page(&self, pools: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.pages.fetch_add(1, Relaxed);
        self.pools.fetch_add(pools, Relaxed);
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_body_bytes: 8 * 1024 * 1024,
            list_concurrency: 8,
            calls_at_once: DEFAULT_CALLS_AT_ONCE,
            page_limit: MAX_PAGE_LIMIT,
            max_relists: 3,
            rate_ceiling: 1000.0,
            retry: RetryPolicy::default(),
            seed: 0,
            interrupt: StopSignal::new(),
            listing: Arc::new(ListingCounts::default()),
            auth_stop: Arc::default(),
            http: Arc::default(),
            run: Arc::default(),
        }
    }
}
