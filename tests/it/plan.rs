//! `poolform` validate / plan / show / import / schema / completions, run as a binary against
//! the simulator: every plan category, every exit code, malformed input, both auth modes.

use crate::harness::*;
use serde_json::json;
use std::fs;
use workspace_sim::SimAuth;

#[test]
fn validate_accepts_the_example_offline() {
    let out = poolform_bare()
        .args(["validate", "-f", &example_config()])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.contains(
            "is valid: 4 listed to keep, 2 protect rules, managing pools with name_prefix \"ci-\""
        ),
        "{stdout}"
    );
}

#[test]
fn plan_shows_every_category_in_human_form() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args(["plan", "-f", "examples/pools.yaml"])
        .current_dir(repo_file(""))
        .assert()
        .success();
    insta::assert_snapshot!("plan_human", text(&out.get_output().stdout, &sim));
    assert_eq!(sim.delete_requests(), 0, "plan never deletes");
}

#[test]
fn plan_as_markdown_for_a_pull_request() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args(["plan", "-f", "examples/pools.yaml", "--format", "markdown"])
        .current_dir(repo_file(""))
        .assert()
        .success();
    insta::assert_snapshot!("plan_markdown", text(&out.get_output().stdout, &sim));
}

#[test]
fn plan_as_json_has_the_designed_shape() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args(["plan", "-f", "examples/pools.yaml", "--format", "json"])
        .current_dir(repo_file(""))
        .assert()
        .success();
    let mut plan: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(plan["format_version"], 4);
    assert_eq!(
        plan["summary"],
        json!({"delete": 3, "likely_blocked": 1, "missing": 1, "drift": 1, "protected": 2, "out_of_scope": 0, "near_match": 0, "young": 1, "expiring": 1, "terraform": 0, "terraform_not_live": 0, "unchanged": 2})
    );
    assert_eq!(
        plan["projects"][0]["identity"],
        json!({"credentials": "token", "source": "HW_AUTH_TOKEN", "temporary": false, "project_from": "HW_PROJECT_ID"})
    );
    plan["created_at"] = json!("CREATED_AT");
    assert_eq!(plan["projects"][0]["clock"]["source"], "api");
    plan["projects"][0]["clock"]["now"] = json!("NOW");
    let shown = serde_json::to_string_pretty(&plan)
        .unwrap()
        .replace(&sim.url(), "http://SIM");
    insta::assert_snapshot!("plan_json", shown);
}

#[test]
fn colour_follows_the_flag() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args(["plan", "-f", &example_config(), "--color", "always"])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("\x1b[31m  - ci-old-build"));
    let out = poolform(&sim)
        .args(["plan", "-f", &example_config()])
        .assert()
        .success();
    assert!(
        !String::from_utf8_lossy(&out.get_output().stdout).contains('\x1b'),
        "NO_COLOR and no terminal: plain"
    );
}

