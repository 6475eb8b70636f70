//! `workspace-sim`: a faithful stand-in for the Workspace desktop-pool API, on loopback.
//!
//! Used by the tests, the examples, the benchmarks and by people rehearsing a change. Routes,
//! error bodies, authentication and throttling behave as the real service's are documented to;
//! faults are reproducible with a seed. No production module imports this one.

pub mod conn;
pub mod faults;
pub mod fixture;
pub mod gate;
pub mod hostile;
pub mod multi;
pub mod state;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Path, Query, Request, State as Ext};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use conn::{Cut, CuttableListener};
pub use faults::Faults;
use faults::{Fate, TokenBucket};
pub use fixture::Fixture;
use gate::GateRequest;
pub use gate::{IssuedKey, SimAuth};
pub use hostile::{Flood, Hostile, Malformed};
use serde_json::{json, Map, Value};
use state::State;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

/// The first line `workspace-sim` prints: this prefix, then its URL.
pub const LISTENING_PREFIX: &str = "listening on ";

/// Reads the simulator's URL from the first line of its standard output.
pub fn read_listening_line(stdout: impl std::io::Read) -> std::io::Result<String> {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    line.trim()
        .strip_prefix(LISTENING_PREFIX)
        .map(str::to_owned)
        .ok_or_else(|| {
            std::io::Error::other(format!(
                "expected {LISTENING_PREFIX:?} and a URL, got {line:?}"
            ))
        })
}

/// How the simulator answers for a pool that does not exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MissingPool {
    /// As the evidence has it: `400 WKS.0001` on reads (what the Terraform provider's read
    /// turns into "gone"), `404 WKS.0404` on DELETE (the reference page's 404).
    #[default]
    Observed,
    /// `404 WKS.0404` on every route.
    NotFound,
    /// `400 WKS.0001` on every route.
    Wks0001,
}

/// Everything the simulator needs to start.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub fixture: Fixture,
    pub auth: SimAuth,
    pub missing_pool: MissingPool,
    pub faults: Faults,
    /// The first N listings that read a first page create a new pool right after it.
    pub churn_on_list: u32,
    /// The first N listings that read a first page see, right after it, the first pool deleted
    /// and another created: the count stays, the offsets shift.
    pub shift_on_list: u32,
    /// Hostile answers.
    pub hostile: Hostile,
    /// After this many API requests, the credentials stop working (401), as an expired token.
    pub revoke_auth_after: Option<u64>,
    /// Pools whose DELETE is denied with 403, as an IAM policy would.
    pub forbid_delete: Vec<String>,
    /// Leave the figures out of the 429 message, as some gateways do.
    pub anonymous_throttle: bool,
    /// The status a pool with desktops refuses DELETE with: 409 (likely) or 400 (the code is
    /// unpublished, so poolform must not rely on it).
    pub busy_status: u16,
    /// Listings carry no `total_count` (optional in the SDK models).
    pub omit_total_count: bool,
    /// The most pools one page holds, whatever `limit` asks (a gateway's lower cap).
    pub page_cap: Option<u32>,
    /// The first N DELETEs of each empty pool answer `409 WKS.00010032` (a transient conflict).
    pub transient_conflict: u32,
    /// Projects IAM lists, `(name, id)`: by default the fixture's, named `cn-north-4`.
    pub iam_projects: Vec<(String, String)>,
    /// Agencies IAM lets a caller assume, `(agency name, account name or id)`.
    pub agencies: Vec<(String, String)>,
    /// The list route's `name` filter: a substring (as documented, "fuzzy") or an exact
    /// match (its semantics are unpublished).
    pub exact_name_filter: bool,
}

