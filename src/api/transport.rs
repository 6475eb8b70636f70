//! One request, start to end, for the Workspace and IAM APIs alike: the headers (signed for
//! AK/SK), the pacing (rate limit; retries for reads), a size-capped answer, and errors that
//! name the host being reached. One `reqwest::Client`, reused; TLS always verified, redirects
//! never followed, proxies only for HTTPS and never for loopback.

use super::connection::{is_loopback_host, Credentials};
use super::error::{ApiError, ErrorBody, HttpFailure, TransportKind};
use super::options::ClientOptions;
use super::pacer::{Answer, Halt, Pacer};
use super::run_share::RunLimits;
use super::signer::{self, SigningInput};
use crate::core::model::ProjectId;
use crate::core::retry::{Decision, Observed};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use std::time::{Duration, Instant, SystemTime};

/// A response read in full (within the size cap).
pub(super) struct RawResponse {
    /// The request it answers, for error messages.
    pub method: &'static str,
    pub path: String,
    pub status: u16,
    pub body: Vec<u8>,
    pub request_id: Option<String>,
    pub retry_after_secs: Option<u64>,
    /// The answer's `Date` header, as sent: the API's clock.
    pub date: Option<String>,
    /// Whose credentials the request carried, named in a 401.
    pub who: std::sync::Arc<str>,
    /// A list page's bytes in the run's budget, until the answer is dropped.
    pub held: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl RawResponse {
    /// This answer as an error; a 401 names whose credentials were refused.
    pub fn http_error(&self) -> ApiError {
        ApiError::Http {
            method: self.method,
            path: self.path.clone(),
            failure: Box::new(self.failure()),
            who: (self.status == 401).then(|| self.who.clone()),
        }
    }

    /// This answer, which could not be read, as an error.
    pub fn decode_error(&self, message: String) -> ApiError {
        ApiError::Decode {
            method: self.method,
            path: self.path.clone(),
            status: self.status,
            message,
            request_id: self.request_id.clone(),
        }
    }

    pub fn failure(&self) -> HttpFailure {
        HttpFailure {
            status: self.status,
            body: ErrorBody::parse(&self.body),
            request_id: self.request_id.clone(),
            retry_after_secs: self.retry_after_secs,
        }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Where requests go: a base URL and how its host is named.
#[derive(Debug, Clone)]
pub(super) struct Endpoint {
    /// The URL without a trailing slash.
    pub base: String,
    /// `Host` as sent and signed: host, with `:port` when the URL has one.
    pub host_header: String,
    /// `host:port`, the port always given, for messages and logs.
    pub host_port: String,
    /// The host is this machine.
    pub loopback: bool,
}

impl Endpoint {
    pub fn of(url: &Url) -> Endpoint {
        let host = url.host_str().unwrap_or_default();
        Endpoint {
            base: url.as_str().trim_end_matches('/').to_owned(),
            host_header: match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            },
            host_port: format!("{host}:{}", url.port_or_known_default().unwrap_or_default()),
            loopback: is_loopback_host(host),
        }
    }
}

/// One request to make.
pub(super) struct Request<'a> {
    pub endpoint: &'a Endpoint,
    pub credentials: &'a Credentials,
    /// Signed as `X-Project-Id` (Workspace calls); IAM calls carry none.
    pub project: Option<&'a ProjectId>,
    pub method: Method,
    pub path: String,
    pub query: &'a [(String, String)],
    /// A JSON body (IAM's POST).
    pub body: Option<Vec<u8>>,
    /// Retried under the retry policy, and abandoned at once on an interrupt. DELETEs are not:
    /// they are sent once and always finish.
    pub retried: bool,
    /// Whose credentials these are, in words, for a 401.
    pub who: &'a std::sync::Arc<str>,
    /// Not sent once this instant has passed (checked once the rate limiter admits it): the
    /// judgement a DELETE rests on has an age limit.
    pub not_after: Option<Instant>,
    /// What of the run's limits it holds while in flight.
    pub slot: Slot,
}

/// What of the run's limits a request holds while in flight (beyond the rate ceiling, which
/// every request passes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// One of the run's call slots (`--parallelism`): DELETEs and reads of one pool.
    Call,
    /// Its answer's bytes in the run's budget of list pages, from its headers until it is
    /// decoded (the page's own slot is its caller's).
    Page,
    /// Nothing more: IAM calls.
    None,
}

