//! Releases rehearsed on loopback: a folder served over HTTP (the release downloads, the raw
//! files of a pinned commit), and release archives built from files of this build.

use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The archive install.sh picks on this machine.
pub fn host_target() -> String {
    let os = match std::env::consts::OS {
        "macos" => "apple-darwin",
        _ => "unknown-linux-musl",
    };
    format!("{}-{os}", std::env::consts::ARCH)
}

/// The release archive's name for `version` on this machine.
pub fn archive_name(version: &str) -> String {
    format!("poolform-{version}-{}.tar.gz", host_target())
}

/// The SHA-256 of a file, in hex.
pub fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// Writes the release archive of `version` into `dir`, holding `files` (name, source) in the
/// folder the release workflow names; returns its path and SHA-256.
pub fn build_archive(dir: &Path, version: &str, files: &[(&str, &Path)]) -> (PathBuf, String) {
    let stage_name = format!("poolform-{version}-{}", host_target());
    let stage = dir.join(&stage_name);
    std::fs::create_dir_all(&stage).unwrap();
    for (name, from) in files {
        std::fs::copy(from, stage.join(name)).unwrap();
    }
    let archive = dir.join(archive_name(version));
    let tar = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(dir)
        .arg(&stage_name)
        .status()
        .unwrap();
    assert!(tar.success());
    let sha = sha256_of(&archive);
    (archive, sha)
}

/// A folder served over HTTP on loopback, and the paths asked for.
pub struct Mirror {
    pub url: String,
    pub root: PathBuf,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Mirror {
    pub fn serve(root: PathBuf) -> Mirror {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let asked = Arc::new(Mutex::new(Vec::new()));
        let (files, log) = (root.clone(), asked.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                log.lock().unwrap().push(path.clone());
                let file = files.join(path.trim_start_matches('/'));
                let answer = match std::fs::read(&file) {
                    Ok(body) if !path.contains("..") => {
                        let mut a = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        a.extend_from_slice(&body);
                        a
                    }
                    _ => {
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&answer);
            }
        });
        Mirror { url, root, asked }
    }

    /// The paths asked for so far.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}
