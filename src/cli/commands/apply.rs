//! `poolform apply`: apply a saved plan as reviewed, or plan, show, confirm and apply; one
//! apply for a file of one project and for a file with `projects:`.
//!
//! Either way, before any DELETE every project is planned again against a fresh listing and
//! each delete must still be called for (`authorize`); planned pools the listing no longer
//! shows are confirmed gone by a read of each. Any refusal, in any project, refuses the whole
//! apply. Then the projects' deletes run at once under the run's shared limits, and one
//! report says what happened in each.

use super::announced::{self, Announced};
use crate::api::connection::ProjectSource;
use crate::api::place::RunFlags;
use crate::api::{Client, ClientOptions, Deleter};
use crate::apply::{self, ApplyOptions, Judge, Observer, StopSignal, Work};
use crate::cli::args::{ApplyArgs, ApplyFormat, FileArg, GlobalArgs, DEFAULT_CONFIG};
use crate::cli::commands::plan::refuse_failures;
use crate::cli::context::{
    client_options, load_config, read_plan, style, styled, with_states, LoadedConfig,
};
use crate::cli::jsonl::{Batch, JsonLines};
use crate::cli::output;
use crate::cli::pipeline::{self, Listings, Reached};
use crate::cli::progress::Progress;
use crate::cli::render::{self, Style, View};
use crate::core::authorize::{self, Objection, Refusal};
use crate::core::caps;
use crate::core::escape::visible;
use crate::core::model::PoolId;
use crate::core::plan::{Change, Plan, ProjectPlan};
use crate::core::projects::Project;
use crate::core::report::{AnnouncementApplied, Report};
use crate::core::run_end::RunEnd;
use anyhow::{bail, Result};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `poolform apply`.
pub async fn run(
    args: &ApplyArgs,
    global: &GlobalArgs,
    interrupt: &Arc<StopSignal>,
) -> Result<RunEnd> {
    let style = style(global.color);
    let (prepared, announced) = match &args.plan_file {
        Some(path) => {
            let plan_file = path.display().to_string();
            let plan = read_plan(path, interrupt).await?;
            if plan.is_announcement() {
                prepare_announced(plan, &plan_file, args, interrupt).await?
            } else {
                let prepared = prepare_saved(plan, plan_file, args, style, interrupt).await?;
                (prepared, None)
            }
        }
        None => (prepare_fresh(args, style, interrupt).await?, None),
    };
    match prepared {
        Prepared::Run(ready) => execute(ready, announced, args, style, interrupt).await,
        Prepared::Ended(end) => Ok(end),
    }
}

/// One project ready to run: its client, its deletes, and its part of the plan (which the
/// events describe them by).
struct Ready {
    client: Client,
    work: Work,
    part: ProjectPlan,
}

/// What is left to do once the deletes are known, or how the command already ended.
enum Prepared {
    Run(Vec<Ready>),
    Ended(RunEnd),
}

/// Says, once a signal stops the run, what happens now: the calls in flight finish, nothing
/// new starts, and a second signal exits at once.
fn acknowledge_signals(client: &Client) {
    let client = client.clone();
    tokio::spawn(async move {
        let interrupt = client.pacer().interrupt().clone();
        interrupt.stopped().await;
        let Some(signal) = interrupt.signal() else {
            return;
        };
        let in_flight = client.pacer().in_flight();
        let calls = match in_flight {
            0 => "no call is in flight".to_owned(),
            1 => "waiting for the call in flight".to_owned(),
            n => format!("waiting for the {n} calls in flight"),
        };
        output::stderr_line(&format!(
            "\nInterrupted ({}): no new calls will start; {calls}. Send it again to exit at once.",
            signal.name()
        ));
    });
}

/// What the person at the prompt said.
enum Answer {
    Yes,
    No,
    /// A signal came first: nothing was sent.
    Interrupted(crate::core::run_end::Signal),
}

