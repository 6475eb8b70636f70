//! `poolform apply` as a binary against the simulator: every outcome and exit code, saved
//! plans (stale, vanished, foreign), 401 mid-run, Ctrl-C, --wait-blocked, the prompt, and a
//! fault soak. Every test also checks that no DELETE went to a pool outside the plan.

use crate::harness::ids::*;
use crate::harness::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fs;
use workspace_sim::Faults;

use std::time::{Duration, Instant};

fn outcomes(report: &Value) -> Vec<(String, String)> {
    report["projects"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["pool"]["name"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn apply_deletes_reports_blocked_with_desktops_and_exits_2() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args([
            "apply",
            "--auto-approve",
            "--format",
            "json",
            "-f",
            &example_config(),
        ])
        .assert()
        .code(2);
    let report = report_of(out.get_output());
    assert_eq!(
        outcomes(&report),
        [
            ("ci-old-build".into(), "deleted".into()),
            ("ci-tmp-load-test".into(), "deleted".into()),
            ("ci-training".into(), "blocked".into())
        ]
    );
    let blocked = &report["projects"][0]["results"][2];
    assert_eq!(blocked["error"]["status"], 409);
    assert_eq!(blocked["error"]["error_code"], "WKS.00010032");
    assert!(blocked["error"]["error_msg"]
        .as_str()
        .unwrap()
        .contains("still contains 3 desktops"));
    assert!(blocked["error"]["request_id"]
        .as_str()
        .unwrap()
        .starts_with("sim-"));
    assert_eq!(blocked["detail"], "3 desktops remain: ci-training-000 (user000), ci-training-001 (user001), ci-training-002 (unassigned)");
    assert_eq!(blocked["desktops"].as_array().unwrap().len(), 3);
    assert_eq!(report["projects"][0]["results"][0]["error"], Value::Null);
    for deleted in &report["projects"][0]["results"].as_array().unwrap()[..2] {
        let id = deleted["request_id"].as_str().unwrap_or_default();
        assert!(
            id.starts_with("sim-"),
            "each delete keeps its request id for the audit trail: {deleted}"
        );
    }
    assert_eq!(
        report["summary"],
        json!({"deleted": 2, "already_absent": 0, "blocked": 1, "failed": 0, "skipped": 0})
    );
    only_deletes_for(&sim, &[OLD_BUILD, TMP_LOAD, TRAINING]);
    assert!(sim.pool_ids().contains(&TRAINING.to_owned()));
    assert!(!sim.pool_ids().contains(&OLD_BUILD.to_owned()));
}

#[test]
fn human_report_snapshot() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "-f", "examples/pools.yaml"])
        .current_dir(repo_file(""))
        .assert()
        .code(2);
    let stdout = text(&out.get_output().stdout, &sim);
    let report = stdout.split("Plan: 3 to delete").nth(1).unwrap();
    let report = report.split_once('\n').unwrap().1;
    // request ids differ per run
    let report: String = report
        .split("[request id: ")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_owned()
            } else {
                format!("[request id: REQ]{}", part.split_once(']').unwrap().1)
            }
        })
        .collect();
    insta::assert_snapshot!("apply_human", report);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    for line in [
        "] deleted ci-old-build (",
        "] deleted ci-tmp-load-test (",
        "] blocked ci-training (",
    ] {
        assert!(
            stderr.contains(line),
            "one line per finished step without a terminal: {stderr}"
        );
    }
    assert!(stderr.contains("[3/3] "), "{stderr}");
}

