//! Many projects in one file, through the binary against one simulator of three projects in
//! two accounts (`harness::projects`): sections, shared rules, fail-closed listings, bindings,
//! `--only`, agencies, keys per account, reports, import, jsonl and `--target`.

use crate::harness::projects::*;
use crate::harness::*;
use serde_json::{json, Value};
use workspace_sim::SimServer;

fn keys(sim: &SimServer) -> Vec<Value> {
    sim.snapshot()["keys"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn lists_of(sim: &SimServer, project: &str) -> u64 {
    sim.snapshot()["projects"][project]["requests"]["list"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn three_projects_are_planned_in_sections_with_the_files_protect_in_every_one() {
    let sim = self::projects_sim(|_| {});
    let dir = checkout(FILE);
    let out = run(&sim, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_exit(&out, 2);
    let stdout = stdout_of(&out);
    for label in [L1, L2, L3] {
        assert!(stdout.contains(&format!("== {label} ==")), "{stdout}");
    }
    assert!(
        stdout.contains(
            "All 3 projects: Plan: 3 to delete, 0 missing, 0 drifted, 3 protected, 2 unchanged."
        ),
        "{stdout}"
    );
    let stderr = stderr_of(&out);
    let identity: Vec<&str> = stderr.lines().filter(|l| l.contains("Acting as")).collect();
    assert_eq!(
        identity.len(),
        3,
        "one identity line per project, before the calls: {stderr}"
    );
    assert!(
        identity[0].starts_with(L1) && identity[2].starts_with(L3),
        "{stderr}"
    );
    assert!(
        identity[2].contains("assuming agency poolform@tenant-b"),
        "{stderr}"
    );
    let json = run(&sim, dir.path(), &["plan", "--format", "json"]);
    assert_exit(&json, 0);
    let plan: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(plan["summary"]["delete"], 3);
    let protected: Vec<String> = plan["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let f = p["findings"].as_array().unwrap();
            assert_eq!(f.len(), 1, "{p}");
            assert_eq!(f[0]["kind"], "protected");
            f[0]["pool"]["name"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        protected,
        ["prod-pay", "lab-prod", "eu-prod"],
        "a top-level glob keeps a pool in every project"
    );
    assert_eq!(
        plan["projects"][1]["project_id"], P2,
        "the subproject was looked up at IAM"
    );
    assert_eq!(sim.delete_requests(), 0);
    // every request of every project reached the endpoint the flag named, and no other host
    let host = sim.url().trim_start_matches("http://").to_owned();
    for project in [P1, P2, P3] {
        let hosts = sim.snapshot()["projects"][project]["hosts"].clone();
        assert_eq!(
            hosts.as_object().unwrap().keys().collect::<Vec<_>>(),
            [&host],
            "{project}: {hosts}"
        );
    }
}

#[test]
fn a_project_cannot_choose_where_the_credentials_go() {
    let sim = projects_sim(|_| {});
    let dir = checkout(&FILE.replace(
        "    project_name: eu-west-101\n",
        "    project_name: eu-west-101\n    cloud: evil.example.com\n",
    ));
    // without --endpoint, the project's endpoint would come from the file's cloud: refused
    let out = as_tenant_a(&sim, dir.path())
        .args(["plan", "--allow-agency", "poolform@tenant-b"])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(
            "names cloud evil.example.com, which is not one of Huawei's public API domains"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("Acting as"),
        "refused before any identity is used: {stderr}"
    );
    assert_eq!(sim.api_requests(), 0);
    assert!(keys(&sim).is_empty(), "no call at all");
}

#[test]
fn one_projects_listing_failing_sends_no_delete_anywhere() {
    let sim = self::projects_sim(|f| f["projects"][1]["fail_list"] = json!(403));
    let dir = checkout(FILE);
    let out = run(&sim, dir.path(), &["apply", "--auto-approve"]);
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!(
            "1 of 3 projects could not be planned ({L2}); nothing was deleted in any project"
        )),
        "{stderr}"
    );
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains(&format!("== {L2} ==\nError: cannot list the live pools")),
        "the plan says which and why: {stdout}"
    );
    assert_eq!(sim.delete_requests(), 0);
    // and plan: exit 1 even with --detailed-exitcode (an error is never hidden behind drift)
    let out = run(
        &sim,
        dir.path(),
        &["plan", "--detailed-exitcode", "-o", "plan.json"],
    );
    assert_exit(&out, 1);
    assert!(
        !dir.path().join("plan.json").exists(),
        "a plan with a failed project is never saved"
    );
}

#[test]
fn a_saved_plan_applied_with_one_projects_endpoint_changed_is_refused_whole() {
    let sim = self::projects_sim(|_| {});
    let dir = checkout(FILE);
    assert_exit(&run(&sim, dir.path(), &["plan", "-o", "plan.json"]), 0);
    let before = sim.snapshot()["requests"].clone();
    let moved = format!(
        "eu-west-101={}",
        sim.url().replace("127.0.0.1", "localhost")
    );
    let out = run(
        &sim,
        dir.path(),
        &[
            "apply",
            "plan.json",
            "--endpoint",
            &sim.url(),
            "--endpoint",
            &moved,
        ],
    );
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!("{L3}: plan.json is for endpoint {}", sim.url())),
        "{stderr}"
    );
    assert_eq!(sim.delete_requests(), 0);
    assert_eq!(
        sim.snapshot()["requests"],
        before,
        "refused before any call"
    );
    // a config changed since the plan: refused whole, no call
    let path = dir.path().join("pools.yaml");
    let original = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        original.replace("{name: eu-ops}", "{name: eu-ops}, {name: eu-tmp}"),
    )
    .unwrap();
    let out = run(&sim, dir.path(), &["apply", "plan.json"]);
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("with SHA-256"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(
        sim.snapshot()["requests"],
        before,
        "refused before any call"
    );
    std::fs::write(&path, original).unwrap();
    // as planned, it applies
    let out = run(&sim, dir.path(), &["apply", "plan.json"]);
    assert_exit(&out, 0);
    assert_eq!(sim.delete_requests(), 3);
}

#[test]
fn only_limits_both_plan_and_apply_and_is_recorded_in_the_saved_plan() {
    let sim = self::projects_sim(|_| {});
    let dir = checkout(FILE);
    let out = run(&sim, dir.path(), &["plan", "--only", L2, "-o", "plan.json"]);
    assert_exit(&out, 0);
    assert!(
        stderr_of(&out).contains(&format!("--only {L2}")),
        "the apply hint repeats --only: {}",
        stderr_of(&out)
    );
    assert_eq!(
        (lists_of(&sim, P1), lists_of(&sim, P3)),
        (0, 0),
        "the others are not listed"
    );
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    assert_eq!(saved["only"], json!([L2]));
    assert_eq!(saved["projects"].as_array().unwrap().len(), 1);
    let out = run(&sim, dir.path(), &["apply", "plan.json"]);
    assert_exit(&out, 0);
    assert_eq!(deletes_sent(&sim), set(&[&id(2, 1)]));
    assert_eq!(lists_of(&sim, P1), 0);
    // apply --only without a saved plan
    let out = run(&sim, dir.path(), &["apply", "--auto-approve", "--only", L3]);
    assert_exit(&out, 0);
    assert_eq!(deletes_sent(&sim), set(&[&id(2, 1), &id(3, 2)]));
    // a label the file does not hold
    let out = run(&sim, dir.path(), &["plan", "--only", "cn-north-4/nope"]);
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains(
            "--only \"cn-north-4/nope\" names no project of pools.yaml; its projects are"
        ),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn an_agency_the_operator_did_not_allow_is_refused_before_any_call() {
    let sim = self::projects_sim(|_| {});
    let dir = checkout(FILE);
    let out = as_tenant_a(&sim, dir.path())
        .args(["apply", "--auto-approve", "--endpoint", &sim.url()])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(stderr.contains("projects[2] of pools.yaml assumes agency poolform@tenant-b, which the operator has not allowed"), "{stderr}");
    assert!(
        stderr.contains("pass --allow-agency poolform@tenant-b"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("Acting as"),
        "refused before any identity is used: {stderr}"
    );
    let before: u64 = keys(&sim)
        .iter()
        .map(|k| k["requests"].as_u64().unwrap())
        .sum();
    // POOLFORM_ALLOW_AGENCIES allows it too, and another agency name does not
    let out = as_tenant_a(&sim, dir.path())
        .env(
            "POOLFORM_ALLOW_AGENCIES",
            "other@tenant-b, poolform@tenant-c",
        )
        .args(["plan", "--endpoint", &sim.url()])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let after: u64 = keys(&sim)
        .iter()
        .map(|k| k["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(before, after, "no call at all");
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn no_accounts_key_ever_reaches_another_accounts_project() {
    let sim = self::projects_sim(|_| {});
    let dir = checkout(FILE);
    let out = run(&sim, dir.path(), &["apply", "--auto-approve"]);
    assert_exit(&out, 0);
    let records = keys(&sim);
    assert!(records.len() >= 4, "{records:?}");
    let owner = |project: &str| sim.snapshot()["projects"][project]["domain"].clone();
    for r in &records {
        let project = r["project"].as_str().unwrap();
        assert_eq!(r["refused"], 0, "{r}");
        if project != "iam" {
            assert_eq!(
                r["domain"],
                owner(project),
                "a key of {} reached {project}",
                r["domain"]
            );
        }
    }
    assert!(
        records
            .iter()
            .any(|r| r["project"] == P3 && r["access_key"].as_str().unwrap().starts_with("TEMPAK")),
        "the agency's key served P3: {records:?}"
    );
    assert!(
        !records
            .iter()
            .any(|r| r["project"] == P3 && r["access_key"] == AK_A),
        "{records:?}"
    );
    // a file that names the other account's project without an agency is refused by it (403),
    // and nothing is deleted anywhere
    let sim = self::projects_sim(|_| {});
    let dir = checkout(&FILE.replace(
        "    project_name: eu-west-101\n    assume_role: {agency: poolform, domain: tenant-b}\n",
        &format!("    project_id: {P3}\n"),
    ));
    let out = run(&sim, dir.path(), &["apply", "--auto-approve"]);
    assert_exit(&out, 1);
    assert!(stdout_of(&out).contains("403"), "{}", stdout_of(&out));
    assert_eq!(sim.delete_requests(), 0);
    let refused: Vec<Value> = keys(&sim)
        .into_iter()
        .filter(|r| r["refused"].as_u64() > Some(0))
        .collect();
    assert!(!refused.is_empty());
    assert!(
        refused
            .iter()
            .all(|r| r["access_key"] == AK_A && r["project"] == P3),
        "{refused:?}"
    );
}

#[test]
fn the_json_report_ends_as_the_worst_of_the_three() {
    // P2's lab-1 holds desktops (blocked); P3's eu-tmp is refused by policy (failed)
    let sim = projects_sim_with(
        |f| f["projects"][1]["pools"][0]["desktop_count"] = json!(2),
        |c| c.forbid_delete = vec![id(3, 2)],
    );
    let dir = checkout(FILE);
    let out = run(
        &sim,
        dir.path(),
        &["apply", "--auto-approve", "--format", "json"],
    );
    assert_exit(&out, 1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ends: Vec<&str> = report["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["end"].as_str().unwrap())
        .collect();
    assert_eq!(ends, ["completed", "blocked", "failed"]);
    assert_eq!(
        report["end"], "failed",
        "an error is never hidden behind blocked"
    );
    assert_eq!(report["summary"]["deleted"], 1);
    assert_eq!(report["projects"][2]["label"], L3);
    assert_eq!(report["projects"][2]["project_id"], P3);
    // without the failure, blocked (2) is the worst
    let sim = self::projects_sim(|f| f["projects"][1]["pools"][0]["desktop_count"] = json!(2));
    let out = run(
        &sim,
        dir.path(),
        &["apply", "--auto-approve", "--format", "json"],
    );
    assert_exit(&out, 2);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["end"], "blocked");
}

#[test]
fn region_and_project_id_name_nothing_in_a_many_project_file() {
    let sim = self::projects_sim(|_| {});
    let dir = checkout(FILE);
    for flag in [["--region", "cn-north-4"], ["--project-id", P1]] {
        let out = run(&sim, dir.path(), &["plan", flag[0], flag[1]]);
        assert_exit(&out, 1);
        let stderr = stderr_of(&out);
        assert!(
            stderr.contains(&format!(
                "{} names nothing in pools.yaml, which lists 3 projects",
                flag[0]
            )),
            "{stderr}"
        );
        assert!(
            stderr.contains("choose projects with --only LABEL"),
            "{stderr}"
        );
    }
    // the variables that would name one are ignored, said once
    let out = as_tenant_a(&sim, dir.path())
        .env("HW_REGION_NAME", "ap-southeast-1")
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
    assert!(
        stderr_of(&out).contains("note: HW_REGION_NAME is ignored"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn import_of_several_projects_writes_a_file_that_plans_in_sync() {
    let sim = projects_sim(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let import = |args: &[&str]| {
        as_tenant_a(&sim, dir.path())
            .args(["import", "--endpoint", &sim.url(), "--region", "cn-north-4"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = import(&["--all-projects", "-o", "pools.yaml"]);
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(dir.path().join("pools.yaml")).unwrap();
    assert!(
        text.contains(&format!("project_id: {P1}")) && text.contains(&format!("project_id: {P2}")),
        "{text}"
    );
    assert!(
        !text.contains(P3),
        "only the account's own projects: {text}"
    );
    let out = run(&sim, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_exit(&out, 0);
    assert!(
        stdout_of(&out).contains("All 2 projects: Plan: 0 to delete"),
        "{}",
        stdout_of(&out)
    );
    // by name; a name IAM does not list is refused with the names it does
    let out = import(&["--project", "cn-north-4_training"]);
    assert_exit(&out, 0);
    assert!(
        stdout_of(&out).contains(P2) && !stdout_of(&out).contains(P1),
        "{}",
        stdout_of(&out)
    );
    let out = import(&["--project", "cn-north-4_trainnig"]);
    assert_exit(&out, 1);
    assert!(stderr_of(&out).contains("IAM lists no project named \"cn-north-4_trainnig\" for these credentials; it lists cn-north-4, cn-north-4_training"), "{}", stderr_of(&out));
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn validate_and_show_speak_of_every_project() {
    let sim = projects_sim(|_| {});
    let dir = checkout(FILE);
    let out = poolform_bare()
        .current_dir(dir.path())
        .args(["validate"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = stdout_of(&out);
    assert!(
        text.starts_with("pools.yaml is valid: 3 projects, 1 protect rule for all of them.\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  {L2}: 0 listed to keep, 1 protect rule, managing pools with name_prefix \"lab-\""
        )),
        "{text}"
    );
    assert_exit(&run(&sim, dir.path(), &["plan", "-o", "plan.json"]), 0);
    let out = poolform_bare()
        .current_dir(dir.path())
        .args(["show", "plan.json"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stdout_of(&out).contains(&format!("== {L3} ==")),
        "{}",
        stdout_of(&out)
    );
    // the JSON forms follow their published schemas
    for (what, doc) in [
        (
            "plan",
            std::fs::read_to_string(dir.path().join("plan.json")).unwrap(),
        ),
        (
            "report",
            stdout_of(&run(
                &sim,
                dir.path(),
                &["apply", "plan.json", "--format", "json"],
            )),
        ),
    ] {
        let schema = poolform_bare()
            .args(["schema", "--for", what])
            .output()
            .unwrap();
        let schema: Value = serde_json::from_slice(&schema.stdout).unwrap();
        let doc: Value = serde_json::from_str(&doc).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{what}: {errors:?}");
    }
    // a many-project file's errors are located in it
    let bad = checkout(&FILE.replace("    scope: {name_prefix: lab-}\n", "    max_deletes: 11\n"));
    let out = poolform_bare()
        .current_dir(bad.path())
        .args(["validate"])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(stderr_of(&out).contains("pools.yaml:11:18: projects[1].max_deletes is 11, higher than the file's max_deletes 10"), "{}", stderr_of(&out));
}

#[test]
fn jsonl_events_name_their_project_and_follow_the_events_schema() {
    let sim = projects_sim(|_| {});
    let dir = checkout(FILE);
    let out = run(
        &sim,
        dir.path(),
        &["apply", "--auto-approve", "--format", "jsonl"],
    );
    assert_exit(&out, 0);
    let schema = poolform_bare()
        .args(["schema", "--for", "events"])
        .output()
        .unwrap();
    let schema: Value = serde_json::from_slice(&schema.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let events: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (last, about_projects) = events.split_last().unwrap();
    for e in &events {
        let errors: Vec<String> = validator.iter_errors(e).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{e}: {errors:?}");
    }
    for e in about_projects {
        assert!(
            [L1, L2, L3].contains(&e["project"].as_str().unwrap()),
            "{e}"
        );
    }
    assert_eq!(last["type"], "summary", "{last}");
    assert!(
        last.get("project").is_none(),
        "the run's own summary: {last}"
    );
    let summaries: Vec<&str> = about_projects
        .iter()
        .filter(|e| e["type"] == "summary")
        .map(|e| e["project"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        [L1, L2, L3],
        "one summary per project, in file order, before the run's"
    );
    let planned: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "planned")
        .map(|e| e["project"].as_str().unwrap())
        .collect();
    assert_eq!(
        planned,
        [L1, L2, L3],
        "each planned delete announced before the steps, with its project"
    );
    let first_step = events.iter().position(|e| e["type"] == "step_started");
    let last_planned = events.iter().rposition(|e| e["type"] == "planned");
    assert!(last_planned < first_step, "planned events come first");
}

#[test]
fn target_selects_one_pool_across_the_projects() {
    let sim = projects_sim(|_| {});
    let dir = checkout(FILE);
    let out = run(
        &sim,
        dir.path(),
        &["plan", "--target", "eu-tmp", "-o", "plan.json"],
    );
    assert_exit(&out, 0);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    assert_eq!(
        saved["only"],
        json!([L3]),
        "only the project holding the target"
    );
    assert_eq!(saved["summary"]["delete"], 1);
    let out = run(&sim, dir.path(), &["apply", "plan.json"]);
    assert_exit(&out, 0);
    assert_eq!(deletes_sent(&sim), set(&[&id(3, 2)]));
    // a target no project plans to delete names the planned deletes
    let out = run(
        &sim,
        dir.path(),
        &["apply", "--auto-approve", "--target", "prod-pay"],
    );
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!("--target \"prod-pay\" is not a planned delete: it is protected (not in pools.yaml but protected by name \"*prod*\") in {L1}; the plan deletes 2 pools: 11110000-0000-4000-8000-000000000002 (\"ci-old\") in {L1}")),
        "{stderr}"
    );
    assert_eq!(deletes_sent(&sim), set(&[&id(3, 2)]));
}

#[test]
fn two_entries_that_are_one_project_and_chained_agencies_are_refused_before_any_delete() {
    let sim = projects_sim(|_| {});
    // by id and by name: the same project, found once both are resolved
    let dir = checkout(&FILE.replace(
        "  - region: cn-north-4\n    project_id: 0bec5db98280d2d02fd6c00c2de791ce\n",
        &format!("  - region: cn-north-4\n    project_id: {P2}\n"),
    ));
    let out = run(&sim, dir.path(), &["apply", "--auto-approve"]);
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!(
            "cn-north-4/{P2} and {L2} are the same project ({P2} at"
        )),
        "{stderr}"
    );
    assert_eq!(lists_of(&sim, P2), 0, "refused before any listing");
    // an agency from the environment beside a file's assume_role: never chained
    let dir = checkout(FILE);
    let out = as_tenant_a(&sim, dir.path())
        .env("HW_ASSUME_ROLE_AGENCY_NAME", "other")
        .env("HW_ASSUME_ROLE_DOMAIN_NAME", "tenant-c")
        .args([
            "plan",
            "--endpoint",
            &sim.url(),
            "--allow-agency",
            "poolform@tenant-b",
        ])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("assumes agency poolform@tenant-b, but HW_ASSUME_ROLE_AGENCY_NAME already assumes agency other: poolform does not chain agencies"),
        "{stderr}"
    );
    assert!(!stderr.contains("Acting as"), "{stderr}");
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn at_the_terminal_one_yes_applies_every_project_after_each_is_checked_again() {
    let sim = projects_sim(|_| {});
    let dir = checkout(FILE);
    let config = dir.path().join("pools.yaml").display().to_string();
    let url = sim.url();
    let mut term = crate::harness::terminal::Terminal::poolform(
        &[
            "apply",
            "-f",
            &config,
            "--endpoint",
            &url,
            "--allow-agency",
            "poolform@tenant-b",
        ],
        &[
            ("HW_ACCESS_KEY", AK_A),
            ("HW_SECRET_KEY", SK_A),
            ("HW_AUTH_URL", &url),
        ],
        200,
        60,
    );
    term.wait_for("the prompt", |s| s.contains("Only 'yes' will be accepted:"));
    assert!(
        term.text().contains("Do you want to delete these 3 pools?"),
        "{}",
        term.text()
    );
    assert_eq!(sim.delete_requests(), 0, "nothing before the yes");
    let lists_before = sim.snapshot()["requests"]["list"].as_u64().unwrap();
    term.type_keys("yes\r");
    let (code, text) = term.finish();
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("All 3 projects: 3 deleted"), "{text}");
    let lists_after = sim.snapshot()["requests"]["list"].as_u64().unwrap();
    assert!(
        lists_after >= lists_before + 3,
        "every project listed again before its deletes"
    );
    assert_eq!(sim.delete_requests(), 3);
}

#[test]
fn two_projects_holding_a_pool_of_the_same_id_each_delete_their_own() {
    // Pool ids are the API's, unique in a project; a DELETE names its project, so one id in two
    // projects is two pools, planned, saved, read back and deleted apart.
    let twin = id(9, 9);
    let sim = projects_sim(|f| {
        for p in [0, 2] {
            f["projects"][p]["pools"]
                .as_array_mut()
                .unwrap()
                .push(json!({"id": twin, "name": "dup-tmp"}));
        }
    });
    let dir = checkout(FILE);
    assert_exit(&run(&sim, dir.path(), &["plan", "-o", "plan.json"]), 0);
    let out = run(&sim, dir.path(), &["apply", "plan.json"]);
    assert_exit(&out, 0);
    let state = sim.snapshot();
    for project in [P1, P3] {
        assert!(
            state["projects"][project]["deletes"]
                .as_object()
                .is_some_and(|d| d.contains_key(&twin)),
            "{project}: {}",
            state["projects"][project]["deletes"]
        );
    }
    assert!(stdout_of(&out).contains("5 deleted"), "{}", stdout_of(&out));
}
