//! Where to connect and as whom: the Workspace and IAM endpoints, the project and the
//! credentials, from flags, environment, the shared config profile and the config file, in the
//! official Terraform provider's order.
//!
//! When the config file names its project, region or cloud, a flag, variable or profile that
//! says otherwise is refused, not preferred: a file written for one project and planned against
//! another would plan to delete everything in scope there.

use super::credentials::{
    self, first_env, AgencyDomain, AssumeRole, CredentialError, Env, LoadedProfile, Profile,
};
pub use super::credentials::{Credentials, Secret};
use crate::core::model::{IdError, ProjectId};
use crate::core::plan::{Agency, CredentialKind, Identity};
use reqwest::Url;
use std::net::IpAddr;

/// The cloud domain when nothing names one.
pub const DEFAULT_CLOUD: &str = "myhuaweicloud.com";
/// The cloud domain of the European regions (`eu-west-1*`), as the provider has it.
pub const EU_CLOUD: &str = "myhuaweicloud.eu";

/// Connection values given on the command line.
#[derive(Debug, Clone, Default)]
pub struct ConnectionFlags {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub project_id: Option<String>,
    pub cloud: Option<String>,
    pub profile: Option<String>,
}

/// Connection values from the config file (or a saved plan): the weakest source, and a
/// constraint: a flag, variable or profile that contradicts them is refused, not preferred.
#[derive(Debug, Clone, Default)]
pub struct FileDefaults {
    /// How the file is named in messages, e.g. `pools.yaml`.
    pub source: String,
    pub region: Option<String>,
    pub project_id: Option<String>,
    pub cloud: Option<String>,
    /// The project's name, looked up at IAM (else the region's name is).
    pub project_name: Option<String>,
    /// A project of a many-project file: the file alone names its region and project (the
    /// variables and a profile cannot name one of many; flags are refused before this).
    pub sole_source: bool,
}

/// A resolved, validated connection: everything a request needs.
#[derive(Debug, Clone)]
pub struct Connection {
    pub endpoint: Url,
    pub project_id: ProjectId,
    pub credentials: Credentials,
    /// IAM, for the calls made before the first Workspace call (may be unknown).
    pub iam_endpoint: Option<Url>,
    /// Whose identity the calls are made as.
    pub identity: Identity,
}

impl Connection {
    /// The endpoint as plans record it: the one normal form (no trailing slash).
    pub fn endpoint_text(&self) -> String {
        endpoint_text(&self.endpoint)
    }
}

/// Where the project id comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectSource {
    Known(ProjectId),
    /// Not given anywhere: looked up at IAM by this name (the region's, or the file's
    /// `project_name`).
    LookUp {
        name: String,
    },
}

/// What resolution found, before any call: the project may still have to be looked up, and
/// the credentials exchanged for an agency's.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub endpoint: Url,
    pub iam_endpoint: Option<Url>,
    pub project: ProjectSource,
    pub credentials: Credentials,
    pub assume_role: Option<AssumeRole>,
    /// Said once, on standard error (a shared config file others can read, say).
    pub warnings: Vec<String>,
    /// How the credentials were given, and where from (`HW_ACCESS_KEY`, `profile "p" of F`).
    pub credential_kind: CredentialKind,
    pub credential_source: String,
    /// Where the project id comes from (`HW_PROJECT_ID`, `pools.yaml`), or how it is looked up.
    pub project_from: String,
}

impl Resolved {
    /// The agency assumed, as plans record it.
    pub fn agency(&self) -> Option<Agency> {
        self.assume_role.as_ref().map(|r| Agency {
            name: r.agency_name.clone(),
            domain_name: match &r.domain {
                AgencyDomain::Name(n) => Some(n.clone()),
                AgencyDomain::Id(_) => None,
            },
            domain_id: match &r.domain {
                AgencyDomain::Id(i) => Some(i.clone()),
                AgencyDomain::Name(_) => None,
            },
        })
    }

    /// Whether connecting calls IAM first (to assume a role, or to look the project up).
    pub fn calls_iam(&self) -> bool {
        self.assume_role.is_some() || matches!(self.project, ProjectSource::LookUp { .. })
    }

    /// The identity this run acts as (the source credentials', before any exchange).
    pub fn identity(&self) -> Identity {
        Identity {
            credentials: self.credential_kind,
            source: self.credential_source.clone(),
            access_key_last4: self.credentials.access_key_last4(),
            temporary: self.credentials.is_temporary(),
            agency: self.agency(),
            project_from: self.project_from.clone(),
        }
    }

    /// The endpoint as plans record it: the one normal form (no trailing slash).
    pub fn endpoint_text(&self) -> String {
        endpoint_text(&self.endpoint)
    }

    /// The identity line, said on standard error before the first call.
    pub fn identity_line(&self) -> String {
        let project = match &self.project {
            ProjectSource::Known(p) => format!("project {p} (from {})", self.project_from),
            ProjectSource::LookUp { .. } => format!("project {}", self.project_from),
        };
        format!(
            "Acting as {}; {project}; endpoint {}",
            self.identity().describe(),
            self.endpoint_text()
        )
    }
}

