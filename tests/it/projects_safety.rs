//! A run over several projects, attacked as a hostile pull request, a forged plan artifact and
//! a careless operator would attack it (issue 21): a plan of one kind applied with a config of
//! the other, targets that name pools in two projects, caps a saved plan must meet, rules
//! shared by every project, a mistyped `--endpoint REGION=URL`, limits of the whole run, one
//! project written twice, warnings, the last jsonl line, memory, import's identity line, and
//! the calls in flight at a signal. Each asserts the DELETEs (and, where it matters, every
//! request) that reached the simulator.

use crate::harness::projects::*;
use crate::harness::*;
use serde_json::{json, Value};
use std::path::Path;
use workspace_sim::{SimConfig, SimServer};

fn add_pools(f: &mut Value, project: usize, pools: &[Value]) {
    let list = f["projects"][project]["pools"].as_array_mut().unwrap();
    list.extend(pools.iter().cloned());
}

/// A single-project file for the first project.
fn one_project(extra: &str) -> String {
    format!("version: 1\nproject_id: {P1}\nregion: cn-north-4\npools: [{{name: ci-eng}}]\n{extra}")
}

/// Rewrites a saved plan as a forger would: bound to `config`'s SHA-256, without the deletes
/// of the pools named in `drop` (each part's summary, and the whole plan's, kept consistent).
fn forge(plan_file: &Path, config: &str, drop: &[&str]) {
    let mut plan: Value =
        serde_json::from_str(&std::fs::read_to_string(plan_file).unwrap()).unwrap();
    let sha = poolform::core::plan::config_sha256(config.as_bytes());
    let mut dropped = 0;
    let mut cut = |part: &mut Value| {
        let changes = part["changes"].as_array_mut().unwrap();
        let before = changes.len();
        changes.retain(|c| !drop.contains(&c["pool"]["name"].as_str().unwrap()));
        let gone = (before - changes.len()) as u64;
        if part.get("summary").is_some() {
            let delete = part["summary"]["delete"].as_u64().unwrap();
            part["summary"]["delete"] = json!(delete - gone);
        }
        dropped += gone;
    };
    if plan.get("changes").is_some() {
        cut(&mut plan);
        plan["config_sha256"] = json!(sha);
    } else {
        for part in plan["projects"].as_array_mut().unwrap() {
            // A part is the project's plan itself, or holds it under "plan".
            let inner = if part.get("plan").is_some() {
                part["plan"]["config_sha256"] = json!(sha);
                &mut part["plan"]
            } else {
                part
            };
            cut(inner);
        }
        plan["config_sha256"] = json!(sha);
        let delete = plan["summary"]["delete"].as_u64().unwrap();
        plan["summary"]["delete"] = json!(delete - dropped);
    }
    std::fs::write(plan_file, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
}

// ---------------------------------------------------------------------------------------
// 1. A plan and a config of different kinds

#[test]
fn a_single_project_plan_spliced_onto_a_projects_file_is_refused_before_any_call() {
    let sim = projects_sim(|_| {});
    let dir = checkout(FILE);
    let one = format!(
        "version: 1\nproject_id: {P1}\nregion: cn-north-4\npools: []\nallow_delete_all: true\n"
    );
    write_file(dir.path(), "one.yaml", &one);
    let out = run_one(
        &sim,
        dir.path(),
        &["plan", "-f", "one.yaml", "-o", "one.json"],
    );
    assert_exit(&out, 0);
    // Bound to the projects: file, and without the pool its top-level glob would protect:
    // the forged plan deletes ci-eng, which projects[0] keeps.
    forge(&dir.path().join("one.json"), FILE, &["prod-pay"]);
    let before = all_requests(&sim);
    let out = as_tenant_a(&sim, dir.path())
        .env("HW_REGION_NAME", "cn-north-4")
        .env("HW_PROJECT_ID", P1)
        .env("POOLFORM_ALLOW_AGENCIES", "poolform@tenant-b")
        .args(["apply", "one.json", "--endpoint", &sim.url()])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(
            "one.json was made from a file of one project, but pools.yaml lists projects:"
        ),
        "{stderr}"
    );
    assert!(
        stderr.to_lowercase().contains("nothing was sent"),
        "{stderr}"
    );
    assert_eq!(sim.delete_requests(), 0);
    assert_eq!(all_requests(&sim), before, "not one call was made");

    // the other way round: a plan of the projects: file, applied with the one-project file
    let out = run(&sim, dir.path(), &["plan", "-o", "many.json"]);
    assert_exit(&out, 0);
    forge(&dir.path().join("many.json"), &one, &[]);
    let before = all_requests(&sim);
    let out = as_tenant_a(&sim, dir.path())
        .args([
            "apply",
            "many.json",
            "-f",
            "one.yaml",
            "--endpoint",
            &sim.url(),
        ])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(
            "many.json was made from a file with projects:, but one.yaml names one project"
        ),
        "{stderr}"
    );
    assert_eq!(sim.delete_requests(), 0);
    assert_eq!(all_requests(&sim), before, "not one call was made");
}

