//! `poolform validate`: check a config file offline.

use crate::api::StopSignal;
use crate::cli::args::FileArg;
use crate::cli::context::load_config;
use crate::cli::output;
use crate::core::run_end::RunEnd;
use anyhow::Result;

pub async fn run(args: &FileArg, stop: &StopSignal) -> Result<RunEnd> {
    let loaded = load_config(args, stop).await?;
    let config = &loaded.config;
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
    output::stdout(&format!(
        "{} is valid: {} listed to keep, {} protect rule{}, managing {scope}.\n",
        loaded.source,
        config.pools.len(),
        config.protect.len(),
        if config.protect.len() == 1 { "" } else { "s" },
    ));
    Ok(RunEnd::Completed)
}
