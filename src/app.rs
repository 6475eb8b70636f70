//! One function per command, wiring config, API, planner and rendering together.

use crate::api::connection::{self, ConnectionFlags, FileDefaults};
use crate::api::{Client, ClientOptions, ListFilter};
use crate::applier::{self, ApplyOptions, StopSignal};
use crate::cli::{
    ApplyArgs, ColorChoice, Command, FileArg, GlobalArgs, ImportArgs, PlanArgs, ShowArgs,
};
use crate::config::{self, Config, PoolEntry, Region, Scope, Version};
use crate::model::Live;
use crate::plan::{DeleteStep, Plan};
use crate::planner::{self, PlanContext};
use crate::progress::Progress;
use crate::render::{self, Style};
use crate::report::{ApplyEnd, Outcome, Report, StepResult};
use anyhow::{bail, Context, Result};
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// How a command ended, as the exit code says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done; in sync; every planned pool gone.
    Success,
    /// 2: drift (plan), or blocked steps remain (apply).
    Changes,
    /// 1 without a further message: the report already says what failed.
    Failed,
    /// 130: interrupted.
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Changes => 2,
            Exit::Failed => 1,
            Exit::Interrupted => 130,
        }
    }
}

/// Largest saved plan read.
const MAX_PLAN_BYTES: u64 = 64 * 1024 * 1024;

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

fn env_var(name: &str) -> Option<String> {
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

/// Reads a file, or standard input for `-`, refusing anything larger than `limit` bytes.
fn read_input(path: &Path, limit: u64) -> Result<(String, String)> {
    let name = if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    };
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
    };
    read.with_context(|| format!("cannot read {name}"))?;
    if bytes.len() as u64 > limit {
        bail!("{name}:1:1: the file is larger than {limit} bytes");
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        anyhow::anyhow!(
            "{name}:1:1: the file is not UTF-8 text (invalid byte at offset {at}); is it binary?"
        )
    })?;
    Ok((name, text))
}

/// Reads and validates the config file.
pub fn load_config(arg: &FileArg) -> Result<(Config, String)> {
    let (name, text) = read_input(&arg.file, config::MAX_CONFIG_BYTES as u64)?;
    let config = config::parse(&text, &name)?;
    Ok((config, name))
}

fn connection_flags(global: &GlobalArgs) -> ConnectionFlags {
    ConnectionFlags {
        endpoint: global.endpoint.clone(),
        region: global.region.clone(),
        project_id: global.project_id.clone(),
    }
}

/// Resolves the connection and builds the client.
pub fn client(global: &GlobalArgs, config: Option<(&Config, &str)>) -> Result<Client> {
    let file = FileDefaults {
        source: config
            .map(|(_, source)| source.to_owned())
            .unwrap_or_default(),
        region: config
            .and_then(|(c, _)| c.region.as_ref())
            .map(|r| r.as_str().to_owned()),
        project_id: config
            .and_then(|(c, _)| c.project_id.as_ref())
            .map(|p| p.to_string()),
    };
    let conn = connection::resolve(&connection_flags(global), &file, &env_var)?;
    Ok(Client::new(conn, ClientOptions::default())?)
}

/// The endpoint as plans record it: no trailing slash.
pub fn endpoint_text(client: &Client) -> String {
    client
        .connection()
        .endpoint
        .as_str()
        .trim_end_matches('/')
        .to_owned()
}

/// Writes `text` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A closed pipe (`poolform plan | head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

pub async fn run(command: Command, global: &GlobalArgs) -> Result<Exit> {
    match command {
        Command::Validate(args) => validate(&args),
        Command::Plan(args) => plan(&args, global).await,
        Command::Apply(args) => apply(&args, global).await,
        Command::Show(args) => show(&args, global),
        Command::Import(args) => import(&args, global).await,
        Command::Schema => {
            let schema = schemars::schema_for!(Config);
            print(&(serde_json::to_string_pretty(&schema)? + "\n"))?;
            Ok(Exit::Success)
        }
        Command::Completions { shell } => {
            let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "poolform", &mut buf);
            print(&String::from_utf8_lossy(&buf))?;
            Ok(Exit::Success)
        }
    }
}

