//! Domain values shared by every layer: pool and project ids, a live pool, the live inventory.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Longest id accepted; real ids are 36-character UUIDs or 32-character hex project ids.
const MAX_ID_LEN: usize = 64;

/// Why a string is not acceptable as an id that goes into a URL path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {MAX_ID_LEN} characters")]
    TooLong,
    #[error("contains {0:?}; only letters, digits and '-' are allowed")]
    BadChar(char),
}

fn check_id(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong);
    }
    match s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        Some(c) => Err(IdError::BadChar(c)),
        None => Ok(()),
    }
}

macro_rules! path_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Ids compare as people read them: ASCII case does not matter (`A130AB3A-…` is
        /// `a130ab3a-…`), in equality, order and hashing alike; the spelling given is kept
        /// for display and for the URL.
        #[derive(Clone, Serialize)]
        #[serde(into = "String")]
        pub struct $name(std::sync::Arc<str>);

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.eq_ignore_ascii_case(&other.0)
            }
        }
        impl Eq for $name {}
        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                let lower = |b: u8| b.to_ascii_lowercase();
                self.0.bytes().map(lower).cmp(other.0.bytes().map(lower))
            }
        }
        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                for b in self.0.bytes() {
                    state.write_u8(b.to_ascii_lowercase());
                }
                state.write_u8(0xff);
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::core::validated::string(d, "an id of letters, digits and '-'", |s| {
                    $name::parse(s).map_err(|e| e.to_string())
                })
            }
        }

        impl $name {
            /// Validates `s`: only `[A-Za-z0-9-]`, 1 to 64 characters, so it is safe in a URL path.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                check_id(s).map(|()| Self(s.into()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                check_id(&s).map(|()| Self(s.into()))
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.to_string()
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }
    };
}

path_id!(
    /// A desktop pool id, validated before it can enter a URL path.
    PoolId
);
path_id!(
    /// A Huawei Cloud project id, validated before it can enter a URL path.
    ProjectId
);

/// True for a region name such as `cn-north-4`: lower-case letters, digits and `-`, so it is
/// safe inside the endpoint's host name.
pub fn is_region_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// True for a domain such as `myhuaweicloud.com`: dot-separated labels of lower-case letters,
/// digits and `-`, so it is safe inside a host name.
pub fn is_cloud_domain(s: &str) -> bool {
    s.contains('.')
        && s.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// A string many pools share (a type, a status, an image id): stored once per listing page
/// and shared, so that a listing of 100,000 pools stays small.
pub type Text = std::sync::Arc<str>;

/// A key/value tag on a pool.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Tag {
    pub key: Text,
    #[serde(default = "empty_text")]
    pub value: Text,
}

fn empty_text() -> Text {
    Text::from("")
}

/// A pool's autoscale policy (`autoscale_policy`), as far as poolform reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoscalePolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_auto_created: Option<u64>,
    /// Idle desktops the service keeps in the pool while autoscale is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_idle: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub once_auto_created: Option<u64>,
}

/// A live desktop pool, as far as poolform needs to know it.
///
/// Built from the API's `SimpleDesktopPoolInfo`; absent fields become `None`, empty or 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    pub id: PoolId,
    #[serde(default = "no_text")]
    pub name: Text,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub pool_type: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<Text>,
    #[serde(default)]
    pub desktop_count: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub desktop_used: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor_id: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_mode: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// The answer had no `tags` field: the pool's tags are unknown, not empty. A tag rule
    /// cannot judge such a pool until a read of the pool itself gives them.
    #[serde(skip)]
    pub tags_unknown: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_maintenance_mode: bool,
    /// `enable_autoscale`: the service creates desktops to keep `min_idle` of them idle.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enable_autoscale: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale_policy: Option<Box<AutoscalePolicy>>,
}

