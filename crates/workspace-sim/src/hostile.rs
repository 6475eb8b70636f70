//! Hostile answers the simulator can be told to give, one switch each, so that the tests can
//! prove poolform never believes them: a DELETE answered 204 that leaves the pool in place, a
//! gateway's own 404, a `400 WKS.0001` for a pool that exists, a pool hidden from listings
//! while it still exists, a pool with a
//! malformed field, error bodies that echo the request's headers (credentials included) or
//! carry a hostile message, and listings flooded with pages built to cost memory.

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

/// A list page built to cost a decoder memory: each is just under the 8 MiB page cap and
/// claims a million pools, so a client would page on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flood {
    /// 1,000 pools with 64 tags each, every key and value unique.
    Tags,
    /// 1,000 pools with 8 KiB names, each unique.
    Names,
    /// 8 MiB of tiny values (`0,0,0,...`) in a field poolform does not know.
    Values,
}

/// Makes each flood tag's key and value long enough that 64,000 of them fill a page.
const PAD: &str = "-------------------------------------------";

/// The most bytes a flood page holds (the client's page cap is 8 MiB).
const FLOOD_BYTES: usize = 8 * 1024 * 1024 - 4096;

impl Flood {
    pub fn parse(s: &str) -> Result<Flood, String> {
        match s {
            "tags" => Ok(Flood::Tags),
            "names" => Ok(Flood::Names),
            "values" => Ok(Flood::Values),
            _ => Err(format!("{s:?} is not tags, names or values")),
        }
    }

    /// The page's body.
    pub fn body(self) -> Vec<u8> {
        let pools: Vec<String> = match self {
            Flood::Tags => (0..1000u64)
                .map(|p| {
                    let tags: Vec<String> = (0..64u64)
                        .map(|t| {
                            let n = p * 64 + t;
                            format!("{{\"key\":\"k{n:09}{PAD}\",\"value\":\"v{n:09}{PAD}\"}}")
                        })
                        .collect();
                    format!(
                        "{{\"id\":\"p{p}\",\"name\":\"n{p}\",\"desktop_count\":0,\"tags\":[{}]}}",
                        tags.join(",")
                    )
                })
                .collect(),
            Flood::Names => (0..1000u64)
                .map(|p| {
                    format!(
                        "{{\"id\":\"p{p}\",\"name\":\"{}{p:04}\",\"desktop_count\":0}}",
                        "n".repeat(8000)
                    )
                })
                .collect(),
            Flood::Values => {
                let head = "{\"total_count\":1000000,\"junk\":[";
                let tail = "],\"desktop_pools\":[]}";
                let zeros = (FLOOD_BYTES - head.len() - tail.len()).div_ceil(2);
                let mut body = String::with_capacity(FLOOD_BYTES);
                body.push_str(head);
                body.push_str(&vec!["0"; zeros].join(","));
                body.push_str(tail);
                return body.into_bytes();
            }
        };
        format!(
            "{{\"total_count\":1000000,\"desktop_pools\":[{}]}}",
            pools.join(",")
        )
        .into_bytes()
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
    /// Every error body's `error_msg` is this text (control characters and all).
    pub error_message: Option<String>,
    /// Every list request is answered with this flood page.
    pub flood: Option<Flood>,
    /// Listings leave every pool's `tags` out (a read of the pool still has them).
    pub omit_list_tags: bool,
    /// Every error body's `error_msg` is padded to this many bytes.
    pub error_body_bytes: Option<usize>,
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
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[test]
    fn malformed_switches_parse_and_apply() {
        let m = Malformed::parse("p-1:name=object").unwrap();
        assert_eq!(
            (m.pool.as_str(), m.field.as_str(), m.shape),
            ("p-1", "name", Shape::Object)
        );
        for (kind, name) in [
            (Flood::Tags, "tags"),
            (Flood::Names, "names"),
            (Flood::Values, "values"),
        ] {
            assert_eq!(Flood::parse(name), Ok(kind));
            let body = kind.body();
            assert!(
                (7 * 1024 * 1024..=FLOOD_BYTES).contains(&body.len()),
                "{name}: {} bytes",
                body.len()
            );
            let page: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(page["total_count"], 1_000_000, "{name}");
        }
        assert!(Flood::parse("huge").is_err());
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
