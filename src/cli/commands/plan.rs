//! `poolform plan`: list the live pools of every project the config means, plan against the
//! config, print (and save) the plan.

use crate::api::StopSignal;
use crate::cli::args::{GlobalArgs, PlanArgs};
use crate::cli::context::{client_options, load_config, reload_plan, view, with_states};
use crate::cli::files::write_atomic_with;
use crate::cli::pipeline::{self, Listings};
use crate::cli::{output, render};
use crate::core::caps;
use crate::core::escape::visible;
use crate::core::narrowing;
use crate::core::plan::{Announcement, Plan};
use crate::core::run_end::RunEnd;
use anyhow::{bail, Context, Result};
use std::sync::Arc;

pub async fn run(args: &PlanArgs, global: &GlobalArgs, stop: &Arc<StopSignal>) -> Result<RunEnd> {
    if args.notice.is_some() && args.out.is_none() {
        bail!(
            "--notice makes an announcement, and an announcement must be kept until it is applied: add -o FILE (for example -o announcement.json); nothing was planned"
        );
    }
    let loaded = with_states(
        load_config(&args.file, stop).await?,
        &args.terraform_state,
        stop,
    )
    .await?;
    if let Some(notice) = args.notice {
        let projects = crate::core::projects::projects(&loaded.config);
        if let Some((label, needed)) = narrowing::notice_too_short(notice, &projects) {
            bail!(
                "--notice {notice} is shorter than the notice {needed} that {} asks for{}: announce with --notice {needed} or longer; nothing was planned",
                visible(&loaded.source),
                label.map(|l| format!(" in {l}")).unwrap_or_default()
            );
        }
    }
    let run = pipeline::plan_projects(
        &loaded,
        &args.connection,
        &args.projects,
        &args.target,
        &client_options(stop, None),
        Listings::Dropped,
        "nothing was planned",
    )
    .await?;
    let mut plan = run.plan;
    drop(run.reached);
    if let Some(notice) = args.notice {
        plan.announcement = Announcement::of_clocks(notice, plan.projects.iter().map(|p| p.clock));
    }
    match render::Format::from(args.format) {
        render::Format::Json => output::stdout_with(|w| plan.write_json(w)),
        format => output::stdout(&render::plan(&plan, format, &view(global.color))),
    }
    // Refused after it is shown, so that a reviewer sees which pools were meant; nothing is
    // saved.
    refuse_failures(
        &plan,
        "nothing was saved, and nothing is applied while any project is in error",
    )?;
    caps::check_config(&plan, "the plan above", &loaded.config, args.max_deletes)?;
    caps::check_share(
        &caps::shares(&plan),
        "the plan above",
        &loaded.config,
        args.max_deletes_percent,
    )?;
    let drift = plan.has_drift();
    let unannounced = plan.deletes() > 0
        && plan.announcement.is_none()
        && crate::core::projects::projects(&loaded.config)
            .iter()
            .any(|p| p.notice.is_some());
    drop(loaded);
    if let Some(out) = &args.out {
        let announced = plan.announcement;
        let deletes = plan.deletes();
        save_plan(plan, out)?;
        match announced {
            Some(a) => say_announced(args, out, &a, deletes),
            None => say_saved(args, out),
        }
        if unannounced {
            output::stderr_line(&format!(
                "Note: {} asks for notice before any delete: this plan is for review and cannot be applied; announce its deletes with `poolform plan --notice DURATION -o FILE`.",
                visible(&args.file.file.display().to_string())
            ));
        }
    }
    Ok(end(args, drift))
}

/// A plan in which a project failed is shown, then refused (`nothing_done` says what did not
/// happen): nothing is saved or applied.
pub fn refuse_failures(plan: &Plan, nothing_done: &str) -> Result<()> {
    if plan.failures.is_empty() {
        return Ok(());
    }
    let labels: Vec<&str> = plan.failures.iter().map(|f| f.label.as_str()).collect();
    bail!(
        "{} of {} projects could not be planned ({}); {nothing_done}",
        plan.failures.len(),
        plan.failures.len() + plan.projects.len(),
        labels.join(", ")
    )
}

/// The command that applies the plan saved to `out`, with every flag it needs again.
fn apply_hint(args: &PlanArgs, out: &std::path::Path) -> String {
    crate::cli::hint::apply_command(
        &out.display().to_string(),
        &args.file.file.display().to_string(),
        &args.connection,
        &args.projects,
        &crate::cli::hint::Repeated {
            targets: &args.target,
            max_deletes: args.max_deletes,
            max_deletes_percent: args.max_deletes_percent,
            terraform_states: &args.terraform_state,
        },
    )
}

/// Says where the plan was saved and the command that applies exactly it.
fn say_saved(args: &PlanArgs, out: &std::path::Path) {
    let apply = apply_hint(args, out);
    output::stderr_line(&crate::core::escape::visible(&format!(
        "Saved the plan to {}. Apply exactly this plan with: {apply}",
        out.display()
    )));
}

/// Says where the announcement was saved, when it is due, and the command that applies it
/// then (a scheduled job passes `--if-due`).
fn say_announced(args: &PlanArgs, out: &std::path::Path, a: &Announcement, deletes: usize) {
    let apply = apply_hint(args, out);
    let what = match deletes {
        0 => "It announces no delete".to_owned(),
        n => format!(
            "Its {} will be deleted on or after {} unless {} keeps them",
            render::plural(n, "pool", "pools"),
            a.not_before,
            args.file.file.display()
        ),
    };
    output::stderr_line(&visible(&format!(
        "Saved the announcement to {}. {what}; it can be applied until {}. Apply it when it is due with: {apply} --if-due",
        out.display(),
        a.valid_until
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

/// Writes `plan` to `out` (private: it names every pool the projects hold), drops it (only one
/// copy of a large plan is held at a time), then reads it back as apply will and checks that
/// what loads writes the very same bytes (the apply hint is said only after). The plan is data:
/// written as it is, never redacted; one that would hold a credential in use is not written.
fn save_plan(plan: Plan, out: &std::path::Path) -> Result<()> {
    let mut written = String::new();
    write_atomic_with(out, 0o600, |w| {
        let mut hashing = crate::cli::files::Hashing::new(w);
        plan.write_json(&mut hashing)?;
        written = hashing.hex();
        Ok(())
    })?;
    drop(plan);
    let saved = reload_plan(out).with_context(|| {
        format!(
            "the plan written to {} does not read back (a bug in poolform); do not apply it",
            out.display()
        )
    })?;
    let mut again = crate::cli::files::Hashing::new(std::io::sink());
    saved.write_json(&mut again)?;
    if again.hex() != written {
        bail!(
            "the plan written to {} reads back differently (a bug in poolform); do not apply it",
            out.display()
        );
    }
    Ok(())
}
