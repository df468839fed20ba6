//! The run's results: a human-readable summary and one JSON line.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::cli::Args;
use crate::stats::Rejoins;

/// Everything a run measured. Rates are over the measured window only;
/// counts (sent, lost, ...) are over the whole run, warm-up and drain included.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) label: String,
    pub(crate) clients: usize,
    pub(crate) rooms: usize,
    pub(crate) senders: usize,
    pub(crate) rate: f64,
    pub(crate) window: usize,
    pub(crate) message_size: usize,
    pub(crate) joined: usize,
    pub(crate) connect_errors: usize,
    pub(crate) connect_secs: f64,
    pub(crate) rss_before_kib: Option<u64>,
    pub(crate) rss_joined_kib: Option<u64>,
    pub(crate) rss_end_kib: Option<u64>,
    pub(crate) measured_secs: f64,
    pub(crate) acked_per_sec: f64,
    pub(crate) deliveries_per_sec: f64,
    /// CPU use over the measured window, in % of one core.
    pub(crate) load_cpu_pct: Option<f64>,
    pub(crate) server_cpu_pct: Option<f64>,
    pub(crate) sent: u64,
    pub(crate) acked_ok: u64,
    pub(crate) acked_err: u64,
    pub(crate) unacked: u64,
    pub(crate) skipped: u64,
    pub(crate) deliveries: u64,
    pub(crate) expected_deliveries: u64,
    pub(crate) lost_deliveries: u64,
    pub(crate) lost_messages: u64,
    pub(crate) duplicates: u64,
    pub(crate) foreign: u64,
    /// `--changes`: edits and reactions sent, acked ok / not, and their
    /// broadcasts received of those due (the members of each changed room).
    pub(crate) changes_sent: u64,
    pub(crate) changes_ok: u64,
    pub(crate) changes_err: u64,
    pub(crate) change_deliveries: u64,
    pub(crate) change_expected: u64,
    /// Clients that joined, then lost their connection before the end.
    pub(crate) dropped_clients: usize,
    /// [p50, p99, max] send-to-delivery latency in µs.
    pub(crate) latency_us: Option<[u64; 3]>,
    pub(crate) latency_samples: u64,
    pub(crate) first_failure: Option<String>,
    pub(crate) first_ack_error: Option<String>,
    /// `--restart-cmd`: the restart storm.
    pub(crate) storm: Option<Storm>,
}

/// What a restart storm measured.
#[derive(Debug, Default)]
pub(crate) struct Storm {
    /// How long `--restart-cmd` took (old server stopped, new one listening).
    pub(crate) restart_secs: f64,
    /// [p50, p99, max] of each client's time back in and caught up, from
    /// the command's exit, in ms.
    pub(crate) back_ms: Option<[f64; 3]>,
    /// Joined clients not back by `--storm-timeout`.
    pub(crate) not_back: usize,
    /// Every client's rejoins added up.
    pub(crate) rejoins: Rejoins,
    /// The new server's peak RSS (`VmHWM`) at the end.
    pub(crate) peak_rss_kib: Option<u64>,
    pub(crate) error: Option<String>,
}

impl Summary {
    pub(crate) fn new(args: &Args) -> Self {
        Self {
            label: args.label.clone(),
            clients: args.clients,
            rooms: args.rooms,
            senders: args.senders,
            rate: args.rate,
            window: args.window,
            message_size: args.message_size,
            ..Default::default()
        }
    }

    pub(crate) fn connect_rate(&self) -> f64 {
        self.joined as f64 / self.connect_secs.max(1e-9)
    }

    /// Server RSS growth from before connecting to all joined, per joined socket.
    pub(crate) fn rss_per_socket_kib(&self) -> Option<f64> {
        let (a, b) = (self.rss_before_kib?, self.rss_joined_kib?);
        (self.joined > 0).then(|| (b as f64 - a as f64) / self.joined as f64)
    }