fn no_text() -> Text {
    Text::from("")
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Pool {
    /// A pool with only an id and a name; the rest empty. Handy for tests and examples.
    pub fn new(id: PoolId, name: impl Into<String>) -> Self {
        Pool {
            id,
            name: Text::from(name.into()),
            pool_type: None,
            status: None,
            created_time: None,
            desktop_count: 0,
            desktop_used: 0,
            enterprise_project_id: None,
            availability_zone: None,
            image_id: None,
            flavor_id: None,
            charging_mode: None,
            description: None,
            tags: Vec::new(),
            tags_unknown: false,
            in_maintenance_mode: false,
            enable_autoscale: false,
            autoscale_policy: None,
        }
    }

    /// Prepaid (`charging_mode` "0": yearly/monthly), as the API names it.
    pub fn is_prepaid(&self) -> bool {
        self.charging_mode.as_deref() == Some("0")
    }

    /// `min_idle` of the autoscale policy, when autoscale is on.
    pub fn autoscale_min_idle(&self) -> Option<u64> {
        self.enable_autoscale.then(|| {
            self.autoscale_policy
                .as_ref()
                .and_then(|p| p.min_idle)
                .unwrap_or(0)
        })
    }

    /// The values of tag `key` (a key may be listed more than once).
    pub fn tag_values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.tags
            .iter()
            .filter(move |t| &*t.key == key)
            .map(|t| &*t.value)
    }
}

/// A live pool as the plan records it: enough to show it and to notice that it changed in
/// any field that a decision reads (scope, keep, protect, likely blocked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolRef {
    pub id: PoolId,
    pub name: Text,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub pool_type: Option<Text>,
    pub desktop_count: u64,
    /// Of those, the desktops in use. Advice only: no decision reads it (not fingerprinted).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub desktop_used: u64,
    #[serde(default)]
    pub status: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<Text>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Autoscale, when it is on: `min_idle` desktops come back as they are removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<AutoscaleRef>,
    /// Its desktops are prepaid (`charging_mode` "0", yearly/monthly): they are unsubscribed in
    /// the billing centre, not deleted. Advice only: no decision reads it (not fingerprinted).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prepaid: bool,
}

/// Autoscale as a plan records it: on, keeping `min_idle` idle desktops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoscaleRef {
    pub min_idle: u64,
}

impl PoolRef {
    pub fn of(pool: &Pool) -> PoolRef {
        let mut tags = pool.tags.clone();
        tags.sort();
        PoolRef {
            id: pool.id.clone(),
            name: pool.name.clone(),
            pool_type: pool.pool_type.clone(),
            desktop_count: pool.desktop_count,
            desktop_used: pool.desktop_used,
            status: pool.status.clone(),
            created_time: pool.created_time.clone(),
            enterprise_project_id: pool.enterprise_project_id.clone(),
            tags,
            autoscale: pool
                .autoscale_min_idle()
                .map(|min_idle| AutoscaleRef { min_idle }),
            prepaid: pool.is_prepaid(),
        }
    }

