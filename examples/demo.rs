//! The whole job end to end, with no cloud account: starts the bundled simulator with
//! `examples/sim-pools.json`, then runs `poolform plan -o plan.json` and `poolform apply plan.json`
//! against it with `examples/pools.yaml`, exactly as the binary does.
//!
//! Run: `cargo run --example demo`
#![allow(clippy::too_many_lines)] // a benchmark or demo, not production code

use clap::Parser;
use poolform::cli::args::Cli;
use poolform::cli::RunEnd;
use workspace_sim::{Fixture, SimAuth, SimConfig, SimServer};

const TOKEN: &str = "demo-token";

/// Writes a line to standard output; a closed pipe (`| head`) ends the demo's output quietly
/// rather than with a panic.
fn say(text: &str) -> bool {
    use std::io::Write as _;
    writeln!(std::io::stdout(), "{text}").is_ok()
}

fn main() -> std::process::ExitCode {
    // Paths below are relative to the repository, wherever the demo is started from.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("the repository exists");
    // The credentials poolform reads, set before any thread starts.
    std::env::set_var("HW_AUTH_TOKEN", TOKEN);

    let fixture_text =
        std::fs::read_to_string("examples/sim-pools.json").expect("examples/sim-pools.json");
    let fixture =
        Fixture::parse(&fixture_text, "examples/sim-pools.json").expect("a valid fixture");
    let mut config = SimConfig::new(fixture);
    config.auth = SimAuth::Token(TOKEN.into());
    let sim = SimServer::spawn(config).expect("the simulator starts");
    let endpoint = sim.url();
    // Removed when the demo ends, however it ends.
    let dir = tempfile::Builder::new()
        .prefix("poolform-demo-")
        .tempdir()
        .expect("a temporary directory");
    let plan_path = dir.path().join("plan.json").display().to_string();

    if !say(&format!(
        "workspace-sim is serving {} pools at {endpoint} (examples/sim-pools.json)\n",
        sim.pool_ids().len()
    )) {
        return std::process::ExitCode::SUCCESS;
    }
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let steps: [&[&str]; 2] = [
        &[
            "plan",
            "-f",
            "examples/pools.yaml",
            "-o",
            &plan_path,
            "--detailed-exitcode",
        ],
        &["apply", &plan_path, "-f", "examples/pools.yaml"],
    ];
    let mut last = RunEnd::Completed;
    for args in steps {
        // The subcommand, then where to connect, then the rest.
        let argv: Vec<&str> = ["poolform", args[0], "--endpoint", &endpoint]
            .iter()
            .chain(&args[1..])
            .copied()
            .collect();
        if !say(&format!("$ {}\n", argv.join(" "))) {
            return std::process::ExitCode::SUCCESS;
        }
        let cli = Cli::parse_from(&argv);
        last = match runtime.block_on(poolform::cli::run(cli.command, &cli.global)) {
            Ok(exit) => exit,
            Err(e) => {
                eprintln!("error: {e:#}");
                return std::process::ExitCode::from(1);
            }
        };
        if !say(&format!("\n(exit code {})\n", last.exit_code())) {
            // The reader went away (`| head`): nothing more to say.
            return std::process::ExitCode::SUCCESS;
        }
    }
    say(&format!(
        "The simulator now holds {} pools: the blocked one keeps its desktops, and the kept, protected and out-of-scope pools were never touched.",
        sim.pool_ids().len()
    ));
    // 2 is the contract's "finished, but blocked steps remain".
    std::process::ExitCode::from(if last == RunEnd::Blocked {
        0
    } else {
        last.exit_code()
    })
}
