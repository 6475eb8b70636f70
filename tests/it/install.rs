//! The install script (`install.sh`) and action (`action.yml`), run against a loopback HTTP
//! server that serves release archives built from this build's binaries: a good archive
//! installs and runs; a tampered one, a missing one, an unknown platform, an unknown release
//! and a plain-HTTP mirror elsewhere are refused with a clear error, and nothing is installed.

use crate::harness::release::{build_archive, host_target, Mirror};
use crate::harness::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const VERSION: &str = "v9.9.9";

/// A release of this build's binaries: the mirror serving its archive, and a checksums
/// folder as the repository holds it.
struct Release {
    dir: tempfile::TempDir,
    mirror: Mirror,
}

/// The archive of this build's binaries, made once for every test (tar and gzip of two debug
/// binaries take a second): its path and SHA-256.
fn built_archive() -> &'static (tempfile::TempDir, PathBuf, String) {
    static BUILT: std::sync::OnceLock<(tempfile::TempDir, PathBuf, String)> =
        std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (poolform, sim, readme) = (
            sim_binary().with_file_name("poolform"),
            sim_binary(),
            repo_file("README.md"),
        );
        let files = [
            ("poolform", poolform.as_path()),
            ("workspace-sim", sim.as_path()),
            ("README.md", readme.as_path()),
        ];
        let (archive, sha) = build_archive(dir.path(), VERSION, &files);
        (dir, archive, sha)
    })
}

/// This release's archive name on this machine.
fn archive_name() -> String {
    crate::harness::release::archive_name(VERSION)
}

