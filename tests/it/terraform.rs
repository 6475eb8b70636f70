//! Pools that Terraform manages, and the percentage cap, through the binaries: a pool a state
//! manages (state v4, `show -json` with nested modules, `count`, `for_each`, tainted, deposed)
//! is kept and reported by its address; a `data` source keeps nothing; every state poolform
//! cannot read whole is refused before any request; state paths stay inside the config's
//! folder; a saved plan is bound to its states; `max_deletes_percent` at its boundary. Every
//! test asserts exactly which DELETEs reached the simulator.

use crate::harness::*;
use serde_json::{json, Value};
use std::fs;
use std::path::Path;

fn pool(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "type": "DYNAMIC"})
}

/// Six pools in scope: four kept by states, one only named by a `data` source, one kept by
/// nothing.
fn state_pools() -> Value {
    json!([
        pool("count-0", "lab-count-0"),
        pool("each-k", "lab-each-k"),
        pool("deposed-1", "lab-deposed"),
        pool("nested-1", "lab-nested"),
        pool("data-only", "lab-data-only"),
        pool("loose-1", "lab-loose"),
    ])
}

/// A state version 4: `count`, `for_each` (tainted), a deposed instance, a `data` source.
const STATE_V4: &str = r#"{"version": 4, "terraform_version": "1.9.5", "serial": 7, "lineage": "3f1c",
  "outputs": {"admin_password": {"value": "s3cret-never-printed", "type": "string", "sensitive": true}},
  "resources": [
    {"mode": "managed", "type": "huaweicloud_workspace_desktop_pool", "name": "lab", "provider": "provider[\"registry.terraform.io/huaweicloud/huaweicloud\"]",
     "instances": [{"index_key": 0, "attributes": {"id": "count-0", "name": "lab-count-0", "password": "s3cret-never-printed"}}]},
    {"module": "module.teams", "mode": "managed", "type": "huaweicloud_workspace_desktop_pool", "name": "team",
     "instances": [{"index_key": "k", "status": "tainted", "attributes": {"id": "each-k"}},
                   {"index_key": "old", "deposed": "7a3b9c", "attributes": {"id": "deposed-1"}}]},
    {"mode": "data", "type": "huaweicloud_workspace_desktop_pool", "name": "all",
     "instances": [{"attributes": {"id": "data-only"}}]}
  ]}"#;

/// `terraform show -json`: the pool in a module two levels down.
const SHOW_JSON: &str = r#"{"format_version": "1.0", "terraform_version": "1.9.5", "values": {"root_module": {
  "resources": [],
  "child_modules": [{"address": "module.a", "child_modules": [{"address": "module.a.module.b", "resources": [
    {"address": "module.a.module.b.huaweicloud_workspace_desktop_pool.p", "mode": "managed",
     "type": "huaweicloud_workspace_desktop_pool", "name": "p", "values": {"id": "nested-1", "password": "s3cret-never-printed"}}]}]}]}}}"#;

fn config_in(dir: &Path, extra: &str) -> std::path::PathBuf {
    scope_file(
        dir,
        &format!("version: 1\nscope: {{name_prefix: lab-}}\npools: []\n{extra}"),
    )
}

