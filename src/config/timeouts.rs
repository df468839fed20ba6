//! Connection deadlines: the Socket.IO timers clients are told about and the HTTP ones.

use std::time::Duration;

/// How long a connection may do nothing useful before it is closed.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To send an HTTP request head, or the next one on a keep-alive connection.
    pub http_head: Duration,
    /// From the Engine.IO handshake to the Socket.IO CONNECT (`connectTimeout`).
    pub connect: Duration,
    /// Engine.IO heartbeat (`pingInterval`, `pingTimeout`): a session that
    /// neither polls nor answers a ping within their sum is closed.
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// From a request head to the end of its body (polling POSTs included):
    /// a body not complete by then gets 408 and the connection closes.
    pub http_body: Duration,
    /// The same for a file upload (`POST /api/rooms/{room}/files`): long
    /// enough for `--max-file-size` over a slow uplink (10 MiB in five
    /// minutes is 280 kbit/s).
    pub http_upload: Duration,
    /// How long a write to a client that does not read may stay pending
    /// before the HTTP connection is closed.
    pub write_stall: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            http_head: Duration::from_secs(10),
            // Node's socket.io `connectTimeout`, `pingInterval`, `pingTimeout`.
            connect: Duration::from_secs(45),
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            http_body: Duration::from_secs(30),
            http_upload: Duration::from_secs(300),
            write_stall: Duration::from_secs(30),
        }
    }
}

/// The longest timer a setting may ask for, in milliseconds (about 24.8
/// days): browsers and Node run a `setTimeout` longer than 2^31 - 1 ms at
/// once, so a client given a larger `pingInterval + pingTimeout` would
/// think every session dead the moment it opened.
pub const MAX_TIMER_MS: u64 = i32::MAX as u64;

impl Timeouts {
    /// Refuses a zero deadline (tokio's interval panics on a zero period, and
    /// a session could never live) and, as flags are checked by clap but the
    /// file is not, one beyond [`MAX_TIMER_MS`]; also the sum the clients
    /// arm as one timer.
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        let named = [
            ("ping-interval", self.ping_interval),
            ("ping-timeout", self.ping_timeout),
            ("connect-timeout", self.connect),
        ];
        for (name, d) in named {
            let ms = d.as_millis();
            anyhow::ensure!(
                (1..=u128::from(MAX_TIMER_MS)).contains(&ms),
                "{name} must be 1 to {MAX_TIMER_MS} milliseconds, not {ms}"
            );
        }
        let sum = self.ping_interval.as_millis() + self.ping_timeout.as_millis();
        anyhow::ensure!(
            sum <= u128::from(MAX_TIMER_MS),
            "ping-interval + ping-timeout must be at most {MAX_TIMER_MS} milliseconds \
             (clients arm one timer of their sum), not {sum}"
        );
        Ok(())
    }
}
