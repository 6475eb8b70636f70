//! Runs a child process to its end and reads its peak RSS, with a time limit that only guards
//! against a hang (speed targets live in the benchmarks).
//!
//! The peak is the child's own high-water mark (`VmHWM` of `/proc/PID/status`, which exec
//! starts afresh), read every few milliseconds while it runs: whatever else this test process
//! holds (other tests run beside it) does not count. Where it cannot be read, `wait4`'s
//! rusage stands in: the child is forked (not vfork-spawned), so that figure starts from what
//! this process had resident at the fork (`parent_rss_mib`), never from its peak.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a measured child did.
pub struct Measured {
    pub code: Option<i32>,
    /// The signal that ended it, if one did (the time limit's SIGKILL among them).
    pub signal: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Peak resident set size, in MiB.
    pub peak_rss_mib: f64,
    /// This process's resident set when the child was forked, in MiB (the floor of the figure
    /// above).
    pub parent_rss_mib: f64,
    pub wall: Duration,
    /// The time limit ran out and the child was killed.
    pub timed_out: bool,
}

/// Runs `cmd` with piped output and no input, and measures it (no time limit).
pub fn run_measured(cmd: &mut Command) -> Measured {
    run_measured_within(cmd, Duration::from_secs(24 * 3600))
}

/// Runs `cmd` with piped output and no input, and measures it; kills it after `limit`.
pub fn run_measured_within(cmd: &mut Command, limit: Duration) -> Measured {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
    let parent_rss_mib = status_mib("VmRSS:");
    let started = Instant::now();
    // SAFETY: the hook does nothing; its presence makes std fork rather than vfork, so the
    // child's RSS accounting starts from this process's current RSS, not its peak.
    unsafe {
        cmd.pre_exec(|| Ok(()));
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the child starts");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let pid = child.id() as libc::pid_t;
    // The watchdog kills the child only while it is still ours: `exited` is set, under the
    // lock, once it has exited and before it is reaped (so its pid cannot have been reused).
    let exited = Arc::new(Mutex::new(false));
    let timed_out = Arc::new(Mutex::new(false));
    let sampled = Arc::new(Mutex::new(0.0f64));
    {
        let (exited, timed_out, sampled) = (exited.clone(), timed_out.clone(), sampled.clone());
        std::thread::spawn(move || {
            let deadline = started + limit;
            let status = format!("/proc/{pid}/status");
            loop {
                std::thread::sleep(Duration::from_millis(5));
                let exited = exited.lock().unwrap();
                if *exited {
                    return;
                }
                // Not yet reaped: the pid is still our child's.
                if let Some(mib) = status_file_mib(&status, "VmHWM:") {
                    let mut peak = sampled.lock().unwrap();
                    *peak = peak.max(mib);
                }
                if Instant::now() >= deadline {
                    // SAFETY: `pid` is our child, exited or not, but not yet reaped.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    *timed_out.lock().unwrap() = true;
                    return;
                }
            }
        });
    }
    // SAFETY: a zeroed siginfo_t is a valid value for waitid to fill in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: wait for the exit without reaping (WNOWAIT); the pointer is valid.
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT,
        )
    };
    assert_eq!(r, 0, "waitid failed");
    *exited.lock().unwrap() = true;
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, exited, not yet reaped; the pointers are valid.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let wall = started.elapsed();
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else {
        (None, Some(libc::WTERMSIG(status)))
    };
    // The child is reaped: make sure `Child`'s drop does not wait on it again.
    std::mem::forget(child);
    let timed_out = *timed_out.lock().unwrap();
    let sampled = *sampled.lock().unwrap();
    Measured {
        code,
        signal,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        peak_rss_mib: if sampled > 0.0 {
            sampled
        } else {
            usage.ru_maxrss as f64 / 1024.0
        },
        parent_rss_mib,
        wall,
        timed_out,
    }
}

/// A memory figure of this process from `/proc/self/status` (`VmRSS:`, `VmHWM:`), in MiB
/// (Linux; 0 elsewhere).
pub fn status_mib(key: &str) -> f64 {
    status_file_mib("/proc/self/status", key).unwrap_or(0.0)
}

/// A memory figure (`VmRSS:`, `VmHWM:`) from a `/proc/PID/status` file, in MiB.
fn status_file_mib(path: &str, key: &str) -> Option<f64> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
}
