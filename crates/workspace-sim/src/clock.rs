//! The simulator's clock: the system's, shifted by an offset (`--clock-offset -2h`) or frozen
//! at an instant (`--clock-at 2026-12-01T09:00:00Z`), movable while it runs
//! (`POST /__sim/clock`). Every answer's `Date` header reads it, and so do a fixture's relative
//! creation times (`"created_time": "now-3d"`), resolved once at start. The gateway's check of
//! signature dates keeps the real clock, so a moved clock does not refuse AK/SK rehearsals.

use poolform::core::time::{Instant, Span};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

/// Where the simulator's "now" is.
#[derive(Debug, Default)]
pub struct SimClock {
    /// Seconds added to the system's clock.
    offset: AtomicI64,
    /// A frozen instant, when the clock stands still.
    frozen: Mutex<Option<Instant>>,
    /// Served as every answer's `Date` instead of the clock's (`--date-header`): a hostile
    /// gateway's.
    date_text: Mutex<Option<String>>,
}

/// `-2h`, `8d`, `+30m`: a signed duration in poolform's grammar, in seconds.
pub fn signed_span(text: &str) -> Result<i64, String> {
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let span = Span::parse(rest)?;
    Ok(sign * i64::try_from(span.secs()).unwrap_or(i64::MAX))
}

impl SimClock {
    /// The system's clock shifted by `offset_secs`.
    pub fn offset_by(offset_secs: i64) -> SimClock {
        SimClock {
            offset: AtomicI64::new(offset_secs),
            frozen: Mutex::new(None),
            date_text: Mutex::new(None),
        }
    }

    /// A clock standing still at `at`.
    pub fn frozen_at(at: Instant) -> SimClock {
        SimClock {
            offset: AtomicI64::new(0),
            frozen: Mutex::new(Some(at)),
            date_text: Mutex::new(None),
        }
    }

    pub fn now(&self) -> Instant {
        if let Some(at) = *self.frozen.lock().unwrap_or_else(|e| e.into_inner()) {
            return at;
        }
        let system = Instant::of_system(std::time::SystemTime::now());
        Instant::from_unix(
            system
                .unix()
                .saturating_add(self.offset.load(Ordering::SeqCst)),
        )
    }

    /// Freezes the clock at `at`.
    pub fn freeze(&self, at: Instant) {
        *self.frozen.lock().unwrap_or_else(|e| e.into_inner()) = Some(at);
    }

    /// Runs with the system's clock shifted by `offset_secs` (no longer frozen).
    pub fn set_offset(&self, offset_secs: i64) {
        *self.frozen.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.offset.store(offset_secs, Ordering::SeqCst);
    }

    /// Moves the clock by `secs` (frozen or not).
    pub fn advance(&self, secs: i64) {
        let mut frozen = self.frozen.lock().unwrap_or_else(|e| e.into_inner());
        match frozen.as_mut() {
            Some(at) => *at = Instant::from_unix(at.unix().saturating_add(secs)),
            None => {
                self.offset.fetch_add(secs, Ordering::SeqCst);
            }
        }
    }

    /// Serves `text` as every answer's `Date` header, whatever the clock says.
    pub fn serve_date_text(&self, text: Option<String>) {
        *self.date_text.lock().unwrap_or_else(|e| e.into_inner()) = text;
    }

    /// The `Date` header's value: `Sun, 06 Dec 2026 09:00:00 GMT` (or the text served instead).
    pub fn http_date(&self) -> String {
        if let Some(text) = &*self.date_text.lock().unwrap_or_else(|e| e.into_inner()) {
            return text.clone();
        }
        let secs = u64::try_from(self.now().unix()).unwrap_or(0);
        httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
    }

    /// A fixture's `created_time`: `now`, `now-3d` or `now+1h` read against this clock (as
    /// the API writes it, with milliseconds); anything else as it is.
    pub fn resolve(&self, value: &str) -> Result<String, String> {
        let Some(rest) = value.strip_prefix("now") else {
            return Ok(value.to_owned());
        };
        let shift = if rest.is_empty() {
            0
        } else {
            signed_span(rest).map_err(|e| format!("created_time {value:?}: {e}"))?
        };
        let at = Instant::from_unix(self.now().unix().saturating_add(shift));
        Ok(at.to_string().replace('Z', ".000Z"))
    }
}

/// `POST /__sim/clock`: `{"at": INSTANT}` freezes the clock there, `{"offset": "-2h"}` runs it
/// shifted from the system's, `{"advance": "8d"}` moves it (frozen or not).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockChange {
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub offset: Option<String>,
    #[serde(default)]
    pub advance: Option<String>,
}

impl SimClock {
    /// Applies a [`ClockChange`]; what is wrong with it, else the clock's new "now".
    pub fn change(&self, change: &ClockChange) -> Result<Instant, String> {
        match (&change.at, &change.offset, &change.advance) {
            (Some(at), None, None) => self.freeze(Instant::parse(at)?),
            (None, Some(offset), None) => self.set_offset(signed_span(offset)?),
            (None, None, Some(by)) => self.advance(signed_span(by)?),
            _ => return Err("give one of at, offset, advance".into()),
        }
        Ok(self.now())
    }
}

/// Sets the `Date` header of an answer from `clock`.
pub fn stamp(mut response: axum::response::Response, clock: &SimClock) -> axum::response::Response {
    if let Ok(value) = axum::http::HeaderValue::from_str(&clock.http_date()) {
        response
            .headers_mut()
            .insert(axum::http::header::DATE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_clock_stands_still_moves_when_told_and_resolves_relative_times() {
        let at = Instant::parse("2026-12-01T09:00:00Z").unwrap();
        let clock = SimClock::frozen_at(at);
        assert_eq!(clock.now(), at);
        assert_eq!(clock.http_date(), "Tue, 01 Dec 2026 09:00:00 GMT");
        assert_eq!(clock.resolve("now-3d").unwrap(), "2026-11-28T09:00:00.000Z");
        assert_eq!(clock.resolve("now+1h").unwrap(), "2026-12-01T10:00:00.000Z");
        assert_eq!(
            clock.resolve("2024-01-01T00:00:00Z").unwrap(),
            "2024-01-01T00:00:00Z"
        );
        assert!(clock.resolve("now-3 days").is_err());
        clock.advance(8 * 86_400);
        assert_eq!(clock.now().to_string(), "2026-12-09T09:00:00Z");
        clock.set_offset(-7200);
        let real = Instant::of_system(std::time::SystemTime::now());
        assert!((real.unix() - 7200 - clock.now().unix()).abs() <= 2);
        assert_eq!(signed_span("-2h"), Ok(-7200));
        assert_eq!(signed_span("8d"), Ok(691_200));
        assert!(signed_span("--2h").is_err());
    }
}
