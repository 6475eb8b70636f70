//! Where credentials come from, as the official Terraform provider and SDKs name them: the
//! environment (AK/SK, or an IAM token), else a profile of the KooCLI/hcloud shared config
//! file; and whether they are to be exchanged for an agency's temporary ones (assume role).
//!
//! Secrets never come from flags; they are redacted in every `Debug`/`Display`.

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// Reads one environment variable; injected so that resolution is testable.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

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
            Credentials::Token(t) => crate::api::redact::register(t.expose()),
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                crate::api::redact::register(access_key);
                crate::api::redact::register(secret_key.expose());
                if let Some(t) = security_token {
                    crate::api::redact::register(t.expose());
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

/// The last 4 characters of an access key, enough to tell keys apart.
fn last4(access_key: &str) -> String {
    access_key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

/// Shows the last 4 characters of an access key, enough to tell keys apart.
fn mask(access_key: &str) -> String {
    format!("…{}", last4(access_key))
}

impl Credentials {
    /// The access key's last four characters (AK/SK only).
    pub fn access_key_last4(&self) -> Option<String> {
        match self {
            Credentials::Token(_) => None,
            Credentials::AkSk { access_key, .. } => Some(last4(access_key)),
        }
    }

    /// Temporary credentials: AK/SK with a security token.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            Credentials::AkSk {
                security_token: Some(_),
                ..
            }
        )
    }
}

/// Why credentials could not be found or used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("no credentials: set HW_ACCESS_KEY and HW_SECRET_KEY (or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK), or HW_AUTH_TOKEN, or name a profile of the shared config file (--profile, HW_PROFILE, HW_SHARED_CONFIG_FILE)")]
    Missing,
    #[error("{set} is set but {missing} is not; set both")]
    Half {
        set: &'static str,
        missing: &'static str,
    },
    #[error("{source_name} cannot be sent in an HTTP header: {problem}; nothing was sent. Check the value for a stray newline, quote or non-ASCII character")]
    NotAHeaderValue {
        source_name: String,
        problem: String,
    },
    #[error("shared config file {file}: {message}")]
    SharedConfig { file: String, message: String },
    #[error("{0}")]
    AssumeRole(String),
}

/// Checks that a credential can travel as an HTTP header value (visible ASCII, spaces and
/// tabs inside): one that cannot would be dropped, and end in a confusing 401. The value itself
/// is never shown.
pub fn check_header_value(source_name: &str, value: &str) -> Result<(), CredentialError> {
    let bad = value
        .chars()
        .enumerate()
        .find(|(_, c)| !(matches!(c, ' ' | '\t') || c.is_ascii_graphic()));
    let edge = value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']);
    let problem = match bad {
        Some((at, c)) if c.is_control() => format!(
            "it holds a control character (U+{:04X}) at position {}",
            c as u32,
            at + 1
        ),
        Some((at, _)) => format!("it holds a non-ASCII character at position {}", at + 1),
        None if edge => "it starts or ends with white space".to_owned(),
        None => return Ok(()),
    };
    Err(CredentialError::NotAHeaderValue {
        source_name: source_name.to_owned(),
        problem,
    })
}

/// The first of `names` that is set and not empty, with its name.
pub fn first_env(env: Env<'_>, names: &[&'static str]) -> Option<(&'static str, String)> {
    names
        .iter()
        .find_map(|n| env(n).filter(|v| !v.is_empty()).map(|v| (*n, v)))
}

/// Credentials from the environment, and the variable that gave them (the access key's, or
/// `HW_AUTH_TOKEN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvCredentials {
    pub credentials: Credentials,
    pub variable: &'static str,
}