fn validate(args: &FileArg) -> Result<Exit> {
    let (config, name) = load_config(args)?;
    let scope = match &config.scope {
        Some(s) if s.is_restrictive() => {
            let mut parts = Vec::new();
            if let Some(p) = &s.name_prefix {
                parts.push(format!("name_prefix {p:?}"));
            }
            if let Some(e) = &s.enterprise_project_id {
                parts.push(format!("enterprise_project_id {e:?}"));
            }
            if let Some(t) = s.pool_type {
                parts.push(format!("type {}", t.as_str()));
            }
            format!("pools with {}", parts.join(", "))
        }
        _ => "every pool in the project".to_owned(),
    };
    print(&format!(
        "{name} is valid: {} listed to keep, {} protect rule{}, managing {scope}.\n",
        config.pools.len(),
        config.protect.len(),
        if config.protect.len() == 1 { "" } else { "s" },
    ))?;
    Ok(Exit::Success)
}

/// Lists the live pools and plans against `config`.
pub async fn make_plan(
    config: &Config,
    source: &str,
    client: &Client,
    max_deletes: Option<u32>,
) -> Result<Plan> {
    let live = client
        .list_pools(&ListFilter::default())
        .await
        .context("cannot list the live pools; nothing was planned")?;
    let ctx = PlanContext {
        project_id: client.connection().project_id.clone(),
        endpoint: endpoint_text(client),
        created_at: now_rfc3339(),
        source: source.to_owned(),
        max_deletes_override: max_deletes,
    };
    Ok(planner::plan(config, &live, &ctx)?)
}

async fn plan(args: &PlanArgs, global: &GlobalArgs) -> Result<Exit> {
    let (config, source) = load_config(&args.file)?;
    let client = client(global, Some((&config, &source)))?;
    let plan = make_plan(&config, &source, &client, args.max_deletes).await?;
    print(&render::plan(
        &plan,
        args.format.into(),
        style(global.color),
    ))?;
    if let Some(out) = &args.out {
        write_atomic(out, &plan.to_json())?;
        eprintln!(
            "Saved the plan to {}. Apply exactly this plan with: poolform apply {}",
            out.display(),
            out.display()
        );
    }
    Ok(if args.detailed_exitcode && plan.has_drift() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Reads a saved plan file.
pub fn load_plan(path: &Path) -> Result<Plan> {
    let (name, text) = read_input(path, MAX_PLAN_BYTES)?;
    Ok(Plan::from_json(&text, &name)?)
}

fn show(args: &ShowArgs, global: &GlobalArgs) -> Result<Exit> {
    let plan = load_plan(&args.plan_file)?;
    print(&render::plan(
        &plan,
        args.format.into(),
        style(global.color),
    ))?;
    Ok(Exit::Success)
}

/// The text of an imported config, and how many pools it keeps: every live pool (optionally
/// narrowed by a name prefix).
pub fn import_text(
    live: &Live,
    client: &Client,
    region: Option<&str>,
    name_prefix: Option<&str>,
) -> Result<(String, usize)> {
    let mut pools: Vec<_> = live
        .pools()
        .iter()
        .filter(|p| name_prefix.is_none_or(|prefix| p.name.starts_with(prefix)))
        .collect();
    pools.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let scope = name_prefix.map(|p| Scope {
        name_prefix: Some(p.to_owned()),
        ..Scope::default()
    });
    if pools.is_empty() && scope.is_none() {
        bail!("no live pools to import; an empty pools.yaml would plan to delete every pool created later");
    }
    let config = Config {
        version: Version,
        project_id: Some(client.connection().project_id.clone()),
        region: region
            .map(Region::parse)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        scope,
        pools: pools
            .iter()
            .map(|p| PoolEntry {
                id: Some(p.id.clone()),
                name: Some(p.name.clone()),
                expect: None,
            })
            .collect(),
        protect: Vec::new(),
        max_deletes: None,
        allow_delete_all: false,
    };
    let body = serde_yaml::to_string(&config)?;
    let text = format!(
        "# Written by `poolform import` at {} from {} (project {}).\n\
         # Every pool listed here is kept; any other pool in scope is planned for deletion.\n{body}",
        now_rfc3339(),
        endpoint_text(client),
        client.connection().project_id,
    );
    Ok((text, config.pools.len()))
}

async fn import(args: &ImportArgs, global: &GlobalArgs) -> Result<Exit> {
    if let Some(out) = &args.out {
        if out.exists() && !args.force {
            bail!(
                "{} already exists; pass --force to overwrite it",
                out.display()
            );
        }
    }
    let client = client(global, None)?;
    let filter = ListFilter {
        name: args.name_prefix.clone(),
        ..ListFilter::default()
    };
    let live = client
        .list_pools(&filter)
        .await
        .context("cannot list the live pools")?;
    let region = global.region.clone().or_else(|| env_var("HW_REGION_NAME"));
    let (text, kept) = import_text(
        &live,
        &client,
        region.as_deref(),
        args.name_prefix.as_deref(),
    )?;
    // What is written must read back as a valid config.
    config::parse(&text, "imported pools.yaml")
        .context("the imported file does not validate (a bug in poolform)")?;
    match &args.out {
        Some(out) => {
            write_atomic(out, &text)?;
            eprintln!("Wrote {} with {kept} pools.", out.display());
        }
        None => print(&text)?,
    }
    Ok(Exit::Success)
}

/// First Ctrl-C: stop starting calls. Second: exit at once.
fn watch_interrupts(interrupt: Arc<StopSignal>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        interrupt.stop();
        eprintln!("\nInterrupted: no new calls will start; waiting for the calls in flight. Press Ctrl-C again to exit at once.");
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("Exiting at once.");
            std::process::exit(130);
        }
    });
}

