//! A file of one project and the same pools as a one-entry `projects:` file go through one
//! pipeline: for every scenario (plan; plan -o then show; apply of a saved plan, of a saved
//! `--target` plan, of a stale one; a blocked pool; a refused max_deletes; a config changed
//! after the plan; jsonl, markdown and JSON reports; SIGINT during apply; a saved plan whose
//! config is not found) the same DELETEs reach the simulator, the runs exit alike, the events
//! carry the same reasons, and the output says the same lines apart from the section header
//! and the project's label.

use crate::harness::ids::*;
use crate::harness::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use workspace_sim::SimServer;

const LABEL: &str = "cn-north-4/0bec5db98280d2d02fd6c00c2de791ce";

/// What a project keeps and protects, in either kind of file.
const KEEP: &str = "scope: {name_prefix: ci-, min_age: 1d}
pools:
  - {id: a130ab3a-72bf-4b71-baa9-af4987c8e338, name: ci-finance}
  - {name: ci-eng, expect: {type: STATIC}}
  - {id: 5f0e8a7c-1d2b-4c3d-9e8f-0a1b2c3d4e5f, name: ci-analytics}
  - {name: ci-design}
";
const PROTECT: &str =
    "protect:\n  - name: \"ci-prod-*\"\n  - tag: {key: env, value: prod}\nmax_deletes: 20\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    One,
    Projects,
}

fn config(kind: Kind) -> String {
    match kind {
        Kind::One => {
            format!("version: 1\nproject_id: {PROJECT}\nregion: cn-north-4\n{KEEP}{PROTECT}")
        }
        Kind::Projects => {
            let entry: String = KEEP.lines().map(|l| format!("    {l}\n")).collect();
            format!("version: 1\n{PROTECT}projects:\n  - region: cn-north-4\n    project_id: {PROJECT}\n{entry}")
        }
    }
}

/// What a run did, as the two kinds are compared.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    exits: Vec<Option<i32>>,
    deletes: BTreeSet<String>,
    stdout: Vec<String>,
    stderr: Vec<String>,
    events: Vec<String>,
}

/// A run's text with what differs between the kinds by design taken out: the simulator's
/// port, times, the section header and the project's label.
fn normalized(text: &str, sim: &SimServer) -> Vec<String> {
    let text = text.replace(&sim.url(), "SIM");
    let text = regex_lite_times(&text)
        .replace(&format!("## {LABEL}\n\n"), "")
        .replace(&format!(",\"project\":\"{LABEL}\""), "");
    text.lines()
        .filter(|l| l.trim() != format!("== {LABEL} =="))
        .map(|l| {
            let l = l
                .replace(&format!("{LABEL}: "), "")
                .replace(&format!(" ({LABEL})"), "")
                .replace(&format!(" in {LABEL}"), "")
                .replace(&format!("\"label\": \"{LABEL}\""), "\"label\": null");
            hashes(&request_ids(&skew(&l)))
        })
        .collect()
}

/// The note on this machine's clock with its measure taken out (it grows between two runs).
fn skew(line: &str) -> String {
    match (line.find("clock is "), line.find(" ahead of")) {
        (Some(a), Some(b)) if a < b => format!("{}SKEW{}", &line[..a + 9], &line[b..]),
        _ => line.to_owned(),
    }
}

