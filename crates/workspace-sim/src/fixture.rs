//! Simulator fixtures: `{"project_id": ..., "pools": [SimpleDesktopPoolInfo...]}` in JSON or YAML,
//! with plausible defaults for absent fields.

use poolform::core::model::{PoolId, ProjectId};
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// A parsed, validated fixture: every pool has every field the API would send.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub project_id: ProjectId,
    pub pools: Vec<Map<String, Value>>,
    /// `clock_at`: where the simulator's clock stands still while it serves this fixture
    /// (unless `--clock-at` or `--clock-offset` says otherwise), so that what is planned from
    /// it does not change from day to day.
    pub clock_at: Option<poolform::core::time::Instant>,
}

#[derive(Debug, thiserror::Error)]
#[error("fixture {source_name}: {message}")]
pub struct FixtureError {
    pub source_name: String,
    pub message: String,
}

impl Fixture {
    /// Reads each pool's relative `created_time` (`now-3d`) against `clock`, once.
    pub fn resolve_times(&mut self, clock: &crate::clock::SimClock) -> Result<(), String> {
        for pool in &mut self.pools {
            if let Some(Value::String(t)) = pool.get("created_time") {
                let resolved = clock.resolve(t)?;
                pool.insert("created_time".into(), Value::String(resolved));
            }
        }
        Ok(())
    }
}

/// A deterministic UUID-shaped id for the `index`-th generated pool.
pub fn synthetic_id(index: u64) -> String {
    let h = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5bd1_e995;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (h >> 32) as u32,
        (h >> 16) as u16,
        index & 0xfff,
        (index >> 12) & 0xfff,
        index
    )
}

/// Fills absent fields of one pool with plausible values.
pub fn with_defaults(mut pool: Map<String, Value>, index: u64) -> Map<String, Value> {
    let id = pool
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| synthetic_id(index));
    let defaults = json!({
        "id": id,
        "name": format!("pool-{index}"),
        "description": "",
        "type": "DYNAMIC",
        "status": "STEADY",
        "created_time": "2026-01-05T08:00:00.000Z",
        "charging_mode": "1",
        "desktop_count": 0,
        "desktop_used": 0,
        "availability_zone": "cn-north-4a",
        "subnet_ids": ["5b4ac8f5-4b6c-4c22-9d31-4f1a4c4c0f11"],
        "vpc_id": "a5d4a1e2-8d2a-4b7e-9a56-1c0e7d0e6f01",
        "image_id": "a8b3b4c1-3f2c-4a0e-8f6e-2d6c1b9a0e77",
        "image_name": "Windows Server 2022 Datacenter",
        "image_os_type": "Windows",
        "image_os_platform": "Windows",
        "enterprise_project_id": "0",
        "product": {"product_id": "workspace.x86.ultimate.large2", "flavor_id": "workspace.x86.ultimate.large2", "type": "BASE", "cpu": "2", "memory": "4096", "architecture": "x86", "is_gpu": false},
        "root_volume": {"type": "SAS", "size": 80},
        "data_volumes": [],
        "security_groups": [],
        "tags": [],
        "disconnected_retention_period": 10,
        "enable_autoscale": false,
        "in_maintenance_mode": false
    });
    if let Value::Object(defaults) = defaults {
        for (k, v) in defaults {
            pool.entry(k).or_insert(v);
        }
    }
    pool
}

impl Fixture {
    /// `count` pools with defaults; every `desktops_every`-th pool holds 2 desktops.
    pub fn generated(
        project_id: ProjectId,
        count: u64,
        name_prefix: &str,
        desktops_every: Option<u64>,
    ) -> Fixture {
        let pools = (0..count)
            .map(|i| {
                let mut m = Map::new();
                m.insert("name".into(), json!(format!("{name_prefix}{i:05}")));
                if desktops_every.is_some_and(|n| n > 0 && i % n == 0) {
                    m.insert("desktop_count".into(), json!(2));
                    m.insert("desktop_used".into(), json!(1));
                }
                with_defaults(m, i)
            })
            .collect();
        Fixture {
            project_id,
            pools,
            clock_at: None,
        }
    }

