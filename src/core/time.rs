//! Time in one strict grammar: durations (`<integer><unit>`, units `s m h d w`, combinable:
//! `1w3d`) and instants (RFC 3339 with `Z` or an offset, or `YYYY-MM-DD` meaning 00:00 UTC),
//! as whole seconds since 1970 in UTC. Anything else is refused with why: a time rule never
//! fails open. The API's `created_time` is read with the same instant grammar.
//!
//! Pure: text in, typed values or a reason out.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// A length of time, in whole seconds, never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(u64);

/// An instant, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(i64);

/// Seconds of each duration unit.
const UNITS: [(char, u64); 5] = [
    ('w', 7 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

impl Span {
    pub const ZERO: Span = Span(0);

    pub const fn from_secs(secs: u64) -> Span {
        Span(secs)
    }

    pub fn secs(self) -> u64 {
        self.0
    }

    /// `1w3d`: integers, each followed by one of `s m h d w`; nothing else.
    pub fn parse(text: &str) -> Result<Span, String> {
        let what = || {
            format!("{text:?} is not a duration such as 30m, 12h, 7d or 1w3d (an integer and a unit: s, m, h, d, w)")
        };
        if text.is_empty() {
            return Err(what());
        }
        let mut total: u64 = 0;
        let mut digits = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let Some((_, unit)) = UNITS.iter().find(|(u, _)| *u == c) else {
                return Err(what());
            };
            if digits.is_empty() {
                return Err(what());
            }
            let n: u64 = digits
                .parse()
                .map_err(|_| format!("{text:?} is too long a duration"))?;
            total = n
                .checked_mul(*unit)
                .and_then(|s| total.checked_add(s))
                .filter(|t| i64::try_from(*t).is_ok())
                .ok_or_else(|| format!("{text:?} is too long a duration"))?;
            digits.clear();
        }
        if !digits.is_empty() {
            return Err(what());
        }
        Ok(Span(total))
    }

    /// Whole days, rounded up (an entry that expires in 1 s expires "in 1 day").
    pub fn days_ceil(self) -> u64 {
        self.0.div_ceil(86_400)
    }
}

impl fmt::Display for Span {
    /// The largest units first, none of them zero: `1w3d`, `2h30m`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut left = self.0;
        for (unit, secs) in UNITS {
            if left >= secs {
                write!(f, "{}{unit}", left / secs)?;
                left %= secs;
            }
        }
        Ok(())
    }
}

impl Instant {
    pub fn from_unix(secs: i64) -> Instant {
        Instant(secs)
    }

    pub fn unix(self) -> i64 {
        self.0
    }

