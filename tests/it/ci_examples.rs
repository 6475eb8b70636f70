//! The CI examples (`examples/ci`) work when copied: both are valid against their published
//! JSON Schemas (vendored in `tests/it/vendor`), their shape keeps the promises the files make
//! (one always-reporting check, fork pull requests safe, apply only when the plan deletes,
//! drift amber on GitLab), and their jobs' scripts run, step by step, against the simulator,
//! with stand-ins for `gh` and `curl` and a `poolform` that adds `--endpoint`.

use crate::harness::ids::*;
use crate::harness::*;
use serde_yaml::Value as Yaml;
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use workspace_sim::{SimAuth, SimServer};

const GITHUB: &str = "examples/ci/github-actions.yml";
const GITLAB: &str = "examples/ci/gitlab-ci.yml";

fn yaml(file: &str) -> Yaml {
    let text = fs::read_to_string(repo_file(file)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Every `run:`/`script:` text in a CI file.
fn scripts(v: &Yaml, out: &mut Vec<String>) {
    match v {
        Yaml::Mapping(m) => {
            for (k, v) in m {
                let key = k.as_str().unwrap_or("");
                match (key, v) {
                    ("run" | "script" | "before_script", Yaml::String(s)) => out.push(s.clone()),
                    ("script" | "before_script", Yaml::Sequence(items)) => {
                        out.extend(items.iter().filter_map(|i| i.as_str().map(str::to_owned)))
                    }
                    _ => scripts(v, out),
                }
            }
        }
        Yaml::Sequence(items) => items.iter().for_each(|i| scripts(i, out)),
        _ => {}
    }
}

fn all_scripts(file: &str) -> String {
    let mut all = Vec::new();
    scripts(&yaml(file), &mut all);
    all.join("\n")
}

/// Every poolform invocation in `text`: the subcommand and its flags.
fn invocations(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(at) = rest.find("poolform ") {
            let after = &rest[at + "poolform ".len()..];
            let words: Vec<&str> = after
                .split([';', '|', '>', '&', ')'])
                .next()
                .unwrap()
                .split_whitespace()
                .collect();
            if let Some((command, args)) = words.split_first() {
                if ["validate", "plan", "apply", "show", "import"].contains(command) {
                    let flags = args.iter().filter(|a| a.starts_with('-'));
                    out.push((command.to_string(), flags.map(|a| a.to_string()).collect()));
                }
            }
            rest = after;
        }
    }
    out
}

/// The schema errors of `file` against the vendored schema `schema`.
fn schema_errors(document: &serde_json::Value, schema: &str) -> Vec<String> {
    let path = repo_file(&format!("tests/it/vendor/{schema}"));
    let schema: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn both_examples_are_valid_against_their_published_schemas() {
    for (file, schema) in [
        (GITHUB, "github-workflows.json"),
        (GITLAB, "gitlab-ci.json"),
    ] {
        let document = serde_json::to_value(yaml(file)).unwrap();
        let errors = schema_errors(&document, schema);
        assert!(errors.is_empty(), "{file}: {errors:#?}");
        // and the schema is really applied: a misspelt key is caught
        let mut broken = document.clone();
        let job = if file == GITHUB {
            &mut broken["jobs"]["drift-check"]
        } else {
            &mut broken["drift-check"]
        };
        job.as_object_mut()
            .unwrap()
            .insert("scirpt".into(), "x".into());
        assert!(
            !schema_errors(&broken, schema).is_empty(),
            "{file}: a typo passes the schema"
        );
    }
}

#[test]
fn every_flag_the_examples_pass_is_one_the_command_takes() {
    for file in [GITHUB, GITLAB] {
        let found = invocations(&all_scripts(file));
        assert!(found.len() >= 5, "{file}: {found:?}");
        for (command, flags) in found {
            let known = crate::usage::flags_of(&command);
            for flag in flags {
                assert!(
                    known.contains(&flag),
                    "{file}: poolform {command} has no {flag}"
                );
            }
        }
    }
}

#[test]
fn the_github_workflow_reports_always_skips_forks_safely_and_applies_only_deletes() {
    let gh = yaml(GITHUB);
    let text = fs::read_to_string(repo_file(GITHUB)).unwrap();
    assert!(
        !text.contains("pull_request_target:"),
        "never pull_request_target"
    );
    let on = &gh["on"];
    assert!(
        on["pull_request"].is_null(),
        "pull requests without a paths filter: {on:?}"
    );
    assert_eq!(on["push"]["branches"][0], "main");
    assert!(on["push"]["paths"].is_null(), "no paths filter on push");
    assert!(
        on["schedule"][0]["cron"].is_string(),
        "a scheduled drift check"
    );
    assert!(on.get("workflow_dispatch").is_some());
    // no expression is pasted into a shell script (they go through env:)
    for script in {
        let mut s = Vec::new();
        scripts(&gh, &mut s);
        s
    } {
        assert!(
            !script.contains("${{"),
            "an expression inside run: {script}"
        );
    }
    // installed the way a user would, from a placeholder URL at a tag, and cached
    assert!(gh["env"]["POOLFORM_GIT"]
        .as_str()
        .unwrap()
        .contains("YOUR-ORG"));
    for job in ["drift-check", "apply"] {
        let steps = gh["jobs"][job]["steps"].as_sequence().unwrap();
        let cache = steps
            .iter()
            .position(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/cache@"))
            })
            .unwrap();
        let install = steps.iter().position(|s| s["run"].as_str().is_some_and(|r| r.contains("cargo install --locked --git \"$POOLFORM_GIT\" --tag \"$POOLFORM_VERSION\""))).unwrap();
        assert!(
            cache < install,
            "{job}: the cache is restored before the install"
        );
        assert_eq!(
            steps[install]["if"],
            "steps.cache.outputs.cache-hit != 'true'"
        );
        assert!(!serde_yaml::to_string(&gh["jobs"][job])
            .unwrap()
            .contains("cargo build"));
    }
    // the required check always runs; the apply job only for a push whose plan deletes
    let check = &gh["jobs"]["drift-check"];
    assert!(check["if"].is_null(), "drift-check always reports");
    let apply = &gh["jobs"]["apply"];
    assert_eq!(apply["needs"], "drift-check");
    let condition = apply["if"].as_str().unwrap();
    assert!(
        condition.contains("github.event_name == 'push'"),
        "{condition}"
    );
    assert!(
        condition.contains("needs.drift-check.outputs.deletes != '0'"),
        "{condition}"
    );
    assert_eq!(apply["environment"], "production");
    assert_eq!(apply["concurrency"]["group"], "poolform-production");
    assert_eq!(apply["concurrency"]["cancel-in-progress"], false);
}

#[test]
fn the_gitlab_pipeline_shows_drift_amber_and_applies_by_hand() {
    let gl = yaml(GITLAB);
    let rules = gl["workflow"]["rules"].as_sequence().unwrap();
    let sources = serde_yaml::to_string(rules).unwrap();
    for source in ["merge_request_event", "schedule", "CI_DEFAULT_BRANCH"] {
        assert!(sources.contains(source), "workflow: rules has {source}");
    }
    let check = &gl["drift-check"];
    assert!(
        check["rules"].is_null(),
        "drift-check runs in every pipeline"
    );
    assert_eq!(check["allow_failure"]["exit_codes"][0], 2, "drift is amber");
    let apply = &gl["apply"];
    assert_eq!(apply["rules"][0]["when"], "manual");
    assert_eq!(
        apply["allow_failure"]["exit_codes"][0], 2,
        "blocked pools are amber"
    );
    assert_eq!(apply["environment"], "production");
    let base = &gl[".poolform"];
    assert_eq!(base["resource_group"], "poolform-production");
    assert!(base["cache"]["key"]
        .as_str()
        .unwrap()
        .contains("$POOLFORM_VERSION"));
    let install = base["before_script"][0].as_str().unwrap();
    assert!(install.starts_with("test -x .poolform/bin/poolform || cargo install --locked --git \"$POOLFORM_GIT\" --tag \"$POOLFORM_VERSION\""), "{install}");
    for job in ["drift-check", "apply"] {
        assert_eq!(gl[job]["extends"], ".poolform");
    }
}

// --- running the jobs against the simulator ------------------------------------------------

/// A scratch repository: the example pools.yaml, and a bin folder with `poolform` (adding
/// `--endpoint`), and stand-ins for `gh` and `curl` that record their arguments.
struct Checkout {
    dir: tempfile::TempDir,
    sim: SimServer,
}

impl Checkout {
    fn new() -> Checkout {
        let mut c = config(example_fixture());
        c.auth = SimAuth::AkSk {
            access_key: AK.into(),
            secret_key: SK.into(),
        };
        Checkout::with(spawn(c), "examples/pools.yaml")
    }

    /// The many-project example (`examples/projects.yaml`) against the simulator of its three
    /// projects in two accounts.
    fn many() -> Checkout {
        let text = fs::read_to_string(repo_file("examples/sim-projects.json")).unwrap();
        let fixture = workspace_sim::multi::MultiFixture::from_value(
            serde_json::from_str(&text).unwrap(),
            "sim-projects.json",
        )
        .unwrap();
        let base = workspace_sim::SimConfig::new(fixture.projects[0].fixture.clone());
        Checkout::with(
            SimServer::spawn_multi(base, fixture).unwrap(),
            "examples/projects.yaml",
        )
    }

    fn with(sim: SimServer, pools: &str) -> Checkout {
        let dir = tempfile::tempdir().unwrap();
        fs::copy(repo_file(pools), dir.path().join("pools.yaml")).unwrap();
        let bin = dir.path().join("fake-bin");
        fs::create_dir(&bin).unwrap();
        let real = poolform_path();
        let calls = dir.path().join("calls.log");
        let scripts = [
            ("poolform", format!(
                "#!/bin/sh\nexport HW_AUTH_URL='{}'\ncase \"$1\" in plan|apply|import) c=$1; shift; exec '{}' \"$c\" --endpoint '{}' \"$@\";; esac\nexec '{}' \"$@\"\n",
                sim.url(), real.display(), sim.url(), real.display())),
            ("gh", format!("#!/bin/sh\necho \"gh $*\" >> '{}'\n", calls.display())),
            ("curl", format!(
                "#!/bin/sh\necho \"curl $*\" >> '{}'\ncase \"$*\" in *--request*) ;; *) cat '{}' 2>/dev/null ;; esac\n",
                calls.display(), dir.path().join("gitlab-notes.json").display())),
        ];
        for (name, body) in scripts {
            let path = bin.join(name);
            fs::write(&path, body).unwrap();
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }
        // GitLab's cached install, where the job looks for it
        let cached = dir.path().join(".poolform/bin");
        fs::create_dir_all(&cached).unwrap();
        fs::copy(bin.join("poolform"), cached.join("poolform")).unwrap();
        Checkout { dir, sim }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn calls(&self) -> String {
        fs::read_to_string(self.path("calls.log")).unwrap_or_default()
    }

    /// Runs `script` in the checkout with `env`; the exit code and what it printed.
    fn sh(&self, script: &str, env: &BTreeMap<String, String>) -> (i32, String) {
        let out = std::process::Command::new("sh")
            .arg("-ec")
            .arg(script)
            .current_dir(self.dir.path())
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.path("fake-bin").display()),
            )
            .env("HOME", self.dir.path())
            .envs(env)
            .output()
            .unwrap();
        let log = format!("{}{}", stdout_of(&out), stderr_of(&out));
        (out.status.code().unwrap_or(-1), log)
    }
}

