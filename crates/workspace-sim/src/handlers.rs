//! The API's routes: list, show, delete and the desktops of a pool; IAM's project lookup and
//! assume role.

use crate::errors::gateway_not_found;
use crate::errors::{bad_parameter, huawei_error, missing};
use crate::gate::IssuedKey;
use crate::hostile::Hostile;
use crate::shared::Shared;
use crate::state;
use crate::state::State;
use axum::extract::{Path, Query, State as Ext};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

pub(crate) fn wrong_project(state: &State, project: &str) -> Option<Response> {
    (!state.project_id.as_str().eq_ignore_ascii_case(project)).then(|| {
        huawei_error(
            403,
            "WKS.0004",
            "The project ID in the request does not match the credentials",
        )
    })
}

pub(crate) fn number(
    query: &HashMap<String, String>,
    key: &str,
    default: u64,
    max: u64,
) -> Result<u64, String> {
    match query.get(key) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(format!("{key}={v:?} must be an integer from 0 to {max}")),
        },
    }
}

/// A pool as a listing serves it: with the hostile switches applied (`tags` left out, say).
pub(crate) fn listed<'a>(
    hostile: &Hostile,
    pool: &'a Map<String, Value>,
) -> std::borrow::Cow<'a, Map<String, Value>> {
    let mut served = hostile.served(pool);
    if hostile.omit_list_tags {
        served.to_mut().remove("tags");
    }
    served
}

/// A list request's query, checked as the API checks it.
pub(crate) struct ListQuery {
    offset: u64,
    limit: u64,
    /// `name`, as the filter compares it (lower-cased unless the filter is exact).
    name: Option<String>,
    exact_name: bool,
    pool_type: Option<String>,
    enterprise_project_id: Option<String>,
    maintenance: Option<bool>,
}

impl ListQuery {
    /// The query, or why the API refuses it (for a `400 WKS.0003`).
    fn parse(q: &HashMap<String, String>, shared: &Shared) -> Result<ListQuery, String> {
        let offset = number(q, "offset", 0, u64::MAX)?;
        let limit =
            number(q, "limit", 1000, 1000)?.min(shared.page_cap.map_or(u64::MAX, u64::from));
        if let Some(t) = q.get("type") {
            if t != "DYNAMIC" && t != "STATIC" {
                return Err(format!("type={t:?} must be DYNAMIC or STATIC"));
            }
        }
        let maintenance = match q.get("in_maintenance_mode").map(String::as_str) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(v) => return Err(format!("in_maintenance_mode={v:?} must be true or false")),
        };
        let exact_name = shared.exact_name_filter;
        Ok(ListQuery {
            offset,
            limit,
            name: q.get("name").map(|n| {
                if exact_name {
                    n.clone()
                } else {
                    n.to_lowercase()
                }
            }),
            exact_name,
            pool_type: q.get("type").cloned(),
            enterprise_project_id: q.get("enterprise_project_id").cloned(),
            maintenance,
        })
    }

    /// Does any filter apply (else the page is cut straight from the stored pools)?
    fn filters(&self, hostile: &Hostile) -> bool {
        self.name.is_some()
            || self.pool_type.is_some()
            || self.enterprise_project_id.is_some()
            || self.maintenance.is_some()
            || !hostile.hide_from_list.is_empty()
    }

    fn selects(&self, p: &Map<String, Value>, hostile: &Hostile) -> bool {
        let eq = |want: &Option<String>, key: &str| {
            want.as_ref()
                .is_none_or(|want| p[key].as_str() == Some(want.as_str()))
        };
        let named = self.name.as_ref().is_none_or(|n| {
            let pool_name = p["name"].as_str().unwrap_or("");
            if self.exact_name {
                pool_name == n
            } else {
                pool_name.to_lowercase().contains(n.as_str())
            }
        });
        !hostile.hidden(p)
            && named
            && eq(&self.pool_type, "type")
            && eq(&self.enterprise_project_id, "enterprise_project_id")
            && self
                .maintenance
                .is_none_or(|m| p["in_maintenance_mode"].as_bool() == Some(m))
    }
}

