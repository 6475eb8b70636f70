//! The one pipeline every plan and apply goes through, over the list of projects a config
//! means (one, for a file without `projects:`): select them (`--only`), resolve each before
//! any call (its place from flags, environment and profile, or from the file alone; an agency
//! only when the operator allows it), say whose identity each acts as, connect them at once,
//! list and plan them at once (one client each, with its own adaptive limiter, under the run's
//! shared limits), then combine the parts into one plan and cut it to the `--target`s. Fail
//! closed: a project that cannot be resolved, reached or listed fails the run, and no project
//! of it is ever applied.

use crate::api::connection::Resolved;
use crate::api::listing::{list_for_judging, ListingError};
use crate::api::place::{self, RunFlags};
use crate::api::{Client, ClientOptions};
use crate::cli::args::{ConnectionArgs, ProjectArgs};
use crate::cli::context::{env_var, now_rfc3339, stderr_width, with_next_step, LoadedConfig};
use crate::cli::output;
use crate::cli::progress::Activity;
use crate::cli::render;
use crate::core::endpoints::Endpoints;
use crate::core::escape::visible;
use crate::core::model::Live;
use crate::core::plan::{FindingKind, Made, Plan, ProjectFailure, ProjectPlan};
use crate::core::planner::{self, PlanContext};
use crate::core::projects::{self, Project};
use crate::core::time::{Clock, ClockSource, Instant, Span};
use anyhow::{bail, Result};
use std::collections::HashSet;

/// `error`, said of the project labelled `label` (a file of one project has none).
pub fn in_project(label: Option<&str>, error: anyhow::Error) -> anyhow::Error {
    match label {
        Some(label) => anyhow::anyhow!("{label}: {error:#}"),
        None => error,
    }
}

/// The projects this run covers, in file order (`--only`), once the flags that name nothing
/// for the config's kind are refused; in a file with `projects:`, the variables that would
/// name one project are ignored, said once.
pub fn select(loaded: &LoadedConfig, flags: &RunFlags, only: &[String]) -> Result<Vec<Project>> {
    let all = projects::projects(&loaded.config);
    place::refuse_flags_of_kind(&all, flags, &loaded.source)?;
    if loaded.config.is_many() {
        for name in place::PLACE_VARIABLES {
            if env_var(name).is_some_and(|v| !v.is_empty()) {
                output::stderr_line(&format!(
                    "note: {name} is ignored: {} lists several projects, each naming its own region and project",
                    visible(&loaded.source)
                ));
            }
        }
    }
    let mut selected = projects::select(all, only, &loaded.source)?;
    for project in &mut selected {
        let entry = match &project.place {
            projects::Place::Entry(e) => Some(e.index),
            projects::Place::Run { .. } => None,
        };
        project.rules.terraform = loaded.states.managed_for(entry);
    }
    Ok(selected)
}

