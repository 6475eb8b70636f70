//! Benchmark: list 10,000 pools from the simulator with 20 ms latency.
//!
//! Prints wall time, its ratio to the two-round-trip bound (first page, then all the rest in
//! parallel: 2 × latency + local decode time, measured in this run), and peak RSS.
//! Run: `cargo run --release --example bench_list`

mod support;

use poolform::api::{wire, ListFilter};
use std::time::{Duration, Instant};
use support::*;

const POOLS: u64 = 10_000;
const LATENCY_MS: u64 = 20;
const RUNS: usize = 5;

fn main() {
    serve_if_child();
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}

async fn run() {
    let sim = ChildSim::start(SimSpec {
        pools: POOLS,
        latency_ms: LATENCY_MS,
        ..SimSpec::default()
    });
    let client = sim.client();

    // Local decode time: fetch the raw pages once (outside the timing), then decode them here.
    let http = reqwest::Client::new();
    let mut pages = Vec::new();
    for offset in (0..POOLS).step_by(1000) {
        let url = format!(
            "{}/v2/{PROJECT}/desktop-pools?limit=1000&offset={offset}",
            sim.url
        );
        pages.push(
            http.get(url)
                .header("x-auth-token", TOKEN)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap(),
        );
    }
    let mut decode_times = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let n: usize = pages
            .iter()
            .map(|p| wire::page_from_body(p, 1000).unwrap().pools.len())
            .sum();
        assert_eq!(n as u64, POOLS);
        decode_times.push(t.elapsed());
    }
    drop(pages);
    let decode = median(decode_times);

    let mut walls = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let live = client.list_pools(&ListFilter::default()).await.unwrap();
        walls.push(t.elapsed());
        assert_eq!(live.len() as u64, POOLS);
    }
    let wall = median(walls.clone());
    let bound = Duration::from_millis(2 * LATENCY_MS) + decode;
    println!("bench_list: {POOLS} pools, {LATENCY_MS} ms latency, {RUNS} runs");
    println!(
        "  wall (median)          {:8.1} ms   (min {:.1}, max {:.1})",
        ms(wall),
        ms(*walls.iter().min().unwrap()),
        ms(*walls.iter().max().unwrap())
    );
    println!("  local decode           {:8.1} ms", ms(decode));
    println!("  bound 2×latency+decode {:8.1} ms", ms(bound));
    println!(
        "  ratio wall/bound       {:8.2}     (target ≤ 2.00)",
        wall.as_secs_f64() / bound.as_secs_f64()
    );
    println!(
        "  peak RSS (client)      {:8.1} MiB (target < 100)",
        peak_rss_mib()
    );
}