/// Asks on the terminal; yes only for `yes`. A signal at the prompt ends the wait at once:
/// nothing was sent. Standard input is read on a thread of its own, which never holds up the
/// exit.
async fn confirm(deletes: usize, interrupt: &StopSignal) -> Result<Answer> {
    output::stderr(&format!(
        "\nDo you want to delete {}?\n  poolform will delete exactly the pools shown above, and nothing else.\n  Only 'yes' will be accepted: ",
        if deletes == 1 { "this pool".to_owned() } else { format!("these {deletes} pools") }
    ));
    let _ = std::io::stderr().flush();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = tx.send(std::io::stdin().read_line(&mut line).map(|_| line));
    });
    tokio::select! {
        line = rx => Ok(if line??.trim() == "yes" { Answer::Yes } else { Answer::No }),
        _ = interrupt.stopped() => {
            output::stderr_line("\nCancelled; nothing was sent.");
            Ok(Answer::Interrupted(interrupt.signal().unwrap_or(crate::core::run_end::Signal::Interrupt)))
        }
    }
}

/// The yes a plan deleting `deletes` pools (said as `what`) needs: `--auto-approve`, or
/// `yes` at the terminal's prompt; refused without a terminal. `Some(end)` when the run ends
/// here, nothing sent (a no, or a signal first).
async fn approve(
    args: &ApplyArgs,
    deletes: usize,
    what: &str,
    interrupt: &StopSignal,
) -> Result<Option<RunEnd>> {
    if !args.auto_approve && !std::io::stdin().is_terminal() {
        bail!(
            "refusing to apply: the plan above deletes {what}, there is no terminal to confirm on and --auto-approve was not given; nothing was sent. \
             Review the plan and pass --auto-approve, or save it with `poolform plan -o plan.json` and run `poolform apply plan.json`"
        );
    }
    if let Some(signal) = interrupt.signal() {
        output::stderr_line("Interrupted before any DELETE was sent.");
        return Ok(Some(RunEnd::Interrupted(signal)));
    }
    if args.auto_approve {
        return Ok(None);
    }
    Ok(match confirm(deletes, interrupt).await? {
        Answer::Yes => None,
        Answer::No => {
            output::stderr_line("Apply cancelled; nothing was sent.");
            Some(RunEnd::Failed)
        }
        Answer::Interrupted(signal) => Some(RunEnd::Interrupted(signal)),
    })
}

/// Where the apply's own plan output goes: stdout for human output; else stderr, so that
/// stdout carries only the report (or the events).
fn show_plan(plan: &Plan, args: &ApplyArgs, style: Style) {
    if args.format == ApplyFormat::Human {
        output::stdout(&render::plan(plan, render::Format::Human, &styled(style)));
    } else {
        output::stderr(&render::plan(plan, render::Format::Human, &View::PLAIN));
    }
}

/// Lists a project's live pools and checks its part of the plan against its rules planned
/// again on them; planned pools no longer listed are confirmed gone, each by a read (unless
/// too many are missing). Refuses the whole part when anything does not hold. `what` names
/// the plan in messages.
async fn recheck(
    reached: Reached,
    mut part: ProjectPlan,
    what: String,
    source: Arc<str>,
    style: Style,
    parallelism: usize,
) -> Result<Ready> {
    let Reached {
        project, client, ..
    } = reached;
    let judged_at = Instant::now();
    let live = pipeline::list(&client, &project, &source, "nothing was deleted").await?;
    let authorized = match authorize::authorize(&part, &what, &project.rules, &source, &live) {
        Ok(a) => a,
        Err(refusal) => {
            if let Refusal::Objections { objections, .. } = &refusal {
                let changed = objections.iter().filter_map(|o| match o {
                    Objection::Changed { planned, live } => Some((planned.as_ref(), live)),
                    Objection::NotCalledFor { .. } => None,
                });
                output::stderr(&render::stale_diff(changed, style));
            }
            return Err(refusal.into());
        }
    };
    // The share the percentage cap reads is the listing's now, not the plan's word for it.
    part.in_scope = live
        .pools()
        .iter()
        .filter(|p| project.rules.in_scope(p))
        .count();
    let label = project.label().map(str::to_owned);
    let judge = Judge::new(project.rules, source.to_string());
    judge.saw(&live);
    drop(live);
    let deletes = part.changes.len();
    let settled =
        apply::confirm_gone(&client, &what, authorized.unlisted, deletes, parallelism).await?;
    Ok(Ready {
        work: Work {
            label,
            steps: authorized.steps,
            settled,
            judge,
            judged_at,
        },
        client,
        part,
    })
}

