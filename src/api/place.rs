//! Where each project of a run is and as whom it is reached, before any call: a file of one
//! project from flags, environment, profile, then the file; an entry of `projects:` from the
//! file alone, its endpoint from `--endpoint` (`REGION=URL` first), its agency only when the
//! operator allows it and never on top of one from the environment or a profile. A
//! `REGION=URL` whose region no selected project has is refused: the project meant would go to
//! its public endpoint.

use crate::api::connection::{self, ConnectionError, ConnectionFlags, FileDefaults, Resolved};
use crate::api::credentials::Env;
use crate::core::endpoints::{Endpoints, EndpointsError};
use crate::core::escape::visible;
use crate::core::projects::{EntryPlace, Place, Project};

/// The agency variables: beside a file's `assume_role` they would chain agencies.
const AGENCY_VARIABLES: [&str; 3] = [
    "HW_ASSUME_ROLE_AGENCY_NAME",
    "HW_ASSUME_ROLE_DOMAIN_NAME",
    "HW_ASSUME_ROLE_DOMAIN_ID",
];

/// Variables that name one region or project, which cannot name one of many: ignored in a
/// file with `projects:` (said once).
pub const PLACE_VARIABLES: [&str; 3] = [
    "HW_REGION_NAME",
    "HW_PROJECT_ID",
    "HUAWEICLOUD_SDK_PROJECT_ID",
];

/// What the command line says of every project of a run.
#[derive(Debug, Clone, Default)]
pub struct RunFlags {
    pub endpoints: Endpoints,
    pub region: Option<String>,
    pub project_id: Option<String>,
    pub cloud: Option<String>,
    pub profile: Option<String>,
    /// `AGENCY@DOMAIN`s the operator allows a file's `assume_role` to use.
    pub allowed_agencies: Vec<String>,
    /// The flags that choose among the projects of a file with `projects:`, as given:
    /// `--only` and `--allow-agency`.
    pub choosing: Vec<&'static str>,
}

