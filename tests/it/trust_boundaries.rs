//! The config, the profile and the plan file are untrusted (issue 13): where the credentials
//! go, whose identity acts, what a target selects, how names compare, and bounds on whatever a
//! file or a server sends. Each test runs the binary and checks the exact DELETEs that reached
//! the simulator, and where the credentials went.

use crate::harness::*;
use serde_json::{json, Value};
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use workspace_sim::{Faults, SimAuth};

const KEEP: &str = "a130ab3a-72bf-4b71-baa9-af4987c8e338";

#[test]
fn a_config_file_never_chooses_where_the_credentials_go() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = LoggingProxy::start();
    let plan_with = |cloud: &str, flag: Option<&str>| {
        let file = write_file(dir.path(),
            "pools.yaml",
            &format!("version: 1\nregion: cn-north-4\nproject_id: {PROJECT}\ncloud: {cloud}\nscope: {{name_prefix: ci-}}\n"),
        );
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("poolform"));
        cmd.env_clear()
            .env("HW_AUTH_TOKEN", TOKEN)
            .env("HTTPS_PROXY", &proxy.url)
            .args(["plan", "-f"])
            .arg(&file)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(cloud) = flag {
            cmd.args(["--cloud", cloud]);
        }
        cmd.spawn().unwrap()
    };
    // A pull request's `cloud: attacker.example`: refused before any connection.
    let out = plan_with("attacker.example", None)
        .wait_with_output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("pools.yaml names cloud attacker.example, which is not one of Huawei's public API domains (myhuaweicloud.com, myhuaweicloud.eu, myhwclouds.com); a config file cannot choose where the credentials are sent"),
        "{}",
        stderr_of(&out)
    );
    assert!(proxy.lines().is_empty(), "{:?}", proxy.lines());
    // Huawei's own domains go where they say (seen at the proxy as CONNECT lines), and so does
    // a private domain the person running names with --cloud.
    for (cloud, flag) in [
        ("myhwclouds.com", None),
        ("attacker.example", Some("attacker.example")),
    ] {
        let mut child = plan_with(cloud, flag);
        let want = format!("CONNECT workspace.cn-north-4.{cloud}:443 HTTP/1.1");
        wait_for("the proxy's CONNECT line", || proxy.lines().contains(&want));
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(proxy
        .lines()
        .iter()
        .all(|l| l.starts_with("CONNECT workspace.cn-north-4.")));
}

