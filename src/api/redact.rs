//! Secrets are never printed: every line poolform writes passes through [`redact`], which
//! replaces the credentials in use (access key, secret key, security token, auth token) and any
//! request signature (`Signature=` and 64 hex digits) with `***`, even inside an error body a
//! server echoed back. Files poolform writes are data and are never rewritten: one that would
//! hold a secret in use is refused instead ([`guarded`]).
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

/// Text held back before it is passed on whole lines at a time.
const REDACT_CHUNK: usize = 64 * 1024;

/// What a [`Lines`] writer does with each run of whole lines: passes it on as it is or
/// changed, or refuses it.
type LineFilter = fn(&str) -> std::io::Result<Cow<'_, str>>;

/// A writer that passes whole lines through a filter: text is held back up to the last newline
/// written, and a secret never holds a newline (a header value cannot, and JSON escapes one),
/// so no secret is ever split between two runs.
pub struct Lines<W: Write> {
    inner: W,
    pending: Vec<u8>,
    filter: LineFilter,
}

impl<W: Write> Lines<W> {
    fn pass(&mut self, upto: usize) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(&self.pending[..upto]);
        let passed = (self.filter)(&text)?;
        self.inner.write_all(passed.as_bytes())?;
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

impl<W: Write> Write for Lines<W> {
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

/// A writer that masks secrets in everything written through it, for output too large to
/// build as one string (a plan of 100,000 pools).
pub fn redacting<W: Write>(inner: W) -> Lines<W> {
    Lines {
        inner,
        pending: Vec::new(),
        filter: |text| Ok(redact(text)),
    }
}

/// A writer that fails, rather than write a secret in use into a file: a file is data and is
/// never rewritten, so one that would hold a credential (a hostile server can put one in a
/// pool's name) is not written at all.
pub fn guarded<W: Write>(inner: W) -> Lines<W> {
    Lines {
        inner,
        pending: Vec::new(),
        filter: |text| {
            if holds_secret(text) {
                Err(std::io::Error::other(
                    "it would hold a credential in use (the API put one into a pool's data); refusing to write it",
                ))
            } else {
                Ok(Cow::Borrowed(text))
            }
        },
    }
}

/// The hex digits of an `SDK-HMAC-SHA256` signature.
const SIGNATURE_HEX: usize = 64;

/// `Signature=` followed by a signature's 64 hex digits: the hex is masked. Shorter or longer
/// runs are no signature (a pool may be named `ci Signature=0123abcd`) and stay.
fn mask_signatures(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("Signature=") {
        let (before, after) = rest.split_at(at + "Signature=".len());
        out.push_str(before);
        let hex_len = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex_len == SIGNATURE_HEX {
            out.push_str(MASK);
            rest = &after[hex_len..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Does `text` hold a secret in use?
pub fn holds_secret(text: &str) -> bool {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    secrets.iter().any(|s| text.contains(s.as_str()))
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[test]
    fn secrets_and_signatures_are_masked_wherever_they_appear() {
        let secrets: Vec<String> = ["tok\"en-secret", "AKEXAMPLE1234"]
            .iter()
            .flat_map(|s| forms(s))
            .collect();
        let signed = format!("Signature={}", "0a1bFF9a".repeat(8));
        let too_long = format!("Signature={}0", "a".repeat(64));
        let cases: Vec<(&str, &str)> = vec![
            ("plain text", "plain text"),
            ("X-Auth-Token: tok\"en-secret.", "X-Auth-Token: ***."),
            (r#"{"msg": "tok\"en-secret"}"#, r#"{"msg": "***"}"#),
            (&signed, "Signature=***"),
            (
                "Access=AKEXAMPLE1234, SignedHeaders=host",
                "Access=***, SignedHeaders=host",
            ),
            ("Signature=", "Signature="),
            ("Signature=xyz", "Signature=xyz"),
            ("ci-build Signature=0123abcd", "ci-build Signature=0123abcd"),
            (&too_long, &too_long),
        ];
        for (input, want) in cases {
            assert_eq!(redact_with(&secrets, input), want, "{input}");
        }
        let mut streamed = String::new();
        for i in 0..5_000 {
            streamed.push_str(&format!(
                "line {i} Signature={}\n",
                "0123456789abcdef".repeat(4)
            ));
        }
        assert!(!redact_with(&secrets, &streamed).contains("0123456789"));
    }

    #[test]
    fn a_streamed_secret_is_masked_wherever_the_chunks_fall() {
        register("streamed-secret-value");
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!(
                "line {i}: streamed-secret-value Signature={}\n",
                "abcdef0123456789".repeat(4)
            ));
        }
        for step in [1, 7, 4096, 70_000] {
            let mut w = redacting(Vec::new());
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
    fn a_guarded_file_is_refused_when_it_would_hold_a_secret() {
        register("guarded-secret-value");
        let mut ok = guarded(Vec::new());
        ok.write_all(b"{\"name\": \"ci Signature=0123abcd\"}\n")
            .unwrap();
        assert_eq!(
            ok.finish().unwrap(),
            b"{\"name\": \"ci Signature=0123abcd\"}\n"
        );
        let mut bad = guarded(Vec::new());
        bad.write_all(b"{\"name\": \"x guarded-secret-value\"}\n")
            .unwrap();
        assert!(bad.finish().is_err());
    }

    #[test]
    fn short_values_are_not_registered() {
        register("abc");
        assert_eq!(redact("abc abc"), "abc abc");
        register("a-registered-secret-value");
        assert_eq!(redact("x a-registered-secret-value y"), "x *** y");
    }
}
