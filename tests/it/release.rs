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

/// Every `uses:` line of a workflow: the action and what follows `@`.
fn uses_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|l| {
            l.strip_prefix("- uses: ")
                .or_else(|| l.strip_prefix("uses: "))
        })
        .map(str::to_owned)
        .collect()
}

/// Third-party actions are pinned by the commit SHA of a released tag, named in a comment;
/// poolform's own action (a placeholder of the examples) is the only other `uses:`.
pub fn assert_pinned(file: &str, text: &str) {
    for line in uses_lines(text) {
        let (action, rest) = line
            .split_once('@')
            .unwrap_or_else(|| panic!("{file}: {line}"));
        if action.starts_with("YOUR-ORG/poolform") {
            continue;
        }
        let (sha, comment) = rest.split_once(" # ").unwrap_or((rest, ""));
        assert!(
            sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "{file}: {action} is not pinned by a commit SHA: {line}"
        );
        assert!(
            comment.trim().starts_with('v') && comment.contains('.'),
            "{file}: {action}@{sha} names no released tag in a comment: {line}"
        );
    }
}

#[test]
fn the_release_workflow_builds_every_platform_the_installer_knows_and_pins_its_actions() {
    let text = std::fs::read_to_string(repo_file(".github/workflows/release.yml")).unwrap();
    let workflow: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let document = serde_json::to_value(&workflow).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("tests/it/vendor/github-workflows.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_pinned("release.yml", &text);
    assert_eq!(workflow["on"]["push"]["tags"][0], "v*");
    let jobs = workflow["jobs"].as_mapping().unwrap();
    for (name, job) in jobs {
        assert!(
            job["timeout-minutes"].as_u64().is_some(),
            "job {name:?} has no timeout-minutes"
        );
    }
    // the platforms built are those install.sh maps a machine to
    let targets: Vec<&str> = workflow["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|m| m["target"].as_str().unwrap())
        .collect();
    let install = std::fs::read_to_string(repo_file("install.sh")).unwrap();
    for target in &targets {
        let arch = target.split('-').next().unwrap();
        let rest = &target[arch.len()..];
        assert!(
            install.contains(&format!("$arch{rest}")) || install.contains(target),
            "install.sh never picks {target}"
        );
    }
    for expected in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(
            targets.contains(&expected),
            "{expected} is not built: {targets:?}"
        );
    }
    // one name for an archive: the workflow's, the installer's and cargo-binstall's
    assert!(text.contains("name=\"poolform-$VERSION-$TARGET\""));
    assert!(install.contains("archive=poolform-$version-$target.$kind"));
    let manifest = std::fs::read_to_string(repo_file("Cargo.toml")).unwrap();
    assert!(manifest.contains(
        "pkg-url = \"{ repo }/releases/download/v{ version }/{ name }-v{ version }-{ target }{ archive-suffix }\""
    ));
    assert!(
        manifest.contains("bin-dir = \"{ name }-v{ version }-{ target }/{ bin }{ binary-ext }\"")
    );
    // the release attests its archives and proposes their checksums for the install action
    assert!(text.contains("actions/attest-build-provenance@"));
    assert!(text.contains("sha256sum poolform-* > SHA256SUMS"));
    assert!(text.contains("cp sums/SHA256SUMS \"checksums/$TAG.sha256\""));
    assert!(repo_file("checksums/README.md").is_file());
}
