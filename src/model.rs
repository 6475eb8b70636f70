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
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(into = "String")]
        pub struct $name(String);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::validated::string(d, "an id of letters, digits and '-'", |s| {
                    $name::parse(s).map_err(|e| e.to_string())
                })
            }
        }

        impl $name {
            /// Validates `s`: only `[A-Za-z0-9-]`, 1 to 64 characters, so it is safe in a URL path.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                check_id(s).map(|()| Self(s.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                check_id(&s).map(|()| Self(s))
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
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

/// A key/value tag on a pool.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// A live desktop pool, as far as poolform needs to know it.
///
/// Built from the API's `SimpleDesktopPoolInfo`; absent fields become `None`, empty or 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    pub id: PoolId,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub pool_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    #[serde(default)]
    pub desktop_count: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub desktop_used: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_maintenance_mode: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Pool {
    /// A pool with only an id and a name; the rest empty. Handy for tests and examples.
    pub fn new(id: PoolId, name: impl Into<String>) -> Self {
        Pool {
            id,
            name: name.into(),
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
            in_maintenance_mode: false,
        }
    }

    /// The value of tag `key`, if the pool carries it.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }
}

/// A live pool as the plan records it: enough to show it and to notice that it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRef {
    pub id: PoolId,
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub pool_type: Option<String>,
    pub desktop_count: u64,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
}

impl PoolRef {
    pub fn of(pool: &Pool) -> PoolRef {
        PoolRef {
            id: pool.id.clone(),
            name: pool.name.clone(),
            pool_type: pool.pool_type.clone(),
            desktop_count: pool.desktop_count,
            status: pool.status.clone(),
            created_time: pool.created_time.clone(),
        }
    }

    /// Hex SHA-256 (first 128 bits) of name, status, desktop count and creation time, bound
    /// to the id so that a fingerprint cannot be moved to another pool.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.id.as_str(),
            self.name.as_str(),
            self.status.as_deref().unwrap_or(""),
            &self.desktop_count.to_string(),
            self.created_time.as_deref().unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        hex::encode(&h.finalize()[..16])
    }

    /// `name: value` lines of the fingerprinted fields, for showing what changed.
    pub fn fingerprint_text(&self) -> String {
        format!(
            "name: {}\nstatus: {}\ndesktop_count: {}\ncreated_time: {}\n",
            self.name,
            self.status.as_deref().unwrap_or("(absent)"),
            self.desktop_count,
            self.created_time.as_deref().unwrap_or("(absent)")
        )
    }
}

/// One desktop inside a pool (from the pool's desktops route), used to explain blocked deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolDesktop {
    pub desktop_id: String,
    #[serde(default)]
    pub computer_name: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub status: String,
}

/// The live pools of one project, sorted by id, no duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Live {
    pools: Vec<Pool>,
}

impl Live {
    /// Sorts by id and keeps the last of any duplicate id.
    pub fn new(mut pools: Vec<Pool>) -> Self {
        pools.reverse();
        pools.sort_by(|a, b| a.id.cmp(&b.id));
        pools.dedup_by(|later, earlier| later.id == earlier.id);
        Live { pools }
    }
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }
    pub fn get(&self, id: &PoolId) -> Option<&Pool> {
        self.index_of(id).map(|i| &self.pools[i])
    }
    /// The position of pool `id` in [`Live::pools`].
    pub fn index_of(&self, id: &PoolId) -> Option<usize> {
        self.pools.binary_search_by(|p| p.id.cmp(id)).ok()
    }
    pub fn len(&self) -> usize {
        self.pools.len()
    }
    pub fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }
}

#[cfg(test)]
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
    fn live_sorts_and_dedupes_by_id_keeping_the_last() {
        let id = |s: &str| PoolId::parse(s).unwrap();
        let live = Live::new(vec![
            Pool::new(id("b"), "first-b"),
            Pool::new(id("a"), "a"),
            Pool::new(id("b"), "second-b"),
        ]);
        let names: Vec<_> = live.pools().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "second-b"]);
        assert_eq!(live.get(&id("b")).unwrap().name, "second-b");
        assert!(live.get(&id("c")).is_none());
    }
}
