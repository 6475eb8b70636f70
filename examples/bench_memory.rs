//! Benchmark: what hostile or merely large input costs poolform, measured on poolform's real
//! code path in a child process (peak RSS from `wait4`, wall time), against the targets:
//!
//! 1. configs up to the 8 MiB cap (alias bombs, deep nesting, the most values allowed):
//!    accepted or refused within 1 s, under 200 MB;
//! 2. a hostile list page within the 8 MiB cap, served for every page: ≤ 300 MB;
//! 3. a 64 MiB plan file, shown: ≤ 3× its size;
//! 4. `plan -o` of 100,000 pools against a 50,000-entry config: ≤ 100 MB.
//!
//! Run: `cargo run --release --example bench_memory`
#![allow(clippy::too_many_lines)] // a benchmark or demo, not production code

mod support;

use std::fmt::Write as _;
use std::path::Path;
use support::*;
use workspace_sim::Flood;

fn main() {
    serve_if_child();
    let dir = tempfile::tempdir().unwrap();
    configs(dir.path());
    hostile_page();
    plan_file(dir.path());
    plan_100k(dir.path());
}

fn configs(dir: &Path) {
    println!("configs (target: ≤ 1000 ms, ≤ 200 MiB each)");
    let mut files: Vec<(&str, String, i32)> = Vec::new();
    let mut bomb = format!("a: &big \"{}\"\nlist:\n", "x".repeat(1024 * 1024));
    while bomb.len() < 7_700_000 {
        bomb.push_str("  - *big\n");
    }
    files.push(("1 MiB scalar aliased ~750,000 times (7.7 MB)", bomb, 1));
    let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        let _ = writeln!(
            laughs,
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]"
        );
    }
    files.push(("billion laughs", laughs, 1));
    files.push((
        "40,000 levels of nesting",
        format!("{}{}", "[".repeat(40_000), "]".repeat(40_000)),
        1,
    ));
    files.push((
        "500,000 levels of nesting (1 MB)",
        format!("{}{}", "[".repeat(500_000), "]".repeat(500_000)),
        1,
    ));
    let mut most = String::from("version: 1\npools:\n");
    for i in 0..166_000 {
        let _ = writeln!(most, "  - {{id: a{i}}}");
    }
    files.push(("166,000 entries (just under the value budget)", most, 0));
    let mut over = String::from("version: 1\npools:\n");
    let mut i = 0;
    while over.len() < 8 * 1024 * 1024 - 64 {
        let _ = writeln!(over, "  - {{id: a{i}}}");
        i += 1;
    }
    files.push(("8 MiB of entries (over the value budget)", over, 1));
    let mut scalars = String::from("version: 1\npools: [{id: a}]\nx: [");
    scalars.push_str(&vec!["1"; 499_000].join(","));
    scalars.push_str("]\n");
    files.push(("499,000 tiny scalars", scalars, 1));
    for (what, text, exit) in files {
        let path = dir.join("pools.yaml");
        std::fs::write(&path, text).unwrap();
        let m = poolform_measured(&["validate", "-f", path.to_str().unwrap()], &[]);
        report(what, &m, exit, Some(1.0), 200.0);
    }
}

fn hostile_page() {
    println!("hostile list pages within the 8 MiB cap, served for every page (target: ≤ 300 MiB)");
    for (what, flood) in [
        ("1,000 pools x 64 tags with unique keys", Flood::Tags),
        ("1,000 pools with 8 KiB unique names", Flood::Names),
        ("8 MiB of tiny values in an unknown field", Flood::Values),
    ] {
        let sim = ChildSim::start(SimSpec {
            flood: Some(flood),
            ..SimSpec::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("pools.yaml");
        std::fs::write(&cfg, "version: 1\nscope: {name_prefix: ci-}\n").unwrap();
        let m = poolform_measured(
            &["plan", "--endpoint", &sim.url, "-f", cfg.to_str().unwrap()],
            &[("HW_AUTH_TOKEN", TOKEN), ("HW_PROJECT_ID", PROJECT)],
        );
        report(what, &m, 1, None, 300.0);
    }
}

fn plan_file(dir: &Path) {
    println!("a 64 MiB plan file (target: ≤ 3x its size)");
    let change = |i: u64| bench_change(i, &format!("bench-{i:08}"));
    let plan_of = bench_plan;
    // The size of one change as the plan file spells it, from a sample; then just enough
    // changes for 64 MiB.
    // Just under the 64 MiB a plan file may hold.
    const TARGET: usize = 64 * 1024 * 1024 - 64 * 1024;
    let sample = plan_of((0..1000).map(change).collect()).to_json().len();
    let empty = plan_of(Vec::new()).to_json().len();
    let n = (TARGET - empty).div_ceil((sample - empty) / 1000) as u64;
    let plan = plan_of((0..n).map(change).collect());
    let i = n;
    let text = plan.to_json();
    let path = dir.join("plan.json");
    std::fs::write(&path, &text).unwrap();
    let mib = text.len() as f64 / (1024.0 * 1024.0);
    drop(text);
    for format in ["json", "human"] {
        let m = poolform_measured(&["show", "--format", format, path.to_str().unwrap()], &[]);
        let what = format!("show --format {format} ({mib:.0} MiB, {i} pools)");
        report(&what, &m, 0, None, 3.0 * mib);
    }
}

fn plan_100k(dir: &Path) {
    println!("plan -o: 100,000 live pools, 50,000-entry config (target: ≤ 100 MiB)");
    let sim = ChildSim::start(SimSpec {
        pools: 100_000,
        desktops_every: Some(50),
        ..SimSpec::default()
    });
    let mut y = String::from("version: 1\nscope: {name_prefix: bench-}\npools:\n");
    for i in 0..50_000u64 {
        if i < 4_000 {
            let _ = writeln!(
                y,
                "  - id: {}\n    name: bench-{i:05}",
                workspace_sim::fixture::synthetic_id(i)
            );
        } else {
            let _ = writeln!(y, "  - name: bench-{i:05}");
        }
    }
    let cfg = dir.join("big.yaml");
    std::fs::write(&cfg, y).unwrap();
    let out = dir.join("plan.json");
    for (what, args) in [
        (
            "plan (human to stdout)",
            vec!["plan", "--endpoint", &sim.url, "-f", cfg.to_str().unwrap()],
        ),
        (
            "plan -o plan.json",
            vec![
                "plan",
                "--endpoint",
                &sim.url,
                "-f",
                cfg.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ],
        ),
    ] {
        let m = poolform_measured(
            &args,
            &[("HW_AUTH_TOKEN", TOKEN), ("HW_PROJECT_ID", PROJECT)],
        );
        report(what, &m, 0, None, 100.0);
    }
}
