//! A client-side rate limiter that finds the API's limit by itself: a token bucket whose rate
//! is cut on 429 (multiplicative decrease, to what actually got through in the last second)
//! and grows back slowly (additive increase) while nothing is throttled. Pure: time is passed in.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The slowest rate the limiter goes down to by itself, in requests per second (a ceiling
/// asked for below it is honoured, and is then the floor too).
const FLOOR: f64 = 0.5;
/// The shortest wait `try_acquire` asks for.
const MIN_WAIT: Duration = Duration::from_millis(1);
/// Multiplicative decrease factor.
const DECREASE: f64 = 0.5;
/// Share of the observed goodput (or of a limit the gateway names) aimed for after a 429.
const HEADROOM: f64 = 0.9;
/// Additive increase, per second without a 429, as a share of the rate set at the last cut:
/// the step is fixed until the next cut, so growth is linear, and equally gentle at any limit.
const INCREASE_SHARE: f64 = 0.02;
/// The smallest additive step, in requests per second per second.
const MIN_INCREASE: f64 = 0.05;

#[derive(Debug, Clone)]
pub struct AdaptiveRate {
    rate: f64,
    ceiling: f64,
    /// The slowest rate: [`FLOOR`], or the ceiling when that is lower.
    floor: f64,
    tokens: f64,
    last_refill: Instant,
    /// When the rate was last cut: a 429 for a request sent before then belongs to the
    /// overload already answered, and cuts nothing more.
    last_cut: Option<Instant>,
    /// Requests per second gained per second of successes (set at each cut).
    increase_per_sec: f64,
    /// Successes in the last second.
    recent: VecDeque<Instant>,
}

impl AdaptiveRate {
    /// Starts at `ceiling` requests per second, which it never exceeds.
    pub fn new(ceiling: f64, now: Instant) -> Self {
        // Never silently raised: a ceiling below the floor is honoured (a non-positive or
        // non-finite one cannot come from a flag; it is taken as the floor).
        let ceiling = if ceiling.is_finite() && ceiling > 0.0 {
            ceiling
        } else {
            FLOOR
        };
        let floor = FLOOR.min(ceiling);
        AdaptiveRate {
            rate: ceiling,
            ceiling,
            floor,
            tokens: 1.0,
            last_refill: now,
            last_cut: None,
            increase_per_sec: MIN_INCREASE,
            recent: VecDeque::new(),
        }
    }

    /// The current rate, in requests per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Burst size: a tenth of a second's worth, at least one request.
    fn capacity(&self) -> f64 {
        (self.rate / 10.0).max(1.0)
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now
            .saturating_duration_since(self.last_refill)
            .as_secs_f64();
        self.last_refill = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity());
    }

    /// Takes a token now (`None`), or says how long to wait before asking again.
    pub fn try_acquire(&mut self, now: Instant) -> Option<Duration> {
        self.refill(now);
        // The epsilon absorbs float error; the minimum wait makes sure time moves on.
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - self.tokens) / self.rate).max(MIN_WAIT))
        }
    }

    /// Forgets successes older than a second before `now`.
    fn prune(&mut self, now: Instant) {
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
    }

    /// A request got through (an answer that is neither a 429 nor a 5xx).
    pub fn on_success(&mut self, now: Instant) {
        self.recent.push_back(now);
        self.prune(now);
        self.rate = (self.rate + self.increase_per_sec / self.rate.max(1.0)).min(self.ceiling);
    }

    /// A 429 for a request sent at `sent_at`. `named_limit` is the gateway's own figure when
    /// its message gives one (`limit:20,time:1 second`).
    pub fn on_throttled(&mut self, now: Instant, sent_at: Instant, named_limit: Option<f64>) {
        if let Some(limit) = named_limit.filter(|l| *l > 0.0) {
            self.ceiling = self.ceiling.min(limit * HEADROOM).max(self.floor);
            self.rate = self.rate.min(self.ceiling);
        }
        if self.last_cut.is_some_and(|cut| sent_at < cut) {
            return;
        }
        // What got through in the last second (as of now, not as of the last success) is the
        // best estimate of the limit; the cut is at least by HEADROOM, and halves the rate
        // when nothing got through at all.
        self.prune(now);
        let goodput = self.recent.len() as f64 * HEADROOM;
        let target = if goodput >= 1.0 {
            goodput.min(self.rate * HEADROOM)
        } else {
            self.rate * DECREASE
        };
        self.rate = target.clamp(self.floor, self.ceiling);
        self.tokens = self.tokens.min(0.0);
        self.last_cut = Some(now);
        self.increase_per_sec = (self.rate * INCREASE_SHARE).max(MIN_INCREASE);
    }
}

