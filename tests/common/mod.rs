//! Helpers shared by the black-box tests: fixtures, simulators and clients.
#![allow(dead_code)]

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
    };
    Client::new(connection, options).unwrap()
}

pub fn client(sim: &SimServer) -> Client {
    token_client(sim, TOKEN, ClientOptions::default())
}
