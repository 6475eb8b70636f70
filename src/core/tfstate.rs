//! Terraform and OpenTofu state, read only for what keeping needs: every managed
//! `huaweicloud_workspace_desktop_pool` instance's id and address. A state version 4 file
//! (`terraform state pull`) or `terraform show -json` output; anything else is refused, never
//! skipped. No attribute but `id` is ever kept (states hold secrets). Pure: no I/O.

use crate::core::model::PoolId;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// The resource type whose instances are kept.
pub const POOL_RESOURCE: &str = "huaweicloud_workspace_desktop_pool";

/// A state file larger than this is refused.
pub const MAX_STATE_BYTES: u64 = 64 * 1024 * 1024;

/// A pool a state manages: its id, and its address in the state
/// (`module.x.huaweicloud_workspace_desktop_pool.y["k"]`, tainted or deposed said).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPool {
    pub id: PoolId,
    pub address: String,
}

/// Where a kept pool is managed: its address, and the state file that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedBy {
    pub address: String,
    pub file: String,
}

/// The pools one state file manages, by id (its first instance of an id names it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateKeeps(std::collections::HashMap<PoolId, ManagedBy>);

impl StateKeeps {
    /// What the state `file` keeps of `pools`.
    pub fn of(file: &str, pools: &[ManagedPool]) -> StateKeeps {
        let mut by_id = std::collections::HashMap::with_capacity(pools.len());
        for p in pools {
            by_id.entry(p.id.clone()).or_insert_with(|| ManagedBy {
                address: p.address.clone(),
                file: file.to_owned(),
            });
        }
        StateKeeps(by_id)
    }
}

/// The pools a project's states manage: each state's keeps, read once and shared by every
/// project it applies to (the first state to name a pool names it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Managed {
    states: Vec<Arc<StateKeeps>>,
}

impl Managed {
    /// Adds a state's keeps (after those already added).
    pub fn add(&mut self, state: Arc<StateKeeps>) {
        self.states.push(state);
    }

    pub fn get(&self, id: &PoolId) -> Option<&ManagedBy> {
        self.states.iter().find_map(|s| s.0.get(id))
    }

    /// Every pool the states manage (each once, as the first state names it), sorted by
    /// address.
    pub fn all(&self) -> Vec<(&PoolId, &ManagedBy)> {
        let mut all: Vec<_> = self
            .states
            .iter()
            .flat_map(|s| s.0.iter())
            .filter(|(id, by)| self.get(id) == Some(*by))
            .collect();
        all.sort_by(|a, b| (&a.1.address, a.0).cmp(&(&b.1.address, b.0)));
        all
    }
}

/// Why a state is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("it is not valid JSON ({0})")]
    Json(String),
    #[error("it is a state of version {0}; poolform reads state version 4 and `terraform show -json` output (format 1.x)")]
    Version(u64),
    #[error(
        "its format_version is {0:?}; poolform reads `terraform show -json` output of format 1.x"
    )]
    FormatVersion(String),
    #[error("it is an encrypted OpenTofu state; give poolform `tofu show -json` output instead")]
    Encrypted,
    #[error("it is neither a Terraform state (`version`, `resources`) nor `terraform show -json` output (`format_version`, `values`)")]
    NotAState,
    #[error("{address} has no id that is a pool id ({why})")]
    BadId { address: String, why: String },
}

/// The top level of either shape, read in one pass.
#[derive(Deserialize)]
struct AnyState {
    #[serde(default)]
    version: Option<Value>,
    #[serde(default)]
    format_version: Option<Value>,
    #[serde(default)]
    encrypted_data: Option<IgnoredAny>,
    #[serde(default)]
    resources: Option<Vec<StateResource>>,
    #[serde(default)]
    values: Option<ShowValues>,
}

/// A resource of a state version 4.
#[derive(Deserialize)]
struct StateResource {
    #[serde(default)]
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(default)]
    instances: Vec<StateInstance>,
}

#[derive(Deserialize)]
struct StateInstance {
    #[serde(default)]
    index_key: Option<Value>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    deposed: Option<String>,
    #[serde(default)]
    attributes: Option<Attributes>,
}

/// Of every attribute, only the id.
#[derive(Deserialize)]
struct Attributes {
    #[serde(default)]
    id: Option<Value>,
}

#[derive(Deserialize)]
struct ShowValues {
    #[serde(default)]
    root_module: Option<ShowModule>,
}

#[derive(Deserialize)]
struct ShowModule {
    #[serde(default)]
    resources: Vec<ShowResource>,
    #[serde(default)]
    child_modules: Vec<ShowModule>,
}

#[derive(Deserialize)]
struct ShowResource {
    address: String,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    deposed_key: Option<String>,
    #[serde(default)]
    tainted: Option<bool>,
    #[serde(default)]
    values: Option<Attributes>,
}