    /// Tells `each` every fingerprinted field and its value, in a fixed order; absent values
    /// are told apart from empty ones. Written straight to where it goes (a hash, a text), with
    /// no string built per field.
    fn each_fingerprinted(&self, each: &mut dyn FnMut(&'static str, std::fmt::Arguments<'_>)) {
        /// An optional value: `(absent)`, or quoted.
        struct Opt<'a>(&'a Option<Text>);
        impl std::fmt::Display for Opt<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.0.as_deref() {
                    None => f.write_str("(absent)"),
                    Some(s) => write!(f, "{s:?}"),
                }
            }
        }
        each("id", format_args!("{}", self.id));
        each("name", format_args!("{:?}", self.name));
        each("type", format_args!("{}", Opt(&self.pool_type)));
        each("status", format_args!("{}", Opt(&self.status)));
        each("desktop_count", format_args!("{}", self.desktop_count));
        each("created_time", format_args!("{}", Opt(&self.created_time)));
        each(
            "enterprise_project_id",
            format_args!("{}", Opt(&self.enterprise_project_id)),
        );
        if self.tags.is_empty() {
            each("tags", format_args!("[]"));
        } else {
            let mut tags: Vec<String> = self
                .tags
                .iter()
                .map(|t| format!("{:?}={:?}", t.key, t.value))
                .collect();
            tags.sort();
            each("tags", format_args!("[{}]", tags.join(", ")));
        }
        match &self.autoscale {
            None => each("autoscale", format_args!("off")),
            Some(a) => each("autoscale", format_args!("on (min_idle {})", a.min_idle)),
        }
    }

    /// Hex SHA-256 (first 128 bits) of every field a decision reads: id, name, type, status,
    /// desktop count, creation time, enterprise project, tags and autoscale. The id is part of it, so a
    /// fingerprint cannot be moved to another pool.
    pub fn fingerprint(&self) -> String {
        /// Feeds what is written to the hash.
        struct Hashing<'a>(&'a mut Sha256);
        impl std::fmt::Write for Hashing<'_> {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                self.0.update(s.as_bytes());
                Ok(())
            }
        }
        let mut h = Sha256::new();
        self.each_fingerprinted(&mut |field, value| {
            h.update(field.as_bytes());
            h.update([0u8]);
            let _ = std::fmt::write(&mut Hashing(&mut h), value);
            h.update([0u8]);
        });
        hex::encode(&h.finalize()[..16])
    }

    /// `field: value` lines of the fingerprinted fields (the id aside), for showing what
    /// changed.
    pub fn fingerprint_text(&self) -> String {
        use std::fmt::Write as _;
        let mut text = String::new();
        self.each_fingerprinted(&mut |field, value| {
            if field != "id" {
                let _ = writeln!(text, "{field}: {value}");
            }
        });
        text
    }
}

/// One desktop inside a pool (from the pool's desktops route), used to explain blocked deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PoolDesktop {
    pub desktop_id: String,
    #[serde(default)]
    pub computer_name: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub status: String,
    /// `ATTACHED`, `UNATTACH`, `DEATTACHED`, ... as the API says it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub attach_state: String,
}

/// One id listed twice with different content: the listing cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pool {id} is listed twice with different {}", fields.join(", "))]
pub struct ConflictingDuplicate {
    pub id: PoolId,
    /// The fields that differ.
    pub fields: Vec<&'static str>,
}

/// The fields in which two descriptions of one pool differ.
fn differing_fields(a: &Pool, b: &Pool) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |field: &'static str, same: bool| {
        if !same {
            out.push(field);
        }
    };
    check("name", a.name == b.name);
    check("type", a.pool_type == b.pool_type);
    check("status", a.status == b.status);
    check("created_time", a.created_time == b.created_time);
    check("desktop_count", a.desktop_count == b.desktop_count);
    check("desktop_used", a.desktop_used == b.desktop_used);
    check(
        "enterprise_project_id",
        a.enterprise_project_id == b.enterprise_project_id,
    );
    check(
        "availability_zone",
        a.availability_zone == b.availability_zone,
    );
    check("image_id", a.image_id == b.image_id);
    check("flavor_id", a.flavor_id == b.flavor_id);
    check("charging_mode", a.charging_mode == b.charging_mode);
    check("description", a.description == b.description);
    check("tags", a.tags == b.tags);
    check(
        "in_maintenance_mode",
        a.in_maintenance_mode == b.in_maintenance_mode,
    );
    check("enable_autoscale", a.enable_autoscale == b.enable_autoscale);
    check("autoscale_policy", a.autoscale_policy == b.autoscale_policy);
    out
}

/// Reorders `v` in place so that `v[k]` becomes the old `v[order[k]]`; `order` is used up.
fn permute<T>(v: &mut [T], order: &mut [u32]) {
    for start in 0..v.len() {
        if order[start] == u32::MAX {
            continue;
        }
        let mut k = start;
        loop {
            let source = order[k] as usize;
            order[k] = u32::MAX;
            if source == start {
                break;
            }
            v.swap(k, source);
            k = source;
        }
    }
}

