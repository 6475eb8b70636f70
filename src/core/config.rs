//! `pools.yaml` (version 1): the schema, strict parsing and validation, errors with line/column.
//!
//! Shape errors come from serde_yaml with their position. Errors that need the whole file
//! (duplicates, a missing id and name, the delete-everything guard) are located afterwards by
//! walking the document again to the offending path, so every error names file, line, column.

use crate::core::model::{Pool, PoolId, ProjectId};
pub use crate::core::time::{Instant, Span};
use crate::core::validated;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// The only config version this poolform reads.
pub const CONFIG_VERSION: u64 = 1;
/// Larger files are refused before parsing.
pub const MAX_CONFIG_BYTES: usize = 8 * 1024 * 1024;

/// A config error, always with a position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// `DYNAMIC` or `STATIC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PoolType {
    #[serde(rename = "DYNAMIC")]
    Dynamic,
    #[serde(rename = "STATIC")]
    Static,
}

impl PoolType {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolType::Dynamic => "DYNAMIC",
            PoolType::Static => "STATIC",
        }
    }
}

/// `version: 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "u64")]
pub struct Version;

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated::integer(d, "the number 1", |v| {
            if v == CONFIG_VERSION as i64 {
                Ok(Version)
            } else {
                Err(format!(
                    "unsupported version {v}; this poolform reads version {CONFIG_VERSION}"
                ))
            }
        })
    }
}

impl From<Version> for u64 {
    fn from(_: Version) -> u64 {
        CONFIG_VERSION
    }
}

impl JsonSchema for Version {
    fn schema_name() -> Cow<'static, str> {
        "Version".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"const": CONFIG_VERSION, "description": "Config format version; only 1 exists."})
    }
}

/// A positive `max_deletes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "u32")]
pub struct MaxDeletes(pub u32);

impl<'de> Deserialize<'de> for MaxDeletes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated::integer(d, "a whole number of at least 1", |v| {
            match u32::try_from(v) {
                Ok(n) if n > 0 => Ok(MaxDeletes(n)),
                _ => Err(format!(
                    "max_deletes must be a whole number of at least 1, not {v}"
                )),
            }
        })
    }
}

impl From<MaxDeletes> for u32 {
    fn from(m: MaxDeletes) -> u32 {
        m.0
    }
}

impl JsonSchema for MaxDeletes {
    fn schema_name() -> Cow<'static, str> {
        "MaxDeletes".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer", "minimum": 1, "maximum": u32::MAX, "description": "A plan that deletes more pools than this is refused."})
    }
}

/// `max_deletes_percent`: a share of the live pools in scope, 0 to 100, decimals allowed.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(into = "f64")]
pub struct Percent(f64);

impl Percent {
    pub fn parse(v: f64) -> Result<Percent, String> {
        if v.is_finite() && (0.0..=100.0).contains(&v) {
            Ok(Percent(v))
        } else {
            Err(format!(
                "max_deletes_percent must be a number from 0 to 100, not {v}"
            ))
        }
    }

    pub fn value(self) -> f64 {
        self.0
    }

    /// Would deleting `deletes` of `in_scope` pools exceed this share? (`deletes` × 100 >
    /// percent × `in_scope`: exactly at the share is allowed.)
    pub fn exceeded_by(self, deletes: usize, in_scope: usize) -> bool {
        deletes as f64 * 100.0 > self.0 * in_scope as f64
    }
}

impl PartialEq for Percent {
    fn eq(&self, other: &Percent) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Percent {}

impl PartialOrd for Percent {
    fn partial_cmp(&self, other: &Percent) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(&other.0)
    }
}

impl From<Percent> for f64 {
    fn from(p: Percent) -> f64 {
        p.0
    }
}

impl std::fmt::Display for Percent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated::number(d, "a number from 0 to 100", Percent::parse)
    }
}

impl JsonSchema for Percent {
    fn schema_name() -> Cow<'static, str> {
        "Percent".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "number", "minimum": 0, "maximum": 100, "description": "A plan that deletes more than this share of the live pools in scope is refused."})
    }
}

/// A path or glob of Terraform state files, relative to the config file's folder and inside
/// it: never absolute, never `..`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct StatePath(String);

impl StatePath {
    pub fn parse(text: &str) -> Result<StatePath, String> {
        let what = || format!("keep_terraform_state {text:?}");
        if text.is_empty() {
            return Err(format!("{}: is empty", what()));
        }
        if text.starts_with('/') || text.starts_with('\\') || text.as_bytes().get(1) == Some(&b':')
        {
            return Err(format!(
                "{}: is absolute; name state files relative to the config file's folder, inside it",
                what()
            ));
        }
        if text.split(['/', '\\']).any(|c| c == "..") {
            return Err(format!(
                "{}: leaves the config file's folder (`..`); state files must be inside it",
                what()
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(format!("{}: holds a control character", what()));
        }
        glob::Pattern::new(text).map_err(|e| format!("{}: is not a valid glob: {e}", what()))?;
        Ok(StatePath(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<StatePath> for String {
    fn from(p: StatePath) -> String {
        p.0
    }
}

impl<'de> Deserialize<'de> for StatePath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated::string(
            d,
            "a path or glob relative to the config file",
            StatePath::parse,
        )
    }
}

impl JsonSchema for StatePath {
    fn schema_name() -> Cow<'static, str> {
        "StatePath".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "minLength": 1, "description": "A Terraform state file (or glob), relative to the config file's folder and inside it: `terraform.tfstate`, `states/*.json`."})
    }
}

/// A name glob (`*`, `?`, `[...]`) for `protect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct NameGlob {
    text: String,
    pattern: glob::Pattern,
    /// The glob with its text folded ([`crate::core::names::fold`]), for near matches; `None` when
    /// the folded text is no glob.
    folded: Option<glob::Pattern>,
}

const GLOB_OPTIONS: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: true,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

