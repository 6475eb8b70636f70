//! Huawei `SDK-HMAC-SHA256` request signing: canonical request, string to sign, signature.
//!
//! Pure functions of their inputs (the date is passed in), shared by the client, which signs,
//! and the simulator, which verifies exactly as the API gateway does.

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// Hex SHA-256 of an empty body.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Everything but `A-Za-z0-9-_.~` is percent-encoded (upper-case hex).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a path segment, query key or query value the way the signer does.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Canonical URI: decode, re-encode each segment, always end with `/`.
pub fn canonical_uri(path: &str) -> String {
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    let mut uri = decoded.split('/').map(encode).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Canonical query from decoded pairs: sorted by key then value, each part encoded, `k=v&...`.
/// The client sends exactly this string as its query.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> =
        pairs.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes a raw query string (as received) into pairs, for verification.
pub fn parse_raw_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let dec = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            (dec(k), dec(v))
        })
        .collect()
}

/// The signed-header list: names without `_`, lower-cased, sorted, de-duplicated.
pub fn signed_header_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = names
        .into_iter()
        .filter(|n| !n.contains('_'))
        .map(|n| n.to_ascii_lowercase())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// One request as the signer sees it.
pub struct SigningInput<'a> {
    pub method: &'a str,
    /// The path as sent (no trailing slash needed).
    pub path: &'a str,
    /// Decoded query pairs.
    pub query: &'a [(String, String)],
    /// `(lower-case name, value)` for each signed header, in signed-header order.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    /// `YYYYMMDDTHHMMSSZ`, the value of `X-Sdk-Date`.
    pub sdk_date: &'a str,
}

/// The canonical request (step 7).
pub fn canonical_request(input: &SigningInput<'_>) -> String {
    let mut out = String::new();
    out.push_str(input.method);
    out.push('\n');
    out.push_str(&canonical_uri(input.path));
    out.push('\n');
    out.push_str(&canonical_query(input.query));
    out.push('\n');
    for (name, value) in input.headers {
        out.push_str(name);
        out.push(':');
        out.push_str(value.trim());
        out.push('\n');
    }
    out.push('\n');
    let names: Vec<&str> = input.headers.iter().map(|(n, _)| n.as_str()).collect();
    out.push_str(&names.join(";"));
    out.push('\n');
    out.push_str(&hex::encode(Sha256::digest(input.body)));
    out
}

/// The string to sign (step 8).
pub fn string_to_sign(input: &SigningInput<'_>) -> String {
    let hashed = hex::encode(Sha256::digest(canonical_request(input).as_bytes()));
    format!("{ALGORITHM}\n{}\n{hashed}", input.sdk_date)
}

fn mac(secret_key: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()).expect("HMAC takes any key length")
}

/// Hex HMAC-SHA256 signature (step 9).
pub fn signature(secret_key: &str, input: &SigningInput<'_>) -> String {
    let mut m = mac(secret_key);
    m.update(string_to_sign(input).as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// Constant-time check of a hex signature.
pub fn verify(secret_key: &str, input: &SigningInput<'_>, signature_hex: &str) -> bool {
    let Ok(given) = hex::decode(signature_hex) else {
        return false;
    };
    let mut m = mac(secret_key);
    m.update(string_to_sign(input).as_bytes());
    m.verify_slice(&given).is_ok()
}

/// The `Authorization` header value.
pub fn authorization(access_key: &str, secret_key: &str, input: &SigningInput<'_>) -> String {
    let names: Vec<&str> = input.headers.iter().map(|(n, _)| n.as_str()).collect();
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={}",
        names.join(";"),
        signature(secret_key, input)
    )
}

/// The parts of an `Authorization` header, as the gateway reads them.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub access_key: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `SDK-HMAC-SHA256 Access=..., SignedHeaders=a;b, Signature=...`.
pub fn parse_authorization(value: &str) -> Option<ParsedAuthorization> {
    let rest = value.strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
    let (mut access, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Access" => access = Some(v.to_owned()),
            "SignedHeaders" => signed = Some(v.split(';').map(str::to_owned).collect()),
            "Signature" => sig = Some(v.to_owned()),
            _ => return None,
        }
    }
    Some(ParsedAuthorization {
        access_key: access?,
        signed_headers: signed?,
        signature: sig?,
    })
}

