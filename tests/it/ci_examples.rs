//! The CI examples (`examples/ci`) work when copied: both are valid against their published
//! JSON Schemas (vendored in `tests/it/vendor`), their shape keeps the promises the files make
//! (one always-reporting check; two keys, the delete key only in the apply job; a person
//! behind every apply; pinned actions and images; timeouts), and their jobs run, step by step,
//! against the simulator: poolform installed through the action or install.sh from a loopback
//! mirror of a release (its `poolform` adds `--endpoint`), stand-ins for `gh`, GitLab's API,
//! `git ls-remote` and `apk`, and a simulator account whose read-only key cannot delete.

use crate::harness::ids::*;
use crate::harness::release::{archive_name, build_archive, sha256_of, Mirror};
use crate::harness::*;
use serde_yaml::Value as Yaml;
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use workspace_sim::SimServer;

const GITHUB: &str = "examples/ci/github-actions.yml";
const GITLAB: &str = "examples/ci/gitlab-ci.yml";
/// The release the examples install in these tests, and the commit that pins it.
const VERSION: &str = "v0.1.0";
const COMMIT: &str = "1111111111111111111111111111111111111111";
/// The commit the jobs run for.
const SHA: &str = "abcabcabcabcabcabcabcabcabcabcabcabcabca";

/// The drift check's key (the simulator refuses its DELETEs, as IAM would) and the apply's.
const AK_RO: &str = "AKREADONLY000001";
const SK_RO: &str = "SKreadonly-secret";
const AK_DEL: &str = "AKDELETE00000002";
const SK_DEL: &str = "SKdelete-secret";

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

/// The schema errors of `document` against the vendored schema `schema`.
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
fn the_github_workflow_reports_always_and_keeps_the_delete_key_in_the_apply_job() {
    let gh = yaml(GITHUB);
    let text = fs::read_to_string(repo_file(GITHUB)).unwrap();
    assert!(
        !text.contains("pull_request_target:"),
        "never pull_request_target"
    );
    let on = &gh["on"];
    assert!(
        on["pull_request"].is_null(),
        "pull requests without a paths filter"
    );
    assert_eq!(on["push"]["branches"][0], "main");
    assert!(on["schedule"][0]["cron"].is_string());
    assert!(on.get("workflow_dispatch").is_some());
    // no expression pasted into a shell script (they go through env:)
    let mut all = Vec::new();
    scripts(&gh, &mut all);
    for script in all {
        assert!(
            !script.contains("${{"),
            "an expression inside run: {script}"
        );
    }
    crate::release::assert_pinned(GITHUB, &text);
    let check = &gh["jobs"]["drift-check"];
    let apply = &gh["jobs"]["apply"];
    for job in [check, apply] {
        assert!(job["timeout-minutes"].as_u64().is_some(), "timeout-minutes");
    }
    assert!(check["if"].is_null(), "drift-check always reports");
    // two keys: the read-only one only in the check, the delete one only in the apply job,
    // whose environment (deployment branches: main) holds it
    let check_text = serde_yaml::to_string(check).unwrap();
    let apply_text = serde_yaml::to_string(apply).unwrap();
    assert!(check_text.contains("secrets.HW_READONLY_ACCESS_KEY"));
    assert!(
        !check_text.contains("HW_DELETE"),
        "the check never names the delete key"
    );
    assert!(apply_text.contains("secrets.HW_DELETE_ACCESS_KEY"));
    assert!(!apply_text.contains("HW_READONLY"));
    assert_eq!(apply["environment"], "production");
    let condition = apply["if"].as_str().unwrap();
    for clause in [
        "github.ref == 'refs/heads/main'",
        "github.event_name == 'push' || github.event_name == 'workflow_dispatch'",
        "needs.drift-check.outputs.deletes != '0'",
    ] {
        assert!(condition.contains(clause), "{condition}");
    }
    assert_eq!(apply["concurrency"]["group"], "poolform-production");
    assert_eq!(apply["concurrency"]["cancel-in-progress"], false);
    // installed through the action, the archive cached by OS, architecture and version, and
    // saved before the plan (drift must not lose it)
    let steps = check["steps"].as_sequence().unwrap();
    let position = |pred: &dyn Fn(&Yaml) -> bool| steps.iter().position(pred).unwrap();
    let install = position(&|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("YOUR-ORG/poolform@"))
    });
    let save = position(&|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/cache/save@"))
    });
    let plan = position(&|s| s["id"] == "plan");
    assert!(install < save && save < plan);
    let key = steps[save]["with"]["key"].as_str().unwrap();
    for part in ["runner.os", "runner.arch", "env.POOLFORM_VERSION"] {
        assert!(key.contains(part), "{key}");
    }
    assert!(!text.contains("cargo install"), "no build in CI");
}

#[test]
fn the_gitlab_pipeline_pins_its_image_applies_by_hand_and_never_blocks() {
    let gl = yaml(GITLAB);
    let rules = serde_yaml::to_string(&gl["workflow"]["rules"]).unwrap();
    for source in ["merge_request_event", "schedule", "CI_DEFAULT_BRANCH"] {
        assert!(rules.contains(source), "workflow: rules has {source}");
    }
    let base = &gl[".poolform"];
    let image = base["image"]["name"].as_str().unwrap();
    let tag = image.rsplit_once(':').unwrap().1;
    assert!(
        tag.split('.').count() == 3 || image.contains("@sha256:"),
        "the image is pinned to a full version: {image}"
    );
    assert_eq!(
        base["cache"]["when"], "always",
        "the cache is saved on drift too"
    );
    let key = base["cache"]["key"].as_str().unwrap();
    assert!(
        key.contains("$POOLFORM_VERSION") && key.contains("linux-amd64"),
        "{key}"
    );
    assert_eq!(base["image"]["docker"]["platform"], "linux/amd64");
    assert!(
        base["resource_group"].is_null(),
        "the check does not queue behind applies"
    );
    let check = &gl["drift-check"];
    let apply = &gl["apply"];
    for job in [check, apply] {
        assert_eq!(job["extends"], ".poolform");
        assert!(job["timeout"].is_string(), "a timeout");
    }
    // drift-check runs in every pipeline but the announcement schedules' (their own jobs)
    let rules = check["rules"].as_sequence().unwrap();
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert_eq!(rules[0]["if"], "$POOLFORM_SCHEDULE");
    assert_eq!(rules[0]["when"], "never");
    assert_eq!(rules[1]["when"], "on_success");
    assert_eq!(check["allow_failure"]["exit_codes"][0], 2, "drift is amber");
    assert_eq!(apply["rules"][0]["when"], "manual");
    assert_eq!(
        apply["rules"][0]["allow_failure"], true,
        "a manual job waiting for its person does not block the pipeline"
    );
    assert_eq!(apply["resource_group"], "poolform-production");
    assert_eq!(apply["environment"]["name"], "production");
    let check_text = serde_yaml::to_string(check).unwrap();
    let apply_text = serde_yaml::to_string(apply).unwrap();
    assert!(check_text.contains("HW_READONLY_ACCESS_KEY") && !check_text.contains("HW_DELETE"));
    assert!(apply_text.contains("HW_DELETE_ACCESS_KEY") && !apply_text.contains("HW_READONLY"));
    let install = serde_yaml::to_string(&base["before_script"]).unwrap();
    assert!(
        install.contains("sha256sum -c"),
        "install.sh is checked: {install}"
    );
    assert!(!fs::read_to_string(repo_file(GITLAB))
        .unwrap()
        .contains("cargo install"));
}

