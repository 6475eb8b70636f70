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

/// What a path that is not a regular file is, in words.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_char_device() {
            return "character device";
        }
        if t.is_block_device() {
            return "block device";
        }
        if t.is_socket() {
            return "socket";
        }
    }
    "special file"
}

/// Writes `text` to `path` atomically, with permissions `mode` (see [`write_atomic_with`]).
pub fn write_atomic(path: &Path, text: &str, mode: u32) -> Result<()> {
    write_atomic_with(path, mode, |w| w.write_all(text.as_bytes()))
}

/// Writes what `fill` writes to `path` atomically, with permissions `mode`: an exclusively
/// created, randomly named temporary file in the same folder (nothing planted there can be
/// followed), synced, then renamed over `path`. A `path` that exists and is not a regular file
/// (a device, a FIFO, a folder) is refused. Secrets are redacted on the way.
pub fn write_atomic_with(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            bail!(
                "{} is a {}, not a regular file; refusing to replace it",
                path.display(),
                kind_of(&meta)
            );
        }
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if path.file_name().is_none() {
        bail!("{} is not a file path", path.display());
    }
    let write = move || -> std::io::Result<()> {
        let mut tmp = tempfile::Builder::new()
            .prefix(".poolform-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        {
            let mut out = crate::redact::Redacting::new(std::io::BufWriter::new(tmp.as_file_mut()));
            fill(&mut out)?;
            out.finish()?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_and_utf32_are_named() {
        let cases: [(&[u8], Option<&str>); 7] = [
            (b"version: 1\n", None),
            (&[0xFF, 0xFE, b'v', 0], Some("UTF-16LE (little-endian)")),
            (&[0xFE, 0xFF, 0, b'v'], Some("UTF-16BE (big-endian)")),
            (
                &[0xFF, 0xFE, 0, 0, b'v', 0, 0, 0],
                Some("UTF-32LE (little-endian)"),
            ),
            (&[0, 0, 0xFE, 0xFF], Some("UTF-32BE (big-endian)")),
            (&[b'v', 0, b'e', 0], Some("UTF-16LE (little-endian)")),
            (&[0xEF, 0xBB, 0xBF, b'v'], None),
        ];
        for (bytes, want) in cases {
            assert_eq!(utf16_or_32(bytes), want, "{bytes:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn writes_are_atomic_private_and_never_replace_special_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("plan.json");
        write_atomic(&target, "one", 0o600).unwrap();
        write_atomic(&target, "two", 0o600).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "two");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        let err = write_atomic(dir.path(), "x", 0o600)
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a folder, not a regular file"), "{err}");
        let err = write_atomic(Path::new("/dev/null"), "x", 0o600)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is a character device, not a regular file"),
            "{err}"
        );
    }
}