#[test]
fn beside_an_endpoint_iam_is_never_guessed_from_the_region() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let proxy = LoggingProxy::start();
    let file = write_file(
        dir.path(),
        "pools.yaml",
        "version: 1\nregion: cn-north-4\nscope: {name_prefix: ci-}\n",
    );
    let out = poolform_bare()
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HTTPS_PROXY", &proxy.url)
        .args(["plan", "--endpoint", &sim.url(), "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("with --endpoint, poolform never guesses the IAM endpoint from the region")
            && stderr_of(&out).contains("name the project (--project-id, HW_PROJECT_ID or project_id in the config file) or the IAM endpoint (HW_AUTH_URL"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.api_requests(), 0);
    assert!(
        proxy.lines().is_empty(),
        "the public IAM was called: {:?}",
        proxy.lines()
    );
    // HW_AUTH_URL names it: the lookup goes there, and the plan says how the project was found
    let out = poolform_bare()
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_AUTH_URL", format!("{}/v3", sim.url()))
        .args(["plan", "--endpoint", &sim.url(), "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stderr_of(&out).contains(&format!(
            "project to be looked up at IAM {} by the name cn-north-4",
            sim.url()
        )),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(requests_to(&sim, "iam-projects"), 1);
}

/// A profile file whose current profile reaches another account through an agency.
fn agency_profile(dir: &Path) -> PathBuf {
    let path = write_file(
        dir,
        "config.json",
        r#"{"current": "ops", "profiles": [{"name": "ops", "mode": "AKSK", "accessKeyId": "AKPROFILEOPS00", "secretAccessKey": "SKprofileops", "region": "cn-north-4", "agencyName": "poolform", "agencyDomainName": "tenant-b"}]}"#,
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

#[test]
fn a_profiles_agency_never_serves_the_environments_keys() {
    let mut c = config(example_fixture());
    c.auth = SimAuth::AkSk {
        access_key: AK.into(),
        secret_key: SK.into(),
    };
    c.agencies = vec![("poolform".into(), "tenant-b".into())];
    let sim = spawn(c);
    let dir = tempfile::tempdir().unwrap();
    let profile = agency_profile(dir.path());
    let run = |extra: &[&str]| {
        poolform_bare()
            .env("HW_ACCESS_KEY", AK)
            .env("HW_SECRET_KEY", SK)
            .env("HW_PROJECT_ID", PROJECT)
            .env("HW_SHARED_CONFIG_FILE", &profile)
            .args(["plan", "--endpoint", &sim.url(), "-f", &example_config()])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["--format", "json"]);
    assert_exit(&out, 0);
    let stderr = stderr_of(&out);
    assert!(
        stderr.starts_with(&format!(
            "Acting as access key …0000 from HW_ACCESS_KEY (permanent); project {PROJECT} (from HW_PROJECT_ID); endpoint {}\n",
            sim.url()
        )),
        "the identity line comes first: {stderr}"
    );
    assert_eq!(requests_to(&sim, "iam-tokens"), 0, "no agency was assumed");
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plan["projects"][0]["identity"],
        json!({"credentials": "variable", "source": "HW_ACCESS_KEY", "access_key_last4": "0000", "temporary": false, "project_from": "HW_PROJECT_ID"})
    );
    assert_eq!(
        sim.snapshot()["authenticated_by"],
        json!({ AK: 1 }),
        "only the environment's key reached the project"
    );
    // naming the profile beside the environment's keys is ambiguous: refused, nothing sent
    let before = sim.api_requests();
    let out = run(&["--profile", "ops"]);
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("credentials are set in the environment (HW_ACCESS_KEY) and a profile is named (--profile \"ops\"); refusing to guess which identity to act as"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.api_requests(), before);
}

#[test]
fn a_saved_plan_is_applied_only_as_the_identity_that_made_it() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.json");
    poolform(&sim)
        .args(["plan", "-f", &example_config(), "-o"])
        .arg(&plan_file)
        .assert()
        .code(0);
    let saved: Value = serde_json::from_str(&fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert_eq!(saved["format_version"], 4);
    assert_eq!(saved["projects"][0]["identity"]["credentials"], "token");
    let before = sim.api_requests();
    let out = poolform_bare()
        .env("HW_ACCESS_KEY", AK)
        .env("HW_SECRET_KEY", SK)
        .env("HW_PROJECT_ID", PROJECT)
        .args(["apply", "--endpoint", &sim.url(), "-f", &example_config()])
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("was made as another identity: it was planned with a token from HW_AUTH_TOKEN, but this run has an access key from HW_ACCESS_KEY"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.api_requests(), before, "refused before any call");
    // a plan of the earlier format is refused with "re-plan"
    let mut old = saved.clone();
    old["format_version"] = json!(1);
    old.as_object_mut().unwrap().remove("identity");
    fs::write(&plan_file, old.to_string()).unwrap();
    let out = poolform(&sim)
        .args(["apply", "-f", &example_config()])
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("re-plan with `poolform plan -o`"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn a_401_names_the_credentials_it_refused() {
    let sim = example_sim();
    let out = poolform_bare()
        .env("HW_AUTH_TOKEN", "not-the-token-at-all")
        .env("HW_PROJECT_ID", PROJECT)
        .args(["plan", "--endpoint", &sim.url(), "-f", &example_config()])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("HTTP 401 APIGW.0301")
            && stderr_of(&out).contains("(the credentials: token from HW_AUTH_TOKEN)"),
        "{}",
        stderr_of(&out)
    );
    assert!(!stderr_of(&out).contains("not-the-token-at-all"));
}

#[test]
fn a_target_never_selects_two_pools() {
    // One pool's id is another pool's name, in both orders of the names.
    for other_name in ["aaa-first", "zzz-last"] {
        let sim = sim_of(json!([
            {"id": KEEP, "name": other_name},
            {"id": "b0000000-0000-4000-8000-000000000001", "name": KEEP},
            {"id": "c0000000-0000-4000-8000-000000000002", "name": "twin"},
            {"id": "c0000000-0000-4000-8000-000000000003", "name": "twin"},
        ]));
        let dir = tempfile::tempdir().unwrap();
        let file = write_file(
            dir.path(),
            "pools.yaml",
            "version: 1\npools: []\nallow_delete_all: true\n",
        );
        for (target, want) in [
            (KEEP.to_owned(), format!("--target \"{KEEP}\" is the id of {KEEP} (\"{other_name}\") and the name of b0000000-0000-4000-8000-000000000001 (\"{KEEP}\"); a target selects exactly one pool")),
            ("twin".to_owned(), "--target \"twin\" is the name of 2 planned deletes".to_owned()),
        ] {
            let out = poolform(&sim)
                .args(["apply", "--auto-approve", "-f"])
                .arg(&file)
                .args(["--target", &target])
                .output()
                .unwrap();
            assert_exit(&out, 1);
            assert!(stderr_of(&out).contains(&want), "{}", stderr_of(&out));
            assert_eq!(sim.delete_requests(), 0);
        }
        // the id in capitals selects the one pool whose id it is
        let out = poolform(&sim)
            .args(["apply", "--auto-approve", "--format", "json", "-f"])
            .arg(&file)
            .args(["--target", &KEEP.to_ascii_uppercase()])
            .output()
            .unwrap();
        assert_exit(&out, 0);
        assert_eq!(deletes_sent(&sim), set(&[KEEP]));
    }
}

#[test]
fn keep_and_protect_rules_compare_names_as_people_read_them() {
    let sim = sim_of(json!([
        {"id": KEEP, "name": "ci-by-id"},
        {"id": "b0000000-0000-4000-8000-000000000001", "name": "ci-prod\u{200b}-db"},
        {"id": "b0000000-0000-4000-8000-000000000002", "name": "ci-cafe\u{301}"},
        {"id": "b0000000-0000-4000-8000-000000000003", "name": "ci-legal\u{a0}"},
        {"id": "b0000000-0000-4000-8000-000000000004", "name": "ci-tagged", "tags": [{"key": "env", "value": "dev"}, {"key": "env", "value": "prod"}]},
        {"id": "b0000000-0000-4000-8000-000000000005", "name": "ci-junk"},
    ]));
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(),
        "pools.yaml",
        &format!("version: 1\nscope: {{name_prefix: ci-}}\npools:\n  - name: ci-café\n  - name: ci-legal\nprotect:\n  - id: {}\n  - name: \"ci-prod-*\"\n  - tag: {{key: env, value: prod}}\n", KEEP.to_ascii_uppercase()),
    );
    let out = poolform(&sim)
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let shown = stdout_of(&out);
    assert!(
        shown.contains(
            "Plan: 1 to delete, 2 missing, 0 drifted, 2 protected, 3 near matches, 0 unchanged."
        ),
        "{shown}"
    );
    assert!(
        shown.contains("≈ ci-prod\\u{200b}-db"),
        "escaped, never invisible: {shown}"
    );
    assert!(shown.contains("(it holds U+00A0)"), "{shown}");
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "--format", "json", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        deletes_sent(&sim),
        set(&["b0000000-0000-4000-8000-000000000005"])
    );
}

#[test]
fn tags_the_listing_leaves_out_are_read_from_the_pool_never_assumed_empty() {
    let pools = json!([
        {"id": KEEP, "name": "ci-legal", "tags": [{"key": "env", "value": "prod"}]},
        {"id": "b0000000-0000-4000-8000-000000000001", "name": "ci-junk"},
    ]);
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "pools.yaml",
        "version: 1\nscope: {name_prefix: ci-}\nprotect: [{tag: {key: env, value: prod}}]\n",
    );
    let sim = sim_of(pools.clone());
    sim.set_hostile(|h| h.omit_list_tags = true);
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "--format", "json", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        deletes_sent(&sim),
        set(&["b0000000-0000-4000-8000-000000000001"])
    );
    assert!(
        requests_to(&sim, "show") >= 2,
        "each would-be delete was read"
    );
    // a read without tags either: fail closed, nothing deleted
    let sim = sim_of(pools);
    sim.set_hostile(|h| {
        h.omit_list_tags = true;
        h.malformed =
            vec![workspace_sim::Malformed::parse(&format!("{KEEP}:tags=missing")).unwrap()];
    });
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains(&format!("pool {KEEP} would be deleted, but the listing gave no tags for it and a read of the pool gave none either")),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn refusals_with_huge_error_bodies_stay_bounded() {
    let sim = generated_sim(40, |c| {
        c.fixture = workspace_sim::Fixture::generated(project(), 40, "gen-", Some(1));
        c.hostile.error_body_bytes = Some(7_900_000);
    });
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("poolform"));
    cmd.env_clear()
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT)
        .args([
            "apply",
            "--endpoint",
            &sim.url(),
            "--auto-approve",
            "--format",
            "json",
            "-f",
        ])
        .arg(&file);
    let m = measure::run_measured_within(&mut cmd, Duration::from_secs(120));
    assert_eq!(m.code, Some(2), "{}", String::from_utf8_lossy(&m.stderr));
    let report: Value = serde_json::from_slice(&m.stdout).unwrap();
    assert_eq!(report["summary"]["blocked"], 40);
    assert!(
        m.stdout.len() <= 1024 * 1024,
        "report of {} bytes",
        m.stdout.len()
    );
    let msg = report["projects"][0]["results"][0]["error"]["error_msg"]
        .as_str()
        .unwrap();
    assert_eq!(msg.len(), 4096, "kept bounded");
    println!(
        "40 refusals with 7.9 MB bodies: report {} bytes, peak RSS {:.0} MiB (debug build, from {:.0} MiB)",
        m.stdout.len(),
        m.peak_rss_mib,
        m.parent_rss_mib
    );
    assert!(m.peak_rss_mib < 400.0, "peak RSS {} MiB", m.peak_rss_mib);
}

