//! Runs a command: the wiring every command shares (config, connection, colours, output) and
//! the dispatch to `commands`, one file per command.

use crate::api::connection::{self, ConnectionFlags, FileDefaults, Resolved};
use crate::api::{Client, ClientOptions, StopSignal};
use crate::cli::{ColorChoice, Command, ConnectionArgs, FileArg, GlobalArgs};
use crate::commands;
use crate::config::{self, Config};
use crate::files::read_input;
use crate::plan::Plan;
use crate::render::Style;
use anyhow::{Context, Result};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

pub use crate::run_end::RunEnd;

/// Largest saved plan read.
pub const MAX_PLAN_BYTES: u64 = 64 * 1024 * 1024;

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Colours for stdout: `--color`, else a terminal without NO_COLOR (and not TERM=dumb).
pub fn style(choice: ColorChoice) -> Style {
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && env_var("NO_COLOR").is_none_or(|v| v.is_empty())
                && env_var("TERM").as_deref() != Some("dumb")
        }
    };
    Style { color }
}

/// A config file read and validated, with what plans record of it.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    /// How the file is named in messages and plans.
    pub source: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
}

/// Reads and validates the config file (a signal ends a read of standard input).
pub async fn load_config(arg: &FileArg, stop: &StopSignal) -> Result<LoadedConfig> {
    let input = read_input(&arg.file, config::MAX_CONFIG_BYTES as u64, stop).await?;
    let config = config::parse(&input.text, &input.name)?;
    Ok(LoadedConfig {
        config,
        source: input.name,
        sha256: input.sha256,
    })
}

/// Reads a saved plan file and checks that it agrees with itself.
pub async fn load_plan(path: &Path, stop: &StopSignal) -> Result<Plan> {
    let input = read_input(path, MAX_PLAN_BYTES, stop).await?;
    Ok(Plan::from_json(&input.text, &input.name)?)
}

/// Loads a plan file poolform just wrote, decoded as it is read (a large plan is never held
/// as text and as values at once), and checks it as apply will.
pub fn reload_plan(path: &Path) -> Result<Plan> {
    let name = path.display().to_string();
    let reader = std::io::BufReader::new(crate::files::open_capped(path, MAX_PLAN_BYTES)?);
    let plan: Plan = serde_json::from_reader(reader)
        .map_err(|e| anyhow::anyhow!("plan file {name}: not a poolform plan: {e}"))?;
    Ok(plan.checked(&name)?)
}

/// Reads a saved plan file, not yet checked against itself (see [`Plan::checked`]): for apply,
/// which checks what binds it first.
pub async fn read_plan(path: &Path, stop: &StopSignal) -> Result<Plan> {
    let input = read_input(path, MAX_PLAN_BYTES, stop).await?;
    Ok(Plan::parse_json(&input.text, &input.name)?)
}

/// [`client`] with the pacing given (interrupt, rate ceiling, jitter seed). Assumes a role and
/// looks the project id up at IAM when that is what resolution calls for.
pub async fn client_with(
    flags: &ConnectionArgs,
    config: Option<&LoadedConfig>,
    options: ClientOptions,
) -> Result<Client> {
    connect(resolve(flags, config)?, options).await
}

/// Where to connect and as whom, before any call: flags, environment, profile, then the
/// config. Warnings (a shared config file others can read) are said here.
pub fn resolve(flags: &ConnectionArgs, config: Option<&LoadedConfig>) -> Result<Resolved> {
    let file = FileDefaults {
        source: config.map(|c| c.source.clone()).unwrap_or_default(),
        region: config
            .and_then(|c| c.config.region.as_ref())
            .map(|r| r.as_str().to_owned()),
        project_id: config
            .and_then(|c| c.config.project_id.as_ref())
            .map(|p| p.to_string()),
        cloud: config
            .and_then(|c| c.config.cloud.as_ref())
            .map(|c| c.as_str().to_owned()),
    };
    let flags = ConnectionFlags {
        endpoint: flags.endpoint.clone(),
        region: flags.region.clone(),
        project_id: flags.project_id.clone(),
        cloud: flags.cloud.clone(),
        profile: flags.profile.clone(),
    };
    let resolved = connection::resolve(&flags, &file, &env_var)?;
    for warning in &resolved.warnings {
        crate::output::stderr_line(warning);
    }
    Ok(resolved)
}

/// Builds the client: the IAM calls resolution calls for (assume role, project lookup) first.
/// Says, before the first call, whose identity the run acts as.
pub async fn connect(resolved: Resolved, options: ClientOptions) -> Result<Client> {
    crate::output::stderr_line(&crate::escape::visible(&resolved.identity_line()));
    Client::connect(resolved, options)
        .await
        .context("cannot connect; nothing was planned or deleted")
}

/// The endpoint as plans record it: no trailing slash.
pub fn endpoint_text(client: &Client) -> String {
    client.connection().endpoint_text()
}

/// Client options that stop on the run's signals.
pub fn pacing(stop: &Arc<StopSignal>) -> ClientOptions {
    ClientOptions {
        interrupt: stop.clone(),
        ..ClientOptions::default()
    }
}

/// Runs a command. Those that call the API stop on SIGINT, SIGTERM and SIGHUP, and a run a
/// signal stopped exits with that signal's code, whatever else went wrong after it.
pub async fn run(command: Command, global: &GlobalArgs) -> Result<RunEnd> {
    let stop = StopSignal::new();
    if matches!(
        command,
        Command::Plan(_) | Command::Apply(_) | Command::Import(_)
    ) {
        crate::signals::watch(stop.clone());
    }
    let result = run_command(command, global, &stop).await;
    // A report that could not be written is an error, whatever the command did.
    let result = match (result, crate::output::take_stdout_failure()) {
        (Ok(end), Some(why)) if !matches!(end, RunEnd::Interrupted(_)) => {
            crate::output::stderr_line(&format!(
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
            crate::output::stderr_line(&format!("error: {}", crate::escape::visible(&message)));
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
        Command::Schema => {
            let schema = schemars::schema_for!(Config);
            crate::output::stdout(&(serde_json::to_string_pretty(&schema)? + "\n"));
            Ok(RunEnd::Completed)
        }
        Command::Completions { shell } => {
            let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "poolform", &mut buf);
            crate::output::stdout(&String::from_utf8_lossy(&buf));
            Ok(RunEnd::Completed)
        }
    }
}
