//! The HTTP client: list, show, desktops of a pool, delete. One `reqwest::Client`, reused.

use super::connection::{Connection, Credentials};
use super::error::{ApiError, ErrorBody, HttpFailure, TransportKind};
use super::signer::{self, SigningInput};
use super::wire::{self, Page};
use crate::model::{Live, Pool, PoolDesktop, PoolId};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::task::JoinSet;

/// Largest page the API serves.
pub const MAX_PAGE_LIMIT: u32 = 1000;
/// A listing that claims more pools than this is refused rather than paged forever.
const MAX_LISTED_POOLS: u64 = 1_000_000;

/// Client knobs; the defaults suit the real service.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Larger response bodies are refused with [`ApiError::BodyTooLarge`].
    pub max_body_bytes: usize,
    /// Pages fetched at once after the first.
    pub list_concurrency: usize,
    /// Page size (1..=1000).
    pub page_limit: u32,
    /// How many times a listing that changed while it was read is read again.
    pub max_relists: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_body_bytes: 32 * 1024 * 1024,
            list_concurrency: 16,
            page_limit: MAX_PAGE_LIMIT,
            max_relists: 3,
        }
    }
}

/// Filters the list route supports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Fuzzy (substring) match on the name, as the API does it.
    pub name: Option<String>,
    pub pool_type: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub in_maintenance_mode: Option<bool>,
}

impl ListFilter {
    fn query(&self, offset: u64, limit: u32) -> Vec<(String, String)> {
        let mut q = vec![
            ("offset".to_owned(), offset.to_string()),
            ("limit".to_owned(), limit.to_string()),
        ];
        let mut add = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                q.push((k.to_owned(), v.clone()));
            }
        };
        add("name", &self.name);
        add("type", &self.pool_type);
        add("enterprise_project_id", &self.enterprise_project_id);
        add(
            "in_maintenance_mode",
            &self.in_maintenance_mode.map(|b| b.to_string()),
        );
        q
    }
}

/// What a DELETE did, when the server gave a definite answer other than an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// 204, or any other 2xx.
    Deleted { request_id: Option<String> },
    /// 404, or 400 with `WKS.0001`: the pool does not exist (any more).
    AlreadyAbsent { failure: HttpFailure },
    /// 409: the API refuses, usually because desktops remain.
    Conflict(HttpFailure),
}

/// A response read in full (within the size cap).
struct RawResponse {
    /// The request it answers, for error messages.
    method: &'static str,
    path: String,
    status: u16,
    body: Vec<u8>,
    request_id: Option<String>,
    retry_after_secs: Option<u64>,
}

impl RawResponse {
    /// This answer as an error.
    fn http_error(&self) -> ApiError {
        ApiError::Http {
            method: self.method,
            path: self.path.clone(),
            failure: Box::new(self.failure()),
        }
    }

    /// This answer, which could not be read, as an error.
    fn decode_error(&self, message: String) -> ApiError {
        ApiError::Decode {
            method: self.method,
            path: self.path.clone(),
            status: self.status,
            message,
            request_id: self.request_id.clone(),
        }
    }

    fn failure(&self) -> HttpFailure {
        HttpFailure {
            status: self.status,
            body: ErrorBody::parse(&self.body),
            request_id: self.request_id.clone(),
            retry_after_secs: self.retry_after_secs,
        }
    }
    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// 404, or 400 with `WKS.0001`.
    fn is_absent(&self) -> bool {
        self.status == 404 || (self.status == 400 && self.failure().body.has_code("WKS.0001"))
    }
}

struct Inner {
    http: reqwest::Client,
    connection: Connection,
    /// `Host` as sent and signed: host, with `:port` when the endpoint has one.
    host_header: String,
    /// The endpoint without a trailing slash.
    base: String,
    options: ClientOptions,
}

/// The Workspace API client. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.base)
            .field("project_id", &self.inner.connection.project_id)
            .field("credentials", &self.inner.connection.credentials)
            .finish()
    }
}

fn header(name: &str, value: &str, sensitive: bool) -> Option<(HeaderName, HeaderValue)> {
    let mut v = HeaderValue::from_str(value).ok()?;
    v.set_sensitive(sensitive);
    Some((HeaderName::from_bytes(name.as_bytes()).ok()?, v))
}

