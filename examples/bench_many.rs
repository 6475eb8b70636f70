//! Benchmark: many projects in one file, measured side by side in one run against one
//! simulator of many projects (in a child process), poolform in a child process too:
//!
//! 1. plan 20 projects × 500 pools (20 ms latency): wall time ≤ 3× a single-project plan of
//!    500 pools, and ≥ 8× faster than 20 single-project runs one after another;
//! 2. apply 20 projects × 50 deletes with one project throttled at 5 requests/s: the other 19
//!    finish within 1.2× of their time when nothing is throttled;
//! 3. peak memory of a plan of 100 projects × 1,000 pools ≤ 150 MB.
//!
//! Run: `cargo run --release --example bench_many`
#![allow(clippy::too_many_lines)] // a benchmark or demo, not production code

mod support;

use poolform::core::model::ProjectId;
use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;
use workspace_sim::multi::{MultiFixture, ProjectDef};
use workspace_sim::{Faults, Fixture, SimConfig, SimServer};

const MULTI_FLAG: &str = "--multi-sim-child";

fn project_id(i: usize) -> String {
    format!("{:032x}", i + 1)
}

fn main() {
    serve_multi_if_child();
    serve_if_child();
    let dir = tempfile::tempdir().unwrap();
    plan_20x500(dir.path());
    apply_throttled(dir.path());
    memory_100x1000(dir.path());
}

/// The child: `MULTI_FLAG PROJECTS POOLS LATENCY_MS THROTTLED_RATE` (rate 0: none), serving
/// until its stdin closes.
fn serve_multi_if_child() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some(MULTI_FLAG) {
        return;
    }
    let num = |i: usize| args.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    let (projects, pools, latency, throttled) = (num(2) as usize, num(3), num(4), num(5));
    let defs = (0..projects)
        .map(|i| ProjectDef {
            project_id: project_id(i),
            name: format!("cn-north-4_p{i:03}"),
            region: "cn-north-4".into(),
            domain: None,
            rate_limit: (i == 0 && throttled > 0).then_some(throttled as u32),
            fail_list: None,
            fixture: Fixture::generated(
                ProjectId::parse(&project_id(i)).unwrap(),
                pools,
                "gen-",
                None,
            ),
        })
        .collect();
    let fixture = MultiFixture {
        accounts: Vec::new(),
        agencies: Vec::new(),
        projects: defs,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut base = SimConfig::new(fixture.projects[0].fixture.clone());
        base.faults = Faults {
            latency: Duration::from_millis(latency),
            ..Faults::default()
        };
        let server = SimServer::start_multi(base, fixture, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        println!("{}{}", workspace_sim::LISTENING_PREFIX, server.url());
        tokio::task::spawn_blocking(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        })
        .await
        .unwrap();
    });
    std::process::exit(0);
}

struct MultiSim {
    child: Child,
    url: String,
}

impl MultiSim {
    fn start(projects: usize, pools: u64, latency_ms: u64, throttled: u64) -> MultiSim {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                MULTI_FLAG.to_owned(),
                projects.to_string(),
                pools.to_string(),
                latency_ms.to_string(),
                throttled.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let url = workspace_sim::read_listening_line(child.stdout.take().unwrap()).unwrap();
        MultiSim { child, url }
    }

    /// `/__sim/state`.
    fn state(&self) -> serde_json::Value {
        let rest = self.url.strip_prefix("http://").unwrap();
        let mut sock = std::net::TcpStream::connect(rest).unwrap();
        use std::io::Write;
        write!(sock, "GET /__sim/state HTTP/1.0\r\nHost: {rest}\r\n\r\n").unwrap();
        let mut response = String::new();
        sock.read_to_string(&mut response).unwrap();
        serde_json::from_str(response.split_once("\r\n\r\n").unwrap().1).unwrap()
    }
}

