//! Benchmarks of `apply`, each against the simulator in a child process:
//!
//! 1. 1,000 deletable pools, 20 ms latency, no rate limit, parallelism 16: wall time and its
//!    ratio to N × latency / parallelism (target ≤ 1.2).
//! 2. 600 deletable pools behind a simulator limited to 50 requests/s, poolform given no rate
//!    hint: wall time against N / 50 s (target ≤ 1.15) and the share of answers that were 429
//!    (target ≤ 5 %). Run twice: with the gateway's usual message, which names the limit, and
//!    with a message that does not, so the limiter has only its own measurements.
//!
//! Run: `cargo run --release --example bench_apply`
#![allow(clippy::too_many_lines)] // a benchmark or demo, not production code

mod support;

use poolform::api::{ClientOptions, Deleter, ListFilter};
use poolform::apply::{self, ApplyOptions, Work};
use poolform::core::authorize;
use poolform::core::planner;
use std::time::{Duration, Instant};
use support::*;

fn main() {
    serve_if_child();
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}

struct Outcome {
    wall: Duration,
    deleted: usize,
    throttled: u64,
    delete_requests: u64,
}

async fn apply_all(spec: SimSpec, parallelism: usize) -> Outcome {
    let sim = ChildSim::start(spec);
    let client = sim.client_with(ClientOptions {
        calls_at_once: parallelism,
        ..ClientOptions::default()
    });
    let config = rules_of("version: 1\nscope: {name_prefix: bench-}\n", "bench.yaml");
    let live = client.list_pools(&ListFilter::default()).await.unwrap();
    let ctx = sim.plan_context();
    let plan = planner::plan(&config, &live, &ctx).unwrap();
    assert_eq!(plan.changes.len() as u64, spec.pools);
    // Let the simulator's bucket refill after the listing, so the apply starts as a fresh run would.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let options = ApplyOptions {
        parallelism,
        ..ApplyOptions::default()
    };
    let t = Instant::now();
    let authorized = authorize::authorize(&plan, "the plan", &config, "bench.yaml", &live).unwrap();
    let work = Work::new(
        authorized.steps,
        apply::Judge::new(config.clone(), "bench.yaml"),
    );
    let report = apply::apply(
        &Deleter::new(client.clone()),
        work,
        &options,
        std::sync::Arc::new(apply::Unobserved),
    )
    .await;
    let wall = t.elapsed();
    let state = sim.state().await;
    Outcome {
        wall,
        deleted: report.summary.deleted,
        throttled: state["responses"]["429"].as_u64().unwrap_or(0),
        delete_requests: state["requests"]["delete"].as_u64().unwrap_or(0),
    }
}

async fn run() {
    let (n, latency_ms, parallelism) = (1000u64, 20u64, 16usize);
    let o = apply_all(
        SimSpec {
            pools: n,
            latency_ms,
            ..SimSpec::default()
        },
        parallelism,
    )
    .await;
    let bound = Duration::from_millis(n * latency_ms) / parallelism as u32;
    println!("bench_apply 1: {n} deletable pools, {latency_ms} ms latency, no rate limit, parallelism {parallelism}");
    println!(
        "  deleted {} with {} DELETE requests",
        o.deleted, o.delete_requests
    );
    println!("  wall                 {:8.1} ms", ms(o.wall));
    println!("  bound N×latency/par  {:8.1} ms", ms(bound));
    println!(
        "  ratio                {:8.3}    (target ≤ 1.20)",
        o.wall.as_secs_f64() / bound.as_secs_f64()
    );

    let (n, limit) = (600u64, 50u32);
    for anonymous in [false, true] {
        let spec = SimSpec {
            pools: n,
            rate_limit: Some(limit),
            anonymous_throttle: anonymous,
            ..SimSpec::default()
        };
        let o = apply_all(spec, 8).await;
        let bound = Duration::from_secs_f64(n as f64 / f64::from(limit));
        let share = o.throttled as f64 / o.delete_requests as f64;
        println!(
            "bench_apply 2{}: {n} deletable pools, simulator limited to {limit} req/s, no rate hint{}",
            if anonymous { "b" } else { "a" },
            if anonymous { ", 429 message without the limit" } else { ", 429 message names the limit" }
        );
        println!(
            "  deleted {} with {} DELETE requests, {} answered 429",
            o.deleted, o.delete_requests, o.throttled
        );
        println!("  wall                 {:8.1} ms", ms(o.wall));
        println!("  bound N/limit        {:8.1} ms", ms(bound));
        println!(
            "  ratio                {:8.3}    (target ≤ 1.15)",
            o.wall.as_secs_f64() / bound.as_secs_f64()
        );
        println!(
            "  429 share            {:8.2} %  (target ≤ 5 %)",
            share * 100.0
        );
    }
}
