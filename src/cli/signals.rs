//! The signals a run stops on: SIGINT (Ctrl-C), SIGTERM (how GitLab and GitHub cancel a job)
//! and SIGHUP (the terminal went away), handled alike. The first stops the run: no new call
//! starts, DELETEs in flight finish, reads are abandoned, the report is printed, and the exit
//! code names the signal (130, 143, 129). A second ends the run at once (`cli::run` stops
//! waiting on the command; `main` returns the first signal's code).

use crate::api::{Signal, StopSignal};
use std::sync::Arc;

/// Watches for the signals, for the rest of the process: the first stops the run (`stop`);
/// the answer comes at the second, with the first's name, for the run to end at once.
pub fn watch(stop: Arc<StopSignal>) -> tokio::sync::oneshot::Receiver<Signal> {
    let (second, answer) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let Some(first) = next_signal().await else {
            return;
        };
        stop.stop_for(first);
        if next_signal().await.is_some() {
            let _ = second.send(first);
        }
    });
    answer
}

/// The next of the three signals to arrive (`None` if they cannot be watched).
#[cfg(unix)]
async fn next_signal() -> Option<Signal> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt()).ok()?;
    let mut term = signal(SignalKind::terminate()).ok()?;
    let mut hup = signal(SignalKind::hangup()).ok()?;
    tokio::select! {
        _ = int.recv() => Some(Signal::Interrupt),
        _ = term.recv() => Some(Signal::Terminate),
        _ = hup.recv() => Some(Signal::Hangup),
    }
}

#[cfg(not(unix))]
async fn next_signal() -> Option<Signal> {
    tokio::signal::ctrl_c()
        .await
        .ok()
        .map(|()| Signal::Interrupt)
}