/// Re-lists every project and checks its part of the plan against it, all at once; any
/// refusal refuses the whole apply before a DELETE anywhere.
async fn recheck_all(
    parts: Vec<(Reached, ProjectPlan)>,
    what: &str,
    source: &str,
    style: Style,
    args: &ApplyArgs,
) -> Result<Vec<Ready>> {
    let source: Arc<str> = Arc::from(source);
    let mut labels = Vec::with_capacity(parts.len());
    let mut tasks = Vec::with_capacity(parts.len());
    for (reached, part) in parts {
        let label = reached.project.label().map(str::to_owned);
        let what = match &label {
            Some(label) => format!("{what} ({label})"),
            None => what.to_owned(),
        };
        let parallelism = usize::from(args.parallelism);
        tasks.push(recheck(
            reached,
            part,
            what,
            source.clone(),
            style,
            parallelism,
        ));
        labels.push(label);
    }
    let one = tasks.len() == 1;
    let mut ready = Vec::with_capacity(tasks.len());
    let mut refusals = Vec::new();
    for (label, done) in labels.into_iter().zip(pipeline::at_once(tasks).await) {
        match (done?, label) {
            (Ok(r), _) => ready.push(r),
            (Err(e), label) if one => return Err(pipeline::in_project(label.as_deref(), e)),
            (Err(e), label) => {
                refusals.push(format!("{}: {e:#}", label.unwrap_or_default()));
            }
        }
    }
    if !refusals.is_empty() {
        bail!(
            "the plan is refused in {} of {} projects, so nothing was deleted in any:\n  {}",
            refusals.len(),
            refusals.len() + ready.len(),
            refusals.join("\n  ")
        );
    }
    Ok(ready)
}

/// The config file apply reads: `-f`, else `pools.yaml`.
fn config_arg(args: &ApplyArgs) -> FileArg {
    FileArg {
        file: args
            .file
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG)),
    }
}

/// The projects of the config that a saved plan's parts are for (those `--only` selects); a
/// part for a project the config does not list is refused.
fn projects_of(
    plan: &Plan,
    plan_file: &str,
    loaded: &LoadedConfig,
    flags: &RunFlags,
    only: &[String],
) -> Result<Vec<Project>> {
    let selected = pipeline::select(loaded, flags, only)?;
    let mut out = Vec::with_capacity(plan.projects.len());
    for label in plan.projects.iter().map(|p| p.label.as_deref()) {
        if !only.is_empty() && !label.is_some_and(|l| only.iter().any(|o| o == l)) {
            continue;
        }
        let Some(project) = selected.iter().find(|p| p.label() == label) else {
            bail!(
                "{} plans for project {}, which {} does not list; nothing was sent",
                visible(plan_file),
                label.unwrap_or_default(),
                visible(&loaded.source)
            );
        };
        out.push(project.clone());
    }
    Ok(out)
}

/// Checks a project's part of a saved plan against what this run resolves for it: the
/// endpoint, the identity, and the project id once it is known.
#[allow(clippy::too_many_arguments)] // what a binding is checked against, each named
fn bind(
    plan: &Plan,
    plan_file: &str,
    loaded: &LoadedConfig,
    project: &Project,
    endpoint: &str,
    project_id: Option<&crate::core::model::ProjectId>,
    identity: &crate::core::plan::Identity,
) -> Result<()> {
    let Some(part) = plan.part(project.label()) else {
        return Ok(());
    };
    announced::bind_part(
        part, plan_file, loaded, project, endpoint, project_id, identity,
    )
}