fn poolform_path() -> PathBuf {
    sim_binary().with_file_name(format!("poolform{}", std::env::consts::EXE_SUFFIX))
}

/// One GitHub Actions event: its name, its secrets, and a pull request's number.
struct Event<'a> {
    name: &'a str,
    secrets: &'a [(&'a str, &'a str)],
    /// The repository variable POOLFORM_ALLOW_AGENCIES.
    allow: &'a str,
}

/// The value of a `${{ ... }}` expression this workflow uses in `env:`.
fn github_expression(expr: &str, event: &Event) -> String {
    let expr = expr.trim();
    if let Some(name) = expr.strip_prefix("secrets.") {
        return event
            .secrets
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(String::new(), |(_, v)| v.to_string());
    }
    match expr {
        "github.event_name" => event.name.to_owned(),
        "github.event.pull_request.number" => "7".to_owned(),
        "github.token" => "github-token-for-the-test".to_owned(),
        "vars.POOLFORM_ALLOW_AGENCIES" => event.allow.to_owned(),
        other => panic!("the test does not know the expression {other}"),
    }
}

fn substitute(value: &str, event: &Event) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").unwrap() + start;
        out.push_str(&github_expression(&rest[start + 3..end], event));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A step's `if:`: clauses `LHS == 'v'` / `LHS != 'v'` joined by `&&`.
