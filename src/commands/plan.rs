//! `poolform plan`: list the live pools, plan against the config, print (and save) the plan.

use crate::api::Client;
use crate::api::StopSignal;
use crate::app::{
    client_with, endpoint_text, load_config, now_rfc3339, pacing, reload_plan, style, LoadedConfig,
    RunEnd,
};
use crate::cli::{GlobalArgs, PlanArgs};
use crate::files::write_atomic_with;
use crate::listing::list_for_judging;
use crate::model::Live;
use crate::plan::Plan;
use crate::planner::{self, PlanContext};
use crate::progress::Activity;
use crate::{output, render};
use anyhow::{bail, Context, Result};
use std::sync::Arc;

/// Lists the live pools: the listing a plan (or an apply) decides from, with the tags a tag
/// rule needs read from the pools themselves where the listing left them out.
pub async fn list_live(client: &Client, loaded: &LoadedConfig, nothing_done: &str) -> Result<Live> {
    let activity = Activity::listing("Listing pools", client.listing_counts().clone());
    let listed = list_for_judging(client, &loaded.config, &loaded.source).await;
    activity.finish();
    listed.map_err(|e| match e {
        crate::listing::ListingError::Api(api) => {
            anyhow::Error::new(api).context(format!("cannot list the live pools; {nothing_done}"))
        }
        other => anyhow::anyhow!("{other}; {nothing_done}"),
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

pub async fn run(args: &PlanArgs, global: &GlobalArgs, stop: &Arc<StopSignal>) -> Result<RunEnd> {
    let loaded = load_config(&args.file, stop).await?;
    let client = client_with(&args.connection, Some(&loaded), pacing(stop)).await?;
    let live = list_live(&client, &loaded, "nothing was planned").await?;
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
    let drift = plan.has_drift();
    drop(loaded);
    if let Some(out) = &args.out {
        save_plan(plan, out)?;
    }
    Ok(if args.detailed_exitcode && drift {
        RunEnd::Drift
    } else {
        RunEnd::Completed
    })
}

/// Writes `plan` to `out` (private: it names every pool the project holds), reads it back and
/// loads it as apply will, and only then says how to apply it. The plan is data: written as
/// it is, never redacted; one that would hold a credential in use is not written.
fn save_plan(plan: Plan, out: &std::path::Path) -> Result<()> {
    let mut written = String::new();
    write_atomic_with(out, 0o600, |w| {
        let mut hashing = crate::files::Hashing::new(w);
        plan.write_json(&mut hashing)?;
        written = hashing.hex();
        Ok(())
    })?;
    // Only one copy of a large plan is held at a time.
    drop(plan);
    let saved = reload_plan(out).with_context(|| {
        format!(
            "the plan written to {} does not read back (a bug in poolform); do not apply it",
            out.display()
        )
    })?;
    let mut again = crate::files::Hashing::new(std::io::sink());
    saved.write_json(&mut again)?;
    if again.hex() != written {
        bail!(
            "the plan written to {} reads back differently (a bug in poolform); do not apply it",
            out.display()
        );
    }
    output::stderr_line(&format!(
        "Saved the plan to {}. Apply exactly this plan with: poolform apply {}",
        out.display(),
        out.display()
    ));
    Ok(())
}