/// The pools `text` (a state, or `show -json` output) manages; a valid empty state manages
/// none.
pub fn managed_pools(text: &[u8]) -> Result<Vec<ManagedPool>, StateError> {
    // An object, or nothing: serde would read a list as the fields in order.
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => return Err(StateError::Json("the file is empty".into())),
        Some(_) => {
            return Err(match serde_json::from_slice::<IgnoredAny>(text) {
                Ok(_) => StateError::NotAState,
                Err(e) => StateError::Json(e.to_string()),
            })
        }
    }
    let state: AnyState = serde_json::from_slice(text).map_err(|e| {
        StateError::Json(if e.is_eof() {
            format!("truncated at line {} column {}", e.line(), e.column())
        } else {
            e.to_string()
        })
    })?;
    if state.encrypted_data.is_some() && state.resources.is_none() {
        return Err(StateError::Encrypted);
    }
    if let Some(version) = &state.version {
        return match version.as_u64() {
            Some(4) => from_state(state.resources.unwrap_or_default()),
            Some(other) => Err(StateError::Version(other)),
            None => Err(StateError::NotAState),
        };
    }
    if let Some(format) = &state.format_version {
        let text = format.as_str().unwrap_or_default();
        if text.split('.').next() != Some("1") {
            return Err(StateError::FormatVersion(
                format
                    .as_str()
                    .map_or_else(|| format.to_string(), str::to_owned),
            ));
        }
        let mut out = Vec::new();
        if let Some(root) = state.values.and_then(|v| v.root_module) {
            from_module(root, &mut out)?;
        }
        return Ok(out);
    }
    Err(StateError::NotAState)
}

fn from_state(resources: Vec<StateResource>) -> Result<Vec<ManagedPool>, StateError> {
    let mut out = Vec::new();
    for r in resources {
        if r.mode != "managed" || r.kind != POOL_RESOURCE {
            continue;
        }
        let base = match &r.module {
            Some(m) if !m.is_empty() => format!("{m}.{}.{}", r.kind, r.name),
            _ => format!("{}.{}", r.kind, r.name),
        };
        for i in r.instances {
            let mut address = base.clone();
            match &i.index_key {
                Some(Value::Number(n)) => address.push_str(&format!("[{n}]")),
                Some(Value::String(k)) => address.push_str(&format!("[{k:?}]")),
                _ => {}
            }
            if i.status.as_deref() == Some("tainted") {
                address.push_str(" (tainted)");
            }
            if let Some(d) = &i.deposed {
                address.push_str(&format!(" (deposed {d})"));
            }
            let id = i.attributes.and_then(|a| a.id);
            out.push(managed(address, id)?);
        }
    }
    Ok(out)
}

fn from_module(module: ShowModule, out: &mut Vec<ManagedPool>) -> Result<(), StateError> {
    // Depth is bounded by the JSON reader's recursion limit.
    for r in module.resources {
        if r.mode != "managed" || r.kind != POOL_RESOURCE {
            continue;
        }
        let mut address = r.address;
        if r.tainted == Some(true) {
            address.push_str(" (tainted)");
        }
        if let Some(d) = &r.deposed_key {
            address.push_str(&format!(" (deposed {d})"));
        }
        out.push(managed(address, r.values.and_then(|v| v.id))?);
    }
    for child in module.child_modules {
        from_module(child, out)?;
    }
    Ok(())
}