/// Why a project cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("{flag} is for a file with projects:, and {file} names one project; drop {flag}")]
    ForProjects { flag: &'static str, file: String },
    #[error("{flag} names nothing in {file}, which lists {count} projects, each with its own region and project; choose projects with --only LABEL (its labels: {labels}); nothing was sent")]
    ForOneProject {
        flag: &'static str,
        file: String,
        count: usize,
        labels: String,
    },
    #[error(transparent)]
    Endpoints(#[from] EndpointsError),
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    #[error("projects[{index}] of {file} assumes agency {key}, which the operator has not allowed{typo}: a file cannot choose to reach another account. If you trust this file with that account, pass --allow-agency {key} (or POOLFORM_ALLOW_AGENCIES); nothing was sent")]
    AgencyNotAllowed {
        index: usize,
        file: String,
        key: String,
        /// ` (--allow-agency poolfrom@tenant-b was given: a typo?)`, when one is near.
        typo: String,
    },
    #[error("{label} assumes agency {key}, but {from} already assumes agency {agency}: poolform does not chain agencies; unset it, or drop assume_role from the project; nothing was sent")]
    ChainedAgency {
        label: String,
        key: String,
        from: &'static str,
        agency: String,
    },
    #[error("--endpoint {region}={url} names no selected project's region (the run covers {regions}){guess} Without it, that project would go to its public endpoint; nothing was sent")]
    StrayEndpoint {
        region: String,
        url: String,
        regions: String,
        guess: String,
    },
}

/// Refuses the flags that name nothing for the config's kind (`all` its projects, `source` its
/// name): `--only` and `--allow-agency` in a file of one project; `--region` and
/// `--project-id` in a file with `projects:` (use `--only`).
pub fn refuse_flags_of_kind(
    all: &[Project],
    flags: &RunFlags,
    source: &str,
) -> Result<(), PlaceError> {
    let file = visible(source).into_owned();
    let labels: Vec<&str> = all.iter().filter_map(Project::label).collect();
    if labels.is_empty() {
        return match flags.choosing.first() {
            Some(flag) => Err(PlaceError::ForProjects { flag, file }),
            None => Ok(()),
        };
    }
    let given = [
        ("--region", &flags.region),
        ("--project-id", &flags.project_id),
    ];
    match given.iter().find(|(_, v)| v.is_some()) {
        Some((flag, _)) => Err(PlaceError::ForOneProject {
            flag,
            file,
            count: all.len(),
            labels: labels.join(", "),
        }),
        None => Ok(()),
    }
}

/// Resolves one project (`source` names the config in messages).
pub fn resolve(
    project: &Project,
    flags: &RunFlags,
    source: &str,
    env: Env<'_>,
) -> Result<Resolved, PlaceError> {
    let (region, project_id, cloud) = match &project.place {
        Place::Entry(entry) => return resolve_entry(entry, flags, source, env),
        Place::Run {
            region,
            project_id,
            cloud,
        } => (region, project_id, cloud),
    };
    let file = FileDefaults {
        source: source.to_owned(),
        region: region.as_ref().map(|r| r.as_str().to_owned()),
        project_id: project_id.as_ref().map(ToString::to_string),
        cloud: cloud.as_ref().map(|c| c.as_str().to_owned()),
        ..FileDefaults::default()
    };
    let run = ConnectionFlags {
        endpoint: flags.endpoints.single()?,
        region: flags.region.clone(),
        project_id: flags.project_id.clone(),
        cloud: flags.cloud.clone(),
        profile: flags.profile.clone(),
    };
    Ok(connection::resolve(&run, &file, env)?)
}

/// [`resolve`] for an entry of `projects:`.
fn resolve_entry(
    entry: &EntryPlace,
    flags: &RunFlags,
    source: &str,
    env: Env<'_>,
) -> Result<Resolved, PlaceError> {
    let run = ConnectionFlags {
        endpoint: flags.endpoints.for_region(entry.region.as_str()),
        region: None,
        project_id: None,
        cloud: flags.cloud.clone(),
        profile: flags.profile.clone(),
    };
    let file = FileDefaults {
        source: source.to_owned(),
        region: Some(entry.region.as_str().to_owned()),
        project_id: entry.project_id.as_ref().map(ToString::to_string),
        cloud: entry.cloud.as_ref().map(|c| c.as_str().to_owned()),
        project_name: entry.project_name.as_ref().map(|n| n.as_str().to_owned()),
        sole_source: true,
    };
    let Some(role) = &entry.assume_role else {
        return Ok(connection::resolve(&run, &file, env)?);
    };
    let key = role.allow_key();
    if !flags.allowed_agencies.contains(&key) {
        let typo = flags
            .allowed_agencies
            .iter()
            .map(|a| (crate::core::names::edit_distance(a, &key), a))
            .filter(|(d, _)| *d <= 3)
            .min()
            .map(|(_, a)| format!(" (--allow-agency {} was given: a typo?)", visible(a)))
            .unwrap_or_default();
        return Err(PlaceError::AgencyNotAllowed {
            index: entry.index,
            file: visible(source).into_owned(),
            key,
            typo,
        });
    }
    let base = connection::resolve(&run, &file, env)?;
    if let Some(agency) = base.agency() {
        let from = if AGENCY_VARIABLES.iter().any(|v| env(v).is_some()) {
            "HW_ASSUME_ROLE_AGENCY_NAME"
        } else {
            "the profile"
        };
        return Err(PlaceError::ChainedAgency {
            label: entry.label.clone(),
            key,
            from,
            agency: agency.name,
        });
    }
    let injected = |name: &str| -> Option<String> {
        match name {
            "HW_ASSUME_ROLE_AGENCY_NAME" => Some(role.agency.as_str().to_owned()),
            "HW_ASSUME_ROLE_DOMAIN_NAME" => role.domain.as_ref().map(|d| d.as_str().to_owned()),
            "HW_ASSUME_ROLE_DOMAIN_ID" => role.domain_id.as_ref().map(|d| d.as_str().to_owned()),
            other => env(other),
        }
    };
    Ok(connection::resolve(&run, &file, &injected)?)
}

/// Refuses a `--endpoint REGION=URL` whose region none of the `selected` entries of
/// `projects:` has, naming the region it likely meant. (In a file of one project, `REGION=URL`
/// is refused when its endpoint is resolved.)
pub fn refuse_stray_endpoints(selected: &[Project], flags: &RunFlags) -> Result<(), PlaceError> {
    let mut regions: Vec<&str> = selected
        .iter()
        .filter(|p| matches!(p.place, Place::Entry(_)))
        .filter_map(|p| p.region().map(|r| r.as_str()))
        .collect();
    if regions.len() < selected.len() {
        return Ok(());
    }
    regions.sort_unstable();
    regions.dedup();
    for (region, url) in flags.endpoints.by_region() {
        if regions.contains(&region) {
            continue;
        }
        let guess = crate::core::names::closest(region, regions.iter().copied(), 3)
            .map(|g| format!("; did you mean {g}?"))
            .unwrap_or_default();
        return Err(PlaceError::StrayEndpoint {
            region: visible(region).into_owned(),
            url: visible(url).into_owned(),
            regions: regions.join(", "),
            guess,
        });
    }
    Ok(())
}