/// Replaces SHA-256s in hex (the two kinds' files differ, so their hashes do) by `SHA`.
fn hashes(line: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in line.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() == 64 { "SHA" } else { &run });
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// Replaces the simulator's request ids (`sim-00000000-0000000000000003`, numbered as
/// concurrent calls arrive) by `REQ`.
fn request_ids(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("sim-") {
        out.push_str(&rest[..at]);
        let id_len = "sim-00000000-0000000000000000".len();
        let end = (at + id_len).min(rest.len());
        out.push_str("REQ");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Replaces RFC 3339 times (`2026-12-06T07:10:00Z`, with milliseconds too) by `TIME`.
fn regex_lite_times(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let looks = bytes.len() - i >= 20
            && bytes[i..i + 4].iter().all(u8::is_ascii_digit)
            && bytes[i + 4] == b'-'
            && bytes[i + 10] == b'T'
            && bytes[i + 13] == b':';
        if looks {
            let end = text[i..].find('Z').map_or(text.len(), |z| i + z + 1);
            out.push_str("TIME");
            i = end;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Each jsonl event as `type pool reason outcome` (times and the project's label aside).
fn events(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e.get("type").is_some())
        .map(|e| {
            format!(
                "{} {} {} {} {}",
                e["type"], e["pool"]["id"], e["reason"], e["outcome"], e["exit_code"]
            )
        })
        .collect()
}

/// `poolform ARGS` in `dir` with the test's token, at the simulator.
fn run(sim: &SimServer, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = poolform_bare();
    cmd.current_dir(dir).env("HW_AUTH_TOKEN", TOKEN);
    let (command, rest) = args.split_first().unwrap();
    cmd.arg(command);
    if matches!(*command, "plan" | "apply") {
        cmd.args(["--endpoint", &sim.url()]);
    }
    if *command == "apply" {
        // One DELETE at a time: the steps' lines and events come in the plan's order.
        cmd.args(["--parallelism", "1"]);
    }
    cmd.args(rest).output().unwrap()
}

/// Runs `steps` (each a poolform command, or a change to the world between them) for one kind
/// of file, and what it saw.
fn scenario(kind: Kind, steps: &[Step]) -> Seen {
    let sim = example_sim();
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "pools.yaml", &config(kind));
    let mut seen = Seen {
        exits: Vec::new(),
        deletes: BTreeSet::new(),
        stdout: Vec::new(),
        stderr: Vec::new(),
        events: Vec::new(),
    };
    for step in steps {
        let out = match step {
            Step::Run(args) => run(&sim, dir.path(), args),
            Step::Change(change) => {
                change(&sim, dir.path());
                continue;
            }
        };
        seen.exits.push(out.status.code());
        let stdout = stdout_of(&out);
        seen.events.extend(events(&stdout));
        seen.stdout.extend(normalized(&stdout, &sim));
        seen.stderr.extend(normalized(&stderr_of(&out), &sim));
    }
    seen.deletes = deletes_sent(&sim);
    seen
}

/// `poolform ARGS`, sent SIGINT once its first DELETE reached the (slow) simulator.
fn interrupted(sim: &SimServer, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("poolform"));
    cmd.env_clear()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("HW_AUTH_TOKEN", TOKEN)
        .arg(args[0])
        .args(["--endpoint", &sim.url()])
        .args(&args[1..])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    wait_for("a DELETE in flight", || sim.delete_requests() > 0);
    send_signal(&child, "INT");
    child.wait_with_output().unwrap()
}

type Change = fn(&SimServer, &Path);

enum Step {
    Run(&'static [&'static str]),
    Change(Change),
}

/// Both kinds, compared; the one-project kind's run, for the scenario's own assertions.
fn both(steps: &[Step]) -> Seen {
    let one = scenario(Kind::One, steps);
    let projects = scenario(Kind::Projects, steps);
    assert_same(&one, &projects);
    one
}

/// Fails naming the first line where the two kinds' runs differ, in each part of what they saw.
#[track_caller]
fn assert_same(one: &Seen, projects: &Seen) {
    let mut differences = Vec::new();
    if one.exits != projects.exits || one.deletes != projects.deletes {
        differences.push(format!(
            "exits {:?} / {:?}, DELETEs {:?} / {:?}",
            one.exits, projects.exits, one.deletes, projects.deletes
        ));
    }
    for (what, a, b) in [
        ("stdout", &one.stdout, &projects.stdout),
        ("stderr", &one.stderr, &projects.stderr),
        ("events", &one.events, &projects.events),
    ] {
        if a != b {
            let at = a.iter().zip(b.iter()).position(|(x, y)| x != y);
            let at = at.unwrap_or(a.len().min(b.len()));
            differences.push(format!(
                "{what} line {at}: one project {:?}, projects: {:?}",
                a.get(at),
                b.get(at)
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "a file of one project and a one-entry projects: file differ:\n{}",
        differences.join("\n")
    );
}

fn has(lines: &[String], part: &str) -> bool {
    lines.iter().any(|l| l.contains(part))
}

#[test]
fn plan_show_and_formats_say_the_same() {
    let seen = both(&[
        Step::Run(&["plan", "--detailed-exitcode"]),
        Step::Run(&["plan", "--format", "markdown"]),
        Step::Run(&["plan", "-o", "plan.json"]),
        Step::Run(&["show", "plan.json"]),
        Step::Run(&["show", "plan.json", "--format", "markdown"]),
    ]);
    assert_eq!(seen.exits, [Some(2), Some(0), Some(0), Some(0), Some(0)]);
    assert!(
        has(
            &seen.stdout,
            "Plan: 3 to delete (1 likely blocked), 1 missing, 1 drifted, 2 protected, 1 young, 2 unchanged."
        ),
        "{:?}",
        seen.stdout
    );
    assert!(has(
        &seen.stdout,
        "Saved plan plan.json, made TIME from pools.yaml"
    ));
    assert!(seen.deletes.is_empty());
}

#[test]
fn applying_saved_plans_whole_and_partial_does_the_same() {
    let seen = both(&[
        Step::Run(&["plan", "--target", "ci-old-build", "-o", "t.json"]),
        Step::Run(&["apply", "t.json"]),
        Step::Run(&["plan", "-o", "plan.json"]),
        Step::Run(&["apply", "plan.json", "--format", "json"]),
    ]);
    assert_eq!(seen.exits, [Some(0), Some(0), Some(0), Some(2)]);
    // the saved --target plan says it is partial when applied, in either kind
    assert!(
        has(
            &seen.stderr,
            "Partial plan: only the deletes --target names (ci-old-build)"
        ),
        "{:?}",
        seen.stderr
    );
    assert_eq!(seen.deletes, set(&[OLD_BUILD, TMP_LOAD, TRAINING]));
}

#[test]
fn refusals_are_the_same_and_send_no_delete() {
    fn busy(sim: &SimServer, _: &Path) {
        let mut fields = serde_json::Map::new();
        fields.insert("desktop_count".into(), 1.into());
        assert!(sim.patch_pool(TMP_LOAD, fields));
    }
    fn edited(_: &SimServer, dir: &Path) {
        let path = dir.join("pools.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}# edited after the plan\n")).unwrap();
    }
    let seen = both(&[
        Step::Run(&["plan", "--max-deletes", "1"]),
        Step::Run(&["plan", "-o", "plan.json"]),
        Step::Change(busy),
        Step::Run(&["apply", "plan.json"]),
        Step::Run(&["plan", "-o", "again.json"]),
        Step::Change(edited),
        Step::Run(&["apply", "again.json"]),
    ]);
    assert_eq!(seen.exits, [Some(1), Some(0), Some(1), Some(0), Some(1)]);
    assert!(
        has(&seen.stderr, "more than --max-deletes allows (1)"),
        "{:?}",
        seen.stderr
    );
    assert!(has(&seen.stderr, "is stale or no longer called for"));
    assert!(has(&seen.stderr, "with SHA-256"));
    assert!(seen.deletes.is_empty());
}

#[test]
fn reports_in_every_format_are_the_same() {
    let seen = both(&[Step::Run(&["apply", "--auto-approve", "--format", "jsonl"])]);
    assert_eq!(seen.exits, [Some(2)], "a blocked pool remains");
    // every planned pool is announced with why, in either kind
    let planned: Vec<&String> = seen
        .events
        .iter()
        .filter(|e| e.starts_with("\"planned\""))
        .collect();
    assert_eq!(planned.len(), 3, "{:?}", seen.events);
    assert!(
        planned.iter().all(|e| e.contains("\"not_in_config\"")),
        "{planned:?}"
    );
    assert!(
        seen.events.last().unwrap().starts_with("\"summary\""),
        "{:?}",
        seen.events
    );
    for format in ["markdown", "json", "human"] {
        let args: &'static [&'static str] = match format {
            "markdown" => &["apply", "--auto-approve", "--format", "markdown"],
            "json" => &["apply", "--auto-approve", "--format", "json"],
            _ => &["apply", "--auto-approve"],
        };
        let seen = both(&[Step::Run(args)]);
        assert_eq!(seen.exits, [Some(2)], "{format}");
        assert!(
            has(&seen.stdout, "ci-training"),
            "{format}: {:?}",
            seen.stdout
        );
    }
}

#[test]
fn an_interrupted_apply_ends_the_same() {
    fn slow(kind: Kind) -> Seen {
        let mut config = workspace_sim::SimConfig::new(example_fixture());
        config.auth = workspace_sim::SimAuth::Token(TOKEN.into());
        config.faults.delete_latency = std::time::Duration::from_millis(1500);
        let sim = spawn(config);
        let dir = tempfile::tempdir().unwrap();
        write_file(dir.path(), "pools.yaml", &self::config(kind));
        let out = interrupted(&sim, dir.path(), &["apply", "--auto-approve"]);
        Seen {
            exits: vec![out.status.code()],
            deletes: deletes_sent(&sim),
            stdout: normalized(&stdout_of(&out), &sim),
            stderr: normalized(&stderr_of(&out), &sim)
                .into_iter()
                .filter(|l| l.starts_with("Interrupted") || l.starts_with("Apply"))
                .collect(),
            events: Vec::new(),
        }
    }
    let one = slow(Kind::One);
    assert_same(&one, &slow(Kind::Projects));
    assert_eq!(one.exits, [Some(130)]);
    assert!(has(&one.stdout, "Apply interrupted"), "{:?}", one.stdout);
}

#[test]
fn a_saved_plan_whose_config_is_not_found_names_it() {
    fn moved(_: &SimServer, dir: &Path) {
        std::fs::rename(dir.join("pools.yaml"), dir.join("cfg.yaml")).unwrap();
    }
    let seen = both(&[
        Step::Change(moved),
        Step::Run(&["plan", "-f", "cfg.yaml", "-o", "plan.json"]),
        Step::Run(&["apply", "plan.json"]),
    ]);
    assert_eq!(seen.exits, [Some(0), Some(1)]);
    assert!(
        has(
            &seen.stderr,
            "plan.json was made from cfg.yaml: pass -f cfg.yaml to apply it"
        ),
        "{:?}",
        seen.stderr
    );
    assert!(seen.deletes.is_empty());
}

/// `poolform schema --for WHAT`, as a validator, and the schema itself.
fn schema_of(what: &str) -> (jsonschema::Validator, Value) {
    let out = poolform_bare()
        .args(["schema", "--for", what])
        .output()
        .unwrap();
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    (jsonschema::validator_for(&schema).unwrap(), schema)
}

/// One schema for each artefact, whatever the kind of file: the plan file and `--format json`,
/// the JSON report and every jsonl event of both kinds follow it, and it offers no choice of
/// two shapes.
#[test]
fn one_schema_per_artefact_fits_both_kinds() {
    let check = |what: &str, doc: &Value| {
        let (validator, _) = schema_of(what);
        let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{what}: {errors:?}\n{doc}");
    };
    for what in ["plan", "report"] {
        let (_, schema) = schema_of(what);
        assert!(
            schema.get("anyOf").is_none() && schema.get("oneOf").is_none(),
            "{what}: one shape, not a choice of two"
        );
    }
    // events are one line shape; their choice is of the event's `type`, one each
    let (_, events) = schema_of("events");
    let kinds: Vec<&Value> = events["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["properties"]["type"])
        .collect();
    assert!(kinds.iter().all(|k| k.get("const").is_some()), "{kinds:?}");
    for kind in [Kind::One, Kind::Projects] {
        let sim = example_sim();
        let dir = tempfile::tempdir().unwrap();
        write_file(dir.path(), "pools.yaml", &config(kind));
        let out = run(
            &sim,
            dir.path(),
            &["plan", "--format", "json", "-o", "plan.json"],
        );
        assert_exit(&out, 0);
        let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
                .unwrap();
        check("plan", &shown);
        check("plan", &saved);
        assert_eq!(saved["projects"].as_array().unwrap().len(), 1, "{kind:?}");
        let label = &saved["projects"][0]["label"];
        assert_eq!(label.is_null(), kind == Kind::One, "{kind:?}: {label}");
        let out = run(
            &sim,
            dir.path(),
            &["apply", "plan.json", "--format", "json"],
        );
        check("report", &report_of(&out));
        let sim = example_sim();
        let out = run(
            &sim,
            dir.path(),
            &["apply", "--auto-approve", "--format", "jsonl"],
        );
        for line in stdout_of(&out).lines() {
            check("events", &serde_json::from_str(line).unwrap());
        }
    }
}
