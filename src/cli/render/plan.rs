//! Plans as text: why each pool is planned and what each finding means (the words a plan's
//! codes stand for), the summary line, the human plan (one entry per pool, laid out for the
//! terminal's width; a section per project in a file with `projects:`), the markdown
//! comment, and the diff of a stale plan against live.

use super::entries::{write_entries, Entry};
use super::layout::fit;
use super::markdown::{md, md_table};
use super::sections::{section, totals_shown};
use super::view::{plural, Format, Style, View};
use crate::core::escape::{self, visible};
use crate::core::model::PoolRef;
use crate::core::plan::{
    Change, ClockSource, Finding, FindingKind, FindingPool, Plan, ProjectPlan, Reason, Summary,
};
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
    // Said only when there are some.
    let near = plural(s.near_match, "near match", "near matches");
    for (count, words) in [
        (s.protected, format!("{} protected", s.protected)),
        (s.out_of_scope, format!("{} out of scope", s.out_of_scope)),
        (s.near_match, near),
        (s.young, format!("{} young", s.young)),
        (s.expiring, format!("{} expiring", s.expiring)),
        (s.terraform, format!("{} managed by terraform", s.terraform)),
        (
            s.terraform_not_live,
            format!("{} in a state but not live", s.terraform_not_live),
        ),
    ] {
        if count > 0 {
            parts.push(words);
        }
    }
    parts.push(format!("{} unchanged", s.unchanged));
    format!("Plan: {}.", parts.join(", "))
}

/// Why a pool is planned, in words: `not in pools.yaml; likely blocked: 3 desktops remain (2
/// in use)`.
pub fn change_reason(c: &Change, source: &str) -> String {
    let mut out = match (&c.reason, &c.expired) {
        (Reason::Expired, Some(e)) => format!(
            "{} expired at {}: {source} no longer keeps it",
            e.rule, e.expires
        ),
        _ => format!("not in {source}"),
    };
    let pool = &c.pool;
    let n = pool.desktop_count;
    if n > 0 {
        out.push_str(&format!(
            "; likely blocked: {} remain{} ({} in use)",
            plural(n as usize, "desktop", "desktops"),
            if n == 1 { "s" } else { "" },
            pool.desktop_used
        ));
        if pool.prepaid {
            out.push_str(
                "; prepaid (yearly/monthly): its desktops are unsubscribed in the billing centre, not deleted",
            );
        }
    }
    if let Some(a) = &pool.autoscale {
        out.push_str(&format!(
            "; autoscale on (min_idle {}): desktops may come back until it is turned off",
            a.min_idle
        ));
    }
    out
}

