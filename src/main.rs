//! `roomcast`: parse the command line, start logging, run.

use std::io::Write;

use clap::Parser;
use roomcast::cli::{Cli, Command};
use roomcast::{app, config::Settings};
use tracing_subscriber::EnvFilter;

// mimalloc instead of glibc malloc: delivery allocates a frame per socket per
// message, and glibc's arena locks cost 40% of acked-chat throughput in
// benches/chat_throughput.rs (32 clients: 13.5k/s with glibc, 24.7k/s with mimalloc).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
