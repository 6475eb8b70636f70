//! Terraform users' habits, CI ergonomics and a newcomer's rough edges, through the binaries:
//! usage errors exit 1, single-dash flags are refused, one place decides the exit code, import
//! never writes an invalid file, a `max_deletes` refusal shows the plan, out-of-scope pools are
//! counted, errors and hints are said once and only where they apply, nothing is silent for
//! long (tmux drives a real terminal), layout and help, per-command flags, `POOLFORM_LOG`,
//! `--target`, `--format jsonl` and README's command reference.

use crate::harness::ids::*;
use crate::harness::*;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use workspace_sim::Faults;

/// The example config with `edit` applied, in `dir`.
fn edited_config(dir: &Path, edit: impl FnOnce(String) -> String) -> PathBuf {
    let text = fs::read_to_string(repo_file("examples/pools.yaml")).unwrap();
    let path = dir.join("pools.yaml");
    fs::write(&path, edit(text)).unwrap();
    path
}

// --- 1. Usage errors exit 1 ---------------------------------------------------------------

#[test]
fn usage_errors_exit_1_and_help_and_version_exit_0() {
    let sim = example_sim();
    let cases: [(&[&str], &str); 7] = [
        (&["plan", "--bogus"], "unexpected argument '--bogus'"),
        (
            &["apply", "--parallelism", "0"],
            "invalid value '0' for '--parallelism",
        ),
        (
            &["plan", "--format", "yaml"],
            "invalid value 'yaml' for '--format",
        ),
        (
            &["apply", "--format", "yml"],
            "invalid value 'yml' for '--format",
        ),
        (&["show"], "required arguments were not provided"),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (&[], "Usage: poolform [OPTIONS] <COMMAND>"),
    ];
    for (args, want) in cases {
        let out = poolform_bare()
            .args(args)
            .args(["--color", "never"])
            .output()
            .unwrap();
        assert_exit(&out, 1);
        assert!(
            stderr_of(&out).contains(want),
            "{args:?}: {}",
            stderr_of(&out)
        );
    }
    for args in [
        &["--help"][..],
        &["plan", "--help"],
        &["apply", "-h"],
        &["--version"],
    ] {
        let out = poolform_bare().args(args).output().unwrap();
        assert_exit(&out, 0);
        assert!(!stdout_of(&out).is_empty(), "{args:?}");
    }
    assert_eq!(sim.api_requests(), 0);
}

// --- 3. Terraform's single-dash long flags ------------------------------------------------

#[test]
fn terraform_single_dash_flags_are_refused_with_the_spelling_that_works() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["plan", "-out=tfplan"], "did you mean '--out tfplan'?"),
        (&["plan", "-out", "tfplan"], "did you mean '--out'?"),
        (
            &["apply", "-auto-approve"],
            "did you mean '--auto-approve'?",
        ),
        (
            &["plan", "-detailed-exitcode"],
            "did you mean '--detailed-exitcode'?",
        ),
        (
            &["apply", "-parallelism=4"],
            "did you mean '--parallelism 4'?",
        ),
        (
            &["plan", "-json"],
            "with poolform use --format json (plan, show) or --format jsonl (apply)",
        ),
        (
            &["apply", "-target=ci-old-build"],
            "did you mean '--target ci-old-build'?",
        ),
    ];
    for (args, want) in cases {
        let out = poolform(&sim)
            .current_dir(dir.path())
            .args(args)
            .args(["-f", &example_config()])
            .output()
            .unwrap();
        assert_exit(&out, 1);
        let stderr = stderr_of(&out);
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(
            stderr.contains("poolform spells long flags with two dashes")
                || stderr.contains("Terraform's flag"),
            "{stderr}"
        );
    }
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file such as ut=tfplan was written"
    );
    assert_eq!(sim.api_requests(), 0, "refused before any call");
}

// --- 2. One place decides how a run ended -------------------------------------------------

#[test]
fn a_401_on_a_desktops_lookup_ends_stopped_by_auth_exit_1_not_blocked() {
    // The only pool holds desktops: list (1), DELETE answered 409 (2), then the desktops
    // look-up is the third request, answered 401.
    let mut c = config(fixture(json!([
        {"id": "b0000000-0000-4000-8000-000000000001", "name": "ci-busy", "desktop_count": 2}
    ])));
    c.revoke_auth_after = Some(2);
    let sim = spawn(c);
    let dir = tempfile::tempdir().unwrap();
    let scope = scope_file(dir.path(), "version: 1\nscope: {name_prefix: ci-}\n");
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "--format", "json", "-f"])
        .arg(&scope)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["end"], "stopped_by_auth", "{report}");
    assert!(report["stopped"].as_str().unwrap().contains("HTTP 401"));
    assert_eq!(sim.api_requests(), 3, "no call after the 401");
}

