//! A real terminal for poolform, from Rust alone: a pseudo-terminal (`portable-pty`) runs the
//! binary, and a terminal emulator (`vt100`) reads its screen the way a person would see it.
//! No tmux, no `script`.

use super::{wait_for, PROJECT, TOKEN};
use portable_pty::{native_pty_system, Child, CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A program running on a pseudo-terminal of its own.
pub struct Terminal {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    /// Every byte the program wrote, for what scrolled off the screen.
    raw: Arc<Mutex<Vec<u8>>>,
}

impl Terminal {
    /// `poolform args` on a terminal of `cols` x `rows`, with the test's token and project (and
    /// `env` besides), in a clean environment.
    pub fn poolform(args: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> Terminal {
        let mut cmd = CommandBuilder::new(assert_cmd::cargo::cargo_bin("poolform"));
        cmd.env_clear();
        for (k, v) in [
            ("HOME", "/tmp"),
            ("TERM", "xterm-256color"),
            ("NO_COLOR", "1"),
            ("HW_AUTH_TOKEN", TOKEN),
            ("HW_PROJECT_ID", PROJECT),
        ]
        .iter()
        .chain(env)
        {
            cmd.env(k, v);
        }
        cmd.args(args);
        Terminal::start(cmd, cols, rows)
    }

    fn start(cmd: CommandBuilder, cols: u16, rows: u16) -> Terminal {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let child = pair.slave.spawn_command(cmd).expect("poolform starts");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(rows).expect("rows"),
            std::num::NonZeroU16::new(cols).expect("columns"),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (into_screen, into_raw) = (screen.clone(), raw.clone());
        std::thread::spawn(move || {
            // Keeps the master open while the program runs.
            let _master = pair.master;
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                into_screen.lock().unwrap().process(&buf[..n]);
                into_raw.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Terminal {
            child,
            writer,
            screen,
            raw,
        }
    }

    /// What the screen shows now.
    pub fn screen(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Everything written so far, carriage returns removed.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().unwrap()).replace('\r', "")
    }

    /// Waits (up to a minute) until the screen shows what `ready` looks for; returns it.
    #[track_caller]
    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} on the terminal:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types `text` (as keys: `\x03` is Ctrl-C).
    pub fn type_keys(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Whether the program has exited.
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Waits for the program to exit; its exit code (a signal's 128 + n as a shell reports
    /// it) and everything it wrote.
    #[track_caller]
    pub fn finish(mut self) -> (i32, String) {
        wait_for("the program to exit", || self.exited());
        let status = self.child.wait().unwrap();
        // Let the reader drain what was written last.
        let settled = Instant::now();
        let mut len = self.raw.lock().unwrap().len();
        while settled.elapsed() < Duration::from_millis(300) {
            std::thread::sleep(Duration::from_millis(30));
            let now = self.raw.lock().unwrap().len();
            if now == len {
                break;
            }
            len = now;
        }
        (status.exit_code() as i32, self.text())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
