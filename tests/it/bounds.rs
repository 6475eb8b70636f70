//! Hostile input, through the binaries: each finding of the hostile-input review reproduced as
//! an attacker would send it (YAML bombs, control characters in names and messages, planted
//! files, flooded pages, a huge plan file, CI signals, closed pipes, absurd durations), with
//! the bounded, clean outcome asserted: exit code, message, no ESC byte in the output, the
//! victim file intact, the memory bound (the child's peak RSS from `wait4`), signal exit codes
//! with the report printed, and which DELETEs reached the simulator.

use crate::harness::measure::{run_measured_within, Measured};
use crate::harness::*;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use workspace_sim::{Faults, Flood, SimServer};

/// A guard against a hang only: every bounded run here ends in well under a second in a
/// release build (the benchmarks measure that).
const HANG: Duration = Duration::from_secs(60);

/// Memory tests run one at a time, so that the RSS this process has when it forks a child
/// (which the child's figure starts from) is not another test's.
static MEMORY: Mutex<()> = Mutex::new(());

fn memory_lock() -> std::sync::MutexGuard<'static, ()> {
    MEMORY.lock().unwrap_or_else(|e| e.into_inner())
}

/// The poolform binary as a plain command: clean environment, the token and project set,
/// `--endpoint` at `url` (when given).
fn poolform_cmd(url: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("poolform"));
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT);
    match (url, args.split_first()) {
        (Some(url), Some((command, rest))) if ["plan", "apply", "import"].contains(command) => {
            cmd.arg(command).arg("--endpoint").arg(url).args(rest);
        }
        _ => {
            cmd.args(args);
        }
    }
    cmd
}

/// Runs poolform to its end, measured, within the hang guard.
fn measured(url: Option<&str>, args: &[&str]) -> Measured {
    let m = run_measured_within(&mut poolform_cmd(url, args), HANG);
    eprintln!(
        "poolform {args:?}: exit {:?}, peak {:.0} MiB (this process: {:.0} MiB at the fork), {:.0?}",
        m.code, m.peak_rss_mib, m.parent_rss_mib, m.wall
    );
    assert!(
        !m.timed_out,
        "poolform {args:?} hung: killed after {HANG:?}\nstderr: {}",
        String::from_utf8_lossy(&m.stderr)
    );
    m
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------------------------
// YAML

/// Writes `body` as `pools.yaml` in `dir`.
fn yaml_file(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, body).unwrap();
    path
}

