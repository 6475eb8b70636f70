//! Deletion integrity, through the binaries: a saved plan edited in any field (fingerprints
//! recomputed) never deletes what a fresh plan would not; credentials go only where the user
//! pointed; a listing that cannot be read completely plans nothing; "gone" is reported only
//! with the API's proof and then verified; `--wait-blocked` re-checks before it re-deletes;
//! secrets never reach the output. Every test asserts exactly which DELETEs reached the
//! simulator.

use crate::harness::ids::*;
use crate::harness::*;
use poolform::core::model::{Pool, PoolRef};
use poolform::core::plan::{Change, Plan};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use workspace_sim::{Faults, Malformed, MissingPool, SimServer};

use std::time::Duration;

/// A live pool of the simulator, as poolform reads it.
fn live_pool(sim: &SimServer, id: &str) -> Pool {
    let pools = sim.snapshot()["pools"].as_array().unwrap().clone();
    let found = pools.into_iter().find(|p| p["id"] == id).unwrap();
    poolform::api::wire::pool_from_body(&serde_json::to_vec(&found).unwrap()).unwrap()
}

fn read_plan(path: &Path) -> Plan {
    Plan::from_json(&fs::read_to_string(path).unwrap(), "plan.json").unwrap()
}

/// Edits a saved plan as a determined forger would: then recomputes every fingerprint and the
/// summary's counts (unless told to keep the summary), so that the file agrees with itself.
fn forge(path: &Path, keep_summary: bool, edit: impl FnOnce(&mut Plan)) {
    let mut plan = read_plan(path);
    edit(&mut plan);
    for part in &mut plan.projects {
        for c in &mut part.changes {
            c.fingerprint = c.pool.fingerprint();
            c.likely_blocked = c.pool.desktop_count > 0;
        }
        if !keep_summary {
            part.summary.delete = part.changes.len();
            part.summary.likely_blocked = part.changes.iter().filter(|c| c.likely_blocked).count();
        }
    }
    if !keep_summary {
        plan.summary = plan.projects.iter().map(|p| p.summary).sum();
    }
    fs::write(path, plan.to_json()).unwrap();
}

fn change_for(pool: &Pool) -> Change {
    let pool = PoolRef::of(pool);
    Change {
        action: poolform::core::plan::Action::Delete,
        fingerprint: pool.fingerprint(),
        likely_blocked: pool.desktop_count > 0,
        pool,
        reason: poolform::core::plan::Reason::NotInConfig,
        expired: None,
    }
}

fn apply_saved_json(sim: &SimServer, plan_file: &Path) -> std::process::Output {
    poolform(sim)
        .args(["apply", "--format", "json", "--verify-timeout", "2s"])
        .arg(plan_file)
        .args(["-f", &example_config()])
        .output()
        .unwrap()
}

/// No pool that still exists is reported deleted or already absent.
fn no_false_gone(sim: &SimServer, report: &Value) {
    let alive: BTreeSet<String> = sim.pool_ids().into_iter().collect();
    for r in report["projects"][0]["results"].as_array().unwrap() {
        let id = r["pool"]["id"].as_str().unwrap();
        if alive.contains(id) {
            assert!(
                r["outcome"] != "deleted" && r["outcome"] != "already_absent",
                "pool {id} still exists but is reported {}: {r}",
                r["outcome"]
            );
        }
    }
}

// --- 1. Saved plans are bound to the reviewed config --------------------------------------

