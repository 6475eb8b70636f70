//! Time, through the binaries, on a frozen simulator clock: `min_age` and `expires` at their
//! boundaries (one second either side), judged by the API's clock whatever this machine's
//! says; malformed durations and instants refused before any request; announcements
//! (`plan --notice`) applied only when due, only to what is still called for, and harmlessly
//! twice. Every test asserts exactly which DELETEs reached the simulator.

use crate::harness::*;
use poolform::core::time::{Instant, Span};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use workspace_sim::{SimClock, SimServer};

/// The frozen "now" of the simulator in these tests.
const T0: &str = "2026-12-01T12:00:00Z";

fn at(text: &str) -> Instant {
    Instant::parse(text).unwrap()
}

fn span(text: &str) -> Span {
    Span::parse(text).unwrap()
}

/// A pool of the fixture, created at `created` (`now-3d`, resolved on the simulator's clock at
/// start).
fn pool(id: &str, name: &str, created: Value) -> Value {
    json!({"id": id, "name": name, "type": "DYNAMIC", "created_time": created})
}

/// A simulator serving `pools`, its clock frozen at `now`; the clock, to move it.
fn frozen_sim(pools: Value, now: &str) -> (SimServer, Arc<SimClock>) {
    let mut c = config(fixture(pools));
    c.clock = Arc::new(SimClock::frozen_at(at(now)));
    let clock = c.clock.clone();
    (spawn(c), clock)
}

/// The pools at the boundaries of `min_age: 3d` and of `expires` at T0 ± 1s.
fn boundary_pools() -> Value {
    json!([
        pool("old-1", "lab-old", json!("now-3d1s")),
        pool("young-1", "lab-young", json!("now-2d23h59m59s")),
        pool("ageless-1", "lab-ageless", json!("sometime last year")),
        pool(
            "kept-soon-1",
            "lab-kept-soon",
            json!("2026-01-05T08:00:00.000Z")
        ),
        pool(
            "kept-gone-1",
            "lab-kept-gone",
            json!("2026-01-05T08:00:00.000Z")
        ),
        pool("safe-1", "lab-safe-1", json!("2026-01-05T08:00:00.000Z")),
        pool(
            "guarded-1",
            "lab-guarded-1",
            json!("2026-01-05T08:00:00.000Z")
        ),
        pool("other-1", "team-other", json!("2026-01-05T08:00:00.000Z")),
    ])
}

const BOUNDARY_CONFIG: &str = r#"version: 1
scope: {name_prefix: lab-, min_age: 3d}
pools:
  - {name: lab-kept-soon, expires: "2026-12-01T12:00:01Z"}
  - {name: lab-kept-gone, expires: "2026-12-01T11:59:59Z"}
protect:
  - {name: "lab-safe-*", expires: "2026-12-01T12:00:01Z"}
  - {name: "lab-guarded-*", expires: "2026-12-01T11:59:59Z"}
"#;

/// What the plan's changes and findings say, by pool name.
fn plan_json(sim: &SimServer, config: &Path) -> Value {
    let out = poolform(sim)
        .args(["plan", "--format", "json", "-f"])
        .arg(config)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn change_names(plan: &Value) -> Vec<String> {
    plan["projects"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["changes"].as_array().unwrap())
        .map(|c| c["pool"]["name"].as_str().unwrap().to_owned())
        .collect()
}

fn finding<'a>(plan: &'a Value, kind: &str, name: &str) -> &'a Value {
    plan["projects"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind && (f["pool"]["name"] == name || f["rule"] == name))
        .unwrap_or_else(|| panic!("no {kind} finding for {name}: {plan}"))
}

