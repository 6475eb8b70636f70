//! The retry policy as a small value: which answers are worth retrying, and how long to wait
//! before attempt n (exponential backoff with full jitter, `Retry-After` honoured and capped,
//! bounded by attempts and by a time budget). Pure: the RNG and the elapsed time are passed in.

use rand::Rng;
use std::time::Duration;

/// What an attempt ended with, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// No answer: connection refused or broken, or a timeout.
    Transport,
    /// An HTTP status.
    Status(u16),
}

impl Observed {
    /// Connection errors, timeouts, 429, 500, 502, 503 and 504 are retried; nothing else.
    pub fn is_retryable(self) -> bool {
        match self {
            Observed::Transport => true,
            Observed::Status(s) => matches!(s, 429 | 500 | 502 | 503 | 504),
        }
    }
}

/// Why no further attempt is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    NotRetryable,
    AttemptsExhausted,
    BudgetSpent,
}

impl GiveUp {
    pub fn describe(self) -> &'static str {
        match self {
            GiveUp::NotRetryable => "not retryable",
            GiveUp::AttemptsExhausted => "attempts exhausted",
            GiveUp::BudgetSpent => "retry time budget spent",
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    RetryAfter(Duration),
    GiveUp(GiveUp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The backoff ceiling for attempt 1; doubles per attempt.
    pub base_delay: Duration,
    /// No backoff ceiling exceeds this.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is cut to it.
    pub max_retry_after: Duration,
    /// No retry starts once this much time has passed since the first attempt.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(30),
            budget: Duration::from_secs(180),
        }
    }
}

impl RetryPolicy {
    /// The backoff ceiling after failed attempt `attempt` (1-based): base × 2^(attempt-1), capped.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Full jitter: uniform in `[0, ceiling]`; at least the (capped) `Retry-After` when given.
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        let ceiling = self.ceiling(attempt);
        let jittered = Duration::from_secs_f64(rng.random_range(0.0..=ceiling.as_secs_f64()));
        match retry_after {
            Some(ra) => jittered.max(ra.min(self.max_retry_after)),
            None => jittered,
        }
    }

    /// After failed attempt `attempt` (1-based), `elapsed` since the first one started.
    pub fn decide(
        &self,
        attempt: u32,
        observed: Observed,
        retry_after: Option<Duration>,
        elapsed: Duration,
        rng: &mut impl Rng,
    ) -> Decision {
        if !observed.is_retryable() {
            return Decision::GiveUp(GiveUp::NotRetryable);
        }
        if attempt >= self.max_attempts {
            return Decision::GiveUp(GiveUp::AttemptsExhausted);
        }
        let delay = self.delay(attempt, retry_after, rng);
        if elapsed.saturating_add(delay) > self.budget {
            return Decision::GiveUp(GiveUp::BudgetSpent);
        }
        Decision::RetryAfter(delay)
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn classification_table() {
        let cases = [
            (Observed::Transport, true),
            (Observed::Status(429), true),
            (Observed::Status(500), true),
            (Observed::Status(502), true),
            (Observed::Status(503), true),
            (Observed::Status(504), true),
            (Observed::Status(400), false),
            (Observed::Status(401), false),
            (Observed::Status(403), false),
            (Observed::Status(404), false),
            (Observed::Status(409), false),
            (Observed::Status(501), false),
            (Observed::Status(302), false),
        ];
        for (o, want) in cases {
            assert_eq!(o.is_retryable(), want, "{o:?}");
        }
    }

    #[test]
    fn ceilings_double_then_cap() {
        let p = RetryPolicy::default();
        let got: Vec<u128> = (1..=9).map(|a| p.ceiling(a).as_millis()).collect();
        assert_eq!(
            got,
            [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]
        );
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(10));
    }

    #[test]
    fn full_jitter_stays_within_the_ceiling_and_spreads() {
        let p = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(1);
        let delays: Vec<Duration> = (0..1000).map(|_| p.delay(3, None, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(800)));
        let mean = delays.iter().sum::<Duration>() / 1000;
        assert!(
            (Duration::from_millis(350)..Duration::from_millis(450)).contains(&mean),
            "{mean:?}"
        );
        // reproducible with the same seed
        let mut a = StdRng::seed_from_u64(9);
        let mut b = StdRng::seed_from_u64(9);
        assert_eq!(p.delay(5, None, &mut a), p.delay(5, None, &mut b));
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(2);
        for _ in 0..100 {
            assert!(p.delay(1, Some(Duration::from_secs(3)), &mut rng) >= Duration::from_secs(3));
            assert_eq!(
                p.delay(1, Some(Duration::from_secs(3600)), &mut rng),
                Duration::from_secs(30)
            );
        }
    }

    #[test]
    fn decisions() {
        let p = RetryPolicy {
            max_attempts: 3,
            budget: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        let mut rng = StdRng::seed_from_u64(3);
        let zero = Duration::ZERO;
        assert_eq!(
            p.decide(1, Observed::Status(403), None, zero, &mut rng),
            Decision::GiveUp(GiveUp::NotRetryable)
        );
        assert!(matches!(
            p.decide(1, Observed::Status(503), None, zero, &mut rng),
            Decision::RetryAfter(_)
        ));
        assert!(matches!(
            p.decide(2, Observed::Transport, None, zero, &mut rng),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            p.decide(3, Observed::Transport, None, zero, &mut rng),
            Decision::GiveUp(GiveUp::AttemptsExhausted)
        );
        assert_eq!(
            p.decide(
                1,
                Observed::Status(429),
                Some(Duration::from_secs(10)),
                zero,
                &mut rng
            ),
            Decision::GiveUp(GiveUp::BudgetSpent)
        );
        assert_eq!(
            p.decide(
                1,
                Observed::Status(500),
                None,
                Duration::from_secs(5),
                &mut rng
            ),
            Decision::GiveUp(GiveUp::BudgetSpent)
        );
    }
}