#[test]
fn pools_a_state_manages_are_kept_and_reported_by_address_and_a_data_source_keeps_nothing() {
    let sim = sim_of(state_pools());
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("states")).unwrap();
    write_file(&dir.path().join("states"), "lab.tfstate", STATE_V4);
    let shown = write_file(dir.path(), "shown.json", SHOW_JSON);
    let config = config_in(dir.path(), "keep_terraform_state: [\"states/*.tfstate\"]\n");
    let out = poolform(&sim)
        .args(["plan", "--format", "json", "-f"])
        .arg(&config)
        .arg("--terraform-state")
        .arg(&shown)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings: Vec<(String, String)> = plan["projects"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "terraform")
        .map(|f| {
            (
                f["pool"]["id"].as_str().unwrap().to_owned(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            (
                "count-0".to_owned(),
                "huaweicloud_workspace_desktop_pool.lab[0]".to_owned()
            ),
            (
                "deposed-1".to_owned(),
                "module.teams.huaweicloud_workspace_desktop_pool.team[\"old\"] (deposed 7a3b9c)"
                    .to_owned()
            ),
            (
                "each-k".to_owned(),
                "module.teams.huaweicloud_workspace_desktop_pool.team[\"k\"] (tainted)".to_owned()
            ),
            (
                "nested-1".to_owned(),
                "module.a.module.b.huaweicloud_workspace_desktop_pool.p".to_owned()
            ),
        ]
    );
    assert_eq!(plan["summary"]["terraform"], 4);
    assert_eq!(plan["summary"]["terraform_not_live"], 0);
    assert_eq!(plan["terraform_states"].as_array().unwrap().len(), 2);
    // Human output names the address and the file; no other attribute is ever printed.
    let out = poolform(&sim)
        .args(["plan", "-f"])
        .arg(&config)
        .arg("--terraform-state")
        .arg(&shown)
        .output()
        .unwrap();
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains("managed by terraform: huaweicloud_workspace_desktop_pool.lab[0] (")
            && stdout.contains("lab.tfstate)"),
        "{stdout}"
    );
    assert!(!stdout.contains("s3cret") && !stderr_of(&out).contains("s3cret"));
    // A managed pool cannot be targeted.
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "--target", "lab-count-0", "-f"])
        .arg(&config)
        .arg("--terraform-state")
        .arg(&shown)
        .output()
        .unwrap();
    assert_refused(&out, &sim, &["lab-count-0", "managed by terraform"]);
    // Applied: only the pools no state manages (a data source keeps nothing).
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "-f"])
        .arg(&config)
        .arg("--terraform-state")
        .arg(&shown)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(deletes_sent(&sim), set(&["data-only", "loose-1"]));
}

#[test]
fn a_state_poolform_cannot_read_whole_is_refused_before_any_request() {
    let sim = sim_of(state_pools());
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path(), "");
    let truncated = &STATE_V4[..STATE_V4.len() / 2];
    let cases: Vec<(&str, String, &str)> = vec![
        ("v3.tfstate", STATE_V4.replace("\"version\": 4", "\"version\": 3"), "it is a state of version 3"),
        ("v2.json", SHOW_JSON.replace("\"1.0\"", "\"2.0\""), "its format_version is \"2.0\""),
        ("enc.tfstate", r#"{"serial": 1, "lineage": "x", "meta": {}, "encrypted_data": "AAAA", "encryption_version": "v0"}"#.to_owned(), "encrypted OpenTofu state; give poolform `tofu show -json`"),
        ("bad.tfstate", "{\"version\": 4, oops}".to_owned(), "it is not valid JSON"),
        ("cut.tfstate", truncated.to_owned(), "truncated"),
        ("list.tfstate", "[]".to_owned(), "neither a Terraform state"),
    ];
    for (name, text, want) in cases {
        let state = write_file(dir.path(), name, &text);
        for command in ["plan", "apply"] {
            let out = poolform(&sim)
                .arg(command)
                .arg("-f")
                .arg(&config)
                .arg("--terraform-state")
                .arg(&state)
                .output()
                .unwrap();
            assert_refused(
                &out,
                &sim,
                &[&format!("terraform state {}", state.display()), want],
            );
        }
    }
    // Not a regular file; larger than 64 MiB; a glob of the config that matches nothing.
    let folder = dir.path().join("a-folder");
    fs::create_dir(&folder).unwrap();
    let big = dir.path().join("big.tfstate");
    fs::File::create(&big)
        .unwrap()
        .set_len(64 * 1024 * 1024 + 1)
        .unwrap();
    for (state, want) in [(&folder, "a-folder"), (&big, "big.tfstate")] {
        let out = poolform(&sim)
            .args(["plan", "-f"])
            .arg(&config)
            .arg("--terraform-state")
            .arg(state)
            .output()
            .unwrap();
        assert_refused(&out, &sim, &[want]);
    }
    let nothing = config_in(dir.path(), "keep_terraform_state: [\"states/*.tfstate\"]\n");
    let out = poolform(&sim)
        .args(["plan", "-f"])
        .arg(&nothing)
        .output()
        .unwrap();
    assert_refused(
        &out,
        &sim,
        &[
            "keep_terraform_state \"states/*.tfstate\"",
            "matches no file",
        ],
    );
    // A directory a glob names is not a state.
    fs::create_dir(dir.path().join("dir.tfstate")).unwrap();
    let globbed = config_in(dir.path(), "keep_terraform_state: [\"*.tfstate\"]\n");
    let out = poolform(&sim)
        .args(["plan", "-f"])
        .arg(&globbed)
        .output()
        .unwrap();
    assert_refused(&out, &sim, &["is not a regular file"]);
    assert_eq!(sim.api_requests(), 0, "no request of any kind");
    // A valid empty state keeps nothing and is not refused.
    let config = config_in(dir.path(), "");
    let empty = write_file(
        dir.path(),
        "empty.json",
        r#"{"version": 4, "resources": []}"#,
    );
    let out = poolform(&sim)
        .args(["plan", "-f"])
        .arg(&config)
        .arg("--terraform-state")
        .arg(&empty)
        .output()
        .unwrap();
    assert_exit(&out, 0);
}

