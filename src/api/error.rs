//! API errors: the Huawei error body in all its documented shapes, and the typed client errors.

use std::fmt;

use std::time::Duration;

/// The parts of a Huawei error body, whichever of the known shapes it came in. Every string
/// is bounded ([`MAX_CODE_CHARS`], [`MAX_MESSAGE_BYTES`]): what is cut is counted, never kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<String>,
    /// The body text when it was not JSON (an HTML page from a gateway, say), shortened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Bytes of the message and detail that were cut to keep them bounded.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted_bytes: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How much of a non-JSON body's text is kept for the message.
const RAW_EXCERPT_CHARS: usize = 120;
/// How much of a non-JSON body is looked at to summarise it.
const RAW_SCAN_BYTES: usize = 64 * 1024;
/// An error code longer than this is cut (Huawei's are like `WKS.00010032`).
pub const MAX_CODE_CHARS: usize = 64;
/// A message or detail longer than this is cut, and the rest counted.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024;

/// `s` redacted (before any cut, so that no fragment of a secret survives it), then cut to
/// `max_chars` characters and `max_bytes` bytes: what is kept, and how many bytes were cut.
fn bounded(s: &str, max_chars: usize, max_bytes: usize) -> (String, u64) {
    let s = crate::api::redact::redact(s);
    let mut end = 0;
    for (n, (at, c)) in s.char_indices().enumerate() {
        if n == max_chars || at + c.len_utf8() > max_bytes {
            break;
        }
        end = at + c.len_utf8();
    }
    (s[..end].to_owned(), (s.len() - end) as u64)
}

/// Which part of an error body a key names.
#[derive(Clone, Copy)]
enum Part {
    Code,
    Message,
    Detail,
}

fn part_of(key: &str) -> Option<Part> {
    match key {
        "error_code" | "errorCode" | "code" => Some(Part::Code),
        "error_msg" | "errorMsg" | "message" | "msg" => Some(Part::Message),
        "error_detail" | "errorDetail" | "detail" => Some(Part::Detail),
        _ => None,
    }
}

/// A string or number, bounded as it is read; anything else is skipped unread.
struct BoundedText {
    text: Option<String>,
    omitted: u64,
    max_chars: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for BoundedText {
    type Value = (Option<String>, u64);
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for BoundedText {
    type Value = (Option<String>, u64);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let (text, omitted) = bounded(v, self.max_chars, MAX_MESSAGE_BYTES);
        Ok((Some(text), self.omitted + omitted))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok((Some(v.to_string()), self.omitted))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok((Some(v.to_string()), self.omitted))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok((self.text, self.omitted))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok((self.text, self.omitted))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok((self.text, self.omitted))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok((self.text, self.omitted))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok((self.text, self.omitted))
    }
}

/// An error object: its known keys read bounded; at the top level, objects one level down
/// (`{"error": {...}}`) read the same way, without going deeper.
struct ObjectSeed {
    nested: bool,
}

/// One value of an error object: a nested object's parts, or nothing worth keeping.
struct ValueSeed;

impl<'de> serde::de::DeserializeSeed<'de> for ValueSeed {
    type Value = Option<ErrorBody>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ValueSeed {
    type Value = Option<ErrorBody>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        serde::de::Visitor::visit_map(ObjectSeed { nested: true }, map).map(Some)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for ObjectSeed {
    type Value = ErrorBody;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ObjectSeed {
    type Value = ErrorBody;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an error object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut body = ErrorBody::default();
        let mut nested: Option<ErrorBody> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let slot = match part_of(&key) {
                Some(Part::Code) => &mut body.error_code,
                Some(Part::Message) => &mut body.error_msg,
                Some(Part::Detail) => &mut body.error_detail,
                None if self.nested => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
                None => {
                    let inner = map.next_value_seed(ValueSeed)?;
                    if nested.is_none() {
                        nested = inner.filter(ErrorBody::names_anything);
                    }
                    continue;
                }
            };
            let max_chars = if matches!(part_of(&key), Some(Part::Code)) {
                MAX_CODE_CHARS
            } else {
                usize::MAX
            };
            let (text, omitted) = map.next_value_seed(BoundedText {
                text: slot.take(),
                omitted: 0,
                max_chars,
            })?;
            *slot = text;
            body.omitted_bytes += omitted;
        }
        Ok(match nested {
            Some(inner) if !body.names_anything() => inner,
            _ => body,
        })
    }
}

impl ErrorBody {
    /// Reads `error_code`/`error_msg`, `errorCode`/`errorMsg`, `code`/`message`, the same one
    /// level down (`{"error": {...}}`), and falls back to a summary of the text for anything
    /// else. Decoded straight into bounded strings (no JSON tree); never fails.
    pub fn parse(body: &[u8]) -> ErrorBody {
        let mut de = serde_json::Deserializer::from_slice(body);
        match serde::de::DeserializeSeed::deserialize(ObjectSeed { nested: false }, &mut de) {
            Ok(parsed) if parsed.names_anything() && de.end().is_ok() => parsed,
            _ => Self::raw(body),
        }
    }

