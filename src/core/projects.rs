//! Many projects in one file: a `projects:` entry, its label, the agency it may reach another
//! account through, and the single-project config each entry is planned as (the file's
//! `protect` added, its `max_deletes` as the ceiling).

use crate::core::config::{
    Cloud, Config, MaxDeletes, PoolEntry, ProtectRule, Region, Scope, Version,
};
use crate::core::model::ProjectId;
use crate::core::validated;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::fmt;

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
    pub pools: Vec<PoolEntry>,
    /// Added to the file's `protect`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protect: Vec<ProtectRule>,
    /// Lower than the file's `max_deletes`, never higher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deletes: Option<MaxDeletes>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_delete_all: bool,
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

/// A project of a many-project file, ready to plan as a single-project file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub label: String,
    /// Its index in `projects:`, for messages (`projects[2]`).
    pub index: usize,
    pub entry: ProjectEntry,
    /// The single-project config it is planned with.
    pub config: Config,
}

/// The single-project config of `entry` in `file`: the file's `protect` first, then the
/// entry's; the lower of the two `max_deletes`.
pub fn project_config(file: &Config, entry: &ProjectEntry) -> Config {
    let mut protect = file.protect.clone();
    protect.extend(entry.protect.iter().cloned());
    let max_deletes = match (file.max_deletes, entry.max_deletes) {
        (Some(a), Some(b)) => Some(MaxDeletes(a.0.min(b.0))),
        (a, b) => a.or(b),
    };
    Config {
        version: Version,
        project_id: entry.project_id.clone(),
        region: Some(entry.region.clone()),
        cloud: entry.cloud.clone(),
        scope: entry.scope.clone(),
        pools: entry.pools.clone(),
        protect,
        max_deletes,
        allow_delete_all: entry.allow_delete_all,
        projects: Vec::new(),
    }
}

/// The projects of a many-project file, in file order.
pub fn projects(file: &Config) -> Vec<Project> {
    file.projects
        .iter()
        .enumerate()
        .map(|(index, entry)| Project {
            label: entry.label(),
            index,
            entry: entry.clone(),
            config: project_config(file, entry),
        })
        .collect()
}

/// `--only` refers to a project that the file does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--only {only:?} names no project of {file}; its projects are {}", labels.join(", "))]
pub struct UnknownOnly {
    pub only: String,
    pub file: String,
    pub labels: Vec<String>,
}

/// The projects `only` selects (all when it is empty), in file order.
pub fn select(all: Vec<Project>, only: &[String], file: &str) -> Result<Vec<Project>, UnknownOnly> {
    for wanted in only {
        if !all.iter().any(|p| p.label == *wanted) {
            return Err(UnknownOnly {
                only: wanted.clone(),
                file: file.to_owned(),
                labels: all.iter().map(|p| p.label.clone()).collect(),
            });
        }
    }
    Ok(all
        .into_iter()
        .filter(|p| only.is_empty() || only.contains(&p.label))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Config {
        crate::core::config::parse(text, "pools.yaml").unwrap()
    }

    const THREE: &str = "version: 1
protect:
  - name: \"prod-*\"
max_deletes: 10
projects:
  - region: cn-north-4
    project_id: 0bec5db98280d2d02fd6c00c2de791ce
    pools: [{name: ci-eng}]
  - region: cn-north-4
    project_name: cn-north-4_training
    scope: {name_prefix: lab-}
    max_deletes: 3
    pools: []
  - region: eu-west-101
    project_name: eu-west-101
    assume_role: {agency: poolform, domain: tenant-b}
    protect: [{name: keep-me}]
    pools: [{name: eu-ops}]
";

    #[test]
    fn labels_protect_and_limits_follow_the_file() {
        let all = projects(&file(THREE));
        let labels: Vec<&str> = all.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "cn-north-4/0bec5db98280d2d02fd6c00c2de791ce",
                "cn-north-4/cn-north-4_training",
                "eu-west-101/eu-west-101@tenant-b"
            ]
        );
        let limits: Vec<Option<u32>> = all
            .iter()
            .map(|p| p.config.max_deletes.map(|m| m.0))
            .collect();
        assert_eq!(limits, [Some(10), Some(3), Some(10)]);
        let protects: Vec<usize> = all.iter().map(|p| p.config.protect.len()).collect();
        assert_eq!(
            protects,
            [1, 1, 2],
            "the file's rule in every project, the entry's added"
        );
        assert_eq!(
            all[2].entry.assume_role.as_ref().unwrap().allow_key(),
            "poolform@tenant-b"
        );
    }

    #[test]
    fn only_selects_by_label_and_refuses_an_unknown_one() {
        let all = projects(&file(THREE));
        let one = select(
            all.clone(),
            &["cn-north-4/cn-north-4_training".into()],
            "pools.yaml",
        )
        .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(select(all.clone(), &[], "pools.yaml").unwrap().len(), 3);
        let err = select(all, &["cn-north-4/nope".into()], "pools.yaml").unwrap_err();
        assert!(err.to_string().starts_with("--only \"cn-north-4/nope\" names no project of pools.yaml; its projects are cn-north-4/0bec"), "{err}");
    }
}