// ---------------------------------------------------------------------------------------
// 2. A target selects one pool across the whole run

#[test]
fn a_target_that_names_pools_in_two_projects_is_refused_naming_them() {
    let sim = projects_sim(|f| {
        add_pools(f, 0, &[pool(1, 4, "lab-tmp")]);
        add_pools(f, 1, &[pool(2, 3, "lab-tmp")]);
        // a pool of the third project named as a pool of the first is identified
        add_pools(f, 2, &[pool(3, 4, &id(1, 2))]);
    });
    let dir = checkout(FILE);
    for (target, projects) in [("lab-tmp", [L1, L2]), (id(1, 2).as_str(), [L1, L3])] {
        for command in ["plan", "apply"] {
            let mut args = vec![command, "--target", target];
            if command == "apply" {
                args.push("--auto-approve");
            }
            let out = run(&sim, dir.path(), &args);
            assert_exit(&out, 1);
            let stderr = stderr_of(&out);
            for label in projects {
                assert!(stderr.contains(label), "{command} {target}: {stderr}");
            }
            assert!(
                stderr.contains("selects one pool") && stderr.contains("--only"),
                "{command} {target}: {stderr}"
            );
        }
    }
    assert_eq!(sim.delete_requests(), 0);
    // narrowed with --only, the target selects the one pool
    let out = run(
        &sim,
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--target",
            "lab-tmp",
            "--only",
            L2,
        ],
    );
    assert_exit(&out, 0);
    assert_eq!(deletes_sent(&sim), set(&[&id(2, 3)]));
}

// ---------------------------------------------------------------------------------------
// 3. Every apply checks the config's caps

/// Four deletes in the first project, three in the second, one in the third.
fn eight_deletes(f: &mut Value) {
    add_pools(
        f,
        0,
        &[pool(1, 5, "ci-a"), pool(1, 6, "ci-b"), pool(1, 7, "ci-c")],
    );
    add_pools(f, 1, &[pool(2, 5, "lab-x"), pool(2, 6, "lab-y")]);
}

#[test]
fn a_saved_plan_rebound_to_a_config_with_lower_caps_is_refused() {
    let sim = projects_sim(eight_deletes);
    let dir = checkout(FILE);
    let out = run(&sim, dir.path(), &["plan", "-o", "plan.json"]);
    assert_exit(&out, 0);
    let cases = [
        (
            FILE.replace("max_deletes: 10", "max_deletes: 7"),
            "deletes 8 pools in all, more than max_deletes in the config allows for the whole file (7)",
        ),
        (
            FILE.replace(
                "    pools: [{name: ci-eng}]\n",
                "    pools: [{name: ci-eng}]\n    max_deletes: 2\n",
            ),
            &*format!("{L1} deletes 4 pools, more than its limit (2)"),
        ),
    ];
    for (config, want) in &cases {
        write_file(dir.path(), "real.yaml", config);
        std::fs::copy(dir.path().join("plan.json"), dir.path().join("forged.json")).unwrap();
        forge(&dir.path().join("forged.json"), config, &[]);
        let out = run(
            &sim,
            dir.path(),
            &["apply", "forged.json", "-f", "real.yaml"],
        );
        assert_refused(&out, &sim, &[want]);
    }
}

