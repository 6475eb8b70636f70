//! Plans (and apply reports) as text: human (optionally coloured), JSON and markdown.
//! Pure: takes values, returns strings; the same input always gives the same output. Every
//! string that came from the API, the config or a plan file is escaped (`escape`): control
//! characters and bidi overrides shown visibly in human text, markdown structure and HTML
//! escaped in markdown; JSON stays exact (serde escapes what JSON must).

use crate::core::escape::{self, visible};
use crate::core::model::PoolRef;
use crate::core::plan::{Change, Finding, FindingKind, Plan, Summary};
use crate::core::report::{Outcome, Report};
use similar::{ChangeTag, TextDiff};
use std::fmt::Write as _;

/// Output formats for plans and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

/// ANSI colours, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub const PLAIN: Style = Style { color: false };

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    pub fn red(self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn yellow(self, t: &str) -> String {
        self.paint("33", t)
    }
    pub fn cyan(self, t: &str) -> String {
        self.paint("36", t)
    }
    pub fn green(self, t: &str) -> String {
        self.paint("32", t)
    }
    pub fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
    pub fn dim(self, t: &str) -> String {
        self.paint("2", t)
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `Plan: 3 to delete (1 likely blocked), 1 missing, 1 drifted, 12 unchanged.`
pub fn summary_line(s: &Summary) -> String {
    let mut parts = vec![if s.likely_blocked > 0 {
        format!(
            "{} to delete ({} likely blocked)",
            s.delete, s.likely_blocked
        )
    } else {
        format!("{} to delete", s.delete)
    }];
    parts.push(format!("{} missing", s.missing));
    parts.push(format!("{} drifted", s.drift));
    if s.protected > 0 {
        parts.push(format!("{} protected", s.protected));
    }
    if s.out_of_scope > 0 {
        parts.push(format!("{} out of scope", s.out_of_scope));
    }
    if s.near_match > 0 {
        parts.push(plural(s.near_match, "near match", "near matches"));
    }
    parts.push(format!("{} unchanged", s.unchanged));
    format!("Plan: {}.", parts.join(", "))
}

/// One row of the human table: sign, name, id, type, desktops, reason.
struct Row {
    sign: char,
    name: String,
    id: String,
    pool_type: String,
    desktops: String,
    reason: String,
    diff: Vec<String>,
}

fn change_row(c: &Change) -> Row {
    Row {
        sign: if c.likely_blocked { '!' } else { '-' },
        name: visible(&c.pool.name).into_owned(),
        id: c.pool.id.to_string(),
        pool_type: visible(c.pool.pool_type.as_deref().unwrap_or_default()).into_owned(),
        desktops: plural(c.pool.desktop_count as usize, "desktop", "desktops"),
        reason: visible(&c.reason).into_owned(),
        diff: Vec::new(),
    }
}

/// The lines that differ between `old` and `new`, labelled (`- expected …`, `+ live …`) and
/// painted red and green.
fn labelled_diff(
    old: &str,
    new: &str,
    old_label: &str,
    new_label: &str,
    style: Style,
) -> Vec<String> {
    let w = old_label.len().max(new_label.len());
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .filter_map(|change| {
            let text = visible(change.value().trim_end_matches('\n'));
            let text = text.trim_end();
            match change.tag() {
                ChangeTag::Delete => Some(style.red(&format!("- {old_label:<w$} {text}"))),
                ChangeTag::Insert => Some(style.green(&format!("+ {new_label:<w$} {text}"))),
                ChangeTag::Equal => None,
            }
        })
        .collect()
}

/// Expected vs live, as a line diff.
fn drift_diff(f: &Finding, style: Style) -> Vec<String> {
    let lines = |pick: fn(&crate::core::plan::Difference) -> &str| -> String {
        f.differences
            .iter()
            .map(|d| format!("{}: {}\n", d.attribute, pick(d)))
            .collect()
    };
    labelled_diff(
        &lines(|d| &d.expected),
        &lines(|d| &d.live),
        "expected",
        "live",
        style,
    )
}

fn finding_row(f: &Finding, style: Style) -> Row {
    let live = f.pool.live();
    Row {
        sign: match f.kind {
            FindingKind::Missing => '?',
            FindingKind::Drift => '~',
            FindingKind::Protected => '=',
            FindingKind::OutOfScope => '^',
            FindingKind::NearMatch => '≈',
        },
        name: visible(f.pool.name().unwrap_or("(no name)")).into_owned(),
        id: f
            .pool
            .id()
            .map_or_else(|| "(no id)".to_owned(), ToString::to_string),
        pool_type: visible(
            live.and_then(|p| p.pool_type.as_deref())
                .unwrap_or_default(),
        )
        .into_owned(),
        desktops: live.map_or_else(String::new, |p| {
            plural(p.desktop_count as usize, "desktop", "desktops")
        }),
        reason: match f.kind {
            FindingKind::Drift => "drifted from the file:".to_owned(),
            _ => visible(&f.detail).into_owned(),
        },
        diff: if f.kind == FindingKind::Drift {
            drift_diff(f, style)
        } else {
            Vec::new()
        },
    }
}

fn paint_sign(style: Style, sign: char, text: &str) -> String {
    match sign {
        '-' => style.red(text),
        '!' => style.yellow(text),
        '~' | '≈' => style.yellow(text),
        '?' => style.cyan(text),
        '^' => style.dim(text),
        _ => style.green(text),
    }
}

/// For a plan cut down with `--target`: says so, and which targets.
pub fn partial_notice(plan: &Plan) -> Option<String> {
    plan.is_partial().then(|| {
        format!(
            "Partial plan: only the deletes --target names ({}) are planned; the rest of the plan is left out, and the live pools may not match {} afterwards.",
            plan.targets.join(", "),
            plan.source
        )
    })
}

/// The plan for a terminal or a CI log.
pub fn plan_human(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.dim(&format!(
            "poolform plan for project {} at {} ({})",
            plan.project_id,
            visible(&plan.endpoint),
            visible(&plan.source)
        ))
    );
    out.push('\n');
    if let Some(partial) = partial_notice(plan) {
        let _ = writeln!(out, "{}\n", style.yellow(&visible(&partial)));
    }
    if !plan.has_drift() {
        let _ = writeln!(
            out,
            "No changes. Live pools match {}.",
            visible(&plan.source)
        );
        let s = &plan.summary;
        let noted: Vec<Row> = plan
            .findings
            .iter()
            .filter(|f| matches!(f.kind, FindingKind::Protected | FindingKind::OutOfScope))
            .map(|f| finding_row(f, style))
            .collect();
        if !noted.is_empty() {
            write_rows(&mut out, &noted, style);
            out.push('\n');
        }
        let _ = writeln!(out, "{}", summary_line(s));
        return out;
    }
    let mut rows: Vec<Row> = plan.changes.iter().map(change_row).collect();
    rows.extend(plan.findings.iter().map(|f| finding_row(f, style)));
    write_rows(&mut out, &rows, style);
    out.push('\n');
    let _ = writeln!(out, "{}", style.bold(&summary_line(&plan.summary)));
    out
}

/// `text` padded with spaces to `width` terminal columns (wide characters count twice).
fn pad(text: &str, width: usize) -> String {
    let w = unicode_width::UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(w)))
}

