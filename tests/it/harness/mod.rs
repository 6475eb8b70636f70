//! The one harness every black-box test uses: start a simulator (in process or as the
//! binary), run `poolform` against it, and look at the exit code, stdout and stderr together;
//! fixtures, files, the DELETEs the simulator saw, and a real terminal.
#![allow(dead_code)]

pub mod measure;
pub mod projects;
pub mod release;
pub mod terminal;

use poolform::api::connection::{Connection, Credentials, Secret};
use poolform::api::{Client, ClientOptions};
use poolform::core::model::ProjectId;
use serde_json::{json, Value};
use workspace_sim::{Fixture, SimAuth, SimConfig, SimServer};

pub const PROJECT: &str = "0bec5db98280d2d02fd6c00c2de791ce";
pub const TOKEN: &str = "test-token-not-a-secret";
pub const AK: &str = "AKTEST0000000000";
pub const SK: &str = "SKtestsecret0000";

/// The pools of the example fixture (`examples/sim-pools.json`), by id.
pub mod ids {
    pub const FINANCE_2023: &str = "a130ab3a-72bf-4b71-baa9-af4987c8e338";
    pub const ENG: &str = "b7c1d2e3-4f50-4a61-8b72-93a4b5c6d7e8";
    pub const ANALYTICS: &str = "5f0e8a7c-1d2b-4c3d-9e8f-0a1b2c3d4e5f";
    pub const OLD_BUILD: &str = "c0ffee00-1111-4222-8333-444455556666";
    pub const TMP_LOAD: &str = "d15ea5e0-2222-4333-8444-555566667777";
    pub const TRAINING: &str = "e1e2e3e4-3333-4444-8555-666677778888";
    pub const PROD_PAYMENTS: &str = "f00dfeed-4444-4555-8666-777788889999";
    pub const LEGAL: &str = "0a0b0c0d-5555-4666-8777-88889999aaaa";
    pub const MARKETING: &str = "9a8b7c6d-6666-4777-8888-9999aaaabbbb";
}

pub fn project() -> ProjectId {
    ProjectId::parse(PROJECT).unwrap()
}

/// A fixture from `{"id": ..., ...}` objects.
pub fn fixture(pools: Value) -> Fixture {
    Fixture::parse(
        &json!({"project_id": PROJECT, "pools": pools}).to_string(),
        "test",
    )
    .unwrap()
}

pub fn generated(count: u64) -> Fixture {
    Fixture::generated(project(), count, "gen-", None)
}

pub fn config(fixture: Fixture) -> SimConfig {
    let mut c = SimConfig::new(fixture);
    c.auth = SimAuth::Token(TOKEN.into());
    c
}

pub async fn start(config: SimConfig) -> SimServer {
    SimServer::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

pub fn token_client(sim: &SimServer, token: &str, options: ClientOptions) -> Client {
    client_with(sim, Credentials::Token(Secret::new(token)), options)
}

/// A judgement's age limit from now: DELETEs sent by hand in tests are always in time.
pub fn soon() -> std::time::Instant {
    std::time::Instant::now() + std::time::Duration::from_secs(300)
}

/// The identity of the test token, as a plan records it.
pub fn token_identity() -> poolform::core::plan::Identity {
    poolform::core::plan::Identity::token("HW_AUTH_TOKEN", "HW_PROJECT_ID")
}

pub fn client_with(sim: &SimServer, credentials: Credentials, options: ClientOptions) -> Client {
    let connection = Connection {
        endpoint: sim.url().parse().unwrap(),
        project_id: project(),
        credentials,
        iam_endpoint: None,
        identity: token_identity(),
    };
    Client::new(connection, options).unwrap()
}

pub fn client(sim: &SimServer) -> Client {
    token_client(sim, TOKEN, ClientOptions::default())
}

/// Client options under which every call, reads included, is tried once: for tests that
/// look at one answer.
pub fn single_try() -> ClientOptions {
    ClientOptions {
        retry: poolform::core::retry::RetryPolicy {
            max_attempts: 1,
            ..poolform::core::retry::RetryPolicy::default()
        },
        ..ClientOptions::default()
    }
}

/// Path of a file in the repository.
pub fn repo_file(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The example fixture (`examples/sim-pools.json`).
pub fn example_fixture() -> Fixture {
    let text = std::fs::read_to_string(repo_file("examples/sim-pools.json")).unwrap();
    Fixture::parse(&text, "examples/sim-pools.json").unwrap()
}

/// The simulator in its own thread, token auth.
pub fn spawn(config: SimConfig) -> SimServer {
    SimServer::spawn(config).unwrap()
}

/// `poolform` with a clean environment, the token set and `--endpoint` pointing at `sim`
/// (given right after the subcommand, for the commands that connect).
pub fn poolform(sim: &SimServer) -> Poolform {
    let mut cmd = poolform_bare();
    cmd.env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT);
    Poolform {
        cmd,
        endpoint: Some(sim.url()),
    }
}

/// A poolform command that puts `--endpoint URL` after the subcommand once it is given
/// (connection flags belong to `plan`, `apply` and `import` only).
pub struct Poolform {
    cmd: assert_cmd::Command,
    endpoint: Option<String>,
}

impl Poolform {
    /// `cmd`, with `--endpoint endpoint` to go after the subcommand.
    pub fn with_endpoint(cmd: assert_cmd::Command, endpoint: String) -> Poolform {
        Poolform {
            cmd,
            endpoint: Some(endpoint),
        }
    }

    pub fn arg(&mut self, arg: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        let arg = arg.as_ref();
        self.cmd.arg(arg);
        if let Some(endpoint) = &self.endpoint {
            match arg.to_str() {
                Some("plan" | "apply" | "import") => {
                    self.cmd.arg("--endpoint").arg(endpoint);
                    self.endpoint = None;
                }
                Some("validate" | "show" | "schema" | "completions") => self.endpoint = None,
                _ => {}
            }
        }
        self
    }
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        for arg in args {
            self.arg(arg);
        }
        self
    }
    pub fn env(
        &mut self,
        key: impl AsRef<std::ffi::OsStr>,
        value: impl AsRef<std::ffi::OsStr>,
    ) -> &mut Self {
        self.cmd.env(key, value);
        self
    }
    pub fn env_remove(&mut self, key: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        self.cmd.env_remove(key);
        self
    }
    pub fn current_dir(&mut self, dir: impl AsRef<std::path::Path>) -> &mut Self {
        self.cmd.current_dir(dir);
        self
    }
    pub fn write_stdin(&mut self, input: impl Into<Vec<u8>>) -> &mut Self {
        self.cmd.write_stdin(input);
        self
    }
    pub fn timeout(&mut self, timeout: std::time::Duration) -> &mut Self {
        self.cmd.timeout(timeout);
        self
    }
    pub fn assert(&mut self) -> assert_cmd::assert::Assert {
        self.cmd.assert()
    }
    pub fn output(&mut self) -> std::io::Result<std::process::Output> {
        self.cmd.output()
    }
}

