//! Many projects in one file: the projects a run covers (`--only`), each with its label and
//! the single-project config it is planned as. The `projects:` entries themselves are part of
//! the config's schema (`config`).

use crate::core::config::{Config, ProjectEntry};

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

/// The projects of a many-project file, in file order.
pub fn projects(file: &Config) -> Vec<Project> {
    file.projects
        .iter()
        .enumerate()
        .map(|(index, entry)| Project {
            label: entry.label(),
            index,
            entry: entry.clone(),
            config: file.project_config(entry),
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
