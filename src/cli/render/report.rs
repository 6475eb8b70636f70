//! Apply reports as text: one entry per step (outcome, name, id, why), then the notes a
//! summary needs (steps not started, advice for blocked pools, what the verification listing
//! confirmed), a section per project in a file with `projects:`; the same facts in markdown;
//! and the report kept on standard error when standard output is lost.

use super::entries::{write_entries, Entry};
use super::layout::fit;
use super::markdown::{md, md_table};
use super::sections::{section, totals_shown};
use super::view::{plural, View};
use crate::core::escape::visible;
use crate::core::narrowing::{DropReason, Dropped};
use crate::core::report::{Outcome, ProjectReport, Report, ReportSummary, StepResult};
use std::fmt::Write as _;

/// `5 deleted, 1 already absent, 2 blocked, 0 failed` (and skipped steps, when there are).
fn counts(s: &ReportSummary) -> String {
    let skipped = if s.skipped > 0 {
        format!(", {} skipped", s.skipped)
    } else {
        String::new()
    };
    format!(
        "{} deleted, {} already absent, {} blocked, {} failed{skipped}",
        s.deleted, s.already_absent, s.blocked, s.failed
    )
}

/// `Apply complete: 5 deleted, 1 already absent, 2 blocked, 0 failed.` for one project's part
/// (interrupted or stopped as the run was).
pub fn report_summary_line(report: &Report, part: &ProjectReport) -> String {
    let head = if report.interrupted {
        "Apply interrupted"
    } else if report.stopped.is_some() {
        "Apply stopped"
    } else {
        "Apply complete"
    };
    format!("{head}: {}.", counts(&part.summary))
}

/// `All 3 projects: 5 deleted, 1 already absent, 2 blocked, 0 failed (ended: blocked).`
fn totals(report: &Report) -> String {
    format!(
        "All {}: {} (ended: {}).",
        plural(report.projects.len(), "project", "projects"),
        counts(&report.summary),
        report.end.name()
    )
}