#[test]
fn an_interrupt_before_anything_was_planned_exits_130_not_0() {
    let sim = generated_sim(3, |c| {
        c.faults = Faults {
            latency: Duration::from_secs(30),
            ..Faults::default()
        };
    });
    let dir = tempfile::tempdir().unwrap();
    let scope = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    for command in ["plan", "apply"] {
        let scope = scope.to_str().unwrap();
        let child = match command {
            "apply" => poolform_process(&sim, &["apply", "--auto-approve", "-f", scope]),
            _ => poolform_process(&sim, &[command, "-f", scope]),
        };
        let before = sim.api_requests();
        wait_for("the listing request", || sim.api_requests() > before);
        send_signal(&child, "INT");
        let out = child.wait_with_output().unwrap();
        assert_exit(&out, 130);
    }
    assert_eq!(sim.delete_requests(), 0);
}

// --- 8. Errors and hints said once, and only where they apply -----------------------------

#[test]
fn an_apply_stopping_401_is_said_once_and_skipped_steps_point_to_it() {
    let sim = generated_sim(10, |c| {
        c.revoke_auth_after = Some(3);
    });
    let dir = tempfile::tempdir().unwrap();
    let scope = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "--parallelism", "2", "-f"])
        .arg(&scope)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let all = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert_eq!(
        all.matches("the token has expired").count(),
        1,
        "the 401's message is said once:\n{all}"
    );
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains("\nStopped after an authentication failure; no further call was made: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("not started: authentication failed (above)"),
        "{stdout}"
    );
}

#[test]
fn the_wait_blocked_hint_is_given_only_when_it_applies() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "-f", &example_config()])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(stdout_of(&out).contains("or wait for them with --wait-blocked 30m"));
    let sim = example_sim();
    let out = poolform(&sim)
        .args([
            "apply",
            "--auto-approve",
            "--wait-blocked",
            "3s",
            "-f",
            &example_config(),
        ])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let stdout = stdout_of(&out);
    assert!(!stdout.contains("--wait-blocked 30m"), "{stdout}");
    assert!(
        stdout.contains("1 pool is blocked: they still held desktops when --wait-blocked ran out"),
        "{stdout}"
    );
}

// --- 4. import never writes an invalid file -----------------------------------------------

#[test]
fn import_keeps_shared_and_empty_names_by_id_and_plan_after_it_is_in_sync() {
    let sim = spawn(config(fixture(json!([
        {"id": "a0000000-0000-4000-8000-000000000001", "name": "ci-twin"},
        {"id": "a0000000-0000-4000-8000-000000000002", "name": "ci-twin"},
        {"id": "a0000000-0000-4000-8000-000000000003", "name": ""},
        {"id": "a0000000-0000-4000-8000-000000000004", "name": "ci-solo"},
    ]))));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pools.yaml");
    let out = poolform(&sim)
        .args(["import", "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("  - id: a0000000-0000-4000-8000-000000000001  # its name is shared by 2 live pools: kept by id\n    # name: ci-twin\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "  - id: a0000000-0000-4000-8000-000000000003  # this pool has no name: kept by id\n"
        ),
        "{text}"
    );
    assert!(text.contains("    name: ci-solo\n"), "{text}");
    poolform_bare()
        .args(["validate", "-f"])
        .arg(&file)
        .assert()
        .success();
    let out = poolform(&sim)
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stdout_of(&out).contains("No changes."),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(sim.delete_requests(), 0);
}

// --- 5. A max_deletes refusal shows the plan first ----------------------------------------