/// Each field of a saved plan, edited with fingerprints recomputed, is refused before any
/// DELETE, with a message that says why.
#[test]
fn a_forged_plan_never_deletes_what_a_fresh_plan_would_not() {
    type Forgery = (
        &'static str,
        bool,
        Box<dyn Fn(&mut Plan, &SimServer)>,
        &'static str,
    );
    let cases: Vec<Forgery> = vec![
        (
            "id: a planned delete redirected to a pool the config keeps",
            false,
            Box::new(|p, sim| p.projects[0].changes[0] = change_for(&live_pool(sim, ANALYTICS))),
            "now keeps it (pools[2])",
        ),
        (
            "id: redirected to a protected pool",
            false,
            Box::new(|p, sim| p.projects[0].changes[0] = change_for(&live_pool(sim, PROD_PAYMENTS))),
            "it is now protected by name \"ci-prod-*\"",
        ),
        (
            "id: redirected to a pool protected by tag",
            false,
            Box::new(|p, sim| p.projects[0].changes[0] = change_for(&live_pool(sim, LEGAL))),
            "it is now protected by tag env=prod",
        ),
        (
            "name: a planned pool renamed in the file",
            false,
            Box::new(|p, _| p.projects[0].changes[0].pool.name = "ci-prod-old-build".into()),
            "1 of its pools changed since it was made",
        ),
        (
            "an added change for a pool out of scope",
            false,
            Box::new(|p, sim| p.projects[0].changes.push(change_for(&live_pool(sim, MARKETING)))),
            "outside the scope of",
        ),
        (
            "an added change for a kept pool",
            false,
            Box::new(|p, sim| p.projects[0].changes.push(change_for(&live_pool(sim, ENG)))),
            "now keeps it (pools[1])",
        ),
        (
            "an added change for a drifted, kept pool",
            false,
            Box::new(|p, sim| p.projects[0].changes.push(change_for(&live_pool(sim, FINANCE_2023)))),
            "now keeps it (pools[0])",
        ),
        (
            "a duplicated change",
            false,
            Box::new(|p, _| {
                let again = p.projects[0].changes[0].clone();
                p.projects[0].changes.push(again)
            }),
            "is planned for deletion twice; the plan was edited by hand",
        ),
        (
            "an announcement made due at once",
            false,
            Box::new(|p, _| {
                let clock = p.projects[0].clock.unwrap();
                let mut a = poolform::core::plan::Announcement::new(
                    poolform::core::time::Span::parse("4d").unwrap(),
                    clock.now,
                );
                a.not_before = clock.now;
                p.announcement = Some(a);
            }),
            "does not follow from its notice 4d and its projects' clocks; the plan was edited by hand",
        ),
        (
            "the summary",
            true,
            Box::new(|p, _| p.projects[0].summary.delete += 1),
            "its summary says 4 to delete, 1 likely blocked, 1 missing, 1 drifted, 2 protected, 0 out of scope, 0 near matches, 1 young, 1 expiring but its changes and findings count 3 to delete",
        ),
        (
            "the project",
            false,
            Box::new(|p, _| {
                p.projects[0].project_id = poolform::core::model::ProjectId::parse("someotherproject").unwrap()
            }),
            "is for project someotherproject, but this run resolves project 0bec5db98280d2d02fd6c00c2de791ce",
        ),
        (
            "the config it was made from",
            false,
            Box::new(|p, _| p.config_sha256 = "0".repeat(64)),
            "examples/pools.yaml with SHA-256 0000",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, keep_summary, edit, want) in cases {
        let sim = example_sim();
        let plan_file = save_plan(&sim, dir.path());
        forge(&plan_file, keep_summary, |p| edit(p, &sim));
        let requests_before = sim.api_requests();
        let out = apply_saved_json(&sim, &plan_file);
        assert_exit(&out, 1);
        let stderr = stderr_of(&out);
        assert!(stderr.contains(want), "{what}: {stderr}");
        assert!(
            deletes_sent(&sim).is_empty(),
            "{what}: DELETEs {:?}",
            deletes_sent(&sim)
        );
        assert!(
            sim.api_requests() - requests_before <= 1,
            "{what}: at most the apply-time listing"
        );
    }
}

/// An endpoint edited into the plan is never where anything is sent: the run resolves its
/// own, and refuses the plan before any request.
#[test]
fn a_forged_endpoint_receives_nothing() {
    let sim = example_sim();
    let elsewhere = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = save_plan(&sim, dir.path());
    forge(&plan_file, false, |p| {
        p.projects[0].endpoint = elsewhere.url()
    });
    let before = sim.api_requests();
    let out = apply_saved_json(&sim, &plan_file);
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains(&format!(
            "is for endpoint {}, but this run resolves {}",
            elsewhere.url(),
            sim.url()
        )),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(
        elsewhere.api_requests(),
        0,
        "the forged endpoint got a request"
    );
    assert_eq!(sim.api_requests(), before, "refused before any request");
    // Without --endpoint, the config's region decides (as for `plan`); the plan's own
    // endpoint is never used, and no request is made anywhere.
    let out = poolform_bare()
        .env("HW_AUTH_TOKEN", TOKEN)
        .args(["apply", "--verify-timeout", "2s"])
        .arg(&plan_file)
        .args(["-f", &example_config()])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out)
            .contains("but this run resolves https://workspace.cn-north-4.myhuaweicloud.com"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(elsewhere.api_requests(), 0);
    // HW_REGION_NAME counts like --region: contradicting the file is refused, before any call.
    let out = poolform_bare()
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_REGION_NAME", "cn-east-3")
        .arg("apply")
        .arg(&plan_file)
        .args(["-f", &example_config()])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("but HW_REGION_NAME selects region cn-east-3"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.api_requests() + elsewhere.api_requests(), before);
}

#[test]
fn a_config_changed_after_planning_refuses_the_plan() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pools.yaml");
    fs::write(&config, fs::read_to_string(example_config()).unwrap()).unwrap();
    let plan_file = dir.path().join("plan.json");
    poolform(&sim)
        .args(["plan", "-o"])
        .arg(&plan_file)
        .arg("-f")
        .arg(&config)
        .assert()
        .success();
    // keeping one more pool after the review: the reviewed plan no longer describes this file
    let mut text = fs::read_to_string(&config).unwrap();
    text = text.replace("pools:\n", "pools:\n  - name: ci-old-build\n");
    fs::write(&config, &text).unwrap();
    let out = poolform(&sim)
        .arg("apply")
        .arg(&plan_file)
        .arg("-f")
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("the config changed since the plan was made"),
        "{}",
        stderr_of(&out)
    );
    // and the default pools.yaml in the current folder is the one read
    let out = poolform(&sim)
        .arg("apply")
        .arg(&plan_file)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("has SHA-256"),
        "{}",
        stderr_of(&out)
    );
    let out = poolform(&sim)
        .arg("apply")
        .arg(&plan_file)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("cannot read pools.yaml"),
        "{}",
        stderr_of(&out)
    );
    assert!(deletes_sent(&sim).is_empty());
}

