//! The IAM calls made before the first Workspace call: exchanging credentials for an agency's
//! temporary ones (assume role), and looking up a region's project id. Both are signed with the
//! credentials in use, paced and retried like any read.

use super::connection::{Credentials, Secret};
use super::credentials::{AgencyDomain, AssumeRole};
use super::error::ApiError;
use super::transport::{Endpoint, RawResponse, Request, Slot, Transport};
use crate::core::model::ProjectId;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

/// The largest IAM answer read: these are small.
const MAX_IAM_BODY: usize = 1024 * 1024;

/// An IAM answer worth reading: a success, within the size cap.
fn accepted(raw: RawResponse) -> Result<RawResponse, ApiError> {
    if !raw.is_success() {
        return Err(raw.http_error());
    }
    if raw.body.len() > MAX_IAM_BODY {
        return Err(raw.decode_error("the answer is larger than 1 MiB".into()));
    }
    Ok(raw)
}

#[derive(Deserialize)]
struct Projects {
    #[serde(default)]
    projects: Vec<IamProject>,
}

#[derive(Deserialize)]
struct IamProject {
    id: String,
    name: String,
}

/// `GET {iam}/v3/projects` with `query`: the projects IAM lists, and its answer (for errors
/// that cite it).
async fn get_projects(
    transport: &Transport,
    iam: &Endpoint,
    credentials: &Credentials,
    who: &std::sync::Arc<str>,
    query: &[(String, String)],
) -> Result<(Projects, RawResponse), ApiError> {
    let raw = transport
        .send(Request {
            endpoint: iam,
            credentials,
            project: None,
            method: Method::GET,
            path: "/v3/projects".into(),
            query,
            body: None,
            retried: true,
            who,
            not_after: None,
            slot: Slot::None,
        })
        .await
        .and_then(accepted)?;
    let listed: Projects = serde_json::from_slice(&raw.body)
        .map_err(|e| raw.decode_error(format!("not a list of projects: {e}")))?;
    Ok((listed, raw))
}

/// `GET {iam}/v3/projects?name={region}`: exactly one project of that name, or an error naming
/// the region.
pub(super) async fn project_id(
    transport: &Transport,
    iam: &Endpoint,
    credentials: &Credentials,
    who: &std::sync::Arc<str>,
    region: &str,
) -> Result<ProjectId, ApiError> {
    let query = [("name".to_owned(), region.to_owned())];
    let (listed, raw) = get_projects(transport, iam, credentials, who, &query).await?;
    let matching: Vec<&IamProject> = listed
        .projects
        .iter()
        .filter(|p| p.name == region)
        .collect();
    let rid = raw.request_id.as_deref().unwrap_or("none");
    match matching.as_slice() {
        [one] => ProjectId::parse(&one.id).map_err(|e| {
            raw.decode_error(format!("IAM's project id {:?} for region {region} {e}", one.id))
        }),
        [] => {
            let next = match crate::core::regions::did_you_mean(region) {
                Some(guess) if !crate::core::regions::is_known(region) => format!(
                    "{region} is not a region where Workspace is served: did you mean {guess}? (else name the project with --project-id or HW_PROJECT_ID)"
                ),
                _ => "name the project with --project-id or HW_PROJECT_ID".to_owned(),
            };
            Err(ApiError::Iam(format!(
                "IAM lists no project named {region} for these credentials [request id: {rid}]; {next}"
            )))
        }
        many => Err(ApiError::Iam(format!(
            "IAM lists {} projects named {region} ({}) [request id: {rid}]; name the one to use with --project-id or HW_PROJECT_ID",
            many.len(),
            many.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// `GET {iam}/v3/projects`: every project these credentials' account has, `(name, id)`,
/// sorted by name (the account's own `MOS`-style system projects, named without a region,
/// are left out).
pub(super) async fn projects(
    transport: &Transport,
    iam: &Endpoint,
    credentials: &Credentials,
    who: &std::sync::Arc<str>,
) -> Result<Vec<(String, ProjectId)>, ApiError> {
    let (listed, raw) = get_projects(transport, iam, credentials, who, &[]).await?;
    let mut out = Vec::with_capacity(listed.projects.len());
    for p in listed.projects {
        let id = ProjectId::parse(&p.id).map_err(|e| {
            raw.decode_error(format!("IAM's project id {:?} for {} {e}", p.id, p.name))
        })?;
        out.push((p.name, id));
    }
    out.sort();
    Ok(out)
}

#[derive(Deserialize)]
struct Issued {
    credential: IssuedCredential,
}

#[derive(Deserialize)]
struct IssuedCredential {
    access: String,
    secret: String,
    securitytoken: String,
}

/// `POST {iam}/v3.0/OS-CREDENTIAL/securitytokens` with the `assume_role` method: the agency's
/// temporary AK/SK and security token, which sign everything after.
pub(super) async fn assume_role(
    transport: &Transport,
    iam: &Endpoint,
    credentials: &Credentials,
    who: &std::sync::Arc<str>,
    role: &AssumeRole,
) -> Result<Credentials, ApiError> {
    let mut assume = json!({
        "agency_name": role.agency_name,
        "duration_seconds": role.duration_seconds,
    });
    match &role.domain {
        AgencyDomain::Name(n) => assume["domain_name"] = json!(n),
        AgencyDomain::Id(i) => assume["domain_id"] = json!(i),
    }
    let body = json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": assume}}});
    let raw = transport
        .send(Request {
            endpoint: iam,
            credentials,
            project: None,
            method: Method::POST,
            path: "/v3.0/OS-CREDENTIAL/securitytokens".into(),
            query: &[],
            body: Some(body.to_string().into_bytes()),
            retried: true,
            who,
            not_after: None,
            slot: Slot::None,
        })
        .await
        .and_then(accepted)?;
    let issued: Issued = serde_json::from_slice(&raw.body).map_err(|e| {
        // Never echo the body: it carries the temporary secret.
        raw.decode_error(format!(
            "not temporary credentials (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let c = issued.credential;
    for (field, value) in [("access", &c.access), ("securitytoken", &c.securitytoken)] {
        super::credentials::check_header_value(&format!("IAM's temporary {field}"), value)
            .map_err(|e| ApiError::Iam(e.to_string()))?;
    }
    let temporary = Credentials::AkSk {
        access_key: c.access,
        secret_key: Secret::new(c.secret),
        security_token: Some(Secret::new(c.securitytoken)),
    };
    temporary.register_for_redaction();
    tracing::info!(agency = %role.agency_name, "assumed the agency's role");
    Ok(temporary)
}
