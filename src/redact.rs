//! Secrets are never printed: every line poolform writes passes through [`redact`], which
//! replaces the credentials in use (access key, secret key, security token, auth token) and any
//! request signature with `***`, even inside an error body a server echoed back.
//!
//! The credentials are registered once they are known ([`register`]); the registry is the one
//! piece of global state, so that no print path can forget it.

use std::borrow::Cow;
use std::io::Write;
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

/// A writer that masks secrets in everything written through it, for output too large to
/// build as one string (a plan of 100,000 pools). It redacts whole lines: text is held back
/// up to the last newline written, and a secret never holds a newline (a header value cannot,
/// and JSON escapes one), so no secret is ever split between two redactions.
pub struct Redacting<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

/// Text held back before it is redacted and passed on.
const REDACT_CHUNK: usize = 64 * 1024;

impl<W: Write> Redacting<W> {
    pub fn new(inner: W) -> Self {
        Redacting {
            inner,
            pending: Vec::new(),
        }
    }

    fn pass(&mut self, upto: usize) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(&self.pending[..upto]);
        self.inner.write_all(redact(&text).as_bytes())?;
        self.pending.drain(..upto);
        Ok(())
    }

    /// Passes on what is left and returns the inner writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        let all = self.pending.len();
        self.pass(all)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= REDACT_CHUNK {
            if let Some(newline) = self.pending.iter().rposition(|b| *b == b'\n') {
                self.pass(newline + 1)?;
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
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
    fn a_streamed_secret_is_masked_wherever_the_chunks_fall() {
        register("streamed-secret-value");
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!(
                "line {i}: streamed-secret-value Signature=abcdef0123\n"
            ));
        }
        for step in [1, 7, 4096, 70_000] {
            let mut w = Redacting::new(Vec::new());
            for chunk in text.as_bytes().chunks(step) {
                w.write_all(chunk).unwrap();
            }
            let out = String::from_utf8(w.finish().unwrap()).unwrap();
            assert!(
                !out.contains("streamed-secret") && !out.contains("abcdef"),
                "step {step}"
            );
            assert_eq!(out.lines().count(), 20_000);
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