#[test]
fn state_paths_stay_inside_the_config_files_folder() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = write_file(elsewhere.path(), "prod.tfstate", STATE_V4);
    std::os::unix::fs::symlink(&outside, dir.path().join("linked.tfstate")).unwrap();
    let cases = [
        (
            "keep_terraform_state: [../prod.tfstate]\n",
            "leaves the config file's folder (`..`)",
        ),
        ("keep_terraform_state: [/etc/prod.tfstate]\n", "is absolute"),
        (
            "keep_terraform_state: [\"*.tfstate\"]\n",
            "leads out of the config file's folder (a symlink",
        ),
    ];
    for (extra, want) in cases {
        config_in(dir.path(), extra);
        let out = poolform_bare()
            .current_dir(dir.path())
            .arg("validate")
            .output()
            .unwrap();
        assert_exit(&out, 1);
        assert!(
            stderr_of(&out).contains(want),
            "{extra}: {}",
            stderr_of(&out)
        );
    }
    // A glob that names nothing yet is not refused by validate (CI may fetch the state later).
    fs::remove_file(dir.path().join("linked.tfstate")).unwrap();
    config_in(dir.path(), "keep_terraform_state: [\"states/*.tfstate\"]\n");
    let out = poolform_bare()
        .current_dir(dir.path())
        .arg("validate")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    // A config on standard input has no folder.
    let out = poolform_bare()
        .args(["validate", "-f", "-"])
        .write_stdin("version: 1\nscope: {name_prefix: lab-}\npools: []\nkeep_terraform_state: [a.tfstate]\n")
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("standard input has none"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_saved_plan_is_bound_to_its_states_and_an_announcement_reads_them_again() {
    let sim = sim_of(state_pools());
    let dir = tempfile::tempdir().unwrap();
    let state = write_file(dir.path(), "lab.tfstate", STATE_V4);
    let config = config_in(dir.path(), "keep_terraform_state: [lab.tfstate]\n");
    let plan_file = dir.path().join("plan.json");
    let out = poolform(&sim)
        .args(["plan", "-f"])
        .arg(&config)
        .arg("-o")
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    // Terraform adopts lab-loose before the apply: the state changed, the plan is refused.
    fs::write(
        &state,
        STATE_V4.replace(
            "{\"index_key\": 0, \"attributes\": {\"id\": \"count-0\"",
            "{\"index_key\": 1, \"attributes\": {\"id\": \"loose-1\"}}, {\"index_key\": 0, \"attributes\": {\"id\": \"count-0\"",
        ),
    )
    .unwrap();
    let out = poolform(&sim)
        .arg("apply")
        .arg(&plan_file)
        .arg("-f")
        .arg(&config)
        .output()
        .unwrap();
    assert_refused(
        &out,
        &sim,
        &["Terraform's state changed since the plan", "Re-plan"],
    );
    // A state given at plan time must be given again.
    let out = poolform(&sim)
        .args(["plan", "-f"])
        .arg(&config)
        .arg("-o")
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let out = poolform(&sim)
        .arg("apply")
        .arg(&plan_file)
        .arg("-f")
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    // lab-loose is kept now, through the state; nested-1 was in no state given.
    assert_eq!(deletes_sent(&sim), set(&["data-only", "nested-1"]));
}

#[test]
fn the_percentage_cap_allows_exactly_its_share_and_refuses_one_more() {
    // 10 pools in scope, 3 not kept: 30 %.
    let pools: Vec<Value> = (0..10)
        .map(|i| pool(&format!("p-{i}"), &format!("lab-{i}")))
        .collect();
    let sim = sim_of(Value::Array(pools));
    let dir = tempfile::tempdir().unwrap();
    let keep: String = (3..10).map(|i| format!("  - name: lab-{i}\n")).collect();
    let file = |pct: &str| {
        scope_file(
            dir.path(),
            &format!("version: 1\nscope: {{name_prefix: lab-}}\nmax_deletes_percent: {pct}\npools:\n{keep}"),
        )
    };
    let config = file("29.9");
    let out = poolform(&sim)
        .args(["plan", "-f"])
        .arg(&config)
        .output()
        .unwrap();
    assert_refused(
        &out,
        &sim,
        &[
            "deletes 3 of the 10 live pools in scope",
            "max_deletes_percent in the config allows (29.9%)",
            "--max-deletes-percent 30",
        ],
    );
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "-f"])
        .arg(&config)
        .output()
        .unwrap();
    assert_refused(&out, &sim, &["max_deletes_percent"]);
    // The flag replaces the file's value; exactly at the share is allowed.
    let out = poolform(&sim)
        .args([
            "apply",
            "--auto-approve",
            "--max-deletes-percent",
            "30",
            "-f",
        ])
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(deletes_sent(&sim), set(&["p-0", "p-1", "p-2"]));
}