// --- running the jobs against the simulator ------------------------------------------------

/// A scratch repository at commit [`SHA`]: pools.yaml, stand-ins on PATH, and a loopback
/// mirror serving the release [`VERSION`] (whose `poolform` adds `--endpoint`) and the files
/// of poolform's repository at [`COMMIT`].
struct Checkout {
    dir: tempfile::TempDir,
    sim: SimServer,
    mirror: Mirror,
    /// install.sh and the release's checksums, as the action's checkout holds them.
    action: PathBuf,
}

impl Checkout {
    /// The example pools.yaml against its pools, in an account with a read-only key and a
    /// delete key.
    fn new() -> Checkout {
        Checkout::edited(|_| {})
    }

    /// [`Checkout::new`], the simulator's project edited by `edit` first.
    fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Checkout {
        let text = fs::read_to_string(repo_file("examples/sim-pools.json")).unwrap();
        let pools: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut project = serde_json::json!({
            "project_id": pools["project_id"], "name": "cn-north-4", "region": "cn-north-4",
            "domain": "tenant", "pools": pools["pools"]
        });
        edit(&mut project);
        let fixture = serde_json::json!({
            "clock_at": pools["clock_at"],
            "accounts": [
                {"domain": "tenant", "access_key": AK_RO, "secret_key": SK_RO, "read_only": true},
                {"domain": "tenant", "access_key": AK_DEL, "secret_key": SK_DEL}
            ],
            "projects": [project]
        });
        Checkout::with(
            crate::harness::projects::spawn_projects(fixture, |_| {}),
            "examples/pools.yaml",
        )
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
        let calls = dir.path().join("calls.log");
        let gh_answer = |name: &str| dir.path().join(name).display().to_string();
        let scripts = [
            ("gh", format!(
                "#!/bin/sh\necho \"gh $*\" >> '{}'\ncase \"$*\" in\n  *actions/runs/*/approvals*) cat '{}' 2>/dev/null ;;\n  *git/ref/heads/*) cat '{}' 2>/dev/null ;;\n  *actions/artifacts*) cat '{}' 2>/dev/null ;;\n  *'api repos/'*/issues/*/comments\\ --paginate*) cat '{}' 2>/dev/null ;;\nesac\nexit 0\n",
                calls.display(), gh_answer("gh-approvals"), gh_answer("gh-head"), gh_answer("gh-artifacts"), gh_answer("gh-comments"))),
            ("curl", format!(
                "#!/bin/sh\ncase \"$*\" in\n  *gitlab.example.com*/jobs/artifacts/*) echo \"curl $*\" >> '{}'\n    cat '{}' 2>/dev/null || exit 22 ;;\n  *gitlab.example.com*) echo \"curl $*\" >> '{}'\n    case \"$*\" in *--request*) ;; *) cat '{}' 2>/dev/null ;; esac ;;\n  *) exec /usr/bin/curl \"$@\" ;;\nesac\n",
                calls.display(), dir.path().join("gitlab-artifact").display(), calls.display(), dir.path().join("gitlab-notes.json").display())),
            ("git", format!(
                "#!/bin/sh\necho \"git $*\" >> '{}'\ncase \"$1\" in ls-remote) printf '%s\\t%s\\n' \"$(cat '{}')\" \"$3\" ;; esac\n",
                calls.display(), gh_answer("gh-head"))),
            ("apk", "#!/bin/sh\nexit 0\n".to_owned()),
        ];
        for (name, body) in scripts {
            write_executable(&bin.join(name), &body);
        }
        fs::write(dir.path().join("gh-head"), format!("{SHA}\n")).unwrap();
        // the release: a `poolform` that adds the simulator's endpoint
        let stage = dir.path().join("stage");
        fs::create_dir(&stage).unwrap();
        let real = sim_binary().with_file_name("poolform");
        let wrapper = stage.join("poolform");
        write_executable(&wrapper, &format!(
            "#!/bin/sh\nexport HW_AUTH_URL='{}'\ncase \"$1\" in plan|apply|import) c=$1; shift; exec '{}' \"$c\" --endpoint '{}' \"$@\";; esac\nexec '{}' \"$@\"\n",
            sim.url(), real.display(), sim.url(), real.display()));
        let simulator = stage.join("workspace-sim");
        write_executable(&simulator, "#!/bin/sh\nexit 0\n");
        let served = dir.path().join("served");
        let releases = served.join("releases").join(VERSION);
        fs::create_dir_all(&releases).unwrap();
        let (_, sha) = build_archive(
            &releases,
            VERSION,
            &[("poolform", &wrapper), ("workspace-sim", &simulator)],
        );
        let sums = format!("{sha}  {}\n", archive_name(VERSION));
        let raw = served.join("raw").join(COMMIT);
        fs::create_dir_all(raw.join("checksums")).unwrap();
        fs::copy(repo_file("install.sh"), raw.join("install.sh")).unwrap();
        fs::write(
            raw.join("checksums").join(format!("{VERSION}.sha256")),
            &sums,
        )
        .unwrap();
        let action = dir.path().join("action");
        fs::create_dir_all(action.join("checksums")).unwrap();
        fs::copy(repo_file("install.sh"), action.join("install.sh")).unwrap();
        fs::write(
            action.join("checksums").join(format!("{VERSION}.sha256")),
            &sums,
        )
        .unwrap();
        let mirror = Mirror::serve(served);
        Checkout {
            dir,
            sim,
            mirror,
            action,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn calls(&self) -> String {
        fs::read_to_string(self.path("calls.log")).unwrap_or_default()
    }

    /// The answer the stand-in `gh` (or `git ls-remote`) gives for `what`: `gh-approvals`,
    /// `gh-head`, `gh-comments`.
    fn answer(&self, what: &str, text: &str) {
        fs::write(self.path(what), text).unwrap();
    }

    /// Runs `script` (in `shell`) in the checkout with `env` and `path` before the stand-ins;
    /// the exit code and what it printed.
    fn sh(
        &self,
        shell: &str,
        script: &str,
        env: &BTreeMap<String, String>,
        path: &[String],
    ) -> (i32, String) {
        let mut dirs: Vec<String> = path.to_vec();
        dirs.push(self.path("fake-bin").display().to_string());
        dirs.push("/usr/local/bin:/usr/bin:/bin".to_owned());
        let out = std::process::Command::new(shell)
            .arg("-ec")
            .arg(script)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", dirs.join(":"))
            .env("HOME", self.dir.path())
            .env(
                "POOLFORM_RELEASES_URL",
                format!("{}/releases", self.mirror.url),
            )
            .envs(env)
            .output()
            .unwrap();
        let log = format!("{}{}", stdout_of(&out), stderr_of(&out));
        (out.status.code().unwrap_or(-1), log)
    }

    /// Requests each key made (let through, refused), summed over projects.
    fn by_key(&self, key: &str) -> (u64, u64) {
        let keys = self.sim.snapshot()["keys"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        keys.iter()
            .filter(|k| k["access_key"] == key)
            .fold((0, 0), |(a, b), k| {
                (
                    a + k["requests"].as_u64().unwrap_or(0),
                    b + k["refused"].as_u64().unwrap_or(0),
                )
            })
    }
}

fn write_executable(path: &std::path::Path, body: &str) {
    fs::write(path, body).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

// --- GitHub Actions ----------------------------------------------------------------------------

/// One GitHub Actions event.
struct Event<'a> {
    name: &'a str,
    /// `refs/heads/main`, or a pull request's merge ref.
    git_ref: &'a str,
    /// The repository's secrets.
    secrets: &'a [(&'a str, &'a str)],
    /// The `production` environment's secrets: only a job in that environment, on main, gets
    /// them (its deployment branches).
    production: &'a [(&'a str, &'a str)],
    /// The repository variable POOLFORM_ALLOW_AGENCIES.
    allow: &'a str,
    /// A pull request from a fork.
    fork: bool,
    /// The cron line of a scheduled run (`github.event.schedule`).
    schedule: &'a str,
}

const RO: &[(&str, &str)] = &[
    ("HW_READONLY_ACCESS_KEY", AK_RO),
    ("HW_READONLY_SECRET_KEY", SK_RO),
];
const DEL: &[(&str, &str)] = &[
    ("HW_DELETE_ACCESS_KEY", AK_DEL),
    ("HW_DELETE_SECRET_KEY", SK_DEL),
];

fn event<'a>(name: &'a str) -> Event<'a> {
    Event {
        name,
        git_ref: if name == "pull_request" {
            "refs/pull/7/merge"
        } else {
            "refs/heads/main"
        },
        secrets: RO,
        production: DEL,
        allow: "",
        fork: false,
        schedule: "",
    }
}

/// What a job of the run sees of `${{ … }}`.
struct Context<'a> {
    event: &'a Event<'a>,
    job: &'a Yaml,
    outputs: &'a BTreeMap<String, String>,
    inputs: BTreeMap<String, String>,
}