impl SimConfig {
    pub fn new(fixture: Fixture) -> SimConfig {
        let fixture_project = fixture.project_id.to_string();
        SimConfig {
            fixture,
            auth: SimAuth::Open,
            missing_pool: MissingPool::NotFound,
            faults: Faults::default(),
            churn_on_list: 0,
            shift_on_list: 0,
            hostile: Hostile::default(),
            revoke_auth_after: None,
            forbid_delete: Vec::new(),
            anonymous_throttle: false,
            busy_status: 409,
            omit_total_count: false,
            page_cap: None,
            transient_conflict: 0,
            iam_projects: vec![("cn-north-4".into(), fixture_project)],
            agencies: Vec::new(),
            exact_name_filter: false,
        }
    }
}

struct Shared {
    state: Mutex<State>,
    auth: SimAuth,
    missing_pool: MissingPool,
    faults: Faults,
    buckets: Mutex<HashMap<&'static str, TokenBucket>>,
    next_request_id: AtomicU64,
    revoke_auth_after: Option<u64>,
    forbid_delete: Vec<String>,
    anonymous_throttle: bool,
    busy_status: u16,
    omit_total_count: bool,
    page_cap: Option<u32>,
    transient_conflict: u32,
    iam_projects: Vec<(String, String)>,
    agencies: Vec<(String, String)>,
    exact_name_filter: bool,
    /// Temporary credentials issued by assume role, accepted from then on.
    issued: Mutex<Vec<IssuedKey>>,
    /// API requests received in all.
    api_requests: AtomicU64,
    hostile: Mutex<Hostile>,
    /// The flood page last built, kept: building one takes a while.
    flood_page: Mutex<Option<(Flood, axum::body::Bytes)>>,
}

