//! `roomcast`: parse the command line, start logging, run.

use std::io::Write;

use clap::Parser;
use roomcast::cli::{Cli, Command};
use roomcast::{admin, app, config::Settings, telemetry};

// mimalloc instead of glibc malloc: delivery allocates a frame per socket per
// message, and glibc's arena locks cost 40% of acked-chat throughput in
// benches/chat_throughput.rs (32 clients: 13.5k/s with glibc, 24.7k/s with mimalloc).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        // Admin commands log storage errors the same way the server does.
        telemetry::init(roomcast::config::LogFormat::Text);
    }
    match cli.command {
        Command::Serve(args) => {
            let settings = Settings::load(*args)?;
            telemetry::init(settings.log_format);
            let app = app::build(settings).await?;
            let addr = app.local_addr()?;
            let stop = app::shutdown_signal();
            // The one line on stdout: scripts and tests read the port from it.
            let mut out = std::io::stdout();
            writeln!(out, "roomcast listening on http://{addr}")?;
            out.flush()?;
            app.run_until(stop).await?;
        }
        Command::User(cmd) => admin::user(cmd).await?,
        Command::Room(cmd) => admin::room(cmd).await?,
        Command::Message(cmd) => admin::message(cmd).await?,
        Command::Token(args) => admin::token(args).await?,
        Command::Key(cmd) => admin::key(cmd).await?,
        Command::Webhooks(cmd) => admin::webhooks(cmd).await?,
        Command::Backup(args) => admin::backup(args).await?,
    }
    Ok(())
}