/// Asks on the terminal; true only for `yes`.
async fn confirm(deletes: usize, interrupt: &StopSignal) -> Result<bool> {
    eprint!(
        "\nDo you want to delete {}?\n  poolform will delete exactly the pools shown above, and nothing else.\n  Only 'yes' will be accepted: ",
        if deletes == 1 { "this pool".to_owned() } else { format!("these {deletes} pools") }
    );
    let _ = std::io::stderr().flush();
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    });
    tokio::select! {
        line = answer => Ok(line??.trim() == "yes"),
        _ = interrupt.stopped() => Ok(false),
    }
}

/// What a saved plan's connection must be: the plan's own endpoint and project, unless the
/// flags or the environment say otherwise (and then they must agree with the plan).
fn client_for_saved_plan(global: &GlobalArgs, plan: &Plan, source: &str) -> Result<Client> {
    let endpoint = match (&global.endpoint, &global.region) {
        (Some(e), _) => e.clone(),
        (None, Some(region)) => connection::region_endpoint(region)?,
        (None, None) => plan.endpoint.clone(),
    };
    let flags = ConnectionFlags {
        endpoint: Some(endpoint),
        region: None,
        project_id: global.project_id.clone(),
    };
    let file = FileDefaults {
        source: source.to_owned(),
        region: None,
        project_id: Some(plan.project_id.to_string()),
    };
    let conn = connection::resolve(&flags, &file, &env_var)?;
    let client = Client::new(conn, ClientOptions::default())?;
    if endpoint_text(&client) != plan.endpoint.trim_end_matches('/') {
        bail!(
            "the plan is for endpoint {}, but this run is for {}; refusing to apply it here",
            plan.endpoint,
            endpoint_text(&client)
        );
    }
    Ok(client)
}

/// Where the apply's own plan output goes: stdout for human output, else stderr.
fn show_plan(plan: &Plan, args: &ApplyArgs, style: Style) -> Result<()> {
    if render::Format::from(args.format) == render::Format::Human {
        print(&render::plan(plan, render::Format::Human, style))
    } else {
        eprint!(
            "{}",
            render::plan(plan, render::Format::Human, Style::PLAIN)
        );
        Ok(())
    }
}

/// What is left to do once the deletes are known, or how the command already ended.
enum Prepared {
    Run {
        client: Client,
        steps: Vec<DeleteStep>,
        /// Planned pools found gone before the run started.
        done_before: Vec<StepResult>,
    },
    Ended(Exit),
}

/// Lists the live pools again and checks a reviewed plan against them: a pool that changed
/// makes the plan stale (an error, nothing deleted); a pool that is gone counts as done.
async fn recheck(plan: &Plan, what: &str, client: Client, style: Style) -> Result<Prepared> {
    let live = client
        .list_pools(&ListFilter::default())
        .await
        .context("cannot list the live pools; nothing was deleted")?;
    let staleness = plan.check_against(&live);
    if staleness.is_stale() {
        eprint!("{}", render::stale_diff(&staleness.changed, style));
        bail!(
            "{what} is stale: {} of its pools changed since it was made (shown above). Nothing was deleted; run `poolform plan` again and review the new plan",
            staleness.changed.len()
        );
    }
    let done_before: Vec<StepResult> = staleness
        .gone
        .iter()
        .map(|c| {
            StepResult::without_call(
                c.pool.clone(),
                Outcome::AlreadyAbsent,
                "gone before this apply started".into(),
            )
        })
        .collect();
    Ok(Prepared::Run {
        client,
        steps: staleness.ready_steps(),
        done_before,
    })
}

