//! The config `poolform import` writes: one entry per live pool, kept by id, so that `plan`
//! right after it is in sync. Pure: takes the listing and what the header names.
//!
//! A name is written beside the id only where it is unique among the live pools (it then
//! reads as documentation, and a rename shows as drift). A name two pools share, or an empty
//! one, would be a key that matches nothing or several pools: the entry keeps the id alone
//! and a comment says why.

use crate::core::config::Region;
use crate::core::model::{Live, Pool, ProjectId};
use std::collections::HashMap;
use std::fmt::Write as _;

/// One project an import writes: where it was listed, and its live pools.
#[derive(Debug, Clone)]
pub struct ImportedProject<'a> {
    pub region: Option<&'a str>,
    /// Its name at IAM, in a file with `projects:` (written as a comment beside the id); none
    /// for a file of one project.
    pub name: Option<&'a str>,
    pub project_id: &'a ProjectId,
    pub endpoint: &'a str,
    pub live: &'a Live,
}

/// Why an import of projects found at IAM cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChooseError {
    #[error("IAM lists no regional project for these credentials (it lists {known}); desktop pools live in a region's project (such as cn-north-4 or cn-north-4_training); nothing was written")]
    NoneRegional { known: String },
    #[error("{0:?} is not a regional project (desktop pools live in a region's project, such as cn-north-4 or cn-north-4_training); nothing was written")]
    NotRegional(String),
    #[error("IAM lists no project named {wanted:?} for these credentials; it lists {known}")]
    Unknown { wanted: String, known: String },
}

/// Of the projects IAM lists (`known`, name and id), those an import covers: every regional
/// one (`all`: named after its region, `cn-north-4` or `cn-north-4_training`; others, such as
/// `MOS`, hold no desktop pools), and those `wanted` by name; each with its region.
pub fn choose<'a>(
    known: &'a [(String, ProjectId)],
    all: bool,
    wanted: &[String],
) -> Result<Vec<(Region, &'a str, &'a ProjectId)>, ChooseError> {
    let names = || {
        let all: Vec<&str> = known.iter().map(|(n, _)| n.as_str()).collect();
        crate::core::escape::visible(&all.join(", ")).into_owned()
    };
    let regional: Vec<(Region, &str, &ProjectId)> = known
        .iter()
        .filter_map(|(name, id)| {
            let region = name.split('_').next().unwrap_or_default();
            let named_so = crate::core::model::is_region_name(region) && region.contains('-');
            let region = named_so.then(|| Region::parse(region).ok()).flatten()?;
            Some((region, name.as_str(), id))
        })
        .collect();
    if all && regional.is_empty() {
        return Err(ChooseError::NoneRegional { known: names() });
    }
    let mut out = if all { regional.clone() } else { Vec::new() };
    for wanted in wanted {
        match regional.iter().find(|(_, n, _)| n == wanted) {
            Some(p) => out.push(p.clone()),
            None if known.iter().any(|(n, _)| n == wanted) => {
                return Err(ChooseError::NotRegional(wanted.clone()))
            }
            None => {
                return Err(ChooseError::Unknown {
                    wanted: wanted.clone(),
                    known: names(),
                })
            }
        }
    }
    Ok(out)
}

/// Why there is nothing worth writing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("no live pools to import; an empty pools.yaml would plan to delete every pool created later")]
    Nothing,
}

/// A string as a YAML scalar (quoted when it must be, escaped where it must be).
fn scalar(s: &str) -> String {
    match serde_yaml::to_string(s) {
        Ok(text) => text.trim_end_matches('\n').to_owned(),
        // A string always serializes; fall back to a JSON string, which YAML reads too.
        Err(_) => serde_json::to_string(s).unwrap_or_default(),
    }
}

/// What an import knows of Terraform: the pools its states manage (left out of the keep
/// list), and the `keep_terraform_state` paths to write (relative to the written file).
#[derive(Debug, Clone, Copy, Default)]
pub struct TerraformKept<'a> {
    pub managed: Option<&'a crate::core::tfstate::Managed>,
    pub paths: &'a [String],
}

/// The pools of `live` an import keeps (in scope of `name_prefix`, not managed by Terraform),
/// sorted by name then id.
fn kept<'l>(
    live: &'l Live,
    name_prefix: Option<&str>,
    terraform: &TerraformKept<'_>,
) -> Vec<&'l Pool> {
    let mut pools: Vec<&Pool> = live
        .pools()
        .iter()
        .filter(|p| name_prefix.is_none_or(|prefix| p.name.starts_with(prefix)))
        .filter(|p| terraform.managed.is_none_or(|m| m.get(&p.id).is_none()))
        .collect();
    pools.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    pools
}

