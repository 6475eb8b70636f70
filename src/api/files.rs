//! Files poolform reads (the config, a plan file, the shared config file): regular files only,
//! opened without blocking and read through a size cap. A FIFO, a device, a socket or a folder
//! is refused at once, before anything is read.

use std::io::Read;
use std::path::Path;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{name} is a {kind}, not a regular file; poolform reads only regular files (or `-` for standard input)")]
    NotRegular { name: String, kind: &'static str },
    #[error("{name}:1:1: the file is larger than {limit} bytes")]
    TooLarge { name: String, limit: u64 },
    #[error("cannot read {name}")]
    Io {
        name: String,
        source: std::io::Error,
    },
    #[error("interrupted ({signal}) while reading {name}; nothing was sent")]
    Interrupted { name: String, signal: &'static str },
}

impl ReadError {
    /// The file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Opens `path` for reading if, and only if, it is a regular file: a FIFO, a device, a socket
/// or a folder is refused at once, without opening it (opening a FIFO would wait for a writer).
/// The file is opened without blocking and checked again once open, so that nothing swapped in
/// between is read.
fn open_regular(path: &Path, name: &str) -> Result<std::fs::File, ReadError> {
    let io = |source| ReadError::Io {
        name: name.to_owned(),
        source,
    };
    let not_regular = |meta: &std::fs::Metadata| ReadError::NotRegular {
        name: name.to_owned(),
        kind: kind_of(meta),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    Ok(file)
}

/// Reads from `reader` at most `limit` bytes; more is an error.
pub fn read_capped(reader: impl Read, limit: u64, name: &str) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            name: name.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            name: name.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

/// A regular file opened for reading, through a cap of `limit` bytes (a read past it errs).
pub fn open_capped(path: &Path, limit: u64) -> Result<impl Read, ReadError> {
    let name = path.display().to_string();
    let file = open_regular(path, &name)?;
    Ok(file.take(limit))
}

/// The bytes of a regular file of at most `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let name = path.display().to_string();
    read_capped(open_regular(path, &name)?, limit, &name)
}

/// What a path that is not a regular file is, in words.
pub fn kind_of(meta: &std::fs::Metadata) -> &'static str {
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

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read_and_never_past_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let cases: [(&Path, &str); 3] = [
            (&fifo, "is a FIFO, not a regular file"),
            (
                Path::new("/dev/zero"),
                "is a character device, not a regular file",
            ),
            (dir.path(), "is a folder, not a regular file"),
        ];
        for (path, want) in cases {
            let err = read_regular(path, 1024).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 2048]).unwrap();
        let err = read_regular(&big, 1024).unwrap_err().to_string();
        assert!(err.contains("larger than 1024 bytes"), "{err}");
        assert_eq!(read_regular(&big, 4096).unwrap().len(), 2048);
    }
}
