//! `roomcast serve` with the system allocator instead of mimalloc, so heap
//! profilers that hook malloc (heaptrack, valgrind massif) see every
//! allocation: `heaptrack target/release/examples/roomcast_system_alloc serve ...`.
//! Same command line as the `roomcast` binary; not for production.

use std::io::Write;

use clap::Parser;
use roomcast::cli::{Cli, Command};
use roomcast::{app, config::Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let app = app::build(Settings::load(*args)?).await?;
            let mut out = std::io::stdout();
            writeln!(out, "roomcast listening on http://{}", app.local_addr()?)?;
            out.flush()?;
            app.run_until(app::shutdown_signal()).await?;
        }
        _ => anyhow::bail!("this profiling build only serves; use `roomcast` for the rest"),
    }
    Ok(())
}