/// The `pools:` list of `pools` (with `indent` before each line), names written only where
/// they are unique among the live pools.
fn write_pools(out: &mut String, live: &Live, pools: &[&Pool], indent: &str) {
    if pools.is_empty() {
        let _ = writeln!(out, "{indent}pools: []");
        return;
    }
    let mut sharing: HashMap<&str, usize> = HashMap::new();
    for p in live.pools() {
        *sharing.entry(&*p.name).or_default() += 1;
    }
    let _ = writeln!(out, "{indent}pools:");
    for p in pools {
        let shared = sharing.get(&*p.name).copied().unwrap_or(0);
        if p.name.is_empty() {
            let _ = writeln!(
                out,
                "{indent}  - id: {}  # this pool has no name: kept by id",
                p.id
            );
        } else if shared > 1 {
            let _ = writeln!(
                out,
                "{indent}  - id: {}  # its name is shared by {shared} live pools: kept by id",
                p.id
            );
            let _ = writeln!(out, "{indent}    # name: {}", scalar(&p.name));
        } else {
            let _ = writeln!(out, "{indent}  - id: {}", p.id);
            let _ = writeln!(out, "{indent}    name: {}", scalar(&p.name));
        }
    }
}

/// The text of an imported config and how many pools it keeps: a file of one project for a
/// project without a name, else a file with `projects:` (each project by id, its pools kept).
/// A project with no pools keeps `pools: []` under its scope, or is refused (its empty list
/// would delete every pool created later) unless a prefix scopes it.
pub fn import(
    projects: &[ImportedProject],
    name_prefix: Option<&str>,
    now: &str,
    terraform: &TerraformKept<'_>,
) -> Result<(String, usize), ImportError> {
    // An empty prefix narrows nothing: it is no scope.
    let prefix = name_prefix.filter(|p| !p.is_empty());
    let one = matches!(projects, [p] if p.name.is_none());
    let mut out = String::new();
    let (indent, scope) = if one {
        let p = &projects[0];
        let _ = writeln!(
            out,
            "# Written by `poolform import` at {now} from {} (project {}).",
            crate::core::escape::visible(p.endpoint),
            p.project_id
        );
        let _ = writeln!(
            out,
            "# Every pool listed here is kept; any other pool in scope is planned for deletion."
        );
        let _ = writeln!(out, "version: 1");
        write_states(&mut out, terraform.paths);
        ("", "")
    } else {
        let _ = writeln!(
            out,
            "# Written by `poolform import` at {now} from {} projects.",
            projects.len()
        );
        let _ = writeln!(
            out,
            "# Every pool listed here is kept; any other pool in a project's scope is planned for deletion."
        );
        let _ = writeln!(out, "version: 1");
        write_states(&mut out, terraform.paths);
        let _ = writeln!(out, "projects:");
        ("    ", "  - ")
    };
    let mut total = 0;
    for p in projects {
        let pools = kept(p.live, prefix, terraform);
        if pools.is_empty() && prefix.is_none() {
            return Err(ImportError::Nothing);
        }
        write_place(&mut out, p, indent, scope);
        if let Some(prefix) = prefix {
            let _ = writeln!(
                out,
                "{indent}scope:\n{indent}  name_prefix: {}",
                scalar(prefix)
            );
        }
        write_pools(&mut out, p.live, &pools, indent);
        total += pools.len();
    }
    Ok((out, total))
}

/// `keep_terraform_state:`, when there are paths to keep by.
fn write_states(out: &mut String, paths: &[String]) {
    if paths.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "# The pools these Terraform states manage are kept through them, not listed below."
    );
    let _ = writeln!(out, "keep_terraform_state:");
    for p in paths {
        let _ = writeln!(out, "  - {}", scalar(p));
    }
}

