//! `poolform show`: print a saved plan, offline.

use crate::app::{load_plan, style, RunEnd};
use crate::cli::{GlobalArgs, ShowArgs};
use crate::{output, render};
use anyhow::Result;

pub fn run(args: &ShowArgs, global: &GlobalArgs) -> Result<RunEnd> {
    let plan = load_plan(&args.plan_file)?;
    match render::Format::from(args.format) {
        render::Format::Json => output::stdout_with(|w| plan.write_json(w)),
        format => output::stdout(&render::plan(&plan, format, style(global.color))),
    }
    Ok(RunEnd::Completed)
}