/// An endpoint as plans record and compare it: the URL without a trailing slash.
pub fn endpoint_text(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

/// Huawei's public API domains, from the official SDKs' region tables: the only cloud domains
/// a config file may name. Any other comes from `--cloud` or `HW_CLOUD`, from the person
/// running poolform, since a file (a pull request's, say) must never choose where the
/// credentials are sent.
pub const HUAWEI_CLOUDS: &[&str] = &["myhuaweicloud.com", "myhuaweicloud.eu", "myhwclouds.com"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConnectionError {
    #[error("no project id, and no region to look it up at IAM with: pass --project-id, set HW_PROJECT_ID (or HUAWEICLOUD_SDK_PROJECT_ID), put projectId in the profile or project_id in the config file, or give a region (--region, HW_REGION_NAME, the profile, region in the config file)")]
    MissingProjectId,
    #[error("with --endpoint, poolform never guesses the IAM endpoint from the region (the credentials would go to the public IAM), and it needs IAM {why}: name the project (--project-id, HW_PROJECT_ID or project_id in the config file) or the IAM endpoint (HW_AUTH_URL or HUAWEICLOUD_SDK_IAM_ENDPOINT; the simulator serves IAM at its own URL)")]
    NoIamWithEndpoint { why: &'static str },
    #[error("project id {value:?} (from {source_name}) {problem}")]
    BadProjectId {
        value: String,
        source_name: String,
        problem: IdError,
    },
    #[error("no endpoint: pass --endpoint, or a region with --region, HW_REGION_NAME, the profile or region in the config file")]
    MissingEndpoint,
    #[error("region {value:?} (from {source_name}) is not a region name (lower-case letters, digits and '-' only)")]
    BadRegion { value: String, source_name: String },
    #[error("cloud {value:?} (from {source_name}) is not a domain name such as myhuaweicloud.com")]
    BadCloud { value: String, source_name: String },
    #[error("{file} names cloud {value}, which is not one of Huawei's public API domains ({}); a config file cannot choose where the credentials are sent. If you mean it, pass --cloud {value} (or set HW_CLOUD={value}); nothing was sent", HUAWEI_CLOUDS.join(", "))]
    UntrustedCloud { file: String, value: String },
    #[error("credentials are set in the environment ({variable}) and a profile is named ({named_by} {profile:?}); refusing to guess which identity to act as. Unset the credential variables to use the profile, or drop {named_by} to use the variables")]
    AmbiguousCredentials {
        variable: &'static str,
        named_by: &'static str,
        profile: String,
    },
    #[error("{what} {value:?} is not a valid URL: {reason}")]
    BadEndpoint {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("{what} {value:?} uses plain HTTP; HTTPS is required unless the host is loopback (127.0.0.1, ::1, localhost)")]
    InsecureEndpoint { what: &'static str, value: String },
    #[error("{file} is for {what} {file_value}, but {chosen_from} selects {what} {chosen_value}; refusing to mix them, since a file written for one {what} would plan deletions in another. Fix {file} or unset {chosen_from}")]
    Conflict {
        what: &'static str,
        file: String,
        file_value: String,
        chosen_from: String,
        chosen_value: String,
    },
    #[error(transparent)]
    Credentials(#[from] CredentialError),
}

pub use crate::core::model::is_cloud_domain;

/// The cloud domain of `region` when nothing names one: `myhuaweicloud.eu` for `eu-west-1*`.
pub fn default_cloud(region: &str) -> &'static str {
    if region.starts_with("eu-west-1") {
        EU_CLOUD
    } else {
        DEFAULT_CLOUD
    }
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// Parses and checks an endpoint: http(s) only, HTTPS unless loopback, no path, query or
/// userinfo. `what` names it in messages ("endpoint", "IAM endpoint").
pub fn parse_endpoint_as(what: &'static str, value: &str) -> Result<Url, ConnectionError> {
    let bad = |reason: &str| ConnectionError::BadEndpoint {
        what,
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    if !value.contains("://") {
        let scheme = if is_loopback_host(value.rsplit_once(':').map_or(value, |(h, _)| h)) {
            "http"
        } else {
            "https"
        };
        return Err(bad(&format!(
            "it has no scheme; did you mean {scheme}://{value}?"
        )));
    }
    let url = Url::parse(value).map_err(|e| bad(&e.to_string()))?;
    let host = url.host_str().ok_or_else(|| bad("it has no host"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials do not belong in the URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    if url.path() != "/" && !url.path().is_empty() {
        return Err(bad("it must not have a path"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback_host(host) => Ok(url),
        "http" => Err(ConnectionError::InsecureEndpoint {
            what,
            value: value.to_owned(),
        }),
        other => Err(bad(&format!("scheme {other:?} is not http or https"))),
    }
}

/// [`parse_endpoint_as`] for the Workspace endpoint.
pub fn parse_endpoint(value: &str) -> Result<Url, ConnectionError> {
    parse_endpoint_as("endpoint", value)
}

/// A value chosen by flag, variable or profile, checked against the config file's: the file's
/// when nothing chose one, the chosen one when they agree, a conflict otherwise.
fn agree(
    what: &'static str,
    chosen: Option<(String, String)>,
    file: &FileDefaults,
    in_file: Option<&String>,
) -> Result<Option<(String, String)>, ConnectionError> {
    match (chosen, in_file) {
        (Some((from, value)), Some(in_file)) if value != *in_file => {
            Err(ConnectionError::Conflict {
                what,
                file: file.source.clone(),
                file_value: in_file.clone(),
                chosen_from: from,
                chosen_value: value,
            })
        }
        (Some(chosen), _) => Ok(Some(chosen)),
        (None, Some(in_file)) => Ok(Some((file.source.clone(), in_file.clone()))),
        (None, None) => Ok(None),
    }
}

/// The flag's value, else the first environment variable set: `(where from, value)`.
fn pick(
    flag: (&str, &Option<String>),
    env: Env<'_>,
    vars: &[&'static str],
) -> Option<(String, String)> {
    match flag.1 {
        Some(v) => Some((flag.0.to_owned(), v.clone())),
        None => first_env(env, vars).map(|(name, v)| (name.to_owned(), v)),
    }
}

/// An IAM endpoint as the SDKs and the provider write it, with or without its `/v3`.
fn iam_from_env(env: Env<'_>) -> Option<(&'static str, String)> {
    first_env(env, &["HW_AUTH_URL", "HUAWEICLOUD_SDK_IAM_ENDPOINT"]).map(|(name, v)| {
        let trimmed = v.trim_end_matches('/');
        (
            name,
            trimmed.strip_suffix("/v3").unwrap_or(trimmed).to_owned(),
        )
    })
}

/// Whose credentials: the environment's, else the profile's. A profile is one identity: beside
/// credentials from the environment it contributes nothing, and naming one there is refused.
struct Who {
    credentials: Credentials,
    kind: CredentialKind,
    source: String,
    profile: Option<LoadedProfile>,
}

fn who(flags: &ConnectionFlags, env: Env<'_>) -> Result<Who, ConnectionError> {
    let named = match (&flags.profile, first_env(env, &["HW_PROFILE"])) {
        (Some(p), _) => Some(("--profile", p.clone())),
        (None, Some((_, p))) => Some(("HW_PROFILE", p)),
        (None, None) => None,
    };
    if let Some(found) = credentials::from_env(env)? {
        if let Some((named_by, profile)) = named {
            return Err(ConnectionError::AmbiguousCredentials {
                variable: found.variable,
                named_by,
                profile,
            });
        }
        let kind = match found.credentials {
            Credentials::Token(_) => CredentialKind::Token,
            Credentials::AkSk { .. } => CredentialKind::Variable,
        };
        return Ok(Who {
            credentials: found.credentials,
            kind,
            source: found.variable.to_owned(),
            profile: None,
        });
    }
    let profile = credentials::load_profile(env, flags.profile.as_deref())?;
    let credentials = profile
        .as_ref()
        .map(LoadedProfile::credentials)
        .transpose()?
        .flatten()
        .ok_or(CredentialError::Missing)?;
    Ok(Who {
        credentials,
        kind: CredentialKind::Profile,
        source: profile
            .as_ref()
            .map(|p| p.described.clone())
            .unwrap_or_default(),
        profile,
    })
}

/// A profile's value: `(profile NAME of FILE, value)`, when it has one.
fn from_profile(
    profile: Option<&LoadedProfile>,
    field: fn(&Profile) -> &str,
) -> Option<(String, String)> {
    profile.and_then(|p| {
        let v = field(&p.profile);
        (!v.is_empty()).then(|| (p.described.clone(), v.to_owned()))
    })
}

/// The region: `--region`, `HW_REGION_NAME`, the profile, the config file; with where it
/// came from.
fn region(
    flags: &ConnectionFlags,
    file: &FileDefaults,
    env: Env<'_>,
    profile: Option<&LoadedProfile>,
) -> Result<Option<(String, String)>, ConnectionError> {
    let chosen = if file.sole_source {
        None
    } else {
        pick(("--region", &flags.region), env, &["HW_REGION_NAME"])
            .or_else(|| from_profile(profile, |p| &p.region))
    };
    match agree("region", chosen, file, file.region.as_ref())? {
        Some((source_name, value)) if !crate::core::model::is_region_name(&value) => {
            Err(ConnectionError::BadRegion { value, source_name })
        }
        other => Ok(other),
    }
}

/// The cloud domain: `--cloud`, `HW_CLOUD`, the config file (Huawei's domains only).
fn cloud(
    flags: &ConnectionFlags,
    file: &FileDefaults,
    env: Env<'_>,
) -> Result<Option<String>, ConnectionError> {
    let chosen = pick(("--cloud", &flags.cloud), env, &["HW_CLOUD"]);
    let from_file_alone = chosen.is_none();
    match agree("cloud", chosen, file, file.cloud.as_ref())? {
        Some((source_name, value)) if !is_cloud_domain(&value) => {
            Err(ConnectionError::BadCloud { value, source_name })
        }
        Some((_, value)) if from_file_alone && !HUAWEI_CLOUDS.contains(&value.as_str()) => {
            Err(ConnectionError::UntrustedCloud {
                file: file.source.clone(),
                value,
            })
        }
        other => Ok(other.map(|(_, c)| c)),
    }
}

/// The project: `--project-id`, `HW_PROJECT_ID`/`HUAWEICLOUD_SDK_PROJECT_ID`, the profile, the
/// config file; else looked up at IAM by the region's name. With where it comes from.
fn project(
    flags: &ConnectionFlags,
    file: &FileDefaults,
    env: Env<'_>,
    profile: Option<&LoadedProfile>,
    lookup: Option<(&String, &Url)>,
) -> Result<(ProjectSource, String), ConnectionError> {
    let chosen = if file.sole_source {
        None
    } else {
        pick(
            ("--project-id", &flags.project_id),
            env,
            &["HW_PROJECT_ID", "HUAWEICLOUD_SDK_PROJECT_ID"],
        )
        .or_else(|| from_profile(profile, |p| &p.project_id))
    };
    match agree("project", chosen, file, file.project_id.as_ref())? {
        Some((source_name, value)) => {
            let id = ProjectId::parse(&value).map_err(|problem| ConnectionError::BadProjectId {
                value: value.clone(),
                source_name: source_name.clone(),
                problem,
            })?;
            Ok((ProjectSource::Known(id), source_name))
        }
        None => match lookup {
            Some((region, iam)) => {
                let name = file.project_name.clone().unwrap_or_else(|| region.clone());
                let from = format!(
                    "to be looked up at IAM {} by the name {name}",
                    endpoint_text(iam)
                );
                Ok((ProjectSource::LookUp { name }, from))
            }
            None if flags.endpoint.is_some() => Err(ConnectionError::NoIamWithEndpoint {
                why: "to look the project id up",
            }),
            None => Err(ConnectionError::MissingProjectId),
        },
    }
}

/// When both an access key pair and `HW_AUTH_TOKEN` are set, the pair is used: said, with
/// which variables, so that a token left from another shell is not silently outranked.
fn ignored_token(env: Env<'_>) -> Option<String> {
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    let pair = ["HW_ACCESS_KEY", "HUAWEICLOUD_SDK_AK"]
        .into_iter()
        .find(|n| set(n))?;
    set("HW_AUTH_TOKEN").then(|| {
        format!(
            "note: both an access key ({pair}) and HW_AUTH_TOKEN are set; poolform uses the access key and ignores HW_AUTH_TOKEN (unset {pair} and its secret key to use the token)"
        )
    })
}

/// Resolves the connection, before any call. Precedence, first wins:
///
/// - credentials: environment AK/SK, environment token, the profile (never both);
/// - region: `--region`, `HW_REGION_NAME`, the profile, the config file;
/// - project: `--project-id`, `HW_PROJECT_ID`/`HUAWEICLOUD_SDK_PROJECT_ID`, the profile, the
///   config file, else looked up at IAM;
/// - cloud: `--cloud`, `HW_CLOUD`, the config file (Huawei's domains only), else by region;
/// - endpoint: `--endpoint`, else `https://workspace.{region}.{cloud}`;
/// - IAM: `HW_AUTH_URL`/`HUAWEICLOUD_SDK_IAM_ENDPOINT`, else (without `--endpoint`)
///   `https://iam.{region}.{cloud}`.
pub fn resolve(
    flags: &ConnectionFlags,
    file: &FileDefaults,
    env: Env<'_>,
) -> Result<Resolved, ConnectionError> {
    let who = who(flags, env)?;
    let profile = who.profile.as_ref();
    let mut warnings = who
        .profile
        .as_ref()
        .map(|p| p.warnings.clone())
        .unwrap_or_default();
    warnings.extend(ignored_token(env));
    let region = region(flags, file, env, profile)?.map(|(from, region)| {
        // Not beside --endpoint: there the region only names the project at IAM.
        if flags.endpoint.is_none() {
            warnings.extend(crate::core::regions::unknown_region_warning(&region, &from));
        }
        region
    });
    let cloud = cloud(flags, file, env)?;
    let cloud_of = |region: &str| {
        cloud
            .clone()
            .unwrap_or_else(|| default_cloud(region).to_owned())
    };
    let endpoint = parse_endpoint(&match (&flags.endpoint, &region) {
        (Some(e), _) => e.clone(),
        (None, Some(region)) => format!("https://workspace.{region}.{}", cloud_of(region)),
        (None, None) => return Err(ConnectionError::MissingEndpoint),
    })?;
    // Never guessed beside --endpoint: a rehearsal against the simulator must not send the
    // real credentials to the public IAM.
    let iam_endpoint = match (iam_from_env(env), &region, &flags.endpoint) {
        (Some((_, text)), _, _) => Some(parse_endpoint_as("IAM endpoint", &text)?),
        (None, Some(region), None) => Some(parse_endpoint_as(
            "IAM endpoint",
            &format!("https://iam.{region}.{}", cloud_of(region)),
        )?),
        _ => None,
    };
    let lookup = region.as_ref().zip(iam_endpoint.as_ref());
    let (project, project_from) = project(flags, file, env, profile, lookup)?;
    let assume_role = credentials::assume_role(env, profile)?;
    if assume_role.is_some() && iam_endpoint.is_none() && flags.endpoint.is_some() {
        return Err(ConnectionError::NoIamWithEndpoint {
            why: "to assume the agency",
        });
    }
    Ok(Resolved {
        endpoint,
        iam_endpoint,
        project,
        credentials: who.credentials,
        assume_role,
        warnings,
        credential_kind: who.kind,
        credential_source: who.source,
        project_from,
    })
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const P: &str = "0bec5db98280d2d02fd6c00c2de791ce";

    fn file(region: Option<&str>, project: Option<&str>) -> FileDefaults {
        FileDefaults {
            source: "pools.yaml".into(),
            region: region.map(str::to_owned),
            project_id: project.map(str::to_owned),
            ..FileDefaults::default()
        }
    }

    fn known(r: &Resolved) -> &str {
        match &r.project {
            ProjectSource::Known(p) => p.as_str(),
            ProjectSource::LookUp { .. } => panic!("looked up"),
        }
    }

    #[test]
    fn an_unknown_region_is_warned_of_with_the_likely_one_but_not_refused() {
        let env = env_of(&[("HW_PROJECT_ID", "p"), ("HW_AUTH_TOKEN", "t")]);
        let cases = [
            (Some("cn-nort-4"), None, Some("region cn-nort-4 (--region) is not one where Workspace is known to be served (did you mean cn-north-4?)")),
            (Some("cn-north-4"), None, None),
            // Beside --endpoint the region only names the project at IAM: no warning.
            (Some("cn-nort-4"), Some("http://127.0.0.1:9"), None),
        ];
        for (region, endpoint, want) in cases {
            let flags = ConnectionFlags {
                region: region.map(Into::into),
                endpoint: endpoint.map(Into::into),
                ..Default::default()
            };
            let c = resolve(&flags, &file(None, None), &env).unwrap();
            match want {
                Some(w) => assert!(c.warnings.iter().any(|x| x.contains(w)), "{:?}", c.warnings),
                None => assert!(c.warnings.is_empty(), "{:?}", c.warnings),
            }
        }
    }

    #[test]
    fn flags_win_over_env_and_env_over_file() {
        let env = env_of(&[
            ("HW_PROJECT_ID", "envproject"),
            ("HW_REGION_NAME", "cn-east-3"),
            ("HW_AUTH_TOKEN", "t"),
        ]);
        let c = resolve(&ConnectionFlags::default(), &file(None, None), &env).unwrap();
        assert_eq!(known(&c), "envproject");
        assert_eq!(
            c.endpoint.as_str(),
            "https://workspace.cn-east-3.myhuaweicloud.com/"
        );
        assert_eq!(
            c.iam_endpoint.unwrap().as_str(),
            "https://iam.cn-east-3.myhuaweicloud.com/"
        );
        let flags = ConnectionFlags {
            region: Some("ap-southeast-1".into()),
            project_id: Some("flagproject".into()),
            ..Default::default()
        };
        let c = resolve(&flags, &file(None, None), &env).unwrap();
        assert_eq!(known(&c), "flagproject");
        assert_eq!(
            c.endpoint.host_str(),
            Some("workspace.ap-southeast-1.myhuaweicloud.com")
        );
        let c = resolve(
            &ConnectionFlags::default(),
            &file(Some("cn-north-4"), Some(P)),
            &env_of(&[("HW_AUTH_TOKEN", "t")]),
        )
        .unwrap();
        assert_eq!(known(&c), P);
        assert_eq!(
            c.endpoint.host_str(),
            Some("workspace.cn-north-4.myhuaweicloud.com")
        );
        // agreeing sources are fine
        let same = env_of(&[
            ("HW_PROJECT_ID", P),
            ("HW_REGION_NAME", "cn-north-4"),
            ("HW_AUTH_TOKEN", "t"),
        ]);
        assert!(resolve(
            &ConnectionFlags::default(),
            &file(Some("cn-north-4"), Some(P)),
            &same
        )
        .is_ok());
        // an explicit endpoint sets where requests go, not which region the file is for
        let to_sim = ConnectionFlags {
            endpoint: Some("http://127.0.0.1:9".into()),
            ..Default::default()
        };
        let c = resolve(
            &to_sim,
            &file(Some("cn-north-4"), Some(P)),
            &env_of(&[("HW_AUTH_TOKEN", "t")]),
        )
        .unwrap();
        assert_eq!(c.endpoint.as_str(), "http://127.0.0.1:9/");
    }

    #[test]
    fn the_cloud_domain_and_the_iam_endpoint() {
        let token = [("HW_AUTH_TOKEN", "t"), ("HW_PROJECT_ID", P)];
        let cases: Vec<(ConnectionFlags, Vec<(&str, &str)>, Option<&str>, &str, &str)> = vec![
            (
                ConnectionFlags {
                    region: Some("eu-west-101".into()),
                    ..Default::default()
                },
                vec![],
                None,
                "https://workspace.eu-west-101.myhuaweicloud.eu/",
                "https://iam.eu-west-101.myhuaweicloud.eu/",
            ),
            (
                ConnectionFlags {
                    region: Some("eu-west-0".into()),
                    ..Default::default()
                },
                vec![],
                None,
                "https://workspace.eu-west-0.myhuaweicloud.com/",
                "https://iam.eu-west-0.myhuaweicloud.com/",
            ),
            (
                ConnectionFlags {
                    region: Some("cn-north-4".into()),
                    cloud: Some("example.cloud".into()),
                    ..Default::default()
                },
                vec![],
                None,
                "https://workspace.cn-north-4.example.cloud/",
                "https://iam.cn-north-4.example.cloud/",
            ),
            (
                ConnectionFlags {
                    region: Some("cn-north-4".into()),
                    ..Default::default()
                },
                vec![("HW_CLOUD", "env.example")],
                None,
                "https://workspace.cn-north-4.env.example/",
                "https://iam.cn-north-4.env.example/",
            ),
            (
                ConnectionFlags {
                    region: Some("cn-north-4".into()),
                    ..Default::default()
                },
                vec![],
                Some("myhwclouds.com"),
                "https://workspace.cn-north-4.myhwclouds.com/",
                "https://iam.cn-north-4.myhwclouds.com/",
            ),
            (
                ConnectionFlags {
                    region: Some("cn-north-4".into()),
                    cloud: Some("private.example".into()),
                    ..Default::default()
                },
                vec![],
                Some("private.example"),
                "https://workspace.cn-north-4.private.example/",
                "https://iam.cn-north-4.private.example/",
            ),
            (
                ConnectionFlags {
                    region: Some("cn-north-4".into()),
                    ..Default::default()
                },
                vec![("HW_AUTH_URL", "https://iam.example.com/v3/")],
                None,
                "https://workspace.cn-north-4.myhuaweicloud.com/",
                "https://iam.example.com/",
            ),
            (
                ConnectionFlags {
                    region: Some("cn-north-4".into()),
                    ..Default::default()
                },
                vec![("HUAWEICLOUD_SDK_IAM_ENDPOINT", "http://127.0.0.1:7")],
                None,
                "https://workspace.cn-north-4.myhuaweicloud.com/",
                "http://127.0.0.1:7/",
            ),
        ];
        for (flags, extra, file_cloud, workspace, iam) in cases {
            let mut env = token.to_vec();
            env.extend(extra);
            let mut f = file(None, None);
            f.cloud = file_cloud.map(str::to_owned);
            let c = resolve(&flags, &f, &env_of(&env)).unwrap();
            assert_eq!(c.endpoint.as_str(), workspace);
            assert_eq!(c.iam_endpoint.as_ref().unwrap().as_str(), iam);
        }
    }

    /// A config file names only Huawei's public domains; any other must come from the person
    /// running poolform, and then the file must agree with it.
    #[test]
    fn a_file_never_chooses_where_the_credentials_go() {
        let env = env_of(&[("HW_AUTH_TOKEN", "t"), ("HW_PROJECT_ID", P)]);
        for (file_cloud, flag, env_cloud, want) in [
            ("attacker.example", None, None, Some("pools.yaml names cloud attacker.example, which is not one of Huawei's public API domains (myhuaweicloud.com, myhuaweicloud.eu, myhwclouds.com); a config file cannot choose where the credentials are sent. If you mean it, pass --cloud attacker.example")),
            ("attacker.example", Some("attacker.example"), None, None),
            ("attacker.example", None, Some("attacker.example"), None),
            ("attacker.example", Some("other.example"), None, Some("is for cloud attacker.example, but --cloud selects cloud other.example")),
            ("myhuaweicloud.eu", None, None, None),
        ] {
            let mut f = file(Some("cn-north-4"), Some(P));
            f.cloud = Some(file_cloud.into());
            let flags = ConnectionFlags {
                cloud: flag.map(str::to_owned),
                ..Default::default()
            };
            let mut vars = vec![("HW_AUTH_TOKEN", "t"), ("HW_PROJECT_ID", P)];
            vars.extend(env_cloud.map(|c| ("HW_CLOUD", c)));
            match (resolve(&flags, &f, &env_of(&vars)), want) {
                (Ok(c), None) => assert_eq!(c.endpoint.host_str(), Some(format!("workspace.cn-north-4.{file_cloud}").as_str())),
                (Err(e), Some(want)) => assert!(e.to_string().contains(want), "{e}"),
                (other, want) => panic!("{file_cloud} {flag:?}: {other:?}, wanted {want:?}"),
            }
        }
        // with --endpoint, IAM is never guessed from the region
        let to_sim = ConnectionFlags {
            endpoint: Some("http://127.0.0.1:9".into()),
            ..Default::default()
        };
        let c = resolve(&to_sim, &file(Some("cn-north-4"), Some(P)), &env).unwrap();
        assert_eq!(c.iam_endpoint, None);
    }

    #[test]
    fn the_project_is_looked_up_only_when_nothing_names_it() {
        let env = env_of(&[("HW_AUTH_TOKEN", "t"), ("HW_REGION_NAME", "cn-north-4")]);
        let c = resolve(&ConnectionFlags::default(), &file(None, None), &env).unwrap();
        assert_eq!(
            c.project,
            ProjectSource::LookUp {
                name: "cn-north-4".into()
            }
        );
        // with --endpoint, IAM is never guessed from the region: HW_AUTH_URL names it, or the
        // project must be named
        let flags = ConnectionFlags {
            endpoint: Some("http://127.0.0.1:9".into()),
            ..Default::default()
        };
        let err = resolve(
            &flags,
            &file(Some("cn-north-4"), None),
            &env_of(&[("HW_AUTH_TOKEN", "t")]),
        )
        .unwrap_err();
        assert_eq!(
            err,
            ConnectionError::NoIamWithEndpoint {
                why: "to look the project id up"
            }
        );
        assert!(err.to_string().contains("name the project (--project-id, HW_PROJECT_ID or project_id in the config file) or the IAM endpoint (HW_AUTH_URL"));
        let with_iam = env_of(&[
            ("HW_AUTH_TOKEN", "t"),
            ("HW_AUTH_URL", "http://127.0.0.1:9/v3"),
        ]);
        let c = resolve(&flags, &file(Some("cn-north-4"), None), &with_iam).unwrap();
        assert_eq!(c.iam_endpoint.unwrap().as_str(), "http://127.0.0.1:9/");
        let role = env_of(&[
            ("HW_AUTH_TOKEN", "t"),
            ("HW_PROJECT_ID", P),
            ("HW_ASSUME_ROLE_AGENCY_NAME", "a"),
            ("HW_ASSUME_ROLE_DOMAIN_NAME", "d"),
        ]);
        assert_eq!(
            resolve(&flags, &file(Some("cn-north-4"), None), &role).unwrap_err(),
            ConnectionError::NoIamWithEndpoint {
                why: "to assume the agency"
            }
        );
        let err = resolve(
            &flags,
            &file(None, None),
            &env_of(&[("HW_AUTH_TOKEN", "t")]),
        )
        .unwrap_err();
        assert_eq!(
            err,
            ConnectionError::NoIamWithEndpoint {
                why: "to look the project id up"
            }
        );
    }

    #[test]
    fn a_flag_variable_or_profile_contradicting_the_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("config.json");
        std::fs::write(&shared, r#"{"current": "p", "profiles": [{"name": "p", "accessKeyId": "AKPROFILE000", "secretAccessKey": "SKprofile", "region": "cn-east-3", "projectId": "profileproject"}]}"#).unwrap();
        let shared = shared.display().to_string();
        let want_project = format!("but profile \"p\" of {shared} selects project profileproject");
        let want_region = format!("but profile \"p\" of {shared} selects region cn-east-3");
        let cases: Vec<(ConnectionFlags, Vec<(&str, &str)>, &str)> = vec![
            (ConnectionFlags::default(), vec![("HW_PROJECT_ID", "other")], "pools.yaml is for project 0bec5db98280d2d02fd6c00c2de791ce, but HW_PROJECT_ID selects project other"),
            (ConnectionFlags::default(), vec![("HUAWEICLOUD_SDK_PROJECT_ID", "other")], "but HUAWEICLOUD_SDK_PROJECT_ID selects project other"),
            (ConnectionFlags { project_id: Some("other".into()), ..Default::default() }, vec![], "but --project-id selects project other"),
            (ConnectionFlags::default(), vec![("HW_REGION_NAME", "cn-east-3")], "pools.yaml is for region cn-north-4, but HW_REGION_NAME selects region cn-east-3"),
            (ConnectionFlags { region: Some("cn-east-3".into()), ..Default::default() }, vec![], "but --region selects region cn-east-3"),
            (ConnectionFlags { region: Some("cn-east-3".into()), endpoint: Some("http://127.0.0.1:9".into()), ..Default::default() }, vec![], "but --region selects region cn-east-3"),
            (ConnectionFlags::default(), vec![("HW_SHARED_CONFIG_FILE", &shared)], &want_region),
            (ConnectionFlags::default(), vec![("HW_SHARED_CONFIG_FILE", &shared), ("HW_REGION_NAME", "cn-north-4")], &want_project),
        ];
        for (flags, mut env, want) in cases {
            // a profile serves only its own keys: the profile cases use them
            if !env.iter().any(|(k, _)| *k == "HW_SHARED_CONFIG_FILE") {
                env.push(("HW_AUTH_TOKEN", "t"));
            }
            let err = resolve(&flags, &file(Some("cn-north-4"), Some(P)), &env_of(&env))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(want) && err.contains("refusing to mix them"),
                "{want}: {err}"
            );
        }
        let mut f = file(None, None);
        f.cloud = Some("myhuaweicloud.com".into());
        let err = resolve(
            &ConnectionFlags {
                region: Some("cn-north-4".into()),
                cloud: Some("other.example".into()),
                ..Default::default()
            },
            &f,
            &env_of(&[("HW_AUTH_TOKEN", "t"), ("HW_PROJECT_ID", P)]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("is for cloud myhuaweicloud.com, but --cloud selects cloud other.example"),
            "{err}"
        );
    }

    /// A profile is one identity: its region, project and agency serve only its own keys.
    #[test]
    fn a_profile_serves_only_its_own_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("config.json");
        std::fs::write(&shared, r#"{"current": "p", "profiles": [{"name": "p", "accessKeyId": "AKPROFILE000", "secretAccessKey": "SKprofile", "region": "eu-west-101", "projectId": "profileproject", "agencyName": "poolform", "agencyDomainName": "tenant-b"}]}"#).unwrap();
        let shared = shared.display().to_string();
        let c = resolve(
            &ConnectionFlags::default(),
            &file(None, None),
            &env_of(&[("HW_SHARED_CONFIG_FILE", &shared)]),
        )
        .unwrap();
        assert_eq!(known(&c), "profileproject");
        assert_eq!(
            c.endpoint.as_str(),
            "https://workspace.eu-west-101.myhuaweicloud.eu/"
        );
        assert!(
            matches!(&c.credentials, Credentials::AkSk { access_key, .. } if access_key == "AKPROFILE000")
        );
        assert_eq!(c.assume_role.as_ref().unwrap().agency_name, "poolform");
        assert_eq!(
            c.identity_line(),
            format!("Acting as access key …E000 from profile \"p\" of {shared} (permanent), assuming agency poolform@tenant-b; project profileproject (from profile \"p\" of {shared}); endpoint https://workspace.eu-west-101.myhuaweicloud.eu")
        );
        // keys from the environment: the profile contributes nothing, agency included
        let env_keys = [
            ("HW_SHARED_CONFIG_FILE", shared.as_str()),
            ("HW_ACCESS_KEY", "AKENV0001"),
            ("HW_SECRET_KEY", "SKenv"),
            ("HW_PROJECT_ID", P),
            ("HW_REGION_NAME", "cn-north-4"),
        ];
        let c = resolve(
            &ConnectionFlags::default(),
            &file(None, None),
            &env_of(&env_keys),
        )
        .unwrap();
        assert!(
            matches!(&c.credentials, Credentials::AkSk { access_key, .. } if access_key == "AKENV0001")
        );
        assert_eq!(c.assume_role, None);
        assert_eq!(known(&c), P);
        assert_eq!(c.identity().credentials, CredentialKind::Variable);
        // nor its region: with the environment's keys and no region, there is no endpoint
        let err = resolve(
            &ConnectionFlags::default(),
            &file(None, None),
            &env_of(&env_keys[..3]),
        )
        .unwrap_err();
        assert_eq!(err, ConnectionError::MissingEndpoint);
        // and naming a profile beside the environment's keys is ambiguous
        for (flags, extra, named_by) in [
            (
                ConnectionFlags {
                    profile: Some("p".into()),
                    ..Default::default()
                },
                None,
                "--profile",
            ),
            (
                ConnectionFlags::default(),
                Some(("HW_PROFILE", "p")),
                "HW_PROFILE",
            ),
        ] {
            let mut env = env_keys.to_vec();
            env.extend(extra);
            let err = resolve(&flags, &file(None, None), &env_of(&env)).unwrap_err();
            assert_eq!(
                err,
                ConnectionError::AmbiguousCredentials {
                    variable: "HW_ACCESS_KEY",
                    named_by,
                    profile: "p".into()
                }
            );
        }
        // an agency from the environment beside another in the profile is refused
        let err = resolve(
            &ConnectionFlags::default(),
            &file(None, None),
            &env_of(&[
                ("HW_SHARED_CONFIG_FILE", &shared),
                ("HW_ASSUME_ROLE_AGENCY_NAME", "other"),
                ("HW_ASSUME_ROLE_DOMAIN_NAME", "tenant-c"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("HW_ASSUME_ROLE_AGENCY_NAME names agency \"other\", but profile \"p\""),
            "{err}"
        );
    }

    #[test]
    fn unusable_values_are_named() {
        let named = file(Some("cn-north-4"), Some(P));
        let cases: Vec<(Vec<(&str, &str)>, ConnectionFlags, &str)> = vec![
            (
                vec![],
                ConnectionFlags::default(),
                "no credentials: set HW_ACCESS_KEY and HW_SECRET_KEY",
            ),
            (
                vec![("HW_ACCESS_KEY", "a")],
                ConnectionFlags::default(),
                "HW_ACCESS_KEY is set but HW_SECRET_KEY is not",
            ),
            (
                vec![("HUAWEICLOUD_SDK_SK", "s")],
                ConnectionFlags::default(),
                "HUAWEICLOUD_SDK_SK is set but HUAWEICLOUD_SDK_AK is not",
            ),
            (
                vec![("HW_AUTH_TOKEN", "t")],
                ConnectionFlags {
                    endpoint: Some("http://example.com".into()),
                    ..Default::default()
                },
                "HTTPS is required",
            ),
            (
                vec![("HW_AUTH_TOKEN", "t")],
                ConnectionFlags {
                    endpoint: Some("ftp://127.0.0.1".into()),
                    ..Default::default()
                },
                "scheme \"ftp\"",
            ),
            (
                vec![("HW_AUTH_TOKEN", "t")],
                ConnectionFlags {
                    endpoint: Some("127.0.0.1:18085".into()),
                    ..Default::default()
                },
                "it has no scheme; did you mean http://127.0.0.1:18085?",
            ),
            (
                vec![("HW_AUTH_TOKEN", "t")],
                ConnectionFlags {
                    endpoint: Some("workspace.example.com".into()),
                    ..Default::default()
                },
                "did you mean https://workspace.example.com?",
            ),
            (
                vec![("HW_AUTH_TOKEN", "t")],
                ConnectionFlags {
                    endpoint: Some("https://u:p@h.example".into()),
                    ..Default::default()
                },
                "credentials do not belong",
            ),
            (
                vec![("HW_AUTH_TOKEN", "t")],
                ConnectionFlags {
                    endpoint: Some("https://h.example/v2".into()),
                    ..Default::default()
                },
                "must not have a path",
            ),
            (
                vec![
                    ("HW_AUTH_TOKEN", "t"),
                    ("HW_AUTH_URL", "http://iam.example.com"),
                ],
                ConnectionFlags::default(),
                "IAM endpoint \"http://iam.example.com\" uses plain HTTP",
            ),
            (
                vec![("HW_AUTH_TOKEN", "t"), ("HW_CLOUD", "evil.com/x")],
                ConnectionFlags::default(),
                "cloud \"evil.com/x\" (from HW_CLOUD) is not a domain name",
            ),
        ];
        for (env, flags, want) in cases {
            let err = resolve(&flags, &named, &env_of(&env))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{env:?} {flags:?}: {err}");
        }
        let token = env_of(&[("HW_AUTH_TOKEN", "t"), ("HW_PROJECT_ID", P)]);
        let region = ConnectionFlags {
            region: Some("cn-north-4.evil.com/x".into()),
            ..Default::default()
        };
        let err = resolve(&region, &file(None, None), &token)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("(from --region) is not a region name"),
            "{err}"
        );
        let project = ConnectionFlags {
            project_id: Some("../x".into()),
            region: Some("cn-north-4".into()),
            ..Default::default()
        };
        let err = resolve(&project, &file(None, None), &token)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("project id \"../x\" (from --project-id) contains '.'"),
            "{err}"
        );
    }

    #[test]
    fn loopback_may_use_http() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
            "http://127.5.5.5",
            "https://x.example",
        ] {
            assert!(parse_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cloud_domains() {
        for ok in ["myhuaweicloud.com", "myhuaweicloud.eu", "a-b.c9.example"] {
            assert!(is_cloud_domain(ok), "{ok}");
        }
        for bad in [
            "",
            "com",
            "a..b",
            ".a.b",
            "a.b.",
            "A.com",
            "a_b.com",
            "-a.com",
            "a.com/x",
            "a.com:443",
        ] {
            assert!(!is_cloud_domain(bad), "{bad}");
        }
    }
}