impl Context<'_> {
    fn value(&self, expr: &str) -> String {
        let expr = expr.trim();
        let event = self.event;
        if let Some(name) = expr.strip_prefix("secrets.") {
            // The delete key lives in the environments whose deployment branches are main.
            let in_production = (self.job["environment"] == "production"
                || self.job["environment"] == "announcements")
                && event.git_ref == "refs/heads/main";
            let mut available = event.secrets.to_vec();
            if in_production {
                available.extend_from_slice(event.production);
            }
            if event.fork {
                available.clear();
            }
            return available
                .iter()
                .find(|(k, _)| *k == name)
                .map_or(String::new(), |(_, v)| v.to_string());
        }
        if let Some(key) = expr.strip_prefix("steps.") {
            return self.outputs.get(key).cloned().unwrap_or_default();
        }
        if let Some(key) = expr.strip_prefix("inputs.") {
            return self.inputs.get(key).cloned().unwrap_or_default();
        }
        let repo = "octo/pools";
        match expr {
            "github.event_name" => event.name.to_owned(),
            "github.event.schedule" => event.schedule.to_owned(),
            "github.ref" => event.git_ref.to_owned(),
            "github.event.pull_request.number" => "7".to_owned(),
            "github.event.pull_request.head.sha" | "github.sha" => SHA.to_owned(),
            "github.event.pull_request.head.repo.full_name" => {
                if event.fork { "someone/pools" } else { repo }.to_owned()
            }
            "github.repository" => repo.to_owned(),
            "github.event.repository.default_branch" => "main".to_owned(),
            "github.server_url" => "https://github.com".to_owned(),
            "github.run_id" => "4242".to_owned(),
            "github.token" => "github-token-for-the-test".to_owned(),
            "github.triggering_actor" => "alice".to_owned(),
            "vars.POOLFORM_ALLOW_AGENCIES" => event.allow.to_owned(),
            "env.POOLFORM_VERSION" => VERSION.to_owned(),
            "runner.os" => "Linux".to_owned(),
            "runner.arch" => "X64".to_owned(),
            "github.action_path" => String::new(),
            "github.action_repository" => "YOUR-ORG/poolform".to_owned(),
            other => panic!("the test does not know the expression {other}"),
        }
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").unwrap() + start;
            out.push_str(&self.value(&rest[start + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// An `if:`: `always()` and clauses `LHS == 'v'` / `LHS != 'v'` joined by `&&`.
    fn holds(&self, condition: &str) -> bool {
        condition.split("&&").all(|clause| {
            let clause = clause.trim();
            if clause == "always()" {
                return true;
            }
            let (lhs, rhs, equal) = match clause.split_once("!=") {
                Some((l, r)) => (l, r, false),
                None => {
                    let (l, r) = clause
                        .split_once("==")
                        .unwrap_or_else(|| panic!("{clause}"));
                    (l, r, true)
                }
            };
            (self.value(lhs) == rhs.trim().trim_matches('\'')) == equal
        })
    }
}

/// A job's run: whether it passed, its log, its steps' outputs, its job summary, and every
/// value its steps were given in `env:`.
struct JobRun {
    passed: bool,
    log: String,
    outputs: BTreeMap<String, String>,
    summary: String,
    env_seen: Vec<String>,
}

/// Runs one job's steps as the runner would: `if:` evaluated (after a failure only
/// `always()` steps run), `run:` in bash; poolform's action runs its own step (install.sh
/// from the mirror, GITHUB_PATH honoured); other actions are stood in for (the cache misses,
/// artifacts are the checkout's files).
fn run_github_job(co: &Checkout, job: &str, event: &Event) -> JobRun {
    run_workflow_job(GITHUB, co, job, event)
}

/// [`run_github_job`] for a job of the workflow `workflow`.
fn run_workflow_job(workflow: &str, co: &Checkout, job: &str, event: &Event) -> JobRun {
    let gh = yaml(workflow);
    let action = yaml("action.yml");
    let job_yaml = &gh["jobs"][job];
    let mut run = JobRun {
        passed: true,
        log: String::new(),
        outputs: BTreeMap::new(),
        summary: String::new(),
        env_seen: Vec::new(),
    };
    let summary = co.path(&format!("summary-{job}.md"));
    let github_path = co.path("github-path");
    fs::write(&github_path, "").unwrap();
    for step in job_yaml["steps"].as_sequence().unwrap() {
        let ctx = Context {
            event,
            job: job_yaml,
            outputs: &run.outputs,
            inputs: BTreeMap::new(),
        };
        let condition = step["if"].as_str().unwrap_or("");
        let runs = if run.passed {
            condition.is_empty() || ctx.holds(condition)
        } else {
            condition.contains("always()") && ctx.holds(condition)
        };
        if !runs {
            continue;
        }
        let uses = step["uses"].as_str().unwrap_or("");
        let (script, mut env) = if uses.starts_with("YOUR-ORG/poolform@") {
            let install = &action["runs"]["steps"][0];
            let inputs = step["with"]
                .as_mapping()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().unwrap().to_owned(),
                        ctx.substitute(v.as_str().unwrap()),
                    )
                })
                .collect();
            let action_ctx = Context { inputs, ..ctx };
            let mut env = BTreeMap::new();
            for (k, v) in install["env"].as_mapping().unwrap() {
                env.insert(
                    k.as_str().unwrap().to_owned(),
                    action_ctx.substitute(v.as_str().unwrap()),
                );
            }
            env.insert(
                "POOLFORM_CHECKSUMS_DIR".into(),
                co.action.join("checksums").display().to_string(),
            );
            env.insert("GITHUB_ACTION_PATH".into(), co.action.display().to_string());
            (install["run"].as_str().unwrap().to_owned(), env)
        } else if let Some(script) = step["run"].as_str() {
            let mut env = BTreeMap::new();
            for scope in [&gh["env"], &step["env"]] {
                for (k, v) in scope.as_mapping().into_iter().flatten() {
                    env.insert(
                        k.as_str().unwrap().to_owned(),
                        ctx.substitute(v.as_str().unwrap()),
                    );
                }
            }
            (script.to_owned(), env)
        } else {
            if let (true, Some(id)) = (
                uses.starts_with("actions/cache/restore@"),
                step["id"].as_str(),
            ) {
                run.outputs
                    .insert(format!("{id}.outputs.cache-hit"), "false".into());
            }
            continue;
        };
        run.env_seen.extend(env.values().cloned());
        let output_file = co.path("github-output");
        fs::write(&output_file, "").unwrap();
        env.insert("GITHUB_OUTPUT".into(), output_file.display().to_string());
        env.insert("GITHUB_STEP_SUMMARY".into(), summary.display().to_string());
        env.insert("GITHUB_PATH".into(), github_path.display().to_string());
        let path: Vec<String> = fs::read_to_string(&github_path)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let (code, text) = co.sh("bash", &script, &env, &path);
        run.log.push_str(&text);
        if let Some(id) = step["id"].as_str() {
            for line in fs::read_to_string(&output_file).unwrap().lines() {
                let (k, v) = line.split_once('=').unwrap();
                run.outputs
                    .insert(format!("{id}.outputs.{k}"), v.to_owned());
            }
        }
        if code != 0 {
            run.passed = false;
        }
    }
    run.summary = fs::read_to_string(&summary).unwrap_or_default();
    run
}

