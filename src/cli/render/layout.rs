//! Text laid out for a terminal of a given width: display widths (wide characters count twice),
//! padding, truncation with an ellipsis, and wrapping at spaces. Text here is already escaped
//! and redacted: nothing is cut before the redactor has seen it.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The columns `text` takes on a terminal.
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `text` padded with spaces to `columns`.
pub fn pad(text: &str, columns: usize) -> String {
    format!("{text}{}", " ".repeat(columns.saturating_sub(width(text))))
}

/// `text` cut to at most `columns`, an ellipsis marking the cut.
pub fn truncate(text: &str, columns: usize) -> String {
    if width(text) <= columns {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > columns {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `text` in lines of at most `columns` (at least 20), broken at spaces; a word longer than a
/// line is broken where it must be. `None` for no limit: one line.
pub fn wrap(text: &str, columns: Option<usize>) -> Vec<String> {
    let Some(columns) = columns.map(|c| c.max(20)) else {
        return vec![text.to_owned()];
    };
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let spaced = usize::from(!line.is_empty());
        if width(&line) + spaced + width(word) <= columns {
            if spaced == 1 {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            if width(&line) + c.width().unwrap_or(0) > columns {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` wrapped at `width` columns, as one string (as it is when there is no width).
pub fn fit(text: &str, width: Option<usize>) -> String {
    wrap(text, width).join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fits_the_columns_it_is_given() {
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("桌面", 6), "桌面  ");
        assert_eq!(truncate("ci-finance-2023", 8), "ci-fina…");
        assert_eq!(truncate("桌面池财务", 6), "桌面…");
        assert_eq!(truncate("short", 8), "short");
        let text = "not in pools.yaml; likely blocked: 3 desktops remain (2 in use)";
        let lines = wrap(text, Some(24));
        assert!(lines.iter().all(|l| width(l) <= 24), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        assert_eq!(wrap(text, None), [text]);
        let long = "x".repeat(50);
        assert_eq!(
            wrap(&long, Some(20)),
            ["x".repeat(20), "x".repeat(20), "x".repeat(10)]
        );
        assert_eq!(wrap("", Some(30)), [""]);
    }
}