#[test]
fn a_saved_single_project_plan_meets_the_configs_cap_and_the_flag_given_to_apply() {
    let sim = projects_sim(eight_deletes);
    let dir = checkout(&one_project(""));
    let capped = one_project("max_deletes: 1\n");
    let out = run_one(&sim, dir.path(), &["plan", "-o", "plan.json"]);
    assert_exit(&out, 0);
    write_file(dir.path(), "capped.yaml", &capped);
    forge(&dir.path().join("plan.json"), &capped, &[]);
    let out = run_one(
        &sim,
        dir.path(),
        &["apply", "plan.json", "-f", "capped.yaml"],
    );
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("deletes 5 pools, more than max_deletes in the config allows (1)"),
        "{stderr}"
    );
    assert_eq!(sim.delete_requests(), 0);

    // planned past the cap with --max-deletes: applied only with the same flag, which the
    // hint repeats
    let out = run_one(
        &sim,
        dir.path(),
        &[
            "plan",
            "-f",
            "capped.yaml",
            "--max-deletes",
            "5",
            "-o",
            "flag.json",
        ],
    );
    assert_exit(&out, 0);
    assert!(
        stderr_of(&out).contains("--max-deletes 5"),
        "{}",
        stderr_of(&out)
    );
    let out = run_one(
        &sim,
        dir.path(),
        &["apply", "flag.json", "-f", "capped.yaml"],
    );
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("pass --max-deletes 5"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.delete_requests(), 0);
    let out = run_one(
        &sim,
        dir.path(),
        &[
            "apply",
            "flag.json",
            "-f",
            "capped.yaml",
            "--max-deletes",
            "5",
        ],
    );
    assert_exit(&out, 0);
    assert_eq!(sim.delete_requests(), 5);
}

// ---------------------------------------------------------------------------------------
// 4. The file's rules, shared by every project

#[test]
fn file_wide_protect_rules_are_shared_not_copied_into_every_project() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("version: 1\nprotect:\n");
    for i in 0..1500 {
        text.push_str(&format!("  - name: \"keep-{i:05}-*\"\n"));
    }
    text.push_str("projects:\n");
    for i in 0..700 {
        text.push_str(&format!(
            "  - {{region: cn-north-4, project_id: {i:032x}, scope: {{name_prefix: x-}}}}\n"
        ));
    }
    assert!(text.len() > 100_000, "{}", text.len());
    let file = write_file(dir.path(), "pools.yaml", &text);
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("poolform"));
    cmd.env_clear().arg("validate").arg("-f").arg(&file);
    let m = measure::run_measured_within(&mut cmd, std::time::Duration::from_secs(60));
    assert!(!m.timed_out, "validate hung");
    assert_eq!(m.code, Some(0), "{}", String::from_utf8_lossy(&m.stderr));
    assert!(
        String::from_utf8_lossy(&m.stdout).contains("700 projects, 1500 protect rules"),
        "{}",
        String::from_utf8_lossy(&m.stdout)
    );
    assert!(
        m.peak_rss_mib < 200.0,
        "validate of a {} KB config peaked at {:.0} MiB (bound 200)",
        text.len() / 1024,
        m.peak_rss_mib
    );
}

// ---------------------------------------------------------------------------------------
// 5. A mistyped --endpoint REGION=URL