/// A saved plan: refuse it for another project or endpoint, or if any of its pools changed.
async fn prepare_saved(
    path: &Path,
    global: &GlobalArgs,
    style: Style,
    interrupt: &Arc<StopSignal>,
) -> Result<Prepared> {
    let plan = load_plan(path)?;
    let source = format!("the plan in {}", path.display());
    let client = client_for_saved_plan(global, &plan, &source)?;
    watch_interrupts(interrupt.clone());
    let prepared = recheck(&plan, &source, client, style).await?;
    if let Prepared::Run {
        steps, done_before, ..
    } = &prepared
    {
        eprintln!(
            "Applying the saved plan {} (made {}): {} to delete, {} already gone.",
            path.display(),
            plan.created_at,
            steps.len(),
            done_before.len()
        );
    }
    Ok(prepared)
}

/// No saved plan: plan now, show it, and ask (unless --auto-approve).
async fn prepare_fresh(
    args: &ApplyArgs,
    global: &GlobalArgs,
    style: Style,
    interrupt: &Arc<StopSignal>,
) -> Result<Prepared> {
    if !args.auto_approve && !std::io::stdin().is_terminal() {
        bail!(
            "refusing to apply: there is no terminal to confirm on and --auto-approve was not given; nothing was sent. \
             Review the plan and pass --auto-approve, or save it with `poolform plan -o plan.json` and run `poolform apply plan.json`"
        );
    }
    let file = FileArg {
        file: args
            .file
            .clone()
            .unwrap_or_else(|| PathBuf::from("pools.yaml")),
    };
    let (config, source) = load_config(&file)?;
    let client = client(global, Some((&config, &source)))?;
    watch_interrupts(interrupt.clone());
    let plan = make_plan(&config, &source, &client, args.max_deletes).await?;
    show_plan(&plan, args, style)?;
    if plan.changes.is_empty() {
        eprintln!("No changes. Nothing to delete.");
        return Ok(Prepared::Ended(Exit::Success));
    }
    if args.auto_approve || interrupt.is_stopped() {
        return Ok(Prepared::Run {
            client,
            steps: plan.delete_steps(),
            done_before: Vec::new(),
        });
    }
    if !confirm(plan.changes.len(), interrupt).await? {
        eprintln!("Apply cancelled; nothing was deleted.");
        return Ok(Prepared::Ended(if interrupt.is_stopped() {
            Exit::Interrupted
        } else {
            Exit::Failed
        }));
    }
    // Time has passed while the plan was read: apply it only if it still holds.
    recheck(&plan, "the plan shown above", client, style).await
}

async fn apply(args: &ApplyArgs, global: &GlobalArgs) -> Result<Exit> {
    let style = style(global.color);
    let interrupt = StopSignal::new();
    let prepared = match &args.plan_file {
        Some(path) => prepare_saved(path, global, style, &interrupt).await?,
        None => prepare_fresh(args, global, style, &interrupt).await?,
    };
    let (client, steps, mut done_before) = match prepared {
        Prepared::Run {
            client,
            steps,
            done_before,
        } => (client, steps, done_before),
        Prepared::Ended(exit) => return Ok(exit),
    };
    if interrupt.is_stopped() {
        eprintln!("Interrupted before any DELETE was sent.");
        return Ok(Exit::Interrupted);
    }
    let options = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        rate_ceiling: args
            .rate_limit
            .unwrap_or(ApplyOptions::default().rate_ceiling),
        wait_blocked: args.wait_blocked,
        seed: SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
        ..ApplyOptions::default()
    };
    let progress = Progress::new(steps.len());
    let report = applier::apply(&client, steps, &options, interrupt.clone(), |r| {
        progress.step(r)
    })
    .await;
    progress.finish();
    done_before.extend(report.results);
    let report = Report::new(done_before, report.interrupted, report.stopped);
    print(&render::report(&report, args.format.into(), style))?;
    Ok(match report.end() {
        ApplyEnd::Done => Exit::Success,
        ApplyEnd::Blocked => Exit::Changes,
        ApplyEnd::Failed => Exit::Failed,
        ApplyEnd::Interrupted => Exit::Interrupted,
    })
}
