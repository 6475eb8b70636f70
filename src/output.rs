//! Everything poolform writes to standard output and standard error goes through here: secrets
//! are redacted, and a closed pipe or terminal never panics or stops the run (the deletes in
//! flight matter more than a log line nobody reads).

use crate::redact::redact;
use std::io::Write;

fn write_to(mut w: impl Write, text: &str) {
    let text = redact(text);
    // A closed pipe (`poolform plan | head`) or a vanished terminal: nothing to tell it.
    let _ = w.write_all(text.as_bytes()).and_then(|()| w.flush());
}

/// Writes `text` to standard output as it is.
pub fn stdout(text: &str) {
    write_to(std::io::stdout().lock(), text);
}

/// Writes to standard output what `fill` writes, redacted as it goes (for output too large to
/// build as one string).
pub fn stdout_with(fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    let mut out = crate::redact::Redacting::new(std::io::BufWriter::new(std::io::stdout().lock()));
    // A closed pipe: nothing to tell it.
    let _ = fill(&mut out).and_then(|()| out.finish().map(drop));
}

/// Writes `text` to standard error as it is.
pub fn stderr(text: &str) {
    write_to(std::io::stderr().lock(), text);
}

/// Writes `line` and a newline to standard error.
pub fn stderr_line(line: &str) {
    stderr(&format!("{line}\n"));
}

/// A `tracing` writer for `-v`: each event is collected, then written to standard error
/// redacted, in one piece.
#[derive(Debug, Default)]
pub struct LogLine(Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            // One event, one line: whatever a server put in a logged field stays escaped.
            let text = String::from_utf8_lossy(&self.0);
            let line = text.strip_suffix('\n').unwrap_or(&text);
            stderr_line(&crate::escape::visible(line));
        }
    }
}

/// Makes a [`LogLine`] per event.
pub fn log_writer() -> LogLine {
    LogLine::default()
}
