//! Benchmark support: the simulator in a child process (so the parent's peak RSS is poolform's
//! alone), peak-RSS reading, and medians.
#![allow(dead_code)]

use poolform::api::connection::{Connection, Credentials, Secret};
use poolform::api::{Client, ClientOptions};
use poolform::core::model::ProjectId;
use poolform::core::planner::PlanContext;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use workspace_sim::{Faults, Fixture, Flood, SimAuth, SimConfig, SimServer};

pub const PROJECT: &str = "0bec5db98280d2d02fd6c00c2de791ce";
pub const TOKEN: &str = "bench-token";
const CHILD_FLAG: &str = "--sim-child";
const POOLFORM_FLAG: &str = "--poolform-child";

#[path = "../../tests/it/harness/measure.rs"]
pub mod measure;

/// What the child simulator serves.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimSpec {
    pub pools: u64,
    pub latency_ms: u64,
    pub rate_limit: Option<u32>,
    /// Every n-th pool holds desktops.
    pub desktops_every: Option<u64>,
    /// 429 messages without the limit figures.
    pub anonymous_throttle: bool,
    /// Every list request answered with this flood page.
    pub flood: Option<Flood>,
    /// Every error body's message padded to this many bytes.
    pub error_body_bytes: Option<u64>,
}

/// Call first in `main`: when this process is a child (the simulator, or poolform itself),
/// do that job and never return.
pub fn serve_if_child() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(POOLFORM_FLAG) {
        run_poolform(&args[2..]);
    }
    if args.get(1).map(String::as_str) != Some(CHILD_FLAG) {
        return;
    }
    let num = |i: usize| args.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    let spec = SimSpec {
        pools: num(2),
        latency_ms: num(3),
        rate_limit: Some(num(4) as u32).filter(|r| *r > 0),
        desktops_every: Some(num(5)).filter(|n| *n > 0),
        anonymous_throttle: num(6) == 1,
        flood: args.get(7).and_then(|s| Flood::parse(s).ok()),
        error_body_bytes: Some(num(8)).filter(|n| *n > 0),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let project = ProjectId::parse(PROJECT).unwrap();
        let mut config = SimConfig::new(Fixture::generated(
            project,
            spec.pools,
            "bench-",
            spec.desktops_every,
        ));
        config.auth = SimAuth::Token(TOKEN.into());
        config.anonymous_throttle = spec.anonymous_throttle;
        config.hostile.flood = spec.flood;
        config.hostile.error_body_bytes = spec.error_body_bytes.map(|n| n as usize);
        config.faults = Faults {
            latency: Duration::from_millis(spec.latency_ms),
            rate_limit: spec.rate_limit,
            ..Faults::default()
        };
        let server = SimServer::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        println!("{}{}", workspace_sim::LISTENING_PREFIX, server.url());
        // Serve until the parent goes away (its end of stdin closes).
        tokio::task::spawn_blocking(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        })
        .await
        .unwrap();
    });
    std::process::exit(0);
}

/// Runs poolform's command line in this process (a child of the benchmark), as the binary
/// does, and exits with its code.
fn run_poolform(args: &[String]) -> ! {
    use clap::Parser;
    let argv = std::iter::once("poolform".to_owned()).chain(args.iter().cloned());
    let cli = poolform::cli::args::Cli::parse_from(argv);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let code = match runtime.block_on(poolform::cli::run(cli.command, &cli.global)) {
        Ok(exit) => exit.exit_code(),
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    // This process's own high-water mark (wait4's figure also counts the parent's memory at
    // fork, which Linux carries across exec).
    if let Ok(path) = std::env::var("BENCH_PEAK_FILE") {
        let _ = std::fs::write(path, format!("{}", peak_rss_mib()));
    }
    std::process::exit(i32::from(code));
}

/// Poolform (this program as a child) with `args`, not yet started.
pub fn poolform_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.arg(POOLFORM_FLAG).args(args).env_clear();
    cmd
}