/// Formats seconds since the Unix epoch as `YYYYMMDDTHHMMSSZ`.
pub fn sdk_date(time: std::time::SystemTime) -> String {
    let rfc = humantime::format_rfc3339_seconds(time).to_string(); // 2026-11-27T12:00:00Z
    rfc.chars().filter(|c| *c != '-' && *c != ':').collect()
}

/// Parses `YYYYMMDDTHHMMSSZ`.
pub fn parse_sdk_date(s: &str) -> Option<std::time::SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits =
        |r: std::ops::Range<usize>| s.get(r).filter(|p| p.bytes().all(|c| c.is_ascii_digit()));
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}Z",
        digits(0..4)?,
        digits(4..6)?,
        digits(6..8)?,
        digits(9..11)?,
        digits(11..13)?,
        digits(13..15)?
    );
    humantime::parse_rfc3339(&rfc).ok()
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    const AK: &str = "AKEXAMPLE1234567890";
    const SK: &str = "SKEXAMPLEsecret0987654321";
    const HOST: &str = "workspace.cn-north-4.myhuaweicloud.com";
    const PROJECT: &str = "0bec5db98280d2d02fd6c00c2de791ce";
    const DATE: &str = "20261127T120000Z";

    fn headers(host: &str) -> Vec<(String, String)> {
        vec![
            ("content-type".into(), "application/json".into()),
            ("host".into(), host.into()),
            ("x-project-id".into(), PROJECT.into()),
            ("x-sdk-date".into(), DATE.into()),
        ]
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reproduces_the_official_sdk_vectors() {
        let pool = "a130ab3a-72bf-4b71-baa9-af4987c8e338";
        let list = format!("/v2/{PROJECT}/desktop-pools");
        let one = format!("/v2/{PROJECT}/desktop-pools/{pool}");
        let paging = pairs(&[("offset", "0"), ("limit", "1000")]);
        let cases: [(&str, &str, &[(String, String)], &str); 3] = [
            (
                "GET",
                &list,
                &paging,
                "d0d079dfff84cb58d25946691662d9ff4f23c840f062cf5bc466aa90ee78de8b",
            ),
            (
                "GET",
                &one,
                &[],
                "a4a751b5958929a32a31aedfaf1a3e54df53a98c10df136a94086aa61a5746e4",
            ),
            (
                "DELETE",
                &one,
                &[],
                "46186d6e2d6ed63174f1ed0368b481740e11ed863eb1dc513cfc485c6ebf8906",
            ),
        ];
        let h = headers(HOST);
        for (method, path, query, want) in cases {
            let input = SigningInput {
                method,
                path,
                query,
                headers: &h,
                body: b"",
                sdk_date: DATE,
            };
            assert_eq!(signature(SK, &input), want, "{method} {path}");
            assert!(verify(SK, &input, want));
            assert!(!verify("wrong", &input, want));
        }
    }

    #[test]
    fn canonical_request_matches_the_published_text() {
        let h = headers(HOST);
        let q = pairs(&[("limit", "1000"), ("offset", "0")]);
        let input = SigningInput {
            method: "GET",
            path: &format!("/v2/{PROJECT}/desktop-pools"),
            query: &q,
            headers: &h,
            body: b"",
            sdk_date: DATE,
        };
        let want = format!(
            "GET\n/v2/{PROJECT}/desktop-pools/\nlimit=1000&offset=0\ncontent-type:application/json\nhost:{HOST}\nx-project-id:{PROJECT}\nx-sdk-date:{DATE}\n\ncontent-type;host;x-project-id;x-sdk-date\n{EMPTY_BODY_SHA256}"
        );
        assert_eq!(canonical_request(&input), want);
        let auth = authorization(AK, SK, &input);
        assert_eq!(
            auth,
            "SDK-HMAC-SHA256 Access=AKEXAMPLE1234567890, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=d0d079dfff84cb58d25946691662d9ff4f23c840f062cf5bc466aa90ee78de8b"
        );
        let parsed = parse_authorization(&auth).unwrap();
        assert_eq!(parsed.access_key, AK);
        assert_eq!(parsed.signed_headers.len(), 4);
    }

    #[test]
    fn query_encoding_table() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("name", "ci pool")], "name=ci%20pool"),
            (&[("name", "a+b")], "name=a%2Bb"),
            (&[("name", "a/b")], "name=a%2Fb"),
            (&[("name", "100%")], "name=100%25"),
            (&[("name", "桌面池")], "name=%E6%A1%8C%E9%9D%A2%E6%B1%A0"),
            (&[("name", "a-b_c.d~e")], "name=a-b_c.d~e"),
            (
                &[("offset", "0"), ("limit", "1000"), ("type", "DYNAMIC")],
                "limit=1000&offset=0&type=DYNAMIC",
            ),
            (
                &[("in_maintenance_mode", "true")],
                "in_maintenance_mode=true",
            ),
            (&[("b", "2"), ("a", "z"), ("a", "y")], "a=y&a=z&b=2"),
            (&[], ""),
        ];
        for (input, want) in cases {
            assert_eq!(canonical_query(&pairs(input)), *want, "{input:?}");
            // what the gateway decodes from the sent string gives the same canonical form
            assert_eq!(canonical_query(&parse_raw_query(want)), *want);
        }
    }

    #[test]
    fn canonical_uri_table() {
        let cases = [
            ("/v2/p/desktop-pools", "/v2/p/desktop-pools/"),
            ("/v2/p/desktop-pools/", "/v2/p/desktop-pools/"),
            ("/", "/"),
            ("/a%20b/c", "/a%20b/c/"),
            ("/a b/ü", "/a%20b/%C3%BC/"),
        ];
        for (path, want) in cases {
            assert_eq!(canonical_uri(path), want, "{path}");
        }
    }

    #[test]
    fn host_with_a_port_is_signed_as_sent() {
        let q = pairs(&[("limit", "1000"), ("offset", "0")]);
        let path = format!("/v2/{PROJECT}/desktop-pools");
        let plain = headers(HOST);
        let ported = headers("127.0.0.1:8443");
        let input = |h| SigningInput {
            method: "GET",
            path: &path,
            query: &q,
            headers: h,
            body: b"",
            sdk_date: DATE,
        };
        assert!(canonical_request(&input(&ported)).contains("\nhost:127.0.0.1:8443\n"));
        assert_ne!(
            signature(SK, &input(&plain)),
            signature(SK, &input(&ported))
        );
    }

    #[test]
    fn signed_headers_skip_underscores_and_sort() {
        assert_eq!(
            signed_header_names(["X-Sdk-Date", "Host", "x_custom", "Content-Type", "host"]),
            ["content-type", "host", "x-sdk-date"]
        );
    }

    #[test]
    fn sdk_dates_round_trip() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_780_800);
        assert_eq!(sdk_date(t), "20261127T120000Z");
        assert_eq!(parse_sdk_date("20261127T120000Z"), Some(t));
        for bad in [
            "",
            "2026-11-27T12:00:00Z",
            "20261127 120000Z",
            "2026112xT120000Z",
            "20261327T120000Z",
        ] {
            assert_eq!(parse_sdk_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn malformed_authorization_headers_are_rejected() {
        for bad in [
            "",
            "Bearer x",
            "SDK-HMAC-SHA256 Access=a",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=h, Signature=s, Extra=1",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
    }
}
