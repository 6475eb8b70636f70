//! Several projects, regions and accounts behind one listener: each project is a simulator of
//! its own (its pools, faults, rate limit); in front of them, the accounts' keys are checked,
//! IAM lists each account's projects by name and issues agencies' temporary keys, a key of
//! another account gets 403 from a project, and every request is recorded as (key, project).

use crate::config::SimConfig;
use crate::errors::huawei_error;
use crate::fixture::{Fixture, FixtureError};
use crate::gate::{GateRequest, IssuedKey, SimAuth};
use crate::router::router as project_router;
use crate::shared::{build_shared, Shared};
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use tower::ServiceExt;

/// An account (domain) and its key pair.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub domain: String,
    #[serde(default)]
    pub domain_id: Option<String>,
    pub access_key: String,
    pub secret_key: String,
    /// The key's IAM policy allows reads only: its DELETEs are refused with 403, as a key
    /// with the policy of `poolform policy --for plan` would be.
    #[serde(default)]
    pub read_only: bool,
}

/// An agency: created by `domain`, assumable by the accounts it `trusts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub name: String,
    pub domain: String,
    pub trusts: Vec<String>,
}

/// One project of the fixture.
#[derive(Debug, Clone)]
pub struct ProjectDef {
    pub project_id: String,
    pub name: String,
    pub region: String,
    /// The account that owns it (none: any key, or none, may use it).
    pub domain: Option<String>,
    /// Requests per second before 429, for this project alone.
    pub rate_limit: Option<u32>,
    /// Every listing of this project answers this status (a project whose listing fails).
    pub fail_list: Option<u16>,
    pub fixture: Fixture,
}

/// `{"accounts": [...], "agencies": [...], "clock_at": INSTANT, "projects": [{"project_id",
/// "name", "region", "domain", "rate_limit", "fail_list", "pools"}]}`.
#[derive(Debug, Clone)]
pub struct MultiFixture {
    pub accounts: Vec<Account>,
    pub agencies: Vec<Agency>,
    pub projects: Vec<ProjectDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    project_id: String,
    name: String,
    region: String,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    rate_limit: Option<u32>,
    #[serde(default)]
    fail_list: Option<u16>,
    #[serde(default)]
    pools: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMulti {
    #[serde(default)]
    accounts: Vec<Account>,
    #[serde(default)]
    agencies: Vec<Agency>,
    /// Where the simulator's clock stands still (every project's: one simulator, one clock).
    #[serde(default)]
    clock_at: Option<String>,
    projects: Vec<RawProject>,
}

impl MultiFixture {
    /// Is this fixture text one of several projects (a top-level `projects`)?
    pub fn is_multi(value: &Value) -> bool {
        value.get("projects").is_some()
    }

    pub fn from_value(value: Value, source_name: &str) -> Result<MultiFixture, FixtureError> {
        let err = |message: String| FixtureError {
            source_name: source_name.to_owned(),
            message,
        };
        let raw: RawMulti = serde_json::from_value(value).map_err(|e| err(e.to_string()))?;
        let mut projects = Vec::new();
        for (i, p) in raw.projects.into_iter().enumerate() {
            if let Some(domain) = &p.domain {
                if !raw.accounts.iter().any(|a| a.domain == *domain) {
                    return Err(err(format!(
                        "projects[{i}]: no account has domain {domain:?}"
                    )));
                }
            }
            let text =
                json!({"project_id": p.project_id, "pools": p.pools, "clock_at": raw.clock_at})
                    .to_string();
            let fixture = Fixture::parse(&text, &format!("{source_name} projects[{i}]"))?;
            projects.push(ProjectDef {
                project_id: p.project_id,
                name: p.name,
                region: p.region,
                domain: p.domain,
                rate_limit: p.rate_limit,
                fail_list: p.fail_list,
                fixture,
            });
        }
        if projects.is_empty() {
            return Err(err("projects is empty".into()));
        }
        Ok(MultiFixture {
            accounts: raw.accounts,
            agencies: raw.agencies,
            projects,
        })
    }
}

struct Slot {
    def: ProjectDef,
    shared: Arc<Shared>,
    router: Router,
}

/// The simulator of several projects.
pub struct Multi {
    slots: Vec<Slot>,
    accounts: Vec<Account>,
    agencies: Vec<Agency>,
    /// Temporary keys issued through agencies, with the account they act in.
    issued: Mutex<Vec<(IssuedKey, String)>>,
    /// `(access key, project id) -> (requests let through, requests refused with 403)`.
    records: Mutex<BTreeMap<(String, String), (u64, u64)>>,
    /// IAM requests by kind (`iam-projects`, `iam-tokens`), as a single simulator counts them.
    iam_requests: Mutex<BTreeMap<&'static str, u64>>,
    seed: u64,
    /// How busy the run kept the whole simulator: DELETEs in flight, requests per second.
    load: Load,
}

/// The load every project's requests put on the simulator together: what a run-wide limit
/// (`--parallelism`, `--rate-limit`) bounds.
#[derive(Default)]
struct Load {
    deletes_in_flight: std::sync::atomic::AtomicU64,
    peak_deletes_in_flight: std::sync::atomic::AtomicU64,
    /// Arrivals of project requests in the last second, and the most there ever were.
    recent: Mutex<(std::collections::VecDeque<std::time::Instant>, u64)>,
}

impl Load {
    fn arrive(&self) {
        let now = std::time::Instant::now();
        let mut recent = lock(&self.recent);
        recent.0.push_back(now);
        while recent
            .0
            .front()
            .is_some_and(|t| now.duration_since(*t) >= std::time::Duration::from_secs(1))
        {
            recent.0.pop_front();
        }
        recent.1 = recent.1.max(recent.0.len() as u64);
    }

