//! Helpers shared by the black-box tests: fixtures, simulators and clients.
#![allow(dead_code)]

pub mod measure;

use poolform::api::connection::{Connection, Credentials, Secret};
use poolform::api::{Client, ClientOptions};
use poolform::model::ProjectId;
use poolform::sim::{Fixture, SimAuth, SimConfig, SimServer};
use serde_json::{json, Value};

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

pub fn client_with(sim: &SimServer, credentials: Credentials, options: ClientOptions) -> Client {
    let connection = Connection {
        endpoint: sim.url().parse().unwrap(),
        project_id: project(),
        credentials,
        iam_endpoint: None,
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
        retry: poolform::retry::RetryPolicy {
            max_attempts: 1,
            ..poolform::retry::RetryPolicy::default()
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

/// `poolform` with a clean environment, the token set and `--endpoint` pointing at `sim`.
pub fn poolform(sim: &SimServer) -> assert_cmd::Command {
    let mut cmd = poolform_bare();
    cmd.env("HW_AUTH_TOKEN", TOKEN)
        .env("HW_PROJECT_ID", PROJECT)
        .arg("--endpoint")
        .arg(sim.url());
    cmd
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