#[test]
fn min_age_and_expires_decide_one_second_either_side_of_their_boundary() {
    let (sim, _clock) = frozen_sim(boundary_pools(), T0);
    let dir = tempfile::tempdir().unwrap();
    let config = scope_file(dir.path(), BOUNDARY_CONFIG);
    let plan = plan_json(&sim, &config);
    assert_eq!(
        plan["projects"][0]["clock"],
        json!({"now": T0, "source": "api"})
    );
    assert_eq!(
        change_names(&plan),
        ["lab-guarded-1", "lab-kept-gone", "lab-old"],
        "{plan}"
    );
    let changes = &plan["projects"][0]["changes"];
    assert_eq!(changes[0]["reason"], "expired");
    assert_eq!(
        changes[0]["expired"],
        json!({"rule": "protect[1] name \"lab-guarded-*\"", "expires": "2026-12-01T11:59:59Z"})
    );
    assert_eq!(
        changes[1]["expired"],
        json!({"rule": "pools[1] name \"lab-kept-gone\"", "expires": "2026-12-01T11:59:59Z"})
    );
    assert_eq!(changes[2]["reason"], "not_in_config");
    let young = finding(&plan, "young", "lab-young");
    assert_eq!(young["age"], "2d23h59m59s");
    assert_eq!(young["old_enough_at"], "2026-12-01T12:00:01Z");
    finding(&plan, "age_unknown", "lab-ageless");
    let soon = finding(&plan, "expiring", "lab-kept-soon");
    assert_eq!(soon["expires_in_days"], 1);
    let rule = finding(&plan, "expiring", "protect[0] name \"lab-safe-*\"");
    assert_eq!(rule["expires"], "2026-12-01T12:00:01Z");
    // Kept by min_age: the young pool and the one of unknown age.
    assert_eq!(plan["summary"]["young"], 2);
    assert_eq!(plan["summary"]["expiring"], 2);

    // Said in every format, on stdout.
    for (format, wants) in [
        (
            "human",
            &[
                "not deleted: 2d23h59m59s old, younger than the min_age of",
                "old enough at 2026-12-01T12:00:01Z",
                "its created_time is missing or unreadable",
                "expires in 1 day",
                "expired",
            ][..],
        ),
        (
            "markdown",
            &["⏳ young", "⌛ expiring", "expires in 1 day"][..],
        ),
    ] {
        let out = poolform(&sim)
            .args(["plan", "--format", format, "-f"])
            .arg(&config)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let stdout = stdout_of(&out);
        for want in wants {
            assert!(stdout.contains(want), "{format}: {want:?} in {stdout}");
        }
    }

    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "--format", "jsonl", "-f"])
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        deletes_sent(&sim),
        set(&["guarded-1", "kept-gone-1", "old-1"])
    );
    // The events say why, the expired entry named.
    let planned: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["type"] == "planned")
        .collect();
    let kept_gone = planned
        .iter()
        .find(|e| e["pool"]["id"] == "kept-gone-1")
        .unwrap();
    assert_eq!(kept_gone["reason"], "expired");
    assert_eq!(
        kept_gone["expired"]["rule"],
        "pools[1] name \"lab-kept-gone\""
    );
}

#[test]
fn a_young_pool_is_not_drift_and_cannot_be_targeted() {
    let (sim, _clock) = frozen_sim(
        json!([
            pool("young-1", "lab-young", json!("now-1h")),
            pool("ageless-1", "lab-ageless", json!("sometime last year")),
        ]),
        T0,
    );
    let dir = tempfile::tempdir().unwrap();
    let config = scope_file(
        dir.path(),
        "version: 1\nscope: {name_prefix: lab-, min_age: 1d}\n",
    );
    let out = poolform(&sim)
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stdout = stdout_of(&out);
    assert!(stdout.contains("No changes"), "{stdout}");
    // Said even when nothing is to be done.
    assert!(stdout.contains("younger than the min_age"), "{stdout}");
    assert!(
        stdout.contains("its created_time is missing or unreadable"),
        "{stdout}"
    );
    for target in ["lab-young", "ageless-1"] {
        let out = poolform(&sim)
            .args(["apply", "--auto-approve", "--target", target, "-f"])
            .arg(&config)
            .output()
            .unwrap();
        let why = if target == "lab-young" {
            "younger than the min_age"
        } else {
            "its age is unknown"
        };
        assert_refused(&out, &sim, &[target, why]);
    }
}

