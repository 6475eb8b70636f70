//! The HTTP client: list, show, desktops of a pool, delete. One `reqwest::Client`, reused.

use super::connection::{Connection, Credentials};
use super::error::{Absence, ApiError, ErrorBody, HttpFailure, TransportKind};
use super::pacer::{Answer, Halt, Pacer, StopSignal};
use super::signer::{self, SigningInput};
use super::wire::{self, Page};
use crate::model::{Live, Pool, PoolDesktop, PoolId};
use crate::retry::{Decision, Observed, RetryPolicy};
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
    /// Requests per second never exceeded; the limiter starts here and adapts downwards.
    pub rate_ceiling: f64,
    /// How failed attempts are retried: reads here, DELETEs by the applier.
    pub retry: RetryPolicy,
    /// Seed of the retry jitter.
    pub seed: u64,
    /// The run's interrupt: once set, no call starts and reads in flight are abandoned.
    pub interrupt: Arc<StopSignal>,
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
            rate_ceiling: 1000.0,
            retry: RetryPolicy::default(),
            seed: 0,
            interrupt: StopSignal::new(),
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

/// A DELETE the API accepted (any 2xx). Not proof that the pool is gone: apply verifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub request_id: Option<String>,
}

/// What a read of one pool found, with the request id of its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// `None`: the API says there is no such pool.
    pub pool: Option<Pool>,
    pub request_id: Option<String>,
}

/// One page of the listing as read, with the request id of its answer.
#[derive(Debug)]
pub struct ListedPage {
    pub page: Page,
    pub request_id: Option<String>,
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
}

