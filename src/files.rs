//! Reading the files poolform is given (bounded in size, UTF-8 only) and writing the ones it
//! makes (atomically).

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::path::Path;

/// A file read whole: how to name it in messages, its text, and the SHA-256 of its bytes.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub text: String,
    pub sha256: String,
}

/// Reads a file, or standard input for `-`, refusing anything larger than `limit` bytes or
/// not UTF-8.
pub fn read_input(path: &Path, limit: u64) -> Result<Input> {
    let stdin = path == Path::new("-");
    let name = if stdin {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    };
    let mut bytes = Vec::new();
    let read = if stdin {
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
    };
    read.with_context(|| format!("cannot read {name}"))?;
    if bytes.len() as u64 > limit {
        bail!("{name}:1:1: the file is larger than {limit} bytes");
    }
    let sha256 = crate::plan::config_sha256(&bytes);
    if let Some(encoding) = utf16_or_32(&bytes) {
        bail!(
            "{name}:1:1: the file is {encoding} text; poolform reads UTF-8 only (convert it, e.g. `iconv -f {} -t UTF-8`)",
            encoding.split(' ').next().unwrap_or(encoding)
        );
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        anyhow::anyhow!(
            "{name}:1:1: the file is not UTF-8 text (invalid byte at offset {at}); is it binary?"
        )
    })?;
    Ok(Input { name, text, sha256 })
}

/// The encoding of a file that is UTF-16 or UTF-32, by its byte order mark or, without one,
/// by the zero bytes ASCII text has in those encodings.
fn utf16_or_32(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => Some("UTF-32LE (little-endian)"),
        [0, 0, 0xFE, 0xFF, ..] => Some("UTF-32BE (big-endian)"),
        [0xFF, 0xFE, ..] => Some("UTF-16LE (little-endian)"),
        [0xFE, 0xFF, ..] => Some("UTF-16BE (big-endian)"),
        [a, 0, 0, 0, ..] if *a != 0 => Some("UTF-32LE (little-endian)"),
        [0, 0, 0, a, ..] if *a != 0 => Some("UTF-32BE (big-endian)"),
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 => Some("UTF-16LE (little-endian)"),
        [0, a, 0, b, ..] if *a != 0 && *b != 0 => Some("UTF-16BE (big-endian)"),
        _ => None,
    }
}

/// Writes `text` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}
