//! `poolform import`: write a config file that keeps every live pool: of the one project the
//! flags, environment and profile name, or (`--project`, `--all-projects`) of several
//! projects found at IAM, through the same resolve, identity line and connection as any run.

use crate::api::{Client, ListFilter, StopSignal};
use crate::cli::args::{ImportArgs, ProjectArgs};
use crate::cli::context::{client_options, now_rfc3339};
use crate::cli::files::write_atomic;
use crate::cli::output;
use crate::cli::pipeline::{self, Reached};
use crate::cli::progress::Activity;
use crate::core::config;
use crate::core::import::{choose, import, ImportedProject};
use crate::core::projects::{EntryPlace, Place, Project};
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
    // The states first: a state that cannot be read is refused before any call.
    let managed = crate::cli::states::read_flags(&args.terraform_state, stop).await?;
    let state_paths = state_lines(args);
    let options = client_options(stop, None);
    let here = vec![project_at(Place::Run {
        region: None,
        project_id: None,
        cloud: None,
    })];
    let flags = pipeline::run_flags(&args.connection, &ProjectArgs::default())?;
    let mut resolved = pipeline::resolve_all(here, &flags, "")?;
    let many = args.all_projects || !args.project.is_empty();
    if many {
        // The projects are found at IAM, as the credentials' own identity.
        pipeline::say_identities(&resolved);
        let (_, base) = resolved.remove(0);
        let projects = chosen(args, &base, &options).await?;
        resolved = pipeline::resolve_all(projects, &flags, "IAM")?;
    }
    let reached = pipeline::connect_all(resolved, &options).await?;
    let mut listed = Vec::with_capacity(reached.len());
    for r in reached {
        // Every pool is listed and filtered here, exactly as `scope: {name_prefix}` filters:
        // the API's own name filter is fuzzy (its semantics unpublished), and what import
        // leaves out, the next plan would delete.
        let activity = Activity::listing("Listing pools", r.client.listing_counts().clone());
        let live = r.client.list_pools(&ListFilter::default()).await;
        activity.finish();
        let live = live.with_context(|| match r.project.label() {
            Some(label) => format!("cannot list the live pools of {label}"),
            None => "cannot list the live pools".to_owned(),
        })?;
        listed.push((r, live));
    }
    let terraform = crate::core::import::TerraformKept {
        managed: Some(&managed),
        paths: &state_paths,
    };
    let (text, kept) = write(&listed, args, many, &terraform)?;
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

/// A project to import, with no rules of its own (an import keeps everything it lists).
fn project_at(place: Place) -> Project {
    Project {
        place,
        rules: Default::default(),
        max_deletes: None,
        notice: None,
    }
}

/// The text of the imported file, from every project listed.
fn write(
    listed: &[(Reached, crate::core::model::Live)],
    args: &ImportArgs,
    many: bool,
    terraform: &crate::core::import::TerraformKept<'_>,
) -> Result<(String, usize)> {
    let endpoints: Vec<String> = listed
        .iter()
        .map(|(r, _)| r.client.connection().endpoint_text())
        .collect();
    let region = args
        .connection
        .region
        .clone()
        .or_else(|| crate::cli::context::env_var("HW_REGION_NAME"));
    let projects: Vec<ImportedProject> = listed
        .iter()
        .zip(&endpoints)
        .map(|((r, live), endpoint)| ImportedProject {
            region: match &r.project.place {
                Place::Entry(e) => Some(e.region.as_str()),
                Place::Run { .. } => region.as_deref(),
            },
            name: many.then(|| {
                r.project
                    .label()
                    .map_or("", |l| l.split_once('/').map_or(l, |(_, n)| n))
            }),
            project_id: &r.client.connection().project_id,
            endpoint,
            live,
        })
        .collect();
    Ok(import(
        &projects,
        args.name_prefix.as_deref(),
        &now_rfc3339(),
        terraform,
    )?)
}

/// The `keep_terraform_state` lines of the written file: each `--terraform-state` that lies
/// inside the output file's folder, relative to it. Any other state is said: it must be passed
/// with `--terraform-state` on every run.
fn state_lines(args: &ImportArgs) -> Vec<String> {
    let mut lines = Vec::new();
    for state in &args.terraform_state {
        let inside = args
            .out
            .as_deref()
            .and_then(|out| crate::cli::states::relative_to_output(state, out));
        match inside {
            Some(line) => lines.push(line),
            None => output::stderr_line(&crate::core::escape::visible(&format!(
                "note: the Terraform state {} is not inside the folder of the file written, so it is not written as keep_terraform_state: pass --terraform-state {} to every plan and apply, or the pools it manages will be planned for deletion",
                state.display(),
                state.display()
            ))),
        }
    }
    lines
}

/// `--project NAME` / `--all-projects`: the projects IAM lists for the credentials (only
/// regional ones hold pools), each to be reached at its own region's endpoint.
async fn chosen(
    args: &ImportArgs,
    base: &crate::api::connection::Resolved,
    options: &crate::api::ClientOptions,
) -> Result<Vec<Project>> {
    let known = Client::iam_projects(base, options.clone())
        .await
        .context("cannot list the account's projects at IAM")?;
    let out = choose(&known, args.all_projects, &args.project)?;
    Ok(out
        .into_iter()
        .enumerate()
        .map(|(index, (region, name, id))| {
            project_at(Place::Entry(Box::new(EntryPlace {
                index,
                label: format!("{}/{name}", region.as_str()),
                region,
                project_id: Some(id.clone()),
                project_name: None,
                cloud: None,
                assume_role: None,
            })))
        })
        .collect())
}