    /// Does it carry a code or a message?
    fn names_anything(&self) -> bool {
        self.error_code.is_some() || self.error_msg.is_some()
    }

    /// A body that is not a JSON error (a gateway's HTML page, say), summarised from its first
    /// 64 KiB: its `<title>`, or else its first 120 characters of text with the tags stripped.
    fn raw(body: &[u8]) -> ErrorBody {
        let scanned = &body[..body.len().min(RAW_SCAN_BYTES)];
        let text = crate::api::redact::redact(&String::from_utf8_lossy(scanned)).into_owned();
        let summary = html_title(&text).unwrap_or_else(|| strip_tags(&text));
        let collapsed: String = summary.split_whitespace().collect::<Vec<_>>().join(" ");
        let raw = if collapsed.is_empty() {
            None
        } else if collapsed.chars().count() > RAW_EXCERPT_CHARS {
            let cut: String = collapsed.chars().take(RAW_EXCERPT_CHARS).collect();
            Some(format!("{cut}…"))
        } else {
            Some(collapsed)
        };
        ErrorBody {
            raw,
            ..ErrorBody::default()
        }
    }

    /// True when the body names the error code `code`.
    pub fn has_code(&self, code: &str) -> bool {
        self.error_code.as_deref() == Some(code)
    }
}

/// The text of an HTML `<title>`, when there is a non-empty one.
fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    let title = text.get(open_end..close)?.trim();
    (!title.is_empty()).then(|| title.to_owned())
}

/// `text` without anything between `<` and `>`.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// An HTTP answer that was not a success, with everything support will ask for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HttpFailure {
    pub status: u16,
    #[serde(flatten)]
    pub body: ErrorBody,
    pub request_id: Option<String>,
    /// `Retry-After` in seconds, when the answer carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl fmt::Display for HttpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.body.error_code {
            write!(f, " {code}")?;
        }
        match (&self.body.error_msg, &self.body.raw) {
            (Some(msg), _) => write!(f, ": {msg}")?,
            (None, Some(raw)) => write!(f, ": {raw}")?,
            (None, None) => {}
        }
        if let Some(detail) = &self.body.error_detail {
            write!(f, " ({detail})")?;
        }
        if self.body.omitted_bytes > 0 {
            write!(f, " […{} more bytes not kept]", self.body.omitted_bytes)?;
        }
        write!(
            f,
            " [request id: {}]",
            self.request_id.as_deref().unwrap_or("none")
        )
    }
}

/// What an error answer tells about whether the pool it was about exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absence {
    /// 404 with a Workspace (`WKS.*`) error code: the service says the pool does not exist.
    Proven,
    /// 400 `WKS.0001`: how the show route answers for a missing pool; but Huawei's error table
    /// gives the code a generic meaning, so on any other route it needs a read to confirm.
    Hinted,
    /// Nothing about the pool: any other answer, including a gateway's own 404 (`APIGW.0101`,
    /// "the API does not exist"), which means a wrong route, not a missing pool.
    Unknown,
}