#[test]
fn a_plan_padded_with_invented_pools_is_refused_before_any_read() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.json");
    poolform(&sim)
        .args(["plan", "-f", &example_config(), "-o"])
        .arg(&plan_file)
        .assert()
        .code(0);
    let mut plan: poolform::core::plan::Plan =
        serde_json::from_str(&fs::read_to_string(&plan_file).unwrap()).unwrap();
    let template = plan.projects[0].changes[0].clone();
    for i in 0..15 {
        let mut invented = template.clone();
        invented.pool.id =
            poolform::core::model::PoolId::parse(&format!("f0000000-0000-4000-8000-{i:012}"))
                .unwrap();
        invented.pool.name = format!("ci-invented-{i}").into();
        invented.fingerprint = invented.pool.fingerprint();
        plan.projects[0].changes.push(invented);
    }
    plan.recount();
    fs::write(&plan_file, plan.to_json()).unwrap();
    let (shows, lists) = (requests_to(&sim, "show"), requests_to(&sim, "list"));
    let out = poolform(&sim)
        .args(["apply", "-f", &example_config()])
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("15 of which the listing does not show; more than 10 and more than a tenth of its deletes"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(
        requests_to(&sim, "show"),
        shows,
        "no pool was read one by one"
    );
    assert_eq!(requests_to(&sim, "list"), lists + 1, "one listing");
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn a_pool_named_like_a_signature_round_trips_through_a_saved_plan() {
    let name = "ci-build Signature=0123abcd";
    let sim = sim_of(json!([{"id": KEEP, "name": name}]));
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "pools.yaml",
        "version: 1\nscope: {name_prefix: ci-}\n",
    );
    let plan_file = dir.path().join("plan.json");
    let out = poolform(&sim)
        .args(["plan", "-f"])
        .arg(&file)
        .arg("-o")
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(stdout_of(&out).contains(name), "{}", stdout_of(&out));
    assert!(fs::read_to_string(&plan_file).unwrap().contains(name));
    let out = poolform(&sim)
        .args(["apply", "-f"])
        .arg(&file)
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(deletes_sent(&sim), set(&[KEEP]));
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_at_once_and_a_signal_ends_a_read_of_stdin() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let fifo = fifo.to_str().unwrap().to_owned();
    let config = example_config();
    let cases: Vec<(Vec<(&str, &str)>, Vec<&str>, String)> = vec![
        (
            vec![],
            vec!["plan", "-f", &fifo],
            format!("{fifo} is a FIFO, not a regular file"),
        ),
        (
            vec![],
            vec!["apply", &fifo, "-f", &config],
            format!("{fifo} is a FIFO, not a regular file"),
        ),
        (
            vec![],
            vec!["show", &fifo],
            format!("{fifo} is a FIFO, not a regular file"),
        ),
        (
            vec![("HW_SHARED_CONFIG_FILE", &fifo)],
            vec!["plan", "-f", &config],
            format!("shared config file {fifo}: it is a FIFO, not a regular file"),
        ),
        (
            vec![("HW_SHARED_CONFIG_FILE", "/dev/zero")],
            vec!["plan", "-f", &config],
            "shared config file /dev/zero: it is a character device, not a regular file".to_owned(),
        ),
    ];
    for (env, args, want) in cases {
        let started = Instant::now();
        let mut cmd = poolform_bare();
        cmd.env("HW_PROJECT_ID", PROJECT)
            .timeout(Duration::from_secs(20));
        if env.is_empty() {
            cmd.env("HW_AUTH_TOKEN", TOKEN);
        }
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = cmd
            .args(&args)
            .arg("--endpoint")
            .arg(sim.url())
            .output()
            .unwrap();
        let out = if args[0] == "show" {
            poolform_bare().args(&args).output().unwrap()
        } else {
            out
        };
        assert_exit(&out, 1);
        assert!(
            stderr_of(&out).contains(&want),
            "{want}: {}",
            stderr_of(&out)
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(sim.api_requests(), 0);
    // `-f -` from a pipe that never closes: the first SIGTERM ends the run
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("poolform"))
        .env_clear()
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT)
        .args(["plan", "--endpoint", &sim.url(), "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The pipe stays open (held here) until poolform has exited.
    let open_pipe = child.stdin.take();
    std::thread::sleep(Duration::from_millis(500));
    send_signal(&child, "TERM");
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    drop(open_pipe);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_exit(&out, 143);
    assert!(
        stderr_of(&out).contains("interrupted (SIGTERM) while reading <stdin>"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.api_requests(), 0);
}

#[test]
fn a_report_lost_to_a_full_disk_is_said_and_fails_the_run() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "pools.yaml",
        "version: 1\nscope: {name_prefix: ci-old}\n",
    );
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("poolform"))
        .env_clear()
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT)
        .args([
            "apply",
            "--endpoint",
            &sim.url(),
            "--auto-approve",
            "--format",
            "json",
            "-f",
        ])
        .arg(&file)
        .stdout(full)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(
            "error: the report could not be written to standard output (No space left on device"
        ) && stderr.contains("Apply complete: 1 deleted")
            && stderr.contains(
                "deleted: c0ffee00-1111-4222-8333-444455556666 (ci-old-build) [request id: sim-"
            ),
        "{stderr}"
    );
    assert_eq!(
        deletes_sent(&sim),
        set(&["c0ffee00-1111-4222-8333-444455556666"])
    );
}