fn holds(condition: &str, outputs: &BTreeMap<String, String>, event: &Event) -> bool {
    condition.split("&&").all(|clause| {
        let (lhs, rhs, equal) = match clause.split_once("!=") {
            Some((l, r)) => (l, r, false),
            None => {
                let (l, r) = clause
                    .split_once("==")
                    .unwrap_or_else(|| panic!("{clause}"));
                (l, r, true)
            }
        };
        let lhs = lhs.trim();
        let value = if lhs == "github.event_name" {
            event.name.to_owned()
        } else {
            let key = lhs
                .strip_prefix("steps.")
                .unwrap_or_else(|| panic!("{lhs}"));
            outputs.get(key).cloned().unwrap_or_default()
        };
        (value == rhs.trim().trim_matches('\'')) == equal
    })
}

/// Runs one job's steps as the runner would: `uses:` steps are stood in for (the cache hits,
/// artifacts are the checkout's files), `if:` is evaluated, `run:` goes to `sh -e`. Returns
/// whether the job passed, its log, its steps' outputs and its job summary.
fn run_github_job(
    co: &Checkout,
    job: &str,
    event: &Event,
) -> (bool, String, BTreeMap<String, String>, String) {
    let gh = yaml(GITHUB);
    let mut outputs = BTreeMap::from([("cache.outputs.cache-hit".to_owned(), "true".to_owned())]);
    let mut log = String::new();
    let summary = co.path(&format!("summary-{job}.md"));
    for step in gh["jobs"][job]["steps"].as_sequence().unwrap() {
        if let Some(condition) = step["if"].as_str() {
            if !holds(condition, &outputs, event) {
                continue;
            }
        }
        let Some(run) = step["run"].as_str() else {
            continue;
        };
        let mut env = BTreeMap::new();
        for scope in [&gh["env"], &step["env"]] {
            for (k, v) in scope.as_mapping().into_iter().flatten() {
                env.insert(
                    k.as_str().unwrap().to_owned(),
                    substitute(v.as_str().unwrap(), event),
                );
            }
        }
        let output_file = co.path("github-output");
        fs::write(&output_file, "").unwrap();
        env.insert("GITHUB_OUTPUT".into(), output_file.display().to_string());
        env.insert("GITHUB_STEP_SUMMARY".into(), summary.display().to_string());
        let (code, text) = co.sh(run, &env);
        log.push_str(&text);
        if let Some(id) = step["id"].as_str() {
            for line in fs::read_to_string(&output_file).unwrap().lines() {
                let (k, v) = line.split_once('=').unwrap();
                outputs.insert(format!("{id}.outputs.{k}"), v.to_owned());
            }
        }
        if code != 0 {
            return (
                false,
                log,
                outputs,
                fs::read_to_string(&summary).unwrap_or_default(),
            );
        }
    }
    (
        true,
        log,
        outputs,
        fs::read_to_string(&summary).unwrap_or_default(),
    )
}