fn header(name: &str, value: &str, sensitive: bool) -> Option<(HeaderName, HeaderValue)> {
    let mut v = HeaderValue::from_str(value).ok()?;
    v.set_sensitive(sensitive);
    Some((HeaderName::from_bytes(name.as_bytes()).ok()?, v))
}

/// The connection was refused (nothing listens on the port).
fn refused(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        source = s.source();
    }
    false
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

/// The proxy for a URL: none for plain HTTP or a loopback host (a token must never travel in
/// clear text to another host); `HTTPS_PROXY` (or `ALL_PROXY`) for HTTPS, whose tunnel keeps
/// TLS end to end, unless `NO_PROXY` names the host.
fn proxy_for(url: &Url) -> Option<Url> {
    if url.scheme() != "https" || url.host_str().is_none_or(is_loopback_host) {
        return None;
    }
    ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .and_then(|p| Url::parse(&p).ok())
}

/// What every request of a run shares: the HTTP clients, the pacing, the limits.
pub(super) struct Transport {
    pub pacer: Pacer,
    pub options: ClientOptions,
}

impl Transport {
    pub fn new(options: ClientOptions) -> Result<Transport, ApiError> {
        let pacer = Pacer::new(
            options.rate_ceiling,
            options.retry,
            options.seed,
            options.interrupt.clone(),
        )
        .with_auth_stop(options.auth_stop.clone())
        .with_run(
            options.run.clone(),
            &RunLimits {
                ceiling: options.rate_ceiling,
                calls: options.calls_at_once,
            },
        );
        Ok(Transport { pacer, options })
    }

    /// The run's HTTP client for `url`'s scheme, built the first time it is needed.
    fn http_for(&self, url: &Url) -> Result<reqwest::Client, ApiError> {
        let tls = url.scheme() == "https";
        let once = self.options.http.of(tls);
        if let Some(http) = once.get() {
            return Ok(http.clone());
        }
        let proxy = reqwest::Proxy::custom(proxy_for).no_proxy(reqwest::NoProxy::from_env());
        let built = reqwest::Client::builder()
            .connect_timeout(self.options.connect_timeout)
            .timeout(self.options.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("poolform/", env!("CARGO_PKG_VERSION")))
            .proxy(proxy)
            .tls_built_in_root_certs(tls)
            .dns_resolver(std::sync::Arc::new(super::resolver::Resolver::from_env()))
            .build()
            .map_err(|e| ApiError::Setup(describe(e)))?;
        Ok(once.get_or_init(|| built).clone())
    }

