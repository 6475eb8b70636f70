//! `poolform plan`: list the live pools, plan against the config, print (and save) the plan.

use crate::api::StopSignal;
use crate::api::{Client, ListFilter};
use crate::app::{
    client_with, endpoint_text, load_config, now_rfc3339, pacing, style, LoadedConfig, RunEnd,
};
use crate::cli::{GlobalArgs, PlanArgs};
use crate::files::write_atomic_with;
use crate::model::Live;
use crate::plan::Plan;
use crate::planner::{self, PlanContext};
use crate::progress::Activity;
use crate::{output, render};
use anyhow::{Context, Result};
use std::sync::Arc;

/// Lists the live pools: the listing a plan (or an apply) decides from.
pub async fn list_live(client: &Client, nothing_done: &str) -> Result<Live> {
    let activity = Activity::listing("Listing pools", client.listing_counts().clone());
    let listed = client.list_pools(&ListFilter::default()).await;
    activity.finish();
    listed.with_context(|| format!("cannot list the live pools; {nothing_done}"))
}

/// Plans `loaded` against `live`.
pub fn make_plan(loaded: &LoadedConfig, client: &Client, live: &Live) -> Result<Plan> {
    let ctx = PlanContext {
        project_id: client.connection().project_id.clone(),
        endpoint: endpoint_text(client),
        created_at: now_rfc3339(),
        source: loaded.source.clone(),
        config_sha256: loaded.sha256.clone(),
    };
    Ok(planner::plan(&loaded.config, live, &ctx)?)
}

pub async fn run(args: &PlanArgs, global: &GlobalArgs, stop: &Arc<StopSignal>) -> Result<RunEnd> {
    let loaded = load_config(&args.file)?;
    let client = client_with(&args.connection, Some(&loaded), pacing(stop)).await?;
    let live = list_live(&client, "nothing was planned").await?;
    let plan = make_plan(&loaded, &client, &live)?.restrict(&args.target)?;
    // The plan holds what it shows: the listing's memory goes before the plan is rendered.
    drop(live);
    match render::Format::from(args.format) {
        render::Format::Json => output::stdout_with(|w| plan.write_json(w)),
        format => output::stdout(&render::plan(&plan, format, style(global.color))),
    }
    // Refused after it is shown, so that a reviewer sees which pools were meant; nothing is
    // saved.
    planner::check_max_deletes(&plan, &loaded.config, args.max_deletes)?;
    if let Some(out) = &args.out {
        // Whatever a hostile server put into a pool name, no secret reaches the file (the
        // writer redacts); a plan file is private (0600): it names every pool the project holds.
        write_atomic_with(out, 0o600, |w| plan.write_json(w))?;
        output::stderr_line(&format!(
            "Saved the plan to {}. Apply exactly this plan with: poolform apply {}",
            out.display(),
            out.display()
        ));
    }
    Ok(if args.detailed_exitcode && plan.has_drift() {
        RunEnd::Drift
    } else {
        RunEnd::Completed
    })
}