/// What the command line says of every project of a run: the connection flags, and the
/// agencies the operator allows (`--allow-agency` and `POOLFORM_ALLOW_AGENCIES`,
/// comma-separated).
pub fn run_flags(conn: &ConnectionArgs, args: &ProjectArgs) -> Result<RunFlags> {
    let mut allowed = args.allow_agency.clone();
    if let Some(list) = env_var("POOLFORM_ALLOW_AGENCIES") {
        allowed.extend(
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
    }
    let choosing = [
        ("--only", !args.only.is_empty()),
        ("--allow-agency", !args.allow_agency.is_empty()),
    ];
    Ok(RunFlags {
        endpoints: Endpoints::parse(&conn.endpoint)?,
        region: conn.region.clone(),
        project_id: conn.project_id.clone(),
        cloud: conn.cloud.clone(),
        profile: conn.profile.clone(),
        allowed_agencies: allowed,
        choosing: choosing
            .iter()
            .filter(|(_, g)| *g)
            .map(|(f, _)| *f)
            .collect(),
    })
}

/// Resolves every project (all before any call), refusing a stray `--endpoint REGION=URL`.
pub fn resolve_all(
    selected: Vec<Project>,
    flags: &RunFlags,
    source: &str,
) -> Result<Vec<(Project, Resolved)>> {
    place::refuse_stray_endpoints(&selected, flags)?;
    let mut resolved = Vec::with_capacity(selected.len());
    for project in selected {
        let r = place::resolve(&project, flags, source, &env_var)
            .map_err(|e| in_project(project.label(), e.into()))?;
        resolved.push((project, r));
    }
    Ok(resolved)
}

/// A project resolved and connected: its client, and its listing once it is kept.
pub struct Reached {
    pub project: Project,
    pub client: Client,
    pub live: Option<Live>,
}

/// Says every project's identity line (in file order, before any call) and then its
/// resolution warnings (each once), then connects them at once (each with listing counts of
/// its own); one that cannot be reached fails them all; two that turn out to be one project
/// are refused.
pub async fn connect_all(
    resolved: Vec<(Project, Resolved)>,
    options: &ClientOptions,
) -> Result<Vec<Reached>> {
    say_identities(&resolved);
    let one = resolved.len() == 1;
    // Each project has listing counts of its own; the IAM spinner follows one that calls IAM.
    let (projects, connecting): (Vec<Project>, Vec<_>) = resolved
        .into_iter()
        .map(|(project, r)| {
            let listing = std::sync::Arc::default();
            (
                project,
                (
                    r,
                    ClientOptions {
                        listing,
                        ..options.clone()
                    },
                ),
            )
        })
        .unzip();
    let activity = connecting
        .iter()
        .find(|(r, _)| r.calls_iam())
        .map(|(_, o)| {
            let news = o.listing.clone();
            Activity::with_news("Calling IAM", String::new, move || news.trouble_now())
        });
    let tasks: Vec<_> = connecting.into_iter().map(|(r, o)| connect(r, o)).collect();
    let mut reached = Vec::with_capacity(tasks.len());
    let mut failures = Vec::new();
    for (project, done) in projects.into_iter().zip(at_once(tasks).await) {
        match done? {
            Ok(client) => reached.push(Reached {
                project,
                client,
                live: None,
            }),
            Err(e) if one => return Err(in_project(project.label(), e)),
            Err(e) => failures.push(in_project(project.label(), e).to_string()),
        }
    }
    drop(activity);
    if !failures.is_empty() {
        bail!(
            "{} of {} projects cannot be reached, so none is planned or applied:\n  {}",
            failures.len(),
            failures.len() + reached.len(),
            failures.join("\n  ")
        );
    }
    projects::refuse_duplicates(reached.iter().map(|r| {
        let c = r.client.connection();
        let label = r.project.label().unwrap_or_default();
        (label, c.endpoint_text(), &c.project_id)
    }))?;
    Ok(reached)
}

/// Says whose identity each project acts as (its label first, in a file with `projects:`), in
/// file order, before any call; then the resolution warnings, each once.
pub fn say_identities(resolved: &[(Project, Resolved)]) {
    for (project, r) in resolved {
        let line = match project.label() {
            Some(label) => format!("{label}: {}", r.identity_line()),
            None => r.identity_line(),
        };
        output::stderr_line(&render::fit(&visible(&line), stderr_width()));
    }
    let mut said = HashSet::new();
    for (_, r) in resolved {
        for warning in r.warnings.iter().filter(|w| said.insert(*w)) {
            output::stderr_line(warning);
        }
    }
}

/// Builds one project's client: the IAM calls its resolution calls for first.
async fn connect(resolved: Resolved, options: ClientOptions) -> Result<Client> {
    Client::connect(resolved, options).await.map_err(|e| {
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

/// Whether the listings a plan was made from are kept: an apply approved in advance
/// authorizes against the very listing its plan was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listings {
    Dropped,
    Kept,
}

/// One project listed and planned (or why not), and which `--target`s name one of its live
/// pools (for saying why a target is not a planned delete).
struct Planned {
    reached: Reached,
    outcome: Result<ProjectPlan>,
    listed_targets: Vec<bool>,
}

/// Lists a project's live pools, with the tags a judgement needs: `nothing_done` says what
/// did not happen when it fails.
pub async fn list(
    client: &Client,
    project: &Project,
    source: &str,
    nothing_done: &str,
) -> Result<Live> {
    let live = list_for_judging(client, &project.rules, source)
        .await
        .map_err(|e| match e {
            ListingError::Api(api) => {
                let next = api.next_step();
                with_next_step(
                    anyhow::Error::new(api)
                        .context(format!("cannot list the live pools; {nothing_done}")),
                    next,
                )
            }
            other => anyhow::anyhow!("{other}; {nothing_done}"),
        })?;
    say_clock_skew(project.label(), live.clock());
    Ok(live)
}

/// How far this machine's clock may be from the API's before the run says so.
const CLOCK_SKEW_NOTED: Span = Span::from_secs(5 * 60);

/// Says on stderr when this machine's clock is more than 5 minutes off the API's: time rules
/// are judged by the API's clock, and the operator should know the two disagree.
fn say_clock_skew(label: Option<&str>, clock: Option<Clock>) {
    let Some(Clock {
        now: api,
        source: ClockSource::Api,
    }) = clock
    else {
        return;
    };
    let local = Instant::of_system(std::time::SystemTime::now());
    let (off, way) = if local.unix() >= api.unix() {
        (api.until(local), "ahead of")
    } else {
        (local.until(api), "behind")
    };
    // Said once a run for each project, however often it is listed.
    static SAID: std::sync::Mutex<Vec<Option<String>>> = std::sync::Mutex::new(Vec::new());
    let first = SAID.lock().map_or(true, |mut said| {
        let key = label.map(str::to_owned);
        let new = !said.contains(&key);
        if new {
            said.push(key);
        }
        new
    });
    if off > CLOCK_SKEW_NOTED && first {
        let whose = label.map(|l| format!("{l}: ")).unwrap_or_default();
        output::stderr_line(&format!(
            "{whose}note: this machine's clock is {off} {way} the API's ({api}); time rules (min_age, expires, notice) are judged by the API's clock"
        ));
    }
}

/// The progress of the listings: one project's pages and pools, or every project's.
fn listing_activity(reached: &[Reached]) -> Activity {
    if let [one] = reached {
        return Activity::listing("Listing pools", one.client.listing_counts().clone());
    }
    let counts: Vec<_> = reached
        .iter()
        .map(|r| r.client.listing_counts().clone())
        .collect();
    let projects = reached.len();
    Activity::start("Listing pools", move || {
        let (pages, pools) = counts.iter().fold((0, 0), |(pg, pl), c| {
            let (p, n, _) = c.read();
            (pg + p, pl + n)
        });
        format!("{pages} pages and {pools} pools read in {projects} projects")
    })
}

/// Runs `tasks` at once, each project's on this thread (their calls go out, and pages are
/// read and decoded, on the runtime's workers), and gives back what each came back with, in
/// order. What a project's task builds (a plan, its deletes) is built where it is used, which
/// keeps the allocator's arenas, and so the memory a large run takes, as for one project.
pub async fn at_once<F>(tasks: Vec<F>) -> Vec<Result<F::Output, tokio::task::JoinError>>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    let here = tokio::task::LocalSet::new();
    here.run_until(async {
        let handles: Vec<_> = tasks.into_iter().map(tokio::task::spawn_local).collect();
        let mut out = Vec::with_capacity(handles.len());
        for handle in handles {
            out.push(handle.await);
        }
        out
    })
    .await
}

/// Lists and plans every project at once; each listing is kept only when `listings` asks.
async fn plan_all(
    reached: Vec<Reached>,
    loaded: &LoadedConfig,
    targets: &[String],
    listings: Listings,
    nothing_done: &'static str,
) -> Vec<Planned> {
    let activity = listing_activity(&reached);
    let tasks = reached
        .iter()
        .map(|r| {
            let (client, project) = (r.client.clone(), r.project.clone());
            let (source, targets) = (loaded.source.clone(), targets.to_vec());
            async move {
                let live = list(&client, &project, &source, nothing_done).await?;
                let part = plan_one(&client, &project, &live)?;
                let listed = targets.iter().map(|t| live.names(t)).collect();
                let kept = (listings == Listings::Kept).then_some(live);
                Ok::<_, anyhow::Error>((part, listed, kept))
            }
        })
        .collect();
    let done = at_once(tasks).await;
    activity.finish();
    reached
        .into_iter()
        .zip(done)
        .map(|(r, done)| planned(r, done))
        .collect()
}

/// One project's part of the plan, made from its listing.
pub fn plan_one(client: &Client, project: &Project, live: &Live) -> Result<ProjectPlan> {
    let c = client.connection();
    let ctx = PlanContext {
        label: project.label().map(str::to_owned),
        project_id: c.project_id.clone(),
        endpoint: c.endpoint_text(),
        identity: c.identity.clone(),
    };
    Ok(planner::plan(&project.rules, live, &ctx)?)
}

/// What one project's task came back with.
fn planned(
    mut reached: Reached,
    done: Result<Result<(ProjectPlan, Vec<bool>, Option<Live>)>, tokio::task::JoinError>,
) -> Planned {
    let (outcome, listed_targets) = match done {
        Ok(Ok((part, listed, live))) => {
            reached.live = live;
            (Ok(part), listed)
        }
        Ok(Err(e)) => (Err(e), Vec::new()),
        Err(e) => (
            Err(anyhow::anyhow!(
                "internal error (a bug in poolform) while planning: {e}"
            )),
            Vec::new(),
        ),
    };
    Planned {
        reached,
        outcome,
        listed_targets,
    }
}

/// A plan made now: every project's part (the failures apart), and each project reached.
pub struct PlannedRun {
    pub plan: Plan,
    pub reached: Vec<Reached>,
}

/// Every project's part combined into one plan (with the projects that failed, which make it
/// unsaveable); a file of one project fails with its own error.
fn combine(
    planned: Vec<Planned>,
    loaded: &LoadedConfig,
    only: &[String],
) -> Result<(PlannedRun, Vec<bool>)> {
    let mut projects = Vec::new();
    let mut failures = Vec::new();
    let mut reached = Vec::with_capacity(planned.len());
    let mut listed = Vec::new();
    for p in planned {
        match (p.outcome, p.reached.project.label()) {
            (Ok(part), _) => {
                listed.resize(p.listed_targets.len(), false);
                for (l, named) in listed.iter_mut().zip(&p.listed_targets) {
                    *l |= named;
                }
                projects.push(part);
                reached.push(p.reached);
            }
            (Err(e), None) => return Err(e),
            (Err(e), Some(label)) => failures.push(ProjectFailure {
                label: label.to_owned(),
                error: format!("{e:#}"),
            }),
        }
    }
    let made = Made {
        created_at: now_rfc3339(),
        source: loaded.source.clone(),
        config_sha256: loaded.sha256.clone(),
    };
    let mut plan = Plan::new(made, only.to_vec(), projects, failures);
    plan.terraform_states = loaded.states.digests();
    Ok((PlannedRun { plan, reached }, listed))
}

/// Everything a run does before it shows its plan: select the projects, resolve and reach
/// each, list and plan them at once, combine the parts, and cut the plan to the `--target`s
/// (unless a project failed: that plan is shown as it is, and refused).
pub async fn plan_projects(
    loaded: &LoadedConfig,
    conn: &ConnectionArgs,
    args: &ProjectArgs,
    targets: &[String],
    options: &ClientOptions,
    listings: Listings,
    nothing_done: &'static str,
) -> Result<PlannedRun> {
    let flags = run_flags(conn, args)?;
    let selected = select(loaded, &flags, &args.only)?;
    let resolved = resolve_all(selected, &flags, &loaded.source)?;
    let reached = connect_all(resolved, options).await?;
    let planned = plan_all(reached, loaded, targets, listings, nothing_done).await;
    let (mut run, listed) = combine(planned, loaded, &args.only)?;
    if !run.plan.failures.is_empty() || targets.is_empty() {
        return Ok(run);
    }
    run.plan = restrict(run.plan, targets, &listed)?;
    let kept: Vec<Option<String>> = run.plan.projects.iter().map(|p| p.label.clone()).collect();
    run.reached
        .retain(|r| kept.iter().any(|k| k.as_deref() == r.project.label()));
    Ok(run)
}

/// `plan` cut down to the `--target`s; a target that is not a planned delete is refused with
/// why: what the plan's findings say (protected, out of scope, …), else whether a listing
/// showed it (`listed`, indexed like `targets`: kept, or not live; empty when no listing was
/// read, as for a saved plan).
pub fn restrict(plan: Plan, targets: &[String], listed: &[bool]) -> Result<Plan> {
    Ok(plan.restrict_saying(targets, |plan, target| {
        let i = targets.iter().position(|t| t == target);
        why_not_planned(plan, target, i.and_then(|i| listed.get(i).copied()))
    })?)
}

/// Why the pool `target` names (by id or exact name) is not a planned delete: as the plan's
/// findings word it (protected, out of scope, a near match, kept but drifted, missing), else
/// kept (`listed`: a listing showed it) or not live; `None` when nothing says.
fn why_not_planned(plan: &Plan, target: &str, listed: Option<bool>) -> Option<String> {
    let source = visible(&plan.source);
    let Some((part, f)) = plan.finding_of(target) else {
        return listed.map(|listed| {
            if listed {
                format!("it is kept: {source} lists it")
            } else {
                "no live pool has this id or name".to_owned()
            }
        });
    };
    let detail = visible(&render::finding_detail(f, &plan.source)).into_owned();
    let why = match f.kind {
        FindingKind::Protected => format!("it is protected ({detail})"),
        FindingKind::OutOfScope => format!("it is out of scope ({detail})"),
        FindingKind::NearMatch => format!("it is a near match, never deleted ({detail})"),
        FindingKind::Drift => format!("it is kept: {source} lists it (it has drifted)"),
        FindingKind::Missing => format!("{source} lists it, but no live pool has this name"),
        FindingKind::Young => format!("it is young ({detail})"),
        FindingKind::AgeUnknown => format!("its age is unknown ({detail})"),
        FindingKind::Expiring => format!("it is kept: {source} lists it ({detail})"),
        FindingKind::Terraform => format!("it is kept: {detail}"),
        FindingKind::TerraformNotLive => format!("it is not live ({detail})"),
    };
    Some(match &part.label {
        Some(label) => format!("{why} in {label}"),
        None => why,
    })
}
