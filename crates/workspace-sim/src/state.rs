//! The simulator's world: the pools of one project and what was asked of it.

use super::fixture::{with_defaults, Fixture};
use poolform::core::model::ProjectId;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Pools by id (listed in id order, so offset paging is stable) and request counters.
#[derive(Debug)]
pub struct State {
    pub project_id: ProjectId,
    pools: BTreeMap<String, Map<String, Value>>,
    /// Requests per API: `list`, `show`, `delete`, `desktops`, `other`.
    requests: BTreeMap<&'static str, u64>,
    /// DELETE requests per pool id (whatever their answer).
    deletes: BTreeMap<String, u64>,
    /// Answers per status code.
    responses: BTreeMap<u16, u64>,
    /// Pools actually removed by a DELETE, in order.
    deleted: Vec<String>,
    /// Requests seen per `method path`, for reproducible fault draws.
    sequence: HashMap<String, u64>,
    /// Pools still to be created right after serving a first list page.
    churn_remaining: u32,
    churn_created: u64,
    /// Listings still to be shifted right after their first page.
    shift_remaining: u32,
    /// Transient conflicts served per pool.
    conflicts: HashMap<String, u32>,
    /// Signed requests per access key.
    authenticated_by: BTreeMap<String, u64>,
    /// Requests per `Host` header: where the credentials went.
    hosts: BTreeMap<String, u64>,
}

impl State {
    pub fn new(fixture: Fixture, churn_on_list: u32, shift_on_list: u32) -> State {
        let pools = fixture
            .pools
            .into_iter()
            .map(|p| (p["id"].as_str().unwrap_or_default().to_owned(), p))
            .collect();
        State {
            project_id: fixture.project_id,
            pools,
            requests: BTreeMap::new(),
            deletes: BTreeMap::new(),
            responses: BTreeMap::new(),
            deleted: Vec::new(),
            sequence: HashMap::new(),
            churn_remaining: churn_on_list,
            churn_created: 0,
            shift_remaining: shift_on_list,
            conflicts: HashMap::new(),
            authenticated_by: BTreeMap::new(),
            hosts: BTreeMap::new(),
        }
    }

    /// Counts a request by the `Host` it named.
    pub fn host(&mut self, host: &str) {
        *self.hosts.entry(host.to_owned()).or_default() += 1;
    }

    /// Counts a request and returns how many came before it to the same `method path`.
    pub fn arrive(
        &mut self,
        api: &'static str,
        method: &str,
        path: &str,
        pool: Option<&str>,
    ) -> u64 {
        *self.requests.entry(api).or_default() += 1;
        if let (true, Some(id)) = (method == "DELETE", pool) {
            *self.deletes.entry(id.to_owned()).or_default() += 1;
        }
        let n = self.sequence.entry(format!("{method} {path}")).or_default();
        *n += 1;
        *n - 1
    }

    /// Counts a request signed with `access_key`.
    pub fn authenticated(&mut self, access_key: &str) {
        *self
            .authenticated_by
            .entry(access_key.to_owned())
            .or_default() += 1;
    }

    /// DELETE requests received for pool `id`.
    pub fn deletes_for(&self, id: &str) -> u64 {
        self.deletes.get(id).copied().unwrap_or(0)
    }

    /// Requests received by one API (`list`, `show`, `delete`, `desktops`, `other`).
    pub fn requests_to(&self, api: &str) -> u64 {
        self.requests.get(api).copied().unwrap_or(0)
    }

    pub fn answered(&mut self, status: u16) {
        *self.responses.entry(status).or_default() += 1;
    }

    pub fn pool(&self, id: &str) -> Option<&Map<String, Value>> {
        self.pools.get(id)
    }

    pub fn pools(&self) -> impl Iterator<Item = &Map<String, Value>> {
        self.pools.values()
    }

    /// How many pools exist.
    pub fn pool_count(&self) -> usize {
        self.pools.len()
    }

    pub fn desktop_count(&self, id: &str) -> Option<u64> {
        self.pools
            .get(id)
            .map(|p| p["desktop_count"].as_u64().unwrap_or(0))
    }

    pub fn remove(&mut self, id: &str, by_delete: bool) -> bool {
        let removed = self.pools.remove(id).is_some();
        if removed && by_delete {
            self.deleted.push(id.to_owned());
        }
        removed
    }

    /// True (and counted) while pool `id` has been answered fewer than `limit` transient
    /// conflicts.
    pub fn take_conflict(&mut self, id: &str, limit: u32) -> bool {
        let served = self.conflicts.entry(id.to_owned()).or_default();
        if *served < limit {
            *served += 1;
            true
        } else {
            false
        }
    }