#[test]
fn detailed_exitcode_tells_sync_drift_and_error_apart() {
    let sim = example_sim();
    // drift: 2 with the flag, 0 without
    poolform(&sim)
        .args(["plan", "-f", &example_config(), "--detailed-exitcode"])
        .assert()
        .code(2);
    poolform(&sim)
        .args(["plan", "-f", &example_config()])
        .assert()
        .code(0);
    // in sync
    let dir = tempfile::tempdir().unwrap();
    let synced = dir.path().join("synced.yaml");
    fs::write(
        &synced,
        "version: 1\nscope: {name_prefix: ci-eng}\npools: [{name: ci-eng}]\n",
    )
    .unwrap();
    let out = poolform(&sim)
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&synced)
        .assert()
        .code(0);
    assert!(
        String::from_utf8_lossy(&out.get_output().stdout).contains("No changes. Live pools match")
    );
    // error: wrong token
    let out = poolform(&sim)
        .env("HW_AUTH_TOKEN", "wrong")
        .args(["plan", "--detailed-exitcode", "-f", &example_config()])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("HTTP 401 APIGW.0301: Incorrect IAM authentication information")
            && stderr.contains("[request id: sim-"),
        "{stderr}"
    );
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn aksk_credentials_work_under_both_variable_names() {
    let mut cfg = config(example_fixture());
    cfg.auth = SimAuth::AkSk {
        access_key: AK.into(),
        secret_key: SK.into(),
    };
    let sim = spawn(cfg);
    for (ak_var, sk_var) in [
        ("HW_ACCESS_KEY", "HW_SECRET_KEY"),
        ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK"),
    ] {
        let out = poolform_bare()
            .env(ak_var, AK)
            .env(sk_var, SK)
            .args([
                "-v",
                "plan",
                "--detailed-exitcode",
                "--endpoint",
                &sim.url(),
                "-f",
                &example_config(),
            ])
            .assert()
            .code(2);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.get_output().stdout),
            String::from_utf8_lossy(&out.get_output().stderr)
        );
        assert!(
            all.contains("method=\"GET\"") && all.contains("status=200"),
            "verbose logs the calls: {all}"
        );
        assert!(!all.contains(SK), "the secret key leaked");
        assert!(!all.contains("Signature="), "a signature leaked");
    }
    let out = poolform_bare()
        .env("HW_ACCESS_KEY", AK)
        .env("HW_SECRET_KEY", "wrong")
        .args(["plan", "--endpoint", &sim.url(), "-f", &example_config()])
        .assert()
        .code(1);
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr).contains("verify aksk signature fail")
    );
}

#[test]
fn token_never_appears_in_verbose_output() {
    let sim = example_sim();
    let out = poolform(&sim)
        .args(["-v", "plan", "-f", &example_config()])
        .assert()
        .success();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.get_output().stdout),
        String::from_utf8_lossy(&out.get_output().stderr)
    );
    assert!(all.contains("request_id=\"sim-"), "{all}");
    assert!(!all.contains(TOKEN));
}

#[test]
fn saved_plans_are_written_atomically_and_shown_in_every_format() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.json");
    let out = poolform(&sim)
        .args(["plan", "-f", &example_config(), "-o"])
        .arg(&plan_file)
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("Saved the plan to"));
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
    let saved: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert_eq!(saved["projects"][0]["changes"].as_array().unwrap().len(), 3);
    assert!(
        saved["projects"][0]["changes"][0]["fingerprint"]
            .as_str()
            .unwrap()
            .len()
            == 32
    );
    assert_eq!(saved["projects"][0]["project_id"], PROJECT);
    for (format, want) in [
        ("human", "Plan: 3 to delete (1 likely blocked)"),
        ("markdown", "| 🗑️ delete | ci-old-build |"),
        ("json", "\"format_version\": 4"),
    ] {
        let out = poolform_bare()
            .args(["show", "--format", format])
            .arg(&plan_file)
            .assert()
            .success();
        assert!(
            String::from_utf8_lossy(&out.get_output().stdout).contains(want),
            "{format}"
        );
    }
}

#[test]
fn show_refuses_truncated_corrupt_and_foreign_plan_files() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("plan.json");
    poolform(&sim)
        .args(["plan", "-f", &example_config(), "-o"])
        .arg(&good)
        .assert()
        .success();
    let text = fs::read_to_string(&good).unwrap();
    let cases = [
        (text[..text.len() / 3].to_owned(), "looks truncated"),
        ("not json at all".to_owned(), "not valid JSON at line 1"),
        (
            text.replace("\"format_version\": 4", "\"format_version\": 7"),
            "format_version 7 is not supported",
        ),
        (
            text.replace("ci-old-build", "ci-other"),
            "does not match its fingerprint",
        ),
        ("{}".to_owned(), "no format_version"),
    ];
    for (content, want) in cases {
        let bad = dir.path().join("bad.json");
        fs::write(&bad, content).unwrap();
        let out = poolform_bare().arg("show").arg(&bad).assert().code(1);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains("bad.json") && stderr.contains(want),
            "{want}: {stderr}"
        );
    }
    let out = poolform_bare()
        .args(["show", "/nonexistent/plan.json"])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr)
        .contains("cannot read /nonexistent/plan.json"));
}