#[test]
fn an_endpoint_for_a_region_no_project_has_is_refused_with_a_did_you_mean() {
    let sim = projects_sim(|_| {});
    let dir = checkout(FILE);
    // Were the typo ignored, the cn-north-4 projects would go to the public endpoint: through a
    // proxy on loopback that nothing answers, so no traffic leaves this machine even then.
    let refused = format!("cn-nort-4={}", sim.url());
    let eu = format!("eu-west-101={}", sim.url());
    let out = as_tenant_a(&sim, dir.path())
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .args([
            "apply",
            "--auto-approve",
            "--allow-agency",
            "poolform@tenant-b",
        ])
        .args(["--endpoint", &refused, "--endpoint", &eu])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("--endpoint cn-nort-4=") && stderr.contains("did you mean cn-north-4"),
        "{stderr}"
    );
    assert_eq!(all_requests(&sim), 0, "refused before any call");
    // --only leaves out the project whose region it named: refused as well
    let out = as_tenant_a(&sim, dir.path())
        .args(["plan", "--allow-agency", "poolform@tenant-b", "--only", L3])
        .args([
            "--endpoint",
            &format!("cn-north-4={}", sim.url()),
            "--endpoint",
            &eu,
        ])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("names no selected project's region"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(all_requests(&sim), 0);
}

// ---------------------------------------------------------------------------------------
// 6. --parallelism and --rate-limit bound the whole run

/// `n` projects in one account-less simulator, each with `deletes` pools to delete (and one
/// to keep), every DELETE taking `delete_latency`.
fn sim_of_projects(n: usize, deletes: u8, set: impl FnOnce(&mut SimConfig)) -> SimServer {
    let projects: Vec<Value> = (0..n).map(|p| project_of(p, deletes)).collect();
    spawn_projects(json!({"projects": projects}), set)
}

/// Project `p` of [`sim_of_projects`], with `deletes` pools to delete.
fn project_of(p: usize, deletes: u8) -> Value {
    let pools: Vec<Value> = (0..=deletes)
        .map(|i| json!({"id": format!("{p:04x}{i:04x}-0000-4000-8000-000000000000"), "name": if i == 0 { "keep".to_owned() } else { format!("tmp-{i}") }}))
        .collect();
    json!({"project_id": format!("{p:032x}"), "name": format!("cn-north-4_p{p}"), "region": "cn-north-4", "pools": pools})
}

/// A `projects:` file of `n` projects, as [`sim_of_projects`] serves them.
fn file_of_projects(n: usize) -> String {
    let mut text = String::from("version: 1\nprojects:\n");
    for p in 0..n {
        text.push_str(&format!(
            "  - {{region: cn-north-4, project_id: {p:032x}, pools: [{{name: keep}}]}}\n"
        ));
    }
    text
}

fn with_token(sim: &SimServer, dir: &Path) -> assert_cmd::Command {
    let mut cmd = poolform_bare();
    cmd.current_dir(dir)
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_AUTH_URL", sim.url());
    cmd
}

