//! A newcomer's first hour: hints that work when pasted, errors that say the next step, tips for
//! the habits other tools teach, and outputs a pipeline can trust. Every refusal here also
//! checks that no DELETE was sent.

use crate::harness::ids::*;
use crate::harness::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

/// The directory the `poolform` binary is in, for a shell's PATH.
fn bin_dir() -> String {
    assert_cmd::cargo::cargo_bin("poolform")
        .parent()
        .unwrap()
        .display()
        .to_string()
}

/// Runs `line` in a POSIX shell (in `dir`, poolform on the PATH, the test's credentials), as a
/// user pastes it.
fn pasted(line: &str, dir: &std::path::Path) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir()))
        .env("NO_COLOR", "1")
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT)
        .output()
        .unwrap()
}

/// A copy of the example config in `dir/config/pools.yaml` (another directory than the one
/// commands run in).
fn config_elsewhere(dir: &std::path::Path) -> std::path::PathBuf {
    let sub = dir.join("config with space");
    std::fs::create_dir_all(&sub).unwrap();
    let file = sub.join("pools.yaml");
    std::fs::copy(example_config(), &file).unwrap();
    file
}

#[test]
fn the_printed_apply_command_works_when_pasted() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let config = config_elsewhere(dir.path());
    let out = poolform(&sim)
        .current_dir(dir.path())
        .args(["plan", "--target", "ci-old-build", "-o", "p.json", "-f"])
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let err = stderr_of(&out);
    let hint = err
        .lines()
        .find_map(|l| {
            l.split_once("Apply exactly this plan with: ")
                .map(|(_, h)| h)
        })
        .unwrap_or_else(|| panic!("no hint: {err}"))
        .to_owned();
    for part in [
        "-f '",
        "config with space/pools.yaml'",
        "--endpoint",
        "--target ci-old-build",
    ] {
        assert!(hint.contains(part), "{part} in {hint}");
    }
    // Pasted as printed: it applies exactly the plan.
    let applied = pasted(&format!("{hint} --format json"), dir.path());
    assert_exit(&applied, 0);
    assert_eq!(deletes_sent(&sim), set(&[OLD_BUILD]));
}

#[test]
fn a_saved_plan_applied_without_its_config_names_the_config() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let config = config_elsewhere(dir.path());
    poolform(&sim)
        .current_dir(dir.path())
        .args(["plan", "-o", "p.json", "-f"])
        .arg(&config)
        .assert()
        .code(0);
    let out = poolform(&sim)
        .current_dir(dir.path())
        .args(["apply", "p.json", "--auto-approve"])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr_of(&out);
    assert!(
        err.contains("config with space/pools.yaml") && err.contains("-f"),
        "the plan's config is suggested: {err}"
    );
    assert!(deletes_sent(&sim).is_empty());
}

#[test]
fn plan_with_no_config_says_how_to_start() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let out = poolform(&sim)
        .current_dir(dir.path())
        .arg("plan")
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr_of(&out);
    assert!(
        err.contains("-f PATH") && err.contains("poolform import -o pools.yaml"),
        "{err}"
    );
    assert_eq!(sim.api_requests(), 0);
}

/// The lines read from `lines` up to and including the first that contains `needle` (all of
/// them, if none does).
fn read_until(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    needle: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let found = line.contains(needle);
        seen.push(line);
        if found {
            break;
        }
    }
    seen
}

#[test]
fn a_refused_loopback_connection_fails_at_once_with_the_next_step() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let out = poolform_bare()
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT)
        .args([
            "plan",
            "--endpoint",
            &format!("http://127.0.0.1:{port}"),
            "-f",
        ])
        .arg(example_config())
        .output()
        .unwrap();
    // Nothing listens there: no retry will change that (the target is 2 s; 10 s is "hangs").
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_exit(&out, 1);
    let err = stderr_of(&out);
    assert!(err.contains("connection refused by 127.0.0.1:"), "{err}");
    assert!(
        err.contains(&format!("Next: nothing listens at 127.0.0.1:{port}")),
        "{err}"
    );
}