#[test]
fn markdown_report() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args([
            "apply",
            "--auto-approve",
            "--format",
            "markdown",
            "-f",
            &example_config(),
        ])
        .assert()
        .code(2);
    let md = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        md.starts_with(
            "### poolform: Apply complete: 2 deleted, 0 already absent, 1 blocked, 0 failed."
        ),
        "{md}"
    );
    // Everything the human report says: request ids, the blocked advice, the verification.
    assert!(
        md.contains("| blocked | ci-training | `e1e2e3e4-3333-4444-8555-666677778888` | 1 | `sim-"),
        "{md}"
    );
    assert!(md.contains("| DELETE refused: HTTP 409"), "{md}");
    assert!(
        md.contains("\n- 1 pool is blocked: the API refuses"),
        "{md}"
    );
    assert!(md.contains("\n- Verified: 2 of 2 pools gone."), "{md}");
}

#[test]
fn everything_deleted_exits_0_and_a_second_apply_has_nothing_to_do() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pools.yaml");
    fs::write(&file, "version: 1\nscope: {name_prefix: ci-}\npools: [{name: ci-eng}, {name: ci-analytics}, {name: ci-training}, {name: ci-finance-2023}]\nprotect: [{name: \"ci-prod-*\"}, {tag: {key: env}}]\n").unwrap();
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    assert!(String::from_utf8_lossy(&out.get_output().stdout)
        .contains("Apply complete: 3 deleted, 0 already absent, 0 blocked, 0 failed."));
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    assert!(String::from_utf8_lossy(&out.get_output().stderr)
        .contains("No changes. Nothing to delete."));
    assert_eq!(sim.delete_requests(), 3);
    // No min_age in this file: the example's young canary is deleted too.
    only_deletes_for(
        &sim,
        &[OLD_BUILD, TMP_LOAD, "7e57ab1e-7777-4888-8999-aaaabbbbcccc"],
    );
}

#[test]
fn without_a_terminal_or_auto_approve_nothing_is_sent() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args(["apply", "-f", &example_config()])
        .write_stdin("yes\n")
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("refusing to apply: the plan above deletes 3 pools, there is no terminal to confirm on and --auto-approve was not given; nothing was sent"), "{stderr}");
    assert!(deletes_sent(&sim).is_empty(), "no DELETE");
}

#[test]
fn without_a_terminal_nothing_to_delete_ends_0() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(
        dir.path(),
        "version: 1\nscope: {name_prefix: ci-nothing-}\n",
    );
    let out = poolform(&sim)
        .args(["apply", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("No changes. Nothing to delete."),
        "{stderr}"
    );
    assert!(deletes_sent(&sim).is_empty());
}

