//! What the commands share: reading the config and plan files, resolving and connecting, the
//! listing a plan is made from, the one way calls are paced, colours.

use crate::api::connection::{self, ConnectionFlags, FileDefaults, Resolved};
use crate::api::listing::{list_for_judging, ListingError};
use crate::api::{Client, ClientOptions, StopSignal};
use crate::cli::args::{ColorChoice, ConnectionArgs, FileArg};
use crate::cli::files::read_input;
use crate::cli::progress::Activity;
use crate::cli::render::{self, Style, View};
use crate::core::config::{self, Config};
use crate::core::model::Live;
use crate::core::plan::Plan;
use crate::core::planner::{self, PlanContext};
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
    })
}

/// A saved plan, read and checked: of one project, or of several.
pub enum Loaded {
    One(Box<Plan>),
    Many(Box<crate::core::many_plan::ManyPlan>),
}

/// Reads a saved plan file and checks that it agrees with itself.
pub async fn load_plan(path: &Path, stop: &StopSignal) -> Result<Loaded> {
    let input = read_input(path, MAX_PLAN_BYTES, stop).await?;
    if crate::core::many_plan::ManyPlan::is_many_json(&input.text) {
        let plan = crate::core::many_plan::ManyPlan::parse_json(&input.text, &input.name)?;
        return Ok(Loaded::Many(Box::new(plan)));
    }
    Ok(Loaded::One(Box::new(Plan::from_json(
        &input.text,
        &input.name,
    )?)))
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
        ..FileDefaults::default()
    };
    let flags = ConnectionFlags {
        endpoint: flags.single_endpoint()?,
        region: flags.region.clone(),
        project_id: flags.project_id.clone(),
        cloud: flags.cloud.clone(),
        profile: flags.profile.clone(),
    };
    let resolved = connection::resolve(&flags, &file, &env_var)?;
    for warning in &resolved.warnings {
        crate::cli::output::stderr_line(warning);
    }
    Ok(resolved)
}

/// Builds the client: the IAM calls resolution calls for (assume role, project lookup) first.
/// Says, before the first call, whose identity the run acts as.
pub async fn connect(resolved: Resolved, options: ClientOptions) -> Result<Client> {
    connect_as(resolved, options, None).await
}

/// [`connect`] for one project of several: its identity line starts with its label, and its
/// IAM calls are not shown one by one (the projects connect at once).
pub async fn connect_as(
    resolved: Resolved,
    options: ClientOptions,
    label: Option<&str>,
) -> Result<Client> {
    // Several projects' lines are said together, in file order, by the caller.
    if label.is_none() {
        let line = crate::core::escape::visible(&resolved.identity_line()).into_owned();
        crate::cli::output::stderr_line(&render::fit(&line, stderr_width()));
    }
    // IAM calls first, when resolution needs them: said while they last (and retried).
    let calls_iam = label.is_none()
        && (resolved.assume_role.is_some()
            || matches!(resolved.project, crate::api::ProjectSource::LookUp { .. }));
    let counts = options.listing.clone();
    let activity = calls_iam
        .then(|| Activity::with_news("Calling IAM", String::new, move || counts.trouble_now()));
    let connected = Client::connect(resolved, options).await;
    drop(activity);
    connected.map_err(|e| {
        let next = e.next_step();
        let what = if e.is_transport() {
            "cannot reach IAM"
        } else {
            "the IAM calls before the first Workspace call failed"
        };
        with_next_step(
            anyhow::Error::new(e).context(format!("{what}; nothing was planned or deleted")),
            next,
        )
    })
}

/// `error` with the next step a person takes appended, when there is one.
pub fn with_next_step(error: anyhow::Error, next: Option<String>) -> anyhow::Error {
    match next {
        Some(next) => anyhow::anyhow!("{error:#}. Next: {next}"),
        None => error,
    }
}

/// The endpoint as plans record it: no trailing slash.
pub fn endpoint_text(client: &Client) -> String {
    client.connection().endpoint_text()
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

/// Lists the live pools: the listing a plan (or an apply) decides from, with the tags a tag
/// rule needs read from the pools themselves where the listing left them out.
pub async fn list_live(client: &Client, loaded: &LoadedConfig, nothing_done: &str) -> Result<Live> {
    let activity = Activity::listing("Listing pools", client.listing_counts().clone());
    let listed = list_quietly(client, loaded, nothing_done).await;
    activity.finish();
    listed
}

/// [`list_live`] without its own progress (several projects listed at once share one).
pub async fn list_quietly(
    client: &Client,
    loaded: &LoadedConfig,
    nothing_done: &str,
) -> Result<Live> {
    let listed = list_for_judging(client, &loaded.config, &loaded.source).await;
    listed.map_err(|e| match e {
        ListingError::Api(api) => {
            let next = api.next_step();
            with_next_step(
                anyhow::Error::new(api)
                    .context(format!("cannot list the live pools; {nothing_done}")),
                next,
            )
        }
        other => anyhow::anyhow!("{other}; {nothing_done}"),
    })
}

/// `plan` cut down to the `--target`s; a target that is not a planned delete is refused with
/// why (the plan's findings say protected, out of scope, …; the listing says kept or not live).
pub fn restrict(plan: Plan, targets: &[String], live: &Live) -> Result<Plan> {
    use crate::core::plan::TargetError;
    let source = plan.source.clone();
    plan.restrict(targets).map_err(|e| match e {
        TargetError::NotPlanned {
            target,
            why: None,
            planned,
        } => {
            let by_id = crate::core::model::PoolId::parse(&target)
                .ok()
                .is_some_and(|id| live.get(&id).is_some());
            let listed = by_id || live.pools().iter().any(|p| *p.name == *target);
            let why = if listed {
                format!(
                    "it is kept: {} lists it",
                    crate::core::escape::visible(&source)
                )
            } else {
                "no live pool has this id or name".to_owned()
            };
            TargetError::NotPlanned {
                target,
                why: Some(why),
                planned,
            }
            .into()
        }
        e => e.into(),
    })
}

/// Plans `loaded` against `live`.
pub fn make_plan(loaded: &LoadedConfig, client: &Client, live: &Live) -> Result<Plan> {
    let ctx = PlanContext {
        project_id: client.connection().project_id.clone(),
        endpoint: endpoint_text(client),
        created_at: now_rfc3339(),
        source: loaded.source.clone(),
        config_sha256: loaded.sha256.clone(),
        identity: client.connection().identity.clone(),
    };
    Ok(planner::plan(&loaded.config, live, &ctx)?)
}
