//! API errors: the Huawei error body in all its documented shapes, and the typed client errors.

use std::fmt;
use std::time::Duration;

/// The parts of a Huawei error body, whichever of the known shapes it came in.
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
}

/// How much of a non-JSON body's text is kept for the message.
const RAW_EXCERPT_CHARS: usize = 120;

impl ErrorBody {
    /// Reads `error_code`/`error_msg`, `errorCode`/`errorMsg`, `code`/`message`, the same one level
    /// down (`{"error": {...}}`), and falls back to the text for anything else. Never fails.
    pub fn parse(body: &[u8]) -> ErrorBody {
        let text = String::from_utf8_lossy(body);
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(map)) => {
                let top = Self::from_object(&map);
                if top.error_code.is_some() || top.error_msg.is_some() {
                    return top;
                }
                let nested = map
                    .values()
                    .filter_map(|v| v.as_object())
                    .map(Self::from_object)
                    .find(|b| b.error_code.is_some() || b.error_msg.is_some());
                nested.unwrap_or_else(|| Self::raw(&text))
            }
            _ => Self::raw(&text),
        }
    }

    fn from_object(map: &serde_json::Map<String, serde_json::Value>) -> ErrorBody {
        let pick = |keys: &[&str]| {
            keys.iter().find_map(|k| match map.get(*k) {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(v @ serde_json::Value::Number(_)) => Some(v.to_string()),
                _ => None,
            })
        };
        ErrorBody {
            error_code: pick(&["error_code", "errorCode", "code"]),
            error_msg: pick(&["error_msg", "errorMsg", "message", "msg"]),
            error_detail: pick(&["error_detail", "errorDetail", "detail"]),
            raw: None,
        }
    }

    /// A body that is not a JSON error (a gateway's HTML page, say), summarised: its
    /// `<title>`, or else its first 120 characters of text with the tags stripped.
    fn raw(text: &str) -> ErrorBody {
        let summary = html_title(text).unwrap_or_else(|| strip_tags(text));
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
    /// No complete answer within the timeout.
    Timeout,
    /// The connection broke before a complete answer arrived.
    Connection,
}

/// Everything the client can report. Callers branch on the variant; messages are for people.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{method} {path}: {failure}")]
    Http {
        method: &'static str,
        path: String,
        failure: Box<HttpFailure>,
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
        TransportKind::Timeout => "timed out waiting for",
        TransportKind::Connection => "connection lost before an answer from",
    }
}

impl ApiError {
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
