//! The gateway in front of every API route: counts each request, stamps a request id, adds
//! latency, authenticates, throttles, and injects the fault drawn for the request.

use crate::conn::Cut;
use crate::errors::huawei_error;
use crate::faults::Fate;
use crate::faults::TokenBucket;
use crate::gate::GateRequest;
use crate::shared::Shared;
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State as Ext};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use std::time::SystemTime;

/// Which API a request is for, and the pool id in its path.
pub(crate) fn classify(method: &str, path: &str) -> (&'static str, Option<String>) {
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
pub(crate) async fn gateway(
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
pub(crate) async fn screen(
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
pub(crate) async fn rewrite_error(
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