/// Credentials from the environment: AK/SK (HW_* first, then HUAWEICLOUD_SDK_*), else a
/// token. `Ok(None)` when none is set.
pub fn from_env(env: Env<'_>) -> Result<Option<EnvCredentials>, CredentialError> {
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
            Ok(Some(EnvCredentials {
                credentials: Credentials::AkSk {
                    access_key,
                    secret_key: Secret::new(secret_key),
                    security_token: security_token.map(|(_, t)| Secret::new(t)),
                },
                variable: ak_name,
            }))
        }
        (Some((set, _)), None) => Err(CredentialError::Half {
            set,
            missing: if set == "HW_ACCESS_KEY" {
                "HW_SECRET_KEY"
            } else {
                "HUAWEICLOUD_SDK_SK"
            },
        }),
        (None, Some((set, _))) => Err(CredentialError::Half {
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
                Ok(Some(EnvCredentials {
                    credentials: Credentials::Token(Secret::new(token)),
                    variable: name,
                }))
            }
            None => Ok(None),
        },
    }
}

/// One profile of the KooCLI/hcloud `config.json`, as the provider reads it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Profile {
    pub name: String,
    pub mode: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub security_token: String,
    pub region: String,
    pub project_id: String,
    pub domain_id: String,
    pub agency_name: String,
    pub agency_domain_name: String,
    pub agency_domain_id: String,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("region", &self.region)
            .field("project_id", &self.project_id)
            .field("agency_name", &self.agency_name)
            .finish_non_exhaustive()
    }
}

/// The shared config file as a whole.
#[derive(Deserialize)]
struct SharedConfig {
    #[serde(default)]
    current: String,
    #[serde(default)]
    profiles: Vec<Profile>,
}

/// A profile, and where it was read from (for messages).
#[derive(Debug, Clone)]
pub struct LoadedProfile {
    pub profile: Profile,
    /// `profile NAME of FILE`.
    pub described: String,
    /// Said once, on standard error: a file others can read, say.
    pub warnings: Vec<String>,
}

impl LoadedProfile {
    /// The profile's AK/SK (with its security token), if it has them.
    pub fn credentials(&self) -> Result<Option<Credentials>, CredentialError> {
        let p = &self.profile;
        match (p.access_key_id.is_empty(), p.secret_access_key.is_empty()) {
            (true, true) => Ok(None),
            (false, false) => {
                let at = |field: &str| format!("{} ({field})", self.described);
                check_header_value(&at("accessKeyId"), &p.access_key_id)?;
                if !p.security_token.is_empty() {
                    check_header_value(&at("securityToken"), &p.security_token)?;
                }
                Ok(Some(Credentials::AkSk {
                    access_key: p.access_key_id.clone(),
                    secret_key: Secret::new(p.secret_access_key.clone()),
                    security_token: (!p.security_token.is_empty())
                        .then(|| Secret::new(p.security_token.clone())),
                }))
            }
            _ => Err(CredentialError::SharedConfig {
                file: self.described.clone(),
                message: "it has only one of accessKeyId and secretAccessKey".into(),
            }),
        }
    }
}

/// Where the shared config file is: `HW_SHARED_CONFIG_FILE` (which must exist), else
/// `~/.hcloud/config.json` (read only when it exists). `~` is expanded.
fn shared_config_path(env: Env<'_>) -> Option<(PathBuf, bool)> {
    let home = env("HOME").filter(|h| !h.is_empty());
    let expand = |p: &str| match (p.strip_prefix("~/"), &home) {
        (Some(rest), Some(home)) => Path::new(home).join(rest),
        _ => PathBuf::from(p),
    };
    match first_env(env, &["HW_SHARED_CONFIG_FILE"]) {
        Some((_, path)) => Some((expand(&path), true)),
        None => home.map(|h| (Path::new(&h).join(".hcloud/config.json"), false)),
    }
}

/// Does the file look encrypted by KooCLI (`cli-auth-encrypt`)? Its keys then are not plain
/// access keys.
fn looks_encrypted(text: &str, profile: &Profile) -> bool {
    let flagged = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
        .ok()
        .is_some_and(|top| {
            top.iter().any(|(k, v)| {
                k.to_ascii_lowercase().contains("encrypt")
                    && (v.as_bool() == Some(true) || v.as_str() == Some("true"))
            })
        });
    let plain = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric());
    flagged || !plain(&profile.access_key_id) || !plain(&profile.secret_access_key)
}