#[test]
fn parallelism_and_the_rate_limit_bound_the_whole_run_not_each_project() {
    let sim = sim_of_projects(6, 2, |c| {
        c.faults.delete_latency = std::time::Duration::from_millis(300);
    });
    let dir = checkout(&file_of_projects(6));
    let out = with_token(&sim, dir.path())
        .args(["apply", "--auto-approve", "--endpoint", &sim.url()])
        .args(["--parallelism", "2", "--rate-limit", "4"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(sim.delete_requests(), 12);
    let state = sim.snapshot();
    assert!(
        state["peak_deletes_in_flight"].as_u64().unwrap() <= 2,
        "--parallelism 2: {}",
        state["peak_deletes_in_flight"]
    );
    // a token bucket of one, at 4 per second: at most 5 in any second
    assert!(
        state["peak_requests_per_second"].as_u64().unwrap() <= 5,
        "--rate-limit 4: {}",
        state["peak_requests_per_second"]
    );
}

#[test]
fn a_throttled_project_holds_no_slot_of_the_run_while_it_waits() {
    // Project 0 answers 429 past 2 requests a second; project 1 is not throttled. With
    // --parallelism 2, project 0's six steps wait on its limiter and its retries' pauses
    // without a slot, so project 1's ten deletes are not queued behind them.
    let mut throttled = project_of(0, 6);
    throttled["rate_limit"] = json!(2);
    let sim = spawn_projects(json!({"projects": [throttled, project_of(1, 10)]}), |_| {});
    let dir = checkout(&file_of_projects(2));
    let started = std::time::Instant::now();
    let out = with_token(&sim, dir.path())
        .args(["apply", "--auto-approve", "--endpoint", &sim.url()])
        .args([
            "--parallelism",
            "2",
            "--format",
            "jsonl",
            "--max-deletes",
            "20",
        ])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "does not hang"
    );
    let finished: Vec<String> = stdout_of(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "step_finished")
        .map(|e| e["project"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(finished.len(), 16, "{finished:?}");
    let throttled = format!("cn-north-4/{:032x}", 0);
    let last_free = finished.iter().rposition(|p| *p != throttled).unwrap();
    let throttled_before = finished[..last_free]
        .iter()
        .filter(|p| **p == throttled)
        .count();
    assert!(
        throttled_before <= 3,
        "the free project's deletes finished only after {throttled_before} of the throttled one's six: {finished:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 7. One project written twice

#[test]
fn one_project_in_two_letter_cases_is_refused_as_one_project() {
    let sim = projects_sim(|_| {});
    let upper = P1.to_ascii_uppercase();
    for second in [
        format!("  - region: cn-north-4\n    project_id: {upper}\n    scope: {{name_prefix: ci-}}\n    pools: []\n"),
        // a project_name that IAM resolves to the id the first entry spells in upper case
        "  - region: cn-north-4\n    project_name: cn-north-4\n    scope: {name_prefix: ci-}\n    pools: []\n".to_owned(),
    ] {
        let first = if second.contains("project_name") { upper.as_str() } else { P1 };
        let text = format!(
            "version: 1\nprojects:\n  - region: cn-north-4\n    project_id: {first}\n    pools: [{{name: ci-eng}}]\n{second}"
        );
        let dir = checkout(&text);
        let out = run_one(&sim, dir.path(), &["apply", "--auto-approve"]);
        assert_refused(&out, &sim, &[]);
        let stderr = stderr_of(&out);
        assert!(
            stderr.contains("are the same project") || stderr.contains("as projects[0] is"),
            "{stderr}"
        );
        assert_eq!(requests_to(&sim, "list"), 0, "refused before any listing");
    }
}

// ---------------------------------------------------------------------------------------
// 8. Resolution warnings

#[test]
fn a_run_over_several_projects_says_its_resolution_warnings() {
    let sim = projects_sim(|_| {});
    let dir = checkout(FILE);
    let shared = dir.path().join("config.json");
    std::fs::write(
        &shared,
        json!({"current": "ci", "profiles": [{"name": "ci", "mode": "AKSK", "accessKeyId": AK_A, "secretAccessKey": SK_A}]}).to_string(),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let out = poolform_bare()
        .current_dir(dir.path())
        .env("HW_SHARED_CONFIG_FILE", &shared)
        .env("HW_AUTH_URL", sim.url())
        .args([
            "plan",
            "--endpoint",
            &sim.url(),
            "--allow-agency",
            "poolform@tenant-b",
        ])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("is readable by group or others (mode 644)"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// 9. The last jsonl line is the run's

#[test]
fn a_jsonl_stream_ends_with_the_runs_own_summary() {
    // the third project's only delete is forbidden: that project, and the run, fail
    let sim = spawn_projects(projects_fixture(), |c| c.forbid_delete = vec![id(3, 2)]);
    let dir = checkout(FILE);
    let out = run(
        &sim,
        dir.path(),
        &["apply", "--auto-approve", "--format", "jsonl"],
    );
    assert_exit(&out, 1);
    let lines: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "summary", "{last}");
    assert!(last.get("project").is_none(), "the run's own line: {last}");
    assert_eq!(last["exit_code"], 1, "{last}");
    assert_eq!(last["end"], "failed", "{last}");
    assert_eq!(last["summary"]["deleted"], 2, "{last}");
    let per_project: Vec<&Value> = lines
        .iter()
        .filter(|l| l["type"] == "summary" && l.get("project").is_some())
        .collect();
    assert_eq!(
        per_project.len(),
        3,
        "one summary per project, before the run's"
    );
    assert_eq!(deletes_sent(&sim), set(&[&id(1, 2), &id(2, 1), &id(3, 2)]));
}

// ---------------------------------------------------------------------------------------
// 10. Memory: hostile pages in every project

#[test]
fn flooded_pages_in_six_projects_stay_within_the_runs_memory_bound() {
    for flood in [workspace_sim::Flood::Names, workspace_sim::Flood::Tags] {
        let sim = sim_of_projects(6, 1, |c| c.hostile.flood = Some(flood));
        let dir = checkout(&file_of_projects(6));
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("poolform"));
        cmd.env_clear()
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env("HW_AUTH_TOKEN", TOKEN)
            .args(["plan", "--endpoint", &sim.url()]);
        let m = measure::run_measured_within(&mut cmd, std::time::Duration::from_secs(120));
        assert!(!m.timed_out, "plan hung");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&m.stdout),
            String::from_utf8_lossy(&m.stderr),
        );
        assert_eq!(m.code, Some(1), "{stderr}");
        // each project's section says why it could not be planned
        assert!(
            stdout.contains("more than the 128 MiB of decoded pools poolform will hold"),
            "{flood:?}: {stdout}"
        );
        assert!(
            stderr.contains("6 of 6 projects could not be planned"),
            "{stderr}"
        );
        eprintln!(
            "six projects flooded with {flood:?}: peak {:.0} MiB",
            m.peak_rss_mib
        );
        assert!(
            m.peak_rss_mib < 300.0,
            "six projects flooded with {flood:?} peaked at {:.0} MiB (bound 300 for the run)",
            m.peak_rss_mib
        );
        assert_eq!(sim.delete_requests(), 0);
    }
}

// ---------------------------------------------------------------------------------------
// 11. import of several projects

#[test]
fn import_of_several_projects_says_whose_identity_first_and_why_none_is_regional() {
    // IAM unreachable: the identity line is said before the first call all the same
    let dir = tempfile::tempdir().unwrap();
    let out = poolform_bare()
        .current_dir(dir.path())
        .env("HW_ACCESS_KEY", AK_A)
        .env("HW_SECRET_KEY", SK_A)
        .env("HW_AUTH_URL", "http://127.0.0.1:9")
        .args(["import", "--all-projects", "--region", "cn-north-4"])
        .args(["--endpoint", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.lines().next().unwrap_or("").contains("Acting as"),
        "the identity line comes first: {stderr}"
    );
    // an account whose only project is not a region's
    let sim = projects_sim(|f| {
        f["projects"] = json!([{"project_id": P1, "name": "MOS", "region": "cn-north-4", "domain": "tenant-a", "pools": []}]);
    });
    let out = as_tenant_a(&sim, dir.path())
        .args(["import", "--all-projects", "--region", "cn-north-4"])
        .args(["--endpoint", &sim.url()])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("IAM lists no regional project") && stderr.contains("MOS"),
        "{stderr}"
    );
    assert!(!stderr.contains("bug"), "{stderr}");
}

// ---------------------------------------------------------------------------------------
// 12. The calls in flight when a signal comes

#[test]
fn a_signal_during_a_run_over_several_projects_counts_every_call_in_flight() {
    let sim = sim_of_projects(4, 2, |c| {
        c.faults.delete_latency = std::time::Duration::from_secs(3);
    });
    let dir = checkout(&file_of_projects(4));
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("poolform"))
        .env_clear()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("HW_AUTH_TOKEN", TOKEN)
        .args(["apply", "--auto-approve", "--endpoint", &sim.url()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("eight DELETEs in flight", || sim.delete_requests() == 8);
    send_signal(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 143);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("waiting for the 8 calls in flight"),
        "{stderr}"
    );
}