impl NameGlob {
    /// Does `name` match, exactly as written?
    pub fn matches(&self, name: &str) -> bool {
        self.pattern.matches_with(name, GLOB_OPTIONS)
    }
    /// Does `folded` (a name already folded) match the folded glob?
    pub fn matches_folded(&self, folded: &str) -> bool {
        self.folded
            .as_ref()
            .is_some_and(|p| p.matches_with(folded, GLOB_OPTIONS))
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl NameGlob {
    pub fn parse(text: &str) -> Result<Self, String> {
        match glob::Pattern::new(text) {
            Ok(pattern) => Ok(NameGlob {
                text: text.to_owned(),
                pattern,
                folded: glob::Pattern::new(&crate::core::names::fold(text)).ok(),
            }),
            Err(e) => Err(format!(
                "invalid glob {text:?}: {} at character {}",
                e.msg,
                e.pos + 1
            )),
        }
    }
}

impl<'de> Deserialize<'de> for NameGlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated::string(d, "a name glob", NameGlob::parse)
    }
}

impl From<NameGlob> for String {
    fn from(g: NameGlob) -> String {
        g.text
    }
}

impl JsonSchema for NameGlob {
    fn schema_name() -> Cow<'static, str> {
        "NameGlob".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "minLength": 1, "description": "Glob on the pool name: * any run of characters, ? one character, [abc] a set."})
    }
}

fn id_schema(description: &str) -> Schema {
    json_schema!({"type": "string", "pattern": "^[A-Za-z0-9-]{1,64}$", "description": description})
}

impl JsonSchema for PoolId {
    fn schema_name() -> Cow<'static, str> {
        "PoolId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        id_schema("A desktop pool id (letters, digits and '-').")
    }
}

impl JsonSchema for ProjectId {
    fn schema_name() -> Cow<'static, str> {
        "ProjectId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        id_schema("A Huawei Cloud project id (letters, digits and '-').")
    }
}

/// A region name such as `cn-north-4`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Region(String);

impl Region {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Region {
    pub fn parse(s: &str) -> Result<Self, String> {
        if crate::core::model::is_region_name(s) {
            Ok(Region(s.to_owned()))
        } else {
            Err(format!(
                "region {s:?} is not a region name such as cn-north-4"
            ))
        }
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated::string(d, "a region name", Region::parse)
    }
}

impl From<Region> for String {
    fn from(r: Region) -> String {
        r.0
    }
}

impl JsonSchema for Region {
    fn schema_name() -> Cow<'static, str> {
        "Region".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^[a-z0-9-]+$", "description": "Region, e.g. cn-north-4."})
    }
}

/// A cloud domain such as `myhuaweicloud.com` (`myhuaweicloud.eu` in Europe).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Cloud(String);

impl Cloud {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        if crate::core::model::is_cloud_domain(s) {
            Ok(Cloud(s.to_owned()))
        } else {
            Err(format!(
                "cloud {s:?} is not a domain name such as myhuaweicloud.com"
            ))
        }
    }
}

impl<'de> Deserialize<'de> for Cloud {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated::string(d, "a domain name", Cloud::parse)
    }
}

impl From<Cloud> for String {
    fn from(c: Cloud) -> String {
        c.0
    }
}

impl JsonSchema for Cloud {
    fn schema_name() -> Cow<'static, str> {
        "Cloud".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^[a-z0-9-]+(\\.[a-z0-9-]+)+$", "description": "Cloud domain, e.g. myhuaweicloud.com (the default; myhuaweicloud.eu for eu-west-1* regions)."})
    }
}

/// Which live pools this file manages; pools outside the scope are never touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping such as `{name_prefix: ci-}`"
)]
pub struct Scope {
    /// Only pools whose name starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    /// Only pools of this enterprise project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    /// Only pools of this type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub pool_type: Option<PoolType>,
    /// A live pool younger than this (by its `created_time`, on the API's clock) is never
    /// deleted: it is reported as young. One whose age is unknown is kept too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age: Option<Span>,
}

impl Scope {
    /// True when the scope restricts anything at all.
    pub fn is_restrictive(&self) -> bool {
        self.name_prefix.as_deref().is_some_and(|p| !p.is_empty())
            || self.enterprise_project_id.is_some()
            || self.pool_type.is_some()
    }

    pub fn contains(&self, pool: &Pool) -> bool {
        self.excludes(pool).is_none()
    }

    /// The first filter that leaves `pool` out, in words (`name_prefix "ci-"`); `None` when
    /// the pool is in scope. A pool without the attribute a filter reads is out of scope.
    pub fn excludes(&self, pool: &Pool) -> Option<String> {
        if let Some(p) = self.name_prefix.as_deref() {
            if !pool.name.starts_with(p) {
                return Some(format!("name_prefix {p:?}"));
            }
        }
        if let Some(e) = self.enterprise_project_id.as_deref() {
            if pool.enterprise_project_id.as_deref() != Some(e) {
                return Some(format!("enterprise_project_id {e:?}"));
            }
        }
        if let Some(t) = self.pool_type {
            if pool.pool_type.as_deref() != Some(t.as_str()) {
                return Some(format!("type {}", t.as_str()));
            }
        }
        None
    }
}

/// Attributes a kept pool is expected to have; a difference is reported as drift.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a mapping such as `{type: STATIC}`")]
pub struct Expect {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub pool_type: Option<PoolType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_maintenance_mode: Option<bool>,
}

impl Expect {
    /// `(attribute, expected, live)` for every attribute that differs.
    pub fn differences(&self, pool: &Pool) -> Vec<(&'static str, String, String)> {
        let shown = |v: Option<&str>| v.map_or_else(|| "(absent)".to_owned(), str::to_owned);
        let mut out = Vec::new();
        let mut check = |attr: &'static str, want: Option<&str>, live: Option<&str>| {
            if let Some(w) = want {
                if live != Some(w) {
                    out.push((attr, w.to_owned(), shown(live)));
                }
            }
        };
        check(
            "type",
            self.pool_type.map(PoolType::as_str),
            pool.pool_type.as_deref(),
        );
        check("status", self.status.as_deref(), pool.status.as_deref());
        check(
            "availability_zone",
            self.availability_zone.as_deref(),
            pool.availability_zone.as_deref(),
        );
        check(
            "enterprise_project_id",
            self.enterprise_project_id.as_deref(),
            pool.enterprise_project_id.as_deref(),
        );
        check(
            "image_id",
            self.image_id.as_deref(),
            pool.image_id.as_deref(),
        );
        check(
            "flavor_id",
            self.flavor_id.as_deref(),
            pool.flavor_id.as_deref(),
        );
        check(
            "charging_mode",
            self.charging_mode.as_deref(),
            pool.charging_mode.as_deref(),
        );
        check(
            "description",
            self.description.as_deref(),
            pool.description.as_deref(),
        );
        let maintenance = pool.in_maintenance_mode.to_string();
        check(
            "in_maintenance_mode",
            self.in_maintenance_mode
                .map(|b| if b { "true" } else { "false" }),
            Some(maintenance.as_str()),
        );
        out
    }
}