/// Lists every live pool in the checkout's pools.yaml: nothing to delete, still drift (a
/// missing pool).
fn keep_every_live_pool(co: &Checkout) {
    let text = fs::read_to_string(co.path("pools.yaml")).unwrap();
    let kept =
        "pools:\n  - name: ci-old-build\n  - name: ci-tmp-load-test\n  - name: ci-training\n";
    fs::write(co.path("pools.yaml"), text.replacen("pools:\n", kept, 1)).unwrap();
}

const SECRETS: &[(&str, &str)] = &[("HW_ACCESS_KEY", AK), ("HW_SECRET_KEY", SK)];

#[test]
fn the_github_drift_check_comments_on_a_pull_request_and_passes_on_drift() {
    let co = Checkout::new();
    let event = Event {
        name: "pull_request",
        secrets: SECRETS,
        allow: "",
    };
    let (passed, log, outputs, summary) = run_github_job(&co, "drift-check", &event);
    assert!(passed, "{log}");
    assert!(
        log.contains("::notice::Drift: the plan deletes 3 pools"),
        "{log}"
    );
    assert_eq!(outputs["plan.outputs.deletes"], "3");
    assert!(summary.contains("ci-old-build"), "{summary}");
    assert_eq!(
        co.calls(),
        "gh pr comment 7 --body-file plan.md --edit-last\n"
    );
    assert_eq!(requests_to(&co.sim, "delete"), 0);
    assert!(!log.contains(SK), "no secret in the log");
}