    /// Every kind of failure: refused or failed connects, error acks, chats
    /// never acked, clients cut off. In a restart storm a chat in flight
    /// at the restart may go unanswered or be refused by the closing
    /// server (and may be stored: the client cannot know); the storm's
    /// failures are clients not back, and any loss or repeat.
    pub(crate) fn errors(&self) -> u64 {
        let (cut, storm) = match &self.storm {
            Some(st) => (0, st.not_back as u64 + u64::from(st.error.is_some())),
            None => (self.acked_err + self.unacked, 0),
        };
        self.connect_errors as u64
            + cut
            + storm
            + self.dropped_clients as u64
            + self.changes_err
            + self
                .changes_sent
                .saturating_sub(self.changes_ok + self.changes_err)
    }

    pub(crate) fn human(&self) -> String {
        let mut o = String::new();
        let label = if self.label.is_empty() {
            String::new()
        } else {
            format!(" [{}]", self.label)
        };
        let _ = writeln!(
            o,
            "roomcast-load{label}: {} clients in {} rooms, {} sender(s)/room, {}",
            self.clients,
            self.rooms,
            self.senders,
            if self.rate > 0.0 {
                format!("{} msg/s each (window {})", self.rate, self.window)
            } else {
                format!("closed loop, window {}", self.window)
            }
        );
        let _ = writeln!(
            o,
            "  connect+join: {} joined, {} failed in {:.2}s = {:.0}/s",
            self.joined,
            self.connect_errors,
            self.connect_secs,
            self.connect_rate()
        );
        if let Some(per) = self.rss_per_socket_kib() {
            let _ = writeln!(
                o,
                "  server RSS: {} KiB before, {} KiB joined, {} KiB at end = {per:.1} KiB/socket",
                self.rss_before_kib.unwrap_or(0),
                self.rss_joined_kib.unwrap_or(0),
                self.rss_end_kib.unwrap_or(0),
            );
        }
        if self.senders > 0 {
            let pct = |p: Option<f64>| p.map_or("-".into(), |p| format!("{p:.0}%"));
            let _ = writeln!(
                o,
                "  throughput over {:.1}s: {:.0} deliveries/s, {:.0} acked chats/s (CPU: server {}, load tool {})",
                self.measured_secs,
                self.deliveries_per_sec,
                self.acked_per_sec,
                pct(self.server_cpu_pct),
                pct(self.load_cpu_pct)
            );
            let lat = match self.latency_us {
                Some([p50, p99, max]) => format!(
                    "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
                    p50 as f64 / 1e3,
                    p99 as f64 / 1e3,
                    max as f64 / 1e3,
                    self.latency_samples
                ),
                None => "no samples".into(),
            };
            let _ = writeln!(o, "  latency send->delivery: {lat}");
            let _ = writeln!(
                o,
                "  chats: {} sent, {} acked ok, {} error acks, {} never acked, {} ticks skipped (window full)",
                self.sent, self.acked_ok, self.acked_err, self.unacked, self.skipped
            );
            let _ = writeln!(
                o,
                "  deliveries: {} of {} due; lost {} deliveries ({} messages), {} duplicates, {} foreign",
                self.deliveries,
                self.expected_deliveries,
                self.lost_deliveries,
                self.lost_messages,
                self.duplicates,
                self.foreign
            );
            if self.changes_sent > 0 {
                let _ = writeln!(
                    o,
                    "  changes (edit + react): {} sent, {} acked ok, {} error acks; {} of {} broadcasts due received",
                    self.changes_sent,
                    self.changes_ok,
                    self.changes_err,
                    self.change_deliveries,
                    self.change_expected
                );
            }
        }
        if let Some(st) = &self.storm {
            let back = match st.back_ms {
                Some([p50, p99, max]) => {
                    format!("back and caught up p50 {p50:.0} ms, p99 {p99:.0} ms, max {max:.0} ms")
                }
                None => "nobody back".into(),
            };
            let _ = writeln!(
                o,
                "  restart storm: restart took {:.2}s; after it {back}; {} not back; {} reconnects, {} attempts refused (not listening), {} failed otherwise; {} chats replayed, {} overlapping ones dropped; peak RSS {} KiB{}",
                st.restart_secs,
                st.not_back,
                st.rejoins.reconnects,
                st.rejoins.refused_attempts,
                st.rejoins.failed_attempts,
                st.rejoins.replayed,
                st.rejoins.overlap,
                st.peak_rss_kib.unwrap_or(0),
                st.error
                    .as_deref()
                    .map(|e| format!("; {e}"))
                    .unwrap_or_default()
            );
            if let Some(e) = &st.rejoins.first_attempt_error {
                let _ = writeln!(o, "  first reconnect attempt failed otherwise: {e}");
            }
        }
        let _ = write!(
            o,
            "  errors: {} (clients cut off: {})",
            self.errors(),
            self.dropped_clients
        );
        for (what, e) in [
            ("first failure", &self.first_failure),
            ("first error ack", &self.first_ack_error),
        ] {
            if let Some(e) = e {
                let _ = write!(o, "\n  {what}: {e}");
            }
        }
        o
    }

