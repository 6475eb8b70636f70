//! `poolform show`: print a saved plan, offline.

use crate::api::StopSignal;
use crate::cli::args::{GlobalArgs, ShowArgs};
use crate::cli::context::{load_plan, view, Loaded};
use crate::cli::{output, render};
use crate::core::run_end::RunEnd;
use anyhow::Result;

pub async fn run(args: &ShowArgs, global: &GlobalArgs, stop: &StopSignal) -> Result<RunEnd> {
    let plan = match load_plan(&args.plan_file, stop).await? {
        Loaded::One(plan) => plan,
        Loaded::Many(plan) => {
            let view = render::View {
                saved: Some(args.plan_file.display().to_string()),
                ..view(global.color)
            };
            output::stdout(&render::many_plan(&plan, args.format.into(), &view));
            return Ok(RunEnd::Completed);
        }
    };
    match render::Format::from(args.format) {
        render::Format::Json => output::stdout_with(|w| plan.write_json(w)),
        format => {
            let view = render::View {
                saved: Some(args.plan_file.display().to_string()),
                ..view(global.color)
            };
            output::stdout(&render::plan(&plan, format, &view));
        }
    }
    Ok(RunEnd::Completed)
}
