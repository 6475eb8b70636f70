//! Benchmark: list 10,000 and 100,000 pools from the simulator with 20 ms latency.
//!
//! For each size it prints the client's wall time and its ratio to a raw concurrent fetch of
//! the same pages (same offsets, same concurrency, bytes only: no decode, no checks), measured
//! in the same run against the same simulator. For 10,000 pools it also prints the ratio to the
//! two-round-trip bound (2 × latency + local decode time). Peak RSS is the client's.
//! Run: `cargo run --release --example bench_list`
#![allow(clippy::too_many_lines)] // a benchmark or demo, not production code

mod support;

use poolform::api::{wire, ClientOptions, ListFilter};
use std::time::{Duration, Instant};
use support::*;
use tokio::task::JoinSet;

const LATENCY_MS: u64 = 20;
const CASES: [(u64, usize); 2] = [(10_000, 7), (100_000, 5)];
const PAGE: u64 = 1000;

fn main() {
    serve_if_child();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        for (pools, runs) in CASES {
            case(pools, runs).await;
        }
    });
}

/// The same pages the client reads: offset 0, then every 999 pools (pages overlap by one).
fn page_offsets(total: u64) -> Vec<u64> {
    (0..)
        .map(|k| k * (PAGE - 1))
        .take_while(|offset| *offset == 0 || offset + 1 < total)
        .collect()
}

async fn fetch(http: &reqwest::Client, url: &str, offset: u64) -> Vec<u8> {
    http.get(format!(
        "{url}/v2/{PROJECT}/desktop-pools?limit={PAGE}&offset={offset}"
    ))
    .header("x-auth-token", TOKEN)
    .send()
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap()
    .into()
}

/// The first page, then the rest `concurrency` at a time, bytes only.
async fn raw_fetch(http: &reqwest::Client, url: &str, total: u64, concurrency: usize) -> usize {
    let mut bytes = fetch(http, url, 0).await.len();
    let mut pending = page_offsets(total).into_iter().skip(1);
    let mut running = JoinSet::new();
    loop {
        while running.len() < concurrency {
            let Some(offset) = pending.next() else { break };
            let (http, url) = (http.clone(), url.to_owned());
            running.spawn(async move { fetch(&http, &url, offset).await.len() });
        }
        match running.join_next().await {
            Some(n) => bytes += n.unwrap(),
            None => return bytes,
        }
    }
}

async fn case(pools: u64, runs: usize) {
    let sim = ChildSim::start(SimSpec {
        pools,
        latency_ms: LATENCY_MS,
        ..SimSpec::default()
    });
    let client = sim.client();
    let concurrency = ClientOptions::default().list_concurrency;
    let http = reqwest::Client::new();

    // Local decode time of every page (each fetched outside the timing, decoded, dropped).
    let mut decode = Duration::ZERO;
    let mut decoded = 0;
    for offset in page_offsets(pools) {
        let page = fetch(&http, &sim.url, offset).await;
        let t = Instant::now();
        decoded += wire::page_from_body(&page, PAGE as usize)
            .unwrap()
            .pools
            .len();
        decode += t.elapsed();
    }
    assert!(decoded as u64 >= pools);

    // Alternate raw fetch and client listing, so drift in the machine hits both alike.
    let (mut raws, mut walls) = (Vec::new(), Vec::new());
    let mut raw_bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        raw_bytes = raw_fetch(&http, &sim.url, pools, concurrency).await;
        raws.push(t.elapsed());
        let t = Instant::now();
        let live = client.list_pools(&ListFilter::default()).await.unwrap();
        walls.push(t.elapsed());
        assert_eq!(live.len() as u64, pools);
    }
    let (raw, wall) = (median(raws), median(walls.clone()));
    println!(
        "bench_list: {pools} pools, {LATENCY_MS} ms latency, {} pages of {PAGE}, {concurrency} at once, {runs} runs",
        page_offsets(pools).len()
    );
    println!(
        "  wall (median)                {:8.1} ms   (min {:.1}, max {:.1})",
        ms(wall),
        ms(*walls.iter().min().unwrap()),
        ms(*walls.iter().max().unwrap())
    );
    println!(
        "  raw fetch, bytes only        {:8.1} ms   ({:.1} MiB)",
        ms(raw),
        raw_bytes as f64 / (1024.0 * 1024.0)
    );
    println!(
        "  ratio wall/raw fetch         {:8.2}      (target ≤ 1.30)",
        wall.as_secs_f64() / raw.as_secs_f64()
    );
    println!("  local decode, all pages      {:8.1} ms", ms(decode));
    println!(
        "  peak RSS so far (client)     {:8.1} MiB (target < 100)",
        peak_rss_mib()
    );
    if pools <= 10_000 {
        let bound = Duration::from_millis(2 * LATENCY_MS) + decode;
        println!("  bound 2×latency+decode       {:8.1} ms", ms(bound));
        println!(
            "  ratio wall/bound             {:8.2}      (target ≤ 2.00)",
            wall.as_secs_f64() / bound.as_secs_f64()
        );
    }
}