    /// From the system's clock (whole seconds; before 1970 reads as 1970).
    pub fn of_system(t: std::time::SystemTime) -> Instant {
        let secs = t
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Instant(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    /// `2026-12-06T09:00:00Z`, `2026-12-06T10:00:00+01:00`, `2026-12-06` (00:00 UTC), with
    /// fractions of a second allowed (and dropped); nothing else.
    pub fn parse(text: &str) -> Result<Instant, String> {
        let what = |why: &str| {
            format!("{text:?} is not an instant such as 2026-12-31 or 2026-12-31T18:00:00Z (RFC 3339, with Z or an offset): {why}")
        };
        let bytes = text.as_bytes();
        let date = |b: &[u8]| -> Result<(i64, u32, u32), String> {
            if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
                return Err(what("the date is not YYYY-MM-DD"));
            }
            let year = number(&b[0..4]).ok_or_else(|| what("the year is not 4 digits"))?;
            let month = number(&b[5..7]).ok_or_else(|| what("the month is not 2 digits"))?;
            let day = number(&b[8..10]).ok_or_else(|| what("the day is not 2 digits"))?;
            if !(1..=12).contains(&month) {
                return Err(what(&format!("there is no month {month}")));
            }
            if day < 1 || day > days_in_month(year, month) {
                return Err(what(&format!("{year:04}-{month:02} has no day {day}")));
            }
            Ok((i64::from(year), month, day))
        };
        if bytes.len() == 10 {
            let (y, m, d) = date(bytes)?;
            return Ok(Instant(days_from_civil(y, m, d) * 86_400));
        }
        if bytes.len() < 20 || bytes[10] != b'T' {
            return Err(what(
                "a time is THH:MM:SS; end it with Z or an offset such as +08:00",
            ));
        }
        let (y, mo, d) = date(&bytes[..10])?;
        let t = &bytes[11..];
        if t.len() < 9 || t[2] != b':' || t[5] != b':' {
            return Err(what("the time is not HH:MM:SS"));
        }
        let (h, mi, s) = (number(&t[0..2]), number(&t[3..5]), number(&t[6..8]));
        let (Some(h), Some(mi), Some(s)) = (h, mi, s) else {
            return Err(what("the time is not HH:MM:SS"));
        };
        if h > 23 || mi > 59 || s > 59 {
            return Err(what("the time is out of range"));
        }
        let mut rest = &t[8..];
        if rest.first() == Some(&b'.') {
            let digits = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 {
                return Err(what("a fraction of a second needs digits"));
            }
            rest = &rest[1 + digits..];
        }
        let offset: i64 = match rest {
            b"Z" => 0,
            [sign @ (b'+' | b'-'), oh1, oh2, b':', om1, om2] => {
                let (Some(oh), Some(om)) = (number(&[*oh1, *oh2]), number(&[*om1, *om2])) else {
                    return Err(what("the offset is not +HH:MM"));
                };
                if oh > 23 || om > 59 {
                    return Err(what("the offset is out of range"));
                }
                let secs = i64::from(oh * 3600 + om * 60);
                if *sign == b'+' {
                    secs
                } else {
                    -secs
                }
            }
            _ => return Err(what("no zone: end it with Z or an offset such as +08:00")),
        };
        let local = days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s);
        Ok(Instant(local - offset))
    }

    /// The time from `self` to `later` (zero when `later` is not later).
    pub fn until(self, later: Instant) -> Span {
        Span(u64::try_from(later.0.saturating_sub(self.0)).unwrap_or(0))
    }

    pub fn plus(self, span: Span) -> Instant {
        Instant(
            self.0
                .saturating_add(i64::try_from(span.0).unwrap_or(i64::MAX)),
        )
    }

    pub fn minus(self, span: Span) -> Instant {
        Instant(
            self.0
                .saturating_sub(i64::try_from(span.0).unwrap_or(i64::MAX)),
        )
    }

    /// The date alone: `2026-12-06`.
    pub fn date(self) -> String {
        let (y, m, d) = civil_from_days(self.0.div_euclid(86_400));
        format!("{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Display for Instant {
    /// `2026-12-06T09:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.rem_euclid(86_400);
        write!(
            f,
            "{}T{:02}:{:02}:{:02}Z",
            self.date(),
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::core::validated::string(d, "a duration such as 7d or 1w3d", Span::parse)
    }
}

impl JsonSchema for Span {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^([0-9]+[smhdw])+$", "description": "A duration: integers with units s, m, h, d, w (7d, 1w3d, 12h)."})
    }
}

impl Serialize for Instant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::core::validated::string(
            d,
            "an instant such as 2026-12-31 or 2026-12-31T18:00:00Z",
            Instant::parse,
        )
    }
}

impl JsonSchema for Instant {
    fn schema_name() -> Cow<'static, str> {
        "Instant".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?$", "description": "An instant: RFC 3339 with Z or an offset (2026-12-31T18:00:00Z), or a date (2026-12-31, meaning 00:00 UTC)."})
    }
}

/// Whose clock a time was read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    /// The `Date` header of the API's answer: the clock every time rule is judged by.
    Api,
    /// This machine's, because the API sent no `Date` (the plan says so).
    Local,
}

/// "Now", as a project's listing saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Clock {
    pub now: Instant,
    pub source: ClockSource,
}

