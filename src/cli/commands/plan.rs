//! `poolform plan`: list the live pools, plan against the config, print (and save) the plan.

use crate::api::StopSignal;
use crate::cli::args::{GlobalArgs, PlanArgs, ProjectArgs};
use crate::cli::context::{
    client_options, client_with, list_live, load_config, make_plan, reload_plan, restrict, view,
    LoadedConfig,
};
use crate::cli::files::write_atomic_with;
use crate::cli::{output, render};
use crate::core::many_plan::ManyPlan;
use crate::core::plan::Plan;
use crate::core::planner::{self};
use crate::core::run_end::RunEnd;
use anyhow::{bail, Context, Result};
use std::sync::Arc;

pub async fn run(args: &PlanArgs, global: &GlobalArgs, stop: &Arc<StopSignal>) -> Result<RunEnd> {
    let loaded = load_config(&args.file, stop).await?;
    if loaded.config.is_many() {
        return run_many(args, global, stop, loaded).await;
    }
    refuse_project_flags(&args.projects, &loaded)?;
    let client = client_with(&args.connection, Some(&loaded), client_options(stop, None)).await?;
    let live = list_live(&client, &loaded, "nothing was planned").await?;
    let plan = restrict(make_plan(&loaded, &client, &live)?, &args.target, &live)?;
    // The plan holds what it shows: the listing's memory goes before the plan is rendered.
    drop(live);
    match render::Format::from(args.format) {
        render::Format::Json => output::stdout_with(|w| plan.write_json(w)),
        format => output::stdout(&render::plan(&plan, format, &view(global.color))),
    }
    // Refused after it is shown, so that a reviewer sees which pools were meant; nothing is
    // saved.
    planner::check_max_deletes(&plan, &loaded.config, args.max_deletes)?;
    let drift = plan.has_drift();
    drop(loaded);
    if let Some(out) = &args.out {
        save_plan(plan, out)?;
        say_saved(args, out);
    }
    Ok(end(args, drift))
}

/// Says where the plan was saved and the command that applies exactly it.
fn say_saved(args: &PlanArgs, out: &std::path::Path) {
    let apply = crate::cli::hint::apply_command(
        &out.display().to_string(),
        &args.file.file.display().to_string(),
        &args.connection,
        &args.projects,
        &args.target,
    );
    output::stderr_line(&crate::core::escape::visible(&format!(
        "Saved the plan to {}. Apply exactly this plan with: {apply}",
        out.display()
    )));
}

/// How a plan run ends: drift only when `--detailed-exitcode` asks for it.
fn end(args: &PlanArgs, drift: bool) -> RunEnd {
    if args.detailed_exitcode && drift {
        RunEnd::Drift
    } else {
        RunEnd::Completed
    }
}

/// Writes `plan` to `out` (private: it names every pool the project holds), then reads it back
/// and loads it as apply will (the apply hint is said only after). The plan is data: written
/// as it is, never redacted; one that would hold a credential in use is not written.
fn save_plan(plan: Plan, out: &std::path::Path) -> Result<()> {
    save_checked(plan, out, Plan::write_json, reload_plan)
}

/// [`save_plan`] for the plan of a file with `projects:`.
fn save_many(plan: ManyPlan, out: &std::path::Path) -> Result<()> {
    save_checked(plan, out, ManyPlan::write_json, |path| {
        let name = path.display().to_string();
        let reader = std::io::BufReader::new(crate::api::files::open_capped(
            path,
            crate::cli::context::MAX_PLAN_BYTES,
        )?);
        let plan: ManyPlan = serde_json::from_reader(reader)?;
        Ok(plan.checked(&name)?)
    })
}

/// Writes a plan, drops it (only one copy of a large plan is held at a time), loads the file
/// with `reload` as apply will, and checks that what loads writes the very same bytes.
fn save_checked<P>(
    plan: P,
    out: &std::path::Path,
    write: fn(&P, &mut dyn std::io::Write) -> std::io::Result<()>,
    reload: impl FnOnce(&std::path::Path) -> Result<P>,
) -> Result<()> {
    let mut written = String::new();
    write_atomic_with(out, 0o600, |w| {
        let mut hashing = crate::cli::files::Hashing::new(w);
        write(&plan, &mut hashing)?;
        written = hashing.hex();
        Ok(())
    })?;
    drop(plan);
    let saved = reload(out).with_context(|| {
        format!(
            "the plan written to {} does not read back (a bug in poolform); do not apply it",
            out.display()
        )
    })?;
    let mut again = crate::cli::files::Hashing::new(std::io::sink());
    write(&saved, &mut again)?;
    if again.hex() != written {
        bail!(
            "the plan written to {} reads back differently (a bug in poolform); do not apply it",
            out.display()
        );
    }
    Ok(())
}

/// `--only` and `--allow-agency` choose among the projects of a file with `projects:`; a
/// single-project file has none to choose.
pub fn refuse_project_flags(projects: &ProjectArgs, loaded: &LoadedConfig) -> Result<()> {
    let flag = match (projects.only.first(), projects.allow_agency.first()) {
        (Some(_), _) => "--only",
        (None, Some(_)) => "--allow-agency",
        (None, None) => return Ok(()),
    };
    bail!(
        "{flag} is for a file with projects:, and {} names one project; drop {flag}",
        crate::core::escape::visible(&loaded.source)
    )
}

/// A file with `projects:`: every selected project planned at once, one section each, one
/// summary; the exit code the worst of them; saved as one plan bound to every project.
async fn run_many(
    args: &PlanArgs,
    global: &GlobalArgs,
    stop: &Arc<StopSignal>,
    loaded: LoadedConfig,
) -> Result<RunEnd> {
    let (plan, reached) = crate::cli::many::plan_projects(
        &loaded,
        &args.connection,
        &args.projects,
        &args.target,
        &client_options(stop, None),
        false,
        "nothing was planned",
    )
    .await?;
    drop(reached);
    match render::Format::from(args.format) {
        render::Format::Json => output::stdout_with(|w| plan.write_json(w)),
        format => output::stdout(&render::many_plan(&plan, format, &view(global.color))),
    }
    if !plan.failures.is_empty() {
        let labels: Vec<&str> = plan.failures.iter().map(|f| f.label.as_str()).collect();
        bail!(
            "{} of {} projects could not be planned ({}); nothing was saved, and nothing is applied while any project is in error",
            plan.failures.len(),
            plan.failures.len() + plan.projects.len(),
            labels.join(", ")
        );
    }
    crate::cli::many::check_max_deletes(&plan, &loaded, args.max_deletes)?;
    let drift = plan.has_drift();
    if let Some(out) = &args.out {
        save_many(plan, out)?;
        say_saved(args, out);
    }
    Ok(end(args, drift))
}