/// `poolform` with a clean environment and nothing else.
pub fn poolform_bare() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("poolform").unwrap();
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

/// Output as text, with the simulator's URL replaced by `http://SIM` for snapshots.
pub fn text(bytes: &[u8], sim: &SimServer) -> String {
    String::from_utf8_lossy(bytes).replace(&sim.url(), "http://SIM")
}

/// The simulator serving the example fixture, token auth.
pub fn example_sim() -> SimServer {
    spawn(config(example_fixture()))
}

/// The example config (`examples/pools.yaml`), as a path argument.
pub fn example_config() -> String {
    repo_file("examples/pools.yaml").display().to_string()
}

/// The simulator serving `count` generated pools (`gen-00000`, ...), changed by `tweak`.
pub fn generated_sim(count: u64, tweak: impl FnOnce(&mut SimConfig)) -> SimServer {
    let mut c = config(generated(count));
    tweak(&mut c);
    spawn(c)
}

/// `text` written as `name` in `dir`.
pub fn write_file(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

/// `yaml` written as `pools.yaml` in `dir`.
pub fn scope_file(dir: &std::path::Path, yaml: &str) -> std::path::PathBuf {
    write_file(dir, "pools.yaml", yaml)
}

/// The simulator serving `pools` (`{"id": ..., ...}` objects), token auth.
pub fn sim_of(pools: Value) -> SimServer {
    spawn(config(fixture(pools)))
}

/// The ids that received a DELETE, as the simulator counted them.
pub fn deletes_sent(sim: &SimServer) -> std::collections::BTreeSet<String> {
    sim.snapshot()["deletes"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// `ids` as a set, to compare with [`deletes_sent`].
pub fn set(ids: &[&str]) -> std::collections::BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// Asserts that every DELETE the simulator saw was for one of `allowed`.
#[track_caller]
pub fn only_deletes_for(sim: &SimServer, allowed: &[&str]) {
    let allowed = set(allowed);
    let sent = deletes_sent(sim);
    assert!(
        sent.is_subset(&allowed),
        "DELETE outside the plan: {:?}",
        sent.difference(&allowed).collect::<Vec<_>>()
    );
}

/// Saves `poolform plan -o` of the example config against `sim`, in `dir`.
pub fn save_plan(sim: &SimServer, dir: &std::path::Path) -> std::path::PathBuf {
    let plan_file = dir.join("plan.json");
    poolform(sim)
        .args(["plan", "-f", &example_config(), "-o"])
        .arg(&plan_file)
        .assert()
        .success();
    plan_file
}

/// `poolform apply plan_file -f` the example config, against `sim`.
pub fn apply_saved(sim: &SimServer, plan_file: &std::path::Path) -> Poolform {
    let mut cmd = poolform(sim);
    cmd.arg("apply")
        .arg(plan_file)
        .args(["-f", &example_config()]);
    cmd
}

/// A local HTTPS proxy that logs the request line of every connection (`CONNECT host:443
/// HTTP/1.1`) and refuses it: where the credentials would have gone, with no DNS and no
/// traffic beyond loopback.
pub struct LoggingProxy {
    pub url: String,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl LoggingProxy {
    pub fn start() -> LoggingProxy {
        use std::io::{BufRead, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = lines.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut line = String::new();
                let _ = std::io::BufReader::new(&stream).read_line(&mut line);
                log.lock().unwrap().push(line.trim().to_owned());
                let _ = stream.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
            }
        });
        LoggingProxy { url, lines }
    }

    /// The request lines seen so far, one per connection.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

/// `poolform args` as a plain command with a clean environment, the test's token and project,
/// and `env` besides (for a child the test drives: signals, piped streams).
pub fn poolform_command(args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("poolform"));
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT)
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit code, showing both streams when it differs.
#[track_caller]
pub fn assert_exit(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout_of(out),
        stderr_of(out)
    );
}

/// Asserts a refusal: exit 1, every one of `wants` said on stderr, and no DELETE reached the
/// simulator.
#[track_caller]
pub fn assert_refused(out: &std::process::Output, sim: &SimServer, wants: &[&str]) {
    assert_exit(out, 1);
    let stderr = stderr_of(out);
    for want in wants {
        assert!(stderr.contains(want), "wanted {want:?} in: {stderr}");
    }
    assert_eq!(sim.delete_requests(), 0, "a refusal sends no DELETE");
}

/// The JSON report on `out`'s stdout.
#[track_caller]
pub fn report_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}): {}\n{}",
            stdout_of(out),
            stderr_of(out)
        )
    })
}