#[test]
fn a_max_deletes_refusal_shows_the_plan_in_every_format_then_exits_1_with_no_file() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let cfg = edited_config(dir.path(), |t| {
        t.replace("max_deletes: 20", "max_deletes: 2")
    });
    let saved = dir.path().join("plan.json");
    for (format, shows) in [
        ("human", "Plan: 3 to delete (1 likely blocked)"),
        (
            "markdown",
            "### poolform: Plan: 3 to delete (1 likely blocked)",
        ),
        ("json", "\"delete\": 3"),
    ] {
        let out = poolform(&sim)
            .args(["plan", "--format", format, "-o"])
            .arg(&saved)
            .arg("-f")
            .arg(&cfg)
            .output()
            .unwrap();
        assert_exit(&out, 1);
        assert!(
            stdout_of(&out).contains(shows),
            "{format}: {}",
            stdout_of(&out)
        );
        assert!(
            stdout_of(&out).contains("ci-old-build"),
            "{format}: the pools meant are named"
        );
        assert!(
            stderr_of(&out).contains("refused: the plan above deletes 3 pools, more than max_deletes in the config allows (2); nothing was saved or deleted"),
            "{format}: {}",
            stderr_of(&out)
        );
        assert!(!saved.exists(), "{format}: no plan file");
        if format == "json" {
            let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(plan["projects"][0]["changes"].as_array().unwrap().len(), 3);
        }
    }
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "-f"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(stdout_of(&out).contains("Plan: 3 to delete"));
    assert!(stderr_of(&out).contains("refused: the plan above deletes 3 pools"));
    assert_eq!(sim.delete_requests(), 0);
}

// --- 6. out_of_scope ------------------------------------------------------------------------

#[test]
fn a_listed_pool_outside_the_scope_is_counted_and_shown_with_its_filter() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let cfg = edited_config(dir.path(), |t| {
        t.replace(
            "pools:\n",
            &format!("pools:\n  - id: {MARKETING}\n    name: marketing-desktops\n"),
        )
    });
    let out = poolform(&sim)
        .args(["plan", "-f"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stdout = stdout_of(&out);
    assert!(stdout.contains("  ^ marketing-desktops"), "{stdout}");
    assert!(
        stdout.contains("but outside its scope (name_prefix \"ci-\"): not managed"),
        "{stdout}"
    );
    assert!(stdout.contains(", 1 out of scope, "), "{stdout}");
    let out = poolform(&sim)
        .args(["plan", "--format", "json", "-f"])
        .arg(&cfg)
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["out_of_scope"], 1);
    let finding = plan["projects"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "out_of_scope")
        .unwrap();
    assert_eq!(finding["pool"]["id"], MARKETING);
    assert_eq!(sim.delete_requests(), 0);
}

/// The ```yaml block of README's `pools.yaml` section.
fn readme_example() -> String {
    let readme = fs::read_to_string(repo_file("docs/pools-yaml.md")).unwrap();
    let section = &readme[readme.find("## The file").unwrap()..];
    let start = section.find("```yaml\n").unwrap() + "```yaml\n".len();
    let end = start + section[start..].find("```").unwrap();
    section[start..end].to_owned()
}

