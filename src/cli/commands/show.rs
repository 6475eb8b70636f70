//! `poolform show`: print a saved plan, offline.

use crate::api::StopSignal;
use crate::cli::args::{GlobalArgs, ShowArgs};
use crate::cli::context::{read_plan, view};
use crate::cli::{output, render};
use crate::core::run_end::RunEnd;
use anyhow::Result;

pub async fn run(args: &ShowArgs, global: &GlobalArgs, stop: &StopSignal) -> Result<RunEnd> {
    let file = args.plan_file.display().to_string();
    let plan = read_plan(&args.plan_file, stop).await?.checked(&file)?;
    match render::Format::from(args.format) {
        render::Format::Json => output::stdout_with(|w| plan.write_json(w)),
        format => {
            let view = render::View {
                saved: Some(file),
                ..view(global.color)
            };
            output::stdout(&render::plan(&plan, format, &view));
        }
    }
    Ok(RunEnd::Completed)
}