/// The report's result for pool `id`.
#[track_caller]
pub fn result_for<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["projects"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["results"].as_array().unwrap())
        .find(|r| r["pool"]["id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}: {report}"))
}

/// Waits (up to a minute) until `ready`.
#[track_caller]
pub fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// `poolform apply -f config` against `sim` on a terminal, returned once the prompt is up
/// (the listing has been answered: the plan is fixed).
pub fn apply_at_prompt(sim: &SimServer, config: &str) -> terminal::Terminal {
    let term = terminal::Terminal::poolform(
        &["apply", "--endpoint", &sim.url(), "-f", config],
        &[],
        200,
        60,
    );
    term.wait_for("the prompt", |s| s.contains("Only 'yes' will be accepted:"));
    term
}

/// `poolform args[0] --endpoint SIM args[1..]` running in the background (no stdin, output
/// piped), with the test's token and project.
pub fn poolform_process(sim: &SimServer, args: &[&str]) -> std::process::Child {
    use std::process::Stdio;
    let (command, rest) = args.split_first().expect("a subcommand");
    let url = sim.url();
    let mut full = vec![*command, "--endpoint", &url];
    full.extend(rest);
    poolform_command(&full, &[])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends `signal` (`INT`, `TERM`, `HUP`) to `child`.
#[track_caller]
pub fn send_signal(child: &std::process::Child, signal: &str) {
    let number = match signal {
        "INT" => libc::SIGINT,
        "TERM" => libc::SIGTERM,
        "HUP" => libc::SIGHUP,
        other => panic!("no signal {other}"),
    };
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: sends a signal to a child this test started; nothing else is touched.
    let sent = unsafe { libc::kill(pid, number) };
    assert_eq!(sent, 0, "kill -{signal}");
}

/// A plain HTTP/1.0 GET on loopback, for the simulator's state route.
pub fn http_get_json(url: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap();
    let mut sock = std::net::TcpStream::connect(host).unwrap();
    write!(sock, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut response = String::new();
    sock.read_to_string(&mut response).unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(body).unwrap()
}

/// Requests the simulator received for one API (`list`, `show`, `delete`, `desktops`,
/// `iam-projects`, `iam-tokens`).
pub fn requests_to(sim: &SimServer, api: &str) -> u64 {
    sim.snapshot()["requests"][api].as_u64().unwrap_or(0)
}

/// The `workspace-sim` binary. Cargo builds it for the simulator's own tests
/// (`crates/workspace-sim/tests`), so `cargo test` from the workspace root has it beside this
/// test binary.
pub fn sim_binary() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("CARGO_BIN_EXE_workspace-sim") {
        return path.into();
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps");
    let sim = dir.join(format!("workspace-sim{}", std::env::consts::EXE_SUFFIX));
    assert!(
        sim.is_file(),
        "{} is not built: run the tests with `cargo test` from the workspace root (it builds the simulator for crates/workspace-sim/tests)",
        sim.display()
    );
    sim
}
