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
    if args.all_projects || !args.project.is_empty() {
        return import_many(args, stop).await;
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
    write_out(args, &text, kept)
}

fn write_out(args: &ImportArgs, text: &str, kept: usize) -> Result<RunEnd> {
    match &args.out {
        Some(out) => {
            // A config is meant for version control: readable like any source file.
            write_atomic(out, text, 0o644)?;
            output::stderr_line(&format!("Wrote {} with {kept} pools.", out.display()));
        }
        None => output::stdout(text),
    }
    Ok(RunEnd::Completed)
}

/// `--project NAME`/`--all-projects`: the projects' ids from IAM, each project listed through
/// its own region's endpoint, one file with `projects:`.
async fn import_many(args: &ImportArgs, stop: &Arc<StopSignal>) -> Result<RunEnd> {
    use crate::api::connection::{self, ConnectionFlags, FileDefaults};
    use crate::api::Client;
    let base = crate::cli::context::resolve(&args.connection, None)?;
    let options = client_options(stop, None);
    let known = Client::iam_projects(&base, options.clone())
        .await
        .context("cannot list the account's projects at IAM")?;
    let chosen: Vec<(String, crate::core::model::ProjectId)> =
        if args.all_projects {
            known
        } else {
            let mut chosen = Vec::new();
            for name in &args.project {
                match known.iter().find(|(n, _)| n == name) {
                    Some(p) => chosen.push(p.clone()),
                    None => {
                        bail!(
                    "IAM lists no project named {name:?} for these credentials; it lists {}",
                    known.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                )
                    }
                }
            }
            chosen
        };
    let mut parts = Vec::with_capacity(chosen.len());
    for (name, id) in chosen {
        let region = name.split('_').next().unwrap_or_default().to_owned();
        let flags = ConnectionFlags {
            endpoint: args.connection.endpoint_for(&region)?,
            cloud: args.connection.cloud.clone(),
            profile: args.connection.profile.clone(),
            ..ConnectionFlags::default()
        };
        let file = FileDefaults {
            source: "IAM".into(),
            region: Some(region.clone()),
            project_id: Some(id.to_string()),
            sole_source: true,
            ..FileDefaults::default()
        };
        let resolved = connection::resolve(&flags, &file, &env_var)?;
        output::stderr_line(&crate::core::escape::visible(&format!(
            "{region}/{name}: {}",
            resolved.identity_line()
        )));
        let client =
            crate::cli::context::connect_as(resolved, options.clone(), Some(&name)).await?;
        let live = client
            .list_pools(&ListFilter::default())
            .await
            .with_context(|| format!("cannot list the live pools of {name}"))?;
        parts.push((region, name, id, endpoint_text(&client), live));
    }
    let projects: Vec<crate::core::import::ImportedProject> = parts
        .iter()
        .map(
            |(region, name, id, endpoint, live)| crate::core::import::ImportedProject {
                region,
                name,
                project_id: id,
                endpoint,
                live,
            },
        )
        .collect();
    let (text, kept) = crate::core::import::import_projects(
        &projects,
        args.name_prefix.as_deref(),
        &now_rfc3339(),
    )?;
    config::parse(&text, "imported pools.yaml")
        .context("the imported file does not validate (a bug in poolform); nothing was written")?;
    write_out(args, &text, kept)
}