/// Runs poolform (this program as a child) with `args` and `env`, measuring its peak RSS
/// (its own high-water mark).
pub fn poolform_measured(args: &[&str], env: &[(&str, &str)]) -> measure::Measured {
    let peak = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.arg(POOLFORM_FLAG)
        .args(args)
        .env_clear()
        .env("BENCH_PEAK_FILE", peak.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut m = measure::run_measured(&mut cmd);
    if let Ok(text) = std::fs::read_to_string(peak.path()) {
        if let Ok(mib) = text.trim().parse::<f64>() {
            m.peak_rss_mib = mib;
        }
    }
    m
}

/// The simulator, running in a child process; ends with this value.
pub struct ChildSim {
    child: Child,
    pub url: String,
}

impl ChildSim {
    pub fn start(spec: SimSpec) -> ChildSim {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                CHILD_FLAG.to_owned(),
                spec.pools.to_string(),
                spec.latency_ms.to_string(),
                spec.rate_limit.unwrap_or(0).to_string(),
                spec.desktops_every.unwrap_or(0).to_string(),
                u8::from(spec.anonymous_throttle).to_string(),
                match spec.flood {
                    Some(Flood::Tags) => "tags",
                    Some(Flood::Names) => "names",
                    Some(Flood::Values) => "values",
                    None => "-",
                }
                .to_owned(),
                spec.error_body_bytes.unwrap_or(0).to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the simulator child");
        let url = workspace_sim::read_listening_line(child.stdout.take().unwrap())
            .expect("the listening line");
        ChildSim { child, url }
    }

    /// A client for the simulator, with its token.
    pub fn client(&self) -> Client {
        self.client_with(ClientOptions::default())
    }

    /// [`ChildSim::client`] with `options`.
    pub fn client_with(&self, options: ClientOptions) -> Client {
        let connection = Connection {
            endpoint: self.url.parse().unwrap(),
            project_id: ProjectId::parse(PROJECT).unwrap(),
            credentials: Credentials::Token(Secret::new(TOKEN)),
            iam_endpoint: None,
            identity: poolform::core::plan::Identity::token("HW_AUTH_TOKEN", "HW_PROJECT_ID"),
        };
        Client::new(connection, options).unwrap()
    }

    /// What the planner needs to plan against this simulator.
    pub fn plan_context(&self) -> PlanContext {
        PlanContext {
            label: None,
            project_id: ProjectId::parse(PROJECT).unwrap(),
            endpoint: self.url.clone(),
            identity: poolform::core::plan::Identity::token("HW_AUTH_TOKEN", "HW_PROJECT_ID"),
        }
    }

    /// The simulator's `/__sim/state`.
    pub async fn state(&self) -> serde_json::Value {
        let body = reqwest::get(format!("{}/__sim/state", self.url))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        serde_json::from_slice(&body).unwrap()
    }
}

impl Drop for ChildSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Peak resident set size of this process, in MiB (Linux; 0 elsewhere).
pub fn peak_rss_mib() -> f64 {
    measure::status_mib("VmHWM:")
}

pub fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One line of figures; `exit` is the exit code the case must end with.
pub fn report(what: &str, m: &measure::Measured, exit: i32, max_s: Option<f64>, max_mib: f64) {
    let secs = m.wall.as_secs_f64();
    let within = secs <= max_s.unwrap_or(f64::MAX) && m.peak_rss_mib <= max_mib;
    println!(
        "  {what:<46} exit {:>3}  {:>7.0} ms  {:>6.1} MiB  {}",
        m.code.map_or("sig".to_owned(), |c| c.to_string()),
        secs * 1000.0,
        m.peak_rss_mib,
        match (m.code == Some(exit), within) {
            (false, _) => format!(
                "WRONG EXIT (want {exit}): {}",
                String::from_utf8_lossy(&m.stderr).trim()
            ),
            (true, true) => "ok".to_owned(),
            (true, false) => "OVER TARGET".to_owned(),
        }
    );
}

/// A planned delete of synthetic pool `i`, named `name`, as a plan file holds it.
pub fn bench_change(i: u64, name: &str) -> poolform::core::plan::Change {
    use poolform::core::model::{Pool, PoolId, PoolRef};
    let mut p = Pool::new(
        PoolId::parse(&workspace_sim::fixture::synthetic_id(i)).unwrap(),
        name,
    );
    p.pool_type = Some("DYNAMIC".into());
    p.status = Some("STEADY".into());
    p.created_time = Some("2026-01-05T08:00:00.000Z".into());
    p.enterprise_project_id = Some("0".into());
    let pool = PoolRef::of(&p);
    poolform::core::plan::Change {
        action: poolform::core::plan::Action::Delete,
        fingerprint: pool.fingerprint(),
        pool,
        likely_blocked: false,
        reason: poolform::core::plan::Reason::NotInConfig,
        expired: None,
    }
}

/// A whole plan of `changes` in one project, self-consistent, as `plan -o` writes one.
pub fn bench_plan(changes: Vec<poolform::core::plan::Change>) -> poolform::core::plan::Plan {
    use poolform::core::plan::{Made, Plan, ProjectPlan, Summary};
    let part = ProjectPlan {
        label: None,
        project_id: ProjectId::parse(PROJECT).unwrap(),
        endpoint: "http://127.0.0.1:9".into(),
        identity: poolform::core::plan::Identity::token("HW_AUTH_TOKEN", "HW_PROJECT_ID"),
        clock: None,
        in_scope: changes.len(),
        summary: Summary::count(&changes, &[], 0),
        changes,
        findings: Vec::new(),
    };
    let made = Made {
        created_at: "2026-11-28T00:00:00Z".into(),
        source: "pools.yaml".into(),
        config_sha256: "0".repeat(64),
    };
    Plan::new(made, Vec::new(), vec![part], Vec::new())
}

/// The rules of a file of one project.
pub fn rules_of(text: &str, source: &str) -> poolform::core::rules::Rules {
    let config = poolform::core::config::parse(text, source).unwrap();
    poolform::core::projects::the_one(&config).unwrap().rules
}

/// A project's part as a whole plan of one project (to render or save).
pub fn whole(part: poolform::core::plan::ProjectPlan, source: &str) -> poolform::core::plan::Plan {
    let made = poolform::core::plan::Made {
        created_at: "2026-11-27T12:00:00Z".into(),
        source: source.into(),
        config_sha256: "0".repeat(64),
    };
    poolform::core::plan::Plan::new(made, Vec::new(), vec![part], Vec::new())
}