#[test]
fn lost_delete_answers_end_already_absent_never_failed() {
    let sim = generated_sim(12, |c| {
        c.faults = Faults {
            seed: 5,
            lost_delete_rate: 1.0,
            ..Faults::default()
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "--format", "json", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    let report = report_of(out.get_output());
    for r in report["projects"][0]["results"].as_array().unwrap() {
        assert_eq!(r["outcome"], "already_absent", "{r}");
        assert_eq!(r["attempts"], 2);
        assert!(r["detail"]
            .as_str()
            .unwrap()
            .contains("an earlier attempt got no answer but was applied"));
    }
    assert!(sim.pool_ids().is_empty());
}

#[test]
fn a_429_storm_converges_without_a_rate_hint() {
    let sim = generated_sim(60, |c| {
        c.faults = Faults {
            rate_limit: Some(15),
            ..Faults::default()
        };
        c.anonymous_throttle = true;
    });
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let out = poolform(&sim)
        .args([
            "apply",
            "--auto-approve",
            "--parallelism",
            "16",
            "--format",
            "json",
            "-f",
        ])
        .arg(&file)
        .assert()
        .code(0);
    let report = report_of(out.get_output());
    assert_eq!(report["summary"]["deleted"], 60);
    assert!(sim.pool_ids().is_empty());
}

#[test]
fn a_5xx_and_dropped_connection_storm_converges() {
    let sim = generated_sim(40, |c| {
        c.faults = Faults {
            seed: 11,
            error_rate: 0.35,
            drop_rate: 0.1,
            ..Faults::default()
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    // The listing itself may hit a fault: plan first, the way an operator would retry it.
    let plan_file = dir.path().join("plan.json");
    let mut planned = false;
    for _ in 0..20 {
        if poolform(&sim)
            .args(["plan", "-o"])
            .arg(&plan_file)
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap()
            .status
            .success()
        {
            planned = true;
            break;
        }
    }
    assert!(planned, "a plan within 20 tries");
    let apply = || {
        poolform(&sim)
            .args(["apply", "--format", "json"])
            .arg(&plan_file)
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap()
    };
    let mut out = apply();
    for _ in 0..20 {
        if out.status.code() != Some(1)
            || !String::from_utf8_lossy(&out.stderr).contains("cannot list the live pools")
        {
            break;
        }
        out = apply();
    }
    assert_exit(&out, 0);
    let report = report_of(&out);
    let retried = report["projects"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["attempts"].as_u64().unwrap() > 1)
        .count();
    assert!(retried > 0, "the storm made some steps retry");
    assert!(sim.pool_ids().is_empty());
}

#[test]
fn a_401_mid_run_stops_every_further_call() {
    // the listing is request 1; the 5th request (the 4th DELETE) gets 401
    let sim = generated_sim(10, |c| c.revoke_auth_after = Some(4));
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let out = poolform(&sim)
        .args([
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
            "--format",
            "json",
            "-f",
        ])
        .arg(&file)
        .assert()
        .code(1);
    let report = report_of(out.get_output());
    assert_eq!(
        report["summary"],
        json!({"deleted": 3, "already_absent": 0, "blocked": 0, "failed": 1, "skipped": 6})
    );
    assert!(report["stopped"]
        .as_str()
        .unwrap()
        .contains("authentication failed"));
    let failed = report["projects"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["outcome"] == "failed")
        .unwrap();
    assert_eq!(failed["error"]["status"], 401);
    assert_eq!(failed["attempts"], 1, "401 is never retried");
    assert_eq!(sim.delete_requests(), 4, "no call after the 401");
    assert_eq!(sim.api_requests(), 5);
}

#[test]
fn a_403_fails_that_step_only() {
    let forbidden = workspace_sim::fixture::synthetic_id(2);
    let sim = generated_sim(6, |c| c.forbid_delete = vec![forbidden.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "--format", "json", "-f"])
        .arg(&file)
        .assert()
        .code(1);
    let report = report_of(out.get_output());
    assert_eq!(
        report["summary"],
        json!({"deleted": 5, "already_absent": 0, "blocked": 0, "failed": 1, "skipped": 0})
    );
    assert_eq!(sim.pool_ids(), std::slice::from_ref(&forbidden));
    assert_eq!(sim.deletes_for(&forbidden), 1, "403 is not retried");
}

#[test]
fn a_saved_plan_applies_without_a_prompt() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = save_plan(&sim, dir.path());
    // no terminal, no --auto-approve: a reviewed plan needs neither
    let out = poolform(&sim)
        .arg("apply")
        .arg(&plan_file)
        .args(["-f", &example_config()])
        .assert()
        .code(2);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.contains("Apply complete: 2 deleted, 0 already absent, 1 blocked, 0 failed.")
            && stdout.contains("Verified: 2 of 2 pools gone."),
        "{stdout}"
    );
    only_deletes_for(&sim, &[OLD_BUILD, TMP_LOAD, TRAINING]);
}

#[test]
fn a_stale_saved_plan_is_refused_with_a_diff_and_no_delete() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = save_plan(&sim, dir.path());
    sim.set_desktops(OLD_BUILD, 2);
    let out = apply_saved(&sim, &plan_file).assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("~ ci-old-build (c0ffee00-1111-4222-8333-444455556666)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("- planned desktop_count: 0")
            && stderr.contains("+ live    desktop_count: 2"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("is stale or no longer called for: 1 of its pools changed since it was made"),
        "{stderr}"
    );
    assert_eq!(sim.delete_requests(), 0);
    // a rename is a change too
    let sim = example_sim();
    let plan_file = save_plan(&sim, dir.path());
    let mut rename = serde_json::Map::new();
    rename.insert("name".into(), json!("ci-old-build-renamed"));
    sim.patch_pool(TMP_LOAD, rename);
    apply_saved(&sim, &plan_file).assert().code(1);
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn a_vanished_pool_in_a_saved_plan_counts_as_done() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = save_plan(&sim, dir.path());
    sim.remove_pool(TMP_LOAD);
    sim.set_desktops(TRAINING, 3); // unchanged
    let out = apply_saved(&sim, &plan_file)
        .args(["--format", "json"])
        .assert()
        .code(2);
    let report = report_of(out.get_output());
    let gone = result_for(&report, TMP_LOAD);
    assert_eq!(gone["outcome"], "already_absent");
    assert_eq!(gone["attempts"], 0);
    // gone before this apply: not seen to go, so never "verified", and no failure either
    assert_eq!(gone["verified"], false);
    assert_eq!(gone["absent_before_apply"], true);
    assert!(
        gone["request_id"].as_str().unwrap().starts_with("sim-"),
        "the read that confirmed it is on record: {gone}"
    );
    assert!(gone["detail"].as_str().unwrap().contains(
        "absent before apply: not listed when this apply started, and a read confirms it is gone"
    ));
    assert_eq!(sim.deletes_for(TMP_LOAD), 0);
    only_deletes_for(&sim, &[OLD_BUILD, TRAINING]);
}

#[test]
fn a_corrupt_saved_plan_sends_nothing() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = save_plan(&sim, dir.path());
    let text = fs::read_to_string(&plan_file).unwrap();
    fs::write(&plan_file, &text[..text.len() - 40]).unwrap();
    let out = apply_saved(&sim, &plan_file).assert().code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("looks truncated"));
    // a pool added to the changes by hand does not match a fingerprint
    let edited = text.replacen(
        "\"id\": \"c0ffee00-1111-4222-8333-444455556666\"",
        "\"id\": \"f00dfeed-4444-4555-8666-777788889999\"",
        1,
    );
    fs::write(&plan_file, edited).unwrap();
    let out = apply_saved(&sim, &plan_file).assert().code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr)
        .contains("does not match its fingerprint; the plan was edited by hand"));
    assert_eq!(sim.api_requests(), 1, "only the plan's own listing");
}

