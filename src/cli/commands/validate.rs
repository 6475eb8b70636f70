//! `poolform validate`: check a config file offline, and say what each of its projects
//! manages.

use crate::api::StopSignal;
use crate::cli::args::FileArg;
use crate::cli::context::load_config;
use crate::cli::output;
use crate::cli::render::plural;
use crate::core::escape::visible;
use crate::core::planner;
use crate::core::projects::{self, Project};
use crate::core::run_end::RunEnd;
use crate::core::time::Instant;
use anyhow::Result;

pub async fn run(args: &FileArg, stop: &StopSignal) -> Result<RunEnd> {
    let loaded = load_config(args, stop).await?;
    crate::cli::states::check_paths(&loaded.config, &loaded.source)?;
    let all = projects::projects(&loaded.config);
    let out = match all.as_slice() {
        [one] if one.label().is_none() => {
            format!("{} is valid: {}.\n", loaded.source, describe(one))
        }
        all => {
            let mut out = format!(
                "{} is valid: {} projects, {} for all of them.\n",
                loaded.source,
                all.len(),
                plural(loaded.config.protect.len(), "protect rule", "protect rules"),
            );
            for p in all {
                let line = format!("  {}: {}", p.label().unwrap_or_default(), describe(p));
                out.push_str(&visible(&line));
                out.push('\n');
            }
            out
        }
    };
    output::stdout(&out);
    warn_unknown_regions(&all, &loaded.source);
    warn_expired(&all);
    Ok(RunEnd::Completed)
}

/// Warns (on stderr; the file is still valid) about a region the file names where Workspace
/// is not known to be served, with a did-you-mean.
fn warn_unknown_regions(all: &[Project], source: &str) {
    let mut said = std::collections::HashSet::new();
    for p in all {
        let Some(region) = p.region() else { continue };
        if !said.insert(region.as_str().to_owned()) {
            continue;
        }
        let from = match p.label() {
            Some(label) => format!("{label} in {source}"),
            None => format!("from {source}"),
        };
        if let Some(w) = crate::core::regions::unknown_region_warning(region.as_str(), &from) {
            output::stderr_line(&visible(&w));
        }
    }
}

/// Warns (on stderr; the file is still valid) about keep entries and protect rules already
/// expired by this machine's clock: they no longer keep or protect anything. `plan` judges
/// them by the API's clock.
fn warn_expired(all: &[Project]) {
    let now = Instant::of_system(std::time::SystemTime::now());
    let mut said = std::collections::HashSet::new();
    for p in all {
        for e in planner::expired_rules(&p.rules, now) {
            let whose = p.label().map(|l| format!("{l}: ")).unwrap_or_default();
            // Shared protect rules are said once, not once per project.
            if e.rule.starts_with("protect[") && !said.insert(e.rule.clone()) {
                continue;
            }
            output::stderr_line(&visible(&format!(
                "warning: {whose}{} expired {} (by this machine's clock, {now}): it no longer keeps or protects anything; remove it or move its expiry",
                e.rule, e.expires
            )));
        }
    }
}

/// `2 listed to keep, 1 protect rule, managing pools with name_prefix "ci-"`.
fn describe(project: &Project) -> String {
    let rules = &project.rules;
    let scope = match &rules.scope {
        Some(s) if s.is_restrictive() => {
            let mut parts = Vec::new();
            if let Some(p) = &s.name_prefix {
                parts.push(format!("name_prefix {p:?}"));
            }
            if let Some(e) = &s.enterprise_project_id {
                parts.push(format!("enterprise_project_id {e:?}"));
            }
            if let Some(t) = s.pool_type {
                parts.push(format!("type {}", t.as_str()));
            }
            format!("pools with {}", parts.join(", "))
        }
        _ => "every pool in the project".to_owned(),
    };
    format!(
        "{} listed to keep, {}, managing {scope}",
        rules.pools.len(),
        plural(rules.protect.len(), "protect rule", "protect rules"),
    )
}