/// What an apply did, for standard error when its report could not be written to standard
/// output: each project's summary and every pool it settled, so that the audit trail is not
/// lost.
pub fn lost_report(report: &Report, why: &str) -> String {
    report
        .projects
        .iter()
        .map(|part| {
            let lost = lost_part(report, part, why);
            match &part.acted_as.label {
                Some(label) => format!("{label}: {lost}"),
                None => lost,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn lost_part(report: &Report, part: &ProjectReport, why: &str) -> String {
    let mut out = format!(
        "error: the report could not be written to standard output ({why}). {}",
        report_summary_line(report, part)
    );
    for r in &part.results {
        if r.outcome != Outcome::Skipped {
            let _ = write!(
                out,
                "\n  {}: {} ({}) [request id: {}]",
                r.outcome.label(),
                r.pool.id,
                visible(&r.pool.name),
                r.request_id.as_deref().unwrap_or("none")
            );
        }
    }
    out
}

/// Why a step ended as it did, a sentence a line.
fn why_lines(report: &Report, r: &StepResult) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(e) = &r.error {
        lines.push(if report.stopped.is_some() && e.stopped_the_run() {
            e.as_auth_failure()
        } else {
            e.text()
        });
    }
    if let Some(d) = &r.detail {
        lines.push(d.clone());
    }
    lines
}

/// The apply report for a terminal or a CI log: a file of one project as it is; otherwise a
/// section per project and the totals.
pub fn report_human(report: &Report, view: &View) -> String {
    let mut out = report_human_parts(report, view);
    let dropped = report.announcement.as_ref().map_or(&[][..], |a| &a.dropped);
    if !dropped.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "Dropped from the announcement (not deleted):");
        for d in dropped {
            let line = format!("  - {}: {}", dropped_pool(d), drop_reason(d));
            let _ = writeln!(out, "{}", fit(&visible(&line), view.width));
        }
    } else if report.projects.is_empty() {
        let _ = writeln!(out, "Nothing to delete.");
    }
    out
}

/// An announced pool that was dropped, as the report names it: `label: name (id)`.
pub fn dropped_pool(d: &Dropped) -> String {
    let label = d
        .label
        .as_deref()
        .map(|l| format!("{l}: "))
        .unwrap_or_default();
    format!("{label}{} ({})", d.pool.name, d.pool.id)
}

/// Why an announced pool was not deleted, in words.
pub fn drop_reason(d: &Dropped) -> String {
    let detail = d.detail.as_deref().unwrap_or("");
    match d.reason {
        DropReason::GoneBeforeApply => {
            "gone before this apply (not in the listing; not read)".to_owned()
        }
        DropReason::AnotherPool => format!("another pool now: {detail}; it was never announced"),
        DropReason::NotCalledFor => format!("no longer called for: {detail}"),
        DropReason::ProjectNotInFile => "its project is no longer in the config file".to_owned(),
    }
}

/// Every project's part of the report for a terminal or a CI log.
fn report_human_parts(report: &Report, view: &View) -> String {
    let style = view.style;
    let mut out = String::new();
    // An authentication failure is said once, above the steps it stopped.
    if let Some(reason) = &report.stopped {
        let _ = writeln!(
            out,
            "{}\n",
            style.red(&format!(
                "Stopped after an authentication failure; no further call was made: {}",
                visible(reason)
            ))
        );
    }
    if report.is_of_one_project() {
        out.push_str(&part_human(report, &report.projects[0], view));
        return out;
    }
    // Sections, a blank line between them (and before the totals).
    let mut sections: Vec<String> = report
        .projects
        .iter()
        .map(|part| {
            let head = section(part.acted_as.label.as_deref(), view);
            format!("{head}\n{}", part_human(report, part, view))
        })
        .collect();
    if totals_shown(report.projects.len(), 0) {
        sections.push(format!(
            "{}\n",
            style.bold(&fit(&totals(report), view.width))
        ));
    }
    out.push_str(&sections.join("\n"));
    out
}

/// One project's part of the report for a terminal or a CI log.
fn part_human(report: &Report, part: &ProjectReport, view: &View) -> String {
    let style = view.style;
    let mut out = String::new();
    let entries: Vec<Entry> = part
        .results
        .iter()
        .map(|r| Entry {
            mark: r.outcome.label().to_owned(),
            name: visible(&r.pool.name).into_owned(),
            id: r.pool.id.to_string(),
            after: if r.attempts > 1 {
                format!(" ({} attempts)", r.attempts)
            } else {
                String::new()
            },
            lines: why_lines(report, r)
                .iter()
                .map(|l| visible(l).into_owned())
                .collect(),
            raw: Vec::new(),
            cut_name: true,
        })
        .collect();
    let paint = |e: &Entry, text: &str| match e.mark.as_str() {
        m if m == Outcome::Deleted.label() => style.green(text),
        m if m == Outcome::Blocked.label() => style.yellow(text),
        m if m == Outcome::Failed.label() => style.red(text),
        _ => style.dim(text),
    };
    write_entries(&mut out, &entries, view.width, &paint);
    if !entries.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", style.bold(&report_summary_line(report, part)));
    for note in report_notes(report, part) {
        for line in super::layout::wrap(&note, view.width) {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// What a project's part of a report says after its summary line: steps not started, advice
/// for blocked pools, and what the verification listing confirmed (or, when it could not, what
/// and why).
pub fn report_notes(report: &Report, part: &ProjectReport) -> Vec<String> {
    let mut notes = Vec::new();
    let s = &part.summary;
    if report.interrupted && s.skipped > 0 {
        notes.push(format!(
            "Interrupted: {} step{} not started. Run `poolform plan` to see what remains.",
            s.skipped,
            if s.skipped == 1 { " was" } else { "s were" }
        ));
    }
    notes.extend(blocked_advice(report, part));
    notes.extend(verification_line(report, part));
    notes
}

/// What to do about blocked pools, as it applies: after a wait (ran out or interrupted),
/// with autoscale, with prepaid desktops.
fn blocked_advice(report: &Report, part: &ProjectReport) -> Vec<String> {
    let blocked: Vec<&crate::core::report::StepResult> = part
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Blocked)
        .collect();
    if blocked.is_empty() {
        return Vec::new();
    }
    let autoscale = if blocked.iter().any(|r| r.pool.autoscale.is_some()) {
        " (and turn autoscale off)"
    } else {
        ""
    };
    let advice = match (part.waited_for_blocked, report.signal) {
        (true, Some(signal)) => format!(
            "the wait was interrupted ({}) while they still held desktops. Remove the desktops{autoscale}, then apply again.",
            signal.name()
        ),
        (true, None) => format!(
            "they still held desktops when --wait-blocked ran out. Remove the desktops{autoscale}, then apply again."
        ),
        (false, _) => format!(
            "the API refuses to delete a pool that still holds desktops. Remove them{autoscale}, then apply again, or wait for them with --wait-blocked 30m."
        ),
    };
    let mut out = vec![format!(
        "{} blocked: {advice}",
        if blocked.len() == 1 {
            "1 pool is".to_owned()
        } else {
            format!("{} pools are", blocked.len())
        },
    )];
    let prepaid = blocked.iter().filter(|r| r.pool.prepaid).count();
    if prepaid > 0 {
        out.push(format!(
            "{} hold{} prepaid (yearly/monthly) desktops: unsubscribe them in the billing centre; they cannot be deleted with the API.",
            plural(prepaid, "blocked pool", "blocked pools"),
            if prepaid == 1 { "s" } else { "" }
        ));
    }
    out
}

/// What the verification listing confirmed; when it could not finish, what was not checked
/// and why.
fn verification_line(report: &Report, part: &ProjectReport) -> Option<String> {
    let v = &part.verification;
    if v.claimed == 0 {
        return None;
    }
    let pools = |n: usize| plural(n, "pool", "pools");
    let why = match (&v.incomplete, report.signal) {
        (None, _) => {
            return Some(format!(
                "Verified: {} of {} gone.",
                v.verified,
                pools(v.claimed)
            ))
        }
        (Some(_), Some(signal)) if report.interrupted => format!(
            "the run was interrupted ({}) before a listing could confirm them",
            signal.name()
        ),
        (Some(why), _) => visible(why).into_owned(),
    };
    let unchecked = v.claimed - v.verified;
    Some(if v.verified == 0 {
        format!(
            "Not verified: {} reported gone {} not checked ({why}).",
            pools(unchecked),
            if unchecked == 1 { "was" } else { "were" }
        )
    } else {
        format!(
            "Verified: {} of {} gone; {unchecked} not checked ({why}).",
            v.verified,
            pools(v.claimed)
        )
    })
}

/// The apply report as a pull-request or merge-request comment: everything the human report
/// says (steps, request ids, advice, verification); a section per project in a file with
/// `projects:`.
pub fn report_markdown(report: &Report) -> String {
    let mut out = report_markdown_parts(report);
    let rows: Vec<String> = report
        .announcement
        .iter()
        .flat_map(|a| &a.dropped)
        .map(|d| {
            format!(
                "| {} | `{}` | {} | {} |",
                md(&d.pool.name),
                d.pool.id,
                md(d.label.as_deref().unwrap_or("")),
                md(&drop_reason(d))
            )
        })
        .collect();
    md_table(
        &mut out,
        "Dropped from the announcement",
        "| Pool | ID | Project | Why not deleted |\n|---|---|---|---|",
        &rows,
    );
    out
}

/// Every project's part of the report as a comment.
fn report_markdown_parts(report: &Report) -> String {
    if report.is_of_one_project() {
        return part_markdown(report, &report.projects[0]);
    }
    let mut out = String::new();
    if totals_shown(report.projects.len(), 0) {
        let _ = writeln!(out, "## poolform apply: {}\n", md(&totals(report)));
    }
    for part in &report.projects {
        let label = part.acted_as.label.as_deref().unwrap_or_default();
        let _ = writeln!(out, "## {}\n", md(label));
        // Each part ends with a blank line of its own.
        out.push_str(&part_markdown(report, part));
    }
    out
}

/// One project's part of the report as a comment.
fn part_markdown(report: &Report, part: &ProjectReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### poolform: {}\n",
        md(&report_summary_line(report, part))
    );
    if let Some(reason) = &report.stopped {
        let _ = writeln!(
            out,
            "Stopped after an authentication failure; no further call was made: {}\n",
            md(reason)
        );
    }
    let rows: Vec<String> = part
        .results
        .iter()
        .map(|r| {
            format!(
                "| {} | {} | `{}` | {} | {} | {} |",
                r.outcome.label(),
                md(&r.pool.name),
                r.pool.id,
                r.attempts,
                r.request_id
                    .as_deref()
                    .map_or_else(String::new, |id| format!("`{}`", md(id))),
                md(&why_lines(report, r).join("; "))
            )
        })
        .collect();
    md_table(
        &mut out,
        "Steps",
        "| Outcome | Pool | ID | Attempts | Request ID | Detail |\n|---|---|---|--:|---|---|",
        &rows,
    );
    for note in report_notes(report, part) {
        let _ = writeln!(out, "- {}", md(&note));
    }
    out
}