/// Whether the apply job starts after `check`, for `event`.
fn apply_starts(check: &JobRun, event: &Event) -> bool {
    let gh = yaml(GITHUB);
    let condition = gh["jobs"]["apply"]["if"].as_str().unwrap();
    let deletes = check
        .outputs
        .get("plan.outputs.deletes")
        .cloned()
        .unwrap_or_default();
    condition.split("&&").all(|clause| {
        let clause = clause.trim();
        match clause {
            "github.ref == 'refs/heads/main'" => event.git_ref == "refs/heads/main",
            "(github.event_name == 'push' || github.event_name == 'workflow_dispatch')" => {
                event.name == "push" || event.name == "workflow_dispatch"
            }
            "needs.drift-check.outputs.deletes != ''" => !deletes.is_empty(),
            "needs.drift-check.outputs.deletes != '0'" => deletes != "0",
            other => panic!("the test does not know the clause {other}"),
        }
    })
}

/// Lists every live pool in the checkout's pools.yaml: nothing to delete, still drift (a
/// missing pool).
fn keep_every_live_pool(co: &Checkout) {
    let text = fs::read_to_string(co.path("pools.yaml")).unwrap();
    let kept =
        "pools:\n  - name: ci-old-build\n  - name: ci-tmp-load-test\n  - name: ci-training\n";
    fs::write(co.path("pools.yaml"), text.replacen("pools:\n", kept, 1)).unwrap();
}