/// Reads the limit per second from a gateway message such as
/// `policy user over ratelimit,limit:20,time:1 second`.
pub fn named_limit(message: &str) -> Option<f64> {
    let limit: f64 = message
        .split("limit:")
        .nth(1)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let per = message
        .split("time:")
        .nth(1)
        .and_then(|t| {
            let mut words = t.split_whitespace();
            let n: f64 = words.next()?.parse().ok()?;
            let unit = words.next().unwrap_or("second");
            let secs = if unit.starts_with("minute") {
                60.0
            } else if unit.starts_with("hour") {
                3600.0
            } else {
                1.0
            };
            Some(n * secs)
        })
        .unwrap_or(1.0);
    (per > 0.0).then_some(limit / per)
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    /// Drives the limiter against a simulated server with a token bucket of `limit`/s.
    fn simulate(limit: f64, ceiling: f64, requests: usize, named: bool) -> (Duration, usize) {
        let start = Instant::now();
        let mut now = start;
        let mut limiter = AdaptiveRate::new(ceiling, now);
        let (mut server_tokens, mut server_last) = (limit, now);
        let (mut done, mut throttled) = (0, 0);
        while done < requests {
            if let Some(wait) = limiter.try_acquire(now) {
                now += wait;
                continue;
            }
            server_tokens =
                (server_tokens + now.duration_since(server_last).as_secs_f64() * limit).min(limit);
            server_last = now;
            if server_tokens >= 1.0 {
                server_tokens -= 1.0;
                limiter.on_success(now);
                done += 1;
            } else {
                throttled += 1;
                limiter.on_throttled(now, now, named.then_some(limit));
            }
        }
        (now - start, throttled)
    }

    #[test]
    fn finds_an_unknown_limit_with_few_429s() {
        for (limit, seconds) in [
            (5.0, 12.0),
            (5.0, 60.0),
            (20.0, 12.0),
            (50.0, 12.0),
            (50.0, 60.0),
            (200.0, 12.0),
        ] {
            let n = (limit * seconds) as usize;
            let ideal = n as f64 / limit;
            for named in [false, true] {
                let (took, throttled) = simulate(limit, 1000.0, n, named);
                let ratio = took.as_secs_f64() / ideal;
                let share = throttled as f64 / (n + throttled) as f64;
                assert!(
                    ratio < 1.3,
                    "limit {limit} named {named}: {ratio:.2}× the ideal"
                );
                assert!(
                    share < 0.05,
                    "limit {limit} named {named}: {:.1}% throttled",
                    share * 100.0
                );
            }
        }
    }

    #[test]
    fn never_exceeds_the_ceiling_and_recovers_slowly() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut l = AdaptiveRate::new(100.0, t0);
        for i in 0..1000 {
            l.on_success(at(i));
        }
        assert_eq!(l.rate(), 100.0, "never above the ceiling");
        // 40 got through in the last second: the rate goes to 90 % of that
        let mut l = AdaptiveRate::new(100.0, t0);
        for i in 0..40 {
            l.on_success(at(2000 + i * 20));
        }
        l.on_throttled(at(2900), at(2890), None);
        let cut = l.rate();
        assert!((36.0..37.0).contains(&cut), "{cut}");
        l.on_throttled(at(2950), at(2880), None);
        assert_eq!(
            l.rate(),
            cut,
            "a 429 for a request sent before the cut cuts nothing more"
        );
        l.on_throttled(at(3000), at(2960), None);
        assert!(
            l.rate() < cut,
            "a 429 for a request sent after the cut cuts again"
        );
        let cut = l.rate();
        let per_second = cut.round() as u64;
        for i in 0..per_second {
            l.on_success(at(4000 + i * 1000 / per_second));
        }
        let gained = l.rate() - cut;
        assert!(
            (0.3..1.0).contains(&gained),
            "additive increase after a second at the cut rate: {gained} from {cut}"
        );
        // with nothing through in the last second, halve
        let mut l = AdaptiveRate::new(100.0, t0);
        l.on_throttled(at(10), at(5), None);
        assert_eq!(l.rate(), 50.0);
        // a limit named by the gateway becomes the ceiling
        l.on_throttled(at(20), at(6), Some(20.0));
        assert_eq!(l.rate(), 18.0);
    }

    /// A whole second of nothing but 429s: the successes before it fall out of the window, and
    /// the rate halves at each cut instead of creeping down by a tenth.
    #[test]
    fn an_all_429_second_halves_the_rate() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut l = AdaptiveRate::new(100.0, t0);
        for i in 0..100 {
            l.on_success(at(i * 10));
        }
        let before = l.rate();
        // a 429 every half second for a second, each for a request sent after the last cut
        for now in [1000, 1500, 2000] {
            l.on_throttled(at(now), at(now - 10), None);
        }
        let after_one_second = l.rate();
        assert!(
            after_one_second <= before / 2.0,
            "{before} -> {after_one_second}: an all-429 second must at least halve the rate"
        );
        // and each further cut with an empty window halves it exactly
        let r = l.rate();
        l.on_throttled(at(2100), at(2090), None);
        assert_eq!(l.rate(), (r * 0.5).max(FLOOR));
    }

    /// A ceiling below the floor is honoured, never raised, and 429s keep it there.
    #[test]
    fn a_ceiling_below_the_floor_is_honoured() {
        let t0 = Instant::now();
        let mut l = AdaptiveRate::new(0.1, t0);
        assert_eq!(l.rate(), 0.1);
        assert!(l.try_acquire(t0).is_none());
        let wait = l.try_acquire(t0).unwrap();
        assert!(wait >= Duration::from_secs(9), "{wait:?}");
        l.on_throttled(t0 + Duration::from_secs(1), t0, None);
        assert_eq!(l.rate(), 0.1);
    }

    #[test]
    fn reads_the_gateway_limit() {
        let cases = [
            ("The throttling threshold has been reached: policy user over ratelimit,limit:20,time:1 second", Some(20.0)),
            ("policy ip over ratelimit, limit:600,time:1 minute", Some(10.0)),
            ("limit:5", Some(5.0)),
            ("The throttling threshold has been reached", None),
            ("limit:x,time:1 second", None),
        ];
        for (msg, want) in cases {
            assert_eq!(named_limit(msg), want, "{msg}");
        }
    }
}
