//! `poolform`: parse arguments, run the command, map the outcome to an exit code.

use clap::Parser;
use poolform::app;
use poolform::cli::Cli;
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.global.verbose {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let own_events = tracing_subscriber::filter::Targets::new()
            .with_target("poolform", tracing::Level::DEBUG);
        let log = tracing_subscriber::fmt::layer()
            .with_writer(poolform::output::log_writer)
            .with_ansi(std::io::stderr().is_terminal())
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
            poolform::output::stderr_line(&format!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(app::run(cli.command, &cli.global)) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            poolform::output::stderr_line(&format!("error: {e:#}"));
            // A call the interrupt stopped (a listing, say): nothing was deleted after it.
            let interrupted = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<poolform::api::ApiError>(),
                    Some(poolform::api::ApiError::Stopped { why, .. }) if why == "interrupted"
                )
            });
            ExitCode::from(if interrupted { 130 } else { 1 })
        }
    }
}