#[test]
fn a_pull_request_is_planned_with_the_read_only_key_and_commented_once_by_marker() {
    let co = Checkout::new();
    let pr = event("pull_request");
    let check = run_github_job(&co, "drift-check", &pr);
    assert!(check.passed, "{}", check.log);
    assert!(
        check
            .log
            .contains("::notice::Drift: the plan deletes 3 pools"),
        "{}",
        check.log
    );
    assert_eq!(check.outputs["plan.outputs.deletes"], "3");
    assert!(check.summary.contains("ci-old-build"));
    // the comment: created once, with the marker, the commit and the time
    let comment = fs::read_to_string(co.path("comment.md")).unwrap();
    assert!(
        comment.starts_with("<!-- poolform-plan -->\npoolform plan of "),
        "{comment}"
    );
    assert!(
        comment.contains(SHA) && comment.contains("ci-old-build"),
        "{comment}"
    );
    assert!(
        co.calls()
            .contains("gh pr comment 7 --repo octo/pools --body-file comment.md"),
        "{}",
        co.calls()
    );
    // the read-only key planned; the delete key never reached the job
    assert!(co.by_key(AK_RO).0 > 0);
    assert_eq!(co.by_key(AK_DEL), (0, 0));
    assert!(!check.env_seen.iter().any(|v| v == AK_DEL || v == SK_DEL));
    assert!(!check.log.contains(SK_RO), "no secret in the log");
    assert!(
        !apply_starts(&check, &pr),
        "a pull request never starts the apply"
    );
    // the next run finds its comment by the marker and edits it
    co.answer("gh-comments", "555\n");
    fs::write(co.path("calls.log"), "").unwrap();
    let check = run_github_job(&co, "drift-check", &pr);
    assert!(check.passed, "{}", check.log);
    assert!(
        co.calls().contains(
            "gh api --method PATCH repos/octo/pools/issues/comments/555 -F body=@comment.md"
        ),
        "{}",
        co.calls()
    );
    assert!(!co.calls().contains("gh pr comment"));
    assert_eq!(requests_to(&co.sim, "delete"), 0);
}

#[test]
fn a_failed_plan_says_so_in_the_comment_instead_of_leaving_the_last_plan_up() {
    let co = Checkout::edited(|p| p["fail_list"] = serde_json::json!(500));
    let check = run_github_job(&co, "drift-check", &event("pull_request"));
    assert!(!check.passed, "{}", check.log);
    assert!(
        check.log.contains("::error::poolform plan exited 1"),
        "{}",
        check.log
    );
    let comment = fs::read_to_string(co.path("comment.md")).unwrap();
    assert!(
        comment.starts_with("<!-- poolform-plan -->\n**poolform plan failed** (exit 1) for "),
        "{comment}"
    );
    assert!(co.calls().contains("gh pr comment 7"), "{}", co.calls());
}

#[test]
fn a_fork_is_validated_offline_and_a_missing_read_only_key_is_an_error() {
    let co = Checkout::new();
    let fork = Event {
        fork: true,
        ..event("pull_request")
    };
    let check = run_github_job(&co, "drift-check", &fork);
    assert!(check.passed, "{}", check.log);
    assert!(
        check.log.contains(
            "::notice::Drift check skipped: this pull request comes from a fork (someone/pools)"
        ),
        "{}",
        check.log
    );
    assert!(check.summary.contains("pools.yaml is valid"));
    assert_eq!(co.calls(), "", "no comment from a fork's run");
    assert_eq!(co.by_key(AK_RO), (0, 0), "no call reached the cloud");
    // the same repository without the secret: a misconfiguration, said as one
    let unset = Event {
        secrets: &[],
        ..event("pull_request")
    };
    let check = run_github_job(&co, "drift-check", &unset);
    assert!(!check.passed);
    assert!(
        check
            .log
            .contains("The repository secret HW_READONLY_ACCESS_KEY is not set"),
        "{}",
        check.log
    );
    // a broken pools.yaml fails even without credentials
    fs::write(co.path("pools.yaml"), "version: 1\nproject_id: [\n").unwrap();
    let check = run_github_job(&co, "drift-check", &fork);
    assert!(
        !check.passed && check.log.contains("pools.yaml"),
        "{}",
        check.log
    );
}

#[test]
fn the_scheduled_check_fails_on_drift_so_someone_is_told() {
    let co = Checkout::new();
    let check = run_github_job(&co, "drift-check", &event("schedule"));
    assert!(!check.passed, "{}", check.log);
    assert!(
        check
            .log
            .contains("::error::Drift found by the scheduled check"),
        "{}",
        check.log
    );
    assert_eq!(co.calls(), "", "no PR comment on a schedule");
}

#[test]
fn a_push_applies_the_saved_plan_with_the_delete_key_only_once_a_person_approved() {
    let co = Checkout::new();
    let push = event("push");
    let check = run_github_job(&co, "drift-check", &push);
    assert!(check.passed, "{}", check.log);
    assert!(
        co.path("plan.json").is_file(),
        "the saved plan is the artifact"
    );
    assert!(apply_starts(&check, &push));
    // nobody approved (no required reviewers here): the job stops before any call
    let before = co.by_key(AK_DEL);
    let apply = run_github_job(&co, "apply", &push);
    assert!(!apply.passed);
    assert!(
        apply.log.contains("::error::No person approved this apply"),
        "{}",
        apply.log
    );
    assert_eq!(co.by_key(AK_DEL), before);
    assert_eq!(requests_to(&co.sim, "delete"), 0);
    // a reviewer approved the deployment: applied with the delete key, only the plan's
    co.answer("gh-approvals", "bob\n");
    let apply = run_github_job(&co, "apply", &push);
    assert!(apply.passed, "{}", apply.log);
    assert!(apply.log.contains("approved by bob"), "{}", apply.log);
    assert!(
        apply
            .log
            .contains("::warning::Some pools are blocked by their desktops"),
        "{}",
        apply.log
    );
    assert!(apply.summary.contains("ci-old-build"));
    only_deletes_for(&co.sim, &[OLD_BUILD, TMP_LOAD, TRAINING]);
    assert!(!deletes_sent(&co.sim).is_empty());
    assert!(co.by_key(AK_DEL).0 > 0, "the delete key applied");
    assert_eq!(
        co.by_key(AK_RO).1,
        0,
        "the read-only key never tried to delete"
    );
}

#[test]
fn a_run_started_by_hand_applies_and_an_older_pending_apply_stops() {
    let co = Checkout::new();
    let dispatch = event("workflow_dispatch");
    let check = run_github_job(&co, "drift-check", &dispatch);
    assert!(
        check.passed && apply_starts(&check, &dispatch),
        "{}",
        check.log
    );
    // main moved on since this run planned: the stale plan is not applied
    co.answer("gh-head", "ffffffffffffffffffffffffffffffffffffffff\n");
    let apply = run_github_job(&co, "apply", &dispatch);
    assert!(apply.passed, "{}", apply.log);
    assert!(
        apply.log.contains("::notice::Not applied: this plan is of"),
        "{}",
        apply.log
    );
    assert_eq!(requests_to(&co.sim, "delete"), 0);
    assert_eq!(co.by_key(AK_DEL), (0, 0));
    // still the head: started by hand is a person's decision
    co.answer("gh-head", &format!("{SHA}\n"));
    let apply = run_github_job(&co, "apply", &dispatch);
    assert!(apply.passed, "{}", apply.log);
    assert!(
        apply.log.contains("Started by hand by alice."),
        "{}",
        apply.log
    );
    assert!(!deletes_sent(&co.sim).is_empty());
    // never from another branch, whoever starts it
    let elsewhere = Event {
        git_ref: "refs/heads/feature",
        ..event("workflow_dispatch")
    };
    assert!(!apply_starts(&check, &elsewhere));
}

