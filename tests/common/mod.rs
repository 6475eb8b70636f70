//! Helpers shared by the black-box tests: fixtures, simulators and clients.
#![allow(dead_code)]

pub mod measure;

use poolform::api::connection::{Connection, Credentials, Secret};
use poolform::api::{Client, ClientOptions};
use poolform::core::model::ProjectId;
use serde_json::{json, Value};
use workspace_sim::{Fixture, SimAuth, SimConfig, SimServer};

pub const PROJECT: &str = "0bec5db98280d2d02fd6c00c2de791ce";
pub const TOKEN: &str = "test-token-not-a-secret";
pub const AK: &str = "AKTEST0000000000";
pub const SK: &str = "SKtestsecret0000";

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

/// `yaml` written as `pools.yaml` in `dir`.
pub fn scope_file(dir: &std::path::Path, yaml: &str) -> std::path::PathBuf {
    let file = dir.join("pools.yaml");
    std::fs::write(&file, yaml).unwrap();
    file
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
    report["results"]
        .as_array()
        .unwrap()
        .iter()
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

/// `poolform apply -f config` against `sim` on a pseudo-terminal (util-linux `script`), with
/// its stdin piped for typing; returned once the listing has been answered (the plan is then
/// fixed) and the prompt is up.
pub fn apply_at_prompt(sim: &SimServer, config: &str) -> std::process::Child {
    use std::process::{Command, Stdio};
    let cmd = format!(
        "{} apply --endpoint {} -f {config}",
        assert_cmd::cargo::cargo_bin("poolform").display(),
        sim.url(),
    );
    let child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env_clear()
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT)
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` is needed for the prompt tests (.ci/run installs it)");
    wait_for("the listing's answer", || {
        sim.snapshot()["responses"]["200"].as_u64().unwrap_or(0) >= 1
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    child
}

/// `poolform args[0] --endpoint SIM args[1..]` running in the background (no stdin, output
/// piped), with the test's token and project.
pub fn poolform_process(sim: &SimServer, args: &[&str]) -> std::process::Child {
    use std::process::{Command, Stdio};
    let (command, rest) = args.split_first().expect("a subcommand");
    Command::new(assert_cmd::cargo::cargo_bin("poolform"))
        .env_clear()
        .env("NO_COLOR", "1")
        .env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT)
        .arg(command)
        .arg("--endpoint")
        .arg(sim.url())
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends `signal` (`INT`, `TERM`, `HUP`) to `child`.
#[track_caller]
pub fn send_signal(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal}");
}

/// Requests the simulator received for one API (`list`, `show`, `delete`, `desktops`,
/// `iam-projects`, `iam-tokens`).
pub fn requests_to(sim: &SimServer, api: &str) -> u64 {
    sim.snapshot()["requests"][api].as_u64().unwrap_or(0)
}