/// `text` right-aligned in `width` terminal columns.
fn pad_left(text: &str, width: usize) -> String {
    let w = unicode_width::UnicodeWidthStr::width(text);
    format!("{}{text}", " ".repeat(width.saturating_sub(w)))
}

/// The widest of `texts` in terminal columns, at most 40.
fn column_width<'a>(texts: impl Iterator<Item = &'a str>) -> usize {
    texts
        .map(unicode_width::UnicodeWidthStr::width)
        .max()
        .unwrap_or(0)
        .min(40)
}

fn write_rows(out: &mut String, rows: &[Row], style: Style) {
    let width = |f: fn(&Row) -> &str| column_width(rows.iter().map(f));
    let (wn, wi, wt, wd) = (
        width(|r| &r.name),
        width(|r| &r.id),
        width(|r| &r.pool_type),
        width(|r| &r.desktops),
    );
    for r in rows {
        let line = format!(
            "  {} {}  {}  {}  {}  {}",
            r.sign,
            pad(&r.name, wn),
            pad(&r.id, wi),
            pad(&r.pool_type, wt),
            pad_left(&r.desktops, wd),
            r.reason
        );
        let _ = writeln!(out, "{}", paint_sign(style, r.sign, line.trim_end()));
        for line in &r.diff {
            let _ = writeln!(out, "      {line}");
        }
    }
}