#[test]
fn a_push_whose_plan_deletes_nothing_does_not_start_the_apply_job() {
    let co = Checkout::new();
    keep_every_live_pool(&co);
    let push = event("push");
    let check = run_github_job(&co, "drift-check", &push);
    assert!(check.passed, "{}", check.log);
    assert_eq!(check.outputs["plan.outputs.deletes"], "0", "{}", check.log);
    assert!(
        !apply_starts(&check, &push),
        "the apply job (and its approval) is skipped"
    );
}

#[test]
fn one_file_of_several_projects_is_one_check_one_comment_and_one_apply() {
    let co = Checkout::many();
    let tenant_a: &[(&str, &str)] = &[
        ("HW_READONLY_ACCESS_KEY", "AKDEMOTENANTA000"),
        ("HW_READONLY_SECRET_KEY", "SKdemo-tenant-a"),
    ];
    let tenant_a_delete: &[(&str, &str)] = &[
        ("HW_DELETE_ACCESS_KEY", "AKDEMOTENANTA000"),
        ("HW_DELETE_SECRET_KEY", "SKdemo-tenant-a"),
    ];
    // without the repository's allow-list, the agency is refused before any call
    let pr = Event {
        secrets: tenant_a,
        production: tenant_a_delete,
        ..event("pull_request")
    };
    let check = run_github_job(&co, "drift-check", &pr);
    assert!(!check.passed, "{}", check.log);
    assert!(
        check.log.contains("which the operator has not allowed"),
        "{}",
        check.log
    );
    assert_eq!(co.sim.delete_requests(), 0);
    // with it: one plan, one comment with a section per project
    let push = Event {
        secrets: tenant_a,
        production: tenant_a_delete,
        allow: "poolform@tenant-b",
        ..event("push")
    };
    let check = run_github_job(&co, "drift-check", &push);
    assert!(check.passed, "{}", check.log);
    assert_eq!(
        check.outputs["plan.outputs.deletes"], "3",
        "the total over the projects"
    );
    for label in [
        r"cn-north-4/cn-north-4\_training",
        "eu-west-101/eu-west-101&#64;tenant-b",
    ] {
        assert!(
            check.summary.contains(&format!("## {label}")),
            "{}",
            check.summary
        );
    }
    co.answer("gh-approvals", "bob\n");
    let apply = run_github_job(&co, "apply", &push);
    assert!(apply.passed, "{}", apply.log);
    assert!(
        apply.summary.contains("All 3 projects: 3 deleted"),
        "{}",
        apply.summary
    );
    assert_eq!(co.sim.delete_requests(), 3);
}

// --- GitLab ----------------------------------------------------------------------------------

/// Runs one GitLab job (`before_script` then `script`, one shell) with the pipeline's
/// variables (poolform's repository and release at the mirror) and `env`.
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
    vars.insert("POOLFORM_RAW".into(), format!("{}/raw", co.mirror.url));
    vars.insert("POOLFORM_COMMIT".into(), COMMIT.into());
    vars.insert(
        "POOLFORM_INSTALL_SH_SHA256".into(),
        sha256_of(&repo_file("install.sh")),
    );
    for (k, v) in [
        ("CI_COMMIT_SHA", SHA),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_PIPELINE_SOURCE", "push"),
        (
            "CI_JOB_URL",
            "https://gitlab.example.com/octo/pools/-/jobs/9",
        ),
        ("GITLAB_USER_LOGIN", "carol"),
    ] {
        vars.insert(k.into(), v.into());
    }
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    co.sh("sh", &lines.join("\n"), &vars, &[])
}

const GL_RO: [(&str, &str); 2] = [
    ("HW_READONLY_ACCESS_KEY", AK_RO),
    ("HW_READONLY_SECRET_KEY", SK_RO),
];
const GL_DEL: [(&str, &str); 2] = [
    ("HW_DELETE_ACCESS_KEY", AK_DEL),
    ("HW_DELETE_SECRET_KEY", SK_DEL),
];

