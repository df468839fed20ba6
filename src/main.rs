//! `roomcast`: parse the command line, start logging, run.

use std::io::Write;

use clap::Parser;
use roomcast::cli::{Cli, Command};
use roomcast::{app, config::Settings};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("ROOMCAST_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(args) => {
            let settings = Settings::from(args);
            let app = app::build(settings).await?;
            let addr = app.local_addr()?;
            // The one line on stdout: scripts and tests read the port from it.
            let mut out = std::io::stdout();
            writeln!(out, "roomcast listening on http://{addr}")?;
            out.flush()?;
            app.run().await?;
        }
    }
    Ok(())
}
