//! The projects a config means, as one list: a file without `projects:` is a list of one
//! project whose place the run completes (flags, environment, profile); each `projects:` entry
//! is a project whose place the file alone names. Every project shares the file's protect
//! rules (one copy, however many projects). Which of them a run covers (`--only`).

use crate::core::config::{AssumeRoleEntry, Cloud, Config, IamName, ProtectRule, Region};
use crate::core::model::ProjectId;
use crate::core::rules::{Protect, Rules};
use std::sync::Arc;

/// Where a project is, as the config names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A file of one project: what it names, completed by flags, environment and profile.
    Run {
        region: Option<Region>,
        project_id: Option<ProjectId>,
        cloud: Option<Cloud>,
    },
    /// An entry of `projects:`: the file alone names where it is.
    Entry(Box<EntryPlace>),
}

/// Where `projects[index]` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPlace {
    pub index: usize,
    /// `REGION/PROJECT` (with `@DOMAIN` for another account), as `--only` names it.
    pub label: String,
    pub region: Region,
    pub project_id: Option<ProjectId>,
    /// Looked up at IAM with the project's own credentials.
    pub project_name: Option<IamName>,
    pub cloud: Option<Cloud>,
    pub assume_role: Option<AssumeRoleEntry>,
}

/// One project of a config, ready to resolve, plan and judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub place: Place,
    pub rules: Rules,
    /// The project's own `max_deletes` (an entry may lower the file's, which caps every
    /// project and the whole file).
    pub max_deletes: Option<u32>,
    /// How long before its deletes they must be announced (`plan --notice`): the project's
    /// own `notice`, else the file's; `None`: no announcement is needed.
    pub notice: Option<crate::core::time::Span>,
}

impl Project {
    /// Its label, in a file with `projects:`.
    pub fn label(&self) -> Option<&str> {
        match &self.place {
            Place::Run { .. } => None,
            Place::Entry(e) => Some(&e.label),
        }
    }

    /// The region the config names for it.
    pub fn region(&self) -> Option<&Region> {
        match &self.place {
            Place::Run { region, .. } => region.as_ref(),
            Place::Entry(e) => Some(&e.region),
        }
    }
}

/// Every project `file` means, in file order: one for a file without `projects:`.
pub fn projects(file: &Config) -> Vec<Project> {
    let shared: Arc<[ProtectRule]> = file.protect.clone();
    if !file.is_many() {
        return vec![Project {
            place: Place::Run {
                region: file.region.clone(),
                project_id: file.project_id.clone(),
                cloud: file.cloud.clone(),
            },
            rules: Rules {
                scope: file.scope.clone(),
                pools: file.pools.clone(),
                protect: Protect::new(shared, Arc::new([])),
                terraform: Arc::default(),
            },
            max_deletes: None,
            notice: file.notice,
        }];
    }
    file.projects
        .iter()
        .enumerate()
        .map(|(index, entry)| Project {
            place: Place::Entry(Box::new(EntryPlace {
                index,
                label: entry.label(),
                region: entry.region.clone(),
                project_id: entry.project_id.clone(),
                project_name: entry.project_name.clone(),
                cloud: entry.cloud.clone(),
                assume_role: entry.assume_role.clone(),
            })),
            rules: Rules {
                scope: entry.scope.clone(),
                pools: entry.pools.clone(),
                protect: Protect::new(shared.clone(), entry.protect.clone()),
                terraform: Arc::default(),
            },
            max_deletes: entry.max_deletes.map(|m| m.0),
            notice: entry.notice.or(file.notice),
        })
        .collect()
}

/// The one project of a file without `projects:`; none for a file of several (whose top
/// level is never planned).
pub fn the_one(file: &Config) -> Option<Project> {
    (!file.is_many()).then(|| projects(file).remove(0))
}

/// Two entries that resolve to the same endpoint and project: each would delete the pools the
/// other keeps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{first} and {second} are the same project ({project_id} at {endpoint}): each would delete the pools the other keeps; list it once; nothing was planned or deleted")]
pub struct SameProject {
    pub first: String,
    pub second: String,
    pub project_id: ProjectId,
    pub endpoint: String,
}

/// Refuses two projects (label, endpoint, project id as resolved) that are one (ids compare
/// without case).
pub fn refuse_duplicates<'a>(
    resolved: impl IntoIterator<Item = (&'a str, String, &'a ProjectId)>,
) -> Result<(), SameProject> {
    let mut seen: std::collections::HashMap<(String, &ProjectId), &str> =
        std::collections::HashMap::new();
    for (label, endpoint, project_id) in resolved {
        if let Some(first) = seen.insert((endpoint.clone(), project_id), label) {
            return Err(SameProject {
                first: first.to_owned(),
                second: label.to_owned(),
                project_id: project_id.clone(),
                endpoint,
            });
        }
    }
    Ok(())
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
    let labels = || all.iter().filter_map(|p| p.label()).map(str::to_owned);
    for wanted in only {
        if !labels().any(|l| l == *wanted) {
            return Err(UnknownOnly {
                only: wanted.clone(),
                file: file.to_owned(),
                labels: labels().collect(),
            });
        }
    }
    Ok(all
        .into_iter()
        .filter(|p| only.is_empty() || p.label().is_some_and(|l| only.iter().any(|o| o == l)))
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
        let labels: Vec<&str> = all.iter().filter_map(Project::label).collect();
        assert_eq!(
            labels,
            [
                "cn-north-4/0bec5db98280d2d02fd6c00c2de791ce",
                "cn-north-4/cn-north-4_training",
                "eu-west-101/eu-west-101@tenant-b"
            ]
        );
        let limits: Vec<Option<u32>> = all.iter().map(|p| p.max_deletes).collect();
        assert_eq!(limits, [None, Some(3), None], "each project's own");
        let protects: Vec<usize> = all.iter().map(|p| p.rules.protect.len()).collect();
        assert_eq!(
            protects,
            [1, 1, 2],
            "the file's rule in every project, the entry's added"
        );
        let Place::Entry(third) = &all[2].place else {
            panic!("an entry")
        };
        assert_eq!(
            third.assume_role.as_ref().unwrap().allow_key(),
            "poolform@tenant-b"
        );
    }

    #[test]
    fn a_file_of_one_project_is_a_list_of_one() {
        let all = projects(&file(
            "version: 1\nregion: cn-north-4\nscope: {name_prefix: ci-}\nprotect: [{name: x}]\n",
        ));
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].label(), None);
        assert_eq!(all[0].region().map(Region::as_str), Some("cn-north-4"));
        assert_eq!(all[0].rules.protect.len(), 1);
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