/// "it has no profile "prd"; did you mean "prod"? Its profiles: default, prod".
fn no_such_profile(name: &str, names: &[String]) -> String {
    let visible = |s: &str| crate::core::escape::visible(s).into_owned();
    let near = names
        .iter()
        .map(|n| (crate::core::names::edit_distance(name, n), n))
        .filter(|(d, n)| *d <= (n.len() / 3).max(1))
        .min()
        .map(|(_, n)| format!("; did you mean {:?}", visible(n)))
        .unwrap_or_default();
    let listed = if names.is_empty() {
        "it has none".to_owned()
    } else {
        names
            .iter()
            .map(|n| visible(n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "it has no profile {:?}{near} (its profiles: {listed})",
        visible(name)
    )
}

/// The largest shared config file read.
const MAX_SHARED_CONFIG_BYTES: u64 = 1024 * 1024;

/// Loads the profile named by `--profile` (`flag`), `HW_PROFILE`, or the file's `current`.
/// `Ok(None)` when no file is configured and the default one does not exist (and no profile
/// was asked for).
pub fn load_profile(
    env: Env<'_>,
    flag: Option<&str>,
) -> Result<Option<LoadedProfile>, CredentialError> {
    let asked = flag
        .map(str::to_owned)
        .or_else(|| first_env(env, &["HW_PROFILE"]).map(|(_, v)| v));
    let Some((path, explicit)) = shared_config_path(env) else {
        return match asked {
            Some(name) => Err(CredentialError::SharedConfig {
                file: "(none)".into(),
                message: format!("profile {name:?} was asked for, but HOME is not set and HW_SHARED_CONFIG_FILE names no file"),
            }),
            None => Ok(None),
        };
    };
    let file = path.display().to_string();
    let err = |message: String| CredentialError::SharedConfig {
        file: file.clone(),
        message,
    };
    // A regular file, read through its cap: a FIFO or a device (`/dev/zero`) is refused at
    // once, before anything is read.
    let bytes = match super::files::read_regular(&path, MAX_SHARED_CONFIG_BYTES) {
        Ok(b) => b,
        Err(e) if e.is_not_found() && !explicit && asked.is_none() => return Ok(None),
        Err(super::files::ReadError::TooLarge { .. }) => {
            return Err(err("it is larger than 1 MiB".into()))
        }
        Err(super::files::ReadError::NotRegular { kind, .. }) => {
            return Err(err(format!("it is a {kind}, not a regular file")))
        }
        Err(super::files::ReadError::Io { source, .. }) => {
            return Err(err(format!("cannot read it: {source}")))
        }
        Err(e) => return Err(err(e.to_string())),
    };
    let text = String::from_utf8(bytes).map_err(|_| err("it is not UTF-8 text".into()))?;
    let shared: SharedConfig = serde_json::from_str(&text)
        .map_err(|e| err(format!("not a KooCLI/hcloud config.json: {e}")))?;
    let name = asked.unwrap_or_else(|| shared.current.clone());
    if name.is_empty() {
        return Err(err(
            "it names no current profile; pass --profile NAME or set HW_PROFILE".into(),
        ));
    }
    let names: Vec<String> = shared.profiles.iter().map(|p| p.name.clone()).collect();
    let Some(profile) = shared.profiles.into_iter().find(|p| p.name == name) else {
        return Err(err(no_such_profile(&name, &names)));
    };
    if !profile.access_key_id.is_empty() && looks_encrypted(&text, &profile) {
        return Err(err(format!(
            "profile {name:?} holds encrypted credentials (KooCLI's cli-auth-encrypt), which only KooCLI can read. \
             Store them in the clear with `hcloud configure set --cli-profile={name} --cli-auth-encrypt=false` (and keep the file mode 600), \
             or set HW_ACCESS_KEY and HW_SECRET_KEY instead"
        )));
    }
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut warnings = Vec::new();
    // Windows has no mode bits to check: its ACLs are the user profile's.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(&path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                warnings.push(format!(
                    "warning: {file} holds credentials and is readable by group or others (mode {mode:o}); run `chmod 600 {file}`"
                ));
            }
        }
    }
    Ok(Some(LoadedProfile {
        described: format!("profile {name:?} of {file}"),
        profile,
        warnings,
    }))
}