#[test]
fn readmes_example_counts_every_listed_pool_somewhere() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pools.yaml");
    fs::write(&file, readme_example()).unwrap();
    let out = poolform(&sim)
        .args(["plan", "--format", "json", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &plan["summary"];
    let listed = 2;
    let counted = ["missing", "drift", "unchanged", "out_of_scope"]
        .iter()
        .map(|k| s[*k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(counted, listed, "every listed pool is counted: {s}");
    assert_eq!(
        s["out_of_scope"], 0,
        "the example keeps nothing its scope excludes"
    );
}

// --- 7. A region contradicting the file is refused with --endpoint too --------------------

#[test]
fn a_region_contradicting_the_file_is_refused_with_endpoint_too() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args(["plan", "--region", "cn-east-3", "-f", &example_config()])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("is for region cn-north-4, but --region selects region cn-east-3"),
        "{}",
        stderr_of(&out)
    );
    let out = poolform(&sim)
        .env("HW_REGION_NAME", "cn-east-3")
        .args(["plan", "-f", &example_config()])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert_eq!(sim.api_requests(), 0);
}

// --- 9. Never silent (logs) ----------------------------------------------------------------

#[test]
fn a_slow_listing_is_reported_every_10_s_in_a_log() {
    // The interval is shortened to 1 s here (POOLFORM_PROGRESS_EVERY can only shorten it).
    let sim = generated_sim(3, |c| {
        c.faults = Faults {
            latency: Duration::from_millis(1500),
            ..Faults::default()
        };
    });
    let dir = tempfile::tempdir().unwrap();
    let scope = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let out = poolform(&sim)
        .env("POOLFORM_PROGRESS_EVERY", "1s")
        .args(["plan", "-f"])
        .arg(&scope)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stderr_of(&out).contains("Listing pools: 0 pages and 0 pools read (1s so far)"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn wait_blocked_says_when_it_starts_and_then_every_10_s_in_a_log() {
    let sim = spawn(config(fixture(json!([
        {"id": "b0000000-0000-4000-8000-000000000001", "name": "ci-busy", "desktop_count": 2}
    ]))));
    let dir = tempfile::tempdir().unwrap();
    let scope = scope_file(dir.path(), "version: 1\nscope: {name_prefix: ci-}\n");
    let started = Instant::now();
    // The interval is shortened to 1 s here (POOLFORM_PROGRESS_EVERY can only shorten it).
    let out = poolform(&sim)
        .env("POOLFORM_PROGRESS_EVERY", "1s")
        .args(["apply", "--auto-approve", "--wait-blocked", "3s", "-f"])
        .arg(&scope)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(started.elapsed() >= Duration::from_secs(2));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("Waiting up to ") && stderr.contains("for 1 blocked pool to empty (--wait-blocked); each is deleted once its desktops are gone: ci-busy (2 desktops)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Still waiting (") && stderr.contains("left): ci-busy (2 desktops)"),
        "{stderr}"
    );
}

// --- 10. Layout and help ------------------------------------------------------------------

#[test]
fn every_flag_has_help_and_the_simulator_describes_itself() {
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {}", arg.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_about().is_none() {
                missing.push(format!("{path} {} (no about)", sub.get_name()));
            }
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(
        &<poolform::cli::args::Cli as clap::CommandFactory>::command(),
        "poolform",
        &mut missing,
    );
    assert!(missing.is_empty(), "flags without help: {missing:?}");
    let out = Command::new(sim_binary()).arg("--help").output().unwrap();
    assert_exit(&out, 0);
    let help = stdout_of(&out);
    assert!(
        help.starts_with("A stand-in for the Huawei Cloud Workspace desktop-pool API on loopback"),
        "{help}"
    );
    assert!(!help.contains("Terraform-style"), "{help}");
}

// --- 11. Each command takes only the flags it uses ----------------------------------------

#[test]
fn flags_a_command_does_not_use_are_refused() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    poolform(&sim)
        .args(["plan", "-o"])
        .arg(&plan)
        .args(["-f", &example_config()])
        .assert()
        .success();
    let plan = plan.display().to_string();
    let cases: [&[&str]; 6] = [
        &["show", &plan, "--endpoint", "https://x"],
        &["validate", "--region", "bad region!"],
        &["validate", "--project-id", "p"],
        &["schema", "--profile", "p"],
        &["completions", "bash", "--cloud", "example.com"],
        &["--endpoint", "https://x", "plan"],
    ];
    for args in cases {
        let out = poolform_bare().args(args).output().unwrap();
        assert_exit(&out, 1);
        assert!(
            stderr_of(&out).contains("unexpected argument '--"),
            "{args:?}: {}",
            stderr_of(&out)
        );
    }
}

// --- 12. POOLFORM_LOG ---------------------------------------------------------------------

#[test]
fn poolform_log_sets_the_level_like_tf_log_and_never_logs_a_secret() {
    let sim = example_sim();
    let run = |level: &str| {
        poolform(&sim)
            .env("POOLFORM_LOG", level)
            .args(["plan", "-f", &example_config()])
            .output()
            .unwrap()
    };
    let debug = run("debug");
    assert_exit(&debug, 0);
    let log = stderr_of(&debug);
    assert!(
        log.contains("GET") && log.contains("desktop-pools"),
        "{log}"
    );
    assert!(log.contains("request_id"), "{log}");
    assert!(!log.contains(TOKEN), "the token never reaches the log");
    let verbose = poolform(&sim)
        .args(["plan", "-v", "-f", &example_config()])
        .output()
        .unwrap();
    assert_eq!(
        stderr_of(&verbose).lines().count(),
        log.lines().count(),
        "-v is POOLFORM_LOG=debug"
    );
    let warn = run("warn");
    assert_exit(&warn, 0);
    assert!(
        !stderr_of(&warn).contains("desktop-pools"),
        "{}",
        stderr_of(&warn)
    );
    let bad = run("loud");
    assert_exit(&bad, 1);
    assert!(
        stderr_of(&bad).contains("POOLFORM_LOG=\"loud\" is not one of debug, info, warn, error")
    );
}

