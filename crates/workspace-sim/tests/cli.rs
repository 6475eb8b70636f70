//! The simulator's own command line: it describes itself, refuses a bad fixture with a message
//! naming it, and says where it listens. (Cargo builds the `workspace-sim` binary for this
//! test, which poolform's black-box tests then run too.)

use std::process::Command;

fn sim() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_workspace-sim"));
    cmd.env_clear();
    cmd
}

#[test]
fn describes_itself() {
    let out = sim().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.starts_with("A stand-in for the Huawei Cloud Workspace desktop-pool API on loopback"),
        "{help}"
    );
}

#[test]
fn a_bad_fixture_is_refused_with_its_name_and_what_is_wrong() {
    let dir = std::env::temp_dir().join(format!("workspace-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.json");
    std::fs::write(
        &broken,
        "{\"project_id\": \"p\", \"pools\": [{\"id\": \"a/b\"}]}",
    )
    .unwrap();
    let cases = [
        (
            "/nonexistent.json".to_owned(),
            "cannot read fixture /nonexistent.json",
        ),
        (
            broken.display().to_string(),
            "pool #1: id \"a/b\" contains '/'",
        ),
    ];
    for (fixture, want) in cases {
        let out = sim().args(["--fixture", &fixture]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{fixture}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{fixture}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn says_where_it_listens() {
    let mut child = sim()
        .args(["--listen", "127.0.0.1:0", "--generate", "3"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let url = workspace_sim::read_listening_line(child.stdout.take().unwrap());
    child.kill().unwrap();
    child.wait().unwrap();
    let url = url.unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
}

#[test]
fn in_the_background_it_prints_its_url_writes_its_pid_and_stops_when_told() {
    let dir = std::env::temp_dir().join(format!("workspace-sim-bg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pid_file = dir.join("sim.pid");
    let out = sim()
        .args([
            "--background",
            "--generate",
            "2",
            "--exit-after",
            "2s",
            "--pid-file",
        ])
        .arg(&pid_file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let addr = url
        .strip_prefix("http://")
        .expect("only the URL")
        .to_owned();
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid > 0);
    // It serves after the command returned...
    assert!(std::net::TcpStream::connect(&addr).is_ok(), "{url} serves");
    // ...and stops when --exit-after says so.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(&addr).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "still serving at {url}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