/// A pool to keep: by id (with an optional expected name), or by exact name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a pool entry such as `{id: ..., name: ...}`"
)]
pub struct PoolEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<PoolId>,
    /// With an id: the expected name (a different live name is drift). Alone: matched exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Box<Expect>>,
    /// Keeps its pool until this instant; after it the entry keeps nothing (its pool is
    /// planned as if the entry were absent, the reason `expired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Instant>,
}

/// A tag condition: `key`, and `value` when given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping such as `{key: env, value: prod}`"
)]
pub struct TagRule {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A rule that keeps pools whatever the list says. Exactly one of `name`, `id`, `tag`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a protect rule such as `{name: \"ci-prod-*\"}`"
)]
pub struct ProtectRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<NameGlob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<PoolId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<TagRule>,
    /// Protects until this instant; after it the rule protects nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Instant>,
}

impl ProtectRule {
    pub fn matches(&self, pool: &Pool) -> bool {
        if let Some(g) = &self.name {
            return g.matches(&pool.name);
        }
        if let Some(id) = &self.id {
            return *id == pool.id;
        }
        if let Some(t) = &self.tag {
            // A key listed twice protects if any of its values matches.
            return pool
                .tag_values(&t.key)
                .any(|v| t.value.as_deref().is_none_or(|want| want == v));
        }
        false
    }

    /// A name glob that `folded` (a pool name, folded) matches once both are folded: with
    /// [`ProtectRule::matches`] false, a near match.
    pub fn matches_folded_name(&self, folded: &str) -> bool {
        self.name.as_ref().is_some_and(|g| g.matches_folded(folded))
    }

    pub fn is_tag_rule(&self) -> bool {
        self.tag.is_some()
    }

    /// How the rule reads in a plan: `name "ci-prod-*"`, `id ...`, `tag env=prod`.
    pub fn describe(&self) -> String {
        match (&self.name, &self.id, &self.tag) {
            (Some(g), _, _) => format!("name {:?}", g.as_str()),
            (_, Some(id), _) => format!("id {id}"),
            (_, _, Some(t)) => match &t.value {
                Some(v) => format!("tag {}={v}", t.key),
                None => format!("tag {}", t.key),
            },
            _ => "an empty rule".into(),
        }
    }
}

/// The whole `pools.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with `version: 1` and `pools:`"
)]
#[schemars(
    title = "poolform pools.yaml",
    description = "Desktop pools that must exist in a Huawei Cloud Workspace project; every other pool in scope is planned for deletion."
)]
pub struct Config {
    pub version: Version,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// The cloud domain of the endpoints (default myhuaweicloud.com; myhuaweicloud.eu for
    /// eu-west-1* regions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<Cloud>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// Pools to keep; every other pool in scope is planned for deletion.
    #[serde(default)]
    pub pools: Arc<[PoolEntry]>,
    /// Never deleted, whatever the list says.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub protect: Arc<[ProtectRule]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deletes: Option<MaxDeletes>,
    /// A plan that deletes more than this share (0 to 100) of the live pools in scope, in a
    /// project or over the whole file, is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deletes_percent: Option<Percent>,
    /// Terraform state files (paths or globs, relative to this file's folder): every pool a
    /// state manages is kept, in every project.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_terraform_state: Vec<StatePath>,
    /// Allows an empty `pools:` without a scope, which plans to delete every pool.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_delete_all: bool,
    /// Deletes need an announcement made this long before (`plan --notice`): a fresh apply,
    /// or a plain saved plan, that would delete anything is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Span>,
    /// Several projects in one file, each planned as a single-project file would be; the
    /// file's `protect` and `max_deletes` apply to every one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<ProjectEntry>,
}

impl Config {
    /// Does this file list several projects (`projects:`)? Its top level then plans nothing:
    /// each entry is a project (see `projects::projects`).
    pub fn is_many(&self) -> bool {
        !self.projects.is_empty()
    }
}

// --- many projects: the entries of `projects:` -----------------------------------------

/// A name as IAM spells projects, agencies and accounts: letters, digits, `_`, `-`, `.`; at
/// most 64 characters (a subproject such as `cn-north-4_training`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct IamName(String);

impl IamName {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if ok {
            Ok(IamName(s.to_owned()))
        } else {
            Err(format!(
                "{s:?} is not an IAM name (1 to 64 letters, digits, '_', '-' or '.')"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IamName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated::string(d, "an IAM name", IamName::parse)
    }
}

impl From<IamName> for String {
    fn from(n: IamName) -> String {
        n.0
    }
}

impl JsonSchema for IamName {
    fn schema_name() -> Cow<'static, str> {
        "IamName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$", "description": "A name as IAM spells it (project, agency, account)."})
    }
}

/// `assume_role:` of a project: the agency to reach another account through. Effective only
/// for agencies the operator allows (`--allow-agency AGENCY@DOMAIN`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping such as `{agency: poolform, domain: tenant-b}`"
)]
pub struct AssumeRoleEntry {
    /// The agency's name.
    pub agency: IamName,
    /// The account (domain) that created the agency, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<IamName>,
    /// The account (domain) that created the agency, by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<IamName>,
}

impl AssumeRoleEntry {
    /// The account, as the allow-list and labels spell it: its name, else its id.
    pub fn domain_text(&self) -> &str {
        self.domain
            .as_ref()
            .or(self.domain_id.as_ref())
            .map_or("", IamName::as_str)
    }

    /// `AGENCY@DOMAIN`, as `--allow-agency` spells it.
    pub fn allow_key(&self) -> String {
        format!("{}@{}", self.agency, self.domain_text())
    }
}