#[test]
fn sigint_finishes_in_flight_calls_reports_and_exits_130() {
    // Slow answers keep two DELETEs in flight long enough to interrupt them.
    let sim = generated_sim(20, |c| {
        c.faults = Faults {
            latency: Duration::from_millis(1500),
            ..Faults::default()
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let file = file.display().to_string();
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
            &file,
        ],
    );
    wait_for("two DELETEs in flight", || sim.delete_requests() >= 2);
    send_signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 130);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr.contains(
            "Interrupted (SIGINT): no new calls will start; waiting for the 2 calls in flight"
        ),
        "{stderr}"
    );
    let report = report_of(&out);
    assert_eq!(report["interrupted"], true);
    assert_eq!(
        report["summary"],
        json!({"deleted": 2, "already_absent": 0, "blocked": 0, "failed": 0, "skipped": 18})
    );
    assert_eq!(
        report["projects"][0]["results"].as_array().unwrap().len(),
        20,
        "every step is listed"
    );
    assert_eq!(
        sim.delete_requests(),
        2,
        "no DELETE started after the interrupt"
    );
    assert_eq!(sim.pool_ids().len(), 18);
}

#[test]
fn a_second_sigint_exits_at_once() {
    use std::io::BufRead;
    // DELETEs take far longer than the test waits: only an immediate exit can end it early.
    let sim = generated_sim(10, |c| {
        c.faults = Faults {
            delete_latency: Duration::from_secs(30),
            ..Faults::default()
        };
    });
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let file = file.display().to_string();
    // DELETEs are in flight when both interrupts arrive.
    let mut child = poolform_process(
        &sim,
        &["apply", "--auto-approve", "--format", "json", "-f", &file],
    );
    wait_for("DELETEs in flight", || sim.delete_requests() >= 1);
    send_signal(&child, "INT");
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let first = stderr
        .by_ref()
        .map(Result::unwrap)
        .find(|l| l.starts_with("Interrupted (SIGINT): no new calls will start"));
    assert!(first.is_some(), "the first Ctrl-C is acknowledged");
    send_signal(&child, "INT");
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it waited for the call in flight"
    );
    assert_eq!(status.code(), Some(130));
    let rest: Vec<String> = stderr.map(Result::unwrap).collect();
    assert!(rest.iter().any(|l| l == "Exiting at once."), "{rest:?}");
    assert!(
        sim.delete_requests() <= 8,
        "no DELETE after the first interrupt"
    );
}