// --- 13. --target ---------------------------------------------------------------------------

#[test]
fn target_keeps_only_those_deletes_says_so_and_is_recorded_in_the_saved_plan() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    let out = poolform(&sim)
        .args([
            "plan",
            "--target",
            "ci-old-build",
            "--target",
            TRAINING,
            "-o",
        ])
        .arg(&saved)
        .args(["-f", &example_config()])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains("Partial plan: only the deletes --target names (ci-old-build, e1e2e3e4-3333-4444-8555-666677778888) are planned"),
        "{stdout}"
    );
    assert!(stdout.contains("Plan: 2 to delete"), "{stdout}");
    assert!(!stdout.contains("ci-tmp-load-test"), "{stdout}");
    let plan: Value = serde_json::from_str(&fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(plan["targets"], json!(["ci-old-build", TRAINING]));
    let shown = poolform_bare().arg("show").arg(&saved).output().unwrap();
    assert!(stdout_of(&shown).contains("Partial plan"));
    // narrowed further at apply time: only ci-old-build is deleted
    let out = poolform(&sim)
        .args(["apply"])
        .arg(&saved)
        .args([
            "--target",
            OLD_BUILD,
            "--format",
            "json",
            "-f",
            &example_config(),
        ])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stderr_of(&out).contains("Partial plan"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.delete_requests(), 1);
    assert_eq!(sim.deletes_for(OLD_BUILD), 1);
    // a target that is not a planned delete: an error, nothing done
    for target in ["ci-eng", "no-such-pool", TMP_LOAD] {
        let out = poolform(&sim)
            .args([
                "apply",
                "--auto-approve",
                "--target",
                target,
                "-f",
                &example_config(),
            ])
            .output()
            .unwrap();
        if target == TMP_LOAD {
            assert_exit(&out, 0);
            continue;
        }
        assert_exit(&out, 1);
        assert!(
            stderr_of(&out).contains(&format!("--target {target:?} is not a planned delete")),
            "{}",
            stderr_of(&out)
        );
    }
    assert_eq!(sim.delete_requests(), 2, "only the targeted pools");
    assert_eq!(sim.deletes_for(TMP_LOAD), 1);
    assert_eq!(sim.deletes_for(TRAINING), 0);
}

// --- 14. apply --format jsonl ----------------------------------------------------------------

#[test]
fn apply_jsonl_streams_one_event_per_line_for_a_whole_run() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args([
            "apply",
            "--auto-approve",
            "--format",
            "jsonl",
            "-f",
            &example_config(),
        ])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let events: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for e in &events {
        assert!(e["type"].is_string(), "{e}");
        let time = e["time"].as_str().unwrap();
        humantime::parse_rfc3339(time).unwrap_or_else(|err| panic!("{time}: {err}"));
        if e["type"] != "summary" {
            assert!(e["pool"]["id"].is_string(), "{e}");
        }
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let count = |k: &str| kinds.iter().filter(|x| **x == k).count();
    assert_eq!(&kinds[..3], ["planned", "planned", "planned"], "{kinds:?}");
    assert_eq!(count("planned"), 3);
    assert_eq!(count("step_started"), 3);
    assert_eq!(count("step_finished"), 3);
    assert_eq!(count("verified"), 2, "the two pools deleted are verified");
    assert_eq!(*kinds.last().unwrap(), "summary");
    let first_finish = kinds.iter().position(|k| *k == "step_finished").unwrap();
    let first_start = kinds.iter().position(|k| *k == "step_started").unwrap();
    assert!(first_start < first_finish);
    let summary = events.last().unwrap();
    assert_eq!(summary["end"], "blocked");
    assert_eq!(summary["exit_code"], 2);
    assert_eq!(
        summary["summary"],
        json!({"deleted": 2, "already_absent": 0, "blocked": 1, "failed": 0, "skipped": 0})
    );
    let blocked = events
        .iter()
        .find(|e| e["type"] == "step_finished" && e["outcome"] == "blocked")
        .unwrap();
    assert_eq!(blocked["pool"]["id"], TRAINING);
    assert_eq!(blocked["error"]["status"], 409);
    assert_eq!(blocked["desktops"].as_array().unwrap().len(), 3);
}

