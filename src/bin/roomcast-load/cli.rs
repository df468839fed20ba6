//! Command-line options of `roomcast-load`.

use std::net::IpAddr;
use std::time::Duration;

use clap::Parser;

/// Drives a Socket.IO chat server (roomcast, or any server speaking the same
/// `join`/`chat` subset) with many WebSocket clients and reports connect
/// rate, server memory, throughput, latency and lost messages.
#[derive(Debug, Clone, Parser)]
#[command(name = "roomcast-load", version)]
pub(crate) struct Args {
    /// Server base URL (`http://` or `ws://`); `/socket.io/` is appended.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub(crate) url: String,

    /// Sockets to open; client i joins room `i % rooms`.
    #[arg(long, default_value_t = 100)]
    pub(crate) clients: usize,

    /// Rooms the clients are spread over (named `<room-prefix>0`, `<room-prefix>1`, ...).
    #[arg(long, default_value_t = 10)]
    pub(crate) rooms: usize,

    /// Prefix of the room names.
    #[arg(long, default_value = "load-")]
    pub(crate) room_prefix: String,

    /// Clients per room that send chats (0: connect, join and stay idle).
    #[arg(long, default_value_t = 1)]
    pub(crate) senders: usize,

    /// Chats per second per sender (open loop); 0 = closed loop, keeping
    /// `--window` chats in flight (sent, not yet acked) per sender.
    #[arg(long, default_value_t = 0.0)]
    pub(crate) rate: f64,

    /// Most un-acked chats per sender. In open loop a tick that finds the
    /// window full sends nothing and is counted as `skipped`.
    #[arg(long, default_value_t = 8)]
    pub(crate) window: usize,

    /// Measured time, after the warm-up, in seconds.
    #[arg(long, default_value = "10.0", value_parser = secs)]
    pub(crate) duration: Duration,

    /// Sending before measurement starts, in seconds.
    #[arg(long, default_value = "2.0", value_parser = secs)]
    pub(crate) warmup: Duration,

    /// Longest wait, once sending stopped, for the last acks and deliveries
    /// (seconds); what has not arrived by then is lost.
    #[arg(long, default_value = "5.0", value_parser = secs)]
    pub(crate) drain: Duration,

    /// Length of each chat message in bytes (at least the ~40-byte header
    /// that carries sender, sequence number and send time).
    #[arg(long, default_value_t = 64)]
    pub(crate) message_size: usize,

    /// Mix changes into the chat load (roomcast's `edit` and `react`, issue
    /// 14): after every Nth chat a sender has acked, it edits that message and
    /// reacts to it (two more acked writes, delivered to the room as `edit`
    /// and `reaction`). 0: chats only.
    #[arg(long, default_value_t = 0)]
    pub(crate) changes: u64,

    /// HS256 secret: each client sends a token (`sub` = `load-<i>`) in
    /// `auth.token`. Without it no auth is sent.
    #[arg(long, env = "ROOMCAST_LOAD_JWT_SECRET", hide_env_values = true)]
    pub(crate) jwt_secret: Option<String>,

    /// Local addresses to bind client sockets to, round-robin
    /// (e.g. `127.0.0.1,127.0.0.2`): each gives ~28k ephemeral ports.
    #[arg(long, value_delimiter = ',')]
    pub(crate) source: Vec<IpAddr>,

    /// Connections being set up (connect + CONNECT + join) at once.
    #[arg(long, default_value_t = 64)]
    pub(crate) connect_concurrency: usize,

    /// Longest time for one client's connect + join, in seconds.
    #[arg(long, default_value = "30.0", value_parser = secs)]
    pub(crate) connect_timeout: Duration,

    /// Server process id: its RSS is read from `/proc/PID/status` before
    /// connecting and once every client has joined.
    #[arg(long)]
    pub(crate) pid: Option<u32>,

    /// With `--senders 0`, how long to hold the idle sockets open after
    /// joining (seconds) before sampling RSS again and closing.
    #[arg(long, default_value = "0.0", value_parser = secs)]
    pub(crate) idle_hold: Duration,

    /// Tokio worker threads (default: the CPUs this process may run on).
    #[arg(long)]
    pub(crate) threads: Option<usize>,

