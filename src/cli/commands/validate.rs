//! `poolform validate`: check a config file offline.

use crate::api::StopSignal;
use crate::cli::args::FileArg;
use crate::cli::context::load_config;
use crate::cli::output;
use crate::core::run_end::RunEnd;
use anyhow::Result;

pub async fn run(args: &FileArg, stop: &StopSignal) -> Result<RunEnd> {
    let loaded = load_config(args, stop).await?;
    if loaded.config.is_many() {
        let projects = crate::core::projects::projects(&loaded.config);
        let mut out = format!(
            "{} is valid: {} projects, {} protect rule{} for all of them.\n",
            loaded.source,
            projects.len(),
            loaded.config.protect.len(),
            if loaded.config.protect.len() == 1 {
                ""
            } else {
                "s"
            },
        );
        for p in &projects {
            let line = format!("  {}: {}", p.label, describe(&p.config));
            out.push_str(&crate::core::escape::visible(&line));
            out.push('\n');
        }
        output::stdout(&out);
        return Ok(RunEnd::Completed);
    }
    output::stdout(&format!(
        "{} is valid: {}.\n",
        loaded.source,
        describe(&loaded.config)
    ));
    Ok(RunEnd::Completed)
}

/// `2 listed to keep, 1 protect rule, managing pools with name_prefix "ci-"`.
fn describe(config: &crate::core::config::Config) -> String {
    let scope = match &config.scope {
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
        "{} listed to keep, {} protect rule{}, managing {scope}",
        config.pools.len(),
        config.protect.len(),
        if config.protect.len() == 1 { "" } else { "s" },
    )
}