#[test]
fn the_percentage_cap_holds_in_each_project_of_a_projects_file() {
    use crate::harness::projects::*;
    // cn-north-4/…: 1 of 3 in scope; the training project 1 of 2 (50 %); eu-west-101 1 of 3.
    let sim = projects_sim(|_| {});
    for (pct, allowed) in [("50", true), ("49.99", false)] {
        let dir = checkout(&FILE.replace(
            "max_deletes: 10",
            &format!("max_deletes: 10\nmax_deletes_percent: {pct}"),
        ));
        let out = run(&sim, dir.path(), &["plan"]);
        if allowed {
            assert_exit(&out, 0);
        } else {
            assert_exit(&out, 1);
            let stderr = stderr_of(&out);
            assert!(
                stderr.contains(
                    "deletes 1 of the 2 live pools in scope of cn-north-4/cn-north-4_training"
                ),
                "{stderr}"
            );
        }
    }
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn import_leaves_the_managed_pools_out_and_keeps_them_through_the_state() {
    let sim = sim_of(state_pools());
    let dir = tempfile::tempdir().unwrap();
    let state = write_file(dir.path(), "lab.tfstate", STATE_V4);
    let out_file = dir.path().join("pools.yaml");
    let out = poolform(&sim)
        .args(["import", "-o"])
        .arg(&out_file)
        .arg("--terraform-state")
        .arg(&state)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let written = fs::read_to_string(&out_file).unwrap();
    assert!(
        written.contains("keep_terraform_state:\n  - lab.tfstate\n"),
        "{written}"
    );
    for managed in ["count-0", "each-k", "deposed-1"] {
        assert!(!written.contains(managed), "{managed} in {written}");
    }
    assert!(
        written.contains("data-only") && written.contains("loose-1"),
        "{written}"
    );
    // In sync: nothing to delete.
    let out = poolform(&sim)
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    // A state outside the written file's folder is not written; the run says what to do.
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = write_file(elsewhere.path(), "lab.tfstate", STATE_V4);
    let out = poolform(&sim)
        .args(["import", "--force", "-o"])
        .arg(&out_file)
        .arg("--terraform-state")
        .arg(&outside)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stderr_of(&out).contains("pass --terraform-state"),
        "{}",
        stderr_of(&out)
    );
    assert!(!fs::read_to_string(&out_file)
        .unwrap()
        .contains("keep_terraform_state"));
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn a_pool_in_a_state_that_is_not_live_is_a_note_not_drift() {
    let sim = sim_of(json!([pool("loose-1", "lab-loose")]));
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "lab.tfstate", STATE_V4);
    let config = scope_file(
        dir.path(),
        "version: 1\nscope: {name_prefix: lab-}\npools: [{name: lab-loose}]\nkeep_terraform_state: [lab.tfstate]\n",
    );
    let out = poolform(&sim)
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains("huaweicloud_workspace_desktop_pool.lab[0] (")
            && stdout.contains("names this pool, but it is not live: Terraform's drift"),
        "{stdout}"
    );
    assert!(stdout.contains("3 in a state but not live"), "{stdout}");
}

