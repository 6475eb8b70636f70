//! Response bodies of the Workspace API, read leniently into the model.
//!
//! Every `SimpleDesktopPoolInfo` field may be absent and unknown fields are ignored, but a pool
//! without a usable id makes the whole response unusable: poolform never plans from a listing
//! it could not read completely.

use crate::model::{Pool, PoolDesktop, PoolId, Tag};
use serde_json::{Map, Value};

/// One page of the pool listing.
#[derive(Debug)]
pub struct Page {
    pub total_count: u64,
    pub pools: Vec<Pool>,
}

fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn count(obj: &Map<String, Value>, key: &str) -> u64 {
    match obj.get(key) {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn flag(obj: &Map<String, Value>, key: &str) -> bool {
    match obj.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Reads one `SimpleDesktopPoolInfo`.
pub fn pool_from_json(value: &Value) -> Result<Pool, String> {
    let obj = value
        .as_object()
        .ok_or_else(|| format!("expected an object, got {}", kind(value)))?;
    let raw_id = match obj.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(format!("its id is {}, not a string", kind(other))),
        None => return Err("it has no id".into()),
    };
    let id = PoolId::parse(&raw_id).map_err(|e| format!("its id {raw_id:?} {e}"))?;
    let tags = match obj.get("tags") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|t| {
                Some(Tag {
                    key: text(t, "key")?,
                    value: text(t, "value").unwrap_or_default(),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let flavor_id = obj
        .get("product")
        .and_then(Value::as_object)
        .and_then(|p| text(p, "flavor_id"));
    Ok(Pool {
        id,
        name: text(obj, "name").unwrap_or_default(),
        pool_type: text(obj, "type"),
        status: text(obj, "status"),
        created_time: text(obj, "created_time"),
        desktop_count: count(obj, "desktop_count"),
        desktop_used: count(obj, "desktop_used"),
        enterprise_project_id: text(obj, "enterprise_project_id"),
        availability_zone: text(obj, "availability_zone"),
        image_id: text(obj, "image_id"),
        flavor_id,
        charging_mode: text(obj, "charging_mode"),
        description: text(obj, "description"),
        tags,
        in_maintenance_mode: flag(obj, "in_maintenance_mode"),
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn object(body: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!("expected a JSON object, got {}", kind(&other))),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

/// Reads `{"total_count": n, "desktop_pools": [...]}`.
pub fn page_from_body(body: &[u8]) -> Result<Page, String> {
    let obj = object(body)?;
    let total_count = obj
        .get("total_count")
        .and_then(Value::as_u64)
        .ok_or("total_count is missing or not a non-negative integer")?;
    let items = match obj.get("desktop_pools") {
        Some(Value::Array(items)) => items.as_slice(),
        None | Some(Value::Null) => &[],
        Some(other) => return Err(format!("desktop_pools is {}, not an array", kind(other))),
    };
    let pools = items
        .iter()
        .enumerate()
        .map(|(i, v)| pool_from_json(v).map_err(|e| format!("pool #{} of the page: {e}", i + 1)))
        .collect::<Result<_, _>>()?;
    Ok(Page { total_count, pools })
}

/// Reads a flat `SimpleDesktopPoolInfo` (the show route).
pub fn pool_from_body(body: &[u8]) -> Result<Pool, String> {
    pool_from_json(&Value::Object(object(body)?))
}

/// Reads `{"total_count": n, "pool_desktops": [...]}`.
pub fn desktops_from_body(body: &[u8]) -> Result<(u64, Vec<PoolDesktop>), String> {
    let obj = object(body)?;
    let items = match obj.get("pool_desktops") {
        Some(Value::Array(items)) => items.as_slice(),
        _ => &[],
    };
    let desktops: Vec<PoolDesktop> = items
        .iter()
        .filter_map(Value::as_object)
        .map(|d| PoolDesktop {
            desktop_id: text(d, "desktop_id").unwrap_or_default(),
            computer_name: text(d, "computer_name").unwrap_or_default(),
            user_name: text(d, "user_name").unwrap_or_default(),
            status: text(d, "status").unwrap_or_default(),
        })
        .collect();
    let total = obj
        .get("total_count")
        .and_then(Value::as_u64)
        .unwrap_or(desktops.len() as u64);
    Ok((total, desktops))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    #[test]
    fn a_sparse_pool_gets_defaults_and_unknown_fields_are_ignored() {
        let p =
            pool_from_json(&serde_json::json!({"id": "p-1", "future_field": {"x": 1}})).unwrap();
        assert_eq!(p, Pool::new(PoolId::parse("p-1").unwrap(), ""));
    }

    #[test]
    fn a_full_pool_is_read() {
        let p = pool_from_json(&serde_json::json!({
            "id": "p-1", "name": "ci-a", "type": "STATIC", "status": "STEADY",
            "created_time": "2022-05-11T11:45:42.000Z", "desktop_count": "3", "desktop_used": 2,
            "enterprise_project_id": "0", "product": {"flavor_id": "workspace.x86.ultimate.large2"},
            "tags": [{"key": "env", "value": "prod"}, {"value": "no key"}], "in_maintenance_mode": true
        }))
        .unwrap();
        assert_eq!(p.desktop_count, 3);
        assert_eq!(p.desktop_used, 2);
        assert_eq!(
            p.flavor_id.as_deref(),
            Some("workspace.x86.ultimate.large2")
        );
        assert_eq!(p.tag("env"), Some("prod"));
        assert_eq!(p.tags.len(), 1);
        assert!(p.in_maintenance_mode);
    }

    #[test]
    fn unusable_bodies_are_errors_not_panics() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"total_count": 1, "desktop_pools": [{"name": "x"}]}"#,
                "pool #1 of the page: it has no id",
            ),
            (
                r#"{"total_count": 1, "desktop_pools": [{"id": "../../x"}]}"#,
                "contains '.'",
            ),
            (
                r#"{"total_count": 1, "desktop_pools": [{"id": 7}]}"#,
                "not a string",
            ),
            (
                r#"{"total_count": 1, "desktop_pools": [3]}"#,
                "expected an object",
            ),
            (r#"{"desktop_pools": []}"#, "total_count is missing"),
            (
                r#"{"total_count": -1, "desktop_pools": []}"#,
                "total_count is missing",
            ),
            (r#"{"total_count": 1, "desktop_pools": {}}"#, "not an array"),
            (
                r#"{"total_count": 1, "desktop_pools": [{"id": "a"}"#,
                "invalid JSON",
            ),
            ("[]", "expected a JSON object"),
            ("<html>", "invalid JSON"),
        ];
        for (body, want) in cases {
            let err = page_from_body(body.as_bytes()).unwrap_err();
            assert!(err.contains(want), "{body}: {err}");
        }
    }

    proptest::proptest! {
        /// Whatever the network sends, reading it never panics.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = page_from_body(&bytes);
            let _ = pool_from_body(&bytes);
            let _ = desktops_from_body(&bytes);
            let _ = crate::api::ErrorBody::parse(&bytes);
        }

        /// Nor does JSON of the right outline with values of any type in any field.
        #[test]
        fn arbitrary_field_values_never_panic(
            id in proptest::prop_oneof![proptest::strategy::Just("\"p-1\"".to_owned()), "[ -~]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()), proptest::strategy::Just("7".to_owned()), proptest::strategy::Just("null".to_owned())],
            value in proptest::prop_oneof![proptest::strategy::Just("-1".to_owned()), proptest::strategy::Just("1e400".to_owned()), proptest::strategy::Just("\"3\"".to_owned()), proptest::strategy::Just("[]".to_owned()), proptest::strategy::Just("{}".to_owned()), proptest::strategy::Just("true".to_owned())],
            total in proptest::prop_oneof![proptest::strategy::Just("1".to_owned()), proptest::strategy::Just("-1".to_owned()), proptest::strategy::Just("18446744073709551616".to_owned()), proptest::strategy::Just("\"x\"".to_owned())],
        ) {
            let body = format!(
                r#"{{"total_count": {total}, "desktop_pools": [{{"id": {id}, "name": {value}, "desktop_count": {value}, "tags": {value}, "product": {value}, "in_maintenance_mode": {value}}}]}}"#
            );
            let _ = page_from_body(body.as_bytes());
            let desktops = format!(r#"{{"total_count": {total}, "pool_desktops": [{{"desktop_id": {value}}}, {value}]}}"#);
            let _ = desktops_from_body(desktops.as_bytes());
        }
    }
}