    pub(crate) fn json(&self) -> Value {
        let [p50, p99, max] = match self.latency_us {
            Some(l) => l.map(Some),
            None => [None; 3],
        };
        let mut line = json!({
            "tool": "roomcast-load",
            "label": self.label,
            "clients": self.clients,
            "rooms": self.rooms,
            "senders": self.senders,
            "rate": self.rate,
            "window": self.window,
            "message_size": self.message_size,
            "joined": self.joined,
            "connect_errors": self.connect_errors,
            "connect_secs": self.connect_secs,
            "connect_per_sec": self.connect_rate(),
            "rss_before_kib": self.rss_before_kib,
            "rss_joined_kib": self.rss_joined_kib,
            "rss_end_kib": self.rss_end_kib,
            "rss_per_socket_kib": self.rss_per_socket_kib(),
            "measured_secs": self.measured_secs,
            "deliveries_per_sec": self.deliveries_per_sec,
            "acked_per_sec": self.acked_per_sec,
            "server_cpu_pct": self.server_cpu_pct,
            "load_cpu_pct": self.load_cpu_pct,
            "latency_us": {"p50": p50, "p99": p99, "max": max, "samples": self.latency_samples},
            "sent": self.sent,
            "acked_ok": self.acked_ok,
            "acked_err": self.acked_err,
            "unacked": self.unacked,
            "skipped": self.skipped,
            "deliveries": self.deliveries,
            "expected_deliveries": self.expected_deliveries,
            "lost": self.lost_deliveries,
            "lost_messages": self.lost_messages,
            "duplicates": self.duplicates,
            "foreign": self.foreign,
            "dropped_clients": self.dropped_clients,
            "errors": self.errors(),
            "first_failure": self.first_failure,
            "first_ack_error": self.first_ack_error,
        });
        // A second object: one `json!` of every field passes the macro's
        // recursion limit.
        let changes = json!({
            "changes_sent": self.changes_sent,
            "changes_ok": self.changes_ok,
            "changes_err": self.changes_err,
            "change_deliveries": self.change_deliveries,
            "change_expected": self.change_expected,
        });
        if let (Value::Object(all), Value::Object(more)) = (&mut line, changes) {
            all.extend(more);
        }
        if let (Value::Object(all), Some(st)) = (&mut line, &self.storm) {
            let [p50, p99, max] = match st.back_ms {
                Some(b) => b.map(Some),
                None => [None; 3],
            };
            all.insert(
                "storm".into(),
                json!({
                    "restart_secs": st.restart_secs,
                    "back_ms": {"p50": p50, "p99": p99, "max": max},
                    "not_back": st.not_back,
                    "reconnects": st.rejoins.reconnects,
                    "refused_attempts": st.rejoins.refused_attempts,
                    "failed_attempts": st.rejoins.failed_attempts,
                    "first_attempt_error": st.rejoins.first_attempt_error,
                    "overlap": st.rejoins.overlap,
                    "replayed": st.rejoins.replayed,
                    "peak_rss_kib": st.peak_rss_kib,
                    "error": st.error,
                }),
            );
        }
        line
    }
}
