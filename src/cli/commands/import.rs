//! `poolform import`: write a config file that keeps every live pool.

use crate::api::{ListFilter, StopSignal};
use crate::cli::args::ImportArgs;
use crate::cli::context::{client_options, client_with, endpoint_text, env_var, now_rfc3339};
use crate::cli::files::write_atomic;
use crate::cli::output;
use crate::cli::progress::Activity;
use crate::core::config;
use crate::core::import::{import_config, ImportContext};
use crate::core::run_end::RunEnd;
use anyhow::{bail, Context, Result};
use std::sync::Arc;

pub async fn run(args: &ImportArgs, stop: &Arc<StopSignal>) -> Result<RunEnd> {
    if let Some(out) = &args.out {
        if out.exists() && !args.force {
            bail!(
                "{} already exists; pass --force to overwrite it",
                out.display()
            );
        }
    }
    let client = client_with(&args.connection, None, client_options(stop, None)).await?;
    // Every pool is listed and filtered here, exactly as `scope: {name_prefix}` filters: the
    // API's own name filter is fuzzy (its semantics unpublished), and what import leaves out,
    // the next plan would delete.
    let activity = Activity::listing("Listing pools", client.listing_counts().clone());
    let live = client.list_pools(&ListFilter::default()).await;
    activity.finish();
    let live = live.context("cannot list the live pools")?;
    let region = args
        .connection
        .region
        .clone()
        .or_else(|| env_var("HW_REGION_NAME"));
    let endpoint = endpoint_text(&client);
    let now = now_rfc3339();
    let ctx = ImportContext {
        project_id: &client.connection().project_id,
        endpoint: &endpoint,
        region: region.as_deref(),
        name_prefix: args.name_prefix.as_deref(),
        now: &now,
    };
    let (text, kept) = import_config(&live, &ctx)?;
    // What is written must read back as a valid config (the property tests say it always
    // does; this is the last guard before a file is written).
    config::parse(&text, "imported pools.yaml")
        .context("the imported file does not validate (a bug in poolform); nothing was written")?;
    match &args.out {
        Some(out) => {
            // A config is meant for version control: readable like any source file.
            write_atomic(out, &text, 0o644)?;
            output::stderr_line(&format!("Wrote {} with {kept} pools.", out.display()));
        }
        None => output::stdout(&text),
    }
    Ok(RunEnd::Completed)
}
