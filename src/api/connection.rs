//! Where to connect and as whom: the Workspace and IAM endpoints, the project and the
//! credentials, from flags, environment, the shared config profile and the config file, in the
//! official Terraform provider's order.
//!
//! When the config file names its project, region or cloud, a flag, variable or profile that
//! says otherwise is refused, not preferred: a file written for one project and planned against
//! another would plan to delete everything in scope there.

use super::credentials::{
    self, first_env, AssumeRole, CredentialError, Env, LoadedProfile, Profile,
};
pub use super::credentials::{Credentials, Secret};
use crate::model::{IdError, ProjectId};
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
}

/// A resolved, validated connection: everything a request needs.
#[derive(Debug, Clone)]
pub struct Connection {
    pub endpoint: Url,
    pub project_id: ProjectId,
    pub credentials: Credentials,
    /// IAM, for the calls made before the first Workspace call (may be unknown).
    pub iam_endpoint: Option<Url>,
}

/// Where the project id comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectSource {
    Known(ProjectId),
    /// Not given anywhere: looked up at IAM by the region's name.
    LookUp {
        region: String,
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
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConnectionError {
    #[error("no project id, and no region to look it up at IAM with: pass --project-id, set HW_PROJECT_ID (or HUAWEICLOUD_SDK_PROJECT_ID), put projectId in the profile or project_id in the config file, or give a region (--region, HW_REGION_NAME, the profile, region in the config file)")]
    MissingProjectId,
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

pub use crate::model::is_cloud_domain;

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

/// Resolves the connection, before any call. Precedence, first wins:
///
/// - credentials: environment AK/SK, environment token, the profile;
/// - region: `--region`, `HW_REGION_NAME`, the profile, the config file;
/// - project: `--project-id`, `HW_PROJECT_ID`/`HUAWEICLOUD_SDK_PROJECT_ID`, the profile, the
///   config file, else looked up at IAM;
/// - cloud: `--cloud`, `HW_CLOUD`, the config file, else by region;
/// - endpoint: `--endpoint`, else `https://workspace.{region}.{cloud}`;
/// - IAM: `HW_AUTH_URL`/`HUAWEICLOUD_SDK_IAM_ENDPOINT`, else `https://iam.{region}.{cloud}`.
pub fn resolve(
    flags: &ConnectionFlags,
    file: &FileDefaults,
    env: Env<'_>,
) -> Result<Resolved, ConnectionError> {
    let env_credentials = credentials::from_env(env)?;
    let flag_project = pick(
        ("--project-id", &flags.project_id),
        env,
        &["HW_PROJECT_ID", "HUAWEICLOUD_SDK_PROJECT_ID"],
    );
    let flag_region = pick(("--region", &flags.region), env, &["HW_REGION_NAME"]);
    let profile_asked = flags.profile.is_some()
        || first_env(env, &["HW_PROFILE", "HW_SHARED_CONFIG_FILE"]).is_some();
    let profile = if profile_asked
        || env_credentials.is_none()
        || flag_project.is_none()
        || flag_region.is_none()
    {
        credentials::load_profile(env, flags.profile.as_deref())?
    } else {
        None
    };
    // A profile's value: `(profile NAME of FILE, value)`, when it has one.
    let from_profile = |field: fn(&Profile) -> &str| {
        profile.as_ref().and_then(|p| {
            let v = field(&p.profile);
            (!v.is_empty()).then(|| (p.described.clone(), v.to_owned()))
        })
    };
    let project = flag_project.or_else(|| from_profile(|p| &p.project_id));
    let project = agree("project", project, file, file.project_id.as_ref())?;
    let region = flag_region.or_else(|| from_profile(|p| &p.region));
    let region = agree("region", region, file, file.region.as_ref())?;
    if let Some((source_name, value)) = &region {
        if !crate::model::is_region_name(value) {
            return Err(ConnectionError::BadRegion {
                value: value.clone(),
                source_name: source_name.clone(),
            });
        }
    }
    let region = region.map(|(_, r)| r);
    let cloud = pick(("--cloud", &flags.cloud), env, &["HW_CLOUD"]);
    let cloud = match agree("cloud", cloud, file, file.cloud.as_ref())? {
        Some((source_name, value)) if !is_cloud_domain(&value) => {
            return Err(ConnectionError::BadCloud { value, source_name })
        }
        Some((_, value)) => Some(value),
        None => None,
    };
    let cloud_of = |region: &str| {
        cloud
            .clone()
            .unwrap_or_else(|| default_cloud(region).to_owned())
    };

    let endpoint_text = match (&flags.endpoint, &region) {
        (Some(e), _) => e.clone(),
        (None, Some(region)) => format!("https://workspace.{region}.{}", cloud_of(region)),
        (None, None) => return Err(ConnectionError::MissingEndpoint),
    };
    let endpoint = parse_endpoint(&endpoint_text)?;
    let iam_endpoint = match (iam_from_env(env), &region) {
        (Some((_, text)), _) => Some(parse_endpoint_as("IAM endpoint", &text)?),
        (None, Some(region)) => Some(parse_endpoint_as(
            "IAM endpoint",
            &format!("https://iam.{region}.{}", cloud_of(region)),
        )?),
        (None, None) => None,
    };
    let project = match project {
        Some((source_name, value)) => {
            ProjectSource::Known(ProjectId::parse(&value).map_err(|problem| {
                ConnectionError::BadProjectId {
                    value: value.clone(),
                    source_name,
                    problem,
                }
            })?)
        }
        None => match (&region, &iam_endpoint) {
            (Some(region), Some(_)) => ProjectSource::LookUp {
                region: region.clone(),
            },
            _ => return Err(ConnectionError::MissingProjectId),
        },
    };
    let credentials = match env_credentials {
        Some(c) => c,
        None => profile
            .as_ref()
            .map(LoadedProfile::credentials)
            .transpose()?
            .flatten()
            .ok_or(CredentialError::Missing)?,
    };
    let assume_role = credentials::assume_role(env, profile.as_ref())?;
    Ok(Resolved {
        endpoint,
        iam_endpoint,
        project,
        credentials,
        assume_role,
        warnings: profile.map(|p| p.warnings).unwrap_or_default(),
    })
}

#[cfg(test)]
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
            cloud: None,
        }
    }

    fn known(r: &Resolved) -> &str {
        match &r.project {
            ProjectSource::Known(p) => p.as_str(),
            ProjectSource::LookUp { .. } => panic!("looked up"),
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
                Some("file.example"),
                "https://workspace.cn-north-4.file.example/",
                "https://iam.cn-north-4.file.example/",
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

    #[test]
    fn the_project_is_looked_up_only_when_nothing_names_it() {
        let env = env_of(&[("HW_AUTH_TOKEN", "t"), ("HW_REGION_NAME", "cn-north-4")]);
        let c = resolve(&ConnectionFlags::default(), &file(None, None), &env).unwrap();
        assert_eq!(
            c.project,
            ProjectSource::LookUp {
                region: "cn-north-4".into()
            }
        );
        // with --endpoint and no region, IAM cannot be found unless HW_AUTH_URL names it
        let flags = ConnectionFlags {
            endpoint: Some("http://127.0.0.1:9".into()),
            ..Default::default()
        };
        let err = resolve(
            &flags,
            &file(None, None),
            &env_of(&[("HW_AUTH_TOKEN", "t")]),
        )
        .unwrap_err();
        assert_eq!(err, ConnectionError::MissingProjectId);
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
            (ConnectionFlags::default(), vec![("HW_SHARED_CONFIG_FILE", &shared)], &want_project),
            (ConnectionFlags::default(), vec![("HW_SHARED_CONFIG_FILE", &shared), ("HW_PROJECT_ID", P)], &want_region),
        ];
        for (flags, mut env, want) in cases {
            env.push(("HW_AUTH_TOKEN", "t"));
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

    #[test]
    fn a_profile_supplies_credentials_region_and_project_but_the_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("config.json");
        std::fs::write(&shared, r#"{"current": "p", "profiles": [{"name": "p", "accessKeyId": "AKPROFILE000", "secretAccessKey": "SKprofile", "region": "eu-west-101", "projectId": "profileproject"}]}"#).unwrap();
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
        let c = resolve(
            &ConnectionFlags::default(),
            &file(None, None),
            &env_of(&[
                ("HW_SHARED_CONFIG_FILE", &shared),
                ("HW_ACCESS_KEY", "AKENV"),
                ("HW_SECRET_KEY", "SKenv"),
            ]),
        )
        .unwrap();
        assert!(
            matches!(&c.credentials, Credentials::AkSk { access_key, .. } if access_key == "AKENV")
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
