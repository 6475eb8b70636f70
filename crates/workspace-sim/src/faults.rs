//! Simulated faults: latency, 5xx answers, throttling, dropped connections, lost DELETE answers.
//!
//! Each decision is drawn from an RNG seeded by `(seed, method, path, n)` where `n` counts the
//! requests to that path, so a run is reproducible whatever order concurrent requests arrive in.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

/// Fault settings; all off by default.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub seed: u64,
    pub latency: Duration,
    /// Added to DELETE requests only, on top of `latency`.
    pub delete_latency: Duration,
    /// Share of API requests answered 500, 502 (HTML body) or 503.
    pub error_rate: f64,
    /// Share of API requests whose connection is closed with no answer.
    pub drop_rate: f64,
    /// Share of successful DELETEs that are applied but whose answer is dropped.
    pub lost_delete_rate: f64,
    /// Share of API requests answered `429 APIGW.0308`, whatever the rate (a gateway shared
    /// with other tenants).
    pub throttle_rate: f64,
    /// Requests per second per API before 429 `APIGW.0308`.
    pub rate_limit: Option<u32>,
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Serve,
    /// Answer with this 5xx status instead.
    Fail(u16),
    /// Answer `429 APIGW.0308` instead.
    Throttle,
    /// Close the connection without answering.
    Drop,
    /// Serve, and if it is a successful DELETE, drop the answer.
    LoseAnswer,
}

fn mix(seed: u64, key: &str, n: u64) -> u64 {
    // FNV-1a over the key, then splitmix64 finalisation with the seed and the count.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n.rotate_left(32);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Faults {
    /// The fate of the `n`-th request to `method path`.
    pub fn fate(&self, method: &str, path: &str, n: u64) -> Fate {
        let mut rng = StdRng::seed_from_u64(mix(self.seed, &format!("{method} {path}"), n));
        let (drop, error, lost): (f64, f64, f64) = (rng.random(), rng.random(), rng.random());
        let throttle: f64 = rng.random();
        if drop < self.drop_rate {
            Fate::Drop
        } else if error < self.error_rate {
            Fate::Fail([500, 502, 503][rng.random_range(0..3)])
        } else if throttle < self.throttle_rate {
            Fate::Throttle
        } else if method == "DELETE" && lost < self.lost_delete_rate {
            Fate::LoseAnswer
        } else {
            Fate::Serve
        }
    }
}

/// A token bucket: `rate` per second, bursts up to one second's worth.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: u32, now: Instant) -> Self {
        TokenBucket {
            rate: f64::from(rate.max(1)),
            tokens: f64::from(rate.max(1)),
            last: now,
        }
    }

    /// Takes a token if one is there.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[test]
    fn fates_are_reproducible_and_near_their_rates() {
        let f = Faults {
            seed: 7,
            error_rate: 0.1,
            drop_rate: 0.05,
            lost_delete_rate: 0.02,
            ..Faults::default()
        };
        let fates: Vec<Fate> = (0..20_000)
            .map(|n| f.fate("DELETE", &format!("/p/{n}"), 0))
            .collect();
        let again: Vec<Fate> = (0..20_000)
            .map(|n| f.fate("DELETE", &format!("/p/{n}"), 0))
            .collect();
        assert_eq!(fates, again);
        let share =
            |pred: fn(&Fate) -> bool| fates.iter().filter(|x| pred(x)).count() as f64 / 20_000.0;
        let drop = share(|x| *x == Fate::Drop);
        let fail = share(|x| matches!(x, Fate::Fail(_)));
        let lost = share(|x| *x == Fate::LoseAnswer);
        assert!((0.04..0.06).contains(&drop), "{drop}");
        assert!((0.08..0.11).contains(&fail), "{fail}");
        assert!((0.01..0.03).contains(&lost), "{lost}");
        assert_eq!(Faults::default().fate("GET", "/x", 0), Fate::Serve);
    }

    #[test]
    fn bucket_allows_a_burst_then_refills() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(5, t0);
        assert_eq!((0..7).filter(|_| b.try_take(t0)).count(), 5);
        assert!(b.try_take(t0 + Duration::from_millis(200)));
        assert!(!b.try_take(t0 + Duration::from_millis(200)));
    }
}
