//! Everything poolform writes to standard output and standard error goes through here: secrets
//! are redacted, and a closed pipe or terminal never panics or stops the run (the deletes in
//! flight matter more than a log line nobody reads). Any other failure to write standard
//! output (a full disk under `> report.json`) is remembered, and the run says it and exits 1:
//! a report is never lost silently.

use crate::api::redact::redact;
use std::io::Write;
use std::sync::Mutex;

/// The first failure to write standard output, other than a closed pipe.
static STDOUT_FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Remembers a failure to write standard output; a closed pipe (`poolform plan | head`) is no
/// failure: nobody is reading.
fn note_stdout(result: std::io::Result<()>) {
    if let Err(e) = result {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            let mut failure = STDOUT_FAILURE.lock().unwrap_or_else(|e| e.into_inner());
            failure.get_or_insert_with(|| e.to_string());
        }
    }
}

/// Why standard output could not be written, if it could not (a closed pipe aside); taken by
/// the one who says it.
pub fn take_stdout_failure() -> Option<String> {
    STDOUT_FAILURE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
}

fn write_to(mut w: impl Write, text: &str) -> std::io::Result<()> {
    let text = redact(text);
    w.write_all(text.as_bytes()).and_then(|()| w.flush())
}

/// Writes `text` to standard output as it is.
pub fn stdout(text: &str) {
    note_stdout(write_to(std::io::stdout().lock(), text));
}

/// Writes to standard output what `fill` writes, redacted as it goes (for output too large to
/// build as one string).
pub fn stdout_with(fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    let mut out = crate::api::redact::redacting(std::io::BufWriter::new(std::io::stdout().lock()));
    note_stdout(fill(&mut out).and_then(|()| out.finish().map(drop)));
}

/// Writes `text` to standard error as it is. A closed or full standard error has nobody to
/// tell.
pub fn stderr(text: &str) {
    let _ = write_to(std::io::stderr().lock(), text);
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
            stderr_line(&crate::core::escape::visible(line));
        }
    }
}

/// Makes a [`LogLine`] per event.
pub fn log_writer() -> LogLine {
    LogLine::default()
}