/// Escapes text for a markdown table cell.
pub fn md(text: &str) -> String {
    escape::markdown(text)
}

/// Rows beyond this are folded in `<details>`.
const MARKDOWN_FOLD_ROWS: usize = 10;

/// Writes a markdown table, folded when long.
pub fn md_table(out: &mut String, title: &str, header: &str, rows: &[String]) {
    if rows.is_empty() {
        return;
    }
    let fold = rows.len() > MARKDOWN_FOLD_ROWS;
    if fold {
        let _ = writeln!(
            out,
            "<details><summary>{title} ({})</summary>\n",
            rows.len()
        );
    } else {
        let _ = writeln!(out, "**{title}**\n");
    }
    let _ = writeln!(out, "{header}");
    for r in rows {
        let _ = writeln!(out, "{r}");
    }
    if fold {
        out.push_str("\n</details>\n");
    }
    out.push('\n');
}

/// The plan as a pull-request comment.
pub fn plan_markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let headline = if plan.has_drift() {
        summary_line(&plan.summary)
    } else {
        format!("No changes. Live pools match {}.", plan.source)
    };
    let _ = writeln!(out, "### poolform: {}\n", md(&headline));
    let _ = writeln!(
        out,
        "Project `{}` at {}, from {}.\n",
        plan.project_id,
        escape::code_span(&plan.endpoint),
        escape::code_span(&plan.source)
    );
    if let Some(partial) = partial_notice(plan) {
        let _ = writeln!(out, "> ⚠️ {}\n", md(&partial));
    }
    let deletes: Vec<String> = plan
        .changes
        .iter()
        .map(|c| {
            format!(
                "| {} | {} | `{}` | {} | {} | {} |",
                if c.likely_blocked {
                    "⛔ delete, likely blocked"
                } else {
                    "🗑️ delete"
                },
                md(&c.pool.name),
                c.pool.id,
                md(c.pool.pool_type.as_deref().unwrap_or("")),
                c.pool.desktop_count,
                md(&c.reason)
            )
        })
        .collect();
    md_table(
        &mut out,
        "To delete",
        "| | Pool | ID | Type | Desktops | Why |\n|---|---|---|---|--:|---|",
        &deletes,
    );
    let findings: Vec<String> = plan
        .findings
        .iter()
        .map(|f| {
            format!(
                "| {} | {} | {} | {} |",
                match f.kind {
                    FindingKind::Missing => "❓ missing",
                    FindingKind::Drift => "⚠️ drift",
                    FindingKind::Protected => "🛡️ protected",
                    FindingKind::OutOfScope => "↪️ out of scope",
                    FindingKind::NearMatch => "≈ near match",
                },
                md(f.pool.name().unwrap_or("")),
                f.pool.id().map_or_else(String::new, |i| format!("`{i}`")),
                md(&f.detail)
            )
        })
        .collect();
    md_table(
        &mut out,
        "Findings",
        "| | Pool | ID | Detail |\n|---|---|---|---|",
        &findings,
    );
    out
}

/// The plan in the requested format.
pub fn plan(plan: &Plan, format: Format, style: Style) -> String {
    match format {
        Format::Human => plan_human(plan, style),
        Format::Json => plan.to_json(),
        Format::Markdown => plan_markdown(plan),
    }
}