/// One entry of `projects:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a project: `region`, `project_id` or `project_name`, and `pools`"
)]
pub struct ProjectEntry {
    pub region: Region,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    /// Looked up at IAM with this project's own credentials (a subproject such as
    /// `cn-north-4_training` works).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_name: Option<IamName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<Cloud>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role: Option<AssumeRoleEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// Pools to keep in this project.
    #[serde(default)]
    pub pools: Arc<[PoolEntry]>,
    /// Added to the file's `protect`.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub protect: Arc<[ProtectRule]>,
    /// Lower than the file's `max_deletes`, never higher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deletes: Option<MaxDeletes>,
    /// Lower than the file's `max_deletes_percent`, never higher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deletes_percent: Option<Percent>,
    /// Terraform state files whose pools this project keeps, in addition to the file's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_terraform_state: Vec<StatePath>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_delete_all: bool,
    /// Longer than the file's `notice`, never shorter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Span>,
}

impl ProjectEntry {
    /// `REGION/PROJECT_NAME` (or `/PROJECT_ID`), with `@DOMAIN` when an agency reaches another
    /// account.
    pub fn label(&self) -> String {
        let project = match (&self.project_name, &self.project_id) {
            (Some(name), _) => name.as_str().to_owned(),
            (None, Some(id)) => id.to_string(),
            (None, None) => String::new(),
        };
        let mut label = format!("{}/{project}", self.region.as_str());
        if let Some(role) = &self.assume_role {
            label.push('@');
            label.push_str(role.domain_text());
        }
        label
    }
}

fn is_empty<T>(items: &Arc<[T]>) -> bool {
    items.is_empty()
}

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(&'static str),
    Index(usize),
}

const LOCATE_MARKER: &str = "\u{0}poolform-locate";

/// Walks the document along `path` and fails there, so serde_yaml reports the position.
struct Locate<'p>(&'p [Seg]);

impl<'de> DeserializeSeed<'de> for Locate<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.0.split_first() {
            None => d.deserialize_any(Here),
            Some((Seg::Key(_), _)) => d.deserialize_map(self),
            Some((Seg::Index(_), _)) => d.deserialize_seq(self),
        }
    }
}

impl<'de> Visitor<'de> for Locate<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the located value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Seg::Key(want), rest)) = self.0.split_first() else {
            return Ok(());
        };
        while let Some(key) = map.next_key::<serde_yaml::Value>()? {
            if key.as_str() == Some(want) {
                return map.next_value_seed(Locate(rest));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Seg::Index(want), rest)) = self.0.split_first() else {
            return Ok(());
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Locate(rest)).map(|_| ())
    }
}

/// Fails on whatever value it is given (every `visit_*` keeps its failing default), so the
/// error is raised inside serde_yaml, at the value's own position.
struct Here;

impl Visitor<'_> for Here {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(LOCATE_MARKER)
    }
}

/// Line and column (1-based) of the value at `path`, or of the nearest parent that exists.
fn locate(text: &str, path: &[Seg]) -> (usize, usize) {
    for len in (0..=path.len()).rev() {
        let de = serde_yaml::Deserializer::from_str(text);
        if let Err(e) = Locate(&path[..len]).deserialize(de) {
            if e.to_string().contains(LOCATE_MARKER) {
                if let Some(loc) = e.location() {
                    return (loc.line(), loc.column());
                }
            }
        }
    }
    (1, 1)
}

/// Top-level and nested keys, for "did you mean" hints.
const KNOWN_KEYS: &[&str] = &[
    "version",
    "project_id",
    "region",
    "cloud",
    "scope",
    "pools",
    "protect",
    "max_deletes",
    "allow_delete_all",
    "name_prefix",
    "enterprise_project_id",
    "type",
    "id",
    "name",
    "expect",
    "tag",
    "key",
    "value",
    "status",
    "availability_zone",
    "image_id",
    "flavor_id",
    "charging_mode",
    "description",
    "in_maintenance_mode",
    "projects",
    "project_name",
    "assume_role",
    "agency",
    "domain",
    "domain_id",
    "min_age",
    "expires",
    "notice",
    "keep_terraform_state",
    "max_deletes_percent",
];

/// Adds "did you mean `pools`?" to serde's "unknown field `pool`, expected ..." messages.
fn with_hint(message: String) -> String {
    let Some(rest) = message.split("unknown field `").nth(1) else {
        return message;
    };
    let Some(unknown) = rest.split('`').next() else {
        return message;
    };
    let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
    let pool: &[&str] = if expected.is_empty() {
        KNOWN_KEYS
    } else {
        &expected
    };
    let unknown = unknown.to_lowercase();
    // Nearest first; between two as near, the one sharing the longer start (`protects` reads
    // as `protect`, not `projects`).
    let shared = |k: &str| {
        unknown
            .chars()
            .zip(k.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    let best = pool
        .iter()
        .map(|k| {
            (
                crate::core::names::edit_distance(&unknown, k),
                std::cmp::Reverse(shared(k)),
                *k,
            )
        })
        .filter(|(d, _, k)| {
            *d <= 2.max(k.len() / 4) || (unknown.len() >= 4 && k.contains(unknown.as_str()))
        })
        .min();
    match best {
        Some((_, _, k)) => format!("{message}; did you mean `{k}`?"),
        None => message,
    }
}

/// Adds what to write to serde's "missing field" messages.
fn with_next_step(message: String) -> String {
    let add = if message.ends_with("missing field `version`") {
        "; add `version: 1` as the file's first line"
    } else if message.ends_with("missing field `key`") {
        "; a tag rule names its key: `{key: env, value: prod}`"
    } else {
        ""
    };
    format!("{message}{add}")
}

/// A hint when line `line` of `text` is indented with a tab, which YAML refuses.
fn tab_hint(text: &str, line: usize) -> &'static str {
    let indented_with_tab = text.lines().nth(line.saturating_sub(1)).is_some_and(|l| {
        l.chars()
            .take_while(|c| c.is_whitespace())
            .any(|c| c == '\t')
    });
    if indented_with_tab {
        "; YAML does not allow tabs in indentation: indent with spaces"
    } else {
        ""
    }
}

/// Parses and validates a config file's text.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
    let at = |(line, column): (usize, usize), message: String| ConfigError {
        file: file.to_owned(),
        line,
        column,
        message,
    };
    if text.len() > MAX_CONFIG_BYTES {
        return Err(at(
            (1, 1),
            format!("the file is larger than {MAX_CONFIG_BYTES} bytes"),
        ));
    }
    // A UTF-8 byte order mark is not YAML content (libyaml would take it for a second
    // document); positions are unaffected, since it stands before line 1, column 1.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(at(
            (1, 1),
            "the file is empty; expected at least `version: 1` and `pools:`".into(),
        ));
    }
    // Bounded before serde_yaml builds anything: depth, size, alias expansion, no tags.
    crate::core::yaml_guard::check(text)
        .map_err(|r| at((r.line, r.column), r.message + tab_hint(text, r.line)))?;
    let config: Config = serde_yaml::from_str(text).map_err(|e| {
        let pos = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        // serde_yaml appends " at line L column C"; the position is given in front instead.
        let mut message = e.to_string();
        if let Some(cut) = message.rfind(" at line ") {
            message.truncate(cut);
        }
        at(
            pos,
            with_next_step(with_hint(message)) + tab_hint(text, pos.0),
        )
    })?;
    validate(&config).map_err(|(path, message)| at(locate(text, &path), message))?;
    Ok(config)
}