#[test]
fn import_then_plan_is_in_sync_and_import_never_overwrites() {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pools.yaml");
    poolform(&sim)
        .args(["import", "-o"])
        .arg(&file)
        .assert()
        .success();
    let written = fs::read_to_string(&file).unwrap();
    assert!(
        written.starts_with("# Written by `poolform import` at "),
        "{written}"
    );
    assert!(written.contains(&format!("from {} (project {PROJECT})", sim.url())));
    assert_eq!(written.matches("- id: ").count(), 10);
    poolform(&sim)
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    let out = poolform(&sim)
        .args(["import", "-o"])
        .arg(&file)
        .assert()
        .code(1);
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr).contains("already exists; pass --force")
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), written, "untouched");
    poolform(&sim)
        .args(["import", "--force", "--name-prefix", "ci-prod", "-o"])
        .arg(&file)
        .assert()
        .success();
    let narrowed = fs::read_to_string(&file).unwrap();
    assert!(
        narrowed.contains("name_prefix: ci-prod") && narrowed.matches("- id: ").count() == 1,
        "{narrowed}"
    );
    poolform(&sim)
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&file)
        .assert()
        .code(0);
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn import_to_stdout_keeps_odd_names_exact() {
    let sim = spawn(config(fixture(
        json!([{"id": "p-1", "name": "ci: weird # name 'quoted'"}, {"id": "p-2", "name": "yes"}]),
    )));
    let out = poolform(&sim).arg("import").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let parsed = poolform::core::config::parse(&text, "imported").unwrap();
    let names: Vec<_> = parsed
        .pools
        .iter()
        .map(|p| p.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["ci: weird # name 'quoted'", "yes"]);
}

#[test]
fn config_from_stdin() {
    let sim = example_sim();
    let yaml = fs::read_to_string(repo_file("examples/pools.yaml")).unwrap();
    poolform(&sim)
        .args(["plan", "--detailed-exitcode", "-f", "-"])
        .write_stdin(yaml)
        .assert()
        .code(2);
    let out = poolform(&sim)
        .args(["plan", "-f", "-"])
        .write_stdin("version: 1\npool: []\n")
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr)
        .contains("<stdin>:2:1: unknown field `pool`"));
}