#[test]
fn the_github_drift_check_of_a_fork_validates_offline_and_skips_with_a_notice() {
    let co = Checkout::new();
    let event = Event {
        name: "pull_request",
        secrets: &[],
        allow: "",
    };
    let (passed, log, outputs, summary) = run_github_job(&co, "drift-check", &event);
    assert!(passed, "{log}");
    assert!(
        log.contains("::notice::Drift check skipped: this run has no cloud credentials"),
        "{log}"
    );
    assert!(summary.contains("pools.yaml is valid"), "{summary}");
    assert!(!outputs.contains_key("plan.outputs.deletes"));
    assert_eq!(co.calls(), "", "no comment from a fork's run");
    assert_eq!(
        co.sim.snapshot()["requests"]
            .as_object()
            .map_or(0, |r| r.values().filter_map(|v| v.as_u64()).sum::<u64>()),
        0,
        "no call reached the cloud"
    );
    // and a broken pools.yaml fails even without credentials
    fs::write(co.path("pools.yaml"), "version: 1\nproject_id: [\n").unwrap();
    let (passed, log, ..) = run_github_job(&co, "drift-check", &event);
    assert!(!passed && log.contains("pools.yaml"), "{log}");
}

#[test]
fn the_scheduled_github_drift_check_fails_on_drift_so_someone_is_told() {
    let co = Checkout::new();
    let event = Event {
        name: "schedule",
        secrets: SECRETS,
        allow: "",
    };
    let (passed, log, ..) = run_github_job(&co, "drift-check", &event);
    assert!(!passed, "{log}");
    assert!(
        log.contains("::error::Drift found by the scheduled check"),
        "{log}"
    );
    assert_eq!(co.calls(), "", "no PR comment on a schedule");
}

