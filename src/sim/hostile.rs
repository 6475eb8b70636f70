//! Hostile answers the simulator can be told to give, one switch each, so that the tests can
//! prove poolform never believes them: a DELETE answered 204 that leaves the pool in place, a
//! gateway's own 404, a `400 WKS.0001` for a pool that exists, a pool hidden from listings
//! while it still exists, a pool with a
//! malformed field, and error bodies that echo the request's headers (credentials included).

use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// What a malformed field is made to look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Missing,
    Null,
    Object,
    List,
    Number,
    Text,
    Bool,
}

impl Shape {
    fn value(self) -> Option<Value> {
        match self {
            Shape::Missing => None,
            Shape::Null => Some(Value::Null),
            Shape::Object => Some(json!({"injected": true})),
            Shape::List => Some(json!(["injected"])),
            Shape::Number => Some(json!(7)),
            Shape::Text => Some(json!("injected")),
            Shape::Bool => Some(json!(true)),
        }
    }
}

/// One pool's field served malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub pool: String,
    pub field: String,
    pub shape: Shape,
}

impl Malformed {
    /// Parses `POOL_ID:FIELD=SHAPE`, SHAPE one of missing, null, object, list, number, text,
    /// bool.
    pub fn parse(s: &str) -> Result<Malformed, String> {
        let err = || {
            format!("{s:?} is not POOL_ID:FIELD=SHAPE (SHAPE: missing, null, object, list, number, text, bool)")
        };
        let (pool, rest) = s.split_once(':').ok_or_else(err)?;
        let (field, shape) = rest.split_once('=').ok_or_else(err)?;
        let shape = match shape {
            "missing" => Shape::Missing,
            "null" => Shape::Null,
            "object" => Shape::Object,
            "list" => Shape::List,
            "number" => Shape::Number,
            "text" => Shape::Text,
            "bool" => Shape::Bool,
            _ => return Err(err()),
        };
        if pool.is_empty() || field.is_empty() {
            return Err(err());
        }
        Ok(Malformed {
            pool: pool.to_owned(),
            field: field.to_owned(),
            shape,
        })
    }
}

/// The switches; all off by default. Tests may change them while the simulator runs.
#[derive(Debug, Clone, Default)]
pub struct Hostile {
    /// DELETE of these pools answers 204 and leaves the pool in place.
    pub ghost_delete: Vec<String>,
    /// DELETE of these pools answers the gateway's `404 APIGW.0101` ("the API does not exist").
    pub gateway_404: Vec<String>,
    /// DELETE of these pools answers `400 WKS.0001` ("does not exist") while the pool exists.
    pub false_absent: Vec<String>,
    /// These pools are left out of every listing (and its count), though they exist.
    pub hide_from_list: Vec<String>,
    /// Fields served malformed, in listings and reads.
    pub malformed: Vec<Malformed>,
    /// Error bodies carry the request's headers in `error_detail`, as a careless gateway might.
    pub echo_headers: bool,
}

impl Hostile {
    pub fn hidden(&self, pool: &Map<String, Value>) -> bool {
        !self.hide_from_list.is_empty()
            && pool["id"]
                .as_str()
                .is_some_and(|id| self.hide_from_list.iter().any(|h| h == id))
    }

    /// The pool as it is served: with any malformed field applied.
    pub fn served<'a>(&self, pool: &'a Map<String, Value>) -> Cow<'a, Map<String, Value>> {
        if self.malformed.is_empty() {
            return Cow::Borrowed(pool);
        }
        let id = pool["id"].as_str().unwrap_or_default();
        let mut out = Cow::Borrowed(pool);
        for m in self.malformed.iter().filter(|m| m.pool == id) {
            let p = out.to_mut();
            match m.shape.value() {
                Some(v) => {
                    p.insert(m.field.clone(), v);
                }
                None => {
                    p.remove(&m.field);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_switches_parse_and_apply() {
        let m = Malformed::parse("p-1:name=object").unwrap();
        assert_eq!(
            (m.pool.as_str(), m.field.as_str(), m.shape),
            ("p-1", "name", Shape::Object)
        );
        for bad in [
            "p-1",
            "p-1:name",
            "p-1:name=weird",
            ":name=null",
            "p-1:=null",
        ] {
            assert!(Malformed::parse(bad).is_err(), "{bad}");
        }
        let h = Hostile {
            malformed: vec![m, Malformed::parse("p-1:tags=missing").unwrap()],
            ..Hostile::default()
        };
        let pool: Map<String, Value> =
            serde_json::from_value(json!({"id": "p-1", "name": "n", "tags": []})).unwrap();
        let served = h.served(&pool);
        assert_eq!(served["name"], json!({"injected": true}));
        assert!(!served.contains_key("tags"));
        let other: Map<String, Value> =
            serde_json::from_value(json!({"id": "p-2", "name": "n"})).unwrap();
        assert!(matches!(h.served(&other), Cow::Borrowed(_)));
    }
}
