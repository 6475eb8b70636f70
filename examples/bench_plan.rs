//! Benchmark: plan against 10,000 live pools with a 5,000-entry config.
//!
//! Times, in the same run (medians): list only; list + plan + render the human plan (what the
//! target is about: planning and rendering add at most 10 %); and the whole `plan -o` path
//! (parse the config, list, plan, render human and JSON). Prints the ratios to list-only and
//! peak RSS (target < 150 MiB). Run: `cargo run --release --example bench_plan`; with
//! `BENCH_PARTS=1` it also times parsing, planning and each renderer alone.
#![allow(clippy::too_many_lines)] // a benchmark or demo, not production code

mod support;

use poolform::api::ListFilter;
use poolform::cli::render::{self, Format, View};
use poolform::core::planner;
use std::fmt::Write as _;
use std::time::Instant;
use support::*;
use workspace_sim::fixture::synthetic_id;

const POOLS: u64 = 10_000;
const ENTRIES: u64 = 5_000;
const LATENCY_MS: u64 = 20;
const RUNS: usize = 21;

fn main() {
    serve_if_child();
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}

/// 4,000 entries by id (with the right name), 1,000 by name; the rest of the live pools are
/// planned for deletion; every 50th of them holds desktops.
fn config_text() -> String {
    let mut y =
        String::from("version: 1\nscope: {name_prefix: bench-}\nmax_deletes: 10000\npools:\n");
    for i in 0..ENTRIES {
        if i < 4_000 {
            let _ = writeln!(y, "  - id: {}\n    name: bench-{i:05}", synthetic_id(i));
        } else {
            let _ = writeln!(y, "  - name: bench-{i:05}");
        }
    }
    y.push_str("protect:\n  - name: \"bench-099*\"\n");
    y
}

async fn run() {
    let sim = ChildSim::start(SimSpec {
        pools: POOLS,
        latency_ms: LATENCY_MS,
        desktops_every: Some(50),
        ..SimSpec::default()
    });
    let client = sim.client();
    let text = config_text();
    let ctx = sim.plan_context();
    let (mut lists, mut plans, mut wholes, mut work) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let parsed = rules_of(&text, "pools.yaml");
    let mut last = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let live = client.list_pools(&ListFilter::default()).await.unwrap();
        lists.push(t.elapsed());
        assert_eq!(live.len() as u64, POOLS);

        let t = Instant::now();
        let live = client.list_pools(&ListFilter::default()).await.unwrap();
        let listed = t.elapsed();
        let plan = support::whole(planner::plan(&parsed, &live, &ctx).unwrap(), "pools.yaml");
        let human = render::plan(&plan, Format::Human, &View::PLAIN);
        plans.push(t.elapsed());
        work.push(t.elapsed() - listed);
        drop(human);

        let t = Instant::now();
        let config = rules_of(&text, "pools.yaml");
        let live = client.list_pools(&ListFilter::default()).await.unwrap();
        let plan = support::whole(planner::plan(&config, &live, &ctx).unwrap(), "pools.yaml");
        let human = render::plan(&plan, Format::Human, &View::PLAIN);
        let json = render::plan(&plan, Format::Json, &View::PLAIN);
        wholes.push(t.elapsed());
        last = Some((plan.summary, human.len(), json.len()));
    }
    let (summary, human_len, json_len) = last.unwrap();
    let (list, plan, whole, work) = (median(lists), median(plans), median(wholes), median(work));
    println!("bench_plan: {POOLS} live pools, {ENTRIES}-entry config, {LATENCY_MS} ms latency, {RUNS} runs (medians)");
    println!(
        "  plan: {} to delete ({} likely blocked), {} protected, {} unchanged; human {human_len} B, JSON {json_len} B",
        summary.delete, summary.likely_blocked, summary.protected, summary.unchanged
    );
    println!(
        "  list only                              {:8.1} ms",
        ms(list)
    );
    println!(
        "  list + plan + render human             {:8.1} ms",
        ms(plan)
    );
    println!(
        "  ratio (planning and rendering)         {:8.3}    (target ≤ 1.10)",
        plan.as_secs_f64() / list.as_secs_f64()
    );
    println!(
        "  plan + render human alone              {:8.1} ms",
        ms(work)
    );
    println!(
        "  ratio (1 + that / list only)           {:8.3}    (the same, without network noise)",
        1.0 + work.as_secs_f64() / list.as_secs_f64()
    );
    println!(
        "  parse + list + plan + human + JSON     {:8.1} ms",
        ms(whole)
    );
    println!(
        "  ratio (the whole `plan -o` path)       {:8.3}",
        whole.as_secs_f64() / list.as_secs_f64()
    );
    println!(
        "  peak RSS (poolform side)               {:8.1} MiB (target < 150)",
        peak_rss_mib()
    );
    if std::env::var("BENCH_PARTS").is_ok() {
        let live = client.list_pools(&ListFilter::default()).await.unwrap();
        let t = Instant::now();
        let config = rules_of(&text, "pools.yaml");
        let parse = t.elapsed();
        let t = Instant::now();
        let plan = support::whole(planner::plan(&config, &live, &ctx).unwrap(), "pools.yaml");
        let planning = t.elapsed();
        let t = Instant::now();
        let _h = render::plan(&plan, Format::Human, &View::PLAIN);
        let human = t.elapsed();
        let t = Instant::now();
        let _j = render::plan(&plan, Format::Json, &View::PLAIN);
        let json = t.elapsed();
        println!(
            "  parts: parse {:.1} ms, plan {:.1} ms, human {:.1} ms, json {:.1} ms",
            ms(parse),
            ms(planning),
            ms(human),
            ms(json)
        );
    }
}
