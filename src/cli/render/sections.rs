//! A run over several projects in human text: a section per project, headed by its label,
//! and a line of totals once there is more than one project to add up.

use super::layout::fit;
use super::view::View;
use crate::core::escape::visible;

/// `== LABEL ==`, the head of a project's section.
pub fn section(label: Option<&str>, view: &View) -> String {
    let label = label.unwrap_or_default();
    view.style
        .bold(&fit(&format!("== {} ==", visible(label)), view.width))
}

/// Whether a run shows its totals: only when there are several projects (planned or failed)
/// to add up; one project's own summary says it all.
pub fn totals_shown(projects: usize, failures: usize) -> bool {
    projects + failures > 1
}
