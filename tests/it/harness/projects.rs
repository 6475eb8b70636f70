//! Files with `projects:`, rehearsed against one simulator of three projects in two accounts:
//! two in cn-north-4 (one named by id, one a subproject looked up at IAM) and one in
//! eu-west-101 in another account, reached through an agency the operator allows.

use super::{poolform_bare, write_file};
use serde_json::{json, Value};
use std::path::Path;
use workspace_sim::multi::MultiFixture;
use workspace_sim::{SimConfig, SimServer};

pub const P1: &str = "0bec5db98280d2d02fd6c00c2de791ce";
pub const P2: &str = "1bec5db98280d2d02fd6c00c2de791ce";
pub const P3: &str = "2bec5db98280d2d02fd6c00c2de791ce";
pub const L1: &str = "cn-north-4/0bec5db98280d2d02fd6c00c2de791ce";
pub const L2: &str = "cn-north-4/cn-north-4_training";
pub const L3: &str = "eu-west-101/eu-west-101@tenant-b";
pub const AK_A: &str = "AKTENANTA0000000";
pub const SK_A: &str = "SKtenantaSecret0";
pub const AK_B: &str = "AKTENANTB0000000";

/// The three projects' file: a top-level glob protects a pool in every project.
pub const FILE: &str = "version: 1
protect:
  - name: \"*prod*\"
max_deletes: 10
projects:
  - region: cn-north-4
    project_id: 0bec5db98280d2d02fd6c00c2de791ce
    pools: [{name: ci-eng}]
  - region: cn-north-4
    project_name: cn-north-4_training
    scope: {name_prefix: lab-}
    pools: []
  - region: eu-west-101
    project_name: eu-west-101
    assume_role: {agency: poolform, domain: tenant-b}
    pools: [{name: eu-ops}]
";

/// Pool ids: project, index.
pub fn id(project: u8, n: u8) -> String {
    format!("{project}{project}{project}{project}0000-0000-4000-8000-0000000000{n:02}")
}

/// A pool of the fixture.
pub fn pool(p: u8, n: u8, name: &str) -> Value {
    json!({"id": id(p, n), "name": name})
}

/// The three projects' fixture.
pub fn projects_fixture() -> Value {
    json!({
        "accounts": [
            {"domain": "tenant-a", "access_key": AK_A, "secret_key": SK_A},
            {"domain": "tenant-b", "access_key": AK_B, "secret_key": "SKtenantbSecret0"}
        ],
        "agencies": [{"name": "poolform", "domain": "tenant-b", "trusts": ["tenant-a"]}],
        "projects": [
            {"project_id": P1, "name": "cn-north-4", "region": "cn-north-4", "domain": "tenant-a",
             "pools": [pool(1, 1, "ci-eng"), pool(1, 2, "ci-old"), pool(1, 3, "prod-pay")]},
            {"project_id": P2, "name": "cn-north-4_training", "region": "cn-north-4", "domain": "tenant-a",
             "pools": [pool(2, 1, "lab-1"), pool(2, 2, "lab-prod")]},
            {"project_id": P3, "name": "eu-west-101", "region": "eu-west-101", "domain": "tenant-b",
             "pools": [pool(3, 1, "eu-ops"), pool(3, 2, "eu-tmp"), pool(3, 3, "eu-prod")]}
        ]
    })
}

/// The simulator of `fixture`, its own switches (the same in every project) set by `set`.
pub fn spawn_projects(fixture: Value, set: impl FnOnce(&mut SimConfig)) -> SimServer {
    let multi = MultiFixture::from_value(fixture, "test").unwrap();
    let mut base = SimConfig::new(multi.projects[0].fixture.clone());
    set(&mut base);
    SimServer::spawn_multi(base, multi).unwrap()
}

/// The three projects; `tweak` edits the fixture first.
pub fn projects_sim(tweak: impl FnOnce(&mut Value)) -> SimServer {
    projects_sim_with(tweak, |_| {})
}

/// [`projects_sim`], with the simulator's own switches set by `set`.
pub fn projects_sim_with(
    tweak: impl FnOnce(&mut Value),
    set: impl FnOnce(&mut SimConfig),
) -> SimServer {
    let mut f = projects_fixture();
    tweak(&mut f);
    spawn_projects(f, set)
}

/// A folder holding `text` as `pools.yaml`.
pub fn checkout(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "pools.yaml", text);
    dir
}

/// `poolform` in `dir` with tenant-a's keys, IAM at the simulator.
pub fn as_tenant_a(sim: &SimServer, dir: &Path) -> assert_cmd::Command {
    let mut cmd = poolform_bare();
    cmd.current_dir(dir)
        .env("HW_ACCESS_KEY", AK_A)
        .env("HW_SECRET_KEY", SK_A)
        .env("HW_AUTH_URL", sim.url());
    cmd
}

/// `poolform ARGS` in `dir` as tenant-a, plan and apply at the simulator (`--endpoint`, unless
/// given), the agency allowed.
pub fn run(sim: &SimServer, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = connecting(sim, dir, args);
    if matches!(args.first(), Some(&"plan" | &"apply")) {
        cmd.args(["--allow-agency", "poolform@tenant-b"]);
    }
    cmd.output().unwrap()
}

/// [`run`] for a file of one project (which takes no `--allow-agency`).
pub fn run_one(sim: &SimServer, dir: &Path, args: &[&str]) -> std::process::Output {
    connecting(sim, dir, args).output().unwrap()
}

fn connecting(sim: &SimServer, dir: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = as_tenant_a(sim, dir);
    cmd.args(args);
    let connects = matches!(args.first(), Some(&"plan" | &"apply"));
    if connects && !args.iter().any(|a| a.starts_with("--endpoint")) {
        cmd.args(["--endpoint", &sim.url()]);
    }
    cmd
}

/// Every API request the simulator received (IAM included).
pub fn all_requests(sim: &SimServer) -> u64 {
    sim.snapshot()["requests"]
        .as_object()
        .map_or(0, |r| r.values().filter_map(Value::as_u64).sum())
}