fn merge_request(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut env = vec![
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_IID", "12"),
        ("CI_MERGE_REQUEST_PROJECT_ID", "42"),
        ("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "42"),
        ("GITLAB_API_TOKEN", "glpat-test"),
        ("CI_API_V4_URL", "https://gitlab.example.com/api/v4"),
        ("CI_PROJECT_ID", "42"),
    ];
    env.extend_from_slice(extra);
    env
}

#[test]
fn the_gitlab_check_plans_with_the_read_only_key_and_keeps_one_note_up_to_date() {
    let co = Checkout::new();
    let env = merge_request(&GL_RO);
    let (code, log) = run_gitlab_job(&co, "drift-check", &env);
    assert_eq!(code, 2, "drift is the allowed (amber) exit code: {log}");
    assert!(
        log.contains("Installed poolform"),
        "installed by install.sh: {log}"
    );
    assert!(
        log.contains("ci-old-build"),
        "the plan is in the log: {log}"
    );
    let notes = "https://gitlab.example.com/api/v4/projects/42/merge_requests/12/notes";
    let calls = co.calls();
    assert!(calls.contains(&format!("--request POST --header PRIVATE-TOKEN: glpat-test --data-urlencode body@note.md {notes}")), "{calls}");
    let note = fs::read_to_string(co.path("note.md")).unwrap();
    assert!(
        note.starts_with("<!-- poolform-plan-note -->\npoolform plan of "),
        "{note}"
    );
    assert!(note.contains(SHA), "{note}");
    // the next run finds its note (GitLab escapes '<' in JSON) and edits it
    fs::write(co.path("calls.log"), "").unwrap();
    fs::write(
        co.path("gitlab-notes.json"),
        r#"[{"id":301,"type":null,"body":"LGTM","author":{"id":5}},{"id":302,"type":null,"body":"\u003c!-- poolform-plan-note --\u003e\nPlan","author":{"id":9}}]"#,
    )
    .unwrap();
    let (code, log) = run_gitlab_job(&co, "drift-check", &env);
    assert_eq!(code, 2, "{log}");
    assert!(co.calls().contains(&format!("--request PUT --header PRIVATE-TOKEN: glpat-test --data-urlencode body@note.md {notes}/302")), "{}", co.calls());
    assert_eq!(requests_to(&co.sim, "delete"), 0);
    assert!(co.by_key(AK_RO).0 > 0);
    assert_eq!(co.by_key(AK_DEL), (0, 0));
}

#[test]
fn the_gitlab_check_of_a_fork_passes_offline_and_a_missing_key_says_where_to_set_it() {
    let co = Checkout::new();
    let fork = merge_request(&[("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "77")]);
    let (code, log) = run_gitlab_job(&co, "drift-check", &fork);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("this merge request comes from a fork"),
        "{log}"
    );
    assert_eq!(co.by_key(AK_RO), (0, 0));
    // a merge request of the project itself without the key: not a fork, a missing variable
    let (code, log) = run_gitlab_job(&co, "drift-check", &merge_request(&[]));
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("masked and not protected"), "{log}");
    // a schedule fails on drift, so that someone is told
    let mut schedule = GL_RO.to_vec();
    schedule.push(("CI_PIPELINE_SOURCE", "schedule"));
    let (code, log) = run_gitlab_job(&co, "drift-check", &schedule);
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("Drift found by the scheduled check"), "{log}");
}

#[test]
fn the_gitlab_apply_uses_the_delete_key_for_the_head_commit_only() {
    let co = Checkout::new();
    let (code, log) = run_gitlab_job(&co, "drift-check", &GL_RO);
    assert_eq!(code, 2, "{log}");
    // an older pending apply: the branch moved on
    co.answer("gh-head", "ffffffffffffffffffffffffffffffffffffffff\n");
    let (code, log) = run_gitlab_job(&co, "apply", &GL_DEL);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("Not applied: this plan is of"), "{log}");
    assert_eq!(requests_to(&co.sim, "delete"), 0);
    // the head: applied, with the delete key; one pool blocked by desktops is amber
    co.answer("gh-head", &format!("{SHA}\n"));
    let (code, log) = run_gitlab_job(&co, "apply", &[]);
    assert_eq!(code, 1, "no delete key: {log}");
    assert!(
        log.contains("scoped to the environment production"),
        "{log}"
    );
    let (code, log) = run_gitlab_job(&co, "apply", &GL_DEL);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("Applied by carol"), "{log}");
    assert!(
        log.contains("Some pools are blocked by their desktops; none failed"),
        "{log}"
    );
    only_deletes_for(&co.sim, &[OLD_BUILD, TMP_LOAD, TRAINING]);
    assert!(co.by_key(AK_DEL).0 > 0);
    // a plan that deletes nothing: the job ends at once, before any call
    let co = Checkout::new();
    keep_every_live_pool(&co);
    let (code, log) = run_gitlab_job(&co, "drift-check", &GL_RO);
    assert_eq!(code, 2, "a missing pool is still drift: {log}");
    let (code, log) = run_gitlab_job(&co, "apply", &GL_DEL);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("The saved plan deletes nothing: nothing to apply."),
        "{log}"
    );
    assert_eq!(co.by_key(AK_DEL), (0, 0));
}

#[test]
fn a_gitlab_job_refuses_an_install_script_that_is_not_the_pinned_one() {
    let co = Checkout::new();
    let mut env = GL_RO.to_vec();
    let wrong = "0".repeat(64);
    env.push(("POOLFORM_INSTALL_SH_SHA256", &wrong));
    let (code, log) = run_gitlab_job(&co, "drift-check", &env);
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("FAILED"), "sha256sum says so: {log}");
    assert!(!log.contains("Installed poolform"), "{log}");
    assert_eq!(co.by_key(AK_RO), (0, 0));
    assert!(
        co.mirror.asked().iter().all(|p| !p.contains("/releases/")),
        "no archive was downloaded: {:?}",
        co.mirror.asked()
    );
}

// --- Announcements -----------------------------------------------------------------------------

const ANNOUNCEMENTS: &str = "examples/ci/github-announcements.yml";

