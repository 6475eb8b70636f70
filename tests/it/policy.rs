//! `poolform policy` names exactly the actions of the calls each command makes: the plan's and
//! the apply's calls are recorded by the simulator in runs that take every path (a project
//! looked up by name, an agency, listings without tags, a blocked pool), mapped to actions by
//! a table of Huawei's pages, and compared with what `policy --format json` prints.

use crate::harness::projects::*;
use crate::harness::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The simulator's name for each kind of request, and the action Huawei's page for that API
/// names.
const ACTIONS: &[(&str, &str)] = &[
    ("list", "workspace:desktopPools:list"),
    ("show", "workspace:desktopPools:get"),
    ("desktops", "workspace:desktopPools:listDesktops"),
    ("delete", "workspace:desktopPools:delete"),
    ("iam-projects", "iam:projects:list"),
    ("iam-tokens", "iam:agencies:assume"),
];

/// The actions of the calls the simulator has answered so far.
fn actions_called(sim: &workspace_sim::SimServer) -> BTreeSet<String> {
    let requests = sim.snapshot()["requests"].clone();
    let mut out = BTreeSet::new();
    for (kind, n) in requests.as_object().unwrap() {
        if n.as_u64().unwrap_or(0) == 0 {
            continue;
        }
        let action = ACTIONS
            .iter()
            .find(|(k, _)| k == kind)
            .unwrap_or_else(|| panic!("the table does not know the call {kind}"));
        out.insert(action.1.to_owned());
    }
    out
}

/// The actions `poolform policy` prints for `command` (the calls', not their dependencies),
/// and every action of its documents.
fn policy_of(command: &str, agency: bool) -> (BTreeSet<String>, Value) {
    let mut args = vec!["policy", "--for", command, "--format", "json"];
    if agency {
        args.push("--agency");
    }
    let out = poolform_bare().args(&args).output().unwrap();
    assert_exit(&out, 0);
    let json: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let calls = json["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap().to_owned())
        .collect();
    (calls, json)
}

#[test]
fn the_policy_names_exactly_the_actions_of_the_calls_each_command_makes() {
    // A pool with desktops in the first project: apply's DELETE is refused and its desktops
    // are read; every listing leaves tags out, so each planned pool is read alone.
    let sim = projects_sim_with(
        |f| {
            f["projects"][0]["pools"]
                .as_array_mut()
                .unwrap()
                .push(json!({"id": id(1, 9), "name": "ci-busy", "desktop_count": 2}));
        },
        |c| c.hostile.omit_list_tags = true,
    );
    // a protect rule by tag: the pools to delete are read alone for their tags
    let dir = checkout(&FILE.replace("protect:\n", "protect:\n  - tag: {key: env, value: prod}\n"));
    assert_exit(&run(&sim, dir.path(), &["plan", "-o", "plan.json"]), 0);
    let planned = actions_called(&sim);
    let (plan_policy, _) = policy_of("plan", true);
    assert_eq!(planned, plan_policy, "plan: called vs printed");
    let out = run(&sim, dir.path(), &["apply", "plan.json"]);
    assert_exit(&out, 2);
    let applied = actions_called(&sim);
    let (apply_policy, json) = policy_of("apply", true);
    assert_eq!(applied, apply_policy, "plan and apply: called vs printed");
    // the key may only assume the agency; the agency does the rest, dependencies included
    let documents = json["documents"].as_array().unwrap();
    assert_eq!(documents[0]["holder"], "key");
    assert_eq!(
        documents[0]["policy"]["Statement"][0]["Action"],
        json!(["iam:agencies:assume"])
    );
    let agency: Vec<&str> = documents[1]["policy"]["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for action in [
        "workspace:desktopPools:delete",
        "iam:projects:list",
        "ims:images:list",
    ] {
        assert!(agency.contains(&action), "{action}: {agency:?}");
    }
    // without an agency: one document, no assume; plan's never deletes
    let (plan_direct, json) = policy_of("plan", false);
    assert!(!plan_direct.contains("iam:agencies:assume"));
    let all = json["documents"][0]["policy"]["Statement"][0]["Action"].to_string();
    assert!(!all.contains(":delete"), "{all}");
    assert_eq!(json["documents"].as_array().unwrap().len(), 1);
}

#[test]
fn the_human_policy_says_whom_to_attach_each_document_to_and_cites_each_page() {
    let out = poolform_bare()
        .args(["policy", "--for", "apply", "--agency"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = stdout_of(&out);
    assert!(
        text.contains("The key's own policy: it may only assume the agency"),
        "{text}"
    );
    assert!(
        text.contains("The agency's policy, in the account the agency is in"),
        "{text}"
    );
    assert!(
        text.contains("workspace:desktopPools:delete  DeleteDesktopPool, DELETE /v2/{project_id}/desktop-pools/{pool_id}"),
        "{text}"
    );
    assert!(
        text.contains(
            "https://support.huaweicloud.com/intl/en-us/api-workspace/DeleteDesktopPool.html"
        ),
        "{text}"
    );
    // `--for` is required and names a command
    let out = poolform_bare()
        .args(["policy", "--for", "delete"])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("[possible values: plan, apply]"),
        "{}",
        stderr_of(&out)
    );
}
