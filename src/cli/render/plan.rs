//! Plans as text: the summary line, the human plan (one entry per pool, laid out for the
//! terminal's width), the markdown comment, and the diff of a stale plan against live.

use super::entries::{write_entries, Entry};
use super::layout::fit;
use super::markdown::{md, md_table};
use super::view::{plural, Format, Style, View};
use crate::core::escape::{self, visible};
use crate::core::model::PoolRef;
use crate::core::plan::{Change, Finding, FindingKind, Plan, Summary};
use similar::{ChangeTag, TextDiff};
use std::fmt::Write as _;

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

/// `workspace · 3 desktops · prepaid`: what a live pool is, in a few words.
fn facts(pool: &PoolRef) -> String {
    let mut parts = Vec::new();
    if let Some(t) = pool.pool_type.as_deref().filter(|t| !t.is_empty()) {
        parts.push(visible(t).into_owned());
    }
    parts.push(plural(pool.desktop_count as usize, "desktop", "desktops"));
    if pool.prepaid {
        parts.push("prepaid".to_owned());
    }
    parts.join(" · ")
}

fn change_entry(c: &Change) -> Entry {
    Entry {
        mark: if c.likely_blocked { "!" } else { "-" }.to_owned(),
        name: visible(&c.pool.name).into_owned(),
        id: c.pool.id.to_string(),
        after: String::new(),
        lines: vec![format!("{}: {}", facts(&c.pool), visible(&c.reason))],
        raw: Vec::new(),
        cut_name: true,
    }
}

fn finding_entry(f: &Finding, style: Style) -> Entry {
    let sign = match f.kind {
        FindingKind::Missing => "?",
        FindingKind::Drift => "~",
        FindingKind::Protected => "=",
        FindingKind::OutOfScope => "^",
        FindingKind::NearMatch => "≈",
    };
    let why = match f.kind {
        FindingKind::Drift => "drifted from the file:".to_owned(),
        _ => visible(&f.detail).into_owned(),
    };
    let line = match f.pool.live() {
        Some(pool) => format!("{}: {why}", facts(pool)),
        None => why,
    };
    Entry {
        mark: sign.to_owned(),
        name: visible(f.pool.name().unwrap_or("(no name)")).into_owned(),
        id: f.pool.id().map_or_else(String::new, ToString::to_string),
        after: String::new(),
        lines: vec![line],
        raw: if f.kind == FindingKind::Drift {
            drift_diff(f, style)
        } else {
            Vec::new()
        },
        // A finding's name is the point of it (a near match above all): never cut.
        cut_name: false,
    }
}

fn paint_mark(style: Style, mark: &str, text: &str) -> String {
    match mark {
        "-" => style.red(text),
        "!" | "~" | "≈" => style.yellow(text),
        "?" => style.cyan(text),
        "^" => style.dim(text),
        _ => style.green(text),
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

/// Where the plan comes from: made now, or saved in a file (`show`).
fn header(plan: &Plan, saved: Option<&str>) -> String {
    let at = format!("project {} at {}", plan.project_id, visible(&plan.endpoint));
    match saved {
        Some(file) => format!(
            "Saved plan {}, made {} from {}, for {at}",
            visible(file),
            visible(&plan.created_at),
            visible(&plan.source)
        ),
        None => format!("poolform plan for {at} ({})", visible(&plan.source)),
    }
}

/// The plan for a terminal or a CI log.
pub fn plan_human(plan: &Plan, view: &View) -> String {
    let style = view.style;
    let mut out = String::new();
    let head = fit(&header(plan, view.saved.as_deref()), view.width);
    let _ = writeln!(out, "{}\n", style.dim(&head));
    if let Some(partial) = partial_notice(plan) {
        let _ = writeln!(
            out,
            "{}\n",
            style.yellow(&fit(&visible(&partial), view.width))
        );
    }
    let paint = |e: &Entry, text: &str| paint_mark(style, &e.mark, text);
    if !plan.has_drift() {
        let _ = writeln!(
            out,
            "{}",
            fit(
                &format!("No changes. Live pools match {}.", visible(&plan.source)),
                view.width
            )
        );
        let noted: Vec<Entry> = plan
            .findings
            .iter()
            .filter(|f| matches!(f.kind, FindingKind::Protected | FindingKind::OutOfScope))
            .map(|f| finding_entry(f, style))
            .collect();
        if !noted.is_empty() {
            write_entries(&mut out, &noted, view.width, &paint);
            out.push('\n');
        }
        let _ = writeln!(out, "{}", fit(&summary_line(&plan.summary), view.width));
        return out;
    }
    let mut entries: Vec<Entry> = plan.changes.iter().map(change_entry).collect();
    entries.extend(plan.findings.iter().map(|f| finding_entry(f, style)));
    write_entries(&mut out, &entries, view.width, &paint);
    out.push('\n');
    let _ = writeln!(
        out,
        "{}",
        style.bold(&fit(&summary_line(&plan.summary), view.width))
    );
    out
}

/// The plan as a pull-request comment.
pub fn plan_markdown(plan: &Plan, saved: Option<&str>) -> String {
    let mut out = String::new();
    let headline = if plan.has_drift() {
        summary_line(&plan.summary)
    } else {
        format!("No changes. Live pools match {}.", plan.source)
    };
    let _ = writeln!(out, "### poolform: {}\n", md(&headline));
    if let Some(file) = saved {
        let _ = writeln!(
            out,
            "Saved plan {}, made {}.\n",
            escape::code_span(file),
            md(&plan.created_at)
        );
    }
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
pub fn plan(plan: &Plan, format: Format, view: &View) -> String {
    match format {
        Format::Human => plan_human(plan, view),
        Format::Json => plan.to_json(),
        Format::Markdown => plan_markdown(plan, view.saved.as_deref()),
    }
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
                    unchanged: 12,
                    ..Summary::default()
                },
                "Plan: 3 to delete (1 likely blocked), 1 missing, 1 drifted, 12 unchanged.",
            ),
            (
                Summary {
                    protected: 2,
                    unchanged: 1,
                    ..Summary::default()
                },
                "Plan: 0 to delete, 0 missing, 0 drifted, 2 protected, 1 unchanged.",
            ),
            (
                Summary {
                    delete: 1,
                    out_of_scope: 1,
                    unchanged: 3,
                    ..Summary::default()
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
}
