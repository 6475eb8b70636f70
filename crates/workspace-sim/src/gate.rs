//! The simulator's API-gateway checks: token or AK/SK signature, as the real gateway does them.

use axum::http::HeaderMap;
use poolform::api::signer::{self, SigningInput};
use std::time::{Duration, SystemTime};

/// How the simulator authenticates requests.
#[derive(Clone, Default)]
pub enum SimAuth {
    /// Checks nothing.
    #[default]
    Open,
    /// Requires `X-Auth-Token` equal to this.
    Token(String),
    /// Verifies `SDK-HMAC-SHA256` signatures made with this key pair.
    AkSk {
        access_key: String,
        secret_key: String,
    },
}

impl std::fmt::Debug for SimAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimAuth::Open => f.write_str("Open"),
            SimAuth::Token(_) => f.write_str("Token(<redacted>)"),
            SimAuth::AkSk { access_key, .. } => write!(f, "AkSk({access_key}, <redacted>)"),
        }
    }
}

/// The largest clock difference the gateway accepts.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// A refusal: `(status, error_code, error_msg)`.
pub type Refusal = (u16, &'static str, String);

fn unauthorized(code: &'static str, msg: &str) -> Refusal {
    (401, code, msg.to_owned())
}

/// The parts of a request the gateway looks at.
pub struct GateRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub now: SystemTime,
}

impl SimAuth {
    /// Authenticates a request: `Ok(Some(access key))` for a signed one. Temporary
    /// credentials the simulator issued (assume role) are accepted whatever the mode, with
    /// their security token, as the gateway accepts IAM's.
    pub fn check(
        &self,
        req: &GateRequest<'_>,
        issued: &[IssuedKey],
    ) -> Result<Option<String>, Refusal> {
        let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(parsed) = header("authorization").and_then(signer::parse_authorization) {
            if let Some(key) = issued.iter().find(|k| k.access_key == parsed.access_key) {
                return verify_signature(req, &parsed, &key.secret_key, Some(&key.security_token))
                    .map(|()| Some(parsed.access_key));
            }
        }
        match self {
            SimAuth::Open => Ok(None),
            SimAuth::Token(expected) => match header("x-auth-token") {
                Some(t) if t == expected => Ok(None),
                Some(_) => Err(unauthorized(
                    "APIGW.0301",
                    "Incorrect IAM authentication information: verify token fail",
                )),
                None => Err(unauthorized(
                    "APIGW.0301",
                    "Incorrect IAM authentication information: x-auth-token not found",
                )),
            },
            SimAuth::AkSk {
                access_key,
                secret_key,
            } => {
                let auth = header("authorization").ok_or_else(|| {
                    unauthorized(
                        "APIGW.0301",
                        "Incorrect IAM authentication information: Authorization not found",
                    )
                })?;
                let parsed = signer::parse_authorization(auth).ok_or_else(|| {
                    unauthorized("APIGW.0301", "Incorrect IAM authentication information: unsupported Authorization format")
                })?;
                if parsed.access_key != *access_key {
                    return Err(unauthorized(
                        "APIGW.0301",
                        "Incorrect IAM authentication information: ak not found",
                    ));
                }
                verify_signature(req, &parsed, secret_key, None).map(|()| Some(parsed.access_key))
            }
        }
    }
}

/// Temporary credentials the simulator issued (assume role).
#[derive(Clone)]
pub struct IssuedKey {
    pub access_key: String,
    pub secret_key: String,
    pub security_token: String,
}

impl std::fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IssuedKey({}, <redacted>)", self.access_key)
    }
}

