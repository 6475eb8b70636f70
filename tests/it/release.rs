//! What a release promises: the Rust version the crates say they need is true.

use crate::harness::repo_file;

/// `1.88` as `(1, 88, 0)`.
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

#[test]
fn the_rust_version_is_at_least_every_locked_dependencys() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(repo_file(""))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let ours = ["poolform", "workspace-sim"];
    let needed = packages
        .iter()
        .filter(|p| !ours.contains(&p["name"].as_str().unwrap_or_default()))
        .filter_map(|p| Some((p["rust_version"].as_str()?, p["name"].as_str()?)))
        .max_by_key(|(v, _)| version(v))
        .unwrap();
    for name in ours {
        let package = packages.iter().find(|p| p["name"] == name).unwrap();
        let said = package["rust_version"].as_str().unwrap_or("(none)");
        assert!(
            version(said) >= version(needed.0),
            "{name} says rust-version {said}, but the locked {} needs {}",
            needed.1,
            needed.0
        );
    }
    // and the README says the same
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let said = packages.iter().find(|p| p["name"] == "poolform").unwrap()["rust_version"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        readme.contains(&format!("Rust {said} or later")),
        "the README names another Rust version than {said}"
    );
}
