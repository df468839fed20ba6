//! `roomcast-load`: a Socket.IO load generator for the chat subset
//! (`join {room}`, `chat {room, message}` echoed to the room, acks).
//!
//! Exit status: 0 when the run completed with no loss, duplicate or error;
//! 1 when it completed but counted any; 2 when it could not run.

mod cli;
mod conn;
mod procfs;
mod report;
mod run;
mod stats;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    if let Err(e) = args.validate() {
        eprintln!("roomcast-load: {e}");
        return ExitCode::from(2);
    }
    let threads = args
        .threads
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
        .max(1);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("roomcast-load: runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let json = args.json;
    let outcome = runtime.block_on(run::run(Arc::new(args)));
    // Sockets still closing must not hold the report back.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match outcome {
        Ok(summary) => {
            // A closed stdout (`| head`) must not turn a run into a panic.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", summary.human());
            if json {
                let _ = writeln!(out, "{}", summary.json());
            }
            let clean =
                summary.errors() == 0 && summary.lost_deliveries == 0 && summary.duplicates == 0;
            if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("roomcast-load: {e}");
            ExitCode::from(2)
        }
    }
}
