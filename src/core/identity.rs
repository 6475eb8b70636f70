//! Whose identity a run acts as: the credentials' kind and source, the access key's last four
//! characters, the agency assumed, and how the project was found. Said before the first call,
//! recorded in plans and reports, and bound into a saved plan.

use serde::{Deserialize, Serialize};

/// How the credentials were given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// AK/SK from environment variables.
    Variable,
    /// An IAM token from `HW_AUTH_TOKEN`.
    Token,
    /// AK/SK from a profile of the shared config file.
    Profile,
}

impl CredentialKind {
    pub fn name(self) -> &'static str {
        match self {
            CredentialKind::Variable => "variable",
            CredentialKind::Token => "token",
            CredentialKind::Profile => "profile",
        }
    }
}

/// An agency assumed before the first Workspace call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub name: String,
    /// The account the agency is in, by name or by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
}

impl Agency {
    /// `poolform@tenant-b` (or `poolform@id:…`).
    pub fn label(&self) -> String {
        match (&self.domain_name, &self.domain_id) {
            (Some(n), _) => format!("{}@{n}", self.name),
            (None, Some(i)) => format!("{}@id:{i}", self.name),
            (None, None) => self.name.clone(),
        }
    }
}

/// Whose identity a run acts as: said on stderr before the first call, carried in the JSON
/// plan and report, and bound into a saved plan (the credentials' kind and the agency; the
/// project and endpoint are bound beside it). The key itself is recorded and shown, never
/// bound: in CI a read-only key plans and a delete key applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub credentials: CredentialKind,
    /// Where they come from: `HW_ACCESS_KEY`, `HW_AUTH_TOKEN`, `profile "ops" of FILE`.
    pub source: String,
    /// The access key's last four characters (AK/SK only): recorded and shown, not bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_last4: Option<String>,
    /// The key carries a security token: a temporary key.
    #[serde(default)]
    pub temporary: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<Agency>,
    /// How the project was found: `HW_PROJECT_ID`, `pools.yaml`, `IAM lookup of cn-north-4`.
    pub project_from: String,
}

impl Identity {
    /// An IAM token from the variable `source`, the project from `project_from`.
    pub fn token(source: &str, project_from: &str) -> Identity {
        Identity {
            credentials: CredentialKind::Token,
            source: source.to_owned(),
            access_key_last4: None,
            temporary: false,
            agency: None,
            project_from: project_from.to_owned(),
        }
    }

    /// How `self` (a plan's) differs from `now` in what binds a plan (the credentials' kind,
    /// the agency), in words; `None` when it does not. Another key of the same kind binds:
    /// the plan says which key made it, and apply shows it.
    pub fn mismatch(&self, now: &Identity) -> Option<String> {
        if self.credentials != now.credentials {
            return Some(format!(
                "{}, but this run has {}",
                self.kind_words(),
                now.kind_words()
            ));
        }
        if self.agency != now.agency {
            let show = |a: &Option<Agency>| {
                a.as_ref()
                    .map_or("no agency".to_owned(), |a| format!("agency {}", a.label()))
            };
            return Some(format!(
                "{}, but this run assumes {}",
                show(&self.agency),
                show(&now.agency)
            ));
        }
        None
    }

    /// The kind of credentials and where they came from, as a user would say it: `an access
    /// key from HW_ACCESS_KEY`, `a token from HW_AUTH_TOKEN`, `the credentials of profile ci`.
    fn kind_words(&self) -> String {
        match self.credentials {
            CredentialKind::Variable => format!("an access key from {}", self.source),
            CredentialKind::Token => format!("a token from {}", self.source),
            CredentialKind::Profile => format!("the credentials of {}", self.source),
        }
    }

    /// The identity line's words: `access key …ABCD from HW_ACCESS_KEY (permanent), assuming
    /// agency poolform@tenant-b`.
    pub fn describe(&self) -> String {
        let mut out = match (&self.credentials, &self.access_key_last4) {
            (CredentialKind::Token, _) => format!("token from {}", self.source),
            (_, Some(last4)) => format!(
                "access key …{last4} from {} ({})",
                self.source,
                if self.temporary {
                    "temporary"
                } else {
                    "permanent"
                }
            ),
            (_, None) => format!("credentials from {}", self.source),
        };
        if let Some(agency) = &self.agency {
            out.push_str(&format!(", assuming agency {}", agency.label()));
        }
        out
    }
}

/// Values for tests of the core.
#[cfg(test)]
pub(crate) mod testing {
    use super::Identity;

    /// A token from `HW_AUTH_TOKEN`, the project from the config file.
    pub fn identity() -> Identity {
        Identity::token("HW_AUTH_TOKEN", "pools.yaml")
    }
}