#[test]
fn apply_jsonl_reports_retries() {
    let sim = generated_sim(1, |c| {
        c.transient_conflict = 2;
    });
    let dir = tempfile::tempdir().unwrap();
    let scope = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "--format", "jsonl", "-f"])
        .arg(&scope)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let retries: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["type"] == "retry")
        .collect();
    assert_eq!(retries.len(), 2, "{}", stdout_of(&out));
    assert_eq!(retries[0]["attempt"], 1);
    assert_eq!(retries[0]["error"]["status"], 409);
    assert!(retries[0]["delay_ms"].is_u64());
}

/// The flags `poolform <command> --help` lists.
pub(crate) fn flags_of(command: &str) -> Vec<String> {
    let out = poolform_bare().args([command, "--help"]).output().unwrap();
    stdout_of(&out)
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| w.starts_with('-') && w.len() > 1)
        .map(|w| w.split('=').next().unwrap().to_owned())
        .collect()
}

// --- README's command reference -----------------------------------------------------------

const REFERENCE_FILE: &str = "docs/reference.md";
const REFERENCE_START: &str = "<!-- command reference: generated from `poolform <command> --help`; tests/it/usage.rs checks it (UPDATE_README=1 rewrites it) -->";
const REFERENCE_END: &str = "<!-- end of command reference -->";

/// The reference as README should hold it: each command's `--help`.
fn reference() -> String {
    let mut out = String::from(REFERENCE_START);
    out.push('\n');
    for command in [
        "",
        "validate",
        "plan",
        "apply",
        "show",
        "import",
        "schema",
        "completions",
    ] {
        let mut args: Vec<&str> = Vec::new();
        if !command.is_empty() {
            args.push(command);
        }
        args.push("--help");
        let help = poolform_bare().args(&args).output().unwrap();
        let text: String = stdout_of(&help)
            .lines()
            .map(|l| format!("{}\n", l.trim_end()))
            .collect();
        let title = if command.is_empty() {
            "poolform --help".to_owned()
        } else {
            format!("poolform {command} --help")
        };
        out.push_str(&format!(
            "\n<details><summary><code>{title}</code></summary>\n\n```text\n{}```\n\n</details>\n",
            text
        ));
    }
    out.push('\n');
    out.push_str(REFERENCE_END);
    out
}

#[test]
fn readmes_command_reference_matches_help_for_every_command() {
    let path = repo_file(REFERENCE_FILE);
    let readme = fs::read_to_string(&path).unwrap();
    let want = reference();
    let (start, end) = match (readme.find(REFERENCE_START), readme.find(REFERENCE_END)) {
        (Some(s), Some(e)) => (s, e + REFERENCE_END.len()),
        _ => panic!("README has no command reference section; run with UPDATE_README=1"),
    };
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{want}{}", &readme[..start], &readme[end..]);
        fs::write(&path, updated).unwrap();
        return;
    }
    assert!(
        readme[start..end] == want,
        "README's command reference differs from --help; run UPDATE_README=1 cargo test --test it usage::readmes_command_reference"
    );
    // and the synopsis names every flag, and only flags that exist
    let synopsis_start = readme.find("## Commands and exit codes").unwrap();
    let synopsis = &readme[synopsis_start..];
    let opened = synopsis.find("```\n").unwrap() + 4;
    let synopsis = &synopsis[opened..opened + synopsis[opened..].find("```").unwrap()];
    let mut all = Vec::new();
    for command in [
        "validate",
        "plan",
        "apply",
        "show",
        "import",
        "schema",
        "completions",
    ] {
        for flag in flags_of(command) {
            if flag.starts_with("--") && !["--help", "--version"].contains(&flag.as_str()) {
                assert!(
                    synopsis.contains(&flag),
                    "README's synopsis lacks poolform {command} {flag}"
                );
                all.push(flag);
            }
        }
    }
    for word in synopsis.split(|c: char| c.is_whitespace() || "[]|,".contains(c)) {
        if word.starts_with("--") {
            assert!(
                all.iter().any(|f| f == word),
                "README's synopsis names {word}, which no command takes"
            );
        }
    }
}