#[test]
fn a_push_to_main_applies_the_saved_plan_and_only_its_deletes() {
    let co = Checkout::new();
    let event = Event {
        name: "push",
        secrets: SECRETS,
        allow: "",
    };
    let (passed, log, outputs, _) = run_github_job(&co, "drift-check", &event);
    assert!(passed, "{log}");
    assert_eq!(outputs["plan.outputs.deletes"], "3");
    assert!(
        co.path("plan.json").is_file(),
        "the saved plan is the artifact"
    );
    let (passed, log, _, summary) = run_github_job(&co, "apply", &event);
    assert!(passed, "{log}");
    // the likely-blocked pool stays: 2 is a warning, not a failure
    assert!(
        log.contains("::warning::Some pools are blocked by their desktops"),
        "{log}"
    );
    assert!(summary.contains("ci-old-build"), "{summary}");
    only_deletes_for(&co.sim, &[OLD_BUILD, TMP_LOAD, TRAINING]);
    assert!(!deletes_sent(&co.sim).is_empty());
}

#[test]
fn a_push_whose_plan_deletes_nothing_does_not_start_the_apply_job() {
    let co = Checkout::new();
    keep_every_live_pool(&co);
    let event = Event {
        name: "push",
        secrets: SECRETS,
        allow: "",
    };
    let (passed, log, outputs, _) = run_github_job(&co, "drift-check", &event);
    assert!(passed, "{log}");
    assert_eq!(outputs["plan.outputs.deletes"], "0", "{log}");
    let gh = yaml(GITHUB);
    let condition = gh["jobs"]["apply"]["if"].as_str().unwrap();
    let needs = BTreeMap::from([("deletes".to_owned(), "0".to_owned())]);
    let starts = condition.split("&&").all(|clause| {
        let clause = clause.trim();
        if let Some(rest) = clause.strip_prefix("needs.drift-check.outputs.deletes != ") {
            needs["deletes"] != rest.trim_matches('\'')
        } else {
            clause == "github.event_name == 'push'"
        }
    });
    assert!(
        !starts,
        "the apply job (and its approval) is skipped: {condition}"
    );
}

// --- GitLab ----------------------------------------------------------------------------------

/// Runs one GitLab job (`before_script` then `script`, one shell) with the pipeline's
/// variables and `env`.
fn run_gitlab_job(co: &Checkout, job: &str, env: &[(&str, &str)]) -> (i32, String) {
    let gl = yaml(GITLAB);
    let mut lines: Vec<String> = Vec::new();
    for part in [&gl[".poolform"]["before_script"], &gl[job]["script"]] {
        lines.extend(
            part.as_sequence()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap().to_owned()),
        );
    }
    let mut vars: BTreeMap<String, String> = gl["variables"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_owned(),
                v.as_str().unwrap().to_owned(),
            )
        })
        .collect();
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    co.sh(&lines.join("\n"), &vars)
}

const MR: &[(&str, &str)] = &[
    ("HW_ACCESS_KEY", AK),
    ("HW_SECRET_KEY", SK),
    ("CI_MERGE_REQUEST_IID", "12"),
    ("GITLAB_API_TOKEN", "glpat-test"),
    ("CI_API_V4_URL", "https://gitlab.example.com/api/v4"),
    ("CI_PROJECT_ID", "42"),
];

#[test]
fn the_gitlab_drift_check_exits_2_on_drift_and_posts_one_note_then_updates_it() {
    let co = Checkout::new();
    let (code, log) = run_gitlab_job(&co, "drift-check", MR);
    assert_eq!(code, 2, "drift is the allowed (amber) exit code: {log}");
    assert!(
        log.contains("ci-old-build"),
        "the plan is in the log: {log}"
    );
    let notes = "https://gitlab.example.com/api/v4/projects/42/merge_requests/12/notes";
    let calls = co.calls();
    assert!(calls.contains(&format!("--request POST --header PRIVATE-TOKEN: glpat-test --data-urlencode body@note.md {notes}")), "{calls}");
    assert!(fs::read_to_string(co.path("note.md"))
        .unwrap()
        .starts_with("<!-- poolform-plan-note -->\n"));
    // the next run finds its note (GitLab escapes '<' in JSON) and edits it
    fs::write(co.path("calls.log"), "").unwrap();
    fs::write(
        co.path("gitlab-notes.json"),
        r#"[{"id":301,"type":null,"body":"LGTM","author":{"id":5}},{"id":302,"type":null,"body":"\u003c!-- poolform-plan-note --\u003e\nPlan","author":{"id":9}}]"#,
    )
    .unwrap();
    let (code, log) = run_gitlab_job(&co, "drift-check", MR);
    assert_eq!(code, 2, "{log}");
    assert!(co.calls().contains(&format!("--request PUT --header PRIVATE-TOKEN: glpat-test --data-urlencode body@note.md {notes}/302")), "{}", co.calls());
    assert_eq!(requests_to(&co.sim, "delete"), 0);
}

