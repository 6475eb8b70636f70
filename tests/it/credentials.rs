//! The real API's and Huawei's credential conventions, through the binaries: a flaky gateway,
//! listings without `total_count` or with a lower page cap, busy pools refused with 400 or 409,
//! transient conflicts, autoscale, the IAM project lookup, shared config profiles, assume role,
//! the EU cloud domain, and errors a person can read.

use crate::harness::*;
use serde_json::{json, Value};
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};
use workspace_sim::{Faults, SimAuth, SimServer};

// --- 1. Retried reads ----------------------------------------------------------------------

/// A gateway that answers 30 % of requests with 5xx or 429: every list page is retried on its
/// own, and `plan` succeeds, every time.
#[test]
fn plan_succeeds_through_a_flaky_gateway_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(
        dir.path(),
        "version: 1\nscope: {name_prefix: gen-}\npools: [{name: gen-00001}]\n",
    );
    // The 20 runs wait on retries, not on the CPU: they run side by side.
    let failed_in_all: u64 = std::thread::scope(|s| {
        let runs: Vec<_> = (0..20)
            .map(|seed| {
                let file = &file;
                s.spawn(move || {
                    let sim = generated_sim(2500, |c| {
                        c.faults = Faults {
                            seed,
                            error_rate: 0.2,
                            throttle_rate: 0.125,
                            ..Faults::default()
                        }
                    });
                    let out = poolform(&sim)
                        .args(["plan", "--detailed-exitcode", "--format", "json", "-f"])
                        .arg(file)
                        .output()
                        .unwrap();
                    assert_exit(&out, 2);
                    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
                    assert_eq!(plan["summary"]["delete"], 2499, "seed {seed}");
                    let state = sim.snapshot();
                    ["429", "500", "502", "503"]
                        .iter()
                        .map(|s| state["responses"][s].as_u64().unwrap_or(0))
                        .sum::<u64>()
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).sum()
    });
    assert!(
        failed_in_all >= 10,
        "the gateway failed only {failed_in_all} requests in 20 runs"
    );
}

// --- 2. Optional total_count, lower page caps ---------------------------------------------

#[test]
fn a_listing_without_total_count_or_with_a_lower_page_cap_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(
        dir.path(),
        "version: 1\nscope: {name_prefix: gen-}\npools: [{name: gen-00001}]\n",
    );
    for (omit, cap) in [
        (true, None),
        (false, Some(100)),
        (true, Some(100)),
        (true, Some(1000)),
    ] {
        let sim = generated_sim(1234, |c| {
            c.omit_total_count = omit;
            c.page_cap = cap;
        });
        let out = poolform(&sim)
            .args(["plan", "--format", "json", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(plan["summary"]["delete"], 1233, "omit {omit}, cap {cap:?}");
        assert_eq!(plan["summary"]["unchanged"], 1);
        assert!(!stderr_of(&out).contains("kept changing"));
    }
}

// --- 5. Busy pools, whatever the code --------------------------------------------------------

#[test]
fn a_pool_with_desktops_is_blocked_whether_refused_with_400_or_409() {
    for busy in [409, 400] {
        let mut cfg = config(example_fixture());
        cfg.busy_status = busy;
        let sim = spawn(cfg);
        let out = poolform(&sim)
            .args(["apply", "--auto-approve", "--format", "json", "-f"])
            .arg(repo_file("examples/pools.yaml"))
            .output()
            .unwrap();
        assert_exit(&out, 2);
        let report = report_of(&out);
        let training = result_for(&report, "e1e2e3e4-3333-4444-8555-666677778888");
        assert_eq!(training["outcome"], "blocked", "{busy}: {training}");
        assert_eq!(training["error"]["status"], busy);
        assert!(
            training["detail"]
                .as_str()
                .unwrap()
                .starts_with("3 desktops remain: ci-training-000 (user000)"),
            "{training}"
        );
        assert_eq!(training["desktops"].as_array().unwrap().len(), 3);
        assert_eq!(sim.deletes_for("e1e2e3e4-3333-4444-8555-666677778888"), 1);
    }
}

#[test]
fn a_transient_conflict_is_retried_a_few_times_then_fails() {
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: ci-}\n");
    for (conflicts, outcome, attempts) in [(2u32, "deleted", 3u64), (10, "failed", 4)] {
        let sim = spawn({
            let mut c = config(fixture(json!([{"id": "p-1", "name": "ci-a"}])));
            c.transient_conflict = conflicts;
            c
        });
        let out = poolform(&sim)
            .args(["apply", "--auto-approve", "--format", "json", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        let report = report_of(&out);
        let r = result_for(&report, "p-1");
        assert_eq!(r["outcome"], outcome, "{conflicts}: {r}");
        assert_eq!(r["attempts"], attempts, "{r}");
        if outcome == "failed" {
            assert_exit(&out, 1);
            assert!(
                r["detail"]
                    .as_str()
                    .unwrap()
                    .contains("a conflict that did not clear after 4 tries, with no desktops left"),
                "{r}"
            );
            assert_eq!(r["error"]["error_code"], "WKS.00010032");
        } else {
            assert_exit(&out, 0);
        }
    }
}

// --- 6. Autoscale ----------------------------------------------------------------------------

fn autoscaled() -> Value {
    json!([
        {"id": "p-auto", "name": "ci-auto", "desktop_count": 2, "enable_autoscale": true,
         "autoscale_policy": {"autoscale_type": "AUTO_CREATED", "max_auto_created": 10, "min_idle": 2, "once_auto_created": 1}},
        {"id": "p-plain", "name": "ci-plain"}
    ])
}

#[test]
fn autoscale_is_shown_in_the_plan_and_ends_the_wait_for_a_pool_it_refills() {
    let sim = spawn(config(fixture(autoscaled())));
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: ci-}\n");
    let out = poolform(&sim)
        .args(["plan", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stdout_of(&out)
            .contains("autoscale on (min_idle 2): desktops may come back until it is turned off"),
        "{}",
        stdout_of(&out)
    );
    assert!(
        stdout_of(&out).contains("2 to delete (1 likely blocked)"),
        "{}",
        stdout_of(&out)
    );
    // someone removes the desktops while apply waits: autoscale puts them back at once
    let started = Instant::now();
    let mut child = poolform_process(
        &sim,
        &[
            "apply",
            "--auto-approve",
            "--wait-blocked",
            "10m",
            "--format",
            "json",
            "-f",
            file.to_str().unwrap(),
        ],
    );
    wait_for("the first DELETE", || sim.deletes_for("p-auto") >= 1);
    assert!(sim.set_desktops("p-auto", 0));
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    use std::io::Read;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "it waited on a pool autoscale refills"
    );
    assert_eq!(status.code(), Some(2), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let auto = result_for(&report, "p-auto");
    assert_eq!(auto["outcome"], "blocked", "{auto}");
    let detail = auto["detail"].as_str().unwrap();
    assert!(detail.contains("autoscale is on (min_idle 2): desktops come back as they are removed until it is turned off"), "{detail}");
    assert!(
        detail.contains("stopped waiting: autoscale is on (min_idle 2)"),
        "{detail}"
    );
    assert_eq!(result_for(&report, "p-plain")["outcome"], "deleted");
    assert_eq!(
        sim.deletes_for("p-auto"),
        1,
        "never re-sent while autoscale refills it"
    );
    assert!(sim.pool_ids().contains(&"p-auto".to_owned()));
}

// --- 7, 8. Endpoints and the IAM project lookup -------------------------------------------

/// `poolform` with no project id anywhere: looked up at IAM (the simulator, by HW_AUTH_URL).
fn poolform_without_project(sim: &SimServer) -> Poolform {
    let mut cmd = poolform_bare();
    cmd.env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_AUTH_URL", format!("{}/v3", sim.url()))
        .env("HW_REGION_NAME", "cn-north-4");
    Poolform::with_endpoint(cmd, sim.url())
}

#[test]
fn the_project_id_is_looked_up_at_iam_by_region() {
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: ci-}\n");
    // exactly one match: planned, shown in the header, recorded in the saved plan
    let sim = spawn(config(example_fixture()));
    let plan_file = dir.path().join("plan.json");
    let out = poolform_without_project(&sim)
        .args(["plan", "-o"])
        .arg(&plan_file)
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stdout_of(&out).contains(&format!("poolform plan for project {PROJECT} at")),
        "{}",
        stdout_of(&out)
    );
    let saved: Value = serde_json::from_str(&fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert_eq!(saved["projects"][0]["project_id"], PROJECT);
    assert_eq!(sim.snapshot()["requests"]["iam-projects"], 1);
    // and applied with the project looked up again, which must agree with the plan's
    let out = poolform_without_project(&sim)
        .args(["apply", "--format", "json"])
        .arg(&plan_file)
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    // none, or two
    for (projects, want) in [
        (
            vec![("cn-east-3", "p-east")],
            "IAM lists no project named cn-north-4 for these credentials",
        ),
        (
            vec![("cn-north-4", "p-one"), ("cn-north-4", "p-two")],
            "IAM lists 2 projects named cn-north-4 (p-one, p-two)",
        ),
    ] {
        let mut cfg = config(example_fixture());
        cfg.iam_projects = projects
            .iter()
            .map(|(n, i)| (n.to_string(), i.to_string()))
            .collect();
        let sim = spawn(cfg);
        let out = poolform_without_project(&sim)
            .args(["plan", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        assert_exit(&out, 1);
        assert!(stderr_of(&out).contains(want), "{}", stderr_of(&out));
        assert_eq!(
            sim.snapshot()["requests"]["list"],
            Value::Null,
            "no Workspace call"
        );
    }
}

#[test]
fn the_eu_cloud_domain_is_resolved_from_the_region() {
    let sim = spawn(config(example_fixture()));
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: ci-}\n");
    let plan_file = dir.path().join("plan.json");
    poolform(&sim)
        .args(["plan", "-o"])
        .arg(&plan_file)
        .arg("-f")
        .arg(&file)
        .assert()
        .success();
    // Without --endpoint, the endpoint comes from the region and the cloud: the saved plan (for
    // the simulator) is refused before any request, naming what this run resolved.
    for (args, env, want) in [
        (
            vec!["--region", "eu-west-101"],
            vec![],
            "https://workspace.eu-west-101.myhuaweicloud.eu",
        ),
        (
            vec!["--region", "cn-north-4"],
            vec![],
            "https://workspace.cn-north-4.myhuaweicloud.com",
        ),
        (
            vec!["--region", "cn-north-4", "--cloud", "example.cloud"],
            vec![],
            "https://workspace.cn-north-4.example.cloud",
        ),
        (
            vec![],
            vec![
                ("HW_REGION_NAME", "eu-west-101"),
                ("HW_CLOUD", "myhuaweicloud.eu"),
            ],
            "https://workspace.eu-west-101.myhuaweicloud.eu",
        ),
    ] {
        let mut cmd = poolform_bare();
        cmd.env("HW_AUTH_TOKEN", TOKEN)
            .env("HW_PROJECT_ID", PROJECT);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd
            .arg("apply")
            .args(&args)
            .arg(&plan_file)
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap();
        assert_exit(&out, 1);
        assert!(
            stderr_of(&out).contains(&format!("but this run resolves {want}")),
            "{args:?}: {}",
            stderr_of(&out)
        );
    }
    assert_eq!(sim.delete_requests(), 0);
}

// --- 9, 10. Shared config profiles and assume role ----------------------------------------

fn aksk_sim(agencies: Vec<(String, String)>) -> SimServer {
    let mut cfg = config(example_fixture());
    cfg.auth = SimAuth::AkSk {
        access_key: AK.into(),
        secret_key: SK.into(),
    };
    cfg.agencies = agencies;
    spawn(cfg)
}

fn shared_config(dir: &Path, profiles: Value, current: &str) -> String {
    let path = dir.join("config.json");
    fs::write(
        &path,
        json!({"language": "en", "current": current, "profiles": profiles}).to_string(),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    }
    path.display().to_string()
}

#[test]
fn a_profile_supplies_signed_credentials_region_and_project() {
    let sim = aksk_sim(Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let shared = shared_config(
        dir.path(),
        json!([
            {"name": "other", "mode": "AKSK", "accessKeyId": "AKWRONG000000000", "secretAccessKey": "wrong", "region": "cn-north-4", "projectId": PROJECT},
            {"name": "ci", "mode": "AKSK", "accessKeyId": AK, "secretAccessKey": SK, "region": "cn-north-4", "projectId": PROJECT}
        ]),
        "other",
    );
    let out = poolform_bare()
        .env("HW_SHARED_CONFIG_FILE", &shared)
        .args(["plan", "--profile", "ci", "--endpoint", &sim.url(), "-f"])
        .arg(repo_file("examples/pools.yaml"))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        sim.snapshot()["authenticated_by"][AK],
        1,
        "the list was signed with the profile's keys"
    );
    // HW_PROFILE names it too; the file's current profile is refused by the gateway
    let out = poolform_bare()
        .env("HW_SHARED_CONFIG_FILE", &shared)
        .env("HW_PROFILE", "ci")
        .args(["plan", "--endpoint", &sim.url(), "-f"])
        .arg(repo_file("examples/pools.yaml"))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let out = poolform_bare()
        .env("HW_SHARED_CONFIG_FILE", &shared)
        .args(["plan", "--endpoint", &sim.url(), "-f"])
        .arg(repo_file("examples/pools.yaml"))
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("HTTP 401 APIGW.0301"),
        "{}",
        stderr_of(&out)
    );
    // environment credentials win over the profile
    let out = poolform_bare()
        .env("HW_SHARED_CONFIG_FILE", &shared)
        .env("HW_ACCESS_KEY", AK)
        .env("HW_SECRET_KEY", SK)
        .args(["plan", "--endpoint", &sim.url(), "-f"])
        .arg(repo_file("examples/pools.yaml"))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    for secret in [SK, "wrong"] {
        assert!(!stderr_of(&out).contains(secret) && !stdout_of(&out).contains(secret));
    }
}

#[cfg(unix)]
#[test]
fn a_shared_config_file_others_can_read_gets_a_warning_and_an_encrypted_one_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let sim = aksk_sim(Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let shared = shared_config(
        dir.path(),
        json!([{"name": "ci", "accessKeyId": AK, "secretAccessKey": SK, "region": "cn-north-4", "projectId": PROJECT}]),
        "ci",
    );
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o644)).unwrap();
    let out = poolform_bare()
        .env("HW_SHARED_CONFIG_FILE", &shared)
        .args(["plan", "--endpoint", &sim.url(), "-f"])
        .arg(repo_file("examples/pools.yaml"))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(stderr_of(&out).contains(&format!("warning: {shared} holds credentials and is readable by group or others (mode 644); run `chmod 600 {shared}`")), "{}", stderr_of(&out));
    fs::write(&shared, json!({"current": "ci", "cliAuthEncrypt": true, "profiles": [{"name": "ci", "accessKeyId": "ZW5jcnlwdGVk", "secretAccessKey": "c2VjcmV0"}]}).to_string()).unwrap();
    let before = sim.api_requests();
    let out = poolform_bare()
        .env("HW_SHARED_CONFIG_FILE", &shared)
        .args(["plan", "--endpoint", &sim.url(), "-f"])
        .arg(repo_file("examples/pools.yaml"))
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("hcloud configure set --cli-profile=ci --cli-auth-encrypt=false"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.api_requests(), before);
}

#[test]
fn assume_role_exchanges_the_credentials_before_the_first_workspace_call() {
    let sim = aksk_sim(vec![("poolform-agency".into(), "tenant-b".into())]);
    let run = |extra: &[(&str, &str)]| {
        let mut cmd = poolform_bare();
        cmd.env("HW_ACCESS_KEY", AK)
            .env("HW_SECRET_KEY", SK)
            .env("HW_PROJECT_ID", PROJECT)
            .env("HW_AUTH_URL", sim.url());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.args(["plan", "--endpoint", &sim.url(), "-f"])
            .arg(repo_file("examples/pools.yaml"))
            .output()
            .unwrap()
    };
    let out = run(&[
        ("HW_ASSUME_ROLE_AGENCY_NAME", "poolform-agency"),
        ("HW_ASSUME_ROLE_DOMAIN_NAME", "tenant-b"),
        ("HW_ASSUME_ROLE_DURATION", "3600"),
    ]);
    assert_exit(&out, 0);
    let state = sim.snapshot();
    assert_eq!(state["requests"]["iam-tokens"], 1);
    assert_eq!(
        state["authenticated_by"][AK], 1,
        "the long-term keys signed only the exchange"
    );
    let temporary: Vec<&String> = state["authenticated_by"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with("TEMPAK"))
        .collect();
    assert_eq!(
        temporary.len(),
        1,
        "the listing was signed with the temporary keys: {state}"
    );
    let all = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(
        !all.contains("TEMPSK") && !all.contains("TEMPST"),
        "temporary secrets leaked: {all}"
    );
    // an agency IAM does not grant: refused before any Workspace call
    let before = sim.snapshot()["requests"]["list"].as_u64().unwrap();
    let out = run(&[
        ("HW_ASSUME_ROLE_AGENCY_NAME", "someone-else"),
        ("HW_ASSUME_ROLE_DOMAIN_NAME", "tenant-b"),
    ]);
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("HTTP 403 IAM.0002"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.snapshot()["requests"]["list"].as_u64().unwrap(), before);
    // the profile's agency fields work the same way
    let dir = tempfile::tempdir().unwrap();
    let shared = shared_config(
        dir.path(),
        json!([{"name": "ci", "accessKeyId": AK, "secretAccessKey": SK, "agencyName": "poolform-agency", "agencyDomainName": "tenant-b"}]),
        "ci",
    );
    let out = poolform_bare()
        .env("HW_SHARED_CONFIG_FILE", &shared)
        .env("HW_PROJECT_ID", PROJECT)
        .env("HW_AUTH_URL", sim.url())
        .args(["plan", "--endpoint", &sim.url(), "-f"])
        .arg(repo_file("examples/pools.yaml"))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(sim.snapshot()["requests"]["iam-tokens"], 3);
}

// --- 4. Errors a person can read -------------------------------------------------------------

#[test]
fn a_credential_that_cannot_be_a_header_is_refused_before_any_call() {
    let sim = spawn(config(example_fixture()));
    let out = poolform(&sim)
        .env("HW_AUTH_TOKEN", "test-token\nX-Injected: 1")
        .args(["plan", "-f"])
        .arg(repo_file("examples/pools.yaml"))
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(stderr.contains("HW_AUTH_TOKEN cannot be sent in an HTTP header: it holds a control character (U+000A) at position 11"), "{stderr}");
    assert!(
        !stderr.contains("X-Injected"),
        "the value is never shown: {stderr}"
    );
    assert_eq!(sim.api_requests(), 0);
}

#[test]
fn verbose_lines_name_the_host_of_every_request() {
    // A seed under which the first list page is answered 502 (an HTML page), the retry served.
    let list = format!("/v2/{PROJECT}/desktop-pools");
    let seed = (0..10_000)
        .find(|seed| {
            let f = Faults {
                seed: *seed,
                error_rate: 0.5,
                ..Faults::default()
            };
            f.fate("GET", &list, 0) == workspace_sim::faults::Fate::Fail(502)
                && f.fate("GET", &list, 1) == workspace_sim::faults::Fate::Serve
        })
        .unwrap();
    let sim = generated_sim(5, |c| {
        c.faults = Faults {
            seed,
            error_rate: 0.5,
            ..Faults::default()
        };
    });
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let out = poolform(&sim)
        .args(["-v", "plan", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stderr = stderr_of(&out);
    let host = format!("host={}", sim.addr());
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("GET")).collect();
    assert!(
        lines.len() >= 2 && lines.iter().all(|l| l.contains(&host)),
        "{stderr}"
    );
    assert!(
        stderr.contains("status=502") && stderr.contains("retrying"),
        "{stderr}"
    );
}

/// Both an access key pair and a token: the pair is used, and the run says so after the
/// identity line (a token left from another shell is not silently outranked, nor the other
/// way round).
#[test]
fn a_token_beside_an_access_key_is_said_to_be_ignored_after_the_identity_line() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args(["plan", "-f", &example_config()])
        .env("HW_ACCESS_KEY", AK)
        .env("HW_SECRET_KEY", SK)
        .output()
        .unwrap();
    // The simulator takes tokens: the access key is refused, and the run said why first.
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].starts_with("Acting as access key"), "{stderr}");
    assert!(
        lines[1].contains("both an access key (HW_ACCESS_KEY) and HW_AUTH_TOKEN are set; poolform uses the access key and ignores HW_AUTH_TOKEN"),
        "{stderr}"
    );
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn an_unknown_profile_lists_the_files_profiles_with_a_did_you_mean_and_sends_nothing() {
    let sim = aksk_sim(Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let shared = shared_config(
        dir.path(),
        json!([
            {"name": "ci", "mode": "AKSK", "accessKeyId": AK, "secretAccessKey": SK, "region": "cn-north-4", "projectId": PROJECT},
            {"name": "prod", "mode": "AKSK", "accessKeyId": AK, "secretAccessKey": SK, "region": "cn-north-4", "projectId": PROJECT}
        ]),
        "ci",
    );
    let out = poolform_bare()
        .env("HW_SHARED_CONFIG_FILE", &shared)
        .args(["plan", "--profile", "prd", "--endpoint", &sim.url(), "-f"])
        .arg(repo_file("examples/pools.yaml"))
        .output()
        .unwrap();
    assert_refused(
        &out,
        &sim,
        &["it has no profile \"prd\"; did you mean \"prod\" (its profiles: ci, prod)"],
    );
    assert_eq!(sim.api_requests(), 0);
}