/// A scheduled run of the cron line `cron`.
fn scheduled(cron: &'static str) -> Event<'static> {
    Event {
        schedule: cron,
        ..event("schedule")
    }
}

/// Whether `job` of the announcements workflow starts for `event` (its `if:`, alternatives
/// joined by `||`).
fn starts(job: &str, event: &Event) -> bool {
    let gh = yaml(ANNOUNCEMENTS);
    let outputs = BTreeMap::new();
    let ctx = Context {
        event,
        job: &gh["jobs"][job],
        outputs: &outputs,
        inputs: BTreeMap::new(),
    };
    let condition = gh["jobs"][job]["if"].as_str().unwrap();
    condition
        .split("||")
        .any(|alternative| ctx.holds(alternative))
}

/// Moves the simulator's clock by `by`, as the API's moves from one day to the next.
fn days_pass(co: &Checkout, by: &str) {
    let out = std::process::Command::new(sim_binary())
        .args(["--move-clock", &co.sim.url(), "--clock-advance", by])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

/// A team keeps `name` during the notice: one more entry in the checkout's pools.yaml.
fn keep_during_the_notice(co: &Checkout, name: &str) {
    let text = fs::read_to_string(co.path("pools.yaml")).unwrap();
    let kept = format!("pools:\n  - name: {name}\n");
    fs::write(co.path("pools.yaml"), text.replacen("pools:\n", &kept, 1)).unwrap();
}

#[test]
fn the_announcement_workflow_is_pinned_keeps_expressions_out_of_scripts_and_the_delete_key_in_its_job(
) {
    let gh = yaml(ANNOUNCEMENTS);
    let text = fs::read_to_string(repo_file(ANNOUNCEMENTS)).unwrap();
    crate::release::assert_pinned(ANNOUNCEMENTS, &text);
    let mut all = Vec::new();
    scripts(&gh, &mut all);
    for script in all {
        assert!(
            !script.contains("${{"),
            "an expression inside run: {script}"
        );
    }
    let announce = serde_yaml::to_string(&gh["jobs"]["announce"]).unwrap();
    let apply = serde_yaml::to_string(&gh["jobs"]["apply-announced"]).unwrap();
    assert!(announce.contains("secrets.HW_READONLY_ACCESS_KEY") && !announce.contains("HW_DELETE"));
    assert!(apply.contains("secrets.HW_DELETE_ACCESS_KEY") && !apply.contains("HW_READONLY"));
    assert_eq!(
        gh["jobs"]["apply-announced"]["environment"],
        "announcements"
    );
    assert_eq!(
        gh["jobs"]["apply-announced"]["concurrency"]["group"],
        "poolform-production"
    );
    assert!(apply.contains("--if-due"));
    for job in ["announce", "apply-announced"] {
        assert!(
            gh["jobs"][job]["timeout-minutes"].as_u64().is_some(),
            "{job}"
        );
    }
    // Monday announces, every day applies; neither on the other's schedule, nor elsewhere.
    let monday = scheduled("0 7 * * 1");
    let daily = scheduled("30 7 * * *");
    assert!(starts("announce", &monday) && !starts("apply-announced", &monday));
    assert!(starts("apply-announced", &daily) && !starts("announce", &daily));
    assert!(starts("announce", &event("workflow_dispatch")));
    assert!(!starts("apply-announced", &event("workflow_dispatch")));
    let elsewhere = Event {
        git_ref: "refs/heads/feature",
        ..scheduled("30 7 * * *")
    };
    assert!(!starts("apply-announced", &elsewhere));
}

#[test]
fn github_announces_on_monday_and_the_daily_job_deletes_only_what_is_due_and_still_called_for() {
    let co = Checkout::new();
    let monday = scheduled("0 7 * * 1");
    let daily = scheduled("30 7 * * *");
    // Before any announcement: the daily job passes and nothing reaches the cloud.
    let run = run_workflow_job(ANNOUNCEMENTS, &co, "apply-announced", &daily);
    assert!(run.passed, "{}", run.log);
    assert!(
        run.log.contains("::notice::No announcement yet"),
        "{}",
        run.log
    );
    assert_eq!(co.by_key(AK_DEL), (0, 0));

    let run = run_workflow_job(ANNOUNCEMENTS, &co, "announce", &monday);
    assert!(run.passed, "{}", run.log);
    assert!(
        run.summary.contains(
            "📣 Announcement: these pools will be deleted on or after 2026-12-05T09:00:00Z"
        ),
        "{}",
        run.summary
    );
    assert!(co.path("announcement.json").exists());
    assert_eq!(
        co.by_key(AK_DEL),
        (0, 0),
        "announcing needs only the read-only key"
    );
    co.answer("gh-artifacts", "4711\n");

    // Tuesday: not due; the job passes and deletes nothing.
    days_pass(&co, "1d");
    let run = run_workflow_job(ANNOUNCEMENTS, &co, "apply-announced", &daily);
    assert!(run.passed, "{}", run.log);
    assert!(run.log.contains("is not due yet"), "{}", run.log);
    assert_eq!(co.sim.delete_requests(), 0);

    // Meanwhile a team keeps ci-tmp-load-test. Friday: due.
    keep_during_the_notice(&co, "ci-tmp-load-test");
    days_pass(&co, "3d");
    let run = run_workflow_job(ANNOUNCEMENTS, &co, "apply-announced", &daily);
    assert!(run.passed, "{}", run.log);
    assert!(
        run.log
            .contains("::warning::Some announced pools are blocked"),
        "{}",
        run.log
    );
    let sent = deletes_sent(&co.sim);
    assert_eq!(sent, set(&[OLD_BUILD, TRAINING]), "{}", run.log);
    assert!(
        run.summary.contains("Dropped from the announcement"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("ci-tmp-load-test"), "{}", run.summary);
    // ci-analytics expired on the 4th and ci-canary grew old enough: called for now, never
    // announced, not deleted.
    assert!(
        run.log.contains("not announced: ci-analytics"),
        "{}",
        run.log
    );
    assert!(run.log.contains("not announced: ci-canary"), "{}", run.log);
    let (requests, refused) = co.by_key(AK_DEL);
    assert!(requests > 0 && refused == 0);
}

#[test]
fn gitlab_announces_on_its_schedule_and_applies_the_newest_announcement_only_once_due() {
    let co = Checkout::new();
    let gl = yaml(GITLAB);
    let rules = serde_yaml::to_string(&gl["drift-check"]["rules"]).unwrap();
    assert!(
        rules.contains("$POOLFORM_SCHEDULE") && rules.contains("never"),
        "{rules}"
    );
    for (job, schedule) in [
        ("announce", "announce"),
        ("apply-announced", "apply-announced"),
    ] {
        let rule = gl[job]["rules"][0]["if"].as_str().unwrap();
        assert!(
            rule.contains(&format!("$POOLFORM_SCHEDULE == \"{schedule}\"")),
            "{rule}"
        );
        assert!(
            rule.contains("$CI_PIPELINE_SOURCE == \"schedule\""),
            "{rule}"
        );
    }
    assert_eq!(
        gl["apply-announced"]["environment"]["name"],
        "announcements"
    );
    assert_eq!(
        gl["apply-announced"]["resource_group"],
        "poolform-production"
    );

    let mut monday = GL_RO.to_vec();
    monday.extend([
        ("CI_PIPELINE_SOURCE", "schedule"),
        ("POOLFORM_SCHEDULE", "announce"),
    ]);
    let (code, log) = run_gitlab_job(&co, "announce", &monday);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("📣 Announcement"), "{log}");
    assert_eq!(co.by_key(AK_DEL), (0, 0));
    let announcement = fs::read(co.path("announcement.json")).unwrap();

    let mut daily = GL_DEL.to_vec();
    daily.extend([
        ("CI_PIPELINE_SOURCE", "schedule"),
        ("POOLFORM_SCHEDULE", "apply-announced"),
        ("CI_API_V4_URL", "https://gitlab.example.com/api/v4"),
        ("CI_PROJECT_ID", "42"),
        ("CI_JOB_TOKEN", "job-token-for-the-test"),
    ]);
    // No announce job has succeeded yet: nothing to apply.
    let (code, log) = run_gitlab_job(&co, "apply-announced", &daily);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("No announcement yet"), "{log}");
    assert_eq!(co.by_key(AK_DEL), (0, 0));
    fs::write(co.path("gitlab-artifact"), &announcement).unwrap();
    // Not due: exit 0, nothing deleted.
    let (code, log) = run_gitlab_job(&co, "apply-announced", &daily);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("is not due yet"), "{log}");
    assert_eq!(co.sim.delete_requests(), 0);
    // Due: the announced pools still called for, with the delete key; 2 for the blocked one.
    days_pass(&co, "4d");
    let (code, log) = run_gitlab_job(&co, "apply-announced", &daily);
    assert_eq!(code, 2, "{log}");
    assert_eq!(
        deletes_sent(&co.sim),
        set(&[OLD_BUILD, TMP_LOAD, TRAINING]),
        "{log}"
    );
    assert!(co
        .calls()
        .contains("jobs/artifacts/main/raw/announcement.json?job=announce"));
    // Applied again the next day: what is gone is dropped unread; the blocked pool is tried
    // again.
    days_pass(&co, "1d");
    let (code, log) = run_gitlab_job(&co, "apply-announced", &daily);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("gone before this apply"), "{log}");
}
