//! Logging through `tracing`: human-readable lines by default, JSON on request.

use std::fmt::{self, Write as _};
use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{Writer, debug_fn};

use crate::config::LogFormat;

mod refusals;

pub use refusals::RefusalLog;

/// The most characters of one field a log line quotes; the rest is cut and
/// marked. Claims (`sub`, `name`) and event names come from clients.
pub const MAX_FIELD_CHARS: usize = 200;

/// Installs the process-wide subscriber, writing to stderr. `ROOMCAST_LOG`
/// filters as `RUST_LOG` does (default `info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("ROOMCAST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in a file.
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        // Every field value passes through `escape`: a client's claim can
        // neither forge a line (newline, NUL, ANSI escapes) nor make one huge.
        LogFormat::Text => builder
            .fmt_fields(debug_fn(write_field).delimited(" "))
            .init(),
        // Span lists and the current span add nothing here (roomcast logs
        // with fields, not spans) and double the line length. JSON escapes
        // control characters itself; call sites cap client values with
        // [`Quoted`].
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}

fn write_field(
    w: &mut Writer<'_>,
    field: &tracing::field::Field,
    value: &dyn fmt::Debug,
) -> fmt::Result {
    let raw = format!("{value:?}");
    if field.name() == "message" {
        write!(w, "{}", Escaped(&raw))
    } else {
        write!(w, "{}={}", field.name(), Escaped(&raw))
    }
}

/// A client-supplied string as a log field: control characters escaped,
/// at most [`MAX_FIELD_CHARS`] characters. Use as `user = %Quoted(&id)`.
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Escaped(self.0).fmt(f)
    }
}

struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(MAX_FIELD_CHARS) {
            if c.is_control() {
                // `\n`, `\u{1b}`, `\0`: visible, and never a line break.
                for e in c.escape_default() {
                    f.write_char(e)?;
                }
            } else {
                f.write_char(c)?;
            }
        }
        let rest = chars.count();
        if rest > 0 {
            write!(f, "…(+{rest} chars)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_values_cut() {
        let s = Quoted("a\nb\u{1b}[31mc\0\u{7}").to_string();
        assert_eq!(s, "a\\nb\\u{1b}[31mc\\u{0}\\u{7}");
        let long = "x".repeat(MAX_FIELD_CHARS + 50);
        let cut = Quoted(&long).to_string();
        assert!(cut.starts_with(&"x".repeat(MAX_FIELD_CHARS)));
        assert!(cut.ends_with("…(+50 chars)"), "{cut}");
    }
}