    /// Parses JSON or YAML and checks what the simulator relies on.
    pub fn parse(text: &str, source_name: &str) -> Result<Fixture, FixtureError> {
        let err = |message: String| FixtureError {
            source_name: source_name.to_owned(),
            message,
        };
        if text.trim().is_empty() {
            return Err(err(
                "the file is empty; expected project_id and pools".into()
            ));
        }
        let value: Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| err(format!("invalid JSON: {e}")))?
        } else {
            serde_yaml::from_str(text).map_err(|e| err(format!("invalid YAML: {e}")))?
        };
        let Value::Object(mut top) = value else {
            return Err(err("expected an object with project_id and pools".into()));
        };
        if let Some(key) = top
            .keys()
            .find(|k| !["project_id", "pools", "clock_at"].contains(&k.as_str()))
        {
            return Err(err(format!(
                "unknown key {key:?}; expected project_id, pools and clock_at"
            )));
        }
        let clock_at = match top.remove("clock_at") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => Some(
                poolform::core::time::Instant::parse(&t)
                    .map_err(|e| err(format!("clock_at: {e}")))?,
            ),
            Some(_) => {
                return Err(err(
                    "clock_at must be an instant such as 2026-12-01T09:00:00Z".into(),
                ))
            }
        };
        let project_id = match top.remove("project_id") {
            Some(Value::String(s)) => {
                ProjectId::parse(&s).map_err(|e| err(format!("project_id {s:?} {e}")))?
            }
            _ => return Err(err("project_id is missing or not a string".into())),
        };
        let items = match top.remove("pools") {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => Vec::new(),
            Some(_) => return Err(err("pools must be a list".into())),
        };
        let mut seen = HashSet::new();
        let mut pools = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let at = |m: String| err(format!("pool #{}: {m}", i + 1));
            let Value::Object(pool) = item else {
                return Err(at("expected an object".into()));
            };
            check_field_types(&pool).map_err(at)?;
            let pool = with_defaults(pool, i as u64);
            let id = pool["id"].as_str().unwrap_or_default().to_owned();
            PoolId::parse(&id).map_err(|e| at(format!("id {id:?} {e}")))?;
            if !seen.insert(id.clone()) {
                return Err(at(format!("duplicate id {id:?}")));
            }
            pools.push(pool);
        }
        Ok(Fixture {
            project_id,
            pools,
            clock_at,
        })
    }
}

fn check_field_types(pool: &Map<String, Value>) -> Result<(), String> {
    for key in [
        "id",
        "name",
        "type",
        "status",
        "created_time",
        "enterprise_project_id",
        "description",
    ] {
        if let Some(v) = pool.get(key) {
            if !v.is_string() {
                return Err(format!("{key} must be a string"));
            }
        }
    }
    for key in ["desktop_count", "desktop_used"] {
        if let Some(v) = pool.get(key) {
            if v.as_u64().is_none() {
                return Err(format!("{key} must be a non-negative integer"));
            }
        }
    }
    if let Some(t) = pool.get("type").and_then(Value::as_str) {
        if t != "DYNAMIC" && t != "STATIC" {
            return Err(format!("type {t:?} must be DYNAMIC or STATIC"));
        }
    }
    if let Some(tags) = pool.get("tags") {
        let ok = tags
            .as_array()
            .is_some_and(|a| a.iter().all(|t| t.get("key").is_some_and(Value::is_string)));
        if !ok {
            return Err("tags must be a list of {key, value}".into());
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_fixtures_get_defaults() {
        let json = r#"{"project_id": "p1", "pools": [{"id": "a-1", "name": "ci-a", "desktop_count": 2}, {"name": "nameless-id"}]}"#;
        let yaml = "project_id: p1\npools:\n  - id: a-1\n    name: ci-a\n    desktop_count: 2\n  - name: nameless-id\n";
        for (text, name) in [(json, "f.json"), (yaml, "f.yaml")] {
            let f = Fixture::parse(text, name).unwrap();
            assert_eq!(f.project_id.as_str(), "p1");
            assert_eq!(f.pools.len(), 2);
            assert_eq!(f.pools[0]["status"], "STEADY");
            assert_eq!(f.pools[0]["desktop_count"], 2);
            assert!(PoolId::parse(f.pools[1]["id"].as_str().unwrap()).is_ok());
        }
    }

    #[test]
    fn malformed_fixtures_are_clear_errors() {
        let cases = [
            ("", "the file is empty"),
            ("pools: []", "project_id is missing"),
            ("[]", "expected an object"),
            ("{", "invalid JSON"),
            ("project_id: p1\nextra: 1", "unknown key \"extra\""),
            ("project_id: ../x", "contains '.'"),
            ("project_id: p1\npools: 3", "pools must be a list"),
            (
                "project_id: p1\npools: [{id: a/b}]",
                "pool #1: id \"a/b\" contains '/'",
            ),
            (
                "project_id: p1\npools: [{id: a}, {id: a}]",
                "pool #2: duplicate id",
            ),
            (
                "project_id: p1\npools: [{desktop_count: -1}]",
                "desktop_count must be",
            ),
            (
                "project_id: p1\npools: [{type: BIG}]",
                "must be DYNAMIC or STATIC",
            ),
            ("project_id: p1\npools: [{tags: [1]}]", "tags must be"),
            ("project_id: p1\npools: [7]", "pool #1: expected an object"),
        ];
        for (text, want) in cases {
            let e = Fixture::parse(text, "fx.yaml").unwrap_err().to_string();
            assert!(e.starts_with("fixture fx.yaml: "), "{e}");
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn synthetic_ids_are_valid_and_distinct() {
        let ids: HashSet<String> = (0..10_000).map(synthetic_id).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids
            .iter()
            .all(|id| PoolId::parse(id).is_ok() && id.len() == 36));
    }
}