/// A page of the listing, serialized straight from the stored pools: no copy is made of a
/// well-formed one.
#[derive(serde::Serialize)]
pub(crate) struct PageOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    total_count: Option<usize>,
    desktop_pools: Vec<std::borrow::Cow<'a, Map<String, Value>>>,
}

/// The page `q` asks for, and how many pools match in all.
pub(crate) fn page_of<'a>(
    state: &'a State,
    q: &ListQuery,
    hostile: &Hostile,
) -> (usize, Vec<std::borrow::Cow<'a, Map<String, Value>>>) {
    let skip = usize::try_from(q.offset).unwrap_or(usize::MAX);
    let take = usize::try_from(q.limit).unwrap_or(usize::MAX);
    if q.filters(hostile) {
        let matching: Vec<&Map<String, Value>> =
            state.pools().filter(|p| q.selects(p, hostile)).collect();
        let total = matching.len();
        let page = matching
            .into_iter()
            .skip(skip)
            .take(take)
            .map(|p| listed(hostile, p))
            .collect();
        (total, page)
    } else {
        let page = state
            .pools()
            .skip(skip)
            .take(take)
            .map(|p| listed(hostile, p))
            .collect();
        (state.pool_count(), page)
    }
}

pub(crate) async fn list_pools(
    Ext(shared): Ext<Arc<Shared>>,
    Path(project): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let q = match ListQuery::parse(&q, &shared) {
        Ok(q) => q,
        Err(why) => return bad_parameter(why),
    };
    let mut state = shared.state();
    if let Some(r) = wrong_project(&state, &project) {
        return r;
    }
    let hostile = shared.hostile().clone();
    if let Some(flood) = hostile.flood {
        drop(state);
        return (
            [("content-type", "application/json")],
            shared.flood_page(flood),
        )
            .into_response();
    }
    let (total, page) = page_of(&state, &q, &hostile);
    let body = serde_json::to_vec(&PageOut {
        total_count: (!shared.omit_total_count).then_some(total),
        desktop_pools: page,
    });
    if q.offset == 0 {
        state.churn_after_first_page();
        state.shift_after_first_page();
    }
    drop(state);
    match body {
        Ok(bytes) => ([("content-type", "application/json")], bytes).into_response(),
        Err(e) => huawei_error(500, "SIM.ENCODE", &format!("cannot encode the page: {e}")),
    }
}

pub(crate) async fn show_pool(
    Ext(shared): Ext<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
) -> Response {
    let state = shared.state();
    if let Some(r) = wrong_project(&state, &project) {
        return r;
    }
    match state.pool(&id) {
        Some(p) => {
            let served = shared.hostile().served(p).into_owned();
            Json(Value::Object(served)).into_response()
        }
        None => missing(&shared, false),
    }
}

pub(crate) async fn delete_pool(
    Ext(shared): Ext<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
) -> Response {
    let hostile = shared.hostile().clone();
    if hostile.gateway_404.contains(&id) {
        return gateway_not_found();
    }
    if hostile.false_absent.contains(&id) {
        return huawei_error(400, "WKS.0001", "The desktop pool does not exist");
    }
    let mut state = shared.state();
    if let Some(r) = wrong_project(&state, &project) {
        return r;
    }
    if shared.forbid_delete.contains(&id) {
        return huawei_error(
            403,
            "WKS.0403",
            "Forbidden: the policy denies action workspace:desktopPools:delete on this resource",
        );
    }
    match state.desktop_count(&id) {
        None => missing(&shared, true),
        Some(n) if n > 0 && shared.busy_status == 400 => huawei_error(
            400,
            "WKS.00010005",
            &format!("The desktop pool {id} has {n} desktops and cannot be deleted"),
        ),
        Some(n) if n > 0 => huawei_error(
            409,
            "WKS.00010032",
            &format!(
                "Operation conflict: desktop pool {id} still contains {n} desktops, deny operation"
            ),
        ),
        Some(_) if state.take_conflict(&id, shared.transient_conflict) => huawei_error(
            409,
            "WKS.00010032",
            "Operation conflict: the desktop pool is being updated, deny operation",
        ),
        Some(_) => {
            if !hostile.ghost_delete.contains(&id) {
                state.remove(&id, true);
            }
            StatusCode::NO_CONTENT.into_response()
        }
    }
}