impl Shared {
    fn flood_page(&self, kind: Flood) -> axum::body::Bytes {
        let mut cached = self.flood_page.lock().unwrap_or_else(|e| e.into_inner());
        match &*cached {
            Some((k, body)) if *k == kind => body.clone(),
            _ => {
                let body = axum::body::Bytes::from(kind.body());
                *cached = Some((kind, body.clone()));
                body
            }
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written: keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn hostile(&self) -> MutexGuard<'_, Hostile> {
        self.hostile.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SimServer {
    addr: SocketAddr,
    /// The (first) project's simulator.
    shared: Arc<Shared>,
    /// Several projects and accounts, when the fixture has them.
    multi: Option<Arc<multi::Multi>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn huawei_error(status: u16, code: &str, msg: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(json!({"error_code": code, "error_msg": msg}))).into_response()
}

fn bad_parameter(msg: String) -> Response {
    huawei_error(400, "WKS.0003", &format!("Invalid parameter: {msg}"))
}

/// Which API a request is for, and the pool id in its path.
fn classify(method: &str, path: &str) -> (&'static str, Option<String>) {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["v2", _, "desktop-pools"]) => ("list", None),
        ("GET", ["v2", _, "desktop-pools", id]) => ("show", Some((*id).to_owned())),
        ("DELETE", ["v2", _, "desktop-pools", id]) => ("delete", Some((*id).to_owned())),
        ("GET", ["v2", _, "desktop-pools", id, "desktops"]) => ("desktops", Some((*id).to_owned())),
        ("GET", ["v3", "projects"]) => ("iam-projects", None),
        ("POST", ["v3.0", "OS-CREDENTIAL", "securitytokens"]) => ("iam-tokens", None),
        _ => ("other", None),
    }
}

/// The gateway in front of every API route: counts the request, stamps a request id on the
/// answer, adds latency, and lets [`screen`] decide what becomes of it.
async fn gateway(
    Ext(shared): Ext<Arc<Shared>>,
    ConnectInfo(cut): ConnectInfo<Cut>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let host = req
        .headers()
        .get("host")
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .unwrap_or_default();
    shared.state().host(&host);
    let padded = shared.hostile().error_body_bytes;
    let message = shared.hostile().error_message.clone();
    let message = match (message, padded) {
        (m, Some(n)) => {
            let mut text = m.unwrap_or_else(|| "refused".to_owned());
            text.push(' ');
            while text.len() < n {
                text.push_str("padding ");
            }
            text.truncate(n);
            Some(text)
        }
        (m, None) => m,
    };
    let echo = shared.hostile().echo_headers.then(|| {
        req.headers()
            .iter()
            .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
            .collect::<Vec<_>>()
            .join("; ")
    });
    let (api, pool) = classify(&method, &path);
    let n = shared.state().arrive(api, &method, &path, pool.as_deref());
    let seen = shared.api_requests.fetch_add(1, Ordering::SeqCst);
    let revoked = shared.revoke_auth_after.is_some_and(|after| seen >= after);
    let request_id = format!(
        "sim-{:08x}-{:016x}",
        shared.faults.seed as u32,
        shared.next_request_id.fetch_add(1, Ordering::Relaxed)
    );
    let mut latency = shared.faults.latency;
    if method == "DELETE" {
        latency += shared.faults.delete_latency;
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut response = screen(&shared, &cut, api, n, revoked, req, next).await;
    if response.status().as_u16() >= 400 && (echo.is_some() || message.is_some()) {
        response = rewrite_error(response, echo, message).await;
    }
    shared.state().answered(response.status().as_u16());
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

/// What the gateway does with one request: authenticate, throttle, inject the fault drawn for
/// it, or pass it on to the API (the `n`-th request to its path).
async fn screen(
    shared: &Shared,
    cut: &Cut,
    api: &'static str,
    n: u64,
    revoked: bool,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let raw_query = req.uri().query().unwrap_or("").to_owned();
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, 1024 * 1024).await else {
        return huawei_error(413, "APIGW.0201", "Request entity too large");
    };
    if revoked {
        return huawei_error(
            401,
            "APIGW.0301",
            "Incorrect IAM authentication information: the token has expired",
        );
    }
    let request = GateRequest {
        method: &method,
        path: &path,
        raw_query: &raw_query,
        headers: &parts.headers,
        body: &body,
        now: SystemTime::now(),
    };
    let issued = shared
        .issued
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    match shared.auth.check(&request, &issued) {
        Err((status, code, msg)) => return huawei_error(status, code, &msg),
        Ok(Some(access_key)) => shared.state().authenticated(&access_key),
        Ok(None) => {}
    }
    if let Some(rate) = shared.faults.rate_limit {
        let admitted = {
            let mut buckets = shared.buckets.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            buckets
                .entry(api)
                .or_insert_with(|| TokenBucket::new(rate, now))
                .try_take(now)
        };
        if !admitted {
            let msg = if shared.anonymous_throttle {
                "The throttling threshold has been reached".to_owned()
            } else {
                format!("The throttling threshold has been reached: policy user over ratelimit,limit:{rate},time:1 second")
            };
            return huawei_error(429, "APIGW.0308", &msg);
        }
    }
    let fate = if api == "other" {
        Fate::Serve
    } else {
        shared.faults.fate(&method, &path, n)
    };
    match fate {
        Fate::Drop => {
            cut.cut();
            huawei_error(500, "SIM.DROPPED", "never delivered")
        }
        Fate::Fail(502) => (
            StatusCode::BAD_GATEWAY,
            [("content-type", "text/html")],
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
        )
            .into_response(),
        Fate::Fail(503) => huawei_error(503, "APIGW.0202", "The service is unavailable"),
        Fate::Throttle => huawei_error(429, "APIGW.0308", "The throttling threshold has been reached"),
        Fate::Fail(status) => huawei_error(status, "WKS.0500", "Internal service error"),
        Fate::Serve | Fate::LoseAnswer => {
            let response = next.run(Request::from_parts(parts, Body::from(body))).await;
            if fate == Fate::LoseAnswer && response.status().is_success() {
                cut.cut();
            }
            response
        }
    }
}

/// An error answer with the request's headers added to its body as `error_detail`.
/// An error body with the request's headers echoed into `error_detail` and/or its
/// `error_msg` replaced.
async fn rewrite_error(
    response: Response,
    headers: Option<String>,
    message: Option<String>,
) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, 1024 * 1024).await.unwrap_or_default();
    let mut value: Map<String, Value> = serde_json::from_slice(&bytes).unwrap_or_default();
    if let Some(headers) = headers {
        value.insert(
            "error_detail".into(),
            Value::String(format!("request headers: {headers}")),
        );
    }
    if let Some(message) = message {
        value.insert("error_msg".into(), Value::String(message));
    }
    let mut parts = parts;
    parts.headers.remove("content-length");
    parts
        .headers
        .insert("content-type", HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(Value::Object(value).to_string()))
}

fn wrong_project(state: &State, project: &str) -> Option<Response> {
    (!state.project_id.as_str().eq_ignore_ascii_case(project)).then(|| {
        huawei_error(
            403,
            "WKS.0004",
            "The project ID in the request does not match the credentials",
        )
    })
}

/// The answer for a pool that does not exist, on a read or on DELETE.
fn missing(shared: &Shared, on_delete: bool) -> Response {
    let not_found = || huawei_error(404, "WKS.0404", "The desktop pool does not exist");
    let wks0001 = || huawei_error(400, "WKS.0001", "The desktop pool does not exist");
    match (shared.missing_pool, on_delete) {
        (MissingPool::NotFound, _) | (MissingPool::Observed, true) => not_found(),
        (MissingPool::Wks0001, _) | (MissingPool::Observed, false) => wks0001(),
    }
}

fn number(
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
fn listed<'a>(
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
struct ListQuery {
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
struct PageOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    total_count: Option<usize>,
    desktop_pools: Vec<std::borrow::Cow<'a, Map<String, Value>>>,
}

/// The page `q` asks for, and how many pools match in all.
fn page_of<'a>(
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

async fn list_pools(
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

async fn show_pool(
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

async fn delete_pool(
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

async fn pool_desktops(
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
async fn iam_projects(
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
async fn iam_security_tokens(Ext(shared): Ext<Arc<Shared>>, body: axum::body::Bytes) -> Response {
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

/// The gateway's own 404: no such route. Says nothing about any pool.
fn gateway_not_found() -> Response {
    huawei_error(
        404,
        "APIGW.0101",
        "The API does not exist or has not been published in the environment",
    )
}

async fn unknown_route() -> Response {
    gateway_not_found()
}

async fn admin_state(Ext(shared): Ext<Arc<Shared>>) -> Json<Value> {
    Json(shared.state().snapshot())
}

#[derive(serde::Deserialize)]
struct DesktopCount {
    count: u64,
}

async fn admin_set_desktops(
    Ext(shared): Ext<Arc<Shared>>,
    Path(id): Path<String>,
    Json(body): Json<DesktopCount>,
) -> Response {
    if shared.state().set_desktops(&id, body.count) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        missing(&shared, false)
    }
}

async fn admin_add_pool(
    Ext(shared): Ext<Arc<Shared>>,
    Json(fields): Json<Map<String, Value>>,
) -> Response {
    match shared.state().upsert(None, fields) {
        Some(id) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
        None => bad_parameter("the pool has no usable id".into()),
    }
}

async fn admin_patch_pool(
    Ext(shared): Ext<Arc<Shared>>,
    Path(id): Path<String>,
    Json(fields): Json<Map<String, Value>>,
) -> Response {
    match shared.state().upsert(Some(&id), fields) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => missing(&shared, false),
    }
}

async fn admin_remove_pool(Ext(shared): Ext<Arc<Shared>>, Path(id): Path<String>) -> Response {
    if shared.state().remove(&id, false) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        missing(&shared, false)
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/v2/{project}/desktop-pools", get(list_pools))
        .route(
            "/v2/{project}/desktop-pools/{id}",
            get(show_pool).delete(delete_pool),
        )
        .route(
            "/v2/{project}/desktop-pools/{id}/desktops",
            get(pool_desktops),
        )
        .route("/v3/projects", get(iam_projects))
        .route(
            "/v3.0/OS-CREDENTIAL/securitytokens",
            post(iam_security_tokens),
        )
        .fallback(unknown_route)
        .layer(middleware::from_fn_with_state(shared.clone(), gateway));
    let admin = Router::new()
        .route("/__sim/state", get(admin_state))
        .route("/__sim/pools", post(admin_add_pool))
        .route(
            "/__sim/pools/{id}",
            axum::routing::patch(admin_patch_pool).delete(admin_remove_pool),
        )
        .route("/__sim/pools/{id}/desktops", post(admin_set_desktops));
    admin.merge(api).with_state(shared)
}

fn check_loopback(listen: SocketAddr) -> std::io::Result<()> {
    if listen.ip().is_loopback() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("workspace-sim listens on loopback only, not {listen}"),
        ))
    }
}

/// Binds `listen` and serves `app` until the returned sender fires.
async fn serve(
    listen: SocketAddr,
    app: axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, Cut>,
) -> std::io::Result<(SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    check_loopback(listen)?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(CuttableListener(listener), app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok((addr, tx))
}

/// One project's simulator state and behaviour, from its config.
fn build_shared(config: SimConfig) -> Arc<Shared> {
    Arc::new(Shared {
        state: Mutex::new(State::new(
            config.fixture,
            config.churn_on_list,
            config.shift_on_list,
        )),
        auth: config.auth,
        missing_pool: config.missing_pool,
        faults: config.faults,
        buckets: Mutex::new(HashMap::new()),
        next_request_id: AtomicU64::new(1),
        revoke_auth_after: config.revoke_auth_after,
        forbid_delete: config.forbid_delete,
        anonymous_throttle: config.anonymous_throttle,
        busy_status: config.busy_status,
        omit_total_count: config.omit_total_count,
        page_cap: config.page_cap,
        transient_conflict: config.transient_conflict,
        iam_projects: config.iam_projects,
        agencies: config.agencies,
        exact_name_filter: config.exact_name_filter,
        issued: Mutex::new(Vec::new()),
        api_requests: AtomicU64::new(0),
        hostile: Mutex::new(config.hostile),
        flood_page: Mutex::new(None),
    })
}

impl SimServer {
    /// Starts on `listen` inside the current Tokio runtime. Only loopback addresses are allowed.
    pub async fn start(config: SimConfig, listen: SocketAddr) -> std::io::Result<SimServer> {
        check_loopback(listen)?;
        let shared = build_shared(config);
        let app = router(shared.clone()).into_make_service_with_connect_info::<Cut>();
        let (addr, shutdown) = serve(listen, app).await?;
        Ok(SimServer {
            addr,
            shared,
            multi: None,
            shutdown: Some(shutdown),
            thread: None,
        })
    }

    /// Starts a simulator of several projects and accounts (see [`multi`]) on `listen`.
    pub async fn start_multi(
        base: SimConfig,
        fixture: multi::MultiFixture,
        listen: SocketAddr,
    ) -> std::io::Result<SimServer> {
        check_loopback(listen)?;
        let multi = Arc::new(multi::Multi::new(base, fixture));
        let first = multi.first_shared();
        let app = multi::router(multi.clone()).into_make_service_with_connect_info::<Cut>();
        let (addr, shutdown) = serve(listen, app).await?;
        Ok(SimServer {
            addr,
            shared: first,
            multi: Some(multi),
            shutdown: Some(shutdown),
            thread: None,
        })
    }

    /// Starts on `127.0.0.1:0` in a thread of its own, for synchronous tests and examples.
    pub fn spawn(config: SimConfig) -> std::io::Result<SimServer> {
        Self::spawn_with(move |listen| Box::pin(SimServer::start(config, listen)))
    }

    /// [`SimServer::spawn`] for several projects and accounts.
    pub fn spawn_multi(
        base: SimConfig,
        fixture: multi::MultiFixture,
    ) -> std::io::Result<SimServer> {
        Self::spawn_with(move |listen| Box::pin(SimServer::start_multi(base, fixture, listen)))
    }

    fn spawn_with(
        start: impl FnOnce(
                SocketAddr,
            ) -> std::pin::Pin<
                Box<dyn std::future::Future<Output = std::io::Result<SimServer>> + Send>,
            > + Send
            + 'static,
    ) -> std::io::Result<SimServer> {
        type Started = (
            SocketAddr,
            Arc<Shared>,
            Option<Arc<multi::Multi>>,
            tokio::sync::oneshot::Sender<()>,
        );
        let (tx, rx) = std::sync::mpsc::channel::<std::io::Result<Started>>();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                match start(SocketAddr::from(([127, 0, 0, 1], 0))).await {
                    Ok(mut server) => {
                        let stop = tokio::sync::oneshot::channel::<()>();
                        let inner_shutdown = server.shutdown.take();
                        let _ = tx.send(Ok((
                            server.addr,
                            server.shared.clone(),
                            server.multi.clone(),
                            stop.0,
                        )));
                        let _ = stop.1.await;
                        if let Some(s) = inner_shutdown {
                            let _ = s.send(());
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        });
        let (addr, shared, multi, shutdown) = rx
            .recv()
            .map_err(|_| std::io::Error::other("simulator thread ended before it started"))??;
        Ok(SimServer {
            addr,
            shared,
            multi,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What `GET /__sim/state` answers.
    pub fn snapshot(&self) -> Value {
        match &self.multi {
            Some(multi) => multi.snapshot(),
            None => self.shared.state().snapshot(),
        }
    }

    /// DELETE requests received for `id`, whatever their answer.
    pub fn deletes_for(&self, id: &str) -> u64 {
        self.shared.state().deletes_for(id)
    }

    /// API requests received in all (the `__sim` routes not counted).
    pub fn api_requests(&self) -> u64 {
        match &self.multi {
            Some(multi) => multi.sum(|s| s.api_requests.load(Ordering::SeqCst)),
            None => self.shared.api_requests.load(Ordering::SeqCst),
        }
    }

    /// DELETE requests received in all.
    pub fn delete_requests(&self) -> u64 {
        match &self.multi {
            Some(multi) => multi.sum(|s| s.state().requests_to("delete")),
            None => self.shared.state().requests_to("delete"),
        }
    }

    /// Ids of the pools that exist now, sorted.
    pub fn pool_ids(&self) -> Vec<String> {
        self.shared
            .state()
            .pools()
            .filter_map(|p| p["id"].as_str().map(str::to_owned))
            .collect()
    }

    pub fn set_desktops(&self, id: &str, count: u64) -> bool {
        self.shared.state().set_desktops(id, count)
    }

    /// Removes a pool without a DELETE (someone else deleted it).
    pub fn remove_pool(&self, id: &str) -> bool {
        self.shared.state().remove(id, false)
    }

    /// Merges fields into an existing pool.
    pub fn patch_pool(&self, id: &str, fields: Map<String, Value>) -> bool {
        self.shared.state().upsert(Some(id), fields).is_some()
    }

    /// Changes the hostile answers while the simulator runs.
    pub fn set_hostile(&self, change: impl FnOnce(&mut Hostile)) {
        change(&mut self.shared.hostile());
    }

    /// The next `n` listings that read a first page see the first pool deleted and another
    /// created right after it (same count, shifted offsets).
    pub fn shift_next_listings(&self, n: u32) {
        self.shared.state().shift_listings(n);
    }

    /// Stops the server (also done on drop).
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}
