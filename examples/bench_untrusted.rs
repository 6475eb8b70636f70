//! Benchmark: the bounds that keep a hostile server or a hostile plan file from costing
//! poolform time or memory (issue 13), on poolform's real code path in a child process:
//!
//! 1. 40 DELETEs refused with ~8 MiB error bodies: peak RSS ≤ 100 MiB, JSON report ≤ 1 MiB;
//! 2. 64 MiB plan files of each shape (as many targets as fit, as many changes sharing one
//!    name, the longest strings, duplicate entries): `show` and a refused `apply` ≤ 3 s each;
//! 3. `apply --format jsonl` of 60,000 deletes: the first `step_started` within 1 s of the
//!    listing (the plan printed on stderr marks its end).
//!
//! Run: `cargo run --release --example bench_untrusted`
#![allow(clippy::too_many_lines)] // a benchmark or demo, not production code

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::*;

/// Just under the 64 MiB a plan file may hold.
const PLAN_BYTES: usize = 64 * 1024 * 1024 - 64 * 1024;

fn main() {
    serve_if_child();
    let dir = tempfile::tempdir().unwrap();
    error_bodies(dir.path());
    plan_files(dir.path());
    jsonl_first_step();
}

fn error_bodies(dir: &Path) {
    println!(
        "40 DELETEs refused with 8,000,000-byte error bodies (target: ≤ 100 MiB, report ≤ 1 MiB)"
    );
    let sim = ChildSim::start(SimSpec {
        pools: 40,
        desktops_every: Some(1),
        error_body_bytes: Some(8_000_000),
        ..SimSpec::default()
    });
    let cfg = dir.join("bodies.yaml");
    std::fs::write(&cfg, "version: 1\nscope: {name_prefix: bench-}\n").unwrap();
    let m = poolform_measured(
        &[
            "apply",
            "--endpoint",
            &sim.url,
            "--auto-approve",
            "--format",
            "json",
            "-f",
            cfg.to_str().unwrap(),
        ],
        &[("HW_AUTH_TOKEN", TOKEN), ("HW_PROJECT_ID", PROJECT)],
    );
    report("apply: 40 blocked, each body 8 MB", &m, 2, None, 100.0);
    let kib = m.stdout.len() as f64 / 1024.0;
    println!(
        "  {:<46} {kib:>8.1} KiB  {}",
        "JSON report",
        if m.stdout.len() <= 1024 * 1024 {
            "ok"
        } else {
            "OVER TARGET"
        }
    );
}

/// A plan of `n` deletes built by `change`, with `targets`, sized to just under 64 MiB by its
/// first sample.
fn plan_text(
    change: &dyn Fn(u64) -> poolform::core::plan::Change,
    target: &dyn Fn(u64) -> Option<String>,
) -> (String, u64) {
    let build = |n: u64| {
        let mut plan = bench_plan((0..n).map(change).collect());
        plan.targets = (0..n).filter_map(target).collect();
        plan.to_json()
    };
    let empty = build(0).len();
    let per = (build(1000).len() - empty) / 1000;
    let n = ((PLAN_BYTES - empty) / per.max(1)) as u64;
    (build(n), n)
}

fn plan_files(dir: &Path) {
    println!("64 MiB plan files (target: show and a refused apply ≤ 3000 ms each)");
    let cfg = dir.join("pools.yaml");
    std::fs::write(&cfg, "version: 1\nscope: {name_prefix: bench-}\n").unwrap();
    let long = "L".repeat(16 * 1024 * 1024 - 1024);
    let shapes: Vec<(&str, String, u64, i32)> = vec![
        {
            let (t, n) = plan_text(&|i| bench_change(i, &format!("bench-{i:08}")), &|i| {
                Some(workspace_sim::fixture::synthetic_id(i))
            });
            ("as many targets as fit", t, n, 0)
        },
        {
            let (t, n) = plan_text(&|i| bench_change(i, "bench-same"), &|_| None);
            ("as many changes sharing one name", t, n, 0)
        },
        {
            let plan = bench_plan((0..3).map(|i| bench_change(i, &long)).collect());
            (
                "the longest strings (3 names of 16 MiB)",
                plan.to_json(),
                3,
                0,
            )
        },
        {
            let (t, n) = plan_text(&|_| bench_change(7, "bench-dup"), &|_| None);
            ("duplicate entries", t, n, 1)
        },
    ];
    for (shape, text, n, show_exit) in shapes {
        let path = dir.join("plan.json");
        std::fs::write(&path, &text).unwrap();
        let mib = text.len() as f64 / (1024.0 * 1024.0);
        drop(text);
        let shown = poolform_measured(&["show", path.to_str().unwrap()], &[]);
        report(
            &format!("show: {shape} ({mib:.0} MiB, {n})"),
            &shown,
            show_exit,
            Some(3.0),
            f64::MAX,
        );
        // The config is not the one the plan was made from: refused on its binding.
        let applied = poolform_measured(
            &[
                "apply",
                "--endpoint",
                "http://127.0.0.1:9",
                path.to_str().unwrap(),
                "-f",
                cfg.to_str().unwrap(),
            ],
            &[("HW_AUTH_TOKEN", TOKEN), ("HW_PROJECT_ID", PROJECT)],
        );
        report(
            &format!("apply, refused: {shape}"),
            &applied,
            1,
            Some(3.0),
            f64::MAX,
        );
    }
}

fn jsonl_first_step() {
    println!("apply --format jsonl, 60,000 deletes (target: first step_started ≤ 1000 ms after the listing)");
    let sim = ChildSim::start(SimSpec {
        pools: 60_000,
        ..SimSpec::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("pools.yaml");
    std::fs::write(&cfg, "version: 1\nscope: {name_prefix: bench-}\n").unwrap();
    let started = Instant::now();
    let mut child = poolform_command(&[
        "apply",
        "--endpoint",
        &sim.url,
        "--auto-approve",
        "--format",
        "jsonl",
        "-f",
        cfg.to_str().unwrap(),
    ])
    .env("HW_AUTH_TOKEN", TOKEN)
    .env("HW_PROJECT_ID", PROJECT)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // The plan is printed on stderr as soon as the listing is judged.
    let stderr = child.stderr.take().unwrap();
    let listed = std::thread::spawn(move || {
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
    let first_step = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .find(|l| {
            l.as_ref()
                .is_ok_and(|l| l.contains("\"type\":\"step_started\""))
        })
        .map(|_| Instant::now());
    let _ = child.kill();
    let _ = child.wait();
    let listed = listed.join().unwrap();
    match (listed, first_step) {
        (Some(listed), Some(first)) => {
            let delay = first.saturating_duration_since(listed);
            println!(
                "  {:<46} listing judged after {:>6.0} ms, first step_started {:>6.0} ms later  {}",
                "60,000 deletes",
                ms(listed - started),
                ms(delay),
                if delay <= Duration::from_secs(1) {
                    "ok"
                } else {
                    "OVER TARGET"
                }
            );
        }
        other => println!("  60,000 deletes: no step_started seen ({other:?})"),
    }
}