#[test]
fn yaml_bombs_are_refused_with_a_position_in_bounded_memory_and_send_nothing() {
    let _one_at_a_time = memory_lock();
    let sim = spawn(config(example_fixture()));
    let dir = tempfile::tempdir().unwrap();
    let mib = "x".repeat(1024 * 1024);
    let mut aliases = format!("big: &a \"{mib}\"\nmany:\n");
    for _ in 0..150_000 {
        aliases.push_str("  - *a\n");
    }
    aliases.push_str("version: 1\npools: []\n");
    // 150,000 values nested 500,000 deep in flow style: a 1 MB file.
    let deep_flow = format!("{}{}", "[".repeat(500_000), "]".repeat(500_000));
    // 3,000 levels of block mappings, each indented one further (4.5 MB).
    let mut deep_block = String::new();
    for level in 0..3_000usize {
        deep_block.push_str(&" ".repeat(level));
        deep_block.push_str("a:\n");
    }
    // Just under the 8 MiB size cap: four million tiny values.
    let mut wide = String::from("version: 1\npools: []\njunk: [");
    while wide.len() < 8 * 1024 * 1024 - 16 {
        wide.push_str("0,");
    }
    wide.push_str("0]\n");
    // A recursive alias in front of 500,000 levels: the guard cannot price it, so it refuses
    // it there (found by the YAML generator in tests/generated.rs).
    let recursive = format!(
        "version: &a [*a]\ndeep: {}{}\n",
        "[".repeat(500_000),
        "]".repeat(500_000)
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "a recursive alias before 500,000 levels",
            recursive,
            ":1:14: alias *a is inside the node &a it refers to",
        ),
        (
            "150,000 aliases of a 1 MiB scalar",
            aliases,
            ":18:5: aliases here stand for more than 16 MiB of YAML in all",
        ),
        (
            "500,000 levels of flow nesting",
            deep_flow,
            ":1:65: the YAML is nested more than 64 levels deep",
        ),
        (
            "3,000 levels of block nesting",
            deep_block,
            ":65:65: the YAML is nested more than 64 levels deep",
        ),
        (
            "four million values in 8 MiB",
            wide,
            "the YAML holds more than 500000 values",
        ),
    ];
    let mut failures = Vec::new();
    for (what, body, want) in cases {
        let file = yaml_file(dir.path(), "pools.yaml", body.as_bytes());
        drop(body);
        let file = file.display().to_string();
        for command in ["plan", "validate"] {
            let m = measured(Some(&sim.url()), &[command, "-f", &file]);
            let stderr = text(&m.stderr);
            let ok = m.code == Some(1)
                && stderr.contains(&format!("error: {file}:"))
                && stderr.contains(want)
                && m.peak_rss_mib <= 200.0;
            if !ok {
                failures.push(format!(
                    "{what} ({command}): exit {:?}, {:.0} MiB (bound 200; this process had {:.0} MiB at the fork), {:.0?}, stderr {stderr:?}, want {want:?}",
                    m.code, m.peak_rss_mib, m.parent_rss_mib, m.wall
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(sim.api_requests(), 0, "a refused config makes no call");
}

#[test]
fn a_bom_is_accepted_utf16_and_tags_are_named_at_their_position() {
    let sim = spawn(config(example_fixture()));
    let dir = tempfile::tempdir().unwrap();
    let yaml = fs::read_to_string(repo_file("examples/pools.yaml")).unwrap();
    // A UTF-8 BOM (as Windows editors save): the file plans exactly as without it.
    let with_bom = yaml_file(dir.path(), "bom.yaml", format!("\u{feff}{yaml}").as_bytes());
    let plain = poolform(&sim)
        .args(["plan", "-f"])
        .arg(repo_file("examples/pools.yaml"))
        .output()
        .unwrap();
    let bom = poolform(&sim)
        .args(["plan", "-f"])
        .arg(&with_bom)
        .output()
        .unwrap();
    assert_eq!(
        bom.status.code(),
        plain.status.code(),
        "{}",
        stderr_of(&bom)
    );
    assert!(
        stdout_of(&bom).contains("Plan: 3 to delete"),
        "{}",
        stdout_of(&bom)
    );
    // UTF-16 (both byte orders, with their BOM) and UTF-32: named, nothing planned.
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(yaml.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let utf16be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain(yaml.encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    let utf32le: Vec<u8> = [0xFF, 0xFE, 0, 0]
        .into_iter()
        .chain(yaml.chars().flat_map(|c| (c as u32).to_le_bytes()))
        .collect();
    let before = sim.api_requests();
    for (name, bytes, want) in [
        ("utf16le.yaml", utf16le, "is UTF-16LE (little-endian) text"),
        ("utf16be.yaml", utf16be, "is UTF-16BE (big-endian) text"),
        ("utf32le.yaml", utf32le, "is UTF-32LE (little-endian) text"),
    ] {
        let file = yaml_file(dir.path(), name, &bytes);
        let out = poolform(&sim)
            .args(["plan", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = stderr_of(&out);
        assert!(stderr.contains(want), "{name}: {stderr}");
        assert!(
            stderr.contains("poolform reads UTF-8 only"),
            "{name}: {stderr}"
        );
    }
    // Explicit tags are errors at their position, whether YAML's own or custom.
    for (body, want) in [
        (
            "version: 1\nscope: {name_prefix: !!binary Y2ktCg==}\npools: []\n",
            ":2:22: explicit YAML tags are not allowed (found !!binary)",
        ),
        (
            "version: 1\npools:\n  - id: !custom x\n",
            ":3:9: explicit YAML tags are not allowed (found !custom)",
        ),
        (
            "version: 1\npools: !!seq []\n",
            ":2:8: explicit YAML tags are not allowed (found !!seq)",
        ),
    ] {
        let file = yaml_file(dir.path(), "tagged.yaml", body.as_bytes());
        let out = poolform(&sim)
            .args(["plan", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{body}");
        assert!(
            stderr_of(&out).contains(want),
            "{body}: {}",
            stderr_of(&out)
        );
    }
    assert_eq!(sim.api_requests(), before, "no call for a refused file");
    assert_eq!(sim.delete_requests(), 0);
}

// ---------------------------------------------------------------------------------------
// Escaped output

/// A name that, printed raw, erased its own row and faked a clean plan.
const FAKE_ROW: &str =
    "ci-evil\u{1b}[2K\r\n\nNo changes. Live pools match pools.yaml.\nPlan: 0 to delete\u{1b}[8m";

/// Pools with hostile names, in scope (`ci-`) so that they are planned for deletion; one
/// holds desktops (their names are built from the pool's).
fn hostile_sim() -> SimServer {
    spawn(config(fixture(json!([
        {"id": "e0000000-0000-4000-8000-000000000001", "name": FAKE_ROW},
        {"id": "e0000000-0000-4000-8000-000000000002", "name": "ci-rtl\u{202e}gpj.exe\u{2066}x\u{2069}"},
        {"id": "e0000000-0000-4000-8000-000000000003", "name": "ci-c1\u{9b}31m\u{7f}\ttab\u{0}", "desktop_count": 2, "desktop_used": 1},
        {"id": "e0000000-0000-4000-8000-000000000004", "name": "ci-md|<script>alert(1)</script>|`x`\n| fake | row |"},
        {"id": "e0000000-0000-4000-8000-000000000005", "name": "keep-me"},
    ]))))
}

fn hostile_scope(dir: &Path) -> PathBuf {
    yaml_file(
        dir,
        "pools.yaml",
        b"version: 1\nscope: {name_prefix: ci-}\npools: []\n",
    )
}

/// The characters no output may carry raw: C0 (but newline), DEL, C1 and the bidi controls.
fn raw_controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| {
            (c.is_control() && *c != '\n')
                || ('\u{202a}'..='\u{202e}').contains(c)
                || ('\u{2066}'..='\u{2069}').contains(c)
        })
        .collect()
}

#[test]
fn hostile_names_cannot_fake_rows_or_hide_output_in_any_format() {
    let sim = hostile_sim();
    let dir = tempfile::tempdir().unwrap();
    let scope = hostile_scope(dir.path());
    // Human plan: every control escaped visibly, the fake "No changes." never at a line start.
    let out = poolform(&sim)
        .args(["-v", "plan", "-f"])
        .arg(&scope)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
    for (what, s) in [("stdout", &stdout), ("stderr (-v)", &stderr)] {
        assert_eq!(raw_controls(s), Vec::<char>::new(), "{what}: {s}");
    }
    assert!(
        stdout.contains(r"ci-evil\x1b[2K\r\n\nNo changes. Live pools match pools.yaml.\nPlan: 0 to delete\x1b[8m"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r"ci-rtl\u{202e}gpj.exe\u{2066}x\u{2069}"),
        "{stdout}"
    );
    assert!(stdout.contains(r"ci-c1\x9b31m\x7f\ttab\x00"), "{stdout}");
    assert!(
        !stdout
            .lines()
            .any(|l| l.starts_with("No changes") || l.starts_with("Plan: 0")),
        "{stdout}"
    );
    assert!(stdout.contains("Plan: 4 to delete"), "{stdout}");
    // Markdown (a PR comment): one row per pool, no HTML, no broken cells.
    let out = poolform(&sim)
        .args(["plan", "--format", "markdown", "-f"])
        .arg(&scope)
        .output()
        .unwrap();
    let md = stdout_of(&out);
    assert_eq!(raw_controls(&md), Vec::<char>::new(), "{md}");
    assert!(!md.contains("<script>"), "{md}");
    assert!(
        md.contains(r"ci-md\|&lt;script&gt;alert(1)&lt;/script&gt;\|\`x\`\\n\| fake \| row \|"),
        "{md}"
    );
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 5, "a header and 4 rows: {md}");
    assert!(
        rows.iter()
            .all(|r| r.matches(" | ").count() == 5 && r.ends_with(" |")),
        "every row keeps its 6 cells: {md}"
    );
    // JSON stays exact: the names come back byte for byte.
    let out = poolform(&sim)
        .args(["plan", "--format", "json", "-f"])
        .arg(&scope)
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = plan["projects"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pool"]["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&FAKE_ROW), "{names:?}");
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn hostile_error_messages_and_desktop_names_are_escaped_in_the_report_and_progress() {
    let sim = hostile_sim();
    // Every error answer carries a message built to rewrite the terminal.
    sim.set_hostile(|h| {
        h.error_message =
            Some("denied\u{1b}]0;pwned\u{7}\r\nApply complete: 4 deleted, 0 failed.\u{9b}2J".into())
    });
    let dir = tempfile::tempdir().unwrap();
    let scope = hostile_scope(dir.path());
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "-f"])
        .arg(&scope)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
    for (what, s) in [("report", &stdout), ("progress", &stderr)] {
        assert_eq!(raw_controls(s), Vec::<char>::new(), "{what}: {s}");
        assert!(
            !s.lines()
                .any(|l| l.starts_with("Apply complete: 4 deleted")),
            "{what}: {s}"
        );
    }
    // The blocked pool's refusal message and its desktops, escaped.
    assert!(
        stdout.contains(r"denied\x1b]0;pwned\x07\r\nApply complete: 4 deleted, 0 failed.\x9b2J"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r"ci-c1\x9b31m\x7f\ttab\x00-000"),
        "{stdout}"
    );
    assert!(stdout.contains("Apply complete: 3 deleted"), "{stdout}");
    assert_eq!(sim.delete_requests(), 4);
}

// ---------------------------------------------------------------------------------------
// Safe writes

#[test]
fn plan_out_never_writes_through_a_planted_file_and_refuses_special_targets() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let sim = spawn(config(example_fixture()));
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    fs::write(&victim, "precious").unwrap();
    let plan_with = |target: &Path| {
        poolform(&sim)
            .args(["plan", "-f"])
            .arg(repo_file("examples/pools.yaml"))
            .arg("-o")
            .arg(target)
            .output()
            .unwrap()
    };
    // The old predictable temporary names, planted as symlinks to the victim for a range of
    // pids around ours: the random, exclusively created name never meets them.
    let me = std::process::id();
    for pid in me.saturating_sub(50)..me + 2000 {
        let _ =
            std::os::unix::fs::symlink(&victim, dir.path().join(format!(".plan.json.tmp-{pid}")));
    }
    let target = dir.path().join("plan.json");
    let out = plan_with(&target);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    let meta = fs::symlink_metadata(&target).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "a plan file is 0600"
    );
    let leftovers: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".poolform-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A symlink at the target itself is replaced, not followed.
    let link = dir.path().join("linked.json");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    assert_eq!(plan_with(&link).status.code(), Some(0));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_file());
    // A FIFO, a device and a folder are refused and left as they are.
    let fifo = dir.path().join("fifo.json");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let folder = dir.path().join("folder.json");
    fs::create_dir(&folder).unwrap();
    for (target, kind) in [
        (
            fifo.as_path(),
            "is a FIFO, not a regular file; refusing to replace it",
        ),
        (
            Path::new("/dev/null"),
            "is a character device, not a regular file; refusing to replace it",
        ),
        (
            folder.as_path(),
            "is a folder, not a regular file; refusing to replace it",
        ),
    ] {
        let out = plan_with(target);
        assert_eq!(out.status.code(), Some(1), "{}", target.display());
        let stderr = stderr_of(&out);
        assert!(
            stderr.contains(&format!("{} {kind}", target.display())),
            "{stderr}"
        );
    }
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    assert!(fs::metadata(&folder).unwrap().is_dir());
    assert_eq!(sim.delete_requests(), 0);
}

// ---------------------------------------------------------------------------------------
// Memory

#[test]
fn flooded_list_pages_are_refused_in_bounded_memory_with_no_delete() {
    let _one_at_a_time = memory_lock();
    let dir = tempfile::tempdir().unwrap();
    let scope = hostile_scope(dir.path()).display().to_string();
    let mut failures = Vec::new();
    for (kind, want) in [
        (
            Flood::Tags,
            "more than the 128 MiB of decoded pools poolform will hold",
        ),
        (
            Flood::Names,
            "more than the 128 MiB of decoded pools poolform will hold",
        ),
        (Flood::Values, "the first page held 0 of 1000000 pools"),
    ] {
        let sim = spawn(config(example_fixture()));
        sim.set_hostile(|h| h.flood = Some(kind));
        for args in [
            vec!["plan", "-f", &scope],
            vec!["apply", "--auto-approve", "-f", &scope],
        ] {
            let m = measured(Some(&sim.url()), &args);
            let stderr = text(&m.stderr);
            if m.code != Some(1) || !stderr.contains(want) || m.peak_rss_mib > 300.0 {
                failures.push(format!(
                    "{kind:?} {}: exit {:?}, {:.0} MiB (bound 300; this process had {:.0} MiB at the fork), stderr {stderr:?}",
                    args[0], m.code, m.peak_rss_mib, m.parent_rss_mib
                ));
            }
        }
        assert_eq!(sim.delete_requests(), 0, "{kind:?}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A plan file of about `mib` MiB: the example plan with its first change repeated under new
/// ids, each with its own fingerprint (as a forger would), so that it reads as consistent.
fn huge_plan_file(dir: &Path, sim: &SimServer, mib: usize) -> PathBuf {
    use poolform::core::model::PoolId;
    use poolform::core::plan::Plan;
    let small = dir.join("small.json");
    poolform(sim)
        .args(["plan", "-f"])
        .arg(repo_file("examples/pools.yaml"))
        .arg("-o")
        .arg(&small)
        .assert()
        .success();
    let mut plan = Plan::from_json(&fs::read_to_string(&small).unwrap(), "small.json").unwrap();
    let template = plan.projects[0].changes[0].clone();
    let with = |plan: &mut Plan, count: usize| {
        plan.projects[0].changes = (0..count)
            .map(|i| {
                let mut c = template.clone();
                c.pool.id = PoolId::parse(&format!("f{i:07}-0000-4000-8000-000000000000")).unwrap();
                c.fingerprint = c.pool.fingerprint();
                c
            })
            .collect();
        plan.recount();
        plan.to_json().len()
    };
    // The size of one change as the file spells it, from a sample of 1,000.
    let (empty, sample) = (with(&mut plan, 0), with(&mut plan, 1000));
    let count = (mib * 1024 * 1024 - empty) / ((sample - empty) / 1000);
    with(&mut plan, count);
    let path = dir.join("huge.json");
    fs::write(&path, plan.to_json()).unwrap();
    path
}

#[test]
fn a_59_mb_plan_file_is_read_within_3x_its_size_and_deletes_nothing() {
    let _one_at_a_time = memory_lock();
    let sim = spawn(config(example_fixture()));
    let dir = tempfile::tempdir().unwrap();
    let path = huge_plan_file(dir.path(), &sim, 59);
    let size = fs::metadata(&path).unwrap().len() as f64 / (1024.0 * 1024.0);
    assert!(size > 55.0, "{size:.0} MiB");
    let file = path.display().to_string();
    let config = repo_file("examples/pools.yaml").display().to_string();
    let show = measured(None, &["show", "--format", "json", &file]);
    assert_eq!(show.code, Some(0), "{}", text(&show.stderr));
    assert!(
        show.peak_rss_mib <= 3.0 * size,
        "show: {:.0} MiB for a {size:.0} MiB file (this process had {:.0} MiB at the fork)",
        show.peak_rss_mib,
        show.parent_rss_mib
    );
    // Applying it with a config edited since: read whole, then refused before any call.
    let edited = dir.path().join("pools.yaml");
    fs::write(
        &edited,
        format!("# edited\n{}", fs::read_to_string(&config).unwrap()),
    )
    .unwrap();
    let before = sim.api_requests();
    let apply = measured(
        Some(&sim.url()),
        &["apply", &file, "-f", edited.to_str().unwrap()],
    );
    assert_eq!(apply.code, Some(1), "{}", text(&apply.stderr));
    assert!(
        text(&apply.stderr).contains("the config changed since the plan was made"),
        "{}",
        text(&apply.stderr)
    );
    assert_eq!(sim.api_requests(), before, "refused before any call");
    assert!(
        apply.peak_rss_mib <= 3.0 * size,
        "apply: {:.0} MiB for a {size:.0} MiB file (this process had {:.0} MiB at the fork)",
        apply.peak_rss_mib,
        apply.parent_rss_mib
    );
    assert_eq!(sim.delete_requests(), 0);
}

/// The `workspace-sim` binary serving `count` generated pools, in its own process (so that
/// this process stays small); killed when dropped.
struct SimProcess {
    child: std::process::Child,
    url: String,
}

impl SimProcess {
    fn start(count: u64) -> SimProcess {
        let mut child = Command::new(sim_binary())
            .env_clear()
            .args(["--generate", &count.to_string(), "--token", TOKEN])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let url = workspace_sim::read_listening_line(child.stdout.take().unwrap()).unwrap();
        SimProcess { child, url }
    }

    fn state(&self) -> Value {
        http_get_json(&format!("{}/__sim/state", self.url))
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn planning_100000_pools_against_50000_entries_stays_under_100_mb() {
    let _one_at_a_time = memory_lock();
    let sim = SimProcess::start(100_000);
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("version: 1\nscope: {name_prefix: gen-}\npools:\n");
    for i in (0..100_000u64).step_by(2) {
        yaml.push_str(&format!("  - name: gen-{i:05}\n"));
    }
    let config = yaml_file(dir.path(), "pools.yaml", yaml.as_bytes());
    drop(yaml);
    let config = config.display().to_string();
    let out = dir.path().join("plan.json").display().to_string();
    let m = measured(Some(&sim.url), &["plan", "-f", &config, "-o", &out]);
    assert_eq!(m.code, Some(0), "{}", text(&m.stderr));
    assert!(
        m.peak_rss_mib <= 100.0,
        "plan: {:.0} MiB (bound 100; this process had {:.0} MiB at the fork)",
        m.peak_rss_mib,
        m.parent_rss_mib
    );
    let plan: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(plan["summary"]["delete"], 50_000);
    assert_eq!(sim.state()["deletes"], json!({}), "no DELETE");
}

// ---------------------------------------------------------------------------------------
// Signals

#[test]
fn sigterm_and_sighup_during_apply_finish_the_calls_in_flight_report_and_exit_143_or_129() {
    for (signal, name, code) in [("TERM", "SIGTERM", 143), ("HUP", "SIGHUP", 129)] {
        let sim = generated_sim(20, |c| {
            c.faults = Faults {
                delete_latency: Duration::from_millis(1500),
                ..Faults::default()
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let file = yaml_file(
            dir.path(),
            "pools.yaml",
            b"version: 1\nscope: {name_prefix: gen-}\npools: []\n",
        );
        let child = poolform_process(
            &sim,
            &[
                "apply",
                "--auto-approve",
                "--parallelism",
                "2",
                "--format",
                "json",
                "-f",
                file.to_str().unwrap(),
            ],
        );
        wait_for("two DELETEs in flight", || sim.delete_requests() >= 2);
        send_signal(&child, signal);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{name}: {}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains(&format!(
                "Interrupted ({name}): no new calls will start; waiting for the 2 calls in flight"
            )),
            "{name}: {}",
            stderr_of(&out)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["interrupted"], true, "{name}");
        assert_eq!(
            report["summary"],
            json!({"deleted": 2, "already_absent": 0, "blocked": 0, "failed": 0, "skipped": 18}),
            "{name}: the calls in flight finished and were reported"
        );
        assert_eq!(
            sim.delete_requests(),
            2,
            "{name}: no DELETE after the signal"
        );
    }
}

#[test]
fn a_signal_during_any_listing_ends_it_at_once_with_no_delete() {
    // Every answer takes 30 s: only a listing abandoned on the signal ends sooner.
    let slow = Faults {
        latency: Duration::from_secs(30),
        ..Faults::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let file = yaml_file(
        dir.path(),
        "pools.yaml",
        b"version: 1\nscope: {name_prefix: gen-}\npools: []\n",
    );
    let file = file.to_str().unwrap();
    for (command, signal, code) in [
        (vec!["plan", "-f", file], "TERM", 143),
        (vec!["plan", "-f", file], "INT", 130),
        (vec!["apply", "--auto-approve", "-f", file], "HUP", 129),
    ] {
        let sim = generated_sim(3, |c| c.faults = slow.clone());
        let child = poolform_process(&sim, &command);
        wait_for("the listing request", || sim.api_requests() >= 1);
        let signalled = Instant::now();
        send_signal(&child, signal);
        let out = child.wait_with_output().unwrap();
        let took = signalled.elapsed();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{command:?}: {}",
            stderr_of(&out)
        );
        assert!(
            took < Duration::from_secs(10),
            "{command:?} {signal}: the 30 s listing was waited for ({took:?})"
        );
        assert_eq!(sim.delete_requests(), 0);
    }
    // The verification listing after the DELETEs: a signal there ends it too, and the report
    // of what was deleted is still printed.
    let sim = generated_sim(3, |c| {
        c.faults = Faults {
            latency: Duration::from_secs(2),
            ..Faults::default()
        }
    });
    let child = poolform_process(
        &sim,
        &["apply", "--auto-approve", "--format", "json", "-f", file],
    );
    wait_for("the verification listing", || {
        sim.snapshot()["requests"]["list"].as_u64().unwrap_or(0) >= 2
    });
    send_signal(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143), "{}", stderr_of(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["deleted"], 3, "{report}");
    assert_eq!(sim.delete_requests(), 3);
}

// ---------------------------------------------------------------------------------------
// Closed pipes and absurd values

#[test]
fn a_closed_stderr_or_stdout_neither_panics_nor_abandons_a_delete() {
    let sim = generated_sim(14, |c| {
        c.faults = Faults {
            delete_latency: Duration::from_millis(200),
            ..Faults::default()
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = yaml_file(
        dir.path(),
        "pools.yaml",
        b"version: 1\nscope: {name_prefix: gen-}\npools: []\n",
    );
    let report = dir.path().join("report.txt");
    // stderr into a pipe whose reader leaves after two lines; stdout into a file.
    let mut child = poolform_command(
        &[
            "apply",
            "--endpoint",
            &sim.url(),
            "--auto-approve",
            "--parallelism",
            "4",
            "-f",
            file.to_str().unwrap(),
        ],
        &[],
    )
    .stdin(Stdio::null())
    .stdout(fs::File::create(&report).unwrap())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    read_lines_then_close(child.stderr.take().unwrap(), 2);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let report = fs::read_to_string(&report).unwrap();
    assert!(
        report.contains("Apply complete: 14 deleted, 0 already absent, 0 blocked, 0 failed."),
        "{report}"
    );
    assert_eq!(sim.delete_requests(), 14);
    assert!(sim.pool_ids().is_empty(), "every DELETE finished");
    // stdout closed after one line: the plan's exit code stands (2, drift), no panic.
    let sim = generated_sim(30, |_| {});
    let mut child = poolform_command(
        &[
            "plan",
            "--endpoint",
            &sim.url(),
            "--detailed-exitcode",
            "-f",
            file.to_str().unwrap(),
        ],
        &[],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    read_lines_then_close(child.stdout.take().unwrap(), 1);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(!stderr_of(&out).contains("panicked"), "{}", stderr_of(&out));
    assert_eq!(sim.delete_requests(), 0);
}

/// Reads `n` lines from `pipe`, then closes it: the reader has left, as `head -n N` does.
fn read_lines_then_close(pipe: impl std::io::Read, n: usize) {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(pipe).lines();
    for _ in 0..n {
        let _ = lines.next();
    }
}

#[test]
fn absurd_durations_and_counts_are_refused_at_parse_time() {
    let sim = spawn(config(example_fixture()));
    let config = repo_file("examples/pools.yaml").display().to_string();
    let mut failures = Vec::new();
    for (flag, value, want) in [
        ("--wait-blocked", "300000000000years", "--wait-blocked"),
        ("--wait-blocked", "25h", "is longer than 24h"),
        ("--verify-timeout", "2h", "is longer than 1h"),
        (
            "--verify-timeout",
            "18446744073709551615s",
            "--verify-timeout",
        ),
        ("--rate-limit", "1e300", "from just above 0 to 100000"),
        ("--rate-limit", "NaN", "--rate-limit"),
        ("--parallelism", "100000", "--parallelism"),
        ("--max-deletes", "99999999999999999999999", "--max-deletes"),
    ] {
        let out = poolform(&sim)
            .args(["apply", "--auto-approve", "-f", &config, flag, value])
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        if matches!(out.status.code(), Some(0) | Some(101) | None)
            || !stderr.contains(want)
            || stderr.contains("panicked")
        {
            failures.push(format!(
                "{flag} {value}: exit {:?}, stderr {stderr:?}, want {want:?}",
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(sim.api_requests(), 0, "refused before any call");
}