/// `(name, file content, expected fragment of "file:line:column: message")`.
const MALFORMED: &[(&str, &str, &str)] = &[
    ("empty", "", ":1:1: the file is empty"),
    ("blank", "\n\n   \n", ":1:1: the file is empty"),
    ("binary", "\u{0}\u{1}\u{2}\u{3}PNG", ":1:1: control characters are not allowed"),
    ("typo top key", "version: 1\npool:\n  - id: a\n", ":2:1: unknown field `pool`"),
    ("typo entry key", "version: 1\npools:\n  - idd: a\n", ":3:5: pools[0]: unknown field `idd`"),
    ("no version", "pools: [{id: a}]\n", ":1:1: missing field `version`"),
    ("version 2", "version: 2\npools: [{id: a}]\n", ":1:10: version: unsupported version 2"),
    ("version string", "version: \"1\"\npools: [{id: a}]\n", ":1:10: version: invalid type: string"),
    ("duplicate id", "version: 1\npools:\n  - id: abc\n  - id: abc\n", ":4:9: duplicate id abc"),
    ("duplicate name", "version: 1\npools:\n  - name: ci-a\n  - name: ci-a\n", ":4:11: duplicate name \"ci-a\""),
    ("id with slash", "version: 1\npools:\n  - id: a/b\n", ":3:9: pools[0].id: contains '/'"),
    ("id with dots", "version: 1\npools:\n  - id: ../../v2\n", ":3:9: pools[0].id: contains '.'"),
    ("id with query", "version: 1\npools:\n  - id: \"a?x=1\"\n", ":3:9: pools[0].id: contains '?'"),
    ("id with space", "version: 1\npools:\n  - id: \"a b\"\n", ":3:9: pools[0].id: contains ' '"),
    ("id with percent", "version: 1\npools:\n  - id: a%2Fb\n", ":3:9: pools[0].id: contains '%'"),
    ("empty id", "version: 1\npools:\n  - id: \"\"\n", ":3:9: pools[0].id: is empty"),
    ("bad project id", "version: 1\nproject_id: \"x/y\"\npools: [{id: a}]\n", ":2:13: project_id: contains '/'"),
    ("bad region", "version: 1\nregion: \"cn-north-4.evil.com\"\npools: [{id: a}]\n", ":2:9: region: region"),
    ("bad glob", "version: 1\npools: [{id: a}]\nprotect:\n  - name: \"ci-[\"\n", ":4:11: protect[0].name: invalid glob"),
    ("empty protect", "version: 1\npools: [{id: a}]\nprotect:\n  - {}\n", ":4:5: protect[0] must have exactly one of name, id or tag"),
    ("two protect kinds", "version: 1\npools: [{id: a}]\nprotect:\n  - {name: a, id: b}\n", ":4:5: protect[0] must have exactly one"),
    ("unknown expect", "version: 1\npools:\n  - id: a\n    expect: {flavour: x}\n", "pools[0].expect: unknown field `flavour`"),
    ("bad expect type", "version: 1\npools:\n  - id: a\n    expect: {type: BIG}\n", "unknown variant `BIG`"),
    ("zero max_deletes", "version: 1\npools: [{id: a}]\nmax_deletes: 0\n", ":3:14: max_deletes: max_deletes must be a whole number of at least 1, not 0"),
    ("negative max_deletes", "version: 1\npools: [{id: a}]\nmax_deletes: -1\n", ":3:14: max_deletes"),
    ("empty pools no scope", "version: 1\npools: []\n", ":2:8: pools is empty and there is no scope"),
    ("no pools no scope", "version: 1\n", "pools is empty and there is no scope"),
    ("empty scope", "version: 1\nscope: {}\npools: []\n", "pools is empty and there is no scope"),
    ("entry without id or name", "version: 1\npools:\n  - expect: {type: STATIC}\n", ":3:5: pools[0] has neither id nor name"),
    ("pools is a map", "version: 1\npools: {id: a}\n", ":2:8: pools: invalid type: map"),
    ("entry is a string", "version: 1\npools:\n  - a130ab3a\n", ":3:5: pools[0]: invalid type: string"),
    ("document is a list", "- version: 1\n", ":1:1: invalid type: sequence"),
    ("unclosed flow", "version: 1\npools: [{id: a}\n", "did not find expected ',' or ']'"),
    ("tab indentation", "version: 1\npools:\n\t- id: a\n", "found character that cannot start any token"),
    ("duplicate key", "version: 1\nversion: 1\npools: [{id: a}]\n", "duplicate field `version`"),
    ("scope typo", "version: 1\nscope: {prefix: ci-}\npools: []\n", "did you mean `name_prefix`?"),
    ("bool as string", "version: 1\nallow_delete_all: \"true\"\npools: []\n", ":2:19: allow_delete_all: invalid type: string"),
    ("alias bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\ni: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\nversion: 1\npools: [{id: a}]\n", ":6:32: the YAML holds more than 500000 values"),
];