struct Inner {
    http: reqwest::Client,
    connection: Connection,
    /// `Host` as sent and signed: host, with `:port` when the endpoint has one.
    host_header: String,
    /// `host:port`, the port always given, for messages and logs.
    host_port: String,
    /// The endpoint without a trailing slash.
    base: String,
    options: ClientOptions,
    pacer: Pacer,
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
        let url = &connection.endpoint;
        let host = url.host_str().unwrap_or_default();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("poolform/", env!("CARGO_PKG_VERSION")));
        // Loopback traffic never goes through a proxy: with HTTP_PROXY set, a plain-HTTP
        // request (and its credentials) would otherwise travel in clear text to another host.
        // HTTPS endpoints keep HTTPS_PROXY/NO_PROXY, whose tunnel keeps TLS end to end.
        if super::connection::is_loopback_host(host) {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| ApiError::Setup(describe(e)))?;
        connection.credentials.register_for_redaction();
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let host_port = format!("{host}:{}", url.port_or_known_default().unwrap_or_default());
        let base = url.as_str().trim_end_matches('/').to_owned();
        let pacer = Pacer::new(
            options.rate_ceiling,
            options.retry,
            options.seed,
            options.interrupt.clone(),
        );
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                connection,
                host_header,
                host_port,
                base,
                options,
                pacer,
            }),
        })
    }

    pub fn connection(&self) -> &Connection {
        &self.inner.connection
    }

    /// The pacing every call of this client goes through.
    pub fn pacer(&self) -> &Pacer {
        &self.inner.pacer
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

    /// Sends a request through the pacer and reads the whole answer. A read (GET) is retried
    /// on its own under the retry policy (connection errors, timeouts, 429, 5xx, with
    /// `Retry-After` honoured) and abandoned at once on an interrupt; a DELETE is sent once,
    /// and always finishes: the applier decides what its answer means.
    async fn send(
        &self,
        method: Method,
        suffix: &str,
        query: &[(String, String)],
    ) -> Result<RawResponse, ApiError> {
        let inner = &*self.inner;
        let pacer = &inner.pacer;
        let method_name: &'static str = match method {
            Method::GET => "GET",
            Method::DELETE => "DELETE",
            _ => "REQUEST",
        };
        let read = method == Method::GET;
        let path = format!("/v2/{}/{suffix}", inner.connection.project_id);
        let stopped = |halt: Halt| ApiError::Stopped {
            method: method_name,
            path: path.clone(),
            why: halt.why().to_owned(),
        };
        let started = Instant::now();
        let mut tries = 0;
        loop {
            pacer.admit().await.map_err(stopped)?;
            tries += 1;
            let sent_at = Instant::now();
            let attempt = self.send_once(method.clone(), method_name, &path, query);
            let result = if read {
                tokio::select! {
                    r = attempt => r,
                    _ = pacer.stopped() => return Err(stopped(pacer.halted().unwrap_or(Halt::Interrupted))),
                }
            } else {
                attempt.await
            };
            let observed = match &result {
                Ok(raw) => {
                    let message = if raw.status == 429 {
                        raw.failure().body.error_msg.unwrap_or_default()
                    } else {
                        String::new()
                    };
                    pacer.observe(sent_at, Answer::Status(raw.status, &message));
                    if raw.status == 401 {
                        pacer.stop_on_auth_failure(format!(
                            "authentication failed: {}",
                            raw.http_error()
                        ));
                    }
                    Observed::Status(raw.status)
                }
                Err(ApiError::Transport { .. }) => {
                    pacer.observe(sent_at, Answer::Transport);
                    Observed::Transport
                }
                Err(e) => {
                    pacer.observe(sent_at, Answer::Status(e.status().unwrap_or(200), ""));
                    return result;
                }
            };
            let retry_after = match &result {
                Ok(raw) => raw.retry_after_secs.map(Duration::from_secs),
                Err(_) => None,
            };
            if !read || !observed.is_retryable() {
                return result;
            }
            match pacer.decide(tries, observed, retry_after, started.elapsed()) {
                Decision::RetryAfter(delay) => {
                    tracing::debug!(method = method_name, %path, attempt = tries, delay_ms = delay.as_millis() as u64, "retrying a read");
                    pacer.sleep(delay).await.map_err(stopped)?;
                }
                Decision::GiveUp(_) => return result,
            }
        }
    }

    /// One attempt of a request: sends it and reads the whole answer, within the size cap.
    async fn send_once(
        &self,
        method: Method,
        method_name: &'static str,
        path: &str,
        query: &[(String, String)],
    ) -> Result<RawResponse, ApiError> {
        let inner = &*self.inner;
        let path = path.to_owned();
        let canonical = signer::canonical_query(query);
        let url_text = if canonical.is_empty() {
            format!("{}{path}", inner.base)
        } else {
            format!("{}{path}?{canonical}", inner.base)
        };
        let transport = |kind: TransportKind, message: String| ApiError::Transport {
            method: method_name,
            path: path.clone(),
            host: inner.host_port.clone(),
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
                tracing::debug!(method = method_name, host = %inner.host_port, %path, elapsed_ms = started.elapsed().as_millis() as u64, error = %err, "request failed");
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
            host = %inner.host_port,
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

    /// One page of the listing, asked for at most `limit` pools.
    pub async fn list_page(
        &self,
        filter: &ListFilter,
        offset: u64,
        limit: u32,
    ) -> Result<ListedPage, ApiError> {
        let suffix = "desktop-pools";
        let raw = self
            .send(Method::GET, suffix, &filter.query(offset, limit))
            .await?;
        if !raw.is_success() {
            return Err(raw.http_error());
        }
        let page = wire::page_from_body(&raw.body, limit as usize)
            .map_err(|m| raw.decode_error(format!("the page at offset {offset}: {m}")))?;
        Ok(ListedPage {
            page,
            request_id: raw.request_id,
        })
    }

    /// Every pool matching `filter`, read consistently or not at all.
    ///
    /// Pages overlap by one pool, so a listing that shifted between two pages (a pool deleted
    /// and another created, say) is noticed even when its count did not change; the count is
    /// checked against `total_count` when the API sends one, and paged to a short page when it
    /// does not. A gateway that serves fewer pools per page than asked is paged by what it
    /// serves. A listing that changed while it was read is read again a bounded number of
    /// times.
    pub async fn list_pools(&self, filter: &ListFilter) -> Result<Live, ApiError> {
        let options = &self.inner.options;
        let limit = options.page_limit.clamp(2, MAX_PAGE_LIMIT);
        let attempts = options.max_relists + 1;
        let mut detail = String::new();
        for _ in 0..attempts {
            match self.read_listing(filter, limit).await? {
                Ok(live) => return Ok(live),
                Err(why) => detail = why,
            }
            tracing::debug!(%detail, "listing changed while it was read; listing again");
        }
        Err(ApiError::InconsistentListing { attempts, detail })
    }

    /// One read of the whole listing: `Ok(Err(why))` when it changed while it was read.
    async fn read_listing(
        &self,
        filter: &ListFilter,
        limit: u32,
    ) -> Result<Result<Live, String>, ApiError> {
        let first = self.list_page(filter, 0, limit).await?;
        let pages = match first.page.total_count {
            Some(total) => self.pages_counted(filter, first, total).await?,
            None => self.pages_to_a_short_one(filter, first).await?,
        };
        let pages = match pages {
            Ok(pages) => pages,
            Err(why) => return Ok(Err(why)),
        };
        for (offset, page) in &pages {
            refuse_conflicts_within(*offset, &page.page.pools)?;
        }
        let total = pages[0].1.page.total_count;
        let live = Live::from_pages(
            pages
                .into_iter()
                .map(|(_, p)| (p.request_id, p.page.pools))
                .collect(),
        );
        Ok(match (live, total) {
            // The same pool read twice (an overlap) with different content: it changed.
            (Err(conflict), _) => Err(conflict.to_string()),
            (Ok(live), Some(total)) if live.len() as u64 != total => Err(format!(
                "total_count was {total} but {} distinct pools were read",
                live.len()
            )),
            (Ok(live), _) => Ok(live),
        })
    }

    /// The pages after `first` when `total_count` is known: fetched concurrently, each
    /// starting with the last pool of the one before.
    async fn pages_counted(
        &self,
        filter: &ListFilter,
        first: ListedPage,
        total: u64,
    ) -> Result<Result<Vec<(u64, ListedPage)>, String>, ApiError> {
        if total > MAX_LISTED_POOLS {
            return Err(ApiError::InconsistentListing {
                attempts: 1,
                detail: format!(
                    "total_count {total} is more than poolform will page through ({MAX_LISTED_POOLS})"
                ),
            });
        }
        let size = first.page.pools.len() as u64;
        if size >= total {
            return Ok(if size == total {
                Ok(vec![(0, first)])
            } else {
                Err(format!(
                    "total_count is {total} but the first page held {size} pools"
                ))
            });
        }
        if size < 2 {
            return Ok(Err(format!(
                "the first page held {size} of {total} pools; pages of fewer than 2 pools cannot be checked against each other"
            )));
        }
        // The gateway's page size (it may be lower than asked): pages overlap by one pool.
        let page_size = u32::try_from(size).unwrap_or(MAX_PAGE_LIMIT);
        let stride = size - 1;
        let offsets: Vec<u64> = (1..)
            .map(|k| k * stride)
            .take_while(|offset| offset + 1 < total)
            .collect();
        let mut fetched: Vec<Option<ListedPage>> = offsets.iter().map(|_| None).collect();
        let mut pending = offsets.iter().copied().enumerate();
        let mut running = JoinSet::new();
        loop {
            while running.len() < self.inner.options.list_concurrency.max(1) {
                let Some((i, offset)) = pending.next() else {
                    break;
                };
                let (client, filter) = (self.clone(), filter.clone());
                running
                    .spawn(async move { (i, client.list_page(&filter, offset, page_size).await) });
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            match done {
                Ok((i, Ok(page))) => fetched[i] = Some(page),
                Ok((_, Err(e))) => return Err(e),
                Err(join) => {
                    return Err(ApiError::Internal {
                        doing: "reading a page of the pool listing",
                        message: join.to_string(),
                    })
                }
            }
        }
        let mut pages = vec![(0, first)];
        for (offset, page) in offsets.into_iter().zip(fetched) {
            let Some(page) = page else {
                return Err(ApiError::Internal {
                    doing: "reading a page of the pool listing",
                    message: format!("the page at offset {offset} was not read"),
                });
            };
            if let Some(changed) = page.page.total_count.filter(|t| *t != total) {
                return Ok(Err(format!(
                    "total_count changed from {total} to {changed} between pages"
                )));
            }
            let want = (total - offset).min(size);
            let got = page.page.pools.len() as u64;
            if got != want {
                return Ok(Err(format!(
                    "the page at offset {offset} held {got} pools, not {want}"
                )));
            }
            if let Some(why) = misaligned(&pages[pages.len() - 1], offset, &page) {
                return Ok(Err(why));
            }
            pages.push((offset, page));
        }
        Ok(Ok(pages))
    }

    /// The pages after `first` when the API sends no `total_count`: one after another, each
    /// starting with the last pool of the one before, until a page is shorter than the first.
    async fn pages_to_a_short_one(
        &self,
        filter: &ListFilter,
        first: ListedPage,
    ) -> Result<Result<Vec<(u64, ListedPage)>, String>, ApiError> {
        let size = first.page.pools.len() as u64;
        let mut pages = vec![(0, first)];
        if size == 0 {
            return Ok(Ok(pages));
        }
        if size == 1 {
            // A page of one pool cannot overlap: one more read tells the end from a cap of 1.
            let next = self.list_page(filter, 1, 1).await?;
            return Ok(if next.page.pools.is_empty() {
                Ok(pages)
            } else {
                Err(
                    "the API serves 1 pool per page; pages cannot be checked against each other"
                        .into(),
                )
            });
        }
        let page_size = u32::try_from(size).unwrap_or(MAX_PAGE_LIMIT);
        let mut offset = 0;
        loop {
            offset += size - 1;
            if offset > MAX_LISTED_POOLS {
                return Err(ApiError::InconsistentListing {
                    attempts: 1,
                    detail: format!(
                        "the listing goes on past {MAX_LISTED_POOLS} pools; poolform will not page further"
                    ),
                });
            }
            let page = self.list_page(filter, offset, page_size).await?;
            if let Some(why) = misaligned(&pages[pages.len() - 1], offset, &page) {
                return Ok(Err(why));
            }
            let short = (page.page.pools.len() as u64) < size;
            pages.push((offset, page));
            if short {
                return Ok(Ok(pages));
            }
        }
    }

    /// One pool; `None` when the API says it does not exist: 404 with a Workspace error code,
    /// or 400 `WKS.0001` (how the show route answers for a missing pool). A 404 from the
    /// gateway itself (`APIGW.0101`, a wrong route) is an error, never "gone".
    pub async fn show_pool(&self, id: &PoolId) -> Result<Shown, ApiError> {
        let suffix = format!("desktop-pools/{id}");
        let raw = self.send(Method::GET, &suffix, &[]).await?;
        let pool = if raw.is_success() {
            let pool = wire::pool_from_body(&raw.body).map_err(|m| raw.decode_error(m))?;
            if pool.id != *id {
                return Err(raw.decode_error(format!(
                    "asked for pool {id}, the answer describes pool {}",
                    pool.id
                )));
            }
            Some(pool)
        } else {
            match raw.failure().absence() {
                Absence::Proven | Absence::Hinted => None,
                Absence::Unknown => return Err(raw.http_error()),
            }
        };
        Ok(Shown {
            pool,
            request_id: raw.request_id,
        })
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

    /// Sends one DELETE. A 2xx is reported as [`Deleted`]; every other answer is an error for
    /// the caller to judge ([`HttpFailure::absence`] says what it tells about the pool).
    /// Nothing is retried here.
    pub async fn delete_pool(&self, id: &PoolId) -> Result<Deleted, ApiError> {
        let suffix = format!("desktop-pools/{id}");
        let raw = self.send(Method::DELETE, &suffix, &[]).await?;
        if raw.is_success() {
            return Ok(Deleted {
                request_id: raw.request_id,
            });
        }
        Err(raw.http_error())
    }
}

/// Why page `page` (read at `offset`) does not continue `before`, if it does not: its first
/// pool must be the last pool of the page before (pages overlap by one).
fn misaligned(before: &(u64, ListedPage), offset: u64, page: &ListedPage) -> Option<String> {
    let last = before.1.page.pools.last()?;
    match page.page.pools.first() {
        Some(first) if first.id == last.id => None,
        Some(first) => Some(format!(
            "the page at offset {offset} starts with pool {} where the page before ended with {}: the listing shifted between pages",
            first.id, last.id
        )),
        None => Some(format!(
            "the page at offset {offset} is empty where it should start with pool {}",
            last.id
        )),
    }
}

/// One page listing the same id twice with different content cannot be trusted at all.
fn refuse_conflicts_within(offset: u64, pools: &[Pool]) -> Result<(), ApiError> {
    let mut seen: HashMap<&PoolId, &Pool> = HashMap::with_capacity(pools.len());
    for pool in pools {
        if let Some(before) = seen.insert(&pool.id, pool) {
            if before != pool {
                if let Err(conflict) = Live::new(vec![before.clone(), pool.clone()]) {
                    return Err(ApiError::InvalidListing {
                        detail: format!("the page at offset {offset}: {conflict}"),
                    });
                }
            }
        }
    }
    Ok(())
}