/// The agency's account: by name or by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgencyDomain {
    Name(String),
    Id(String),
}

/// An exchange of the credentials for an agency's temporary ones, before the first call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    pub agency_name: String,
    pub domain: AgencyDomain,
    pub duration_seconds: u32,
}

/// The provider's default duration of assumed credentials: a day.
const DEFAULT_ASSUME_ROLE_SECONDS: u32 = 24 * 60 * 60;

/// Assume-role settings: `HW_ASSUME_ROLE_AGENCY_NAME` with `HW_ASSUME_ROLE_DOMAIN_NAME` (or
/// `_DOMAIN_ID`) and `HW_ASSUME_ROLE_DURATION`; else the profile's agency fields.
pub fn assume_role(
    env: Env<'_>,
    profile: Option<&LoadedProfile>,
) -> Result<Option<AssumeRole>, CredentialError> {
    let agency = first_env(env, &["HW_ASSUME_ROLE_AGENCY_NAME"]).map(|(_, v)| v);
    let domain_name = first_env(env, &["HW_ASSUME_ROLE_DOMAIN_NAME"]).map(|(_, v)| v);
    let domain_id = first_env(env, &["HW_ASSUME_ROLE_DOMAIN_ID"]).map(|(_, v)| v);
    let duration = match first_env(env, &["HW_ASSUME_ROLE_DURATION"]) {
        None => DEFAULT_ASSUME_ROLE_SECONDS,
        Some((_, v)) => match v.trim().parse::<u32>() {
            Ok(n) if (900..=DEFAULT_ASSUME_ROLE_SECONDS).contains(&n) => n,
            _ => {
                return Err(CredentialError::AssumeRole(format!(
                    "HW_ASSUME_ROLE_DURATION {v:?} must be a number of seconds from 900 to {DEFAULT_ASSUME_ROLE_SECONDS}"
                )))
            }
        },
    };
    if let (Some(env_agency), Some(p)) = (&agency, profile) {
        if !p.profile.agency_name.is_empty() && p.profile.agency_name != *env_agency {
            return Err(CredentialError::AssumeRole(format!(
                "HW_ASSUME_ROLE_AGENCY_NAME names agency {env_agency:?}, but {} names agency {:?}; refusing to guess which identity to act as. Unset one of them",
                p.described, p.profile.agency_name
            )));
        }
    }
    let (agency, domain_name, domain_id) = match (agency, domain_name, domain_id, profile) {
        (None, None, None, Some(p)) if !p.profile.agency_name.is_empty() => {
            let p = &p.profile;
            let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
            (
                Some(p.agency_name.clone()),
                opt(&p.agency_domain_name),
                opt(&p.agency_domain_id),
            )
        }
        (a, n, i, _) => (a, n, i),
    };
    let domain = match (domain_name, domain_id) {
        (Some(n), _) => Some(AgencyDomain::Name(n)),
        (None, Some(i)) => Some(AgencyDomain::Id(i)),
        (None, None) => None,
    };
    match (agency, domain) {
        (None, None) => Ok(None),
        (Some(agency_name), Some(domain)) => Ok(Some(AssumeRole {
            agency_name,
            domain,
            duration_seconds: duration,
        })),
        (Some(_), None) => Err(CredentialError::AssumeRole(
            "HW_ASSUME_ROLE_AGENCY_NAME is set, but neither HW_ASSUME_ROLE_DOMAIN_NAME nor HW_ASSUME_ROLE_DOMAIN_ID names the agency's account".into(),
        )),
        (None, Some(_)) => Err(CredentialError::AssumeRole(
            "HW_ASSUME_ROLE_DOMAIN_NAME (or _DOMAIN_ID) is set, but HW_ASSUME_ROLE_AGENCY_NAME is not".into(),
        )),
    }
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
            let err = from_env(&env_of(&env)).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
            assert!(
                !err.contains("tokensecret") && !err.contains("en-secret"),
                "the value leaked: {err}"
            );
        }
        // a secret key is a signing key, never a header: any value is fine
        assert!(from_env(&env_of(&[
            ("HW_ACCESS_KEY", "AK"),
            ("HW_SECRET_KEY", "s\nk")
        ]))
        .is_ok());
        assert_eq!(from_env(&env_of(&[])), Ok(None));
        let token = from_env(&env_of(&[("HW_AUTH_TOKEN", "tokenvalue")]))
            .unwrap()
            .unwrap();
        assert_eq!(token.variable, "HW_AUTH_TOKEN");
        let sdk = from_env(&env_of(&[
            ("HUAWEICLOUD_SDK_AK", "AK"),
            ("HUAWEICLOUD_SDK_SK", "SK"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(sdk.variable, "HUAWEICLOUD_SDK_AK");
    }

    fn shared_file(dir: &Path, text: &str) -> String {
        let path = dir.join("config.json");
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        path.display().to_string()
    }

    const SHARED: &str = r#"{"language": "en", "current": "dev", "profiles": [
        {"name": "dev", "mode": "AKSK", "accessKeyId": "AKDEV0000000000000000", "secretAccessKey": "SKdev", "region": "cn-north-4", "projectId": "p-dev"},
        {"name": "ops", "mode": "AKSK", "accessKeyId": "AKOPS0000000000000000", "secretAccessKey": "SKops", "securityToken": "st-ops", "region": "eu-west-101", "agencyName": "poolform", "agencyDomainName": "tenant-b"}
    ]}"#;

    #[test]
    fn profiles_are_found_by_flag_variable_or_current() {
        let dir = tempfile::tempdir().unwrap();
        let file = shared_file(dir.path(), SHARED);
        let env = env_of(&[("HW_SHARED_CONFIG_FILE", &file)]);
        let current = load_profile(&env, None).unwrap().unwrap();
        assert_eq!(current.profile.name, "dev");
        assert!(current.warnings.is_empty());
        let by_flag = load_profile(&env, Some("ops")).unwrap().unwrap();
        assert_eq!(by_flag.profile.region, "eu-west-101");
        match by_flag.credentials().unwrap().unwrap() {
            Credentials::AkSk { security_token, .. } => assert!(security_token.is_some()),
            other => panic!("{other:?}"),
        }
        let by_var = env_of(&[("HW_SHARED_CONFIG_FILE", &file), ("HW_PROFILE", "ops")]);
        assert_eq!(
            load_profile(&by_var, None).unwrap().unwrap().profile.name,
            "ops"
        );
        let role = assume_role(&by_var, Some(&by_flag)).unwrap().unwrap();
        assert_eq!(role.agency_name, "poolform");
        assert_eq!(role.domain, AgencyDomain::Name("tenant-b".into()));
        // the default file under HOME, read only when it exists
        let home = tempfile::tempdir().unwrap();
        let none = env_of(&[("HOME", home.path().to_str().unwrap())]);
        assert!(load_profile(&none, None).unwrap().is_none());
        std::fs::create_dir_all(home.path().join(".hcloud")).unwrap();
        shared_file(&home.path().join(".hcloud"), SHARED);
        assert_eq!(
            load_profile(&none, None).unwrap().unwrap().profile.name,
            "dev"
        );
        let tilde = env_of(&[
            ("HOME", home.path().to_str().unwrap()),
            ("HW_SHARED_CONFIG_FILE", "~/.hcloud/config.json"),
        ]);
        assert!(load_profile(&tilde, Some("ops")).is_ok());
    }

    #[test]
    fn unusable_shared_config_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                SHARED,
                Some("nope"),
                "has no profile \"nope\" (its profiles: dev, ops)",
            ),
            (
                SHARED,
                Some("opps"),
                "has no profile \"opps\"; did you mean \"ops\" (its profiles: dev, ops)",
            ),
            ("not json", None, "not a KooCLI/hcloud config.json"),
            (r#"{"profiles": []}"#, None, "names no current profile"),
            (
                r#"{"current": "a", "cliAuthEncrypt": true, "profiles": [{"name": "a", "accessKeyId": "AK0000", "secretAccessKey": "SK0000"}]}"#,
                None,
                "holds encrypted credentials (KooCLI's cli-auth-encrypt)",
            ),
            (
                r#"{"current": "a", "profiles": [{"name": "a", "accessKeyId": "cGxlYXNlIGRv+bm90/Q==", "secretAccessKey": "x+/="}]}"#,
                None,
                "--cli-auth-encrypt=false",
            ),
        ];
        for (text, profile, want) in cases {
            let file = shared_file(dir.path(), text);
            let env = env_of(&[("HW_SHARED_CONFIG_FILE", &file)]);
            let err = load_profile(&env, profile).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("shared config file {file}")) && err.contains(want),
                "{err}"
            );
        }
        let missing = env_of(&[("HW_SHARED_CONFIG_FILE", "/nonexistent/config.json")]);
        assert!(load_profile(&missing, None)
            .unwrap_err()
            .to_string()
            .contains("cannot read it"));
        let half = env_of(&[(
            "HW_SHARED_CONFIG_FILE",
            &shared_file(
                dir.path(),
                r#"{"current": "a", "profiles": [{"name": "a", "accessKeyId": "AK"}]}"#,
            ),
        )]);
        let loaded = load_profile(&half, None).unwrap().unwrap();
        assert!(loaded
            .credentials()
            .unwrap_err()
            .to_string()
            .contains("only one of accessKeyId and secretAccessKey"));
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_gets_a_warning() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = shared_file(dir.path(), SHARED);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let loaded = load_profile(&env_of(&[("HW_SHARED_CONFIG_FILE", &file)]), None)
            .unwrap()
            .unwrap();
        assert_eq!(loaded.warnings.len(), 1);
        assert!(
            loaded.warnings[0].contains("readable by group or others (mode 644)"),
            "{:?}",
            loaded.warnings
        );
    }

    #[test]
    fn assume_role_settings() {
        let ok = assume_role(
            &env_of(&[
                ("HW_ASSUME_ROLE_AGENCY_NAME", "a"),
                ("HW_ASSUME_ROLE_DOMAIN_ID", "d-1"),
                ("HW_ASSUME_ROLE_DURATION", "3600"),
            ]),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (ok.domain, ok.duration_seconds),
            (AgencyDomain::Id("d-1".into()), 3600)
        );
        let cases = [
            (
                vec![("HW_ASSUME_ROLE_AGENCY_NAME", "a")],
                "neither HW_ASSUME_ROLE_DOMAIN_NAME nor HW_ASSUME_ROLE_DOMAIN_ID",
            ),
            (
                vec![("HW_ASSUME_ROLE_DOMAIN_NAME", "d")],
                "HW_ASSUME_ROLE_AGENCY_NAME is not",
            ),
            (
                vec![
                    ("HW_ASSUME_ROLE_AGENCY_NAME", "a"),
                    ("HW_ASSUME_ROLE_DOMAIN_NAME", "d"),
                    ("HW_ASSUME_ROLE_DURATION", "60"),
                ],
                "from 900 to 86400",
            ),
        ];
        for (env, want) in cases {
            let err = assume_role(&env_of(&env), None).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
        assert_eq!(assume_role(&env_of(&[]), None), Ok(None));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let c = Credentials::AkSk {
            access_key: "AKEXAMPLE1234567890".into(),
            secret_key: Secret::new("SKsupersecret"),
            security_token: Some(Secret::new("STsupersecret")),
        };
        let profile = Profile {
            secret_access_key: "SKsupersecret".into(),
            access_key_id: "AKEXAMPLE1234567890".into(),
            ..Profile::default()
        };
        let shown = format!(
            "{c:?} {:?} {profile:?}",
            Credentials::Token(Secret::new("TOKsupersecret"))
        );
        assert!(!shown.contains("supersecret"), "{shown}");
        assert!(!shown.contains("AKEXAMPLE1234"), "{shown}");
        assert!(shown.contains("…7890"));
    }
}