#[test]
fn an_unreachable_endpoint_says_so_while_it_retries() {
    // https to the simulator's plain-HTTP port: the TLS handshake fails, and is retried.
    let sim = example_sim();
    let https = sim.url().replace("http://", "https://");
    let mut child = poolform_command(
        &["plan", "--endpoint", &https, "-f", &example_config()],
        &[],
    )
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let host = https.trim_start_matches("https://").to_owned();
    // Each retry is said (in a log, the latest one every tenth of a second): `retrying n/10`.
    let want = format!("Listing pools: cannot reach {host} (TLS handshake failed), retrying ");
    let seen = read_until(&mut lines, &want);
    assert!(
        seen.iter().any(|l| l.contains(&want)),
        "{want:?} in the log:\n{}",
        seen.join("\n")
    );
    send_signal(&child, "INT");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{}", rest.join("\n"));
    assert!(deletes_sent(&sim).is_empty());
}

#[test]
fn a_mistyped_region_is_named_with_the_likely_one() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let config = scope_file(dir.path(), "version: 1\nscope: {name_prefix: ci-}\n");
    let out = poolform_bare()
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_AUTH_URL", format!("{}/v3", sim.url()))
        .args([
            "plan",
            "--endpoint",
            &sim.url(),
            "--region",
            "cn-nort-4",
            "-f",
        ])
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr_of(&out);
    assert!(
        err.starts_with("Acting as") && !err.contains("cannot connect"),
        "{err}"
    );
    assert!(
        err.contains("error: the IAM calls before the first Workspace call failed"),
        "named as IAM: {err}"
    );
    assert!(
        err.contains("IAM lists no project named cn-nort-4")
            && err.contains("did you mean cn-north-4?"),
        "{err}"
    );
    assert_eq!(requests_to(&sim, "list"), 0);
}

#[test]
fn a_target_that_is_not_planned_says_why_and_what_is() {
    let sim = example_sim();
    let cases = [
        ("ci-legal", "it is protected (not in "),
        ("ci-eng", "it is kept: "),
        (ENG, "it is kept: "),
        ("ci-design", "lists it, but no live pool has this name"),
        ("ci-nowhere", "no live pool has this id or name"),
    ];
    for (target, why) in cases {
        let out = poolform(&sim)
            .args(["apply", "--auto-approve", "--target", target, "-f"])
            .arg(example_config())
            .output()
            .unwrap();
        assert_exit(&out, 1);
        let err = stderr_of(&out);
        assert!(
            err.contains(&format!("--target \"{target}\" is not a planned delete: ")),
            "{target}: {err}"
        );
        assert!(err.contains(why), "{target}: {why:?} in {err}");
        assert!(
            err.contains("the plan deletes 3 pools: ") && err.contains("(\"ci-old-build\")"),
            "{target}: the planned deletes are named: {err}"
        );
    }
    assert!(deletes_sent(&sim).is_empty());
}

/// A pool that stays blocked: two desktops nobody removes.
fn blocked_sim(prepaid: bool) -> workspace_sim::SimServer {
    sim_of(json!([
        {"id": OLD_BUILD, "name": "ci-old-build", "desktop_count": 2,
         "charging_mode": if prepaid { "0" } else { "1" }},
    ]))
}

#[test]
fn an_interrupted_wait_says_it_was_interrupted_and_what_was_not_checked() {
    let sim = blocked_sim(false);
    let dir = tempfile::tempdir().unwrap();
    let config = scope_file(dir.path(), "version: 1\nscope: {name_prefix: ci-}\n");
    let mut child = poolform_process(
        &sim,
        &[
            "apply",
            "--auto-approve",
            "--wait-blocked",
            "2m",
            "-f",
            config.to_str().unwrap(),
        ],
    );
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let seen = read_until(&mut lines, "Waiting up to 2m");
    assert!(
        seen.iter().any(|l| l.contains("Waiting up to 2m ")),
        "the duration as given: {}",
        seen.join("\n")
    );
    send_signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 130);
    let report = stdout_of(&out);
    assert!(
        report.contains("the wait was interrupted (SIGINT)"),
        "{report}"
    );
    assert!(!report.contains("ran out"), "{report}");
    assert!(!report.contains("autoscale"), "no autoscale here: {report}");
    assert!(
        sim.pool_ids().iter().any(|id| id == OLD_BUILD),
        "it stayed blocked"
    );
}

#[test]
fn a_prepaid_pool_is_named_and_its_advice_is_the_billing_centre() {
    let sim = blocked_sim(true);
    let dir = tempfile::tempdir().unwrap();
    let config = scope_file(dir.path(), "version: 1\nscope: {name_prefix: ci-}\n");
    let plan = poolform(&sim)
        .arg("plan")
        .arg("-f")
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&plan, 0);
    assert!(
        stdout_of(&plan).contains("DYNAMIC · 2 desktops · prepaid"),
        "{}",
        stdout_of(&plan)
    );
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "-f"])
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let report = stdout_of(&out);
    assert!(
        report.contains("unsubscribe them in the billing centre"),
        "{report}"
    );
}