#[test]
fn malformed_configs_exit_1_with_position_and_send_nothing() {
    assert!(MALFORMED.len() >= 30);
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, content, want) in MALFORMED {
        let file = dir.path().join("pools.yaml");
        fs::write(&file, content).unwrap();
        let out = poolform(&sim)
            .args(["plan", "--detailed-exitcode", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let expected_prefix = format!("error: {}:", file.display());
        if out.status.code() != Some(1)
            || !stderr.starts_with(&expected_prefix)
            || !stderr.contains(want)
        {
            failures.push(format!(
                "{name}: exit {:?}, stderr {stderr:?}, want {want:?}",
                out.status.code()
            ));
        }
        let validate = poolform_bare()
            .arg("validate")
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap();
        if validate.status.code() != Some(1)
            || !String::from_utf8_lossy(&validate.stderr).contains(want)
        {
            failures.push(format!("{name}: validate did not refuse it the same way"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        sim.api_requests(),
        0,
        "a bad config makes no API call at all"
    );
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn a_missing_or_non_utf8_file_is_a_clear_error() {
    let out = poolform_bare()
        .args(["validate", "-f", "/nonexistent/pools.yaml"])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr)
        .contains("cannot read /nonexistent/pools.yaml: No such file"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("latin1.yaml");
    fs::write(&file, b"version: 1\npools: [{name: caf\xe9}]\n").unwrap();
    let out = poolform_bare()
        .arg("validate")
        .arg("-f")
        .arg(&file)
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr)
        .contains(":1:1: the file is not UTF-8 text"));
}

#[test]
fn planning_refusals_exit_1_and_send_nothing() {
    let sim = spawn(config(fixture(json!([
        {"id": "p-1", "name": "dup"}, {"id": "p-2", "name": "dup"},
        {"id": "p-3", "name": "ci-a"}, {"id": "p-4", "name": "ci-b"}, {"id": "p-5", "name": "ci-c"}
    ]))));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pools.yaml");
    let cases: [(&str, &[&str], &str); 3] = [
        ("version: 1\npools: [{name: dup}]\n", &[], "pools[0] names \"dup\", which matches 2 live pools: p-1, p-2; list the one to keep by id"),
        ("version: 1\nscope: {name_prefix: ci-}\nmax_deletes: 2\n", &[], "the plan above deletes 3 pools, more than max_deletes in the config allows (2)"),
        ("version: 1\nscope: {name_prefix: ci-}\n", &["--max-deletes", "1"], "more than --max-deletes allows (1)"),
    ];
    for (yaml, extra, want) in cases {
        fs::write(&file, yaml).unwrap();
        let out = poolform(&sim)
            .args(["plan", "--detailed-exitcode", "-f"])
            .arg(&file)
            .args(extra)
            .assert()
            .code(1);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains(want), "{stderr}");
    }
    fs::write(
        &file,
        "version: 1\nscope: {name_prefix: ci-}\nmax_deletes: 2\n",
    )
    .unwrap();
    poolform(&sim)
        .args(["plan", "--detailed-exitcode", "--max-deletes", "3", "-f"])
        .arg(&file)
        .assert()
        .code(2);
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn connection_problems_are_named_before_any_call() {
    let sim = example_sim();
    let cfg = example_config();
    let cases: Vec<(Vec<(&str, &str)>, Vec<&str>, &str)> = vec![
        (
            vec![],
            vec!["--endpoint", "http://127.0.0.1:9"],
            "no credentials: set HW_ACCESS_KEY and HW_SECRET_KEY",
        ),
        (
            vec![("HW_ACCESS_KEY", "a")],
            vec!["--endpoint", "http://127.0.0.1:9"],
            "HW_ACCESS_KEY is set but HW_SECRET_KEY is not",
        ),
        (
            vec![("HW_AUTH_TOKEN", "t")],
            vec!["--endpoint", "http://203.0.113.9"],
            "HTTPS is required unless the host is loopback",
        ),
        (
            vec![("HW_AUTH_TOKEN", "t")],
            vec!["--project-id", "a/b", "--endpoint", "http://127.0.0.1:9"],
            "but --project-id selects project a/b; refusing to mix them",
        ),
    ];
    for (env, args, want) in cases {
        let mut cmd = poolform_bare();
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd
            .arg("plan")
            .args(&args)
            .args(["-f", &cfg])
            .assert()
            .code(1);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains(want), "{want}: {stderr}");
    }
    // the file names its project and region: a flag or variable that contradicts them is refused
    let conflicts: [(&[&str], (&str, &str), &str); 3] = [
        (&["--project-id", "another-project"], ("HW_PROJECT_ID", PROJECT), "is for project 0bec5db98280d2d02fd6c00c2de791ce, but --project-id selects project another-project"),
        (&[], ("HW_PROJECT_ID", "another-project"), "but HW_PROJECT_ID selects project another-project"),
        (&[], ("HW_REGION_NAME", "cn-east-3"), "is for region cn-north-4, but HW_REGION_NAME selects region cn-east-3"),
    ];
    for (args, (var, value), want) in conflicts {
        let mut cmd = poolform_bare();
        cmd.env("HW_AUTH_TOKEN", TOKEN).env(var, value).arg("plan");
        if var != "HW_REGION_NAME" {
            cmd.arg("--endpoint").arg(sim.url());
        }
        let out = cmd.args(args).args(["-f", &cfg]).assert().code(1);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains(want) && stderr.contains("refusing to mix them"),
            "{want}: {stderr}"
        );
    }
    assert_eq!(sim.api_requests(), 0, "refused before any call");
    // a file that names no project: the API itself refuses another project
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pools.yaml");
    fs::write(&file, "version: 1\nscope: {name_prefix: ci-}\n").unwrap();
    let out = poolform(&sim)
        .args(["plan", "--project-id", "another-project", "-f"])
        .arg(&file)
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("HTTP 403"));
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn a_listing_that_keeps_changing_is_exit_1() {
    let mut cfg = config(generated(1500));
    cfg.churn_on_list = 100;
    let sim = spawn(cfg);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pools.yaml");
    fs::write(&file, "version: 1\nscope: {name_prefix: gen-}\n").unwrap();
    let out = poolform(&sim)
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&file)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("the pool listing kept changing while it was read"),
        "{stderr}"
    );
    assert_eq!(sim.delete_requests(), 0);
}