/// Between the review and the apply, a planned pool is tagged into a protect rule, another is
/// renamed out of the scope: the saved plan is refused as a whole, naming both.
#[test]
fn a_pool_protected_or_moved_out_of_scope_after_planning_refuses_the_plan() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = save_plan(&sim, dir.path());
    let mut tag = serde_json::Map::new();
    tag.insert("tags".into(), json!([{"key": "env", "value": "prod"}]));
    sim.patch_pool(OLD_BUILD, tag);
    let mut rename = serde_json::Map::new();
    rename.insert("name".into(), json!("team-tmp-load-test"));
    sim.patch_pool(TMP_LOAD, rename);
    let out = apply_saved_json(&sim, &plan_file);
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    for want in [
        format!("pool {OLD_BUILD} (\"ci-old-build\"): it is now protected by tag env=prod"),
        format!("pool {TMP_LOAD} (\"team-tmp-load-test\"): it is now outside the scope of"),
        "+ live    tags: [\"env\"=\"prod\"]".to_owned(),
        "nothing was deleted".to_owned(),
    ] {
        assert!(stderr.contains(&want), "{want}: {stderr}");
    }
    assert!(deletes_sent(&sim).is_empty());
}

// --- 2. Credentials go only where the user pointed ----------------------------------------

/// A listener that counts the connections made to it, standing in for a proxy.
fn fake_proxy() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    (format!("http://{addr}"), seen)
}

#[test]
fn a_loopback_endpoint_never_goes_through_a_proxy() {
    let sim = example_sim();
    let (proxy, seen) = fake_proxy();
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
    ] {
        let out = poolform(&sim)
            .env(var, &proxy)
            .args(["plan", "-f", &example_config()])
            .output()
            .unwrap();
        assert_exit(&out, 0);
        assert_eq!(
            seen.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "{var}: the request (and its token) went to the proxy"
        );
    }
}

// --- 3. The listing fails closed ---------------------------------------------------------

