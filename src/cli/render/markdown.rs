//! Markdown for pull-request and merge-request comments: escaped cells, tables folded when long.

/// Escapes text for a markdown table cell.
pub fn md(text: &str) -> String {
    crate::core::escape::markdown(text)
}

/// Rows beyond this are folded in `<details>`.
const MARKDOWN_FOLD_ROWS: usize = 10;

/// Writes a markdown table, folded when long.
pub fn md_table(out: &mut String, title: &str, header: &str, rows: &[String]) {
    use std::fmt::Write as _;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_are_escaped() {
        assert_eq!(
            md("a|b <script> `x` *y* [l](u)\nz"),
            "a\\|b &lt;script&gt; \\`x\\` \\*y\\* \\[l\\](u)\\\\nz"
        );
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