    fn peak_per_second(&self) -> u64 {
        lock(&self.recent).1
    }
}

/// Counts a DELETE in flight for as long as it lives.
struct DeleteInFlight<'a>(&'a Load);

impl<'a> DeleteInFlight<'a> {
    fn new(load: &'a Load) -> Self {
        use std::sync::atomic::Ordering::SeqCst;
        let now = load.deletes_in_flight.fetch_add(1, SeqCst) + 1;
        load.peak_deletes_in_flight.fetch_max(now, SeqCst);
        DeleteInFlight(load)
    }
}

impl Drop for DeleteInFlight<'_> {
    fn drop(&mut self) {
        self.0
            .deletes_in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Multi {
    pub fn new(base: SimConfig, fixture: MultiFixture) -> Multi {
        let slots = fixture
            .projects
            .into_iter()
            .map(|def| {
                let mut config = base.clone();
                config.fixture = def.fixture.clone();
                // Keys are checked in front; each project answers what reaches it.
                config.auth = SimAuth::Open;
                if def.rate_limit.is_some() {
                    config.faults.rate_limit = def.rate_limit;
                }
                let shared = build_shared(config);
                let router = project_router(shared.clone());
                Slot {
                    def,
                    shared,
                    router,
                }
            })
            .collect();
        Multi {
            slots,
            accounts: fixture.accounts,
            agencies: fixture.agencies,
            issued: Mutex::new(Vec::new()),
            records: Mutex::new(BTreeMap::new()),
            iam_requests: Mutex::new(BTreeMap::new()),
            seed: base.faults.seed,
            load: Load::default(),
        }
    }

    pub(crate) fn first_shared(&self) -> Arc<Shared> {
        self.slots[0].shared.clone()
    }

    /// A figure summed over the projects.
    pub(crate) fn sum(&self, of: impl Fn(&Shared) -> u64) -> u64 {
        self.slots.iter().map(|s| of(&s.shared)).sum()
    }

    /// Every project's state, the requests summed, and which key reached which project.
    pub fn snapshot(&self) -> Value {
        let mut projects = Map::new();
        let mut requests: BTreeMap<String, u64> = BTreeMap::new();
        let mut deleted = Vec::new();
        let mut deletes = Map::new();
        for (kind, n) in lock(&self.iam_requests).iter() {
            requests.insert((*kind).to_owned(), *n);
        }
        for slot in &self.slots {
            let mut one = slot.shared.state().snapshot();
            deletes.extend(one["deletes"].as_object().cloned().unwrap_or_default());
            for (api, n) in one["requests"].as_object().into_iter().flatten() {
                *requests.entry(api.clone()).or_default() += n.as_u64().unwrap_or(0);
            }
            deleted.extend(one["deleted"].as_array().cloned().unwrap_or_default());
            one["name"] = json!(slot.def.name);
            one["region"] = json!(slot.def.region);
            one["domain"] = json!(slot.def.domain);
            projects.insert(slot.def.project_id.clone(), one);
        }
        let keys: Vec<Value> = lock(&self.records)
            .iter()
            .map(|((key, project), (served, refused))| {
                json!({"access_key": key, "domain": self.domain_of_key(key), "project": project, "requests": served, "refused": refused})
            })
            .collect();
        let peak_deletes = self
            .load
            .peak_deletes_in_flight
            .load(std::sync::atomic::Ordering::SeqCst);
        json!({"projects": projects, "requests": requests, "deletes": deletes, "deleted": deleted, "keys": keys,
               "peak_deletes_in_flight": peak_deletes, "peak_requests_per_second": self.load.peak_per_second()})
    }

    fn domain_of_key(&self, key: &str) -> Option<String> {
        self.accounts
            .iter()
            .find(|a| a.access_key == key)
            .map(|a| a.domain.clone())
            .or_else(|| {
                lock(&self.issued)
                    .iter()
                    .find(|(k, _)| k.access_key == key)
                    .map(|(_, d)| d.clone())
            })
    }

    fn record(&self, key: &str, project: &str, refused: bool) {
        let mut records = lock(&self.records);
        let entry = records
            .entry((key.to_owned(), project.to_owned()))
            .or_default();
        if refused {
            entry.1 += 1;
        } else {
            entry.0 += 1;
        }
    }

    /// Checks the request's signature against the accounts' keys and the issued ones: the
    /// key and the account it acts in, `None` when the fixture has no accounts.
    fn authenticate(
        &self,
        req: &GateRequest<'_>,
    ) -> Result<Option<(String, String)>, crate::gate::Refusal> {
        if self.accounts.is_empty() {
            return Ok(None);
        }
        let issued: Vec<IssuedKey> = lock(&self.issued).iter().map(|(k, _)| k.clone()).collect();
        let header = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let key = header
            .and_then(poolform::api::signer::parse_authorization)
            .map(|p| p.access_key);
        let account = key
            .as_ref()
            .and_then(|k| self.accounts.iter().find(|a| a.access_key == *k));
        let auth = match account {
            Some(a) => SimAuth::AkSk {
                access_key: a.access_key.clone(),
                secret_key: a.secret_key.clone(),
            },
            None => SimAuth::AkSk {
                access_key: String::new(),
                secret_key: String::new(),
            },
        };
        match auth.check(req, &issued) {
            Ok(Some(key)) => {
                let domain = self.domain_of_key(&key).unwrap_or_default();
                Ok(Some((key, domain)))
            }
            Ok(None) => Err((
                401,
                "APIGW.0301",
                "Incorrect IAM authentication information: Authorization not found".into(),
            )),
            Err(refusal) => Err(refusal),
        }
    }

    /// IAM `GET /v3/projects?name=`: the caller's account's projects of that name.
    fn iam_projects(&self, caller: Option<&str>, query: &str) -> Response {
        let name = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("name="))
            .map(|n| n.replace("%2F", "/"));
        let projects: Vec<Value> = self
            .slots
            .iter()
            .filter(|s| caller.is_none() || s.def.domain.as_deref() == caller)
            .filter(|s| name.as_ref().is_none_or(|n| *n == s.def.name))
            .map(|s| json!({"id": s.def.project_id, "name": s.def.name, "domain_id": s.def.domain, "enabled": true}))
            .collect();
        Json(json!({"projects": projects, "links": {"self": "/v3/projects"}})).into_response()
    }

    /// IAM assume role: an agency created by its domain, trusted by the caller's account.
    fn assume_role(&self, caller: Option<&str>, body: &[u8]) -> Response {
        let Ok(body) = serde_json::from_slice::<Value>(body) else {
            return huawei_error(400, "IAM.0001", "The request body is not JSON");
        };
        let role = &body["auth"]["identity"]["assume_role"];
        let agency = role["agency_name"].as_str().unwrap_or("");
        let domain = role["domain_name"].as_str().map(str::to_owned).or_else(|| {
            let id = role["domain_id"].as_str()?;
            self.accounts
                .iter()
                .find(|a| a.domain_id.as_deref() == Some(id))
                .map(|a| a.domain.clone())
        });
        let allowed = self.agencies.iter().any(|a| {
            a.name == agency
                && Some(&a.domain) == domain.as_ref()
                && caller.is_some_and(|c| a.trusts.iter().any(|t| t == c))
        });
        let Some(domain) = domain.filter(|_| allowed) else {
            return huawei_error(
                403,
                "IAM.0002",
                "You do not have permission to assume this agency",
            );
        };
        let mut issued = lock(&self.issued);
        let n = issued.len() + 1;
        let key = IssuedKey {
            access_key: format!("TEMPAK{n:014}"),
            secret_key: format!("TEMPSK{n:06}-{:016x}", self.seed ^ 0x5eed_5eed),
            security_token: format!("TEMPST{n:06}-for-{agency}-{}", "x".repeat(64)),
        };
        issued.push((key.clone(), domain));
        let expires = humantime::format_rfc3339_seconds(
            SystemTime::now() + std::time::Duration::from_secs(900),
        );
        (
            StatusCode::CREATED,
            Json(json!({"credential": {"access": key.access_key, "secret": key.secret_key, "securitytoken": key.security_token, "expires_at": expires.to_string()}})),
        )
            .into_response()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Routes a request: the state route, IAM, or the project its path names.
async fn dispatch(State(multi): State<Arc<Multi>>, req: Request) -> Response {
    let clock = multi.first_shared().clock.clone();
    let response = route(multi, req).await;
    crate::clock::stamp(response, &clock)
}

/// [`dispatch`], before the answer is dated.
async fn route(multi: Arc<Multi>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if path == "/__sim/state" {
        return Json(multi.snapshot()).into_response();
    }
    if path == "/__sim/clock" {
        let clock = multi.first_shared().clock.clone();
        let Ok(body) = to_bytes(req.into_body(), 64 * 1024).await else {
            return huawei_error(413, "APIGW.0201", "Request entity too large");
        };
        return match serde_json::from_slice::<crate::clock::ClockChange>(&body) {
            Ok(change) => crate::admin::clock_answer(&clock, &change),
            Err(e) => crate::errors::bad_parameter(e.to_string()),
        };
    }
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, 1024 * 1024).await else {
        return huawei_error(413, "APIGW.0201", "Request entity too large");
    };
    let query = parts.uri.query().unwrap_or("").to_owned();
    let gate = GateRequest {
        method: parts.method.as_str(),
        path: &path,
        raw_query: &query,
        headers: &parts.headers,
        body: &body,
        now: SystemTime::now(),
    };
    let caller = match multi.authenticate(&gate) {
        Ok(c) => c,
        Err((status, code, msg)) => return huawei_error(status, code, &msg),
    };
    let domain = caller.as_ref().map(|(_, d)| d.as_str());
    let key = caller.as_ref().map_or("", |(k, _)| k.as_str());
    if path.starts_with("/v3") {
        multi.record(key, "iam", false);
        let kind = if path.starts_with("/v3.0/") {
            "iam-tokens"
        } else {
            "iam-projects"
        };
        *lock(&multi.iam_requests).entry(kind).or_default() += 1;
    }
    match path
        .trim_start_matches('/')
        .split('/')
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["v3", "projects"] => multi.iam_projects(domain, &query),
        ["v3.0", "OS-CREDENTIAL", "securitytokens"] => multi.assume_role(domain, &body),
        ["v2", project, ..] => {
            let project = (*project).to_owned();
            to_project(&multi, &project, caller.as_ref(), parts, body).await
        }
        _ => huawei_error(
            404,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment",
        ),
    }
}

