//! What every client of one run shares, so that the run's limits hold for the whole run and
//! not for each project: the rate ceiling (`--rate-limit`; each project's own limiter still
//! adapts to its own 429s beneath it), the calls in flight (`--parallelism`), the list pages
//! asked for, read and decoded at once (by count, and by the bytes of their answers), and the
//! decoded pools the listings under way hold.

use crate::core::ratelimit::AdaptiveRate;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The limits, set by the first client of the run (every client of a run has the same
/// options).
#[derive(Debug)]
struct Limits {
    ceiling: Mutex<AdaptiveRate>,
    /// List pages asked for and held at once.
    pages: Arc<Semaphore>,
    /// Kibibytes of list pages' answers held at once, reserved once an answer's headers are
    /// read (its length, else the most a body may be) and given back once it is decoded: many
    /// small pages at once, few large ones.
    body_kib: Arc<Semaphore>,
    /// Fewer of them once the run's listings hold much (see [`PRESSURE`]).
    pressed: Arc<Semaphore>,
    /// List pages decoded at once (each holds its answer and what it decodes to meanwhile).
    decodes: Arc<Semaphore>,
    /// Calls other than list pages (DELETEs, reads of one pool) in flight at once: a slot is
    /// held from the moment the rate limiters admit a call until its answer is read, never
    /// while a call waits on a limiter or a retry's pause, so that a throttled project does
    /// not hold slots the others could use.
    calls: Arc<Semaphore>,
}

/// The figures of a run's limits.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// Requests per second.
    pub ceiling: f64,
    /// Calls other than list pages in flight at once.
    pub calls: usize,
}

/// Shared by every client of one run.
#[derive(Debug, Default)]
pub struct RunShare {
    limits: OnceLock<Limits>,
    in_flight: AtomicUsize,
    /// What the decoded pools of the listings under way weigh, in bytes.
    weight: AtomicUsize,
}

/// List pages asked for and held at once, in the whole run.
const PAGES_AT_ONCE: usize = 32;
/// What the answers of the list pages read at once may hold, in the whole run: eight pages at
/// the largest a body may be.
const BODY_BUDGET: usize = 64 * 1024 * 1024;

/// Pages decoded at once, in the whole run.
const DECODES_AT_ONCE: usize = 2;
/// Once the run's listings hold this much of decoded pools, fewer pages are asked for at once
/// ([`PAGES_UNDER_PRESSURE`]): fewer projects are listed at once while memory is tight.
const PRESSURE: usize = 32 * 1024 * 1024;
/// List pages asked for and held at once under pressure.
const PAGES_UNDER_PRESSURE: usize = 2;

/// A run's slot for a list page in memory (and, under pressure, one of the fewer slots).
#[derive(Debug)]
pub struct PageSlot {
    _page: tokio::sync::OwnedSemaphorePermit,
    _pressed: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl RunShare {
    /// Sets the limits (once per run; every client of a run has the same options).
    pub fn set_limits(&self, limits: &RunLimits) {
        self.limits.get_or_init(|| Limits {
            ceiling: Mutex::new(AdaptiveRate::new(limits.ceiling, Instant::now())),
            pages: Arc::new(Semaphore::new(PAGES_AT_ONCE)),
            body_kib: Arc::new(Semaphore::new(BODY_BUDGET / 1024)),
            pressed: Arc::new(Semaphore::new(PAGES_UNDER_PRESSURE)),
            decodes: Arc::new(Semaphore::new(DECODES_AT_ONCE)),
            calls: Arc::new(Semaphore::new(limits.calls.max(1))),
        });
    }

    /// How long to wait before the run's ceiling admits one more request (`None`: admitted,
    /// and counted).
    pub fn try_admit(&self) -> Option<Duration> {
        let limits = self.limits.get()?;
        let mut ceiling = limits
            .ceiling
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ceiling.try_acquire(Instant::now())
    }

    /// A list page may be asked for, and held until it is taken into its listing, while this
    /// lives; fewer at once while the run's listings hold much.
    pub async fn page(&self) -> Option<PageSlot> {
        let limits = self.limits.get()?;
        let page = limits.pages.clone().acquire_owned().await.ok()?;
        let pressed = if self.weight.load(Ordering::SeqCst) > PRESSURE {
            limits.pressed.clone().acquire_owned().await.ok()
        } else {
            None
        };
        Some(PageSlot {
            _page: page,
            _pressed: pressed,
        })
    }

    /// A list page's answer of `bytes` may be read and held while this lives (the whole
    /// budget, for an answer larger than it).
    pub async fn body(&self, bytes: usize) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let budget = self.limits.get()?.body_kib.clone();
        let kib = bytes.div_ceil(1024).clamp(1, BODY_BUDGET / 1024);
        budget
            .acquire_many_owned(u32::try_from(kib).unwrap_or(u32::MAX))
            .await
            .ok()
    }

    /// A call other than a list page may be in flight while this lives.
    pub async fn call(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let calls = self.limits.get()?.calls.clone();
        calls.acquire_owned().await.ok()
    }

    /// A page may be decoded while this lives.
    pub async fn decode(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let decodes = self.limits.get()?.decodes.clone();
        decodes.acquire_owned().await.ok()
    }

    /// Counts one request in flight until the guard is dropped.
    pub fn sending(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(&self.in_flight)
    }

    /// Requests of the whole run sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Adds `weight` bytes of decoded pools to what the listings under way hold: the new
    /// total of the whole run.
    pub fn hold(&self, weight: usize) -> usize {
        self.weight.fetch_add(weight, Ordering::SeqCst) + weight
    }

    /// Gives back `weight` bytes of decoded pools (a listing ended).
    pub fn release(&self, weight: usize) {
        self.weight.fetch_sub(weight, Ordering::SeqCst);
    }
}

/// Counts one request in flight for as long as it lives.
pub struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A decoded page's pools in the run's count, from the moment they are decoded: given back
/// when the page is dropped, or kept by the listing that takes the page in ([`Held::take`]).
#[derive(Debug)]
pub struct Reserved {
    run: Arc<RunShare>,
    weight: usize,
}

impl RunShare {
    /// Counts `weight` bytes of decoded pools for the run: the guard, and the run's new total.
    pub fn reserve(self: &Arc<Self>, weight: usize) -> (Reserved, usize) {
        let total = self.hold(weight);
        let reserved = Reserved {
            run: self.clone(),
            weight,
        };
        (reserved, total)
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        self.run.release(self.weight);
    }
}

/// The decoded pools one listing holds in the run's count, given back when it ends (done or
/// refused).
#[derive(Debug)]
pub struct Held {
    run: Arc<RunShare>,
    /// Bytes of answers read so far.
    pub bytes: usize,
    /// What the listing's decoded pools weigh.
    pub weight: usize,
}

impl Held {
    pub fn new(run: Arc<RunShare>) -> Held {
        Held {
            run,
            bytes: 0,
            weight: 0,
        }
    }

    /// Takes in a page of `bytes` whose pools the run already counts (`reserved`): the
    /// listing's weight now.
    pub fn take(&mut self, bytes: usize, reserved: Option<Reserved>) -> usize {
        self.bytes = self.bytes.saturating_add(bytes);
        if let Some(mut reserved) = reserved {
            // The run keeps counting it, now as the listing's.
            self.weight = self
                .weight
                .saturating_add(std::mem::take(&mut reserved.weight));
        }
        self.weight
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.run.release(self.weight);
    }
}
