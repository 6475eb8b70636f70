//! Text from the API or the config, made safe to print: control characters (C0, DEL, C1),
//! format characters (General_Category=Cf: bidi overrides and isolates, zero-width joiners),
//! Default_Ignorable_Code_Points and the line and paragraph separators become visible escapes
//! (`\x1b`, `\r`, `\u{202e}`, `\u{200b}`), so that a pool name cannot move the cursor, erase a
//! line, print a fake summary, reorder what a reviewer reads or hide a character that makes two
//! names differ; and, for markdown, whatever would break a table cell, inject HTML or become a
//! link. Pure.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Characters that must never reach a terminal, a log or a review as themselves.
fn is_dangerous(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control() // C1
        || matches!(c, '\u{2028}' | '\u{2029}')
        || crate::core::names::is_default_ignorable(c)
        || unicode_general_category::get_general_category(c)
            == unicode_general_category::GeneralCategory::Format
}

/// `s` with every dangerous character escaped visibly; borrowed when there is none.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 && is_dangerous(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_dangerous(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `s` for a markdown table cell: visible escapes first, then what markdown or HTML would
/// read as structure (`|`, `<`, `>`, `&`, emphasis, links, headings, mentions) escaped, and
/// what GitHub or GitLab would turn into a link by itself (`scheme://`, `www.`) broken up.
pub fn markdown(s: &str) -> String {
    let s = visible(s);
    let mut out = String::with_capacity(s.len() + 8);
    for (at, c) in s.char_indices() {
        let rest = &s[at..];
        match c {
            ':' if rest.starts_with("://") => out.push_str("\\:"),
            '.' if at >= 3 && s[..at].to_ascii_lowercase().ends_with("www") => out.push_str("\\."),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '@' => out.push_str("&#64;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` as a markdown code span outside a table: visible escapes first, then a fence one
/// backtick longer than any run inside, so nothing in `s` can end the span early.
pub fn code_span(s: &str) -> String {
    let s = visible(s);
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// The number of terminal columns `s` takes once escaped (wide characters count twice).
pub fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(visible(s).as_ref())
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[test]
    fn dangerous_characters_are_escaped_visibly() {
        let cases = [
            ("ci-plain", "ci-plain"),
            ("a\u{1b}[2Kb", "a\\x1b[2Kb"),
            ("row\r\nNo changes.", "row\\r\\nNo changes."),
            ("tab\there", "tab\\there"),
            ("del\u{7f}", "del\\x7f"),
            ("c1\u{9b}31m", "c1\\x9b31m"),
            ("rtl\u{202e}gpj.exe", "rtl\\u{202e}gpj.exe"),
            ("iso\u{2066}x\u{2069}", "iso\\u{2066}x\\u{2069}"),
            ("nul\u{0}", "nul\\x00"),
            ("桌面池", "桌面池"),
            ("zwj\u{200d}emoji", "zwj\\u{200d}emoji"),
            ("zero\u{200b}width", "zero\\u{200b}width"),
            ("soft\u{ad}hyphen", "soft\\xadhyphen"),
            ("line\u{2028}sep", "line\\u{2028}sep"),
            ("bom\u{feff}", "bom\\u{feff}"),
            ("tag\u{e0041}", "tag\\u{e0041}"),
            ("arabic\u{600}mark", "arabic\\u{0600}mark"),
            ("nbsp\u{a0}kept", "nbsp\u{a0}kept"),
        ];
        for (input, want) in cases {
            assert_eq!(visible(input), want, "{input:?}");
        }
        assert!(matches!(visible("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn markdown_cells_cannot_break_the_table_or_inject_html() {
        assert_eq!(
            markdown("a|b <script> `x` *y* [l](u)\nz &lt; @team ~~s~~ ![i](u)"),
            "a\\|b &lt;script&gt; \\`x\\` \\*y\\* \\[l\\](u)\\\\nz &amp;lt; &#64;team \\~\\~s\\~\\~ \\!\\[i\\](u)"
        );
        assert!(!markdown("x\r\ny|z").contains('\n'));
        assert_eq!(
            markdown("https://evil.example/x www.evil.example WWW.x"),
            "https\\://evil.example/x www\\.evil.example WWW\\.x"
        );
        let spans = [
            ("http://127.0.0.1:8080", "`http://127.0.0.1:8080`"),
            ("a`b", "``a`b``"),
            ("`x``", "``` `x`` ```"),
            ("p\nq", "`p\\nq`"),
        ];
        for (input, want) in spans {
            assert_eq!(code_span(input), want, "{input:?}");
        }
    }

    #[test]
    fn widths_count_wide_characters_twice() {
        assert_eq!(width("ci-a"), 4);
        assert_eq!(width("桌面"), 4);
        assert_eq!(width("a\u{1b}"), 5);
    }
}