impl HttpFailure {
    /// What this answer tells about whether the pool exists.
    pub fn absence(&self) -> Absence {
        let workspace_code = self
            .body
            .error_code
            .as_deref()
            .is_some_and(|c| c.starts_with("WKS."));
        match self.status {
            404 if workspace_code => Absence::Proven,
            400 if self.body.has_code("WKS.0001") => Absence::Hinted,
            _ => Absence::Unknown,
        }
    }
}

/// What went wrong below HTTP: no answer was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// Could not connect.
    Connect,
    /// The host answered the connection with a refusal: nothing listens on that port.
    Refused,
    /// No complete answer within the timeout.
    Timeout,
    /// The connection broke before a complete answer arrived.
    Connection,
    /// The resolver says the host name does not exist (NXDOMAIN): not retried.
    NoSuchHost,
}

/// Everything the client can report. Callers branch on the variant; messages are for people.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{method} {path}: {failure}{}", who.as_deref().map(|w| format!(" (the credentials: {w})")).unwrap_or_default())]
    Http {
        method: &'static str,
        path: String,
        failure: Box<HttpFailure>,
        /// For a 401: whose credentials were refused (`token from HW_AUTH_TOKEN`).
        who: Option<std::sync::Arc<str>>,
    },
    #[error("{method} {path}: {kind_text} {host}: {message}", kind_text = transport_text(*kind))]
    Transport {
        method: &'static str,
        path: String,
        /// `host:port` that was being reached.
        host: String,
        kind: TransportKind,
        message: String,
    },
    #[error("{method} {path}: response body larger than {limit} bytes; refusing to read it [request id: {}]", request_id.as_deref().unwrap_or("none"))]
    BodyTooLarge {
        method: &'static str,
        path: String,
        limit: usize,
        request_id: Option<String>,
    },
    #[error("{method} {path}: HTTP {status} with a response poolform cannot read: {message} [request id: {}]", request_id.as_deref().unwrap_or("none"))]
    Decode {
        method: &'static str,
        path: String,
        status: u16,
        message: String,
        request_id: Option<String>,
    },
    #[error("{method} {path}: not sent: the judgement it was to be sent on had grown too old while it waited for its turn")]
    Expired { method: &'static str, path: String },
    #[error("{method} {path}: not sent: {why}")]
    Stopped {
        method: &'static str,
        path: String,
        why: String,
    },
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    #[error("IAM: {0}")]
    Iam(String),
    #[error("internal error (a bug in poolform) while {doing}: {message}")]
    Internal {
        doing: &'static str,
        message: String,
    },
    #[error("the pool listing kept changing while it was read: {detail} (tried {attempts} times); nothing was planned from it")]
    InconsistentListing { attempts: u32, detail: String },
    #[error("the pool listing cannot be trusted: {detail}; nothing was planned from it")]
    InvalidListing { detail: String },
}

fn transport_text(kind: TransportKind) -> &'static str {
    match kind {
        TransportKind::Connect => "could not connect to",
        TransportKind::Refused => "connection refused by",
        TransportKind::Timeout => "timed out waiting for",
        TransportKind::Connection => "connection lost before an answer from",
        TransportKind::NoSuchHost => "no such host (the resolver says so; not retried):",
    }
}

/// What a transport failure's message says, in a few words: `connection refused`, `DNS: the
/// host does not resolve`, `TLS handshake failed`, `timed out`, or the last cause.
pub fn transport_reason(kind: TransportKind, message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if kind == TransportKind::Refused || lower.contains("connection refused") {
        "connection refused".into()
    } else if is_unresolved(message) {
        "DNS: the host does not resolve".into()
    } else if lower.contains("tls")
        || lower.contains("certificate")
        || lower.contains("invalidcontenttype")
    {
        "TLS handshake failed".into()
    } else if kind == TransportKind::Timeout {
        "timed out".into()
    } else {
        message.rsplit(": ").next().unwrap_or(message).to_owned()
    }
}