/// A protected pool whose name or tags cannot be read would slip out of its protect rule:
/// the listing is refused instead, naming the pool and the field, and nothing is planned.
#[test]
fn a_malformed_listing_plans_and_deletes_nothing() {
    let cases = [
        (
            PROD_PAYMENTS,
            "name=object",
            "\"name\" is an object, not a string",
        ),
        (PROD_PAYMENTS, "name=missing", "\"name\" is missing"),
        (PROD_PAYMENTS, "name=null", "\"name\" is null"),
        (
            LEGAL,
            "tags=text",
            "\"tags\" is a string, not a list of {key, value} objects",
        ),
        (LEGAL, "tags=object", "\"tags\" is an object"),
        (
            OLD_BUILD,
            "desktop_count=text",
            "\"desktop_count\" is a string",
        ),
        (OLD_BUILD, "type=list", "\"type\" is a list, not a string"),
        (
            OLD_BUILD,
            "enterprise_project_id=number",
            "\"enterprise_project_id\" is a number",
        ),
    ];
    for (pool, switch, want) in cases {
        let mut cfg = config(example_fixture());
        cfg.hostile.malformed = vec![Malformed::parse(&format!("{pool}:{switch}")).unwrap()];
        let sim = spawn(cfg);
        for args in [
            vec!["plan", "--detailed-exitcode"],
            vec!["apply", "--auto-approve"],
        ] {
            let out = poolform(&sim)
                .args(&args)
                .args(["-f", &example_config()])
                .output()
                .unwrap();
            assert_exit(&out, 1);
            let stderr = stderr_of(&out);
            assert!(
                stderr.contains(&format!("pool \"{pool}\"")) && stderr.contains(want),
                "{switch}: {stderr}"
            );
            assert!(stderr.contains("nothing was planned"), "{stderr}");
        }
        assert!(deletes_sent(&sim).is_empty(), "{switch}");
    }
}

/// A delete and a create between two list pages keep the count but shift the offsets: the
/// shift is noticed, the listing read again, and no pool that still exists is reported gone.
#[test]
fn a_listing_shifted_between_pages_never_reports_a_living_pool_gone() {
    let sim = spawn(config(workspace_sim::Fixture::generated(
        project(),
        1500,
        "gen-",
        None,
    )));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pools.yaml");
    // keep every pool but three, so the plan is small and its pools sit past the first page
    let ids = sim.pool_ids();
    let planned: Vec<&String> = vec![&ids[1000], &ids[1001], &ids[1499]];
    let mut yaml = String::from("version: 1\nscope: {name_prefix: gen-}\npools:\n");
    for id in &ids {
        if !planned.contains(&id) {
            yaml.push_str(&format!("  - id: {id}\n"));
        }
    }
    fs::write(&file, yaml).unwrap();
    let plan_file = dir.path().join("plan.json");
    poolform(&sim)
        .args(["plan", "-o"])
        .arg(&plan_file)
        .arg("-f")
        .arg(&file)
        .assert()
        .success();
    // The apply-time listing sees the first pool deleted and a new one created right after
    // its first page: the pool at offset 1000 would slip between the pages.
    sim.shift_next_listings(1);
    let out = poolform(&sim)
        .args(["apply", "--format", "json"])
        .arg(&plan_file)
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let report = report_of(&out);
    no_false_gone(&sim, &report);
    for id in &planned {
        let r = result_for(&report, id);
        assert_eq!(r["outcome"], "deleted", "{r}");
        assert_eq!(r["verified"], true, "{r}");
    }
    assert_eq!(
        deletes_sent(&sim),
        planned.iter().map(|s| s.to_string()).collect()
    );
}

// --- 4. --wait-blocked re-checks before it re-deletes ------------------------------------

/// `apply --auto-approve --format json` of the example config against `sim`.
fn apply_example_json(sim: &SimServer) -> std::process::Output {
    poolform(sim)
        .args([
            "apply",
            "--auto-approve",
            "--format",
            "json",
            "-f",
            &example_config(),
        ])
        .output()
        .unwrap()
}

fn wait_blocked_child(sim: &SimServer) -> std::process::Child {
    poolform_process(
        sim,
        &[
            "apply",
            "--auto-approve",
            "--wait-blocked",
            "60s",
            "--verify-timeout",
            "2s",
            "--format",
            "json",
            "-f",
            &example_config(),
        ],
    )
}