/// Each project of a plan beside its part, by label (the pipeline keeps both in plan order).
fn pair(reached: Vec<Reached>, plan: Plan) -> Result<Vec<(Reached, ProjectPlan)>> {
    let mut parts: HashMap<Option<String>, ProjectPlan> = plan
        .projects
        .into_iter()
        .map(|p| (p.label.clone(), p))
        .collect();
    reached
        .into_iter()
        .map(|r| {
            let label = r.project.label().map(str::to_owned);
            let part = parts.remove(&label).ok_or_else(|| {
                anyhow::anyhow!(
                    "internal error (a bug in poolform): no part of the plan for {}; nothing was deleted",
                    label.as_deref().unwrap_or("the project")
                )
            })?;
            Ok((r, part))
        })
        .collect()
}

/// No saved plan: plan every project now, show it, and ask once (unless --auto-approve);
/// after `yes`, each project's part is checked against a fresh listing exactly as a saved
/// plan is. Approved in advance, each is authorized against the listing it was made from.
async fn prepare_fresh(
    args: &ApplyArgs,
    style: Style,
    interrupt: &Arc<StopSignal>,
) -> Result<Prepared> {
    let loaded = with_states(
        load_config(&config_arg(args), interrupt).await?,
        &args.terraform_state,
        interrupt,
    )
    .await?;
    let listings = if args.auto_approve {
        Listings::Kept
    } else {
        Listings::Dropped
    };
    let judged_at = Instant::now();
    let run = pipeline::plan_projects(
        &loaded,
        &args.connection,
        &args.projects,
        &args.target,
        &paced(args, interrupt),
        listings,
        "nothing was planned",
    )
    .await?;
    // Shown in full even when it is refused: the reviewer sees what was meant.
    show_plan(&run.plan, args, style);
    refuse_failures(&run.plan, "nothing was deleted in any project")?;
    caps::check_config(
        &run.plan,
        "the plan above",
        &loaded.config,
        args.max_deletes,
    )?;
    caps::check_share(
        &caps::shares(&run.plan),
        "the plan above",
        &loaded.config,
        args.max_deletes_percent,
    )?;
    let deletes = run.plan.deletes();
    if deletes == 0 {
        output::stderr_line("No changes. Nothing to delete.");
        return Ok(Prepared::Ended(RunEnd::Completed));
    }
    refuse_unannounced(
        &run.plan,
        run.reached.iter().map(|r| &r.project),
        &loaded.source,
    )?;
    // Nothing to confirm above (a pipeline with nothing to delete ends 0); something to
    // delete needs a yes that only a terminal, or --auto-approve, can give.
    let mut what = render::plural(deletes, "pool", "pools");
    if run.plan.projects.len() > 1 {
        what.push_str(&format!(" in {} projects", run.plan.projects.len()));
    }
    if let Some(end) = approve(args, deletes, &what, interrupt).await? {
        return Ok(Prepared::Ended(end));
    }
    // From here on a signal lets the calls in flight finish; said when it comes.
    if let Some(first) = run.reached.first() {
        acknowledge_signals(&first.client);
    }
    let parts = pair(run.reached, run.plan)?;
    if !args.auto_approve {
        // Time has passed while the plan was read: apply it only if it still holds.
        let ready = recheck_all(parts, "the plan shown above", &loaded.source, style, args).await?;
        return Ok(Prepared::Run(ready));
    }
    let ready = parts
        .into_iter()
        .map(|(r, part)| approved(r, part, &loaded.source, judged_at))
        .collect::<Result<Vec<_>>>()?;
    Ok(Prepared::Run(ready))
}