    /// Sets a pool's desktop count (and `desktop_used` no higher than it). A pool with
    /// autoscale on refills at once to its `min_idle`, as the service does.
    pub fn set_desktops(&mut self, id: &str, count: u64) -> bool {
        let Some(p) = self.pools.get_mut(id) else {
            return false;
        };
        let min_idle = if p["enable_autoscale"].as_bool() == Some(true) {
            p["autoscale_policy"]["min_idle"].as_u64().unwrap_or(0)
        } else {
            0
        };
        let count = count.max(min_idle);
        p.insert("desktop_count".into(), json!(count));
        let used = p["desktop_used"].as_u64().unwrap_or(0).min(count);
        p.insert("desktop_used".into(), json!(used));
        true
    }

    /// Merges `fields` into a pool (creating it when `create`); returns its id.
    pub fn upsert(&mut self, id: Option<&str>, fields: Map<String, Value>) -> Option<String> {
        match id {
            Some(id) => {
                let p = self.pools.get_mut(id)?;
                for (k, v) in fields {
                    if k != "id" {
                        p.insert(k, v);
                    }
                }
                Some(id.to_owned())
            }
            None => {
                let index = self.pools.len() as u64 + 1_000_000 + self.churn_created;
                let pool = with_defaults(fields, index);
                let id = pool["id"].as_str()?.to_owned();
                self.pools.insert(id.clone(), pool);
                Some(id)
            }
        }
    }

    /// After a first page is served: create a pool that sorts first, shifting every offset.
    pub fn churn_after_first_page(&mut self) {
        if self.churn_remaining == 0 {
            return;
        }
        self.churn_remaining -= 1;
        self.churn_created += 1;
        let id = format!("00000000-churn-{:06}", self.churn_created);
        let mut fields = Map::new();
        fields.insert("id".into(), json!(id));
        fields.insert(
            "name".into(),
            json!(format!("churn-{}", self.churn_created)),
        );
        let pool = with_defaults(fields, self.churn_created);
        self.pools.insert(id, pool);
    }

    /// Shifts the next `n` listings (see [`State::shift_after_first_page`]).
    pub fn shift_listings(&mut self, n: u32) {
        self.shift_remaining = n;
    }

    /// After a first page is served: someone deletes the first pool and creates one that sorts
    /// last. The count stays; every later offset shifts by one.
    pub fn shift_after_first_page(&mut self) {
        if self.shift_remaining == 0 {
            return;
        }
        self.shift_remaining -= 1;
        let Some(first) = self.pools.keys().next().cloned() else {
            return;
        };
        self.pools.remove(&first);
        self.churn_created += 1;
        let id = format!("ffffffff-shift-{:06}", self.churn_created);
        let mut fields = Map::new();
        fields.insert("id".into(), json!(id));
        fields.insert(
            "name".into(),
            json!(format!("shift-{}", self.churn_created)),
        );
        let pool = with_defaults(fields, self.churn_created);
        self.pools.insert(id, pool);
    }

    /// `GET /__sim/state`.
    pub fn snapshot(&self) -> Value {
        json!({
            "project_id": self.project_id.as_str(),
            "pools": self.pools.values().collect::<Vec<_>>(),
            "requests": self.requests,
            "deletes": self.deletes,
            "responses": self.responses.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "deleted": self.deleted,
            "authenticated_by": self.authenticated_by,
            "hosts": self.hosts,
        })
    }
}

/// Synthetic desktops of a pool: `count` of them, named after the pool.
pub fn synthetic_desktops(pool: &Map<String, Value>, offset: u64, limit: u64) -> Vec<Value> {
    let count = pool["desktop_count"].as_u64().unwrap_or(0);
    let used = pool["desktop_used"].as_u64().unwrap_or(0);
    let name = pool["name"].as_str().unwrap_or("pool");
    let id = pool["id"].as_str().unwrap_or("pool");
    let short: String = id.chars().take(8).collect();
    (offset..count.min(offset.saturating_add(limit)))
        .map(|i| {
            json!({
                "desktop_id": format!("{short}-desk-{i:04}"),
                "computer_name": format!("{name}-{i:03}"),
                "status": "ACTIVE",
                "user_name": if i < used { format!("user{i:03}") } else { String::new() },
                "attach_state": match (i < used, i % 2) {
                    (true, _) => "ATTACHED",
                    (false, 0) => "UNATTACH",
                    (false, _) => "DEATTACHED",
                },
            })
        })
        .collect()
}