pub(crate) async fn pool_desktops(
    Ext(shared): Ext<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let offset = match number(&q, "offset", 0, u64::MAX) {
        Ok(n) => n,
        Err(m) => return bad_parameter(m),
    };
    let limit = match number(&q, "limit", 10, 100) {
        Ok(n) => n,
        Err(m) => return bad_parameter(m),
    };
    let state = shared.state();
    if let Some(r) = wrong_project(&state, &project) {
        return r;
    }
    match state.pool(&id) {
        None => missing(&shared, false),
        Some(p) => {
            let total = p["desktop_count"].as_u64().unwrap_or(0);
            let desktops = state::synthetic_desktops(p, offset, limit);
            Json(json!({"total_count": total, "pool_desktops": desktops})).into_response()
        }
    }
}

/// IAM `GET /v3/projects?name=`: the projects of that name.
pub(crate) async fn iam_projects(
    Ext(shared): Ext<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let projects: Vec<Value> = shared
        .iam_projects
        .iter()
        .filter(|(name, _)| q.get("name").is_none_or(|n| n == name))
        .map(|(name, id)| json!({"id": id, "name": name, "domain_id": "d0000000000000000000000000000001", "enabled": true}))
        .collect();
    Json(json!({"projects": projects, "links": {"self": "/v3/projects"}})).into_response()
}

/// IAM `POST /v3.0/OS-CREDENTIAL/securitytokens` with the `assume_role` method: issues
/// temporary credentials for a known agency, which the gateway accepts from then on.
pub(crate) async fn iam_security_tokens(
    Ext(shared): Ext<Arc<Shared>>,
    body: axum::body::Bytes,
) -> Response {
    let bad = |msg: &str| huawei_error(400, "IAM.0001", msg);
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad("The request body is not JSON");
    };
    let identity = &body["auth"]["identity"];
    let methods_ok = identity["methods"]
        .as_array()
        .is_some_and(|m| m.iter().any(|v| v == "assume_role"));
    let role = &identity["assume_role"];
    let (Some(agency), true) = (role["agency_name"].as_str(), methods_ok) else {
        return bad("auth.identity.methods must hold assume_role, with assume_role.agency_name");
    };
    let domain = role["domain_name"].as_str().or(role["domain_id"].as_str());
    let duration = role["duration_seconds"].as_u64().unwrap_or(900);
    if !(900..=86_400).contains(&duration) {
        return bad("duration_seconds must be from 900 to 86400");
    }
    let known = shared
        .agencies
        .iter()
        .any(|(name, account)| name == agency && Some(account.as_str()) == domain);
    if !known {
        return huawei_error(
            403,
            "IAM.0002",
            "You do not have permission to assume this agency",
        );
    }
    let mut issued = shared.issued.lock().unwrap_or_else(|e| e.into_inner());
    let n = issued.len() + 1;
    let key = IssuedKey {
        access_key: format!("TEMPAK{n:014}"),
        secret_key: format!("TEMPSK{n:06}-{:016x}", shared.faults.seed ^ 0x5eed_5eed),
        security_token: format!("TEMPST{n:06}-for-{agency}-{}", "x".repeat(64)),
    };
    issued.push(key.clone());
    let expires = humantime::format_rfc3339_seconds(
        SystemTime::now() + std::time::Duration::from_secs(duration),
    );
    (
        StatusCode::CREATED,
        Json(json!({"credential": {
            "access": key.access_key,
            "secret": key.secret_key,
            "securitytoken": key.security_token,
            "expires_at": expires.to_string(),
        }})),
    )
        .into_response()
}
