//! The command line: clap types ([`args`]), one file per command ([`commands`]), the shared
//! wiring ([`context`]), and the terminal and file I/O (render, progress, output, files,
//! signals). [`run`] runs a command and says how it ended.

pub mod args;
pub mod commands;
pub mod context;
pub mod files;
pub mod habits;
pub mod hint;
pub mod jsonl;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod render;
pub mod signals;
pub mod states;

use crate::api::StopSignal;
use crate::cli::args::{Command, GlobalArgs, SchemaOf};
use crate::core::config::Config;
use anyhow::Result;
use std::sync::Arc;

pub use crate::core::run_end::RunEnd;

/// Runs a command. Those that call the API stop on SIGINT, SIGTERM and SIGHUP, and a run a
/// signal stopped exits with that signal's code, whatever else went wrong after it.
pub async fn run(command: Command, global: &GlobalArgs) -> Result<RunEnd> {
    let stop = StopSignal::new();
    let result = if matches!(
        command,
        Command::Plan(_) | Command::Apply(_) | Command::Import(_)
    ) {
        // A second signal ends the command where it stands: nothing more is waited for.
        let second = signals::watch(stop.clone());
        tokio::select! {
            result = run_command(command, global, &stop) => result,
            Ok(first) = second => {
                output::stderr_line("Exiting at once.");
                return Ok(RunEnd::Interrupted(first));
            }
        }
    } else {
        run_command(command, global, &stop).await
    };
    // A report that could not be written is an error, whatever the command did.
    let result = match (result, crate::cli::output::take_stdout_failure()) {
        (Ok(end), Some(why)) if !matches!(end, RunEnd::Interrupted(_)) => {
            crate::cli::output::stderr_line(&format!(
                "error: cannot write to standard output ({why}); what it should have said is lost"
            ));
            Ok(RunEnd::Failed)
        }
        (result, _) => result,
    };
    // A signal decides the exit code, whatever else happened after it (an error it caused,
    // or a command that found nothing to do once it stopped).
    match (result, stop.signal()) {
        (Err(e), Some(signal)) => {
            let message = format!("{e:#}");
            crate::cli::output::stderr_line(&format!(
                "error: {}",
                crate::core::escape::visible(&message)
            ));
            Ok(RunEnd::Interrupted(signal))
        }
        (Ok(_), Some(signal)) => Ok(RunEnd::Interrupted(signal)),
        (result, None) => result,
    }
}

async fn run_command(
    command: Command,
    global: &GlobalArgs,
    stop: &Arc<StopSignal>,
) -> Result<RunEnd> {
    match command {
        Command::Validate(args) => commands::validate::run(&args, stop).await,
        Command::Plan(args) => commands::plan::run(&args, global, stop).await,
        Command::Apply(args) => commands::apply::run(&args, global, stop).await,
        Command::Show(args) => commands::show::run(&args, global, stop).await,
        Command::Import(args) => commands::import::run(&args, stop).await,
        Command::Schema { of } => {
            let schema = match of {
                SchemaOf::Config => schemars::schema_for!(Config),
                SchemaOf::Plan => schemars::schema_for!(crate::core::plan::Plan),
                SchemaOf::Report => schemars::schema_for!(crate::core::report::Report),
                SchemaOf::Events => schemars::schema_for!(crate::core::events::EventLine),
            };
            crate::cli::output::stdout(&(serde_json::to_string_pretty(&schema)? + "\n"));
            Ok(RunEnd::Completed)
        }
        Command::Policy { of, agency, format } => {
            crate::cli::output::stdout(&commands::policy::text(of, agency, format));
            Ok(RunEnd::Completed)
        }
        Command::Completions { shell } => {
            let mut cmd = <crate::cli::args::Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "poolform", &mut buf);
            crate::cli::output::stdout(&String::from_utf8_lossy(&buf));
            Ok(RunEnd::Completed)
        }
    }
}