impl Drop for MultiSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A file of `projects` projects keeping the first `keep` generated pools of each.
fn many_file(dir: &Path, name: &str, projects: std::ops::Range<usize>, keep: u64) -> String {
    let mut y = String::from("version: 1\nprojects:\n");
    for i in projects {
        let _ = writeln!(
            y,
            "  - region: cn-north-4\n    project_id: {}\n    scope: {{name_prefix: gen-}}\n    pools:",
            project_id(i)
        );
        for p in 0..keep {
            let _ = writeln!(y, "      - name: gen-{p:05}");
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, y).unwrap();
    path.display().to_string()
}

/// A single-project file for project `i`.
fn single_file(dir: &Path, i: usize, keep: u64) -> String {
    let mut y = format!(
        "version: 1\nproject_id: {}\nregion: cn-north-4\nscope: {{name_prefix: gen-}}\nmax_deletes: 100000\npools:\n",
        project_id(i)
    );
    for p in 0..keep {
        let _ = writeln!(y, "  - name: gen-{p:05}");
    }
    let path = dir.join(format!("single-{i}.yaml"));
    std::fs::write(&path, y).unwrap();
    path.display().to_string()
}

const ENV: &[(&str, &str)] = &[("HW_AUTH_TOKEN", "bench-token")];

fn plan_20x500(dir: &Path) {
    println!("plan 20 projects × 500 pools, 20 ms latency (targets: ≤ 3× one project; ≥ 8× faster than 20 runs in a row)");
    let sim = MultiSim::start(20, 500, 20, 0);
    let many = many_file(dir, "many.yaml", 0..20, 250);
    let singles: Vec<String> = (0..20).map(|i| single_file(dir, i, 250)).collect();
    let (mut many_t, mut one_t, mut row_t, mut raw_t) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    for _ in 0..3 {
        // The floor: the 20 projects' pages fetched at once, bytes only (no decoding), from
        // the simulator sharing this machine's cores.
        let started = Instant::now();
        runtime.block_on(raw_fetch(&http, &sim.url, 20));
        raw_t.push(started.elapsed());
        let m = poolform_measured(
            &[
                "plan",
                "-f",
                &many,
                "--endpoint",
                &sim.url,
                "--format",
                "json",
            ],
            ENV,
        );
        assert_eq!(m.code, Some(0), "{}", String::from_utf8_lossy(&m.stderr));
        many_t.push(m.wall);
        let m = poolform_measured(
            &[
                "plan",
                "-f",
                &singles[0],
                "--endpoint",
                &sim.url,
                "--format",
                "json",
            ],
            ENV,
        );
        assert_eq!(m.code, Some(0), "{}", String::from_utf8_lossy(&m.stderr));
        one_t.push(m.wall);
        let started = Instant::now();
        for s in &singles {
            let m = poolform_measured(
                &["plan", "-f", s, "--endpoint", &sim.url, "--format", "json"],
                ENV,
            );
            assert_eq!(m.code, Some(0));
        }
        row_t.push(started.elapsed());
    }
    let (many, one, row, raw) = (median(many_t), median(one_t), median(row_t), median(raw_t));
    println!(
        "  20 projects in one run {:>7.0} ms | one project {:>6.0} ms (ratio {:.2}, bound 3) | 20 runs in a row {:>7.0} ms ({:.1}× slower, bound ≥ 8)",
        ms(many),
        ms(one),
        many.as_secs_f64() / one.as_secs_f64(),
        ms(row),
        row.as_secs_f64() / many.as_secs_f64()
    );
    println!(
        "  the 20 pages fetched at once, bytes only (the floor the simulator sets) {:>6.0} ms: the 20-project plan is {:.2}× that",
        ms(raw),
        many.as_secs_f64() / raw.as_secs_f64()
    );
}

/// Fetches the first page (all 500 pools) of each of `projects` projects at once.
async fn raw_fetch(http: &reqwest::Client, url: &str, projects: usize) -> usize {
    let mut running = tokio::task::JoinSet::new();
    for i in 0..projects {
        let (http, page) = (
            http.clone(),
            format!(
                "{url}/v2/{}/desktop-pools?offset=0&limit=1000",
                project_id(i)
            ),
        );
        running.spawn(async move {
            let answer = http
                .get(&page)
                .header("X-Auth-Token", "bench-token")
                .send()
                .await
                .unwrap();
            answer.bytes().await.unwrap().len()
        });
    }
    let mut bytes = 0;
    while let Some(n) = running.join_next().await {
        bytes += n.unwrap();
    }
    bytes
}

/// Runs an apply of every project and returns, from the simulator's state polled every
/// 20 ms, when the projects other than the first had all their planned pools gone.
fn others_done(dir: &Path, throttled: u64) -> Duration {
    let sim = MultiSim::start(20, 100, 20, throttled);
    let file = many_file(dir, "apply.yaml", 0..20, 50);
    let started = Instant::now();
    let mut child = poolform_command(&[
        "apply",
        "-f",
        &file,
        "--endpoint",
        &sim.url,
        "--auto-approve",
        "--parallelism",
        "40",
        "--format",
        "json",
    ])
    .env("HW_AUTH_TOKEN", "bench-token")
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut done = None;
    loop {
        let state = sim.state();
        let others: u64 = (1..20)
            .map(|i| {
                state["projects"][project_id(i)]["deleted"]
                    .as_array()
                    .map_or(0, |d| d.len() as u64)
            })
            .sum();
        if others >= 19 * 50 && done.is_none() {
            done = Some(started.elapsed());
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success() || throttled > 0, "apply ended {status}");
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done.unwrap_or_else(|| started.elapsed())
}

fn apply_throttled(dir: &Path) {
    println!("apply 20 projects × 50 deletes, one throttled at 5 req/s (target: the other 19 within 1.2× of unthrottled)");
    let free = others_done(dir, 0);
    let throttled = others_done(dir, 5);
    println!(
        "  the other 19, nothing throttled {:>6.0} ms | one project throttled {:>6.0} ms (ratio {:.2}, bound 1.2)",
        ms(free),
        ms(throttled),
        throttled.as_secs_f64() / free.as_secs_f64()
    );
}

fn memory_100x1000(dir: &Path) {
    println!("plan 100 projects × 1,000 pools (target: ≤ 150 MB peak)");
    let sim = MultiSim::start(100, 1000, 0, 0);
    let file = many_file(dir, "big.yaml", 0..100, 500);
    let m = poolform_measured(
        &[
            "plan",
            "-f",
            &file,
            "--endpoint",
            &sim.url,
            "-o",
            &dir.join("big.json").display().to_string(),
        ],
        ENV,
    );
    report(
        "plan -o, 100 × 1,000 pools (50,000 deletes)",
        &m,
        0,
        None,
        150.0,
    );
}