#[test]
fn jsonl_says_blocked_and_the_wait_and_every_line_fits_its_schema() {
    let sim = blocked_sim(false);
    let dir = tempfile::tempdir().unwrap();
    let config = scope_file(dir.path(), "version: 1\nscope: {name_prefix: ci-}\n");
    let out = poolform(&sim)
        .args([
            "apply",
            "--auto-approve",
            "--format",
            "jsonl",
            "--wait-blocked",
            "1s",
            "-f",
        ])
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let schema_out = poolform_bare()
        .args(["schema", "--for", "events"])
        .output()
        .unwrap();
    assert_exit(&schema_out, 0);
    let schema: Value = serde_json::from_slice(&schema_out.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut types = Vec::new();
    for line in stdout_of(&out).lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        if let Err(e) = validator.validate(&event) {
            panic!("{line} does not fit the events schema: {e}");
        }
        types.push(event["type"].as_str().unwrap().to_owned());
    }
    for want in [
        "planned",
        "blocked",
        "wait_started",
        "wait_ended",
        "summary",
    ] {
        assert!(types.iter().any(|t| t == want), "{want} in {types:?}");
    }
}

#[test]
fn in_a_log_progress_does_not_repeat_the_report() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "-f"])
        .arg(example_config())
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let (report, log) = (stdout_of(&out), stderr_of(&out));
    for line in report.lines().map(str::trim).filter(|l| l.len() > 20) {
        assert!(
            !log.contains(line),
            "said twice: {line:?}\nstdout:\n{report}\nstderr:\n{log}"
        );
    }
    assert!(log.contains("blocked ci-training"), "{log}");
}

#[test]
fn show_says_it_is_a_saved_plan_and_when_it_was_made() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = save_plan(&sim, dir.path());
    let out = poolform_bare()
        .arg("show")
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let shown = stdout_of(&out);
    let first = shown.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("Saved plan {}, made 20", plan_file.display()))
            && first.contains(" from "),
        "{shown}"
    );
}

#[test]
fn habits_from_other_tools_get_a_tip_that_points_the_right_way() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["apply", "--yes"], "pass --auto-approve"),
        (&["apply", "-y"], "pass --auto-approve"),
        (
            &["plan", "pools.yaml"],
            "did you mean 'poolform plan -f pools.yaml'?",
        ),
        (
            &["show", "plan.json", "--endpoint", "x"],
            "show works offline and never connects; --endpoint belongs to plan, apply and import",
        ),
        (
            &["validate", "--region", "cn-north-4"],
            "--region belongs to plan, apply and import",
        ),
        (
            &["plan", "--endpoint", "127.0.0.1:18085", "-f", "ok.yaml"],
            "did you mean http://127.0.0.1:18085?",
        ),
    ];
    write_file(
        dir.path(),
        "ok.yaml",
        "version: 1\nscope: {name_prefix: ci-}\n",
    );
    for (args, want) in cases {
        let out = poolform_bare()
            .current_dir(dir.path())
            .env("HW_AUTH_TOKEN", TOKEN)
            .env("HW_PROJECT_ID", PROJECT)
            .args(args)
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("similar: --version"), "{args:?}: {err}");
        assert_ne!(out.status.code(), Some(0), "{args:?}");
    }
}

#[test]
fn config_errors_speak_yaml_and_say_the_next_step() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "version: 1\nprotect: [{tag: \"x\"}]\n",
            "protect[0].tag: invalid type: string \"x\", expected a mapping such as `{key: env, value: prod}`",
        ),
        ("pools: []\n", "missing field `version`; add `version: 1` as the file's first line"),
    ];
    for (yaml, want) in cases {
        let file = write_file(dir.path(), "pools.yaml", yaml);
        let out = poolform_bare()
            .arg("validate")
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap();
        assert_exit(&out, 1);
        let err = stderr_of(&out);
        assert!(err.contains(want), "{yaml}: {err}");
        for rust in ["struct", "TagRule", "enum ", "Vec<"] {
            assert!(!err.contains(rust), "a Rust type name in {err}");
        }
    }
}