#[test]
fn malformed_durations_and_instants_are_refused_with_their_place_before_any_request() {
    let (sim, _clock) = frozen_sim(boundary_pools(), T0);
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "version: 1\nscope: {name_prefix: lab-, min_age: 7}\n",
            "pools.yaml:2:37: scope.min_age: \"7\" is not a duration",
        ),
        (
            "version: 1\nscope: {name_prefix: lab-, min_age: 7 days}\n",
            "pools.yaml:2:37: scope.min_age: \"7 days\" is not a duration",
        ),
        (
            "version: 1\nscope: {name_prefix: lab-, min_age: 1y}\n",
            "\"1y\" is not a duration",
        ),
        (
            "version: 1\nscope: {name_prefix: lab-, min_age: -3d}\n",
            "\"-3d\" is not a duration",
        ),
        (
            "version: 1\nnotice: 4\npools: [{name: lab-old}]\n",
            "pools.yaml:2:9: notice: \"4\" is not a duration",
        ),
        (
            "version: 1\npools:\n  - {name: lab-old, expires: 2026-13-01}\n",
            "pools.yaml:3:30: pools[0].expires: \"2026-13-01\" is not an instant",
        ),
        (
            "version: 1\npools:\n  - {name: lab-old, expires: \"2026-12-01T10:00\"}\n",
            "\"2026-12-01T10:00\" is not an instant",
        ),
        (
            "version: 1\npools:\n  - {name: lab-old, expires: 20261231}\n",
            "\"20261231\" is not an instant",
        ),
        (
            "version: 1\npools: [{name: lab-old}]\nprotect:\n  - {name: x, expires: 2026-02-30}\n",
            "pools.yaml:4:24: protect[0].expires: \"2026-02-30\" is not an instant",
        ),
    ];
    for (yaml, want) in cases {
        scope_file(dir.path(), yaml);
        for command in ["validate", "plan", "apply"] {
            let out = if command == "validate" {
                poolform_bare()
                    .current_dir(dir.path())
                    .args(["validate", "-f", "pools.yaml"])
                    .output()
                    .unwrap()
            } else {
                poolform(&sim)
                    .arg(command)
                    .args(["-f", "pools.yaml"])
                    .current_dir(dir.path())
                    .output()
                    .unwrap()
            };
            assert_exit(&out, 1);
            assert!(
                stderr_of(&out).contains(want),
                "{command} {yaml:?}: {}",
                stderr_of(&out)
            );
        }
    }
    assert_eq!(sim.api_requests(), 0, "a malformed config sends no request");
}

#[test]
fn the_apis_clock_decides_when_this_machines_is_three_days_ahead() {
    // The simulator's clock is 3 days behind this machine's.
    let mut c = config(fixture(json!([
        pool("recent-1", "lab-recent", json!("now-2d")),
        pool("kept-1", "lab-kept", json!("now-30d")),
    ])));
    c.clock = Arc::new(SimClock::offset_by(-3 * 86_400));
    let api_now = c.clock.now();
    let sim = spawn(c);
    let dir = tempfile::tempdir().unwrap();
    // By this machine's clock the pool is 5 days old and the entry expired a day ago; by the
    // API's, the pool is 2 days old and the entry keeps it for a day more.
    let expires = api_now.plus(span("1d"));
    let config = scope_file(
        dir.path(),
        &format!("version: 1\nscope: {{name_prefix: lab-, min_age: 3d}}\npools:\n  - {{name: lab-kept, expires: \"{expires}\"}}\n"),
    );
    let out = poolform(&sim)
        .args(["apply", "--auto-approve", "-f"])
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stderr = stderr_of(&out);
    let identity = stderr.find("Acting as").unwrap_or(0);
    let note = stderr
        .find("note: this machine's clock is 3d ahead of the API's")
        .unwrap_or_else(|| panic!("no clock note: {stderr}"));
    assert!(
        identity < note,
        "the note comes after the identity line: {stderr}"
    );
    assert_eq!(
        stderr.matches("this machine's clock is").count(),
        1,
        "said once: {stderr}"
    );
    assert!(
        stdout_of(&out).contains("No changes"),
        "{}",
        stdout_of(&out)
    );
    assert!(deletes_sent(&sim).is_empty());
}

