//! `poolform apply`: apply a saved plan as reviewed, or plan, show, confirm and apply.
//!
//! Either way, before any DELETE the config is planned again against a fresh listing and each
//! delete must still be called for (`authorize`); planned pools the listing no longer shows are
//! confirmed gone by a read of each; then the applier runs and verifies.

use crate::api::connection::ProjectSource;
use crate::api::Client;
use crate::apply::{self, ApplyOptions, Judge, Observer, StopSignal, Work};
use crate::cli::args::{ApplyArgs, ApplyFormat, FileArg, GlobalArgs};
use crate::cli::context::{
    client_options, client_with, connect, list_live, load_config, make_plan, resolve, restrict,
    style, styled, LoadedConfig,
};
use crate::cli::jsonl::JsonLines;
use crate::cli::output;
use crate::cli::progress::Progress;
use crate::cli::render::{self, Style, View};
use crate::core::authorize::{self, Objection, Refusal, Target};
use crate::core::model::PoolRef;
use crate::core::plan::Plan;
use crate::core::planner;
use crate::core::report::{Outcome, StepResult};
use crate::core::run_end::RunEnd;
use anyhow::{bail, Result};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Says, once a signal stops the run, what happens now: the calls in flight finish, nothing
/// new starts, and a second signal exits at once.
pub(super) fn acknowledge_signals(client: &Client) {
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
pub(super) enum Answer {
    Yes,
    No,
    /// A signal came first: nothing was sent.
    Interrupted(crate::core::run_end::Signal),
}

/// Asks on the terminal; yes only for `yes`. A signal at the prompt ends the wait at once:
/// nothing was sent. Standard input is read on a thread of its own, which never holds up the
/// exit.
pub(super) async fn confirm(deletes: usize, interrupt: &StopSignal) -> Result<Answer> {
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
pub(super) async fn approve(
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
pub(super) fn show_plan(plan: &Plan, args: &ApplyArgs, style: Style) {
    if args.format == ApplyFormat::Human {
        output::stdout(&render::plan(plan, render::Format::Human, &styled(style)));
    } else {
        output::stderr(&render::plan(plan, render::Format::Human, &View::PLAIN));
    }
}

/// What is left to do once the deletes are known, or how the command already ended.
pub(super) enum Prepared {
    Run {
        client: Client,
        work: Work,
        /// The plan the steps come from (for the events that describe them).
        plan: Option<Box<Plan>>,
    },
    Ended(RunEnd),
}

impl Prepared {
    fn with_plan(self, plan: Plan) -> Prepared {
        match self {
            Prepared::Run { client, work, .. } => Prepared::Run {
                client,
                work,
                plan: Some(Box::new(plan)),
            },
            ended => ended,
        }
    }
}

/// The config's judge, for judging pools again as the run goes.
pub(super) fn judge(loaded: &LoadedConfig) -> Judge {
    Judge::new(loaded.config.clone(), loaded.source.clone())
}

/// The most planned pools a saved plan may find missing from the apply-time listing before
/// each is read: more than this, and more than a tenth of its deletes, and the plan is refused
/// unread (a forged plan cannot spend the tenant's rate limit on invented pools).
const MAX_ABSENT: usize = 10;

/// Refuses a plan whose planned pools are mostly not listed, before any per-pool read.
fn check_absent(what: &str, absent: usize, deletes: usize) -> Result<()> {
    if absent > MAX_ABSENT && absent > deletes / 10 {
        bail!(
            "{what} plans to delete {deletes} pools, {absent} of which the listing does not show; more than {MAX_ABSENT} and more than a tenth of its deletes: the plan does not describe this project (or was padded by hand). Nothing was read or deleted; plan again and review the new plan"
        );
    }
    Ok(())
}

/// Lists the live pools and checks `plan` against `loaded` planned again on them; planned
/// pools no longer listed are confirmed gone, each by a read (unless too many are missing).
/// Refuses the whole plan when anything does not hold. `what` names the plan in messages.
pub(super) async fn recheck(
    plan: &Plan,
    what: &str,
    loaded: &LoadedConfig,
    client: Client,
    style: Style,
    parallelism: usize,
) -> Result<Prepared> {
    let judged_at = Instant::now();
    let live = list_live(&client, loaded, "nothing was deleted").await?;
    let authorized = match authorize::authorize(plan, what, &loaded.config, &loaded.source, &live) {
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
    check_absent(what, authorized.unlisted.len(), plan.changes.len())?;
    let settled = confirm_gone(&client, authorized.unlisted, parallelism).await?;
    Ok(Prepared::Run {
        client,
        work: Work {
            steps: authorized.steps,
            settled,
            judge: judge(loaded),
            judged_at,
        },
        plan: None,
    })
}

pub(super) fn parallelism(args: &ApplyArgs) -> usize {
    usize::from(args.parallelism)
}

/// Reads each planned pool the listing no longer shows (`parallelism` at a time): each read
/// that finds no such pool settles its step as already absent (before this apply), with the
/// read's request id. A pool still found, or a read that fails, refuses the whole plan: the
/// listing it was planned against cannot be trusted.
async fn confirm_gone(
    client: &Client,
    unlisted: Vec<PoolRef>,
    parallelism: usize,
) -> Result<Vec<StepResult>> {
    let ids = unlisted.iter().map(|p| p.id.clone()).collect();
    let shown = client.show_pools(ids, parallelism).await?;
    let mut settled = Vec::with_capacity(unlisted.len());
    for (pool, (_, shown)) in unlisted.into_iter().zip(shown) {
        let shown = shown.map_err(|e| {
            anyhow::anyhow!(
                "pool {} ({:?}) is planned but missing from the listing, and a read to confirm it is gone failed: {e}; nothing was deleted",
                pool.id,
                pool.name
            )
        })?;
        if shown.pool.is_some() {
            bail!(
                "pool {} ({:?}) is planned but missing from the listing, yet a read still finds it [request id: {}]: the listing cannot be trusted; nothing was deleted",
                pool.id,
                pool.name,
                shown.request_id.as_deref().unwrap_or("none")
            );
        }
        settled.push(StepResult {
            request_id: shown.request_id,
            absent_before_apply: true,
            ..StepResult::without_call(
                pool,
                Outcome::AlreadyAbsent,
                "absent before apply: not listed when this apply started, and a read confirms it is gone".into(),
            )
        });
    }
    Ok(settled)
}

/// The config file apply reads: `-f`, else `pools.yaml`.
pub(super) fn config_arg(args: &ApplyArgs) -> FileArg {
    FileArg {
        file: args
            .file
            .clone()
            .unwrap_or_else(|| PathBuf::from("pools.yaml")),
    }
}

/// A saved plan: bound to the config it was made from, and to the endpoint, project and
/// identity this run resolves (checked before any request carries credentials, and before
/// anything whose cost depends on the plan's contents); then re-checked.
async fn prepare_saved(
    path: &std::path::Path,
    plan: Plan,
    args: &ApplyArgs,
    style: Style,
    interrupt: &Arc<StopSignal>,
) -> Result<Prepared> {
    let plan_file = path.display().to_string();
    // Without -f, a plan made from another file gets that file suggested (never read: a path
    // taken from a plan file is only ever shown).
    let suggest = |e: anyhow::Error| match (&args.file, plan.source.as_str()) {
        (None, source) if source != "pools.yaml" => e.context(format!(
            "{plan_file} was made from {}: pass -f {} to apply it",
            crate::core::escape::visible(source),
            crate::cli::hint::shell_word(source)
        )),
        _ => e,
    };
    let loaded = load_config(&config_arg(args), interrupt)
        .await
        .map_err(suggest)?;
    super::plan::refuse_project_flags(&args.projects, &loaded)?;
    let resolved = resolve(&args.connection, Some(&loaded))?;
    let endpoint = resolved.endpoint_text();
    let identity = resolved.identity();
    let known_project = match &resolved.project {
        ProjectSource::Known(p) => Some(p.clone()),
        ProjectSource::LookUp { .. } => None,
    };
    let target = |project| Target {
        config_file: &loaded.source,
        config_sha256: &loaded.sha256,
        endpoint: &endpoint,
        project_id: project,
        identity: &identity,
    };
    authorize::check_binding(&plan, &plan_file, &target(known_project.as_ref()))
        .map_err(|e| suggest(e.into()))?;
    let plan = plan.checked(&plan_file)?.restrict(&args.target)?;
    let client = connect(resolved, client_options(interrupt, args.rate_limit)).await?;
    acknowledge_signals(&client);
    // A project looked up at IAM (at the endpoint the run resolved) is checked once known.
    authorize::check_binding(
        &plan,
        &plan_file,
        &target(Some(&client.connection().project_id)),
    )?;
    let what = format!("the plan in {plan_file}");
    let prepared = recheck(&plan, &what, &loaded, client, style, parallelism(args)).await?;
    if let Prepared::Run { work, .. } = &prepared {
        if let Some(partial) = render::partial_notice(&plan) {
            output::stderr_line(&crate::core::escape::visible(&partial));
        }
        output::stderr_line(&format!(
            "Applying the saved plan {} (made {}): {} to delete, {} already gone.",
            crate::core::escape::visible(&plan_file),
            crate::core::escape::visible(&plan.created_at),
            work.steps.len(),
            work.settled.len()
        ));
    }
    Ok(prepared.with_plan(plan))
}

/// No saved plan: plan now, show it, and ask (unless --auto-approve); after `yes`, the plan
/// shown is checked against a fresh listing exactly as a saved plan is.
async fn prepare_fresh(
    args: &ApplyArgs,
    loaded: LoadedConfig,
    style: Style,
    interrupt: &Arc<StopSignal>,
) -> Result<Prepared> {
    super::plan::refuse_project_flags(&args.projects, &loaded)?;
    let client = client_with(
        &args.connection,
        Some(&loaded),
        client_options(interrupt, args.rate_limit),
    )
    .await?;
    let judged_at = Instant::now();
    let live = list_live(&client, &loaded, "nothing was planned").await?;
    let plan = restrict(make_plan(&loaded, &client, &live)?, &args.target, &live)?;
    // Shown in full even when it is refused: the reviewer sees what was meant.
    show_plan(&plan, args, style);
    planner::check_max_deletes(&plan, &loaded.config, args.max_deletes)?;
    if plan.changes.is_empty() {
        output::stderr_line("No changes. Nothing to delete.");
        return Ok(Prepared::Ended(RunEnd::Completed));
    }
    // Nothing to confirm above (a pipeline with nothing to delete ends 0); something to
    // delete needs a yes that only a terminal, or --auto-approve, can give.
    let deletes = render::plural(plan.changes.len(), "pool", "pools");
    if let Some(end) = approve(args, plan.changes.len(), &deletes, interrupt).await? {
        return Ok(Prepared::Ended(end));
    }
    if !args.auto_approve {
        // From here on a signal lets the calls in flight finish; say so when it comes.
        acknowledge_signals(&client);
        // Time has passed while the plan was read: apply it only if it still holds.
        let prepared = recheck(
            &plan,
            "the plan shown above",
            &loaded,
            client,
            style,
            parallelism(args),
        )
        .await?;
        return Ok(prepared.with_plan(plan));
    }
    acknowledge_signals(&client);
    // Approved in advance: the plan was made from this very listing.
    let authorized =
        authorize::authorize(&plan, "the plan", &loaded.config, &loaded.source, &live)?;
    drop(live);
    Ok(Prepared::Run {
        client,
        work: Work {
            steps: authorized.steps,
            settled: Vec::new(),
            judge: judge(&loaded),
            judged_at,
        },
        plan: None,
    }
    .with_plan(plan))
}

/// The oldest judgement a DELETE is sent on: five minutes, or less when
/// `POOLFORM_MAX_JUDGEMENT_AGE` (a duration) asks for less, for tests; never more.
pub(super) fn max_judgement_age() -> Result<Duration> {
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

/// `planned` events for `--format jsonl`: every step and every pool already settled, written
/// a block at a time.
pub(super) fn announce(work: &Work, plan: Option<&Plan>, mut events: crate::cli::jsonl::Batch) {
    let changes: std::collections::HashMap<
        &crate::core::model::PoolId,
        &crate::core::plan::Change,
    > = plan
        .map(|p| p.changes.iter().map(|c| (&c.pool.id, c)).collect())
        .unwrap_or_default();
    for step in &work.steps {
        match changes.get(&step.pool().id) {
            Some(change) => events.planned(change),
            None => events.planned_pool(step.pool()),
        }
    }
    for settled in &work.settled {
        events.planned_settled(settled);
    }
    events.flush();
}

/// Where an apply of a single-project file starts: a saved plan (read, not yet checked), or
/// the config to plan now.
pub enum Start {
    Saved(PathBuf, Box<Plan>),
    Fresh(Box<LoadedConfig>),
}

/// Applies a single-project file's plan (`apply_many::run` decides which kind of file it is).
pub async fn run(
    args: &ApplyArgs,
    global: &GlobalArgs,
    interrupt: &Arc<StopSignal>,
    start: Start,
) -> Result<RunEnd> {
    let style = style(global.color);
    let prepared = match start {
        Start::Saved(path, plan) => prepare_saved(&path, *plan, args, style, interrupt).await?,
        Start::Fresh(loaded) => prepare_fresh(args, *loaded, style, interrupt).await?,
    };
    let (client, work, plan) = match prepared {
        Prepared::Run { client, work, plan } => (client, work, plan),
        Prepared::Ended(end) => return Ok(end),
    };
    if let Some(signal) = interrupt.signal() {
        output::stderr_line("Interrupted before any DELETE was sent.");
        return Ok(RunEnd::Interrupted(signal));
    }
    let options = ApplyOptions {
        parallelism: parallelism(args),
        wait_blocked: args.wait_blocked,
        verify_timeout: args.verify_timeout,
        max_judgement_age: max_judgement_age()?,
        ..ApplyOptions::default()
    };
    let progress = Arc::new(Progress::new(
        work.steps.len() + work.settled.len(),
        client.listing_counts().clone(),
    ));
    let jsonl = args.format == ApplyFormat::Jsonl;
    let observer: Arc<dyn Observer> = if jsonl {
        announce(&work, plan.as_deref(), crate::cli::jsonl::Batch::default());
        Arc::new(crate::apply::Tee(progress.clone(), JsonLines::default()))
    } else {
        progress.clone()
    };
    for settled in &work.settled {
        observer.step_finished(settled);
    }
    let mut report = apply::apply(&client, work, &options, observer).await;
    progress.finish();
    let connection = client.connection();
    report.acted_as = Some(crate::core::report::ActedAs {
        project_id: connection.project_id.clone(),
        endpoint: connection.endpoint_text(),
        identity: connection.identity.clone(),
    });
    match args.format {
        ApplyFormat::Jsonl => JsonLines::default().summary(&report),
        ApplyFormat::Human => output::stdout(&render::report_human(&report, &styled(style))),
        ApplyFormat::Json => output::stdout(&report.to_json()),
        ApplyFormat::Markdown => output::stdout(&render::report_markdown(&report)),
    }
    if let Some(why) = output::take_stdout_failure() {
        // The only audit trail of the DELETEs: said where it can still be read.
        output::stderr_line(&crate::core::escape::visible(&render::lost_report(
            &report, &why,
        )));
        return Ok(RunEnd::Failed);
    }
    Ok(report.end)
}