/// The error chain of a reqwest error, without the URL.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl Client {
    /// Builds the client. TLS certificates are always verified; redirects are never followed.
    pub fn new(connection: Connection, options: ClientOptions) -> Result<Client, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("poolform/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Setup(describe(e)))?;
        let url = &connection.endpoint;
        let host = url.host_str().unwrap_or_default();
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let base = url.as_str().trim_end_matches('/').to_owned();
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                connection,
                host_header,
                base,
                options,
            }),
        })
    }

    pub fn connection(&self) -> &Connection {
        &self.inner.connection
    }

    /// Headers for one request, signed when the credentials are AK/SK.
    fn auth_headers(&self, method: &str, path: &str, query: &[(String, String)]) -> HeaderMap {
        let inner = &*self.inner;
        let mut signed: Vec<(String, String)> = vec![
            ("content-type".into(), "application/json".into()),
            ("host".into(), inner.host_header.clone()),
        ];
        let mut extra: Vec<(HeaderName, HeaderValue)> = Vec::new();
        match &inner.connection.credentials {
            Credentials::Token(token) => extra.extend(header("x-auth-token", token.expose(), true)),
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                let date = signer::sdk_date(SystemTime::now());
                signed.push((
                    "x-project-id".into(),
                    inner.connection.project_id.to_string(),
                ));
                signed.push(("x-sdk-date".into(), date.clone()));
                if let Some(t) = security_token {
                    signed.push(("x-security-token".into(), t.expose().to_owned()));
                }
                signed.sort();
                let input = SigningInput {
                    method,
                    path,
                    query,
                    headers: &signed,
                    body: b"",
                    sdk_date: &date,
                };
                let auth = signer::authorization(access_key, secret_key.expose(), &input);
                extra.extend(header("authorization", &auth, true));
            }
        }
        let mut map = HeaderMap::new();
        for (name, value) in &signed {
            let sensitive = name == "x-security-token";
            if let Some((n, v)) = header(name, value, sensitive) {
                map.insert(n, v);
            }
        }
        for (n, v) in extra {
            map.insert(n, v);
        }
        map
    }

    /// Sends one request and reads the whole answer, within the size cap.
    async fn send(
        &self,
        method: Method,
        suffix: &str,
        query: &[(String, String)],
    ) -> Result<RawResponse, ApiError> {
        let inner = &*self.inner;
        let method_name: &'static str = match method {
            Method::GET => "GET",
            Method::DELETE => "DELETE",
            _ => "REQUEST",
        };
        let path = format!("/v2/{}/{suffix}", inner.connection.project_id);
        let canonical = signer::canonical_query(query);
        let url_text = if canonical.is_empty() {
            format!("{}{path}", inner.base)
        } else {
            format!("{}{path}?{canonical}", inner.base)
        };
        let transport = |kind: TransportKind, message: String| ApiError::Transport {
            method: method_name,
            path: path.clone(),
            kind,
            message,
        };
        let url = Url::parse(&url_text)
            .map_err(|e| transport(TransportKind::Connect, format!("bad URL: {e}")))?;
        let headers = self.auth_headers(method_name, &path, query);
        let started = Instant::now();
        let classify = |e: reqwest::Error| {
            let kind = if e.is_timeout() {
                TransportKind::Timeout
            } else if e.is_connect() {
                TransportKind::Connect
            } else {
                TransportKind::Connection
            };
            transport(kind, describe(e))
        };
        let result = inner
            .http
            .request(method, url)
            .headers(headers)
            .send()
            .await;
        let mut response = match result {
            Ok(r) => r,
            Err(e) => {
                let err = classify(e);
                tracing::debug!(method = method_name, %path, elapsed_ms = started.elapsed().as_millis() as u64, error = %err, "request failed");
                return Err(err);
            }
        };
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after_secs = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let limit = inner.options.max_body_bytes;
        let too_large = || ApiError::BodyTooLarge {
            method: method_name,
            path: path.clone(),
            limit,
            request_id: request_id.clone(),
        };
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(
            method = method_name,
            %path,
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            request_id = request_id.as_deref().unwrap_or("-"),
            "request"
        );
        Ok(RawResponse {
            method: method_name,
            path,
            status,
            body,
            request_id,
            retry_after_secs,
        })
    }

    /// One page of the listing.
    pub async fn list_page(
        &self,
        filter: &ListFilter,
        offset: u64,
        limit: u32,
    ) -> Result<Page, ApiError> {
        let suffix = "desktop-pools";
        let raw = self
            .send(Method::GET, suffix, &filter.query(offset, limit))
            .await?;
        if !raw.is_success() {
            return Err(raw.http_error());
        }
        wire::page_from_body(&raw.body).map_err(|m| raw.decode_error(m))
    }

    /// Every pool matching `filter`: the first page, then the rest concurrently; deduped by id
    /// and checked against `total_count`, re-listed a bounded number of times if it changed.
    pub async fn list_pools(&self, filter: &ListFilter) -> Result<Live, ApiError> {
        let options = &self.inner.options;
        let limit = options.page_limit.clamp(1, MAX_PAGE_LIMIT);
        let attempts = options.max_relists + 1;
        let mut detail = String::new();
        for _ in 0..attempts {
            let first = self.list_page(filter, 0, limit).await?;
            let total = first.total_count;
            if total > MAX_LISTED_POOLS {
                return Err(ApiError::InconsistentListing {
                    attempts: 1,
                    detail: format!("total_count {total} is more than poolform will page through ({MAX_LISTED_POOLS})"),
                });
            }
            let mut seen: HashMap<PoolId, Pool> = HashMap::with_capacity(total as usize);
            seen.extend(first.pools.into_iter().map(|p| (p.id.clone(), p)));
            let mut totals = vec![total];
            let mut offsets = (u64::from(limit)..total).step_by(limit as usize);
            let mut running = JoinSet::new();
            loop {
                while running.len() < options.list_concurrency.max(1) {
                    let Some(offset) = offsets.next() else { break };
                    let (client, filter) = (self.clone(), filter.clone());
                    running.spawn(async move { client.list_page(&filter, offset, limit).await });
                }
                let Some(done) = running.join_next().await else {
                    break;
                };
                let page = match done {
                    Ok(Ok(page)) => page,
                    Ok(Err(e)) => return Err(e),
                    Err(join) => {
                        return Err(ApiError::Internal {
                            doing: "reading a page of the pool listing",
                            message: join.to_string(),
                        })
                    }
                };
                totals.push(page.total_count);
                seen.extend(page.pools.into_iter().map(|p| (p.id.clone(), p)));
            }
            let changed_total = totals.iter().find(|t| **t != total);
            match changed_total {
                None if seen.len() as u64 == total => {
                    return Ok(Live::new(seen.into_values().collect()))
                }
                None => {
                    detail = format!(
                        "total_count was {total} but {} distinct pools were read",
                        seen.len()
                    )
                }
                Some(other) => {
                    detail = format!("total_count changed from {total} to {other} between pages")
                }
            }
            tracing::debug!(%detail, "listing changed while it was read; listing again");
        }
        Err(ApiError::InconsistentListing { attempts, detail })
    }

    /// One pool; `None` when the API says it does not exist (404, or 400 `WKS.0001`).
    pub async fn show_pool(&self, id: &PoolId) -> Result<Option<Pool>, ApiError> {
        let suffix = format!("desktop-pools/{id}");
        let raw = self.send(Method::GET, &suffix, &[]).await?;
        if raw.is_absent() {
            return Ok(None);
        }
        if !raw.is_success() {
            return Err(raw.http_error());
        }
        wire::pool_from_body(&raw.body)
            .map(Some)
            .map_err(|m| raw.decode_error(m))
    }

    /// The first `limit` desktops of a pool (at most 100) and the pool's total desktop count.
    pub async fn list_pool_desktops(
        &self,
        id: &PoolId,
        limit: u32,
    ) -> Result<(u64, Vec<PoolDesktop>), ApiError> {
        let suffix = format!("desktop-pools/{id}/desktops");
        let query = [
            ("offset".to_owned(), "0".to_owned()),
            ("limit".to_owned(), limit.clamp(1, 100).to_string()),
        ];
        let raw = self.send(Method::GET, &suffix, &query).await?;
        if !raw.is_success() {
            return Err(raw.http_error());
        }
        wire::desktops_from_body(&raw.body).map_err(|m| raw.decode_error(m))
    }

    /// Sends one DELETE. The answer is reported as it came; nothing is retried here.
    pub async fn delete_pool(&self, id: &PoolId) -> Result<DeleteOutcome, ApiError> {
        let suffix = format!("desktop-pools/{id}");
        let raw = self.send(Method::DELETE, &suffix, &[]).await?;
        if raw.is_success() {
            return Ok(DeleteOutcome::Deleted {
                request_id: raw.request_id,
            });
        }
        if raw.is_absent() {
            return Ok(DeleteOutcome::AlreadyAbsent {
                failure: raw.failure(),
            });
        }
        if raw.status == 409 {
            return Ok(DeleteOutcome::Conflict(raw.failure()));
        }
        Err(raw.http_error())
    }
}
