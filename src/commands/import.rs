//! `poolform import`: write a config file that keeps every live pool.

use crate::api::StopSignal;
use crate::api::{Client, ListFilter};
use crate::app::{client_with, endpoint_text, env_var, now_rfc3339, pacing, Exit};
use crate::cli::{GlobalArgs, ImportArgs};
use crate::config::{self, Config, PoolEntry, Region, Scope, Version};
use crate::files::write_atomic;
use crate::model::Live;
use crate::output;
use anyhow::{bail, Context, Result};
use std::sync::Arc;

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
        cloud: None,
        scope,
        pools: pools
            .iter()
            .map(|p| PoolEntry {
                id: Some(p.id.clone()),
                name: Some(p.name.to_string()),
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

pub async fn run(args: &ImportArgs, global: &GlobalArgs, stop: &Arc<StopSignal>) -> Result<Exit> {
    if let Some(out) = &args.out {
        if out.exists() && !args.force {
            bail!(
                "{} already exists; pass --force to overwrite it",
                out.display()
            );
        }
    }
    let client = client_with(global, None, pacing(stop)).await?;
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
            // A config is meant for version control: readable like any source file.
            write_atomic(out, &text, 0o644)?;
            output::stderr_line(&format!("Wrote {} with {kept} pools.", out.display()));
        }
        None => output::stdout(&text),
    }
    Ok(Exit::Success)
}