/// An announcement: bound, listed and narrowed ([`announced::prepare`]); when it is due, each
/// project's part is authorized against the very listing it was narrowed on. It is its own
/// review (posted a notice period ahead): no prompt.
async fn prepare_announced(
    plan: Plan,
    plan_file: &str,
    args: &ApplyArgs,
    interrupt: &Arc<StopSignal>,
) -> Result<(Prepared, Option<AnnouncementApplied>)> {
    let loaded = with_states(
        load_config(&config_arg(args), interrupt).await?,
        &args.terraform_state,
        interrupt,
    )
    .await?;
    let options = paced(args, interrupt);
    match announced::prepare(plan, plan_file, &loaded, args, &options).await? {
        Announced::NotDue(end) => Ok((Prepared::Ended(end), None)),
        Announced::Due {
            announcement,
            parts,
            dropped,
            judged_at,
        } => {
            if let Some((first, _)) = parts.first() {
                acknowledge_signals(&first.client);
            }
            let ready = parts
                .into_iter()
                .map(|(r, part)| approved(r, part, &loaded.source, judged_at))
                .collect::<Result<Vec<_>>>()?;
            check_shares_now(
                &ready,
                &format!("the announcement in {plan_file}"),
                &loaded,
                args,
            )?;
            let applied = AnnouncementApplied::new(&announcement, dropped);
            Ok((Prepared::Run(ready), Some(applied)))
        }
    }
}

/// The percentage cap against the fresh listings: each project's deletes (and the whole
/// run's) against its live pools in scope now.
fn check_shares_now(
    ready: &[Ready],
    what: &str,
    loaded: &LoadedConfig,
    args: &ApplyArgs,
) -> Result<()> {
    let shares: Vec<caps::Share<'_>> = ready
        .iter()
        .map(|r| caps::Share {
            label: r.part.label.as_deref(),
            deletes: r.work.steps.len(),
            in_scope: r.part.in_scope,
        })
        .collect();
    Ok(caps::check_share(
        &shares,
        what,
        &loaded.config,
        args.max_deletes_percent,
    )?)
}