/// While apply waits on a blocked pool, the pool is renamed into a protect rule (or tagged
/// into one, or moved out of scope, or recreated) and emptied: it is not deleted.
#[test]
fn wait_blocked_never_deletes_a_pool_that_changed_while_waiting() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "renamed into a protect rule",
            json!({"name": "ci-prod-training"}),
            "name \"ci-training\" is now \"ci-prod-training\"",
        ),
        (
            "tagged into a protect rule",
            json!({"tags": [{"key": "env", "value": "prod"}]}),
            "it is now protected by tag env=prod",
        ),
        (
            "moved out of scope",
            json!({"type": "DYNAMIC", "name": "team-training"}),
            "it is now outside the scope of",
        ),
        (
            "recreated under the same id",
            json!({"created_time": "2026-11-28T01:00:00.000Z"}),
            "created_time",
        ),
    ];
    // Each case waits on the wait's own pace, not on the CPU: they run side by side.
    std::thread::scope(|s| {
        for (what, patch, want) in cases {
            s.spawn(move || {
                let sim = example_sim();
                let child = wait_blocked_child(&sim);
                wait_for("the blocked pool's first DELETE", || {
                    sim.deletes_for(TRAINING) >= 1
                });
                std::thread::sleep(Duration::from_millis(200));
                let Value::Object(patch) = patch else {
                    unreachable!()
                };
                sim.patch_pool(TRAINING, patch);
                assert!(sim.set_desktops(TRAINING, 0));
                let out = child.wait_with_output().unwrap();
                assert_exit(&out, 1);
                let report = report_of(&out);
                let training = result_for(&report, TRAINING);
                assert_eq!(training["outcome"], "failed", "{what}: {training}");
                let detail = training["detail"].as_str().unwrap();
                assert!(
                    detail.contains("changed while waiting") && detail.contains(want),
                    "{what}: {detail}"
                );
                assert!(
                    training["request_id"].as_str().unwrap().starts_with("sim-"),
                    "{training}"
                );
                assert_eq!(sim.deletes_for(TRAINING), 1, "{what}: re-deleted");
                assert!(sim.pool_ids().contains(&TRAINING.to_owned()));
                assert_eq!(deletes_sent(&sim), set(&[OLD_BUILD, TMP_LOAD, TRAINING]));
                no_false_gone(&sim, &report);
            });
        }
    });
}

// --- 5. Gone only with proof ---------------------------------------------------------------

/// A gateway's own 404 (`APIGW.0101`: no such API) says nothing about the pool: the step
/// fails, the pool is not reported gone.
#[test]
fn a_gateway_404_is_a_failure_not_gone() {
    let mut cfg = config(example_fixture());
    cfg.hostile.gateway_404 = vec![OLD_BUILD.into()];
    let sim = spawn(cfg);
    let out = apply_example_json(&sim);
    assert_exit(&out, 1);
    let report = report_of(&out);
    let r = result_for(&report, OLD_BUILD);
    assert_eq!(r["outcome"], "failed", "{r}");
    assert_eq!(r["error"]["error_code"], "APIGW.0101");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("a 404 without a Workspace error code means a wrong route"),
        "{r}"
    );
    assert_eq!(sim.deletes_for(OLD_BUILD), 1, "a 404 is not retried");
    no_false_gone(&sim, &report);
    assert_eq!(deletes_sent(&sim), set(&[OLD_BUILD, TMP_LOAD, TRAINING]));
}

/// `400 WKS.0001` on DELETE is only a hint: a read decides. The pool exists: failed. The pool
/// is gone (an earlier answer was lost): already absent, on the read's word.
#[test]
fn a_400_wks0001_counts_only_once_a_read_confirms_it() {
    let mut cfg = config(example_fixture());
    cfg.hostile.false_absent = vec![OLD_BUILD.into()];
    let sim = spawn(cfg);
    let out = apply_example_json(&sim);
    assert_exit(&out, 1);
    let report = report_of(&out);
    let r = result_for(&report, OLD_BUILD);
    assert_eq!(r["outcome"], "failed", "{r}");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("a read shows the pool still exists"),
        "{r}"
    );
    no_false_gone(&sim, &report);

    let mut cfg = config(example_fixture());
    cfg.missing_pool = MissingPool::Wks0001;
    cfg.faults = Faults {
        lost_delete_rate: 1.0,
        ..Faults::default()
    };
    let sim = spawn(cfg);
    let out = apply_example_json(&sim);
    assert_exit(&out, 2);
    let report = report_of(&out);
    let r = result_for(&report, OLD_BUILD);
    assert_eq!(r["outcome"], "already_absent", "{r}");
    assert_eq!(r["verified"], true);
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("a read confirms the pool is gone"),
        "{r}"
    );
    assert!(r["request_id"].as_str().unwrap().starts_with("sim-"));
    no_false_gone(&sim, &report);
}

