//! What human text looks like: the format asked for, colours, and the width it is laid out for.

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

/// How human text is laid out: colours, the terminal's width (none in a log: nothing is cut
/// or wrapped there), and, for `show`, the saved plan's file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    pub style: Style,
    pub width: Option<usize>,
    /// `show`: the plan file shown.
    pub saved: Option<String>,
}

impl Default for Style {
    fn default() -> Self {
        Style::PLAIN
    }
}

impl View {
    /// Plain text with no width: for a log, or for standard error.
    pub const PLAIN: View = View {
        style: Style::PLAIN,
        width: None,
        saved: None,
    };
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_when_asked() {
        assert_eq!(Style::PLAIN.red("x"), "x");
        assert_eq!(Style { color: true }.red("x"), "\x1b[31mx\x1b[0m");
    }
}