/// The live pools of one project, sorted by id, each id once; and, for pools read from the
/// API, the request id of the page each came from (for the audit trail).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Live {
    pools: Vec<Pool>,
    /// Index into `pages` for each pool, aligned with `pools`; empty when not known.
    page_of: Vec<u32>,
    /// The request id of each page read.
    pages: Vec<Option<String>>,
    /// "Now" as the listing saw it (the API's `Date`): what time rules are judged by. `None`
    /// only for listings made without an API (tests); time rules then fail closed.
    clock: Option<crate::core::time::Clock>,
}

impl Live {
    /// Sorts by id; identical duplicates are merged, an id listed twice with different
    /// content is an error.
    pub fn new(pools: Vec<Pool>) -> Result<Self, ConflictingDuplicate> {
        let mut live = Self::from_pages(vec![(None, pools)])?;
        live.page_of.clear();
        live.pages.clear();
        Ok(live)
    }

    /// The pools of each page (with the page's request id), merged as [`Live::new`] does.
    pub fn from_pages(
        pages: Vec<(Option<String>, Vec<Pool>)>,
    ) -> Result<Self, ConflictingDuplicate> {
        let n: usize = pages.iter().map(|(_, p)| p.len()).sum();
        let mut pools: Vec<Pool> = Vec::with_capacity(n);
        let mut page_of: Vec<u32> = Vec::with_capacity(n);
        let mut request_ids = Vec::with_capacity(pages.len());
        for (i, (request_id, page)) in pages.into_iter().enumerate() {
            request_ids.push(request_id);
            page_of.extend(std::iter::repeat_n(
                u32::try_from(i).unwrap_or(u32::MAX),
                page.len(),
            ));
            pools.extend(page);
        }
        Self::from_parts(pools, page_of, request_ids)
    }

    /// Pools read from pages (`page_of[i]` indexes `request_ids` for `pools[i]`), sorted and
    /// merged in place: a listing is never held twice.
    pub fn from_parts(
        mut pools: Vec<Pool>,
        mut page_of: Vec<u32>,
        request_ids: Vec<Option<String>>,
    ) -> Result<Self, ConflictingDuplicate> {
        let n = pools.len();
        page_of.resize(n, u32::MAX);
        let mut order: Vec<u32> = (0..u32::try_from(n).unwrap_or(u32::MAX)).collect();
        order.sort_by(|a, b| pools[*a as usize].id.cmp(&pools[*b as usize].id));
        permute(&mut page_of, &mut order.clone());
        permute(&mut pools, &mut order);
        // Merge identical copies in place; refuse conflicting ones.
        let mut kept = 0;
        for read in 0..pools.len() {
            if kept > 0 && pools[kept - 1].id == pools[read].id {
                let fields = differing_fields(&pools[kept - 1], &pools[read]);
                if fields.is_empty() {
                    continue;
                }
                return Err(ConflictingDuplicate {
                    id: pools[read].id.clone(),
                    fields,
                });
            }
            pools.swap(kept, read);
            page_of[kept] = page_of[read];
            kept += 1;
        }
        pools.truncate(kept);
        page_of.truncate(kept);
        Ok(Live {
            pools,
            page_of,
            pages: request_ids,
            clock: None,
        })
    }

    /// The listing, as seen at `clock`.
    pub fn with_clock(mut self, clock: crate::core::time::Clock) -> Live {
        self.clock = Some(clock);
        self
    }

