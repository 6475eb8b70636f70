//! Where to connect and as whom: endpoint, project and credentials from flags, env and the config.
//!
//! Precedence is flags, then environment, then the config file. Secrets come only from the
//! environment and are redacted in every `Debug`/`Display`.

use crate::model::{IdError, ProjectId};
use reqwest::Url;
use std::fmt;
use std::net::IpAddr;

/// A secret string: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How requests are authenticated.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// An IAM user token sent as `X-Auth-Token`.
    Token(Secret),
    /// AK/SK signing, with `X-Security-Token` for temporary credentials.
    AkSk {
        access_key: String,
        secret_key: Secret,
        security_token: Option<Secret>,
    },
}

impl Credentials {
    /// Masks these credentials in everything poolform prints from now on.
    pub fn register_for_redaction(&self) {
        match self {
            Credentials::Token(t) => crate::redact::register(t.expose()),
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                crate::redact::register(access_key);
                crate::redact::register(secret_key.expose());
                if let Some(t) = security_token {
                    crate::redact::register(t.expose());
                }
            }
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Credentials::Token(<redacted>)"),
            Credentials::AkSk {
                access_key,
                security_token,
                ..
            } => write!(
                f,
                "Credentials::AkSk {{ access_key: {:?}, secret_key: <redacted>, security_token: {} }}",
                mask(access_key),
                if security_token.is_some() { "<redacted>" } else { "none" }
            ),
        }
    }
}