fn managed(address: String, id: Option<Value>) -> Result<ManagedPool, StateError> {
    let text = match id {
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(StateError::BadId {
                address,
                why: format!("its id is {}", kind_of(&other)),
            })
        }
        None => {
            return Err(StateError::BadId {
                address,
                why: "it has none".into(),
            })
        }
    };
    let id = PoolId::parse(&text).map_err(|e| StateError::BadId {
        address: address.clone(),
        why: format!("{:?} {e}", crate::core::escape::visible(&text)),
    })?;
    Ok(ManagedPool { id, address })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<(String, String)> {
        managed_pools(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|m| (m.id.to_string(), m.address))
            .collect()
    }

    #[test]
    fn a_state_v4_keeps_every_managed_instance_and_nothing_else() {
        let state = r#"{"version": 4, "terraform_version": "1.9.0", "serial": 3, "lineage": "x",
          "outputs": {"secret": {"value": "hunter2"}},
          "resources": [
            {"mode": "managed", "type": "huaweicloud_workspace_desktop_pool", "name": "one",
             "instances": [{"attributes": {"id": "pool-1", "password": "hunter2"}}]},
            {"module": "module.lab.module.inner", "mode": "managed",
             "type": "huaweicloud_workspace_desktop_pool", "name": "many",
             "instances": [{"index_key": 0, "attributes": {"id": "pool-2"}},
                           {"index_key": "eu", "status": "tainted", "attributes": {"id": "pool-3"}},
                           {"index_key": 1, "deposed": "00ab", "attributes": {"id": "pool-4"}}]},
            {"mode": "data", "type": "huaweicloud_workspace_desktop_pool", "name": "all",
             "instances": [{"attributes": {"id": "pool-5"}}]},
            {"mode": "managed", "type": "huaweicloud_vpc", "name": "net",
             "instances": [{"attributes": {"id": "vpc-1"}}]}
          ]}"#;
        assert_eq!(
            ids(state),
            [
                ("pool-1".into(), "huaweicloud_workspace_desktop_pool.one".into()),
                ("pool-2".into(), "module.lab.module.inner.huaweicloud_workspace_desktop_pool.many[0]".into()),
                ("pool-3".into(), "module.lab.module.inner.huaweicloud_workspace_desktop_pool.many[\"eu\"] (tainted)".into()),
                ("pool-4".into(), "module.lab.module.inner.huaweicloud_workspace_desktop_pool.many[1] (deposed 00ab)".into()),
            ]
        );
    }

    #[test]
    fn show_json_is_walked_through_nested_modules() {
        let shown = r#"{"format_version": "1.0", "terraform_version": "1.9.0", "values": {"root_module": {
          "resources": [{"address": "huaweicloud_workspace_desktop_pool.a", "mode": "managed",
                         "type": "huaweicloud_workspace_desktop_pool", "name": "a", "values": {"id": "p-a"}}],
          "child_modules": [{"address": "module.m", "resources": [], "child_modules": [
             {"address": "module.m.module.n", "resources": [
               {"address": "module.m.module.n.huaweicloud_workspace_desktop_pool.b[\"k\"]", "mode": "managed",
                "type": "huaweicloud_workspace_desktop_pool", "name": "b", "index": "k", "values": {"id": "p-b"}},
               {"address": "module.m.module.n.data.huaweicloud_workspace_desktop_pool.c", "mode": "data",
                "type": "huaweicloud_workspace_desktop_pool", "name": "c", "values": {"id": "p-c"}}]}]}]}}}"#;
        assert_eq!(
            ids(shown),
            [
                ("p-a".into(), "huaweicloud_workspace_desktop_pool.a".into()),
                (
                    "p-b".into(),
                    "module.m.module.n.huaweicloud_workspace_desktop_pool.b[\"k\"]".into()
                ),
            ]
        );
    }

    #[test]
    fn an_empty_state_keeps_nothing_and_anything_else_is_refused() {
        for empty in [
            r#"{"version": 4, "resources": []}"#,
            r#"{"format_version": "1.0"}"#,
            r#"{"format_version": "1.2", "values": {"root_module": {}}}"#,
        ] {
            assert_eq!(ids(empty), [], "{empty}");
        }
        let cases: &[(&str, &str)] = &[
            (r#"{"version": 3, "resources": []}"#, "state of version 3"),
            (r#"{"format_version": "2.0"}"#, "format_version is \"2.0\""),
            (r#"{"encrypted_data": "AbC", "encryption_version": "v0"}"#, "tofu show -json"),
            (r#"{"version": 4, "resources": [{"mode": "managed""#, "truncated"),
            ("not json", "not valid JSON"),
            (r#"{"lineage": "x"}"#, "neither a Terraform state"),
            (r#"[1, 2]"#, "neither a Terraform state"),
            ("", "the file is empty"),
            (
                r#"{"version": 4, "resources": [{"mode": "managed", "type": "huaweicloud_workspace_desktop_pool", "name": "x", "instances": [{"attributes": {"id": 7}}]}]}"#,
                "huaweicloud_workspace_desktop_pool.x has no id that is a pool id (its id is a number)",
            ),
            (
                r#"{"version": 4, "resources": [{"mode": "managed", "type": "huaweicloud_workspace_desktop_pool", "name": "x", "instances": [{"attributes": {}}]}]}"#,
                "has no id that is a pool id (it has none)",
            ),
        ];
        for (text, want) in cases {
            let e = managed_pools(text.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn the_first_state_to_name_a_pool_names_it_and_each_pool_is_listed_once() {
        let pool = |id: &str, address: &str| ManagedPool {
            id: PoolId::parse(id).unwrap(),
            address: address.into(),
        };
        let a = Arc::new(StateKeeps::of(
            "a.tfstate",
            &[pool("p1", "x.one"), pool("p2", "x.two")],
        ));
        let b = Arc::new(StateKeeps::of(
            "b.tfstate",
            &[pool("p2", "y.two"), pool("p3", "y.three")],
        ));
        let mut managed = Managed::default();
        managed.add(a);
        managed.add(b);
        let p2 = PoolId::parse("p2").unwrap();
        assert_eq!(managed.get(&p2).unwrap().file, "a.tfstate");
        let all: Vec<(String, String)> = managed
            .all()
            .into_iter()
            .map(|(id, by)| (id.to_string(), by.file.clone()))
            .collect();
        assert_eq!(
            all,
            [
                ("p1".into(), "a.tfstate".into()),
                ("p2".into(), "a.tfstate".into()),
                ("p3".into(), "b.tfstate".into()),
            ]
        );
    }
}