#[test]
fn a_state_on_standard_input_keeps_its_pools_and_an_announcement_reads_the_states_again() {
    use std::sync::Arc;
    use workspace_sim::SimClock;
    let mut c = config(fixture(state_pools()));
    let clock = Arc::new(SimClock::frozen_at(
        poolform::core::time::Instant::parse("2026-12-01T09:00:00Z").unwrap(),
    ));
    c.clock = clock.clone();
    let sim = spawn(c);
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path(), "");
    // `-`: the state on standard input.
    let out = poolform(&sim)
        .args(["plan", "--format", "json", "--terraform-state", "-", "-f"])
        .arg(&config)
        .write_stdin(STATE_V4)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["terraform"], 3, "{plan}");
    assert_eq!(plan["terraform_states"][0]["file"], "<stdin>");
    // An announcement made with no state; Terraform adopts lab-loose during the notice.
    let announcement = dir.path().join("announcement.json");
    let out = poolform(&sim)
        .args(["plan", "--notice", "1d", "-o"])
        .arg(&announcement)
        .arg("-f")
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let state = write_file(
        dir.path(),
        "adopted.tfstate",
        &STATE_V4.replace("\"count-0\"", "\"loose-1\""),
    );
    clock.advance(86_400);
    let out = poolform(&sim)
        .arg("apply")
        .arg(&announcement)
        .arg("-f")
        .arg(&config)
        .arg("--terraform-state")
        .arg(&state)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    // Not bound to the states (none were given when it was made): read again, it only
    // shrinks.
    assert_eq!(
        deletes_sent(&sim),
        set(&["count-0", "data-only", "nested-1"]),
        "{}",
        stderr_of(&out)
    );
    let report = report_of(&out);
    let dropped: Vec<&str> = report["announcement"]["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["pool"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(dropped, ["deposed-1", "each-k", "loose-1"]);
    assert!(
        stderr_of(&out).contains("managed by terraform"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_project_of_a_projects_file_keeps_the_pools_of_its_own_state() {
    use crate::harness::projects::*;
    let sim = projects_sim(|_| {});
    let state = format!(
        r#"{{"version": 4, "resources": [{{"mode": "managed", "type": "huaweicloud_workspace_desktop_pool", "name": "lab", "instances": [{{"attributes": {{"id": "{}"}}}}]}}]}}"#,
        id(2, 1)
    );
    let file = FILE.replace(
        "    scope: {name_prefix: lab-}\n",
        "    scope: {name_prefix: lab-}\n    keep_terraform_state: [training.tfstate]\n",
    );
    let dir = checkout(&file);
    write_file(dir.path(), "training.tfstate", &state);
    let out = run(&sim, dir.path(), &["apply", "--auto-approve"]);
    assert_exit(&out, 0);
    // lab-1 is kept in its project through the state; the other projects' deletes go on.
    assert_eq!(
        deletes_sent(&sim),
        set(&[&id(1, 2), &id(3, 2)]),
        "{}",
        stderr_of(&out)
    );
    assert!(
        stdout_of(&out).contains("Apply complete"),
        "{}",
        stdout_of(&out)
    );
}

#[test]
fn the_apply_hint_repeats_the_states_and_the_percentage_a_plan_was_made_with() {
    let sim = sim_of(state_pools());
    let dir = tempfile::tempdir().unwrap();
    let state = write_file(dir.path(), "lab.tfstate", STATE_V4);
    let config = config_in(dir.path(), "");
    let out = poolform(&sim)
        .args(["plan", "--max-deletes-percent", "50", "-f"])
        .arg(&config)
        .arg("--terraform-state")
        .arg(&state)
        .arg("-o")
        .arg(dir.path().join("plan.json"))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!(
            "--max-deletes-percent 50 --terraform-state {}",
            state.display()
        )),
        "{stderr}"
    );
    // Applied as the hint says: the same states, so not refused.
    let out = poolform(&sim)
        .arg("apply")
        .arg(dir.path().join("plan.json"))
        .arg("-f")
        .arg(&config)
        .args(["--max-deletes-percent", "50", "--terraform-state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        deletes_sent(&sim),
        set(&["data-only", "loose-1", "nested-1"])
    );
}