    /// Restart storm: after the warm-up, run this shell command, which must
    /// stop the server (SIGTERM), start it again on the same database and
    /// address, and exit once the new process listens, printing its pid as
    /// its last line. Every client reconnects as socket.io-client does
    /// (1 s first delay, doubling to 5 s, ±50 % jitter) and rejoins with
    /// `since` its last message id; the run reports how soon every client
    /// was back and caught up after the command exited.
    #[arg(long)]
    pub(crate) restart_cmd: Option<String>,

    /// Restart storm against a server whose message ids do not survive a
    /// restart (the Node reference): rejoin without `since`, keep every
    /// chat (messages sent while a client was away are lost there).
    #[arg(long)]
    pub(crate) no_since: bool,

    /// Restart storm: longest wait for every client to be back (seconds).
    #[arg(long, default_value = "60.0", value_parser = secs)]
    pub(crate) storm_timeout: Duration,

    /// Label copied into the JSON line (e.g. the server's name).
    #[arg(long, default_value = "")]
    pub(crate) label: String,

    /// Print one JSON line after the human-readable summary.
    #[arg(long)]
    pub(crate) json: bool,
}

fn secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s.parse().map_err(|e| format!("{s:?}: {e}"))?;
    Duration::try_from_secs_f64(v).map_err(|e| format!("{s:?}: {e}"))
}

impl Args {
    /// Checks combinations clap cannot express.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.clients == 0 || self.rooms == 0 {
            return Err("--clients and --rooms must be at least 1".into());
        }
        if self.rooms > self.clients {
            return Err("--rooms may not exceed --clients (a room needs a member)".into());
        }
        if self.window == 0 {
            return Err("--window must be at least 1".into());
        }
        if !(self.rate >= 0.0 && self.rate.is_finite()) {
            return Err("--rate must be a number >= 0".into());
        }
        if self.connect_concurrency == 0 {
            return Err("--connect-concurrency must be at least 1".into());
        }
        if self.restart_cmd.is_some() && self.changes > 0 {
            // A replay's edits carry old ids: the id order the storm's
            // deduplication relies on holds for chats only.
            return Err("--restart-cmd and --changes do not go together".into());
        }
        if self.restart_cmd.is_some() && self.senders == 0 {
            return Err("--restart-cmd needs --senders of at least 1".into());
        }
        if !(self.url.starts_with("http://") || self.url.starts_with("ws://")) {
            return Err("--url must start with http:// or ws:// (TLS is not supported)".into());
        }
        Ok(())
    }

    /// The Engine.IO WebSocket endpoint.
    pub(crate) fn ws_url(&self) -> String {
        let rest = self
            .url
            .trim_start_matches("http://")
            .trim_start_matches("ws://")
            .trim_end_matches('/');
        format!("ws://{rest}/socket.io/?EIO=4&transport=websocket")
    }

    pub(crate) fn room_of(&self, client: usize) -> usize {
        client % self.rooms
    }

    /// Members of `room`: clients `room`, `room + rooms`, ...
    pub(crate) fn members_of(&self, room: usize) -> usize {
        (self.clients - room).div_ceil(self.rooms)
    }

    /// The first `senders` members of each room send.
    pub(crate) fn is_sender(&self, client: usize) -> bool {
        client / self.rooms < self.senders
    }

    pub(crate) fn room_name(&self, room: usize) -> String {
        format!("{}{room}", self.room_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::parse_from(std::iter::once("roomcast-load").chain(list.iter().copied()))
    }

    #[test]
    fn clients_are_spread_over_rooms_and_the_first_members_send() {
        let a = args(&["--clients", "10", "--rooms", "3", "--senders", "2"]);
        let members: Vec<usize> = (0..3).map(|r| a.members_of(r)).collect();
        assert_eq!(members, [4, 3, 3]);
        let senders: Vec<usize> = (0..10).filter(|&i| a.is_sender(i)).collect();
        assert_eq!(senders, [0, 1, 2, 3, 4, 5]);
        assert_eq!(a.room_of(7), 1);
        assert_eq!(
            a.ws_url(),
            "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket"
        );
    }

    #[test]
    fn impossible_combinations_are_refused() {
        assert!(
            args(&["--clients", "2", "--rooms", "3"])
                .validate()
                .is_err()
        );
        assert!(args(&["--window", "0"]).validate().is_err());
        assert!(args(&["--url", "https://example.org"]).validate().is_err());
        assert!(
            args(&["--rate", "2.5", "--duration", "0.5"])
                .validate()
                .is_ok()
        );
    }
}