    /// "Now" as the listing saw it.
    pub fn clock(&self) -> Option<crate::core::time::Clock> {
        self.clock
    }

    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }
    /// Gives pool `id` the tags a read of the pool itself found (its listing entry had none).
    /// False when no such pool is listed.
    pub fn set_tags(&mut self, id: &PoolId, tags: Vec<Tag>) -> bool {
        match self.index_of(id) {
            Some(i) => {
                self.pools[i].tags = tags;
                self.pools[i].tags_unknown = false;
                true
            }
            None => false,
        }
    }
    pub fn get(&self, id: &PoolId) -> Option<&Pool> {
        self.index_of(id).map(|i| &self.pools[i])
    }
    /// The position of pool `id` in [`Live::pools`].
    /// Does `target` name a pool of the listing, by id (case aside) or exact name?
    pub fn names(&self, target: &str) -> bool {
        let by_id = PoolId::parse(target)
            .ok()
            .is_some_and(|id| self.get(&id).is_some());
        by_id || self.pools().iter().any(|p| *p.name == *target)
    }

    pub fn index_of(&self, id: &PoolId) -> Option<usize> {
        self.pools.binary_search_by(|p| p.id.cmp(id)).ok()
    }
    /// The request id of the answer that listed pool `id`, when known.
    pub fn request_id_of(&self, id: &PoolId) -> Option<&str> {
        let page = *self.page_of.get(self.index_of(id)?)?;
        self.pages.get(page as usize)?.as_deref()
    }
    pub fn len(&self) -> usize {
        self.pools.len()
    }
    pub fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[test]
    fn ids_accept_only_path_safe_characters() {
        let cases: &[(&str, Result<(), IdError>)] = &[
            ("a130ab3a-72bf-4b71-baa9-af4987c8e338", Ok(())),
            ("0bec5db98280d2d02fd6c00c2de791ce", Ok(())),
            ("", Err(IdError::Empty)),
            ("../admin", Err(IdError::BadChar('.'))),
            ("a/b", Err(IdError::BadChar('/'))),
            ("a%2Fb", Err(IdError::BadChar('%'))),
            ("a?x=1", Err(IdError::BadChar('?'))),
            ("a b", Err(IdError::BadChar(' '))),
            ("ä", Err(IdError::BadChar('ä'))),
            (&"x".repeat(65), Err(IdError::TooLong)),
        ];
        for (input, want) in cases {
            assert_eq!(PoolId::parse(input).map(|_| ()), *want, "input {input:?}");
        }
    }

    #[test]
    fn live_sorts_merges_identical_duplicates_and_refuses_conflicting_ones() {
        let id = |s: &str| PoolId::parse(s).unwrap();
        let live = Live::new(vec![
            Pool::new(id("b"), "b"),
            Pool::new(id("a"), "a"),
            Pool::new(id("b"), "b"),
        ])
        .unwrap();
        let names: Vec<_> = live.pools().iter().map(|p| &*p.name).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(live.get(&id("c")).is_none());
        let mut renamed = Pool::new(id("b"), "other");
        renamed.desktop_count = 2;
        let err = Live::new(vec![Pool::new(id("b"), "b"), renamed]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pool b is listed twice with different name, desktop_count"
        );
    }

    #[test]
    fn permuting_in_place_reorders_as_asked() {
        for order in [
            vec![2u32, 0, 1],
            vec![0, 1, 2],
            vec![1, 0, 3, 2],
            vec![3, 2, 1, 0],
            vec![],
        ] {
            let mut v: Vec<u32> = (0..order.len() as u32).map(|i| i * 10).collect();
            let want: Vec<u32> = order.iter().map(|i| i * 10).collect();
            permute(&mut v, &mut order.clone());
            assert_eq!(v, want);
        }
    }

    #[test]
    fn pages_remember_their_request_ids() {
        let id = |s: &str| PoolId::parse(s).unwrap();
        let live = Live::from_pages(vec![
            (
                Some("r1".into()),
                vec![Pool::new(id("b"), "b"), Pool::new(id("c"), "c")],
            ),
            (
                Some("r2".into()),
                vec![Pool::new(id("c"), "c"), Pool::new(id("a"), "a")],
            ),
        ])
        .unwrap();
        assert_eq!(live.len(), 3);
        assert_eq!(live.request_id_of(&id("a")), Some("r2"));
        assert_eq!(live.request_id_of(&id("b")), Some("r1"));
        assert_eq!(live.request_id_of(&id("z")), None);
    }
}
