//! What the commands share: reading the config and plan files, the one way calls are paced,
//! colours and the terminal's width.

use crate::api::{ClientOptions, StopSignal};
use crate::cli::args::{ColorChoice, FileArg};
use crate::cli::files::read_input;
use crate::cli::render::{Style, View};
use crate::core::config::{self, Config};
use crate::core::plan::Plan;
use anyhow::Result;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

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

/// How human output to standard output is laid out: colours as chosen, and the terminal's
/// width when standard output is a terminal (a log is neither cut nor wrapped).
pub fn view(choice: ColorChoice) -> View {
    styled(style(choice))
}

/// The width of the terminal `term` is, if it is one.
fn width_of(is_terminal: bool, term: console::Term) -> Option<usize> {
    is_terminal
        .then(|| term.size_checked())
        .flatten()
        .map(|(_rows, cols)| usize::from(cols))
        .filter(|&cols| cols >= 20)
}

/// The width of standard error, if it is a terminal.
pub fn stderr_width() -> Option<usize> {
    width_of(std::io::stderr().is_terminal(), console::Term::stderr())
}

/// [`view`] with the style already chosen.
pub fn styled(style: Style) -> View {
    let width = width_of(std::io::stdout().is_terminal(), console::Term::stdout());
    View {
        style,
        width,
        saved: None,
    }
}

/// A config file read and validated, with what plans record of it.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    /// How the file is named in messages and plans.
    pub source: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// The Terraform states whose pools are kept (read by [`with_states`]).
    pub states: std::sync::Arc<crate::cli::states::States>,
}

/// The config with the Terraform states of the run read: its `keep_terraform_state` and the
/// `--terraform-state` files.
pub async fn with_states(
    mut loaded: LoadedConfig,
    flags: &[std::path::PathBuf],
    stop: &StopSignal,
) -> Result<LoadedConfig> {
    let states = crate::cli::states::load(&loaded.config, &loaded.source, flags, stop).await?;
    loaded.states = std::sync::Arc::new(states);
    Ok(loaded)
}

/// Reads and validates the config file (a signal ends a read of standard input).
pub async fn load_config(arg: &FileArg, stop: &StopSignal) -> Result<LoadedConfig> {
    let input = read_input(&arg.file, config::MAX_CONFIG_BYTES as u64, stop)
        .await
        .map_err(|e| {
            let missing = e
                .downcast_ref::<crate::api::files::ReadError>()
                .is_some_and(crate::api::files::ReadError::is_not_found);
            if missing {
                e.context(format!(
                    "there is no {} here: name the config file with -f PATH, or start one from the pools that exist with `poolform import -o pools.yaml`",
                    arg.file.display()
                ))
            } else {
                e
            }
        })?;
    let config = config::parse(&input.text, &input.name)?;
    Ok(LoadedConfig {
        config,
        source: input.name,
        sha256: input.sha256,
        states: std::sync::Arc::default(),
    })
}

/// Reads a saved plan file (of one project or of several: one shape), typed but not yet
/// checked against itself (see [`Plan::checked`]): a plan bound to another config, endpoint or
/// identity is refused before anything whose cost depends on its size.
pub async fn read_plan(path: &Path, stop: &StopSignal) -> Result<Plan> {
    let input = read_input(path, MAX_PLAN_BYTES, stop).await?;
    Ok(Plan::parse_json(&input.text, &input.name)?)
}

/// Loads a plan file poolform just wrote, decoded as it is read (a large plan is never held
/// as text and as values at once), and checks it as apply will.
pub fn reload_plan(path: &Path) -> Result<Plan> {
    let name = path.display().to_string();
    let reader = std::io::BufReader::new(crate::api::files::open_capped(path, MAX_PLAN_BYTES)?);
    let plan: Plan = serde_json::from_reader(reader)
        .map_err(|e| anyhow::anyhow!("plan file {name}: not a poolform plan: {e}"))?;
    Ok(plan.checked(&name)?)
}

/// `error` with the next step a person takes appended, when there is one.
pub fn with_next_step(error: anyhow::Error, next: Option<String>) -> anyhow::Error {
    match next {
        Some(next) => anyhow::anyhow!("{error:#}. Next: {next}"),
        None => error,
    }
}

/// How a command's calls are paced, the one way: they stop on the run's signals, never go
/// faster than `rate_limit` requests per second (when given), with a fresh jitter seed.
pub fn client_options(stop: &Arc<StopSignal>, rate_limit: Option<f64>) -> ClientOptions {
    let defaults = ClientOptions::default();
    ClientOptions {
        rate_ceiling: rate_limit.unwrap_or(defaults.rate_ceiling),
        seed: SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
        interrupt: stop.clone(),
        ..defaults
    }
}
