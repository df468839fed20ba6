//! Logging through `tracing`: human-readable lines by default, JSON on request.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the process-wide subscriber, writing to stderr. `ROOMCAST_LOG`
/// filters as `RUST_LOG` does (default `info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("ROOMCAST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        // Span lists and the current span add nothing here (roomcast logs
        // with fields, not spans) and double the line length.
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}