/// A planned pool missing from the apply-time listing, but still there when read: the listing
/// cannot be trusted, and nothing at all is deleted.
#[test]
fn a_planned_pool_hidden_from_the_listing_refuses_the_plan() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = save_plan(&sim, dir.path());
    sim.set_hostile(|h| h.hide_from_list = vec![TMP_LOAD.into()]);
    let out = apply_saved_json(&sim, &plan_file);
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains(&format!(
            "pool {TMP_LOAD} (\"ci-tmp-load-test\") is planned but missing from the listing, yet a read still finds it"
        )),
        "{}",
        stderr_of(&out)
    );
    assert!(deletes_sent(&sim).is_empty());
}

/// A DELETE answered 204 that leaves the pool in place: the verification listing catches it.
#[test]
fn a_204_that_deleted_nothing_is_caught_by_the_verification_listing() {
    let mut cfg = config(example_fixture());
    cfg.hostile.ghost_delete = vec![OLD_BUILD.into()];
    let sim = spawn(cfg);
    let dir = tempfile::tempdir().unwrap();
    let plan_file = save_plan(&sim, dir.path());
    let out = apply_saved_json(&sim, &plan_file);
    assert_exit(&out, 1);
    let report = report_of(&out);
    let r = result_for(&report, OLD_BUILD);
    assert_eq!(r["outcome"], "failed", "{r}");
    assert_eq!(r["verified"], false);
    let message = r["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("DELETE answered 2xx [request id: sim-")
            && message.contains("but the pool is still listed"),
        "{r}"
    );
    assert!(
        r["request_id"].as_str().unwrap().starts_with("sim-"),
        "the listing that settled it"
    );
    assert_eq!(result_for(&report, TMP_LOAD)["verified"], true);
    assert_eq!(report["projects"][0]["verification"]["claimed"], 2);
    assert_eq!(report["projects"][0]["verification"]["verified"], 1);
    no_false_gone(&sim, &report);
    // the human report says it too (the pool deleted by the first apply is absent before this
    // one: not claimed gone by it, so not counted)
    let out = poolform(&sim)
        .args(["apply", "--verify-timeout", "1s"])
        .arg(&plan_file)
        .args(["-f", &example_config()])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stdout_of(&out)
            .trim_end()
            .ends_with("Verified: 0 of 1 pool gone."),
        "{}",
        stdout_of(&out)
    );
}

// --- 6. Hand-edited plans ------------------------------------------------------------------

#[test]
fn a_plan_listing_a_pool_twice_is_refused_before_any_call() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = save_plan(&sim, dir.path());
    let mut plan: Value = serde_json::from_str(&fs::read_to_string(&plan_file).unwrap()).unwrap();
    let first = plan["projects"][0]["changes"][0].clone();
    plan["projects"][0]["changes"]
        .as_array_mut()
        .unwrap()
        .push(first);
    plan["summary"]["delete"] = json!(4);
    fs::write(&plan_file, plan.to_string()).unwrap();
    let before = sim.api_requests();
    let out = apply_saved_json(&sim, &plan_file);
    assert_exit(&out, 1);
    assert!(stderr_of(&out).contains("is planned for deletion twice; the plan was edited by hand"));
    assert_eq!(sim.api_requests(), before);
}

// --- 7. Redaction ------------------------------------------------------------------------

/// A server that echoes the request's headers (and so the token) in an error body: every
/// line printed has the token masked, in every format.
#[test]
fn an_echoed_token_is_masked_everywhere() {
    let mut cfg = config(example_fixture());
    cfg.hostile.echo_headers = true;
    cfg.forbid_delete = vec![OLD_BUILD.into()];
    let sim = spawn(cfg);
    for format in ["human", "json", "markdown"] {
        let out = poolform(&sim)
            .args([
                "-v",
                "apply",
                "--auto-approve",
                "--verify-timeout",
                "2s",
                "--format",
                format,
                "-f",
                &example_config(),
            ])
            .output()
            .unwrap();
        assert_exit(&out, 1);
        let all = format!("{}{}", stdout_of(&out), stderr_of(&out));
        assert!(!all.contains(TOKEN), "{format}: the token leaked: {all}");
        // Markdown escapes the mask's stars (`\*\*\*` reads as `***`).
        assert!(
            all.contains("x-auth-token: ***") || all.contains("x-auth-token: \\*\\*\\*"),
            "{format}: the echo is shown, masked: {all}"
        );
    }
}