/// Verifies an `SDK-HMAC-SHA256` signature as the gateway does: the date (within 15 minutes,
/// and signed), every signed header present, and, for temporary credentials, their security
/// token sent and signed.
fn verify_signature(
    req: &GateRequest<'_>,
    parsed: &signer::ParsedAuthorization,
    secret_key: &str,
    security_token: Option<&str>,
) -> Result<(), Refusal> {
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let date = header("x-sdk-date").ok_or_else(|| {
        unauthorized(
            "APIGW.0303",
            "Incorrect app authentication information: X-Sdk-Date not found",
        )
    })?;
    let when = signer::parse_sdk_date(date).ok_or_else(|| {
        unauthorized(
            "APIGW.0303",
            "Incorrect app authentication information: X-Sdk-Date format error",
        )
    })?;
    let skew = req
        .now
        .duration_since(when)
        .or_else(|e| Ok::<_, ()>(e.duration()))
        .unwrap_or_default();
    if skew > MAX_CLOCK_SKEW {
        return Err(unauthorized("APIGW.0303", "Incorrect app authentication information: request expired, X-Sdk-Date differs from the server time by more than 15 minutes"));
    }
    if !parsed.signed_headers.iter().any(|h| h == "x-sdk-date") {
        return Err(unauthorized(
            "APIGW.0301",
            "Incorrect IAM authentication information: x-sdk-date is not signed",
        ));
    }
    if let Some(expected) = security_token {
        let sent = header("x-security-token");
        let signed = parsed
            .signed_headers
            .iter()
            .any(|h| h == "x-security-token");
        if sent != Some(expected) || !signed {
            return Err(unauthorized(
                "APIGW.0301",
                "Incorrect IAM authentication information: the security token is missing, unsigned or wrong",
            ));
        }
    }
    let mut headers = Vec::with_capacity(parsed.signed_headers.len());
    for name in &parsed.signed_headers {
        let value = header(name).ok_or_else(|| {
            unauthorized(
                "APIGW.0301",
                "Incorrect IAM authentication information: a signed header is missing",
            )
        })?;
        headers.push((name.clone(), value.to_owned()));
    }
    let query = signer::parse_raw_query(req.raw_query);
    let input = SigningInput {
        method: req.method,
        path: req.path,
        query: &query,
        headers: &headers,
        body: req.body,
        sdk_date: date,
    };
    if signer::verify(secret_key, &input, &parsed.signature) {
        Ok(())
    } else {
        Err(unauthorized(
            "APIGW.0301",
            "Incorrect IAM authentication information: verify aksk signature fail",
        ))
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const PROJECT: &str = "0bec5db98280d2d02fd6c00c2de791ce";
    const POOL: &str = "a130ab3a-72bf-4b71-baa9-af4987c8e338";

    /// A request exactly as Huawei's official SDK signs it (the published vectors).
    fn sdk_headers(signature: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.insert(
            "host",
            HeaderValue::from_static("workspace.cn-north-4.myhuaweicloud.com"),
        );
        h.insert("x-project-id", HeaderValue::from_static(PROJECT));
        h.insert("x-sdk-date", HeaderValue::from_static("20261127T120000Z"));
        h.insert(
            "user-agent",
            HeaderValue::from_static("huaweicloud-usdk-python/3.0"),
        );
        let auth = format!("SDK-HMAC-SHA256 Access=AKEXAMPLE1234567890, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature={signature}");
        h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        h
    }

    fn aksk() -> SimAuth {
        SimAuth::AkSk {
            access_key: "AKEXAMPLE1234567890".into(),
            secret_key: "SKEXAMPLEsecret0987654321".into(),
        }
    }

    fn at(offset_secs: i64) -> SystemTime {
        let base = std::time::UNIX_EPOCH + Duration::from_secs(1_795_780_800);
        if offset_secs >= 0 {
            base + Duration::from_secs(offset_secs as u64)
        } else {
            base - Duration::from_secs((-offset_secs) as u64)
        }
    }

    #[test]
    fn accepts_the_official_sdk_signatures_and_rejects_tampering() {
        let list = format!("/v2/{PROJECT}/desktop-pools");
        let one = format!("/v2/{PROJECT}/desktop-pools/{POOL}");
        let other = format!("/v2/{PROJECT}/desktop-pools/b130ab3a-72bf-4b71-baa9-af4987c8e338");
        let cases: Vec<(&str, &str, &str, &str, i64, Result<(), &str>)> = vec![
            (
                "GET",
                &list,
                "limit=1000&offset=0",
                "d0d079dfff84cb58d25946691662d9ff4f23c840f062cf5bc466aa90ee78de8b",
                0,
                Ok(()),
            ),
            (
                "GET",
                &list,
                "offset=0&limit=1000",
                "d0d079dfff84cb58d25946691662d9ff4f23c840f062cf5bc466aa90ee78de8b",
                0,
                Ok(()),
            ),
            (
                "GET",
                &one,
                "",
                "a4a751b5958929a32a31aedfaf1a3e54df53a98c10df136a94086aa61a5746e4",
                0,
                Ok(()),
            ),
            (
                "DELETE",
                &one,
                "",
                "46186d6e2d6ed63174f1ed0368b481740e11ed863eb1dc513cfc485c6ebf8906",
                0,
                Ok(()),
            ),
            (
                "DELETE",
                &one,
                "",
                "46186d6e2d6ed63174f1ed0368b481740e11ed863eb1dc513cfc485c6ebf8906",
                14 * 60,
                Ok(()),
            ),
            // a signature for GET replayed as DELETE
            (
                "DELETE",
                &one,
                "",
                "a4a751b5958929a32a31aedfaf1a3e54df53a98c10df136a94086aa61a5746e4",
                0,
                Err("verify aksk signature fail"),
            ),
            // changed query
            (
                "GET",
                &list,
                "limit=1000&offset=1000",
                "d0d079dfff84cb58d25946691662d9ff4f23c840f062cf5bc466aa90ee78de8b",
                0,
                Err("verify aksk signature fail"),
            ),
            // another pool
            (
                "DELETE",
                &other,
                "",
                "46186d6e2d6ed63174f1ed0368b481740e11ed863eb1dc513cfc485c6ebf8906",
                0,
                Err("verify aksk signature fail"),
            ),
            // clock off by more than 15 minutes either way
            (
                "GET",
                &one,
                "",
                "a4a751b5958929a32a31aedfaf1a3e54df53a98c10df136a94086aa61a5746e4",
                16 * 60,
                Err("more than 15 minutes"),
            ),
            (
                "GET",
                &one,
                "",
                "a4a751b5958929a32a31aedfaf1a3e54df53a98c10df136a94086aa61a5746e4",
                -16 * 60,
                Err("more than 15 minutes"),
            ),
            (
                "GET",
                &one,
                "",
                "not-hex",
                0,
                Err("verify aksk signature fail"),
            ),
        ];
        for (method, path, raw_query, sig, offset, want) in cases {
            let headers = sdk_headers(sig);
            let req = GateRequest {
                method,
                path,
                raw_query,
                headers: &headers,
                body: b"",
                now: at(offset),
            };
            let got = aksk()
                .check(&req, &[])
                .map(|_| ())
                .map_err(|(status, _, msg)| {
                    assert_eq!(status, 401);
                    msg
                });
            match (got, want) {
                (Ok(()), Ok(())) => {}
                (Err(msg), Err(w)) => {
                    assert!(msg.contains(w), "{method} {path}?{raw_query}: {msg}")
                }
                (got, want) => {
                    panic!("{method} {path}?{raw_query} at {offset}: got {got:?}, want {want:?}")
                }
            }
        }
    }

    #[test]
    fn wrong_keys_and_missing_parts_are_refused() {
        let one = format!("/v2/{PROJECT}/desktop-pools/{POOL}");
        let sig = "a4a751b5958929a32a31aedfaf1a3e54df53a98c10df136a94086aa61a5746e4";
        let check = |auth: &SimAuth, headers: &HeaderMap| {
            auth.check(
                &GateRequest {
                    method: "GET",
                    path: &one,
                    raw_query: "",
                    headers,
                    body: b"",
                    now: at(0),
                },
                &[],
            )
        };
        let wrong_sk = SimAuth::AkSk {
            access_key: "AKEXAMPLE1234567890".into(),
            secret_key: "other".into(),
        };
        assert!(check(&wrong_sk, &sdk_headers(sig))
            .unwrap_err()
            .2
            .contains("signature fail"));
        let wrong_ak = SimAuth::AkSk {
            access_key: "AKOTHER".into(),
            secret_key: "SKEXAMPLEsecret0987654321".into(),
        };
        assert!(check(&wrong_ak, &sdk_headers(sig))
            .unwrap_err()
            .2
            .contains("ak not found"));
        let mut no_date = sdk_headers(sig);
        no_date.remove("x-sdk-date");
        assert_eq!(check(&aksk(), &no_date).unwrap_err().1, "APIGW.0303");
        let mut changed_host = sdk_headers(sig);
        changed_host.insert("host", HeaderValue::from_static("evil.example"));
        assert!(check(&aksk(), &changed_host).is_err());
        let mut no_auth = sdk_headers(sig);
        no_auth.remove("authorization");
        assert!(check(&aksk(), &no_auth)
            .unwrap_err()
            .2
            .contains("Authorization not found"));
        let token = SimAuth::Token("T".into());
        let mut h = HeaderMap::new();
        assert!(check(&token, &h).is_err());
        h.insert("x-auth-token", HeaderValue::from_static("wrong"));
        assert!(check(&token, &h).is_err());
        h.insert("x-auth-token", HeaderValue::from_static("T"));
        assert!(check(&token, &h).is_ok());
        assert!(check(&SimAuth::Open, &HeaderMap::new()).is_ok());
    }
}