#[test]
fn the_gitlab_drift_check_without_credentials_validates_and_passes() {
    let co = Checkout::new();
    let (code, log) = run_gitlab_job(&co, "drift-check", &[("CI_MERGE_REQUEST_IID", "12")]);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("Drift check skipped: this pipeline has no cloud credentials"),
        "{log}"
    );
    assert_eq!(co.calls(), "");
    assert_eq!(requests_to(&co.sim, "list"), 0);
}

#[test]
fn the_gitlab_apply_job_applies_the_saved_plan_or_ends_when_it_deletes_nothing() {
    let co = Checkout::new();
    let env = &MR[..2];
    let (code, log) = run_gitlab_job(&co, "drift-check", env);
    assert_eq!(code, 2, "{log}");
    let (code, log) = run_gitlab_job(&co, "apply", env);
    assert_eq!(code, 2, "one pool blocked by desktops: amber: {log}");
    assert!(
        log.contains("Some pools are blocked by their desktops; none failed"),
        "{log}"
    );
    only_deletes_for(&co.sim, &[OLD_BUILD, TMP_LOAD, TRAINING]);
    // a plan that deletes nothing: the job ends at once, before any call
    let co = Checkout::new();
    keep_every_live_pool(&co);
    let (code, log) = run_gitlab_job(&co, "drift-check", env);
    assert_eq!(code, 2, "a missing pool is still drift: {log}");
    let before = requests_to(&co.sim, "list");
    let (code, log) = run_gitlab_job(&co, "apply", env);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("The saved plan deletes nothing: nothing to apply."),
        "{log}"
    );
    assert_eq!(
        requests_to(&co.sim, "list"),
        before,
        "nothing was listed again"
    );
    assert_eq!(requests_to(&co.sim, "delete"), 0);
}

#[test]
fn one_file_of_several_projects_is_one_check_one_comment_and_one_apply() {
    let co = Checkout::many();
    let secrets: &[(&str, &str)] = &[
        ("HW_ACCESS_KEY", "AKDEMOTENANTA000"),
        ("HW_SECRET_KEY", "SKdemo-tenant-a"),
    ];
    // without the repository's allow-list, the agency is refused before any call
    let event = Event {
        name: "pull_request",
        secrets,
        allow: "",
    };
    let (passed, log, ..) = run_github_job(&co, "drift-check", &event);
    assert!(!passed, "{log}");
    assert!(log.contains("which the operator has not allowed"), "{log}");
    assert_eq!(co.sim.delete_requests(), 0);
    // with it: one plan, one comment with a section per project
    let event = Event {
        name: "push",
        secrets,
        allow: "poolform@tenant-b",
    };
    let (passed, log, outputs, summary) = run_github_job(&co, "drift-check", &event);
    assert!(passed, "{log}");
    assert_eq!(
        outputs["plan.outputs.deletes"], "3",
        "the total over the projects: {log}"
    );
    // (labels escaped for markdown)
    for label in [
        r"cn-north-4/cn-north-4\_training",
        "eu-west-101/eu-west-101&#64;tenant-b",
    ] {
        assert!(summary.contains(&format!("## {label}")), "{summary}");
    }
    let (passed, log, _, report) = run_github_job(&co, "apply", &event);
    assert!(passed, "{log}");
    assert!(report.contains("All 3 projects: 3 deleted"), "{report}");
    assert_eq!(co.sim.delete_requests(), 3);
}
