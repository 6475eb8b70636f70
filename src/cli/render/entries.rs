//! One pool's entry in human text, laid out for the terminal's width.

use super::layout;

/// One pool's entry in human text: a head line (sign or outcome, name, id) and the lines that
/// say why, indented under it. The name is cut to fit only on a terminal, and only where the
/// id stands beside it; elsewhere a long name stands alone, the id on the line below.
pub(crate) struct Entry {
    /// The sign (`-`, `!`, …) or the outcome, as shown.
    pub mark: String,
    pub name: String,
    pub id: String,
    /// After the id on the head line (`(3 attempts)`).
    pub after: String,
    /// Lines under the head, each wrapped to the width.
    pub lines: Vec<String>,
    /// Lines under the head shown as they are (a diff).
    pub raw: Vec<String>,
    /// The name may be cut to fit (else it stands alone on its line when too long).
    pub cut_name: bool,
}

/// How far the lines under a head are indented.
const INDENT: usize = 6;

/// Writes entries: heads aligned (the name column as wide as the widest name, at most 40, and
/// narrower when the width demands), the lines under them wrapped at the width.
pub(crate) fn write_entries(
    out: &mut String,
    entries: &[Entry],
    width: Option<usize>,
    paint: &dyn Fn(&Entry, &str) -> String,
) {
    use layout::{pad, truncate, wrap};
    use std::fmt::Write as _;
    let mark_w = entries
        .iter()
        .map(|e| layout::width(&e.mark))
        .max()
        .unwrap_or(0);
    let id_w = entries
        .iter()
        .map(|e| layout::width(&e.id))
        .max()
        .unwrap_or(0);
    let mut name_w = entries
        .iter()
        .map(|e| layout::width(&e.name))
        .max()
        .unwrap_or(0)
        .min(40);
    if let Some(w) = width {
        name_w = name_w.min(w.saturating_sub(2 + mark_w + 1 + 2 + id_w).max(12));
    }
    let indent = " ".repeat(INDENT);
    for e in entries {
        let fits = layout::width(&e.name) <= name_w;
        let head = if e.id.is_empty() {
            // No id (a missing pool): the name alone, whole.
            format!("  {} {}{}", pad(&e.mark, mark_w), e.name, e.after)
        } else if fits || (e.cut_name && width.is_some()) {
            format!(
                "  {} {}  {}{}",
                pad(&e.mark, mark_w),
                pad(&truncate(&e.name, name_w), name_w),
                e.id,
                e.after
            )
        } else {
            // Never cut (a near match, say): the name alone, the id on the line below.
            format!(
                "  {} {}\n{indent}id {}{}",
                pad(&e.mark, mark_w),
                e.name,
                e.id,
                e.after
            )
        };
        let _ = writeln!(out, "{}", paint(e, head.trim_end()));
        for line in &e.lines {
            for part in wrap(line, width.map(|w| w.saturating_sub(INDENT))) {
                let _ = writeln!(out, "{indent}{part}");
            }
        }
        for line in &e.raw {
            let _ = writeln!(out, "{indent}{line}");
        }
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    fn entry(name: &str, cut_name: bool, why: &str) -> Entry {
        Entry {
            mark: "-".into(),
            name: name.into(),
            id: "0f3c9a2e-7d41-4b6a-9c55-1e2f3a4b5c6d".into(),
            after: String::new(),
            lines: vec![why.into()],
            raw: Vec::new(),
            cut_name,
        }
    }

    #[test]
    fn entries_fit_the_width_and_cut_names_only_beside_their_id() {
        let why = "workspace · 12 desktops: not in pools.yaml; likely blocked: 12 desktops remain (3 in use), the API refuses to delete a pool that still holds desktops";
        let long = "ci-finance-reporting-2023-quarterly-archive-pool";
        let cases: [(&[Entry], Option<usize>, &[&str], &[&str]); 4] = [
            // Fits: nothing cut, the why on its own lines.
            (
                &[entry("ci-old", true, "1 desktop: not in pools.yaml")],
                Some(80),
                &[
                    "  - ci-old  0f3c9a2e-7d41-4b6a-9c55-1e2f3a4b5c6d",
                    "      1 desktop: not in pools.yaml",
                ],
                &[],
            ),
            // A long name beside its id is cut with an ellipsis.
            (
                &[entry(long, true, why)],
                Some(80),
                &["…  0f3c9a2e"],
                &[long],
            ),
            // A finding's name is never cut: it stands alone, the id below.
            (
                &[entry(long, false, why)],
                Some(80),
                &[long, "      id 0f3c9a2e"],
                &["…"],
            ),
            // No width (a log): nothing cut or wrapped.
            (&[entry(long, true, why)], None, &[long, why], &["…"]),
        ];
        for (entries, width, want, never) in cases {
            let mut out = String::new();
            write_entries(&mut out, entries, width, &|_, t| t.to_owned());
            if let Some(w) = width {
                for line in out.lines() {
                    assert!(layout::width(line) <= w, "{w} columns: {line:?}\n{out}");
                }
            }
            for w in want {
                assert!(out.contains(w), "want {w:?} in\n{out}");
            }
            for n in never {
                assert!(!out.contains(n), "never {n:?} in\n{out}");
            }
        }
    }
}
