//! Plans and reports of many-project files: one section per project (its label, then what a
//! single-project file would show), the projects that failed and why, then one summary.

use super::layout::fit;
use super::markdown::md;
use super::plan::{plan_human, plan_markdown, summary_line};
use super::report::{report_human, report_markdown};
use super::view::{plural, Format, View};
use crate::core::escape::visible;
use crate::core::many_plan::ManyPlan;
use crate::core::many_report::ManyReport;
use std::fmt::Write as _;

/// `== LABEL ==`, the head of a project's section.
fn section(label: &str, view: &View) -> String {
    view.style
        .bold(&fit(&format!("== {} ==", visible(label)), view.width))
}

/// A many-project plan in the requested format.
pub fn many_plan(plan: &ManyPlan, format: Format, view: &View) -> String {
    match format {
        Format::Json => {
            let mut out = Vec::new();
            let _ = plan.write_json(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        }
        Format::Human => many_plan_human(plan, view),
        Format::Markdown => many_plan_markdown(plan),
    }
}

fn many_plan_human(plan: &ManyPlan, view: &View) -> String {
    let mut out = String::new();
    for part in &plan.projects {
        let _ = writeln!(out, "{}", section(&part.label, view));
        out.push_str(&plan_human(&part.plan, view));
        out.push('\n');
    }
    for failure in &plan.failures {
        let _ = writeln!(out, "{}", section(&failure.label, view));
        let _ = writeln!(
            out,
            "{}\n",
            view.style.red(&fit(
                &format!("Error: {}", visible(&failure.error)),
                view.width
            ))
        );
    }
    let _ = writeln!(out, "{}", view.style.bold(&fit(&totals(plan), view.width)));
    out
}

/// `All 3 projects. Plan: …` (or which failed).
fn totals(plan: &ManyPlan) -> String {
    let planned = plan.projects.len();
    match plan.failures.len() {
        0 => format!(
            "All {}: {}",
            plural(planned, "project", "projects"),
            summary_line(&plan.summary)
        ),
        failed => format!(
            "{} of {} failed: nothing is applied while any project is in error. The others: {}",
            plural(failed, "project", "projects"),
            failed + planned,
            summary_line(&plan.summary)
        ),
    }
}

fn many_plan_markdown(plan: &ManyPlan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## poolform: {}\n", md(&totals(plan)));
    for failure in &plan.failures {
        let _ = writeln!(
            out,
            "### ❌ {}\n\n{}\n",
            md(&failure.label),
            md(&failure.error)
        );
    }
    for part in &plan.projects {
        let _ = writeln!(out, "## {}\n", md(&part.label));
        out.push_str(&plan_markdown(&part.plan, None));
        out.push('\n');
    }
    out
}

/// A many-project apply report in a human or markdown form (JSON is the report's own).
pub fn many_report(report: &ManyReport, markdown: bool, view: &View) -> String {
    let mut out = String::new();
    let summary = report.summary_line();
    if markdown {
        let _ = writeln!(out, "## poolform apply: {}\n", md(&summary));
    }
    for part in &report.projects {
        if markdown {
            let _ = writeln!(out, "## {}\n", md(&part.label));
            out.push_str(&report_markdown(&part.report));
        } else {
            let _ = writeln!(out, "{}", section(&part.label, view));
            out.push_str(&report_human(&part.report, view));
        }
        out.push('\n');
    }
    if !markdown {
        let _ = writeln!(out, "{}", view.style.bold(&fit(&summary, view.width)));
    }
    out
}