#[test]
fn echoed_aksk_headers_are_masked_too() {
    let mut cfg = config(example_fixture());
    cfg.auth = workspace_sim::SimAuth::AkSk {
        access_key: AK.into(),
        secret_key: SK.into(),
    };
    cfg.hostile.echo_headers = true;
    cfg.forbid_delete = vec![OLD_BUILD.into()];
    let sim = spawn(cfg);
    let out = poolform_bare()
        .env("HW_ACCESS_KEY", AK)
        .env("HW_SECRET_KEY", SK)
        .env("HW_SECURITY_TOKEN", "st-temporary-security-token")
        .env("HW_PROJECT_ID", PROJECT)
        .args([
            "apply",
            "--auto-approve",
            "--verify-timeout",
            "2s",
            "--format",
            "json",
            "--endpoint",
            &sim.url(),
            "-f",
            &example_config(),
        ])
        .output()
        .unwrap();
    let all = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(all.contains("request headers:"), "{all}");
    for secret in [AK, SK, "st-temporary-security-token"] {
        assert!(!all.contains(secret), "{secret} leaked: {all}");
    }
    assert!(all.contains("Signature=***"), "{all}");
}

/// A hostile server puts the token into a pool name: the plan shown masks it, and a plan file
/// (data, never rewritten) that would hold it is not written at all.
#[test]
fn a_token_in_a_pool_name_never_reaches_output_or_the_plan_file() {
    let sim = spawn(config(fixture(json!([
        {"id": "p-1", "name": format!("ci-{TOKEN}")},
        {"id": "p-2", "name": "ci-keep"}
    ]))));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pools.yaml");
    fs::write(
        &file,
        "version: 1\nscope: {name_prefix: ci-}\npools: [{name: ci-keep}]\n",
    )
    .unwrap();
    let plan_file = dir.path().join("plan.json");
    for format in ["human", "json", "markdown"] {
        let out = poolform(&sim)
            .args(["plan", "--format", format, "-o"])
            .arg(&plan_file)
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap();
        assert_exit(&out, 1);
        let all = format!("{}{}", stdout_of(&out), stderr_of(&out));
        assert!(
            !all.contains(TOKEN) && all.contains("ci-***"),
            "{format}: {all}"
        );
        assert!(
            all.contains("it would hold a credential in use (the API put one into a pool's data); refusing to write it"),
            "{format}: {all}"
        );
        assert!(!plan_file.exists(), "no plan file is written");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
    assert!(deletes_sent(&sim).is_empty());
}

#[test]
fn a_plan_made_with_a_read_only_key_is_applied_with_a_delete_key_and_says_which_made_it() {
    use crate::harness::projects::*;
    // tenant-a holds two keys: one the drift check plans with, one only the apply job holds
    let sim = projects_sim(|f| {
        f["accounts"].as_array_mut().unwrap().push(
            json!({"domain": "tenant-a", "access_key": "AKDELETEKEY00009", "secret_key": "SKdelete"}),
        );
    });
    let dir = checkout(&format!(
        "version: 1\nregion: cn-north-4\nproject_id: {P1}\nprotect: [{{name: \"*prod*\"}}]\npools: [{{name: ci-eng}}]\n"
    ));
    assert_exit(&run_one(&sim, dir.path(), &["plan", "-o", "plan.json"]), 0);
    let out = run_one(&sim, dir.path(), &["show", "plan.json"]);
    assert!(
        stdout_of(&out).contains("with access key …0000 from HW_ACCESS_KEY (permanent)"),
        "show names the key that made the plan: {}",
        stdout_of(&out)
    );
    let out = as_tenant_a(&sim, dir.path())
        .env("HW_ACCESS_KEY", "AKDELETEKEY00009")
        .env("HW_SECRET_KEY", "SKdelete")
        .args(["apply", "plan.json", "--endpoint", &sim.url()])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("Acting as access key …0009 from HW_ACCESS_KEY (permanent)")
            && stderr.contains("(made ")
            && stderr.contains(" with access key …0000 from HW_ACCESS_KEY (permanent))"),
        "{stderr}"
    );
    assert_eq!(deletes_sent(&sim), set(&[&id(1, 2)]));
    // the kind is still bound: a token cannot apply a plan made with a key
    let out = as_tenant_a(&sim, dir.path())
        .env_remove("HW_ACCESS_KEY")
        .env_remove("HW_SECRET_KEY")
        .env("HW_AUTH_TOKEN", "a-token")
        .args(["apply", "plan.json", "--endpoint", &sim.url()])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("was made as another identity"),
        "{}",
        stderr_of(&out)
    );
}