/// The habits a newcomer brings get the tip that works, before any call: `plan
/// --auto-approve`, `-input=false`, a dry run, `protects:`, a tab in the indentation.
#[test]
fn newcomers_habits_get_the_tip_that_works_and_send_nothing() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["plan", "--auto-approve"],
            "plan never deletes and asks nothing; --auto-approve belongs to apply",
        ),
        (
            &["plan", "-input=false"],
            "plan never asks; apply asks only on a terminal",
        ),
        (
            &["apply", "--dry-run"],
            "poolform has no dry run; `poolform plan` shows what apply would delete",
        ),
    ];
    for (args, want) in cases {
        let out = poolform(&sim)
            .current_dir(dir.path())
            .args(*args)
            .args(["-f", &example_config()])
            .output()
            .unwrap();
        assert_exit(&out, 1);
        assert!(
            stderr_of(&out).contains(want),
            "{args:?}: {}",
            stderr_of(&out)
        );
    }
    for (yaml, want) in [
        (
            "version: 1\npools: [{id: a}]\nprotects:\n  - name: x\n",
            "did you mean `protect`?",
        ),
        (
            "version: 1\npools:\n\t- id: a\n",
            "YAML does not allow tabs in indentation: indent with spaces",
        ),
    ] {
        let file = write_file(dir.path(), "pools.yaml", yaml);
        for command in ["validate", "plan"] {
            let out = if command == "validate" {
                poolform_bare()
                    .args(["validate", "-f"])
                    .arg(&file)
                    .output()
                    .unwrap()
            } else {
                poolform(&sim)
                    .args(["plan", "-f"])
                    .arg(&file)
                    .output()
                    .unwrap()
            };
            assert_exit(&out, 1);
            assert!(
                stderr_of(&out).contains(want),
                "{yaml:?}: {}",
                stderr_of(&out)
            );
        }
    }
    assert_eq!(sim.api_requests(), 0, "refused before any call");
}

#[test]
fn validate_warns_about_a_region_where_workspace_is_not_known_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "pools.yaml",
        "version: 1\nregion: cn-nort-4\npools: [{name: a}]\n",
    );
    let out = poolform_bare()
        .args(["validate", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("warning: region cn-nort-4") && stderr.contains("did you mean cn-north-4?"),
        "{stderr}"
    );
}

#[test]
fn a_mistyped_allow_agency_is_pointed_at_the_agency_the_file_names() {
    use crate::harness::projects::*;
    let sim = projects_sim(|_| {});
    let dir = checkout(FILE);
    let out = as_tenant_a(&sim, dir.path())
        .args([
            "plan",
            "--endpoint",
            &sim.url(),
            "--allow-agency",
            "poolfrom@tenant-b",
        ])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("assumes agency poolform@tenant-b, which the operator has not allowed (--allow-agency poolfrom@tenant-b was given: a typo?)"),
        "{stderr}"
    );
    assert_eq!(all_requests(&sim), 0, "nothing was sent");
}

/// A host the resolver says does not exist fails at once, with the region's did-you-mean; a
/// temporary failure is retried. The resolver's answers are injected: no test resolves a real
/// host name.
#[test]
fn a_host_that_does_not_exist_fails_at_once_and_a_temporary_dns_failure_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "pools.yaml",
        "version: 1\nscope: {name_prefix: ci-}\n",
    );
    let host = "workspace.cn-nort-4.myhuaweicloud.com";
    let started = std::time::Instant::now();
    let out = poolform_bare()
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT)
        .env("POOLFORM_TEST_RESOLVE", format!("{host}=nxdomain"))
        .args(["plan", "--region", "cn-nort-4", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("no such host (the resolver says so; not retried)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("check the region's spelling (did you mean cn-north-4?)"),
        "{stderr}"
    );
    assert!(!stderr.contains("retrying"), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "does not hang"
    );
    // A temporary failure: retried (the run is stopped once it says so).
    let mut child = poolform_command(
        &[
            "plan",
            "--region",
            "cn-nort-4",
            "-f",
            file.to_str().unwrap(),
        ],
        &[
            ("HW_AUTH_TOKEN", TOKEN),
            ("HW_PROJECT_ID", PROJECT),
            ("POOLFORM_TEST_RESOLVE", &format!("{host}=again")),
        ],
    )
    .stderr(std::process::Stdio::piped())
    .stdout(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        // The progress line is said at most every so often: any retry it reports will do.
        if line.contains("(DNS: the host does not resolve), retrying ") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.contains("(DNS: the host does not resolve), retrying "),
        "{seen}"
    );
}