/// A name lookup failed: the host does not resolve.
fn is_unresolved(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("dns error") || lower.contains("failed to lookup address")
}

/// The region in a Huawei host name (`workspace.cn-north-4.myhuaweicloud.com:443`).
fn region_of(host: &str) -> Option<&str> {
    let mut parts = host.split('.');
    let (_service, region) = (parts.next()?, parts.next()?);
    crate::core::model::is_region_name(region).then_some(region)
}

impl ApiError {
    /// No answer was read: the host could not be reached, or the connection broke.
    pub fn is_transport(&self) -> bool {
        matches!(self, ApiError::Transport { .. })
    }

    /// What to do next when no answer came: the step a person takes (check the region's
    /// spelling, the port, the scheme).
    pub fn next_step(&self) -> Option<String> {
        let ApiError::Transport {
            host,
            kind,
            message,
            ..
        } = self
        else {
            return None;
        };
        let lower = message.to_ascii_lowercase();
        Some(if is_unresolved(message) {
            crate::core::regions::unresolved_host_hint(region_of(host))
        } else if *kind == TransportKind::Refused {
            format!("nothing listens at {host}: check the endpoint's port, or start the service (workspace-sim, for a rehearsal)")
        } else if lower.contains("invalidcontenttype") || lower.contains("corrupt message") {
            format!("{host} did not answer in TLS: if it serves plain HTTP (the simulator does), use an http:// endpoint")
        } else {
            return None;
        })
    }

