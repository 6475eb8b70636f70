//! `poolform`: parse arguments, run the command, map the outcome to an exit code.

use clap::Parser;
use poolform::app;
use poolform::cli::Cli;
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
            poolform::output::stderr_line(&format!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(app::run(cli.command, &cli.global)) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            // Errors quote the API and the config: shown with control characters escaped.
            let message = format!("{e:#}");
            poolform::output::stderr_line(&format!(
                "error: {}",
                poolform::escape::visible(&message)
            ));
            ExitCode::from(1)
        }
    }
}