    /// Headers for one request, signed when the credentials are AK/SK.
    fn headers(&self, req: &Request<'_>, method: &str) -> HeaderMap {
        let mut signed: Vec<(String, String)> = vec![
            ("content-type".into(), "application/json".into()),
            ("host".into(), req.endpoint.host_header.clone()),
        ];
        let mut extra: Vec<(HeaderName, HeaderValue)> = Vec::new();
        match req.credentials {
            Credentials::Token(token) => extra.extend(header("x-auth-token", token.expose(), true)),
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                let date = signer::sdk_date(SystemTime::now());
                if let Some(project) = req.project {
                    signed.push(("x-project-id".into(), project.to_string()));
                }
                signed.push(("x-sdk-date".into(), date.clone()));
                if let Some(t) = security_token {
                    signed.push(("x-security-token".into(), t.expose().to_owned()));
                }
                signed.sort();
                let input = SigningInput {
                    method,
                    path: &req.path,
                    query: req.query,
                    headers: &signed,
                    body: req.body.as_deref().unwrap_or_default(),
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

    /// Sends a request through the pacer and reads the whole answer. A retried request is
    /// retried on its own under the retry policy (connection errors, timeouts, 429, 5xx, with
    /// `Retry-After` honoured) and abandoned at once on an interrupt; any other is sent once.
    pub async fn send(&self, req: Request<'_>) -> Result<RawResponse, ApiError> {
        let pacer = &self.pacer;
        let method_name: &'static str = match req.method {
            Method::GET => "GET",
            Method::DELETE => "DELETE",
            Method::POST => "POST",
            _ => "REQUEST",
        };
        let stopped = |halt: Halt| ApiError::Stopped {
            method: method_name,
            path: req.path.clone(),
            why: halt.why().to_owned(),
        };
        let started = Instant::now();
        let mut tries = 0;
        loop {
            pacer.admit().await.map_err(stopped)?;
            // Taken once admitted, so that a call waiting on its limiter holds no slot.
            let slot = if req.slot == Slot::Call {
                tokio::select! {
                    slot = pacer.call_slot() => slot,
                    () = pacer.stopped() => return Err(stopped(pacer.halted().unwrap_or(Halt::Interrupted))),
                }
            } else {
                None
            };
            if req.not_after.is_some_and(|t| Instant::now() >= t) {
                return Err(ApiError::Expired {
                    method: method_name,
                    path: req.path.clone(),
                });
            }
            tries += 1;
            let sent_at = Instant::now();
            let in_flight = pacer.sending();
            let attempt = self.send_once(&req, method_name);
            let result = if req.retried {
                tokio::select! {
                    r = attempt => r,
                    _ = pacer.stopped() => return Err(stopped(pacer.halted().unwrap_or(Halt::Interrupted))),
                }
            } else {
                attempt.await
            };
            drop(in_flight);
            drop(slot);
            let Some(observed) = self.observe(&req, sent_at, &result) else {
                return result;
            };
            let retry_after = match &result {
                Ok(raw) => raw.retry_after_secs.map(Duration::from_secs),
                Err(_) => None,
            };
            if !req.retried || !observed.is_retryable() {
                return result;
            }
            match pacer.decide(tries, observed, retry_after, started.elapsed()) {
                Decision::RetryAfter(delay) => {
                    self.say_trouble(&req, &result, tries + 1);
                    tracing::info!(method = method_name, host = %req.endpoint.host_port, path = %req.path, attempt = tries, delay_ms = delay.as_millis() as u64, "retrying");
                    pacer.sleep(delay).await.map_err(stopped)?;
                }
                Decision::GiveUp(_) => return result,
            }
        }
    }

    /// Tells the pacer what an attempt ended with; what the retry policy reads of it, or `None`
    /// when it must not be retried whatever the policy says (a refused loopback connection,
    /// an error of poolform's own).
    fn observe(
        &self,
        req: &Request<'_>,
        sent_at: Instant,
        result: &Result<RawResponse, ApiError>,
    ) -> Option<Observed> {
        let pacer = &self.pacer;
        match result {
            Ok(raw) => {
                self.options.listing.trouble(None);
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
                Some(Observed::Status(raw.status))
            }
            Err(ApiError::Transport { kind, .. }) => {
                pacer.observe(sent_at, Answer::Transport);
                // Nothing listens on a loopback port: no retry will change that (a
                // connection dropped after sending keeps its retries).
                // Nor does a host the resolver says does not exist.
                (!(*kind == TransportKind::Refused && req.endpoint.loopback)
                    && *kind != TransportKind::NoSuchHost)
                    .then_some(Observed::Transport)
            }
            Err(e) => {
                pacer.observe(sent_at, Answer::Status(e.status().unwrap_or(200), ""));
                None
            }
        }
    }

    /// Says, for a display, that a host cannot be reached and attempt `next` is coming.
    fn say_trouble(&self, req: &Request<'_>, result: &Result<RawResponse, ApiError>, next: u32) {
        if let Err(ApiError::Transport { kind, message, .. }) = result {
            self.options.listing.trouble(Some(format!(
                "cannot reach {} ({}), retrying {next}/{}",
                req.endpoint.host_port,
                super::error::transport_reason(*kind, message),
                self.pacer.retry_policy().max_attempts
            )));
        }
    }

    /// One attempt of a request: sends it and reads the whole answer, within the size cap.
    async fn send_once(
        &self,
        req: &Request<'_>,
        method_name: &'static str,
    ) -> Result<RawResponse, ApiError> {
        let failed = Failed {
            method: method_name,
            path: &req.path,
            host: &req.endpoint.host_port,
        };
        let canonical = signer::canonical_query(req.query);
        let url_text = if canonical.is_empty() {
            format!("{}{}", req.endpoint.base, req.path)
        } else {
            format!("{}{}?{canonical}", req.endpoint.base, req.path)
        };
        let url = Url::parse(&url_text)
            .map_err(|e| failed.transport(TransportKind::Connect, format!("bad URL: {e}")))?;
        let started = Instant::now();
        let mut builder = self
            .http_for(&url)?
            .request(req.method.clone(), url)
            .headers(self.headers(req, method_name));
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                let err = failed.classify(e);
                tracing::warn!(method = method_name, host = %failed.host, path = %req.path, elapsed_ms = started.elapsed().as_millis() as u64, error = %err, "request failed");
                return Err(err);
            }
        };
        let raw = self.read_answer(response, &failed, req).await?;
        tracing::debug!(
            method = method_name,
            host = %failed.host,
            path = %req.path,
            status = raw.status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            request_id = raw.request_id.as_deref().unwrap_or("-"),
            "request"
        );
        Ok(raw)
    }

