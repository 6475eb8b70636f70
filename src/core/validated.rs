//! Deserializing scalars through a check, raising the error inside the deserializer so that
//! serde_yaml pins it to the scalar's own line and column.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::marker::PhantomData;

struct StrCheck<T> {
    expecting: &'static str,
    check: fn(&str) -> Result<T, String>,
}

impl<T> Visitor<'_> for StrCheck<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        (self.check)(s).map_err(E::custom)
    }
}

/// A string scalar that must pass `check`.
pub fn string<'de, D: Deserializer<'de>, T>(
    d: D,
    expecting: &'static str,
    check: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    d.deserialize_str(StrCheck { expecting, check })
}

struct IntCheck<T> {
    expecting: &'static str,
    check: fn(i64) -> Result<T, String>,
    _t: PhantomData<T>,
}

impl<T> Visitor<'_> for IntCheck<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        (self.check)(v).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            Err(_) => Err(E::custom(format!("{v} is too large"))),
        }
    }
}

/// An integer scalar that must pass `check`.
pub fn integer<'de, D: Deserializer<'de>, T>(
    d: D,
    expecting: &'static str,
    check: fn(i64) -> Result<T, String>,
) -> Result<T, D::Error> {
    d.deserialize_i64(IntCheck {
        expecting,
        check,
        _t: PhantomData,
    })
}

struct NumberCheck<T> {
    expecting: &'static str,
    check: fn(f64) -> Result<T, String>,
}

impl<T> Visitor<'_> for NumberCheck<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        (self.check)(v).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.visit_f64(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.visit_f64(v as f64)
    }
}

/// A number scalar (integer or decimal) that must pass `check`.
pub fn number<'de, D: Deserializer<'de>, T>(
    d: D,
    expecting: &'static str,
    check: fn(f64) -> Result<T, String>,
) -> Result<T, D::Error> {
    d.deserialize_f64(NumberCheck { expecting, check })
}