/// A request for a project's API: refused (403) when the caller's key is of another account
/// than the project's, refused as the fixture says for a failing listing, else answered by
/// that project's own simulator.
async fn to_project(
    multi: &Multi,
    project: &str,
    caller: Option<&(String, String)>,
    parts: axum::http::request::Parts,
    body: axum::body::Bytes,
) -> Response {
    let domain = caller.map(|(_, d)| d.as_str());
    let key = caller.map_or("", |(k, _)| k.as_str());
    // Project ids are hex: either case names the same project.
    let Some(slot) = multi
        .slots
        .iter()
        .find(|s| s.def.project_id.eq_ignore_ascii_case(project))
    else {
        return huawei_error(
            404,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment",
        );
    };
    let owner = slot.def.domain.as_deref();
    if caller.is_some() && owner.is_some() && owner != domain {
        multi.record(key, project, true);
        return huawei_error(
            403,
            "WKS.0004",
            "The project ID in the request does not match the credentials",
        );
    }
    let read_only = multi
        .accounts
        .iter()
        .any(|a| a.access_key == key && a.read_only);
    if read_only && parts.method == axum::http::Method::DELETE {
        multi.record(key, project, true);
        return huawei_error(
            403,
            "WKS.0403",
            "Policy doesn't allow workspace:desktopPools:delete to be performed.",
        );
    }
    multi.record(key, project, false);
    let listing =
        parts.method == axum::http::Method::GET && parts.uri.path().ends_with("/desktop-pools");
    if let (Some(status), true) = (slot.def.fail_list, listing) {
        return huawei_error(
            status,
            "WKS.0403",
            "The listing is refused for this project (workspace-sim fail_list)",
        );
    }
    multi.load.arrive();
    let _deleting =
        (parts.method == axum::http::Method::DELETE).then(|| DeleteInFlight::new(&multi.load));
    let req = Request::from_parts(parts, Body::from(body));
    match slot.router.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

pub fn router(multi: Arc<Multi>) -> Router {
    Router::new().fallback(dispatch).with_state(multi)
}