    /// Reads an answer whole, refusing a body larger than the cap (by its length, or as it
    /// comes).
    async fn read_answer(
        &self,
        mut response: reqwest::Response,
        failed: &Failed<'_>,
        req: &Request<'_>,
    ) -> Result<RawResponse, ApiError> {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header("x-request-id");
        let retry_after_secs = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
        let date = header("date");
        let status = response.status().as_u16();
        let limit = self.options.max_body_bytes;
        let too_large = || ApiError::BodyTooLarge {
            method: failed.method,
            path: failed.path.to_owned(),
            limit,
            request_id: request_id.clone(),
        };
        let length = response.content_length();
        if length.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        // The whole body is read before the first byte is looked at: sized once, when the
        // answer says its length.
        let expected = length.map_or(limit, |n| n as usize);
        let held = match req.slot {
            Slot::Page => self.options.run.body(expected).await,
            Slot::Call | Slot::None => None,
        };
        let mut body = Vec::with_capacity(length.map_or(0, |n| n as usize));
        while let Some(chunk) = response.chunk().await.map_err(|e| failed.classify(e))? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            method: failed.method,
            path: failed.path.to_owned(),
            status,
            body,
            request_id,
            retry_after_secs,
            date,
            who: req.who.clone(),
            held,
        })
    }
}

/// What an error below HTTP names: the request, and the host it was reaching.
struct Failed<'a> {
    method: &'static str,
    path: &'a str,
    host: &'a str,
}

impl Failed<'_> {
    fn transport(&self, kind: TransportKind, message: String) -> ApiError {
        ApiError::Transport {
            method: self.method,
            path: self.path.to_owned(),
            host: self.host.to_owned(),
            kind,
            message,
        }
    }

    /// A reqwest error, as a timeout, a failure to connect, or a connection lost.
    fn classify(&self, e: reqwest::Error) -> ApiError {
        let kind = if super::resolver::is_no_such_host(&e) {
            TransportKind::NoSuchHost
        } else if e.is_timeout() {
            TransportKind::Timeout
        } else if e.is_connect() && refused(&e) {
            TransportKind::Refused
        } else if e.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Connection
        };
        self.transport(kind, describe(e))
    }
}