/// Shows the last 4 characters of an access key, enough to tell keys apart.
fn mask(access_key: &str) -> String {
    let tail: String = access_key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

/// Connection values given on the command line.
#[derive(Debug, Clone, Default)]
pub struct ConnectionFlags {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub project_id: Option<String>,
}

/// Connection values from the config file (or a saved plan): the weakest source, and a
/// constraint: a flag or variable that contradicts them is refused, not preferred.
#[derive(Debug, Clone, Default)]
pub struct FileDefaults {
    /// How the file is named in messages, e.g. `pools.yaml`.
    pub source: String,
    pub region: Option<String>,
    pub project_id: Option<String>,
}

/// A resolved, validated connection.
#[derive(Debug, Clone)]
pub struct Connection {
    pub endpoint: Url,
    pub project_id: ProjectId,
    pub credentials: Credentials,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConnectionError {
    #[error("no project id: pass --project-id, set HW_PROJECT_ID (or HUAWEICLOUD_SDK_PROJECT_ID), or put project_id in the config file")]
    MissingProjectId,
    #[error("project id {value:?} (from {source_name}) {problem}")]
    BadProjectId {
        value: String,
        source_name: String,
        problem: IdError,
    },
    #[error("no endpoint: pass --endpoint, or a region with --region, HW_REGION_NAME or region in the config file")]
    MissingEndpoint,
    #[error("region {0:?} is not a region name (letters, digits and '-' only)")]
    BadRegion(String),
    #[error("endpoint {value:?} is not a valid URL: {reason}")]
    BadEndpoint { value: String, reason: String },
    #[error("endpoint {0:?} uses plain HTTP; HTTPS is required unless the host is loopback (127.0.0.1, ::1, localhost)")]
    InsecureEndpoint(String),
    #[error("no credentials: set HW_ACCESS_KEY and HW_SECRET_KEY (or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK), or HW_AUTH_TOKEN")]
    MissingCredentials,
    #[error("{file} is for {what} {file_value}, but {chosen_from} selects {what} {chosen_value}; refusing to mix them, since a file written for one {what} would plan deletions in another. Fix {file} or unset {chosen_from}")]
    Conflict {
        what: &'static str,
        file: String,
        file_value: String,
        chosen_from: String,
        chosen_value: String,
    },
    #[error("{set} is set but {missing} is not; set both")]
    HalfCredentials {
        set: &'static str,
        missing: &'static str,
    },
    #[error("{source_name} cannot be sent in an HTTP header: {problem}; nothing was sent. Check the value for a stray newline, quote or non-ASCII character")]
    NotAHeaderValue {
        source_name: String,
        problem: String,
    },
}

/// The endpoint of `region`.
pub fn region_endpoint(region: &str) -> Result<String, ConnectionError> {
    if !crate::model::is_region_name(region) {
        return Err(ConnectionError::BadRegion(region.to_owned()));
    }
    Ok(format!("https://workspace.{region}.myhuaweicloud.com"))
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

/// Parses and checks an endpoint: http(s) only, HTTPS unless loopback, no path, query or userinfo.
pub fn parse_endpoint(value: &str) -> Result<Url, ConnectionError> {
    let bad = |reason: &str| ConnectionError::BadEndpoint {
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
        "http" => Err(ConnectionError::InsecureEndpoint(value.to_owned())),
        other => Err(bad(&format!("scheme {other:?} is not http or https"))),
    }
}

fn first_env(
    env: &dyn Fn(&str) -> Option<String>,
    names: &[&'static str],
) -> Option<(&'static str, String)> {
    names
        .iter()
        .find_map(|n| env(n).filter(|v| !v.is_empty()).map(|v| (*n, v)))
}

/// Checks that a credential can travel as an HTTP header value (visible ASCII, spaces and
/// tabs inside): one that cannot would be dropped, and end in a confusing 401. The value itself
/// is never shown.
pub fn check_header_value(source_name: &str, value: &str) -> Result<(), ConnectionError> {
    let bad = value
        .chars()
        .enumerate()
        .find(|(_, c)| !(matches!(c, ' ' | '\t') || c.is_ascii_graphic()));
    let edge = value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']);
    let problem = match bad {
        Some((at, c)) if c.is_control() => {
            format!(
                "it holds a control character (U+{:04X}) at position {}",
                c as u32,
                at + 1
            )
        }
        Some((at, _)) => format!("it holds a non-ASCII character at position {}", at + 1),
        None if edge => "it starts or ends with white space".to_owned(),
        None => return Ok(()),
    };
    Err(ConnectionError::NotAHeaderValue {
        source_name: source_name.to_owned(),
        problem,
    })
}

/// Reads credentials from the environment: AK/SK (HW_* first, then HUAWEICLOUD_SDK_*), else a token.
pub fn credentials_from_env(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Credentials, ConnectionError> {
    let ak = first_env(env, &["HW_ACCESS_KEY", "HUAWEICLOUD_SDK_AK"]);
    let sk = first_env(env, &["HW_SECRET_KEY", "HUAWEICLOUD_SDK_SK"]);
    let security_token = first_env(
        env,
        &["HW_SECURITY_TOKEN", "HUAWEICLOUD_SDK_SECURITY_TOKEN"],
    );
    match (ak, sk) {
        (Some((ak_name, access_key)), Some((_, secret_key))) => {
            check_header_value(ak_name, &access_key)?;
            if let Some((name, token)) = &security_token {
                check_header_value(name, token)?;
            }
            Ok(Credentials::AkSk {
                access_key,
                secret_key: Secret::new(secret_key),
                security_token: security_token.map(|(_, t)| Secret::new(t)),
            })
        }
        (Some((set, _)), None) => Err(ConnectionError::HalfCredentials {
            set,
            missing: if set == "HW_ACCESS_KEY" {
                "HW_SECRET_KEY"
            } else {
                "HUAWEICLOUD_SDK_SK"
            },
        }),
        (None, Some((set, _))) => Err(ConnectionError::HalfCredentials {
            set,
            missing: if set == "HW_SECRET_KEY" {
                "HW_ACCESS_KEY"
            } else {
                "HUAWEICLOUD_SDK_AK"
            },
        }),
        (None, None) => match first_env(env, &["HW_AUTH_TOKEN"]) {
            Some((name, token)) => {
                check_header_value(name, &token)?;
                Ok(Credentials::Token(Secret::new(token)))
            }
            None => Err(ConnectionError::MissingCredentials),
        },
    }
}

/// Resolves the connection: flags win over env, env over the config file; but a flag or
/// variable that contradicts a project or region the file names is an error.
pub fn resolve(
    flags: &ConnectionFlags,
    file: &FileDefaults,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Connection, ConnectionError> {
    let chosen_project = match &flags.project_id {
        Some(p) => Some(("--project-id".to_owned(), p.clone())),
        None => first_env(env, &["HW_PROJECT_ID", "HUAWEICLOUD_SDK_PROJECT_ID"])
            .map(|(n, p)| (n.to_owned(), p)),
    };
    let (source_name, project) = match (chosen_project, &file.project_id) {
        (Some((from, chosen)), Some(in_file)) if chosen != *in_file => {
            return Err(ConnectionError::Conflict {
                what: "project",
                file: file.source.clone(),
                file_value: in_file.clone(),
                chosen_from: from,
                chosen_value: chosen,
            })
        }
        (Some(chosen), _) => chosen,
        (None, Some(in_file)) => (file.source.clone(), in_file.clone()),
        (None, None) => return Err(ConnectionError::MissingProjectId),
    };
    let project_id =
        ProjectId::parse(&project).map_err(|problem| ConnectionError::BadProjectId {
            value: project.clone(),
            source_name,
            problem,
        })?;
    let endpoint_text = match &flags.endpoint {
        Some(e) => e.clone(),
        None => {
            let chosen_region = match &flags.region {
                Some(r) => Some(("--region".to_owned(), r.clone())),
                None => first_env(env, &["HW_REGION_NAME"]).map(|(n, r)| (n.to_owned(), r)),
            };
            let region = match (chosen_region, &file.region) {
                (Some((from, chosen)), Some(in_file)) if chosen != *in_file => {
                    return Err(ConnectionError::Conflict {
                        what: "region",
                        file: file.source.clone(),
                        file_value: in_file.clone(),
                        chosen_from: from,
                        chosen_value: chosen,
                    })
                }
                (Some((_, chosen)), _) => chosen,
                (None, Some(in_file)) => in_file.clone(),
                (None, None) => return Err(ConnectionError::MissingEndpoint),
            };
            region_endpoint(&region)?
        }
    };
    let endpoint = parse_endpoint(&endpoint_text)?;
    let credentials = credentials_from_env(env)?;
    Ok(Connection {
        endpoint,
        project_id,
        credentials,
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
        assert_eq!(c.project_id.as_str(), "envproject");
        assert_eq!(
            c.endpoint.as_str(),
            "https://workspace.cn-east-3.myhuaweicloud.com/"
        );
        let flags = ConnectionFlags {
            endpoint: None,
            region: Some("ap-southeast-1".into()),
            project_id: Some("flagproject".into()),
        };
        let c = resolve(&flags, &file(None, None), &env).unwrap();
        assert_eq!(c.project_id.as_str(), "flagproject");
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
        assert_eq!(c.project_id.as_str(), P);
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
        // an explicit endpoint makes the file's region irrelevant
        let to_sim = ConnectionFlags {
            endpoint: Some("http://127.0.0.1:9".into()),
            region: Some("cn-east-3".into()),
            project_id: None,
        };
        assert!(resolve(
            &to_sim,
            &file(Some("cn-north-4"), Some(P)),
            &env_of(&[("HW_AUTH_TOKEN", "t")])
        )
        .is_ok());
    }

    #[test]
    fn a_flag_or_variable_contradicting_the_file_is_refused() {
        let cases: Vec<(ConnectionFlags, Vec<(&str, &str)>, &str)> = vec![
            (ConnectionFlags::default(), vec![("HW_PROJECT_ID", "other")], "pools.yaml is for project 0bec5db98280d2d02fd6c00c2de791ce, but HW_PROJECT_ID selects project other"),
            (ConnectionFlags::default(), vec![("HUAWEICLOUD_SDK_PROJECT_ID", "other")], "but HUAWEICLOUD_SDK_PROJECT_ID selects project other"),
            (ConnectionFlags { project_id: Some("other".into()), ..Default::default() }, vec![], "but --project-id selects project other"),
            (ConnectionFlags::default(), vec![("HW_REGION_NAME", "cn-east-3")], "pools.yaml is for region cn-north-4, but HW_REGION_NAME selects region cn-east-3"),
            (ConnectionFlags { region: Some("cn-east-3".into()), ..Default::default() }, vec![], "but --region selects region cn-east-3"),
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
    }

    #[test]
    fn sdk_variable_names_work_too() {
        let env = env_of(&[
            ("HUAWEICLOUD_SDK_PROJECT_ID", P),
            ("HUAWEICLOUD_SDK_AK", "AK1234"),
            ("HUAWEICLOUD_SDK_SK", "SK"),
            ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "ST"),
            ("HW_REGION_NAME", "cn-north-4"),
        ]);
        let c = resolve(&ConnectionFlags::default(), &FileDefaults::default(), &env).unwrap();
        assert_eq!(c.project_id.as_str(), P);
        match c.credentials {
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                assert_eq!(access_key, "AK1234");
                assert_eq!(secret_key.expose(), "SK");
                assert_eq!(security_token.unwrap().expose(), "ST");
            }
            other => panic!("want AK/SK, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_what_to_set() {
        let named = file(Some("cn-north-4"), Some(P));
        let cases: Vec<(Vec<(&str, &str)>, ConnectionFlags, &str)> = vec![
            (
                vec![],
                ConnectionFlags::default(),
                "HW_ACCESS_KEY and HW_SECRET_KEY",
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
        ];
        for (env, flags, want) in cases {
            let err = resolve(&flags, &named, &env_of(&env))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{env:?} {flags:?}: {err}");
        }
        // values checked before they are used, when the file names none
        let token = env_of(&[("HW_AUTH_TOKEN", "t"), ("HW_PROJECT_ID", P)]);
        let region = ConnectionFlags {
            region: Some("cn-north-4.evil.com/x".into()),
            ..Default::default()
        };
        let err = resolve(&region, &file(None, None), &token)
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a region name"), "{err}");
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
        let err = resolve(
            &ConnectionFlags::default(),
            &FileDefaults::default(),
            &env_of(&[("HW_AUTH_TOKEN", "t")]),
        )
        .unwrap_err();
        assert_eq!(err, ConnectionError::MissingProjectId);
    }

    #[test]
    fn credentials_that_cannot_be_header_values_are_refused_without_showing_them() {
        let cases = [
            (vec![("HW_AUTH_TOKEN", "tok\nen-secret")], "HW_AUTH_TOKEN cannot be sent in an HTTP header: it holds a control character (U+000A) at position 4"),
            (vec![("HW_AUTH_TOKEN", "tökensecret")], "it holds a non-ASCII character at position 2"),
            (vec![("HW_AUTH_TOKEN", "tokensecret\r")], "control character (U+000D) at position 12"),
            (vec![("HW_AUTH_TOKEN", " tokensecret")], "starts or ends with white space"),
            (vec![("HW_ACCESS_KEY", "AK\u{7f}X"), ("HW_SECRET_KEY", "s")], "HW_ACCESS_KEY cannot be sent"),
            (vec![("HUAWEICLOUD_SDK_AK", "AK"), ("HUAWEICLOUD_SDK_SK", "s"), ("HW_SECURITY_TOKEN", "st\n")], "HW_SECURITY_TOKEN cannot be sent"),
        ];
        for (env, want) in cases {
            let err = credentials_from_env(&env_of(&env)).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
            assert!(
                !err.contains("secret") || !err.contains("tok"),
                "the value leaked: {err}"
            );
        }
        // a secret key is a signing key, never a header: any value is fine
        assert!(credentials_from_env(&env_of(&[
            ("HW_ACCESS_KEY", "AK"),
            ("HW_SECRET_KEY", "s\nk")
        ]))
        .is_ok());
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
    fn secrets_never_show_in_debug() {
        let c = Credentials::AkSk {
            access_key: "AKEXAMPLE1234567890".into(),
            secret_key: Secret::new("SKsupersecret"),
            security_token: Some(Secret::new("STsupersecret")),
        };
        let shown = format!(
            "{c:?} {:?}",
            Credentials::Token(Secret::new("TOKsupersecret"))
        );
        assert!(!shown.contains("supersecret"), "{shown}");
        assert!(!shown.contains("AKEXAMPLE1234"), "{shown}");
        assert!(shown.contains("…7890"));
    }
}