/// Where a project is: `project_id` and `region` at the top of a file of one project, or as
/// the start of its entry (`first` before the first line, `indent` before the others).
fn write_place(out: &mut String, p: &ImportedProject, indent: &str, first: &str) {
    let id = scalar(p.project_id.as_str());
    match p.name {
        None => {
            let _ = writeln!(out, "project_id: {id}");
            if let Some(region) = p.region {
                let _ = writeln!(out, "region: {}", scalar(region));
            }
        }
        Some(name) => {
            let _ = writeln!(
                out,
                "{first}region: {}\n{indent}project_id: {id}  # {} at {}",
                scalar(p.region.unwrap_or_default()),
                crate::core::escape::visible(name),
                crate::core::escape::visible(p.endpoint)
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;
    use crate::core::config;
    use crate::core::model::PoolId;
    use crate::core::planner::{self, PlanContext};
    use proptest::prelude::*;

    /// A file of one project, imported from `live`.
    fn import_config(
        live: &Live,
        project: &ProjectId,
        prefix: Option<&str>,
    ) -> Result<(String, usize), ImportError> {
        let one = ImportedProject {
            region: Some("cn-north-4"),
            name: None,
            project_id: project,
            endpoint: "http://127.0.0.1:9",
            live,
        };
        import(
            &[one],
            prefix,
            "2026-11-28T00:00:00Z",
            &TerraformKept::default(),
        )
    }

    fn plan_of(text: &str, live: &Live, project: &ProjectId) -> crate::core::plan::ProjectPlan {
        let config = config::parse(text, "pools.yaml")
            .unwrap_or_else(|e| panic!("the imported file does not validate: {e}\n{text}"));
        let pc = PlanContext {
            label: None,
            project_id: project.clone(),
            endpoint: "http://127.0.0.1:9".into(),
            identity: crate::core::identity::testing::identity(),
        };
        let rules = crate::core::projects::projects(&config).remove(0).rules;
        planner::plan(&rules, live, &pc).unwrap()
    }

    #[test]
    fn shared_and_empty_names_are_kept_by_id_with_a_comment() {
        let project = ProjectId::parse("p").unwrap();
        let pool = |id: &str, name: &str| Pool::new(PoolId::parse(id).unwrap(), name);
        let live = Live::new(vec![
            pool("a1", "ci-twin"),
            pool("a2", "ci-twin"),
            pool("b1", ""),
            pool("c1", "ci-üñí: \"quoted\" #not-a-comment"),
        ])
        .unwrap();
        let (text, kept) = import_config(&live, &project, None).unwrap();
        assert_eq!(kept, 4);
        assert!(
            text.contains("  - id: a1  # its name is shared by 2 live pools: kept by id\n    # name: ci-twin\n"),
            "{text}"
        );
        assert!(
            text.contains("  - id: b1  # this pool has no name: kept by id\n"),
            "{text}"
        );
        let plan = plan_of(&text, &live, &project);
        assert!(!plan.summary.has_drift(), "{text}\n{plan:?}");
        assert_eq!(plan.summary.unchanged, 4);
    }

    #[test]
    fn nothing_to_import_is_an_error_unless_scoped() {
        let project = ProjectId::parse("p").unwrap();
        let live = Live::new(vec![]).unwrap();
        assert_eq!(
            import_config(&live, &project, None).unwrap_err(),
            ImportError::Nothing
        );
        let (text, kept) = import_config(&live, &project, Some("ci-")).unwrap();
        assert_eq!(kept, 0);
        assert!(text.contains("pools: []"), "{text}");
        assert!(!plan_of(&text, &live, &project).summary.has_drift());
    }

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("ci-twin".to_owned()),
            "ci-[a-z]{0,3}",
            "[ -~]{0,12}",
            "\\PC{0,6}",
            Just("ci-\u{1b}[2K\r\nx".to_owned()),
            Just("- id: evil".to_owned()),
            Just("'\"#&*!|>%@`".to_owned()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Whatever the listing, the imported file validates and `plan` right after it is in
        /// sync: nothing to delete, nothing missing or drifted, every pool unchanged.
        #[test]
        fn plan_right_after_import_is_in_sync(
            names in proptest::collection::vec(name(), 0..12),
            prefix in proptest::option::of(prop_oneof![Just("ci-".to_owned()), Just(String::new())]),
        ) {
            let project = ProjectId::parse("p").unwrap();
            let pools: Vec<Pool> = names
                .iter()
                .enumerate()
                .map(|(i, n)| Pool::new(PoolId::parse(&format!("id-{i}")).unwrap(), n.clone()))
                .collect();
            let live = Live::new(pools).unwrap();
            match import_config(&live, &project, prefix.as_deref()) {
                Err(ImportError::Nothing) => prop_assert!(
                    live.is_empty() && prefix.as_deref().is_none_or(str::is_empty)
                ),
                Ok((text, kept)) => {
                    let plan = plan_of(&text, &live, &project);
                    prop_assert!(!plan.summary.has_drift(), "{}\n{:?}", text, plan.summary);
                    prop_assert_eq!(plan.summary.unchanged, kept, "{}", text);
                }
            }
        }
    }
}
