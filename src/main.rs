//! `poolform`: parse arguments, run the command, map how it ended to an exit code.

use clap::Parser;
use poolform::cli::args::Cli;
use poolform::cli::output;
use poolform::core::escape;
use std::process::ExitCode;

/// A usage error: exit 1, never 2 (2 means drift or blocked).
const USAGE: u8 = 1;

/// `-v`, else `POOLFORM_LOG` (debug, info, warn, error): the level of the log on stderr.
fn log_level(verbose: bool) -> Result<Option<tracing::Level>, String> {
    if verbose {
        return Ok(Some(tracing::Level::DEBUG));
    }
    match std::env::var("POOLFORM_LOG") {
        Err(_) => Ok(None),
        Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "off" => Ok(None),
            "debug" => Ok(Some(tracing::Level::DEBUG)),
            "info" => Ok(Some(tracing::Level::INFO)),
            "warn" => Ok(Some(tracing::Level::WARN)),
            "error" => Ok(Some(tracing::Level::ERROR)),
            _ => Err(format!(
                "POOLFORM_LOG={:?} is not one of debug, info, warn, error (or off)",
                escape::visible(&v)
            )),
        },
    }
}

/// At most two malloc arenas: the runtime's worker threads decode list pages that the main
/// thread plans from and frees, and an arena per thread would keep memory the others freed
/// (a run's memory bound holds for the process, not only for what it counts).
fn few_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> ExitCode {
    few_arenas();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let refused =
        poolform::cli::habits::refuse_single_dash(&args, &poolform::cli::args::long_flags())
            .and_then(|()| {
                poolform::cli::habits::refuse_misplaced(&args, &poolform::cli::args::value_flags)
            });
    if let Err(message) = refused {
        output::stderr_line(&format!(
            "error: {}\n\nFor more information, try '--help'.",
            escape::visible(&message)
        ));
        return ExitCode::from(USAGE);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout and exit 0; anything else is a usage error.
            let code = if e.use_stderr() { USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let level = match log_level(cli.global.verbose) {
        Ok(level) => level,
        Err(message) => {
            output::stderr_line(&format!("error: {message}"));
            return ExitCode::from(USAGE);
        }
    };
    if let Some(level) = level {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let own_events = tracing_subscriber::filter::Targets::new().with_target("poolform", level);
        let log = tracing_subscriber::fmt::layer()
            .with_writer(output::log_writer)
            .with_ansi(false)
            .with_target(false);
        tracing_subscriber::registry()
            .with(log)
            .with(own_events)
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            output::stderr_line(&format!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let ended = runtime.block_on(poolform::cli::run(cli.command, &cli.global));
    // What a second signal left running (a read that was never answered) is not waited for.
    runtime.shutdown_background();
    match ended {
        Ok(end) => ExitCode::from(end.exit_code()),
        Err(e) => {
            // Errors quote the API and the config: shown with control characters escaped.
            let message = format!("{e:#}");
            output::stderr_line(&format!("error: {}", escape::visible(&message)));
            ExitCode::from(1)
        }
    }
}