/// What one project keeps and protects, as the file spells it: the checks of its keep entries,
/// its own protect rules and the delete-everything guard.
struct Keep<'a> {
    pools: &'a [PoolEntry],
    protect: &'a [ProtectRule],
    scope: Option<&'a Scope>,
    allow_delete_all: bool,
    /// Whether an empty `pools:` without a scope is refused here (not at the top of a file
    /// with `projects:`, which keeps nothing itself).
    guarded: bool,
}

impl<'a> Keep<'a> {
    fn of_file(config: &'a Config) -> Keep<'a> {
        Keep {
            pools: &config.pools,
            protect: &config.protect,
            scope: config.scope.as_ref(),
            allow_delete_all: config.allow_delete_all,
            guarded: !config.is_many(),
        }
    }

    fn of_entry(entry: &'a ProjectEntry) -> Keep<'a> {
        Keep {
            pools: &entry.pools,
            protect: &entry.protect,
            scope: entry.scope.as_ref(),
            allow_delete_all: entry.allow_delete_all,
            guarded: true,
        }
    }
}

/// Checks that need the whole file. Returns the path of the offending value.
fn validate(config: &Config) -> Result<(), (Vec<Seg>, String)> {
    validate_keep(&Keep::of_file(config), &[])?;
    if config.is_many() {
        return validate_many(config);
    }
    Ok(())
}

/// A many-project file: nothing project-specific at the top, each project valid as a file of
/// its own (the file's rules were checked once, at the top), one entry per project, limits
/// only lowered.
fn validate_many(config: &Config) -> Result<(), (Vec<Seg>, String)> {
    let top: [(&'static str, bool); 5] = [
        ("project_id", config.project_id.is_some()),
        ("region", config.region.is_some()),
        ("cloud", config.cloud.is_some()),
        ("scope", config.scope.is_some()),
        ("pools", !config.pools.is_empty()),
    ];
    if let Some((key, _)) = top.iter().find(|(_, set)| *set) {
        return Err((
            vec![Seg::Key(key)],
            format!("`{key}` at the top of a file with `projects:` would name no project: move it into each project that needs it"),
        ));
    }
    if config.allow_delete_all {
        return Err((
            vec![Seg::Key("allow_delete_all")],
            "`allow_delete_all` belongs to the project it allows, inside `projects:`".into(),
        ));
    }
    let mut labels: HashMap<String, usize> = HashMap::new();
    for (i, entry) in config.projects.iter().enumerate() {
        validate_entry(config, i, entry)?;
        // Project ids compare without case (as everywhere): two spellings are one project.
        let label = entry.label();
        let key = if entry.project_id.is_some() {
            label.to_ascii_lowercase()
        } else {
            label.clone()
        };
        if let Some(first) = labels.insert(key, i) {
            return Err((vec![Seg::Key("projects"), Seg::Index(i)], format!("projects[{i}] is {label}, as projects[{first}] is: one entry would delete the other's pools")));
        }
    }
    Ok(())
}

/// One entry of `projects:`: one of project_id and project_name, one of an agency's domain
/// and domain_id, a limit no higher than the file's, its keep entries and its own rules.
fn validate_entry(
    config: &Config,
    i: usize,
    entry: &ProjectEntry,
) -> Result<(), (Vec<Seg>, String)> {
    let at = |key: &'static str| vec![Seg::Key("projects"), Seg::Index(i), Seg::Key(key)];
    match (&entry.project_id, &entry.project_name) {
        (Some(_), Some(_)) => {
            return Err((at("project_name"), format!("projects[{i}] has both project_id and project_name; give one of them")))
        }
        (None, None) => {
            return Err((vec![Seg::Key("projects"), Seg::Index(i)], format!("projects[{i}] names no project: give project_id, or project_name (looked up at IAM)")))
        }
        _ => {}
    }
    if let Some(role) = &entry.assume_role {
        if role.domain.is_some() == role.domain_id.is_some() {
            return Err((at("assume_role"), format!("projects[{i}].assume_role needs exactly one of domain and domain_id (the account that created the agency)")));
        }
    }
    if let (Some(own), Some(file)) = (entry.notice, config.notice) {
        if own < file {
            return Err((at("notice"), format!("projects[{i}].notice is {own}, shorter than the file's notice {file}: a project may lengthen the notice, never shorten it")));
        }
    }
    if let (Some(own), Some(file)) = (entry.max_deletes_percent, config.max_deletes_percent) {
        if own > file {
            return Err((at("max_deletes_percent"), format!("projects[{i}].max_deletes_percent is {own}, higher than the file's max_deletes_percent {file}: a project may lower the limit, never raise it")));
        }
    }
    if let (Some(own), Some(file)) = (entry.max_deletes, config.max_deletes) {
        if own.0 > file.0 {
            return Err((at("max_deletes"), format!("projects[{i}].max_deletes is {}, higher than the file's max_deletes {}: a project may lower the limit, never raise it", own.0, file.0)));
        }
    }
    validate_keep(
        &Keep::of_entry(entry),
        &[Seg::Key("projects"), Seg::Index(i)],
    )
    .map_err(|(path, message)| {
        (
            path,
            format!("in projects[{i}] ({}): {message}", entry.label()),
        )
    })
}

/// The keep entries, protect rules and the delete-everything guard of one project (or of the
/// file's top level); paths under `prefix`.
fn validate_keep(keep: &Keep, prefix: &[Seg]) -> Result<(), (Vec<Seg>, String)> {
    let path = |rest: &[Seg]| -> Vec<Seg> { prefix.iter().chain(rest).cloned().collect() };
    let mut ids: HashMap<&PoolId, usize> = HashMap::new();
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, entry) in keep.pools.iter().enumerate() {
        let here = |key| path(&[Seg::Key("pools"), Seg::Index(i), Seg::Key(key)]);
        if entry.id.is_none() && entry.name.is_none() {
            return Err((
                path(&[Seg::Key("pools"), Seg::Index(i)]),
                format!("pools[{i}] has neither id nor name; give one of them"),
            ));
        }
        if let Some(id) = &entry.id {
            if let Some(first) = ids.insert(id, i) {
                return Err((
                    here("id"),
                    format!("duplicate id {id} in pools[{i}] (also pools[{first}])"),
                ));
            }
        }
        if let Some(name) = &entry.name {
            if name.is_empty() {
                return Err((here("name"), format!("pools[{i}] has an empty name")));
            }
            // The name is the key only where there is no id: two entries keyed by one name
            // would keep the same pool twice, or quarrel over which one.
            if entry.id.is_some() {
                continue;
            }
            if let Some(first) = names.insert(name, i) {
                return Err((
                    here("name"),
                    format!("duplicate name {name:?} in pools[{i}] (also pools[{first}])"),
                ));
            }
        }
    }
    for (i, rule) in keep.protect.iter().enumerate() {
        let set = usize::from(rule.name.is_some())
            + usize::from(rule.id.is_some())
            + usize::from(rule.tag.is_some());
        if set != 1 {
            return Err((
                path(&[Seg::Key("protect"), Seg::Index(i)]),
                format!("protect[{i}] must have exactly one of name, id or tag (it has {set})"),
            ));
        }
    }
    let scoped = keep.scope.is_some_and(Scope::is_restrictive);
    if keep.guarded && keep.pools.is_empty() && !scoped && !keep.allow_delete_all {
        return Err((
            path(&[Seg::Key("pools")]),
            "pools is empty and there is no scope: every pool in the project would be planned for deletion. \
             List the pools to keep, narrow the file with scope:, or set allow_delete_all: true"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    const GOOD: &str = r#"version: 1
project_id: 0bec5db98280d2d02fd6c00c2de791ce
region: cn-north-4
scope:
  name_prefix: ci-
  enterprise_project_id: "0"
  type: DYNAMIC
pools:
  - id: a130ab3a-72bf-4b71-baa9-af4987c8e338
    name: ci-finance
  - name: ci-eng
    expect: {type: STATIC}
protect:
  - name: "ci-prod-*"
  - tag: {key: env, value: prod}
max_deletes: 20
"#;

    #[test]
    fn the_design_example_parses() {
        let c = parse(GOOD, "pools.yaml").unwrap();
        assert_eq!(c.pools.len(), 2);
        assert_eq!(c.max_deletes, Some(MaxDeletes(20)));
        assert_eq!(c.scope.unwrap().pool_type, Some(PoolType::Dynamic));
        assert_eq!(c.protect[0].describe(), "name \"ci-prod-*\"");
    }

    /// `(file text, expected "line:column: message" fragment)`.
    const BAD: &[(&str, &str)] = &[
        // many projects
        (
            "version: 1\nregion: cn-north-4\nprojects:\n  - {region: cn-north-4, project_id: p1, pools: [{name: a}]}\n",
            "2:9: `region` at the top of a file with `projects:` would name no project",
        ),
        (
            "version: 1\nprojects:\n  - region: cn-north-4\n    project_id: p1\n    project_name: cn-north-4\n    pools: [{name: a}]\n",
            "5:19: projects[0] has both project_id and project_name",
        ),
        (
            "version: 1\nprojects:\n  - region: cn-north-4\n    pools: [{name: a}]\n",
            "3:5: projects[0] names no project",
        ),
        (
            "version: 1\nprojects:\n  - {region: cn-north-4, project_id: p1, pools: [{name: a}]}\n  - {region: cn-north-4, project_id: p1, pools: [{name: b}]}\n",
            "4:5: projects[1] is cn-north-4/p1, as projects[0] is",
        ),
        (
            "version: 1\nprojects:\n  - region: eu-west-101\n    project_id: p1\n    assume_role: {agency: poolform}\n    pools: [{name: a}]\n",
            "5:18: projects[0].assume_role needs exactly one of domain and domain_id",
        ),
        (
            "version: 1\nprojects:\n  - {region: cn-north-4, project_id: p1, pools: [{name: a}]}\n  - region: cn-north-4\n    project_id: p2\n    pools: []\n",
            "6:12: in projects[1] (cn-north-4/p2): pools is empty and there is no scope",
        ),
        (
            "version: 1\nprojects:\n  - region: cn-north-4\n    project_id: p1\n    pools:\n      - {name: a}\n      - {name: a}\n",
            "7:16: in projects[0] (cn-north-4/p1): duplicate name \"a\" in pools[1] (also pools[0])",
        ),
        (
            "version: 1\nprojects:\n  - region: cn-north-4\n    project_id: p1\n    project_nmae: x\n    pools: []\n",
            "did you mean `project_name`?",
        ),
        ("", "1:1: the file is empty"),
        ("   \n\n", "1:1: the file is empty"),
        ("version: 1\npool: []\n", "2:1: unknown field `pool`, expected one of `version`, `project_id`, `region`, `cloud`, `scope`, `pools`, `protect`, `max_deletes`, `max_deletes_percent`, `keep_terraform_state`, `allow_delete_all`, `notice`, `projects`; did you mean `pools`?"),
        ("version: 1\ncloud: evil.com/x\npools: [{id: a}]\n", "2:8: cloud: cloud \"evil.com/x\" is not a domain name"),
        ("version: 1\npools:\n  - id: a\n    nmae: x\n", "4:5: pools[0]: unknown field `nmae`, expected one of `id`, `name`, `expect`, `expires`; did you mean `name`?"),
        ("version: 2\npools: [{id: a}]\n", "1:10: version: unsupported version 2; this poolform reads version 1"),
        ("version: one\n", "1:10: version: invalid type: string \"one\""),
        ("pools: [{id: a}]\n", "1:1: missing field `version`"),
        ("version: 1\npools:\n  - id: a\n  - id: a\n", "4:9: duplicate id a in pools[1] (also pools[0])"),
        ("version: 1\npools:\n  - name: x\n  - id: b\n  - name: x\n", "5:11: duplicate name \"x\" in pools[2] (also pools[0])"),
        ("version: 1\npools: [{id: a}, {id: a}]\n", "2:23: duplicate id a"),
        ("version: 1\npools:\n  - id: ../etc\n", "3:9: pools[0].id: contains '.'"),
        ("version: 1\npools:\n  - id: a/b\n", "contains '/'"),
        ("version: 1\npools:\n  - id: \"\"\n", "pools[0].id: is empty"),
        ("version: 1\npools:\n  - id: 123e4567-e89b-12d3-a456-426614174000-plus-a-lot-more-characters-than-fit\n", "is longer than 64"),
        ("version: 1\nproject_id: \"p/1\"\npools: [{id: a}]\n", "2:13: project_id: contains '/'"),
        ("version: 1\nregion: CN_NORTH\npools: [{id: a}]\n", "region \"CN_NORTH\" is not a region name"),
        ("version: 1\npools:\n  - expect: {type: STATIC}\n", "3:5: pools[0] has neither id nor name"),
        ("version: 1\npools:\n  - name: \"\"\n", "pools[0] has an empty name"),
        ("version: 1\npools:\n  - id: a\n    expect: {colour: red}\n", "pools[0].expect: unknown field `colour`"),
        ("version: 1\npools:\n  - id: a\n    expect: {typ: STATIC}\n", "did you mean `type`?"),
        ("version: 1\npools:\n  - id: a\n    expect: {type: HUGE}\n", "unknown variant `HUGE`, expected `DYNAMIC` or `STATIC`"),
        ("version: 1\npools: [{id: a}]\nmax_deletes: 0\n", "3:14: max_deletes: max_deletes must be a whole number of at least 1, not 0"),
        ("version: 1\npools: [{id: a}]\nmax_deletes: -5\n", "not -5"),
        ("version: 1\npools: [{id: a}]\nmax_deletes: lots\n", "max_deletes: invalid type: string \"lots\""),
        ("version: 1\npools: [{id: a}]\nprotect:\n  - name: \"ci-[\"\n", "invalid glob \"ci-[\""),
        ("version: 1\npools: [{id: a}]\nprotect:\n  - {}\n", "4:5: protect[0] must have exactly one of name, id or tag (it has 0)"),
        ("version: 1\npools: [{id: a}]\nprotect:\n  - name: x\n    id: b\n", "protect[0] must have exactly one of name, id or tag (it has 2)"),
        ("version: 1\npools: [{id: a}]\nprotect:\n  - tag: {value: prod}\n", "missing field `key`"),
        ("version: 1\npools: []\n", "2:8: pools is empty and there is no scope"),
        ("version: 1\n", "1:1: pools is empty and there is no scope"),
        ("version: 1\nscope: {}\npools: []\n", "pools is empty and there is no scope"),
        ("version: 1\nscope: {name_prefix: \"\"}\n", "pools is empty and there is no scope"),
        ("version: 1\nscope: {prefix: ci-}\npools: []\n", "2:9: scope: unknown field `prefix`, expected one of `name_prefix`, `enterprise_project_id`, `type`, `min_age`; did you mean `name_prefix`?"),
        ("version: 1\nscope: {type: dynamic}\n", "unknown variant `dynamic`"),
        ("version: 1\npools: {id: a}\n", "pools: invalid type: map, expected a sequence"),
        ("version: 1\npools:\n  - a130ab3a\n", "pools[0]: invalid type: string \"a130ab3a\", expected a pool entry such as `{id: ..., name: ...}`"),
        ("- just\n- a list\n", "1:1: invalid type: sequence, expected a mapping with `version: 1` and `pools:`"),
        ("version: 1\nversion: 1\npools: [{id: a}]\n", "duplicate field `version`"),
        ("version: 1\npools: [{id: a}\n", "did not find expected"),
        ("\u{0}\u{1}\u{2}binary", "control characters are not allowed"),
        ("version: 1\nscope: {name_prefix: ci-, min_age: 7}\n", "2:36: scope.min_age: \"7\" is not a duration"),
        ("version: 1\nscope: {name_prefix: ci-, min_age: 7 days}\n", "2:36: scope.min_age: \"7 days\" is not a duration"),
        ("version: 1\nscope: {name_prefix: ci-, min_age: 1y}\n", "2:36: scope.min_age: \"1y\" is not a duration"),
        ("version: 1\nscope: {name_prefix: ci-, min_age: -3d}\n", "2:36: scope.min_age: \"-3d\" is not a duration"),
        ("version: 1\nscope: {name_prefix: ci-, min_age: \"\"}\n", "2:36: scope.min_age: \"\" is not a duration"),
        ("version: 1\nnotice: 4\npools: [{id: a}]\n", "2:9: notice: \"4\" is not a duration"),
        ("version: 1\npools:\n  - {id: a, expires: 2026-13-01}\n", "3:22: pools[0].expires: \"2026-13-01\" is not an instant"),
        ("version: 1\npools:\n  - {id: a, expires: \"2026-12-01T10:00\"}\n", "3:22: pools[0].expires: \"2026-12-01T10:00\" is not an instant"),
        ("version: 1\npools:\n  - {id: a, expires: 20261231}\n", "3:22: pools[0].expires: \"20261231\" is not an instant"),
        ("version: 1\npools:\n  - {id: a, expires: next friday}\n", "3:22: pools[0].expires: \"next friday\" is not an instant"),
        ("version: 1\npools: [{id: a}]\nprotect:\n  - {name: x, expires: 2026-02-30}\n", "4:24: protect[0].expires: \"2026-02-30\" is not an instant"),
        ("version: 1\nnotice: 1w\nprojects:\n  - {region: cn-north-4, project_id: p1, notice: 3d, pools: [{name: a}]}\n", "projects[0].notice is 3d, shorter than the file's notice 1w"),
        ("version: 1\npools: [{id: a}]\nmax_deletes_percent: 101\n", "3:22: max_deletes_percent: max_deletes_percent must be a number from 0 to 100, not 101"),
        ("version: 1\npools: [{id: a}]\nmax_deletes_percent: -0.5\n", "not -0.5"),
        ("version: 1\npools: [{id: a}]\nmax_deletes_percent: lots\n", "max_deletes_percent: invalid type: string \"lots\", expected a number from 0 to 100"),
        ("version: 1\nmax_deletes_percent: 10\nprojects:\n  - {region: cn-north-4, project_id: p1, max_deletes_percent: 20, pools: [{name: a}]}\n", "projects[0].max_deletes_percent is 20%, higher than the file's max_deletes_percent 10%"),
        ("version: 1\npools: [{id: a}]\nkeep_terraform_state: [/etc/tf.state]\n", "3:24: keep_terraform_state[0]: keep_terraform_state \"/etc/tf.state\": is absolute"),
        ("version: 1\npools: [{id: a}]\nkeep_terraform_state: [../other/tf.state]\n", "leaves the config file's folder (`..`)"),
        ("version: 1\npools: [{id: a}]\nkeep_terraform_state: [states/../../x]\n", "leaves the config file's folder"),
        ("version: 1\npools: [{id: a}]\nkeep_terraform_state: [\"\"]\n", "keep_terraform_state \"\": is empty"),
        ("version: 1\npools: [{id: a}]\nkeep_terraform_state: [\"s[\"]\n", "is not a valid glob"),
        ("version: 1\npools: [{id: a}]\nprotects:\n  - name: x\n", "did you mean `protect`?"),
        ("version: 1\npools:\n\t- id: a\n", "YAML does not allow tabs in indentation: indent with spaces"),
        ("version: 1\nallow_delete_all: yes\npools: []\n", "allow_delete_all: invalid type: string \"yes\", expected a boolean"),
    ];

    #[test]
    fn every_bad_file_names_line_column_and_problem() {
        let mut failures = Vec::new();
        for (text, want) in BAD {
            let err = parse(text, "pools.yaml").unwrap_err().to_string();
            if !err.starts_with("pools.yaml:") || !err.contains(want) {
                failures.push(format!("{text:?}\n  got:  {err}\n  want: {want}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn alias_bombs_fail_fast() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            bomb.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        bomb.push_str("version: 1\npools: [{id: a}]\n");
        let err = parse(&bomb, "bomb.yaml").unwrap_err().to_string();
        assert!(
            err.starts_with("bomb.yaml:") && err.contains("more than 500000 values"),
            "{err}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_accepted_and_tags_are_refused_at_their_position() {
        let with_bom = "\u{feff}version: 1\npools: [{id: a}]\n";
        assert_eq!(parse(with_bom, "f").unwrap().pools.len(), 1);
        let err = parse("\u{feff}version: 1\npools: [{id: !!binary YQ==}]\n", "f")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("f:2:14: explicit YAML tags are not allowed"),
            "{err}"
        );
        // anchors and aliases stay usable within the budget
        let anchored = "version: 1\ncommon: &c {type: STATIC}\n";
        assert!(parse(anchored, "f")
            .unwrap_err()
            .to_string()
            .contains("unknown field `common`"));
        let ok = "version: 1\npools:\n  - id: a\n    expect: &c {type: STATIC}\n  - id: b\n    expect: *c\n";
        assert_eq!(
            parse(ok, "f").unwrap().pools[1]
                .expect
                .as_ref()
                .unwrap()
                .pool_type,
            Some(PoolType::Static)
        );
    }

    #[test]
    fn delete_all_is_allowed_when_asked_or_scoped() {
        for ok in [
            "version: 1\npools: []\nallow_delete_all: true\n",
            "version: 1\nscope: {name_prefix: tmp-}\n",
        ] {
            assert!(parse(ok, "f").is_ok(), "{ok}");
        }
    }

    #[test]
    fn protect_rules_match() {
        let pool = |name: &str, tags: &[(&str, &str)]| {
            let mut p = Pool::new(PoolId::parse("p-1").unwrap(), name);
            p.tags = tags
                .iter()
                .map(|(k, v)| crate::core::model::Tag {
                    key: (*k).into(),
                    value: (*v).into(),
                })
                .collect();
            p
        };
        let rule = |yaml: &str| serde_yaml::from_str::<ProtectRule>(yaml).unwrap();
        let cases = [
            ("name: ci-prod-*", pool("ci-prod-1", &[]), true),
            ("name: ci-prod-*", pool("ci-dev-1", &[]), false),
            ("name: ci-?", pool("ci-a", &[]), true),
            ("name: CI-*", pool("ci-a", &[]), false),
            ("id: p-1", pool("x", &[]), true),
            ("id: p-2", pool("x", &[]), false),
            (
                "tag: {key: env, value: prod}",
                pool("x", &[("env", "prod")]),
                true,
            ),
            (
                "tag: {key: env, value: prod}",
                pool("x", &[("env", "dev")]),
                false,
            ),
            ("tag: {key: env}", pool("x", &[("env", "dev")]), true),
            ("tag: {key: env}", pool("x", &[]), false),
            (
                "tag: {key: env, value: prod}",
                pool("x", &[("env", "dev"), ("env", "prod")]),
                true,
            ),
            ("id: P-1", pool("x", &[]), true),
        ];
        for (yaml, pool, want) in cases {
            assert_eq!(rule(yaml).matches(&pool), want, "{yaml} vs {}", pool.name);
        }
    }

    #[test]
    fn hints_pick_the_nearest_key_or_none() {
        assert!(
            with_hint("unknown field `pool`, expected `version` or `pools`".into())
                .ends_with("did you mean `pools`?")
        );
        assert!(
            !with_hint("unknown field `zzzzzz`, expected `version` or `pools`".into())
                .contains("did you mean")
        );
        assert_eq!(with_hint("other".into()), "other");
    }
}