impl Clock {
    /// "Now" for a listing: the API's `Date` when it sent one, else this machine's `local`
    /// (and the clock says whose it is).
    pub fn of_listing(api_date: Option<Instant>, local: Instant) -> Clock {
        match api_date {
            Some(now) => Clock {
                now,
                source: ClockSource::Api,
            },
            None => Clock {
                now: local,
                source: ClockSource::Local,
            },
        }
    }
}

/// ASCII digits as a number (`None` for anything else).
fn number(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_integers_with_units_and_nothing_else() {
        let good = [
            ("0s", 0),
            ("30s", 30),
            ("15m", 900),
            ("12h", 43_200),
            ("7d", 604_800),
            ("1w", 604_800),
            ("1w3d", 864_000),
            ("2h30m", 9_000),
        ];
        for (text, secs) in good {
            assert_eq!(Span::parse(text), Ok(Span(secs)), "{text}");
        }
        for bad in [
            "",
            "7",
            "7 days",
            "7days",
            "1y",
            "-3d",
            "+3d",
            "3.5d",
            "d",
            "3dd",
            " 3d",
            "3d ",
            "1W",
            "99999999999999999999d",
            "99999999999999w",
        ] {
            assert!(Span::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Span::parse("7")
            .unwrap_err()
            .contains("an integer and a unit"));
    }

    #[test]
    fn durations_print_in_their_largest_units() {
        for (secs, text) in [(0, "0s"), (864_000, "1w3d"), (9_000, "2h30m"), (61, "1m1s")] {
            assert_eq!(Span(secs).to_string(), text);
        }
        assert_eq!(Span(1).days_ceil(), 1);
        assert_eq!(Span(86_400).days_ceil(), 1);
        assert_eq!(Span(86_401).days_ceil(), 2);
    }

    #[test]
    fn instants_are_rfc_3339_with_a_zone_or_a_bare_date_at_utc_midnight() {
        let good = [
            ("1970-01-01", 0),
            ("2026-12-31", 1_798_675_200),
            ("2026-12-31T00:00:00Z", 1_798_675_200),
            ("2026-12-31T08:00:00+08:00", 1_798_675_200),
            ("2026-12-30T19:00:00-05:00", 1_798_675_200),
            ("2022-05-11T11:45:42.000Z", 1_652_269_542),
            ("2024-02-29", 1_709_164_800),
        ];
        for (text, secs) in good {
            assert_eq!(Instant::parse(text), Ok(Instant(secs)), "{text}");
        }
        for bad in [
            "20261231",
            "2026-13-01",
            "2026-02-30",
            "2025-02-29",
            "2026-12-01T10:00",
            "2026-12-01T10:00:00",
            "2026-12-01 10:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T10:00:00+8:00",
            "2026-12-01T10:00:00.Z",
            "26-12-01",
            "tomorrow",
            "",
        ] {
            assert!(Instant::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Instant::parse("2026-12-01T10:00")
            .unwrap_err()
            .contains("end it with Z or an offset"));
    }

    #[test]
    fn instants_print_and_subtract() {
        let t = Instant::parse("2026-12-06T09:05:07Z").unwrap();
        assert_eq!(t.to_string(), "2026-12-06T09:05:07Z");
        assert_eq!(t.date(), "2026-12-06");
        assert_eq!(Instant(-1).to_string(), "1969-12-31T23:59:59Z");
        let later = t.plus(Span(90));
        assert_eq!(t.until(later), Span(90));
        assert_eq!(later.until(t), Span::ZERO);
        assert_eq!(later.minus(Span(90)), t);
        // every day of four centuries round-trips
        for day in (-146_097 * 2..146_097 * 2).step_by(37) {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn a_listing_is_judged_by_the_apis_clock_and_by_this_machines_only_without_one() {
        let api = Instant::parse("2026-12-01T09:00:00Z").unwrap();
        let local = Instant::parse("2026-12-06T10:00:00Z").unwrap();
        assert_eq!(
            Clock::of_listing(Some(api), local),
            Clock {
                now: api,
                source: ClockSource::Api
            }
        );
        assert_eq!(
            Clock::of_listing(None, local),
            Clock {
                now: local,
                source: ClockSource::Local
            }
        );
    }
}