/// A plan that is not an announcement deletes nothing in a project whose config asks for
/// notice (`notice:`): refused, with the next step.
fn refuse_unannounced<'a>(
    plan: &Plan,
    projects: impl Iterator<Item = &'a Project>,
    source: &str,
) -> Result<()> {
    for project in projects {
        let (Some(notice), Some(part)) = (project.notice, plan.part(project.label())) else {
            continue;
        };
        if !part.changes.is_empty() {
            bail!(
                "{} asks for {notice} of notice before any delete{}, and this plan is not an announcement; nothing was sent. \
                 Announce the deletes with `poolform plan --notice {notice} -o announcement.json`, and apply that file once it is due",
                visible(source),
                project.label().map(|l| format!(" in {l}")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// Approved in advance: a project's part was made from the very listing kept beside it.
fn approved(
    reached: Reached,
    part: ProjectPlan,
    source: &str,
    judged_at: Instant,
) -> Result<Ready> {
    let Reached {
        project,
        client,
        live,
    } = reached;
    let live = live.ok_or_else(|| {
        anyhow::anyhow!("internal error (a bug in poolform) while authorizing: a listing was not kept; nothing was deleted")
    })?;
    let authorized = authorize::authorize(&part, "the plan", &project.rules, source, &live)?;
    let label = project.label().map(str::to_owned);
    let judge = Judge::new(project.rules, source.to_owned());
    judge.saw(&live);
    Ok(Ready {
        work: Work {
            label,
            steps: authorized.steps,
            settled: Vec::new(),
            judge,
            judged_at,
        },
        client,
        part,
    })
}

/// A saved plan read and bound, before any call: to the config it was made from (its kind
/// and its bytes), then each project's part to the endpoint, project and identity this run
/// resolves (before anything whose cost depends on the plan's size); then checked against
/// itself, cut to `--only` and the `--target`s, and held to the config's caps.
struct Bound {
    plan: Plan,
    plan_file: String,
    loaded: LoadedConfig,
    resolved: Vec<(Project, crate::api::connection::Resolved)>,
}

async fn bind_saved(
    plan: Plan,
    plan_file: String,
    args: &ApplyArgs,
    interrupt: &Arc<StopSignal>,
) -> Result<Bound> {
    if args.if_due {
        bail!(
            "--if-due is for an announcement (made with `poolform plan --notice`), and {} is a plain saved plan; nothing was sent",
            visible(&plan_file)
        );
    }
    // Without -f, a plan made from another file gets that file suggested (never read: a path
    // taken from a plan file is only ever shown).
    let suggest = |e: anyhow::Error| match (&args.file, plan.source.as_str()) {
        (None, source) if source != DEFAULT_CONFIG => e.context(format!(
            "{plan_file} was made from {}: pass -f {} to apply it",
            visible(source),
            crate::cli::hint::shell_word(source)
        )),
        _ => e,
    };
    let loaded = load_config(&config_arg(args), interrupt)
        .await
        .map_err(suggest)?;
    let loaded = with_states(loaded, &args.terraform_state, interrupt).await?;
    check_states(&plan, &plan_file, &loaded)?;
    let file = visible(&loaded.source);
    authorize::check_config(
        &plan,
        &visible(&plan_file),
        &file,
        &loaded.config,
        &loaded.sha256,
    )
    .map_err(|e| suggest(e.into()))?;
    let flags = pipeline::run_flags(&args.connection, &args.projects)?;
    let projects = projects_of(&plan, &plan_file, &loaded, &flags, &args.projects.only)?;
    let resolved = pipeline::resolve_all(projects, &flags, &loaded.source)?;
    for (project, r) in &resolved {
        let known = match &r.project {
            ProjectSource::Known(p) => Some(p),
            ProjectSource::LookUp { .. } => None,
        };
        let (endpoint, identity) = (r.endpoint_text(), r.identity());
        bind(
            &plan, &plan_file, &loaded, project, &endpoint, known, &identity,
        )
        .map_err(suggest)?;
    }
    let plan = plan
        .checked(&plan_file)?
        .select_projects(&args.projects.only)
        .map_err(|e| anyhow::anyhow!("{}: {e}", visible(&plan_file)))?;
    let plan = pipeline::restrict(plan, &args.target, &[])?;
    caps::check_config(&plan, &what(&plan_file), &loaded.config, args.max_deletes)?;
    caps::check_share(
        &caps::shares(&plan),
        &what(&plan_file),
        &loaded.config,
        args.max_deletes_percent,
    )?;
    let resolved: Vec<_> = resolved
        .into_iter()
        .filter(|(p, _)| plan.part(p.label()).is_some())
        .collect();
    refuse_unannounced(&plan, resolved.iter().map(|(p, _)| p), &loaded.source)?;
    Ok(Bound {
        plan,
        plan_file,
        loaded,
        resolved,
    })
}

/// A saved plan is bound to the Terraform states it was made with: the same SHA-256s, read
/// again from the config's `keep_terraform_state` and this run's `--terraform-state` files.
fn check_states(plan: &Plan, plan_file: &str, loaded: &LoadedConfig) -> Result<()> {
    let mut planned: Vec<&str> = plan
        .terraform_states
        .iter()
        .map(|d| d.sha256.as_str())
        .collect();
    let digests = loaded.states.digests();
    let mut now: Vec<&str> = digests.iter().map(|d| d.sha256.as_str()).collect();
    planned.sort_unstable();
    now.sort_unstable();
    if planned != now {
        bail!(
            "Terraform's state changed since the plan: {} was made with {} state file(s) ({}), and this run reads {} ({}); nothing was sent. Re-plan with the states as they are now (the same --terraform-state files, and the config's keep_terraform_state), and review the new plan",
            visible(plan_file),
            plan.terraform_states.len(),
            describe_states(&plan.terraform_states),
            digests.len(),
            describe_states(&digests)
        );
    }
    Ok(())
}

/// `name (sha256 0123abcd…)`, for each state.
fn describe_states(states: &[crate::core::plan::StateDigest]) -> String {
    if states.is_empty() {
        return "none".to_owned();
    }
    states
        .iter()
        .map(|d| {
            format!(
                "{} sha256 {}…",
                visible(&d.file),
                &d.sha256[..d.sha256.len().min(12)]
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a saved plan is named in messages.
fn what(plan_file: &str) -> String {
    format!("the plan in {plan_file}")
}

/// A saved plan, bound ([`bind_saved`]), connected (a project looked up at IAM checked once
/// its id is known), and re-checked in every project.
async fn prepare_saved(
    plan: Plan,
    plan_file: String,
    args: &ApplyArgs,
    style: Style,
    interrupt: &Arc<StopSignal>,
) -> Result<Prepared> {
    let Bound {
        plan,
        plan_file,
        loaded,
        resolved,
    } = bind_saved(plan, plan_file, args, interrupt).await?;
    let reached = pipeline::connect_all(resolved, &paced(args, interrupt)).await?;
    for r in &reached {
        let c = r.client.connection();
        let endpoint = c.endpoint_text();
        let id = Some(&c.project_id);
        bind(
            &plan,
            &plan_file,
            &loaded,
            &r.project,
            &endpoint,
            id,
            &c.identity,
        )?;
    }
    if let Some(first) = reached.first() {
        acknowledge_signals(&first.client);
    }
    if let Some(partial) = render::partial_notice(&plan) {
        output::stderr_line(&visible(&partial));
    }
    let created_at = plan.created_at.clone();
    let made_with = made_with(&plan);
    let parts = pair(reached, plan)?;
    let ready = recheck_all(parts, &what(&plan_file), &loaded.source, style, args).await?;
    check_shares_now(&ready, &what(&plan_file), &loaded, args)?;
    let steps: usize = ready.iter().map(|r| r.work.steps.len()).sum();
    let settled: usize = ready.iter().map(|r| r.work.settled.len()).sum();
    let projects = match ready.len() {
        1 => String::new(),
        n => format!(" in {n} projects"),
    };
    output::stderr_line(&format!(
        "Applying the saved plan {} (made {} with {}){projects}: {steps} to delete, {settled} already gone.",
        visible(&plan_file),
        visible(&created_at),
        visible(&made_with),
    ));
    Ok(Prepared::Run(ready))
}

/// Who made a saved plan, in words: each distinct identity its projects were planned with.
fn made_with(plan: &Plan) -> String {
    let mut said: Vec<String> = Vec::new();
    for part in &plan.projects {
        let words = part.identity.describe();
        if !said.contains(&words) {
            said.push(words);
        }
    }
    said.join("; ")
}

/// The oldest judgement a DELETE is sent on: five minutes, or less when
/// `POOLFORM_MAX_JUDGEMENT_AGE` (a duration) asks for less, for tests; never more.
fn max_judgement_age() -> Result<Duration> {
    let Some(text) = std::env::var("POOLFORM_MAX_JUDGEMENT_AGE")
        .ok()
        .filter(|t| !t.is_empty())
    else {
        return Ok(apply::MAX_JUDGEMENT_AGE);
    };
    match humantime::parse_duration(&text) {
        Ok(d) if d > Duration::ZERO => Ok(d.min(apply::MAX_JUDGEMENT_AGE)),
        _ => bail!(
            "POOLFORM_MAX_JUDGEMENT_AGE={:?} is not a duration such as 30s (it can shorten the 5m limit, never lengthen it)",
            crate::core::escape::visible(&text)
        ),
    }
}

/// How apply's calls are paced: the run's rate limit, and its calls in flight at once.
fn paced(args: &ApplyArgs, interrupt: &Arc<StopSignal>) -> ClientOptions {
    ClientOptions {
        calls_at_once: usize::from(args.parallelism),
        ..client_options(interrupt, args.rate_limit)
    }
}

/// `planned` events for `--format jsonl`: every step and every pool already settled, each
/// with why its project's part of the plan planned it, written a block at a time.
fn announce(ready: &Ready, mut events: Batch) {
    let changes: HashMap<&PoolId, &Change> =
        ready.part.changes.iter().map(|c| (&c.pool.id, c)).collect();
    for step in &ready.work.steps {
        if let Some(change) = changes.get(&step.pool().id) {
            events.planned(change);
        }
    }
    for settled in &ready.work.settled {
        if let Some(change) = changes.get(&settled.pool.id) {
            events.planned_gone(change);
        }
    }
    events.flush();
}

/// Runs every project's deletes at once (sharing the run's `--parallelism`: one project may
/// use all of it), then reports them together.
async fn execute(
    ready: Vec<Ready>,
    announced: Option<AnnouncementApplied>,
    args: &ApplyArgs,
    style: Style,
    interrupt: &Arc<StopSignal>,
) -> Result<RunEnd> {
    if let Some(signal) = interrupt.signal() {
        output::stderr_line("Interrupted before any DELETE was sent.");
        return Ok(RunEnd::Interrupted(signal));
    }
    let options = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        wait_blocked: args.wait_blocked,
        verify_timeout: args.verify_timeout,
        max_judgement_age: max_judgement_age()?,
        ..ApplyOptions::default()
    };
    let Some(first) = ready.first() else {
        let report = Report::new(Vec::new()).with_announcement(announced);
        return Ok(print_report(&report, args, style));
    };
    let total = ready
        .iter()
        .map(|r| r.work.steps.len() + r.work.settled.len())
        .sum();
    let progress = Arc::new(Progress::new(total, first.client.listing_counts().clone()));
    let jsonl = args.format == ApplyFormat::Jsonl;
    if jsonl {
        // Every project's deletes are announced before any is sent.
        for r in &ready {
            announce(r, Batch::of(r.work.label.as_deref()));
        }
        if let Some(a) = &announced {
            JsonLines::dropped(&a.dropped);
        }
    }
    let mut tasks = Vec::with_capacity(ready.len());
    for r in ready {
        let observer: Arc<dyn Observer> = if jsonl {
            let events = JsonLines::of(r.work.label.as_deref());
            Arc::new(crate::apply::Tee(progress.clone(), events))
        } else {
            progress.clone()
        };
        for settled in &r.work.settled {
            observer.step_finished(settled);
        }
        let options = options.clone();
        // The only place a client that can delete is made: after the plan was shown,
        // approved and checked again.
        let deleter = Deleter::new(r.client);
        tasks.push(async move { apply::apply(&deleter, r.work, &options, observer).await });
    }
    let mut parts = Vec::with_capacity(tasks.len());
    for done in pipeline::at_once(tasks).await {
        parts.push(done?);
    }
    progress.finish();
    let report = Report::new(parts).with_announcement(announced);
    Ok(print_report(&report, args, style))
}

/// Prints the report in the format asked for; how the run ended (failed when the report
/// could not be written, said on stderr instead: the only audit trail of the DELETEs).
fn print_report(report: &Report, args: &ApplyArgs, style: Style) -> RunEnd {
    match args.format {
        ApplyFormat::Jsonl => JsonLines::summaries(report),
        ApplyFormat::Human => output::stdout(&render::report_human(report, &styled(style))),
        ApplyFormat::Json => output::stdout(&report.to_json()),
        ApplyFormat::Markdown => output::stdout(&render::report_markdown(report)),
    }
    if let Some(why) = output::take_stdout_failure() {
        output::stderr_line(&visible(&render::lost_report(report, &why)));
        return RunEnd::Failed;
    }
    report.end
}