#[test]
fn validate_warns_about_expired_entries_by_the_local_clock_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    scope_file(
        dir.path(),
        "version: 1\nscope: {name_prefix: lab-}\npools:\n  - {name: lab-a, expires: 2020-01-01}\n  - {name: lab-b, expires: 2999-01-01}\nprotect:\n  - {name: \"lab-p*\", expires: 2020-06-01T00:00:00+02:00}\n",
    );
    let out = poolform_bare()
        .current_dir(dir.path())
        .arg("validate")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("warning: pools[0] name \"lab-a\" expired 2020-01-01T00:00:00Z (by this machine's clock"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: protect[0] name \"lab-p*\" expired 2020-05-31T22:00:00Z"),
        "{stderr}"
    );
    assert!(!stderr.contains("lab-b"), "{stderr}");
}

/// The pools of an announcement test: three to be announced, one outside the scope.
fn announced_pools() -> Value {
    json!([
        pool("a-1", "lab-a", json!("now-30d")),
        pool("b-1", "lab-b", json!("now-30d")),
        pool("c-1", "lab-c", json!("now-30d")),
        pool("keep-1", "lab-keep", json!("now-30d")),
        pool("other-1", "team-other", json!("now-30d")),
    ])
}

const ANNOUNCED_CONFIG: &str =
    "version: 1\nscope: {name_prefix: lab-}\npools:\n  - {name: lab-keep}\n";

/// `poolform plan --notice NOTICE -o announcement.json` in `dir`.
fn announce(sim: &SimServer, dir: &Path, notice: &str) -> std::process::Output {
    let mut cmd = poolform(sim);
    cmd.args(["plan", "--notice", notice, "-o", "announcement.json"]);
    cmd.current_dir(dir).output().unwrap()
}

/// `poolform apply announcement.json` (and `extra`) in `dir`, the JSON report on stdout.
fn apply_announcement(sim: &SimServer, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = poolform(sim);
    cmd.args(["apply", "announcement.json", "--format", "json"])
        .args(extra);
    cmd.current_dir(dir).output().unwrap()
}