#[test]
fn import_filters_like_plan_whatever_the_apis_name_filter_does() {
    let mut c = config(example_fixture());
    c.exact_name_filter = true;
    let sim = spawn(c);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pools.yaml");
    poolform(&sim)
        .args(["import", "--name-prefix", "ci-", "-o"])
        .arg(&file)
        .assert()
        .code(0);
    let out = poolform(&sim)
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn no_delete_is_sent_on_a_judgement_older_than_the_limit() {
    // One DELETE at a time, each slow: the judgement (shortened to 1 s here) ages mid-run.
    let sim = generated_sim(6, |c| {
        c.faults = Faults {
            delete_latency: Duration::from_millis(700),
            ..Faults::default()
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(
        dir.path(),
        "version: 1\nscope: {name_prefix: gen-}\nprotect: [{tag: {key: keep, value: \"yes\"}}]\n",
    );
    let last = workspace_sim::fixture::synthetic_id(5);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("poolform"))
        .env_clear()
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT)
        .env("POOLFORM_MAX_JUDGEMENT_AGE", "1s")
        .args([
            "apply",
            "--endpoint",
            &sim.url(),
            "--auto-approve",
            "--parallelism",
            "1",
            "--format",
            "json",
            "-f",
        ])
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first DELETE has gone out, the last pool is tagged to be kept.
    wait_for("the first DELETE", || sim.delete_requests() >= 1);
    let mut tag = serde_json::Map::new();
    tag.insert("tags".into(), json!([{"key": "keep", "value": "yes"}]));
    assert!(sim.patch_pool(&last, tag));
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 1);
    assert_eq!(
        sim.deletes_for(&last),
        0,
        "never deleted on the old judgement"
    );
    assert!(
        requests_to(&sim, "list") >= 3,
        "listed again to renew the judgement"
    );
    let report = report_of(&out);
    let kept = result_for(&report, &last);
    assert_eq!(kept["outcome"], "failed");
    assert!(
        kept["detail"].as_str().unwrap().contains("not deleted: judged again on a fresh listing (the plan's was older than 1 s): it is now protected by tag keep=yes"),
        "{kept}"
    );
    assert!(
        stderr_of(&out).contains("Listing the project again"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(report["summary"]["deleted"], 5);
}

#[test]
fn a_plan_file_of_many_targets_is_read_in_linear_time_and_refused_on_its_binding_first() {
    use poolform::core::plan::{Action, Change, Plan, Summary};
    let n = 60_000u64;
    let changes: Vec<Change> = (0..n)
        .map(|i| {
            let mut p = poolform::core::model::Pool::new(
                poolform::core::model::PoolId::parse(&workspace_sim::fixture::synthetic_id(i))
                    .unwrap(),
                "ci-same",
            );
            p.status = Some("STEADY".into());
            let pool = poolform::core::model::PoolRef::of(&p);
            Change {
                action: Action::Delete,
                fingerprint: pool.fingerprint(),
                pool,
                likely_blocked: false,
                reason: poolform::core::plan::Reason::NotInConfig,
                expired: None,
            }
        })
        .collect();
    let part = poolform::core::plan::ProjectPlan {
        label: None,
        project_id: project(),
        endpoint: "http://127.0.0.1:9".into(),
        identity: token_identity(),
        clock: None,
        in_scope: changes.len(),
        summary: Summary::count(&changes, &[], 0),
        changes,
        findings: Vec::new(),
    };
    let made = poolform::core::plan::Made {
        created_at: "2026-11-28T00:00:00Z".into(),
        source: "pools.yaml".into(),
        config_sha256: "0".repeat(64),
    };
    let mut plan = Plan::new(made, Vec::new(), vec![part], Vec::new());
    plan.targets = (0..n).map(workspace_sim::fixture::synthetic_id).collect();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.json");
    fs::write(&plan_file, plan.to_json()).unwrap();
    // Generous "does not hang" bounds (the release build's figures are in bench_untrusted).
    let started = Instant::now();
    let out = poolform_bare()
        .timeout(Duration::from_secs(120))
        .args(["show", "--format", "json"])
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let sim = example_sim();
    let started = Instant::now();
    let out = poolform(&sim)
        .args(["apply", "-f", &example_config()])
        .arg(&plan_file)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("with SHA-256 0000"),
        "{}",
        stderr_of(&out)
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sim.api_requests(), 0);
}

#[test]
fn apply_jsonl_starts_deleting_soon_after_the_listing_whatever_the_plan_size() {
    let sim = generated_sim(5_000, |_| {});
    let dir = tempfile::tempdir().unwrap();
    let file = scope_file(dir.path(), "version: 1\nscope: {name_prefix: gen-}\n");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("poolform"))
        .env_clear()
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT)
        .args([
            "apply",
            "--endpoint",
            &sim.url(),
            "--auto-approve",
            "--format",
            "jsonl",
            "-f",
        ])
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let judged = std::thread::spawn(move || {
        let mut lines = BufReader::new(stderr).lines();
        let at = lines
            .by_ref()
            .find(|l| {
                l.as_ref()
                    .is_ok_and(|l| l.starts_with("poolform plan for project"))
            })
            .map(|_| Instant::now());
        for _ in lines {}
        at
    });
    let first = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .find(|l| {
            l.as_ref()
                .is_ok_and(|l| l.contains("\"type\":\"step_started\""))
        })
        .map(|_| Instant::now());
    let _ = child.kill();
    let _ = child.wait();
    let judged = judged.join().unwrap().expect("the plan on stderr");
    let first = first.expect("a step_started event");
    let delay = first.saturating_duration_since(judged);
    assert!(
        delay < Duration::from_secs(10),
        "{delay:?} (target 1 s for 60,000 in release: bench_untrusted)"
    );
}
