//! Secrets are never printed: every line poolform writes passes through [`redact`], which
//! replaces the credentials in use (access key, secret key, security token, auth token) and any
//! request signature with `***`, even inside an error body a server echoed back.
//!
//! The credentials are registered once they are known ([`register`]); the registry is the one
//! piece of global state, so that no print path can forget it.

use std::borrow::Cow;
use std::sync::RwLock;

/// What replaces a secret.
pub const MASK: &str = "***";
/// Shorter values are not credentials Huawei issues; masking them would garble every message.
const MIN_SECRET_LEN: usize = 6;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds `secret` to what is masked from now on.
pub fn register(secret: &str) {
    if secret.chars().count() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for form in forms(secret) {
        if !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    // Longest first, so that a secret containing another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// The ways a secret can appear in output: as itself and as it reads inside a JSON string.
fn forms(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_owned()];
    if let Ok(json) = serde_json::to_string(secret) {
        let inner = json[1..json.len() - 1].to_owned();
        if inner != secret {
            out.push(inner);
        }
    }
    out
}

/// `text` with every registered secret and every `Signature=<hex>` masked.
pub fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    redact_with(&secrets, text)
}

/// [`redact`] with the secrets given.
pub fn redact_with<'a>(secrets: &[String], text: &'a str) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), MASK));
        }
    }
    if out.contains("Signature=") {
        out = Cow::Owned(mask_signatures(&out));
    }
    out
}

/// `Signature=` followed by hex digits: the hex is masked.
fn mask_signatures(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("Signature=") {
        let (before, after) = rest.split_at(at + "Signature=".len());
        out.push_str(before);
        let hex_len = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex_len > 0 {
            out.push_str(MASK);
        }
        rest = &after[hex_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_signatures_are_masked_wherever_they_appear() {
        let secrets: Vec<String> = ["tok\"en-secret", "AKEXAMPLE1234"]
            .iter()
            .flat_map(|s| forms(s))
            .collect();
        let cases = [
            ("plain text", "plain text"),
            ("X-Auth-Token: tok\"en-secret.", "X-Auth-Token: ***."),
            (r#"{"msg": "tok\"en-secret"}"#, r#"{"msg": "***"}"#),
            (
                "Access=AKEXAMPLE1234, SignedHeaders=host, Signature=0a1bFF9",
                "Access=***, SignedHeaders=host, Signature=***",
            ),
            ("Signature=", "Signature="),
            ("Signature=xyz", "Signature=xyz"),
        ];
        for (input, want) in cases {
            assert_eq!(redact_with(&secrets, input), want, "{input}");
        }
    }

    #[test]
    fn short_values_are_not_registered() {
        register("abc");
        assert_eq!(redact("abc abc"), "abc abc");
        register("a-registered-secret-value");
        assert_eq!(redact("x a-registered-secret-value y"), "x *** y");
    }
}