#[test]
fn an_announcement_deletes_only_what_it_announced_and_is_still_called_for_once_due() {
    let (sim, clock) = frozen_sim(announced_pools(), T0);
    let dir = tempfile::tempdir().unwrap();
    scope_file(dir.path(), ANNOUNCED_CONFIG);

    // --notice needs -o: an announcement must be kept.
    let out = {
        let mut cmd = poolform(&sim);
        cmd.args(["plan", "--notice", "4d"]);
        cmd.current_dir(dir.path()).output().unwrap()
    };
    assert_refused(
        &out,
        &sim,
        &["--notice makes an announcement", "add -o FILE"],
    );
    assert_eq!(sim.api_requests(), 0);

    let out = announce(&sim, dir.path(), "4d");
    assert_exit(&out, 0);
    assert!(
        stderr_of(&out).contains("Its 3 pools will be deleted on or after 2026-12-05T12:00:00Z unless pools.yaml keeps them"),
        "{}",
        stderr_of(&out)
    );
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("announcement.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        saved["announcement"],
        json!({"notice": "4d", "announced_at": T0, "not_before": "2026-12-05T12:00:00Z", "valid_until": "2026-12-09T12:00:00Z"})
    );
    // Shown for people and machines.
    for (format, want) in [
        ("human", "Announcement: these pools will be deleted on or after 2026-12-05T12:00:00Z (the API's clock) unless pools.yaml keeps them; to keep one, add it to pools.yaml."),
        ("markdown", "> 📣 Announcement: these pools will be deleted on or after 2026-12-05T12:00:00Z"),
        ("json", "\"not_before\": \"2026-12-05T12:00:00Z\""),
    ] {
        let out = poolform_bare()
            .current_dir(dir.path())
            .args(["show", "announcement.json", "--format", format])
            .output()
            .unwrap();
        assert_exit(&out, 0);
        assert!(stdout_of(&out).contains(want), "{format}: {}", stdout_of(&out));
    }

    // One second before it is due: nothing is deleted; exit 1, or 0 with --if-due.
    clock.freeze(at("2026-12-05T11:59:59Z"));
    let out = apply_announcement(&sim, dir.path(), &[]);
    assert_refused(
        &out,
        &sim,
        &[
            "is not due yet",
            "on or after 2026-12-05T12:00:00Z, in 1s",
            "--if-due",
        ],
    );
    let out = apply_announcement(&sim, dir.path(), &["--if-due"]);
    assert_exit(&out, 0);
    assert!(
        stderr_of(&out).contains("Not due: exiting 0 (--if-due)"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.delete_requests(), 0);

    // During the notice: a team keeps lab-b, lab-c is deleted by someone else, and a new pool
    // appears (old enough, in scope).
    scope_file(
        dir.path(),
        "version: 1\nscope: {name_prefix: lab-}\npools:\n  - {name: lab-keep}\n  - {name: lab-b}\n",
    );
    sim.remove_pool("c-1");
    let mut fields = serde_json::Map::new();
    fields.insert("id".into(), json!("new-1"));
    fields.insert("name".into(), json!("lab-new"));
    fields.insert("created_time".into(), json!("2026-01-05T08:00:00.000Z"));
    sim.add_pool(fields);

    // Due, to the second.
    clock.freeze(at("2026-12-05T12:00:00Z"));
    let out = apply_announcement(&sim, dir.path(), &["--if-due"]);
    assert_exit(&out, 0);
    assert_eq!(deletes_sent(&sim), set(&["a-1"]), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    for want in [
        "Applying the announcement announcement.json (announced 2026-12-01T12:00:00Z, due 2026-12-05T12:00:00Z): 1 to delete, 2 dropped.",
        "dropped lab-b (b-1): no longer called for: pools.yaml now keeps it (pools[1])",
        "dropped lab-c (c-1): gone before this apply",
        "not announced: lab-new (new-1): the config calls for its deletion now, but only what was announced is deleted",
    ] {
        assert!(stderr.contains(want), "{want:?} in {stderr}");
    }
    let report = report_of(&out);
    assert_eq!(result_for(&report, "a-1")["outcome"], "deleted");
    assert_eq!(report["announcement"]["not_before"], "2026-12-05T12:00:00Z");
    assert_eq!(report["announcement"]["notice"], "4d");
    let dropped: Vec<(String, String)> = report["announcement"]["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["pool"]["id"].as_str().unwrap().to_owned(),
                d["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        dropped,
        [
            ("b-1".to_owned(), "not_called_for".to_owned()),
            ("c-1".to_owned(), "gone_before_apply".to_owned())
        ]
    );
    assert_eq!(
        requests_to(&sim, "show"),
        0,
        "a pool gone before the apply is not read"
    );

    // Applied again: nothing left, exit 0, no read of the gone pools, no DELETE.
    let deletes_before = sim.delete_requests();
    let out = apply_announcement(&sim, dir.path(), &["--if-due"]);
    assert_exit(&out, 0);
    assert_eq!(sim.delete_requests(), deletes_before);
    assert_eq!(requests_to(&sim, "show"), 0);
    assert!(
        stderr_of(&out).contains("0 to delete, 3 dropped"),
        "{}",
        stderr_of(&out)
    );

    // More than one notice after it was due: refused, --if-due or not.
    clock.freeze(at("2026-12-09T12:00:01Z"));
    for extra in [&[][..], &["--if-due"][..]] {
        let out = apply_announcement(&sim, dir.path(), extra);
        assert_exit(&out, 1);
        for want in [
            "is too old to apply",
            "until 2026-12-09T12:00:00Z",
            "Announce again",
        ] {
            assert!(
                stderr_of(&out).contains(want),
                "{want:?} in {}",
                stderr_of(&out)
            );
        }
    }
    assert_eq!(deletes_sent(&sim), set(&["a-1"]));
}

#[test]
fn an_announced_pool_renamed_or_recreated_is_another_pool_and_a_changed_count_is_judged_again() {
    let (sim, clock) = frozen_sim(announced_pools(), T0);
    let dir = tempfile::tempdir().unwrap();
    scope_file(dir.path(), ANNOUNCED_CONFIG);
    assert_exit(&announce(&sim, dir.path(), "1d"), 0);
    let patch = |id: &str, field: &str, value: Value| {
        let mut fields = serde_json::Map::new();
        fields.insert(field.into(), value);
        assert!(sim.patch_pool(id, fields));
    };
    patch("a-1", "name", json!("lab-a-renamed"));
    patch("b-1", "created_time", json!("2026-11-30T00:00:00.000Z"));
    patch("c-1", "status", json!("FREEZE"));
    clock.freeze(at("2026-12-02T12:00:00Z"));
    let out = apply_announcement(&sim, dir.path(), &[]);
    assert_exit(&out, 0);
    assert_eq!(deletes_sent(&sim), set(&["c-1"]), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("dropped lab-a (a-1): another pool now: id a-1 is now \"lab-a-renamed\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("dropped lab-b (b-1): another pool now"),
        "{stderr}"
    );
}

#[test]
fn a_plain_plan_is_not_an_announcement_and_notice_in_the_config_makes_one_mandatory() {
    let (sim, clock) = frozen_sim(announced_pools(), T0);
    let dir = tempfile::tempdir().unwrap();
    scope_file(dir.path(), ANNOUNCED_CONFIG);
    let plain = save_plan_in(&sim, dir.path());
    let out = apply_in(&sim, dir.path(), &[plain.as_str(), "--if-due"]);
    assert_refused(
        &out,
        &sim,
        &["--if-due is for an announcement", "plain saved plan"],
    );

    scope_file(dir.path(), &format!("{ANNOUNCED_CONFIG}notice: 3d\n"));
    // A fresh apply, and a plain saved plan, are refused with the next step.
    let out = apply_in(&sim, dir.path(), &["--auto-approve"]);
    assert_refused(
        &out,
        &sim,
        &[
            "pools.yaml asks for 3d of notice before any delete",
            "poolform plan --notice 3d -o announcement.json",
        ],
    );
    let plain = save_plan_in(&sim, dir.path());
    let out = apply_in(&sim, dir.path(), &[plain.as_str()]);
    assert_refused(&out, &sim, &["asks for 3d of notice"]);
    // A shorter announcement is refused when made (before any request) ...
    let requests = sim.api_requests();
    let out = announce(&sim, dir.path(), "2d");
    assert_refused(
        &out,
        &sim,
        &["--notice 2d is shorter than the notice 3d that pools.yaml asks for"],
    );
    assert_eq!(sim.api_requests(), requests);
    // ... and when applied after the file asked for more.
    assert_exit(&announce(&sim, dir.path(), "3d"), 0);
    scope_file(dir.path(), &format!("{ANNOUNCED_CONFIG}notice: 1w\n"));
    clock.freeze(at("2026-12-04T12:00:00Z"));
    let out = apply_announcement(&sim, dir.path(), &[]);
    assert_refused(
        &out,
        &sim,
        &["gives 3d of notice, but pools.yaml now asks for 1w"],
    );
    // With the notice it asks for, the announcement deletes once due, with no prompt.
    scope_file(dir.path(), &format!("{ANNOUNCED_CONFIG}notice: 3d\n"));
    let out = apply_announcement(&sim, dir.path(), &["--target", "lab-a"]);
    assert_exit(&out, 0);
    assert_eq!(deletes_sent(&sim), set(&["a-1"]));
}

#[test]
fn an_announcement_says_its_dropped_pools_as_events() {
    let (sim, clock) = frozen_sim(announced_pools(), T0);
    let dir = tempfile::tempdir().unwrap();
    scope_file(dir.path(), ANNOUNCED_CONFIG);
    assert_exit(&announce(&sim, dir.path(), "1h"), 0);
    sim.remove_pool("b-1");
    clock.freeze(at("2026-12-01T13:00:00Z"));
    let mut cmd = poolform(&sim);
    cmd.args(["apply", "announcement.json", "--format", "jsonl"]);
    let out = cmd.current_dir(dir.path()).output().unwrap();
    assert_exit(&out, 0);
    let events: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let dropped: Vec<&Value> = events.iter().filter(|e| e["type"] == "dropped").collect();
    assert_eq!(dropped.len(), 1, "{events:?}");
    assert_eq!(dropped[0]["pool"]["id"], "b-1");
    assert_eq!(dropped[0]["reason"], "gone_before_apply");
    let first_delete = events
        .iter()
        .position(|e| e["type"] == "step_started")
        .unwrap();
    let drop_at = events.iter().position(|e| e["type"] == "dropped").unwrap();
    assert!(
        drop_at < first_delete,
        "dropped pools are said before any DELETE"
    );
    assert_eq!(deletes_sent(&sim), set(&["a-1", "c-1"]));
}

/// `poolform plan -o plan.json` in `dir`; the plan file's name.
fn save_plan_in(sim: &SimServer, dir: &Path) -> String {
    let mut cmd = poolform(sim);
    cmd.args(["plan", "-o", "plan.json"]);
    let out = cmd.current_dir(dir).output().unwrap();
    assert_exit(&out, 0);
    "plan.json".to_owned()
}

/// `poolform apply ARGS` in `dir`.
fn apply_in(sim: &SimServer, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = poolform(sim);
    cmd.arg("apply").args(args);
    cmd.current_dir(dir).output().unwrap()
}

#[test]
fn an_announcement_over_projects_drops_a_project_no_longer_in_the_file_and_stays_bound() {
    use crate::harness::projects::*;
    let clock = Arc::new(SimClock::frozen_at(at(T0)));
    let shared = clock.clone();
    let sim = projects_sim_with(|_| {}, move |c| c.clock = shared);
    let dir = checkout(FILE);
    let out = run(
        &sim,
        dir.path(),
        &["plan", "--notice", "1d", "-o", "announcement.json"],
    );
    assert_exit(&out, 0);
    // During the notice the eu-west-101 project leaves the file, and the training project
    // keeps lab-1.
    let edited = FILE
        .split("  - region: eu-west-101")
        .next()
        .unwrap()
        .replace(
            "scope: {name_prefix: lab-}\n    pools: []",
            "scope: {name_prefix: lab-}\n    pools: [{name: lab-1}]",
        );
    write_file(dir.path(), "pools.yaml", &edited);
    // Not due yet by the simulator's clock: nothing is deleted anywhere.
    let out = run(&sim, dir.path(), &["apply", "announcement.json"]);
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("is not due yet"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(sim.delete_requests(), 0);

    clock.freeze(at("2026-12-02T12:00:00Z"));
    let out = run(
        &sim,
        dir.path(),
        &["apply", "announcement.json", "--format", "json"],
    );
    assert_exit(&out, 0);
    assert_eq!(deletes_sent(&sim), set(&[&id(1, 2)]), "{}", stderr_of(&out));
    let report = report_of(&out);
    let reasons: Vec<(String, String)> = report["announcement"]["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["pool"]["name"].as_str().unwrap().to_owned(),
                d["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("lab-1".to_owned(), "not_called_for".to_owned()),
            ("eu-tmp".to_owned(), "project_not_in_file".to_owned()),
        ]
    );
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("dropped eu-west-101/eu-west-101@tenant-b: eu-tmp")
            && stderr.contains("its project is no longer in the config file"),
        "{stderr}"
    );

    // Bound to its projects: another endpoint is refused before any call.
    let requests = all_requests(&sim);
    let out = run(
        &sim,
        dir.path(),
        &[
            "apply",
            "announcement.json",
            "--endpoint",
            "http://127.0.0.1:9",
        ],
    );
    assert_exit(&out, 1);
    assert!(
        stderr_of(&out).contains("is for endpoint"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(all_requests(&sim), requests, "{}", stderr_of(&out));
}

/// Asserts that `doc` follows `poolform schema --for WHAT`.
#[track_caller]
fn follows_schema(what: &str, doc: &Value) {
    let out = poolform_bare()
        .args(["schema", "--for", what])
        .output()
        .unwrap();
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{what}: {errors:?}\n{doc}");
}

#[test]
fn plans_reports_and_events_of_time_follow_their_schemas() {
    let (sim, clock) = frozen_sim(boundary_pools(), T0);
    let dir = tempfile::tempdir().unwrap();
    let config = scope_file(dir.path(), BOUNDARY_CONFIG);
    let plan = plan_json(&sim, &config);
    follows_schema("plan", &plan);
    let out = announce(&sim, dir.path(), "1d");
    assert_exit(&out, 0);
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("announcement.json")).unwrap(),
    )
    .unwrap();
    follows_schema("plan", &saved);
    sim.remove_pool("old-1");
    clock.freeze(at("2026-12-02T12:00:00Z"));
    let out = apply_announcement(&sim, dir.path(), &[]);
    assert_exit(&out, 0);
    let report = report_of(&out);
    assert_eq!(
        report["announcement"]["dropped"][0]["reason"],
        "gone_before_apply"
    );
    follows_schema("report", &report);
    // The events: a second announcement, applied as jsonl.
    let out = announce(&sim, dir.path(), "1d");
    assert_exit(&out, 0);
    // lab-young is old enough now, and announced; gone before the apply.
    sim.remove_pool("young-1");
    clock.freeze(at("2026-12-03T12:00:00Z"));
    let mut cmd = poolform(&sim);
    cmd.args(["apply", "announcement.json", "--format", "jsonl"]);
    let out = cmd.current_dir(dir.path()).output().unwrap();
    assert_exit(&out, 0);
    let mut kinds = std::collections::BTreeSet::new();
    for line in stdout_of(&out).lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        kinds.insert(event["type"].as_str().unwrap().to_owned());
        follows_schema("events", &event);
    }
    assert!(
        kinds.contains("dropped") && kinds.contains("planned"),
        "{kinds:?}"
    );
}

#[test]
fn a_date_header_that_does_not_parse_is_refused_before_any_delete() {
    let (sim, clock) = frozen_sim(boundary_pools(), T0);
    let dir = tempfile::tempdir().unwrap();
    let config = scope_file(dir.path(), BOUNDARY_CONFIG);
    for text in ["yesterday", "1733043600", "Sun, 32 Dec 2026 09:00:00 GMT"] {
        clock.serve_date_text(Some(text.to_owned()));
        for command in ["plan", "apply"] {
            let out = poolform(&sim)
                .arg(command)
                .args(["--auto-approve"].iter().filter(|_| command == "apply"))
                .arg("-f")
                .arg(&config)
                .output()
                .unwrap();
            assert_refused(
                &out,
                &sim,
                &[&format!("its Date header \"{text}\" is not an HTTP date (time rules are judged by the API's clock)")],
            );
        }
    }
}