impl Release {
    fn new() -> Release {
        let dir = tempfile::tempdir().unwrap();
        let (_, built, sha) = built_archive();
        let releases = dir.path().join("releases").join(VERSION);
        std::fs::create_dir_all(&releases).unwrap();
        std::fs::copy(built, releases.join(archive_name())).unwrap();
        let sums = dir.path().join("checksums");
        std::fs::create_dir_all(&sums).unwrap();
        std::fs::write(
            sums.join(format!("{VERSION}.sha256")),
            format!(
                "{}  poolform-{VERSION}-aarch64-apple-darwin.tar.gz\n{sha}  {}\n",
                "0".repeat(64),
                archive_name()
            ),
        )
        .unwrap();
        let mirror = Mirror::serve(dir.path().join("releases"));
        Release { dir, mirror }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn archive(&self) -> PathBuf {
        self.mirror.root.join(VERSION).join(archive_name())
    }

    /// `sh install.sh` with `env` (and the release's mirror and checksums); exit code, what
    /// it printed, and how long it took.
    fn install(&self, env: &[(&str, &str)]) -> (i32, String, Duration) {
        let mut cmd = std::process::Command::new("sh");
        cmd.arg(repo_file("install.sh"))
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", self.dir.path())
            .env("POOLFORM_VERSION", VERSION)
            .env("POOLFORM_RELEASES_URL", &self.mirror.url)
            .env("POOLFORM_CHECKSUMS_DIR", self.path("checksums"))
            .env("POOLFORM_INSTALL_DIR", self.path("bin"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let out = cmd.output().unwrap();
        let took = started.elapsed();
        (
            out.status.code().unwrap_or(-1),
            format!("{}{}", stdout_of(&out), stderr_of(&out)),
            took,
        )
    }

    fn installed(&self) -> bool {
        self.path("bin").join("poolform").exists()
    }
}

#[test]
fn a_good_archive_installs_runs_and_is_put_on_the_path() {
    let r = Release::new();
    let (github_path, github_output) = (r.path("github-path"), r.path("github-output"));
    let (code, log, _) = r.install(&[
        ("GITHUB_PATH", github_path.to_str().unwrap()),
        ("GITHUB_OUTPUT", github_output.to_str().unwrap()),
    ]);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains(&format!("Installed poolform {}", env!("CARGO_PKG_VERSION"))),
        "{log}"
    );
    let out = std::process::Command::new(r.path("bin").join("poolform"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        r.path("bin").join("workspace-sim").exists(),
        "the simulator too"
    );
    let bin = r.path("bin").display().to_string();
    assert_eq!(
        std::fs::read_to_string(github_path).unwrap(),
        format!("{bin}\n")
    );
    assert_eq!(
        std::fs::read_to_string(github_output).unwrap(),
        format!("version={VERSION}\npath={bin}/poolform\n")
    );
    assert_eq!(r.mirror.asked(), [format!("/{VERSION}/{}", archive_name())]);
}

#[test]
fn a_cached_archive_is_verified_again_and_reused_without_a_download() {
    let r = Release::new();
    let cache = r.path("cache");
    let cache_env = [("POOLFORM_CACHE_DIR", cache.to_str().unwrap())];
    let (code, log, cold) = r.install(&cache_env);
    assert_eq!(code, 0, "{log}");
    assert_eq!(r.mirror.asked().len(), 1);
    std::fs::remove_dir_all(r.path("bin")).unwrap();
    let (code, log, warm) = r.install(&cache_env);
    assert_eq!(code, 0, "{log}");
    assert_eq!(r.mirror.asked().len(), 1, "no download from a warm cache");
    assert!(r.installed());
    println!(
        "install.sh from the loopback mirror: cold cache {:.0} ms, warm cache {:.0} ms",
        cold.as_secs_f64() * 1000.0,
        warm.as_secs_f64() * 1000.0
    );
    assert!(
        cold < Duration::from_secs(60) && warm < Duration::from_secs(60),
        "does not hang"
    );
    // a cached archive that was altered is thrown away and downloaded again
    let cached = cache.join(archive_name());
    std::fs::write(&cached, b"not the archive").unwrap();
    let (code, log, _) = r.install(&cache_env);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("does not match its checksum; downloading it again"),
        "{log}"
    );
    assert_eq!(r.mirror.asked().len(), 2);
}

#[test]
fn a_tampered_archive_is_refused_and_nothing_is_installed() {
    let r = Release::new();
    let mut bytes = std::fs::read(r.archive()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(r.archive(), bytes).unwrap();
    let (code, log, _) = r.install(&[]);
    assert_eq!(code, 1, "{log}");
    assert!(
        log.contains(&format!(
            "{} from {}/{VERSION}/{}",
            archive_name(),
            r.mirror.url,
            archive_name()
        )) && log.contains("refusing to install it"),
        "{log}"
    );
    assert!(!r.installed());
}

#[test]
fn a_missing_archive_an_unknown_release_and_an_unknown_platform_are_refused() {
    let r = Release::new();
    std::fs::remove_file(r.archive()).unwrap();
    let (code, log, _) = r.install(&[]);
    assert_eq!(code, 1, "{log}");
    assert!(
        log.contains("could not download") && log.contains(&host_target()),
        "{log}"
    );
    assert!(!r.installed());
    // a release the committed checksums do not know: refused before any download
    let before = r.mirror.asked().len();
    let (code, log, _) = r.install(&[("POOLFORM_VERSION", "v9.9.8")]);
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("no checksums for v9.9.8"), "{log}");
    assert_eq!(r.mirror.asked().len(), before);
    // a platform no release is built for
    let fake = r.path("fake-bin");
    std::fs::create_dir_all(&fake).unwrap();
    let uname = fake.join("uname");
    std::fs::write(
        &uname,
        "#!/bin/sh\ncase \"$1\" in -s) echo SunOS;; -m) echo sparc64;; esac\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&uname, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", fake.display());
    let (code, log, _) = r.install(&[("PATH", &path)]);
    assert_eq!(code, 1, "{log}");
    assert!(
        log.contains("no poolform release is built for SunOS on sparc64"),
        "{log}"
    );
    assert_eq!(r.mirror.asked().len(), before);
    assert!(!r.installed());
}

#[test]
fn versions_that_are_not_tags_and_plain_http_elsewhere_are_refused_before_any_download() {
    let r = Release::new();
    for (env, want) in [
        (
            ("POOLFORM_VERSION", "v1.0.0/../../x"),
            "holds characters a release tag never does",
        ),
        (
            ("POOLFORM_VERSION", "latest"),
            "is not a release tag such as v0.2.0",
        ),
        (("POOLFORM_VERSION", ""), "POOLFORM_VERSION is not set"),
        (
            (
                "POOLFORM_RELEASES_URL",
                "http://mirror.example.com/releases",
            ),
            "refusing to download over plain HTTP",
        ),
    ] {
        let (code, log, _) = r.install(&[env]);
        assert_eq!(code, 1, "{env:?}: {log}");
        assert!(log.contains(want), "{env:?}: {log}");
    }
    assert!(r.mirror.asked().is_empty());
    assert!(!r.installed());
}

/// The action's one step, run as the runner would: its `env:` with the inputs substituted,
/// its `run:` in bash, `GITHUB_ACTION_PATH` a checkout of the action holding the release's
/// checksums.
#[test]
fn the_action_installs_through_the_script_with_inputs_only_in_env() {
    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(repo_file("action.yml")).unwrap()).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("tests/it/vendor/github-action.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let document = serde_json::to_value(&action).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(action["runs"]["using"], "composite");
    let step = &action["runs"]["steps"][0];
    let run = step["run"].as_str().unwrap();
    assert!(!run.contains("${{"), "an expression inside run: {run}");
    let r = Release::new();
    let checkout = r.path("action");
    std::fs::create_dir_all(&checkout).unwrap();
    std::fs::copy(repo_file("install.sh"), checkout.join("install.sh")).unwrap();
    copy_dir(&r.path("checksums"), &checkout.join("checksums"));
    let output = r.path("github-output");
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-ec")
        .arg(run)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", r.dir.path())
        .env("GITHUB_ACTION_PATH", &checkout)
        .env("GITHUB_OUTPUT", &output)
        .env("POOLFORM_RELEASES_URL", &r.mirror.url);
    let inputs = [
        ("inputs.version", VERSION.to_owned()),
        ("inputs.install-dir", r.path("bin").display().to_string()),
        ("inputs.cache-dir", String::new()),
        ("github.action_path", checkout.display().to_string()),
        ("github.action_repository", "YOUR-ORG/poolform".to_owned()),
    ];
    for (k, v) in step["env"].as_mapping().unwrap() {
        let v = v.as_str().unwrap();
        let value = inputs.iter().fold(v.to_owned(), |acc, (expr, value)| {
            acc.replace(&format!("${{{{ {expr} }}}}"), value)
        });
        assert!(
            !value.contains("${{"),
            "{k:?}: the test does not know {value}"
        );
        cmd.env(k.as_str().unwrap(), value);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    let outputs = std::fs::read_to_string(&output).unwrap();
    assert!(
        outputs.contains(&format!("version={VERSION}\n")),
        "{outputs}"
    );
    for (name, _) in action["outputs"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        assert!(
            outputs.contains(&format!("{name}=")),
            "output {name} is set: {outputs}"
        );
    }
    assert!(r.installed());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}
