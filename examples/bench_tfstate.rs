//! Benchmark: a Terraform state just under the 64 MiB cap, with 100,000 resource instances
//! (half of them desktop pools, every one with padding attributes poolform must skip), read by
//! `poolform plan --terraform-state` in a child process. Target: under 1 s and 200 MiB. The
//! bound beside it: serde_json skipping the same bytes (`IgnoredAny`) in this process, and the
//! pure reader alone.
//!
//! Run: `cargo run --release --example bench_tfstate`
#![allow(clippy::too_many_lines)] // a benchmark or demo, not production code

mod support;

use std::fmt::Write as _;
use std::time::Instant;
use support::*;

/// Just under the 64 MiB a state file may hold.
const STATE_BYTES: usize = 64 * 1024 * 1024 - 64 * 1024;
const INSTANCES: usize = 100_000;

/// A state v4 of `INSTANCES` instances (every other one a desktop pool), padded to
/// `STATE_BYTES`.
fn state() -> String {
    let per = STATE_BYTES / INSTANCES - 215;
    let pad = "x".repeat(per);
    let mut out = String::with_capacity(STATE_BYTES + 1024);
    out.push_str("{\"version\": 4, \"terraform_version\": \"1.9.5\", \"serial\": 1, \"lineage\": \"bench\", \"outputs\": {}, \"resources\": [");
    for i in 0..INSTANCES {
        let kind = if i % 2 == 0 {
            "huaweicloud_workspace_desktop_pool"
        } else {
            "huaweicloud_vpc_subnet"
        };
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"module\": \"module.m{}\", \"mode\": \"managed\", \"type\": \"{kind}\", \"name\": \"r\", \"instances\": [{{\"index_key\": {i}, \"attributes\": {{\"id\": \"id-{i:08}\", \"description\": \"{pad}\", \"tags\": {{\"k\": \"v\"}}}}}}]}}",
            i % 50
        );
    }
    out.push_str("]}");
    out
}

fn main() {
    serve_if_child();
    let dir = tempfile::tempdir().unwrap();
    let text = state();
    let path = dir.path().join("big.tfstate");
    std::fs::write(&path, &text).unwrap();
    println!(
        "a state of {} instances, {:.1} MiB (target: read ≤ 1000 ms and ≤ 200 MiB)",
        INSTANCES,
        text.len() as f64 / 1024.0 / 1024.0
    );
    // The bounds, in this process: skipping every byte, and the pure reader.
    let start = Instant::now();
    let _: serde::de::IgnoredAny = serde_json::from_str(&text).unwrap();
    let skip = start.elapsed();
    let start = Instant::now();
    let pools = poolform::core::tfstate::managed_pools(text.as_bytes()).unwrap();
    let pure = start.elapsed();
    println!(
        "  serde_json skipping it: {:>6.0} ms; poolform's reader: {:>6.0} ms ({} pools, {:.2}x the skip)",
        skip.as_secs_f64() * 1000.0,
        pure.as_secs_f64() * 1000.0,
        pools.len(),
        pure.as_secs_f64() / skip.as_secs_f64()
    );
    drop(text);
    // The whole path: poolform plan, in a child process (its own peak RSS).
    let sim = ChildSim::start(SimSpec {
        pools: 10,
        ..SimSpec::default()
    });
    let cfg = dir.path().join_config();
    let mut walls = Vec::new();
    let mut peak = 0.0f64;
    for _ in 0..3 {
        let m = poolform_measured(
            &[
                "plan",
                "--endpoint",
                &sim.url,
                "-f",
                cfg.to_str().unwrap(),
                "--terraform-state",
                path.to_str().unwrap(),
            ],
            &[("HW_AUTH_TOKEN", TOKEN), ("HW_PROJECT_ID", PROJECT)],
        );
        assert_eq!(m.code, Some(0), "{}", String::from_utf8_lossy(&m.stderr));
        walls.push(m.wall.as_secs_f64() * 1000.0);
        peak = peak.max(m.peak_rss_mib);
    }
    walls.sort_by(f64::total_cmp);
    let median = walls[1];
    println!(
        "  poolform plan --terraform-state (whole run, median of 3): {median:>6.0} ms, peak {peak:.0} MiB  {}",
        if median <= 1000.0 && peak <= 200.0 {
            "ok"
        } else {
            "OVER TARGET"
        }
    );
}

/// The config of the run, in the state's folder.
trait ConfigIn {
    fn join_config(&self) -> std::path::PathBuf;
}

impl ConfigIn for std::path::Path {
    fn join_config(&self) -> std::path::PathBuf {
        let cfg = self.join("pools.yaml");
        std::fs::write(
            &cfg,
            "version: 1\nscope: {name_prefix: bench-}\npools: []\n",
        )
        .unwrap();
        cfg
    }
}