    /// The HTTP failure, when the server answered with one.
    pub fn http_failure(&self) -> Option<&HttpFailure> {
        match self {
            ApiError::Http { failure, .. } => Some(failure),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { failure, .. } => Some(failure.status),
            ApiError::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `Retry-After` the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.http_failure()
            .and_then(|f| f.retry_after_secs)
            .map(Duration::from_secs)
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    fn body(
        code: Option<&str>,
        msg: Option<&str>,
        detail: Option<&str>,
        raw: Option<&str>,
    ) -> ErrorBody {
        ErrorBody {
            error_code: code.map(str::to_owned),
            error_msg: msg.map(str::to_owned),
            error_detail: detail.map(str::to_owned),
            raw: raw.map(str::to_owned),
            omitted_bytes: 0,
        }
    }

    #[test]
    fn parses_every_documented_shape() {
        let cases: &[(&str, ErrorBody)] = &[
            (
                r#"{"error_code":"WKS.0001","error_msg":"The desktop pool does not exist","error_detail":"d","encoded_authorization_message":"x"}"#,
                body(
                    Some("WKS.0001"),
                    Some("The desktop pool does not exist"),
                    Some("d"),
                    None,
                ),
            ),
            (
                r#"{"errorCode":"APIGW.0308","errorMsg":"throttled"}"#,
                body(Some("APIGW.0308"), Some("throttled"), None, None),
            ),
            (
                r#"{"code":"E1","message":"m"}"#,
                body(Some("E1"), Some("m"), None, None),
            ),
            (
                r#"{"error":{"code":"APIGW.0301","message":"Incorrect IAM authentication information"}}"#,
                body(
                    Some("APIGW.0301"),
                    Some("Incorrect IAM authentication information"),
                    None,
                    None,
                ),
            ),
            (
                r#"{"code":401,"message":"numeric code"}"#,
                body(Some("401"), Some("numeric code"), None, None),
            ),
            (
                "<html>\r\n<head><title> 502 Bad Gateway </title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center></body></html>",
                body(None, None, None, Some("502 Bad Gateway")),
            ),
            (
                "<html><body><h1>Service   Unavailable</h1>\n<p>Try <b>later</b>.</p></body></html>",
                body(None, None, None, Some("Service Unavailable Try later .")),
            ),
            (
                "<HTML><TITLE></TITLE><BODY>empty title</BODY></HTML>",
                body(None, None, None, Some("empty title")),
            ),
            (
                r#"{"error_code": "WKS.00"#,
                body(None, None, None, Some(r#"{"error_code": "WKS.00"#)),
            ),
            (
                r#"{"unrelated": true}"#,
                body(None, None, None, Some(r#"{"unrelated": true}"#)),
            ),
            ("", body(None, None, None, None)),
            ("[1,2]", body(None, None, None, Some("[1,2]"))),
        ];
        for (input, want) in cases {
            assert_eq!(ErrorBody::parse(input.as_bytes()), *want, "input {input:?}");
        }
    }

    #[test]
    fn long_and_binary_bodies_are_shortened_not_fatal() {
        let long = "x".repeat(5000);
        let parsed = ErrorBody::parse(long.as_bytes());
        assert_eq!(parsed.raw.unwrap().chars().count(), RAW_EXCERPT_CHARS + 1);
        let binary = ErrorBody::parse(&[0xff, 0xfe, 0x00, 0x41]);
        assert!(binary.raw.is_some());
        // a JSON message of 8 MiB keeps 4 KiB and counts the rest; the code is cut at 64
        let huge = format!(
            r#"{{"error_msg": "{}", "error_code": "{}", "pad": [{}]}}"#,
            "é".repeat(4 * 1024 * 1024),
            "C".repeat(200),
            "1,".repeat(1000) + "1"
        );
        let parsed = ErrorBody::parse(huge.as_bytes());
        assert_eq!(parsed.error_msg.as_ref().unwrap().len(), MAX_MESSAGE_BYTES);
        assert_eq!(parsed.error_code.as_ref().unwrap().len(), MAX_CODE_CHARS);
        assert_eq!(
            parsed.omitted_bytes,
            (8 * 1024 * 1024 - MAX_MESSAGE_BYTES + 200 - MAX_CODE_CHARS) as u64
        );
        // nested, escaped, and a secret cut at the boundary never leaves a fragment
        crate::api::redact::register("boundary-secret-value");
        let at_cut = format!(
            r#"{{"error": {{"code": "E", "message": "{}boundary-secret-value"}}}}"#,
            "y".repeat(MAX_MESSAGE_BYTES - 8)
        );
        let parsed = ErrorBody::parse(at_cut.as_bytes());
        assert_eq!(parsed.error_code.as_deref(), Some("E"));
        assert!(!parsed.error_msg.unwrap().contains("boundary"));
    }

    #[test]
    fn only_a_workspace_404_proves_a_pool_gone() {
        let answer = |status: u16, code: Option<&str>| HttpFailure {
            status,
            body: body(code, Some("m"), None, None),
            request_id: None,
            retry_after_secs: None,
        };
        let cases = [
            (404, Some("WKS.0404"), Absence::Proven),
            (404, Some("WKS.00010001"), Absence::Proven),
            (404, Some("APIGW.0101"), Absence::Unknown),
            (404, None, Absence::Unknown),
            (400, Some("WKS.0001"), Absence::Hinted),
            (400, Some("WKS.0003"), Absence::Unknown),
            (409, Some("WKS.0001"), Absence::Unknown),
            (500, Some("WKS.0404"), Absence::Unknown),
        ];
        for (status, code, want) in cases {
            assert_eq!(answer(status, code).absence(), want, "{status} {code:?}");
        }
    }

    #[test]
    fn failure_message_names_status_code_message_and_request_id() {
        let failure = HttpFailure {
            status: 409,
            body: body(
                Some("WKS.00010032"),
                Some("Operation conflict"),
                Some("3 desktops"),
                None,
            ),
            request_id: Some("req-123".into()),
            retry_after_secs: None,
        };
        assert_eq!(
            failure.to_string(),
            "HTTP 409 WKS.00010032: Operation conflict (3 desktops) [request id: req-123]"
        );
        let html = HttpFailure {
            status: 502,
            body: ErrorBody::parse(b"<html>Bad Gateway</html>"),
            request_id: None,
            retry_after_secs: None,
        };
        assert_eq!(html.to_string(), "HTTP 502: Bad Gateway [request id: none]");
    }
}