/// What an apply did, for standard error when its report could not be written to standard
/// output: the summary and every pool it settled, so that the audit trail is not lost.
pub fn lost_report(report: &Report, why: &str) -> String {
    let mut out = format!(
        "error: the report could not be written to standard output ({why}). {}",
        report.summary_line()
    );
    for r in &report.results {
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

/// The apply report for a terminal or a CI log.
pub fn report_human(report: &Report, style: Style) -> String {
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
    write_result_rows(&mut out, report, style);
    if !report.results.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", style.bold(&report.summary_line()));
    for note in report_notes(report) {
        let _ = writeln!(out, "{note}");
    }
    out
}

/// One row per result (outcome, name, id, attempts, why), then any further lines of why.
fn write_result_rows(out: &mut String, report: &Report, style: Style) {
    let results = &report.results;
    let names: Vec<String> = results
        .iter()
        .map(|r| visible(&r.pool.name).into_owned())
        .collect();
    let wn = column_width(names.iter().map(String::as_str));
    let wi = column_width(results.iter().map(|r| r.pool.id.as_str()));
    for (r, name) in results.iter().zip(&names) {
        let label = format!("{:<14}", r.outcome.label());
        let painted = match r.outcome {
            Outcome::Deleted => style.green(&label),
            Outcome::AlreadyAbsent => style.dim(&label),
            Outcome::Blocked => style.yellow(&label),
            Outcome::Failed => style.red(&label),
            Outcome::Skipped => style.dim(&label),
        };
        let attempts = if r.attempts > 1 {
            format!(" ({} attempts)", r.attempts)
        } else {
            String::new()
        };
        let mut lines: Vec<String> = Vec::new();
        if let Some(e) = &r.error {
            lines.push(if report.stopped.is_some() && e.stopped_the_run() {
                visible(&e.as_auth_failure()).into_owned()
            } else {
                visible(&e.text()).into_owned()
            });
        }
        if let Some(d) = &r.detail {
            lines.push(visible(d).into_owned());
        }
        let first = lines.first().map(String::as_str).unwrap_or("");
        let line = format!(
            "  {painted} {}  {}{attempts}  {first}",
            pad(name, wn),
            pad(r.pool.id.as_str(), wi)
        );
        let _ = writeln!(out, "{}", line.trim_end());
        for more in lines.iter().skip(1) {
            let _ = writeln!(out, "  {:14} {}  {}  {more}", "", pad("", wn), pad("", wi));
        }
    }
}

/// What a report says after its summary line: steps not started, advice for blocked pools,
/// and what the verification listing confirmed.
pub fn report_notes(report: &Report) -> Vec<String> {
    let mut notes = Vec::new();
    let s = &report.summary;
    if report.interrupted && s.skipped > 0 {
        notes.push(format!(
            "Interrupted: {} step{} not started. Run `poolform plan` to see what remains.",
            s.skipped,
            if s.skipped == 1 { " was" } else { "s were" }
        ));
    }
    if s.blocked > 0 {
        let advice = if report.waited_for_blocked {
            "they still held desktops when --wait-blocked ran out. Remove the desktops (and turn autoscale off), then apply again."
        } else {
            "the API refuses to delete a pool that still holds desktops. Remove them, then apply again, or wait for them with --wait-blocked 30m."
        };
        notes.push(format!(
            "{} blocked: {advice}",
            if s.blocked == 1 {
                "1 pool is".to_owned()
            } else {
                format!("{} pools are", s.blocked)
            },
        ));
    }
    let v = &report.verification;
    if v.claimed > 0 {
        notes.push(format!(
            "Verified: {} of {} pool{} gone.{}",
            v.verified,
            v.claimed,
            if v.claimed == 1 { "" } else { "s" },
            v.incomplete
                .as_deref()
                .map_or_else(String::new, |why| format!(
                    " Not verified: {}",
                    visible(why)
                ))
        ));
    }
    notes
}

/// The apply report as a pull-request or merge-request comment.
pub fn report_markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### poolform: {}\n", md(&report.summary_line()));
    if let Some(reason) = &report.stopped {
        let _ = writeln!(
            out,
            "Stopped after an authentication failure; no further call was made: {}\n",
            md(reason)
        );
    }
    let rows: Vec<String> = report
        .results
        .iter()
        .map(|r| {
            let why = [
                r.error.as_ref().map(|e| {
                    if report.stopped.is_some() && e.stopped_the_run() {
                        e.as_auth_failure()
                    } else {
                        e.text()
                    }
                }),
                r.detail.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ");
            format!(
                "| {} | {} | `{}` | {} | {} |",
                r.outcome.label(),
                md(&r.pool.name),
                r.pool.id,
                r.attempts,
                md(&why)
            )
        })
        .collect();
    md_table(
        &mut out,
        "Steps",
        "| Outcome | Pool | ID | Attempts | Detail |\n|---|---|---|--:|---|",
        &rows,
    );
    out
}

/// A stale plan's changed pools, planned against live, as line diffs.
pub fn stale_diff<'a>(
    changed: impl IntoIterator<Item = (&'a Change, &'a PoolRef)>,
    style: Style,
) -> String {
    let mut out = String::new();
    for (planned, now) in changed {
        let _ = writeln!(
            out,
            "  ~ {} ({})",
            visible(&planned.pool.name),
            planned.pool.id
        );
        let (a, b) = (planned.pool.fingerprint_text(), now.fingerprint_text());
        for line in labelled_diff(&a, &b, "planned", "live", style) {
            let _ = writeln!(out, "      {line}");
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let cases = [
            (
                Summary {
                    delete: 3,
                    likely_blocked: 1,
                    missing: 1,
                    drift: 1,
                    protected: 0,
                    out_of_scope: 0,
                    near_match: 0,
                    unchanged: 12,
                },
                "Plan: 3 to delete (1 likely blocked), 1 missing, 1 drifted, 12 unchanged.",
            ),
            (
                Summary {
                    delete: 0,
                    likely_blocked: 0,
                    missing: 0,
                    drift: 0,
                    protected: 2,
                    out_of_scope: 0,
                    near_match: 0,
                    unchanged: 1,
                },
                "Plan: 0 to delete, 0 missing, 0 drifted, 2 protected, 1 unchanged.",
            ),
            (
                Summary {
                    delete: 1,
                    likely_blocked: 0,
                    missing: 0,
                    drift: 0,
                    protected: 0,
                    out_of_scope: 1,
                    near_match: 0,
                    unchanged: 3,
                },
                "Plan: 1 to delete, 0 missing, 0 drifted, 1 out of scope, 3 unchanged.",
            ),
            (
                Summary {
                    near_match: 2,
                    ..Summary::default()
                },
                "Plan: 0 to delete, 0 missing, 0 drifted, 2 near matches, 0 unchanged.",
            ),
        ];
        for (s, want) in cases {
            assert_eq!(summary_line(&s), want);
        }
    }

    #[test]
    fn markdown_cells_are_escaped() {
        assert_eq!(
            md("a|b <script> `x` *y* [l](u)\nz"),
            "a\\|b &lt;script&gt; \\`x\\` \\*y\\* \\[l\\](u)\\\\nz"
        );
    }

    #[test]
    fn colour_only_when_asked() {
        assert_eq!(Style::PLAIN.red("x"), "x");
        assert_eq!(Style { color: true }.red("x"), "\x1b[31mx\x1b[0m");
    }

    #[test]
    fn markdown_tables_fold_when_long() {
        let rows = |n: usize| (0..n).map(|i| format!("| r{i} |")).collect::<Vec<_>>();
        let mut short = String::new();
        md_table(
            &mut short,
            "To delete",
            "| x |\n|---|",
            &rows(MARKDOWN_FOLD_ROWS),
        );
        assert!(
            short.starts_with("**To delete**") && !short.contains("<details>"),
            "{short}"
        );
        let mut long = String::new();
        md_table(
            &mut long,
            "To delete",
            "| x |\n|---|",
            &rows(MARKDOWN_FOLD_ROWS + 1),
        );
        assert!(
            long.starts_with("<details><summary>To delete (11)</summary>")
                && long.trim_end().ends_with("</details>"),
            "{long}"
        );
        let mut none = String::new();
        md_table(&mut none, "To delete", "| x |", &[]);
        assert!(none.is_empty());
    }
}