#[test]
fn wait_blocked_deletes_a_pool_once_its_desktops_are_gone() {
    let sim = example_sim();
    let config = example_config();
    let child = poolform_process(
        &sim,
        &[
            "apply",
            "--auto-approve",
            "--wait-blocked",
            "60s",
            "--format",
            "json",
            "-f",
            &config,
        ],
    );
    wait_for("the blocked pool's first DELETE", || {
        sim.deletes_for(TRAINING) >= 1
    });
    std::thread::sleep(Duration::from_millis(200));
    assert!(sim.set_desktops(TRAINING, 0));
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 0);
    let report = report_of(&out);
    let training = result_for(&report, TRAINING);
    assert_eq!(training["outcome"], "deleted");
    assert_eq!(training["attempts"], 2);
    assert!(!sim.pool_ids().contains(&TRAINING.to_owned()));
    only_deletes_for(&sim, &[OLD_BUILD, TMP_LOAD, TRAINING]);
}

#[test]
fn wait_blocked_gives_up_when_time_runs_out() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args([
            "apply",
            "--auto-approve",
            "--wait-blocked",
            "1s",
            "--format",
            "json",
            "-f",
            &example_config(),
        ])
        .assert()
        .code(2);
    let report = report_of(out.get_output());
    let training = result_for(&report, TRAINING);
    assert_eq!(training["outcome"], "blocked");
    assert!(
        training["detail"]
            .as_str()
            .unwrap()
            .contains("still blocked when --wait-blocked ran out"),
        "{training}"
    );
}