#[test]
fn schema_validates_the_example_and_matches_the_committed_copy() {
    let out = poolform_bare().arg("schema").assert().success();
    let schema: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let committed: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(repo_file("pools.schema.json")).unwrap()).unwrap();
    assert_eq!(
        schema, committed,
        "pools.schema.json is stale: run `cargo run -- schema > pools.schema.json`"
    );
    let validator = jsonschema::validator_for(&schema).unwrap();
    let example: serde_json::Value =
        serde_yaml::from_str(&fs::read_to_string(repo_file("examples/pools.yaml")).unwrap())
            .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&example)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    for bad in [
        json!({"version": 2, "pools": []}),
        json!({"version": 1, "pool": []}),
        json!({"version": 1, "pools": [{"id": "a/b"}]}),
        json!({"version": 1, "max_deletes": 0}),
    ] {
        assert!(!validator.is_valid(&bad), "{bad}");
    }
}

#[test]
fn completions_for_bash() {
    let out = poolform_bare()
        .args(["completions", "bash"])
        .assert()
        .success();
    let script = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(script.contains("_poolform()") && script.contains("--detailed-exitcode"));
}

/// The real `workspace-sim` binary: startup line, fixture errors, and a plan against it.
#[test]
fn the_simulator_binary_serves_the_example() {
    let mut child = poolform_sim()
        .args([
            "--fixture",
            &repo_file("examples/sim-pools.json").display().to_string(),
            "--token",
            TOKEN,
            "--missing-pool",
            "wks0001",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let url = workspace_sim::read_listening_line(child.stdout.take().unwrap()).unwrap();
    let out = poolform_bare()
        .env("HW_AUTH_TOKEN", TOKEN)
        .args([
            "plan",
            "--detailed-exitcode",
            "--endpoint",
            &url,
            "-f",
            &example_config(),
        ])
        .output()
        .unwrap();
    let state = http_get_json(&format!("{url}/__sim/state"));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Plan: 3 to delete (1 likely blocked)"));
    assert_eq!(state["requests"]["list"], 1);
    assert!(state["requests"]["delete"].is_null(), "plan sent no DELETE");
}

fn poolform_sim() -> std::process::Command {
    let mut cmd = std::process::Command::new(sim_binary());
    cmd.env_clear();
    cmd
}
