//! A bare socketioxide 0.18 chat server (no auth, no storage) for
//! `bench/compare.sh`, built against the stock crates (see `bare/Cargo.toml`):
//! `cargo run --release --manifest-path bench/bare/Cargo.toml -- 127.0.0.1:3001`.
//!
//! Prints `listening on http://ADDR` once bound. A second argument `N`
//! drops every N-th chat broadcast (to check a load tool counts losses).

#[path = "bare_chat.rs"]
mod bare_chat;

use std::io::Write;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:3001".into());
    let drop_every = match args.next() {
        Some(n) => n.parse()?,
        None => 0,
    };
    let faults = bare_chat::Faults {
        drop_every,
        ..Default::default()
    };
    let (app, _) = bare_chat::router(faults);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let mut out = std::io::stdout();
    writeln!(out, "listening on http://{}", listener.local_addr()?)?;
    out.flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}