/// 2,000 pools, 400 holding desktops, 10 % 5xx, 5 % dropped connections, 2 % lost DELETE
/// answers, 200 requests/s: everything deletable goes, the rest is blocked, nothing else is
/// touched, and a second apply deletes nothing new.
#[test]
fn fault_soak_converges() {
    let mut fixture = workspace_sim::Fixture::generated(project(), 2000, "soak-", Some(5));
    // pools outside the plan: another team's, and a protected one
    for (i, name) in ["other-team-a", "other-team-b", "soak-prod-keep"]
        .iter()
        .enumerate()
    {
        let mut p = serde_json::Map::new();
        p.insert("name".into(), json!(name));
        fixture
            .pools
            .push(workspace_sim::fixture::with_defaults(p, 900_000 + i as u64));
    }
    let outside: Vec<String> = fixture.pools[2000..]
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    let mut c = config(fixture);
    c.faults = Faults {
        seed: 2026,
        error_rate: 0.10,
        drop_rate: 0.05,
        lost_delete_rate: 0.02,
        rate_limit: Some(400),
        ..Faults::default()
    };
    let sim = spawn(c);
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(
        dir.path(),
        "version: 1\nscope: {name_prefix: soak-}\nprotect: [{name: \"soak-prod-*\"}]\n",
    );
    let plan_file = dir.path().join("plan.json");
    let plan_once = || {
        poolform(&sim)
            .args(["plan", "-o"])
            .arg(&plan_file)
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap()
    };
    let mut tries = 0;
    while !plan_once().status.success() {
        tries += 1;
        assert!(tries < 30, "the listing kept failing");
    }
    let plan: Value = serde_json::from_str(&fs::read_to_string(&plan_file).unwrap()).unwrap();
    let planned: BTreeSet<String> = plan["projects"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pool"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(planned.len(), 2000);

    let apply = || {
        let mut out = poolform(&sim)
            .args(["apply", "--format", "json"])
            .arg(&plan_file)
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap();
        // the pre-apply listing can hit a fault too; that is exit 1 before any DELETE
        for _ in 0..30 {
            if !String::from_utf8_lossy(&out.stderr).contains("cannot list the live pools") {
                break;
            }
            out = poolform(&sim)
                .args(["apply", "--format", "json"])
                .arg(&plan_file)
                .arg("-f")
                .arg(&file)
                .output()
                .unwrap();
        }
        out
    };
    let out = apply();
    assert_exit(&out, 2);
    let report = report_of(&out);
    let s = &report["summary"];
    assert_eq!(s["blocked"], 400, "{s}");
    assert_eq!(s["failed"], 0, "{s}");
    assert_eq!(s["skipped"], 0, "{s}");
    assert_eq!(
        s["deleted"].as_u64().unwrap() + s["already_absent"].as_u64().unwrap(),
        1600,
        "{s}"
    );
    let remaining: BTreeSet<String> = sim.pool_ids().into_iter().collect();
    assert_eq!(
        remaining.len(),
        403,
        "the 400 blocked and the 3 outside the plan"
    );
    for id in &outside {
        assert!(remaining.contains(id));
        assert_eq!(sim.deletes_for(id), 0, "DELETE for {id}, outside the plan");
    }
    assert!(
        deletes_sent(&sim).is_subset(&planned),
        "no DELETE outside the plan"
    );
    assert!(
        sim.snapshot()["responses"]["429"].as_u64().unwrap_or(0) < 200,
        "the limiter kept 429s rare"
    );

    // The same plan again: most of its pools are gone, so it no longer describes the
    // project; it is refused before a single pool is read one by one.
    let deleted_before = remaining.len();
    let (deletes, shows) = (sim.delete_requests(), requests_to(&sim, "show"));
    let out = apply();
    assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1600 of which the listing does not show; more than 10 and more than a tenth of its deletes"),
        "{stderr}"
    );
    assert_eq!(sim.delete_requests(), deletes);
    assert_eq!(requests_to(&sim, "show"), shows);
    assert_eq!(sim.pool_ids().len(), deleted_before);
}

/// A DELETE refused with 409 while the run is interrupted (its desktops cannot be listed any
/// more) is blocked, with the interruption said, not failed.
#[test]
fn a_pool_refused_with_409_then_interrupted_is_blocked_not_failed() {
    let mut c = config(fixture(json!([
        {"id": "b0000000-0000-4000-8000-000000000001", "name": "ci-busy", "desktop_count": 2}
    ])));
    c.faults = Faults {
        delete_latency: Duration::from_millis(1500),
        ..Faults::default()
    };
    let sim = spawn(c);
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: ci-}\n");
    let file = file.display().to_string();
    let child = poolform_process(
        &sim,
        &["apply", "--auto-approve", "--format", "json", "-f", &file],
    );
    wait_for("the DELETE in flight", || sim.delete_requests() >= 1);
    send_signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 130);
    let report = report_of(&out);
    let result = result_for(&report, "b0000000-0000-4000-8000-000000000001");
    assert_eq!(result["outcome"], "blocked", "{report}");
    assert!(
        result["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("refused with 409; its desktops were not listed: interrupted"),
        "{report}"
    );
    assert_eq!(report["interrupted"], true);
}