/// The characters of `name` a reader cannot tell apart by eye (anything but printable ASCII),
/// as code points: `U+200B, U+00A0`.
fn unusual_characters(name: &str) -> String {
    let mut seen: Vec<char> = Vec::new();
    for c in name.chars() {
        if !(c.is_ascii_graphic() || c == ' ' || seen.contains(&c)) {
            seen.push(c);
        }
    }
    seen.iter()
        .take(8)
        .map(|c| format!("U+{:04X}", *c as u32))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a finding means, in words (`source` names the config file).
pub fn finding_detail(f: &Finding, source: &str) -> String {
    let entry = f.entry.map(|i| format!("pools[{i}]")).unwrap_or_default();
    let rule = f.rule.as_deref().unwrap_or_default();
    match f.kind {
        FindingKind::Missing => {
            let how = match &f.pool {
                FindingPool::Listed { id: Some(_), .. } => "no live pool has this id",
                _ => "no live pool has this name",
            };
            format!("listed in {source} but {how}; poolform does not create pools")
        }
        FindingKind::Drift => f
            .differences
            .iter()
            .map(|d| {
                format!(
                    "{}: expected {:?}, live {:?}",
                    d.attribute, d.expected, d.live
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        FindingKind::Protected => format!("not in {source} but protected by {rule}"),
        FindingKind::OutOfScope => format!(
            "listed in {source} ({entry}) but outside its scope ({}): not managed",
            f.filter.as_deref().unwrap_or_default()
        ),
        FindingKind::NearMatch => {
            let name = f.pool.name().unwrap_or_default();
            let unusual = unusual_characters(name);
            let holds = if unusual.is_empty() {
                String::new()
            } else {
                format!(" (it holds {unusual})")
            };
            format!(
                "not deleted: its name {name:?}{holds} reads as {rule} once both are normalised (NFKC_Casefold, trimmed), but does not match it as written. Rename the pool or fix the rule so that they agree"
            )
        }
        FindingKind::Young => format!(
            "not deleted: {} old, younger than the min_age of {source}; old enough at {}",
            f.age.map(|a| a.to_string()).unwrap_or_default(),
            f.old_enough_at.map(|t| t.to_string()).unwrap_or_default()
        ),
        FindingKind::AgeUnknown => format!(
            "not deleted: its created_time is missing or unreadable, and {source} has a min_age"
        ),
        FindingKind::Terraform => format!(
            "not in {source} but managed by terraform: {rule} ({})",
            f.filter.as_deref().unwrap_or_default()
        ),
        FindingKind::TerraformNotLive => format!(
            "{rule} ({}) names this pool, but it is not live: Terraform's drift, not poolform's",
            f.filter.as_deref().unwrap_or_default()
        ),
        FindingKind::Expiring => {
            let what = if f.entry.is_some() {
                format!("{entry} keeps")
            } else {
                format!("{rule} protects")
            };
            let days = f.expires_in_days.unwrap_or_default();
            format!(
                "{what} it until {}: expires in {}",
                f.expires.map(|t| t.to_string()).unwrap_or_default(),
                plural(days as usize, "day", "days")
            )
        }
    }
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

fn change_entry(c: &Change, source: &str) -> Entry {
    Entry {
        mark: if c.likely_blocked { "!" } else { "-" }.to_owned(),
        name: visible(&c.pool.name).into_owned(),
        id: c.pool.id.to_string(),
        after: String::new(),
        lines: vec![format!(
            "{}: {}",
            facts(&c.pool),
            visible(&change_reason(c, source))
        )],
        raw: Vec::new(),
        cut_name: true,
    }
}

fn finding_entry(f: &Finding, source: &str, style: Style) -> Entry {
    let sign = match f.kind {
        FindingKind::Missing => "?",
        FindingKind::Drift => "~",
        FindingKind::Protected => "=",
        FindingKind::OutOfScope => "^",
        FindingKind::NearMatch => "≈",
        FindingKind::Young | FindingKind::AgeUnknown => "·",
        FindingKind::Expiring => "@",
        FindingKind::Terraform => "=",
        FindingKind::TerraformNotLive => "^",
    };
    let why = match f.kind {
        FindingKind::Drift => "drifted from the file:".to_owned(),
        _ => visible(&finding_detail(f, source)).into_owned(),
    };
    let line = match f.pool.live() {
        Some(pool) => format!("{}: {why}", facts(pool)),
        None => why,
    };
    Entry {
        mark: sign.to_owned(),
        name: visible(f.pool.name().or(f.rule.as_deref()).unwrap_or("(no name)")).into_owned(),
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
        "!" | "~" | "≈" | "@" => style.yellow(text),
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

/// What an announcement says to the teams it is posted to, and to its scheduled apply.
pub fn announcement_notice(plan: &Plan) -> Option<String> {
    let a = plan.announcement.as_ref()?;
    let local = plan
        .projects
        .iter()
        .any(|p| p.clock.is_some_and(|c| c.source == ClockSource::Local));
    let clock = if local {
        "this machine's clock: the API sent no Date"
    } else {
        "the API's clock"
    };
    let source = &plan.source;
    Some(format!(
        "Announcement: these pools will be deleted on or after {} ({clock}) unless {source} keeps them; to keep one, add it to {source}. Announced {} with a notice of {}; it can be applied until {}, then it must be announced again.",
        a.not_before, a.announced_at, a.notice, a.valid_until
    ))
}

/// What is said under the first head: that the plan was cut down with `--target`, that it
/// is an announcement.
fn notices(plan: &Plan) -> Vec<String> {
    [partial_notice(plan), announcement_notice(plan)]
        .into_iter()
        .flatten()
        .collect()
}

/// Where a project's part of the plan comes from: made now, or saved in a file (`show`).
fn header(plan: &Plan, part: &ProjectPlan, saved: Option<&str>) -> String {
    let at = format!("project {} at {}", part.project_id, visible(&part.endpoint));
    match saved {
        Some(file) => format!(
            "Saved plan {}, made {} from {} with {}, for {at}",
            visible(file),
            visible(&plan.created_at),
            visible(&plan.source),
            visible(&part.identity.describe())
        ),
        None => format!("poolform plan for {at} ({})", visible(&plan.source)),
    }
}

/// One project's part of the plan for a terminal or a CI log, with `notices` under its head
/// (that the plan was cut down with `--target`, that it is an announcement).
fn part_human(plan: &Plan, part: &ProjectPlan, notices: &[String], view: &View) -> String {
    let style = view.style;
    let mut out = String::new();
    let head = fit(&header(plan, part, view.saved.as_deref()), view.width);
    let _ = writeln!(out, "{}\n", style.dim(&head));
    for notice in notices {
        let _ = writeln!(
            out,
            "{}\n",
            style.yellow(&fit(&visible(notice), view.width))
        );
    }
    let paint = |e: &Entry, text: &str| paint_mark(style, &e.mark, text);
    let source = &plan.source;
    if !part.summary.has_drift() {
        let _ = writeln!(
            out,
            "{}",
            fit(
                &format!("No changes. Live pools match {}.", visible(source)),
                view.width
            )
        );
        let noted: Vec<Entry> = part
            .findings
            .iter()
            .filter(|f| {
                matches!(
                    f.kind,
                    FindingKind::Protected
                        | FindingKind::OutOfScope
                        | FindingKind::Young
                        | FindingKind::AgeUnknown
                        | FindingKind::Expiring
                        | FindingKind::Terraform
                        | FindingKind::TerraformNotLive
                )
            })
            .map(|f| finding_entry(f, source, style))
            .collect();
        if !noted.is_empty() {
            write_entries(&mut out, &noted, view.width, &paint);
            out.push('\n');
        }
        let _ = writeln!(out, "{}", fit(&summary_line(&part.summary), view.width));
        return out;
    }
    let mut entries: Vec<Entry> = part
        .changes
        .iter()
        .map(|c| change_entry(c, source))
        .collect();
    entries.extend(
        part.findings
            .iter()
            .map(|f| finding_entry(f, source, style)),
    );
    write_entries(&mut out, &entries, view.width, &paint);
    out.push('\n');
    let _ = writeln!(
        out,
        "{}",
        style.bold(&fit(&summary_line(&part.summary), view.width))
    );
    out
}

/// The plan for a terminal or a CI log: a file of one project as it is; otherwise a section
/// per project, the projects that failed and why, and one summary.
pub fn plan_human(plan: &Plan, view: &View) -> String {
    // Said once, under the first head.
    let notice = notices(plan);
    if plan.is_of_one_project() {
        return part_human(plan, &plan.projects[0], &notice, view);
    }
    // Sections, a blank line between them (and before the totals).
    let mut sections: Vec<String> = plan
        .projects
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let head = section(part.label.as_deref(), view);
            let notice = if i == 0 { notice.as_slice() } else { &[] };
            format!("{head}\n{}", part_human(plan, part, notice, view))
        })
        .collect();
    sections.extend(plan.failures.iter().map(|failure| {
        let error = fit(&format!("Error: {}", visible(&failure.error)), view.width);
        let head = section(Some(&failure.label), view);
        format!("{head}\n{}\n", view.style.red(&error))
    }));
    if totals_shown(plan.projects.len(), plan.failures.len()) {
        sections.push(format!(
            "{}\n",
            view.style.bold(&fit(&totals(plan), view.width))
        ));
    }
    sections.join("\n")
}

/// `All 3 projects: Plan: …` (or which failed).
fn totals(plan: &Plan) -> String {
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

/// What is said under a part's head in markdown: a partial plan, an announcement.
fn notices_markdown(out: &mut String, plan: &Plan) {
    if let Some(partial) = partial_notice(plan) {
        let _ = writeln!(out, "> ⚠️ {}\n", md(&partial));
    }
    if let Some(announced) = announcement_notice(plan) {
        let _ = writeln!(out, "> 📣 {}\n", md(&announced));
    }
}

/// A finding's kind as a markdown table labels it.
fn finding_label(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Missing => "❓ missing",
        FindingKind::Drift => "⚠️ drift",
        FindingKind::Protected => "🛡️ protected",
        FindingKind::OutOfScope => "↪️ out of scope",
        FindingKind::NearMatch => "≈ near match",
        FindingKind::Young => "⏳ young",
        FindingKind::AgeUnknown => "❔ age unknown",
        FindingKind::Expiring => "⌛ expiring",
        FindingKind::Terraform => "🏗️ terraform",
        FindingKind::TerraformNotLive => "ℹ️ terraform, not live",
    }
}

/// One project's part of the plan as a pull-request comment.
fn part_markdown(plan: &Plan, part: &ProjectPlan, saved: Option<&str>) -> String {
    let mut out = String::new();
    let source = &plan.source;
    let headline = if part.summary.has_drift() {
        summary_line(&part.summary)
    } else {
        format!("No changes. Live pools match {source}.")
    };
    let _ = writeln!(out, "### poolform: {}\n", md(&headline));
    if let Some(file) = saved {
        let _ = writeln!(
            out,
            "Saved plan {}, made {} with {}.\n",
            escape::code_span(file),
            md(&plan.created_at),
            md(&part.identity.describe())
        );
    }
    let _ = writeln!(
        out,
        "Project `{}` at {}, from {}.\n",
        part.project_id,
        escape::code_span(&part.endpoint),
        escape::code_span(source)
    );
    notices_markdown(&mut out, plan);
    let deletes: Vec<String> = part
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
                md(&change_reason(c, source))
            )
        })
        .collect();
    md_table(
        &mut out,
        "To delete",
        "| | Pool | ID | Type | Desktops | Why |\n|---|---|---|---|--:|---|",
        &deletes,
    );
    let findings: Vec<String> = part
        .findings
        .iter()
        .map(|f| {
            format!(
                "| {} | {} | {} | {} |",
                finding_label(f.kind),
                md(f.pool.name().or(f.rule.as_deref()).unwrap_or("")),
                f.pool.id().map_or_else(String::new, |i| format!("`{i}`")),
                md(&finding_detail(f, source))
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

/// The plan as a pull-request comment: a file of one project as it is; otherwise the totals,
/// the projects that failed, and a section per project.
pub fn plan_markdown(plan: &Plan, saved: Option<&str>) -> String {
    if plan.is_of_one_project() {
        return part_markdown(plan, &plan.projects[0], saved);
    }
    let mut out = String::new();
    if totals_shown(plan.projects.len(), plan.failures.len()) {
        let _ = writeln!(out, "## poolform: {}\n", md(&totals(plan)));
    }
    for failure in &plan.failures {
        let _ = writeln!(
            out,
            "### ❌ {}\n\n{}\n",
            md(&failure.label),
            md(&failure.error)
        );
    }
    for part in &plan.projects {
        let _ = writeln!(
            out,
            "## {}\n",
            md(part.label.as_deref().unwrap_or_default())
        );
        // Each part ends with a blank line of its own.
        out.push_str(&part_markdown(plan, part, saved));
    }
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

    /// The words a plan's codes stand for: why a pool is planned, what a finding means.
    #[test]
    fn reasons_and_findings_in_words() {
        use crate::core::model::{AutoscalePolicy, Pool, PoolId};
        use crate::core::plan::{Action, Difference};
        let change = |f: fn(&mut Pool)| {
            let mut p = Pool::new(PoolId::parse("a1").unwrap(), "ci-a");
            f(&mut p);
            let pool = PoolRef::of(&p);
            Change {
                action: Action::Delete,
                fingerprint: pool.fingerprint(),
                likely_blocked: false,
                pool,
                reason: Reason::NotInConfig,
                expired: None,
            }
        };
        let cases: Vec<(Change, &str)> = vec![
            (change(|_| {}), "not in pools.yaml"),
            (
                change(|p| p.desktop_count = 1),
                "not in pools.yaml; likely blocked: 1 desktop remains (0 in use)",
            ),
            (
                change(|p| {
                    p.desktop_count = 3;
                    p.desktop_used = 2;
                    p.charging_mode = Some("0".into());
                }),
                "not in pools.yaml; likely blocked: 3 desktops remain (2 in use); prepaid (yearly/monthly): its desktops are unsubscribed in the billing centre, not deleted",
            ),
            (
                change(|p| {
                    p.enable_autoscale = true;
                    p.autoscale_policy = Some(Box::new(AutoscalePolicy {
                        min_idle: Some(2),
                        ..Default::default()
                    }));
                }),
                "not in pools.yaml; autoscale on (min_idle 2): desktops may come back until it is turned off",
            ),
        ];
        for (c, want) in cases {
            assert_eq!(change_reason(&c, "pools.yaml"), want);
        }
        let live = |name: &str| {
            FindingPool::Live(PoolRef::of(&Pool::new(PoolId::parse("b1").unwrap(), name)))
        };
        let finding = |kind, pool| Finding {
            kind,
            pool,
            entry: None,
            rule: None,
            filter: None,
            differences: Vec::new(),
            age: None,
            old_enough_at: None,
            expires: None,
            expires_in_days: None,
        };
        let findings = vec![
            (
                Finding {
                    entry: Some(3),
                    ..finding(
                        FindingKind::Missing,
                        FindingPool::Listed {
                            id: None,
                            name: Some("x".into()),
                        },
                    )
                },
                "listed in pools.yaml but no live pool has this name; poolform does not create pools",
            ),
            (
                Finding {
                    differences: vec![
                        Difference {
                            attribute: "name".into(),
                            expected: "ci-finance".into(),
                            live: "ci-renamed".into(),
                        },
                        Difference {
                            attribute: "type".into(),
                            expected: "STATIC".into(),
                            live: "DYNAMIC".into(),
                        },
                    ],
                    ..finding(FindingKind::Drift, live("ci-renamed"))
                },
                "name: expected \"ci-finance\", live \"ci-renamed\"; type: expected \"STATIC\", live \"DYNAMIC\"",
            ),
            (
                Finding {
                    rule: Some("name \"ci-prod-*\"".into()),
                    ..finding(FindingKind::Protected, live("ci-prod-1"))
                },
                "not in pools.yaml but protected by name \"ci-prod-*\"",
            ),
            (
                Finding {
                    entry: Some(1),
                    filter: Some("name_prefix \"ci-\"".into()),
                    ..finding(FindingKind::OutOfScope, live("other"))
                },
                "listed in pools.yaml (pools[1]) but outside its scope (name_prefix \"ci-\"): not managed",
            ),
            (
                Finding {
                    rule: Some("pools[0] name \"ci-eng\"".into()),
                    ..finding(FindingKind::NearMatch, live("ci-eng\u{200b}"))
                },
                "not deleted: its name \"ci-eng\\u{200b}\" (it holds U+200B) reads as pools[0] name \"ci-eng\" once both are normalised (NFKC_Casefold, trimmed), but does not match it as written. Rename the pool or fix the rule so that they agree",
            ),
        ];
        for (f, want) in findings {
            assert_eq!(finding_detail(&f, "pools.yaml"), want);
        }
    }

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
