//! Prometheus metrics, one registry per server.
//!
//! The `prometheus` crate rather than the `metrics` facade: its registry is a
//! value passed down like everything else, so two servers in one process
//! (every test binary) never mix their numbers, and nothing is global.

mod process;

use std::sync::Arc;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Latency buckets from 100 µs to 5 s (acks wait for a commit, commits for an fsync).
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

pub struct Metrics {
    registry: Registry,
    pub connected_sockets: IntGauge,
    rooms_with_sockets: IntGauge,
    pub messages_stored: IntCounter,
    pub deliveries: IntCounter,
    event_errors: IntCounterVec,
    pub ack_seconds: Histogram,
    pub commit_seconds: Histogram,
    pub slow_client_evictions: IntCounter,
    limiter_keys: IntGaugeVec,
    /// Connections stalled before a complete request, closed to make room.
    pub connections_shed: IntCounter,
    /// New connections closed at once: over budget, nothing to shed.
    pub connections_refused: IntCounter,
    http_requests: IntCounterVec,
    http_seconds: HistogramVec,
    logins: IntCounterVec,
    webhook_events: IntGaugeVec,
    webhook_attempts: IntCounterVec,
    file_uploads: IntCounterVec,
    file_upload_bytes: IntCounter,
    pub files_served: IntCounter,
    files_stored: IntGauge,
    files_stored_bytes: IntGauge,
    process: process::Process,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Arc<Self>> {
        let registry = Registry::new_custom(Some("roomcast".into()), None)?;
        let histogram = |name: &str, help: &str| -> anyhow::Result<Histogram> {
            let opts = HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec());
            let h = Histogram::with_opts(opts)?;
            registry.register(Box::new(h.clone()))?;
            Ok(h)
        };
        let ack_seconds = histogram(
            "ack_seconds",
            "Time from receiving a socket event to sending its ack",
        )?;
        let commit_seconds = histogram(
            "db_commit_seconds",
            "Time to commit one group-commit transaction of messages",
        )?;
        let gauge = |name: &str, help: &str| -> anyhow::Result<IntGauge> {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let connected_sockets = gauge("connected_sockets", "Socket.IO sockets connected now")?;
        let rooms_with_sockets = gauge("rooms_with_sockets", "Rooms with at least one socket")?;
        let counter = |name: &str, help: &str| -> anyhow::Result<IntCounter> {
            let c = IntCounter::new(name, help)?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let messages_stored = counter("messages_stored_total", "Messages committed")?;
        let deliveries = counter(
            "deliveries_total",
            "Chat messages handed to a socket for sending",
        )?;
        let slow_client_evictions = counter(
            "slow_client_evictions_total",
            "Sockets disconnected because their outgoing buffer was full",
        )?;
        let connections_shed = counter(
            "connections_shed_total",
            "Connections stalled before a complete request, closed to make room for new ones",
        )?;
        let connections_refused = counter(
            "connections_refused_total",
            "New connections closed at once: connection budget reached and none stalled",
        )?;
        let event_errors = IntCounterVec::new(
            Opts::new("event_errors_total", "Socket events answered with an error"),
            &["code"],
        )?;
        registry.register(Box::new(event_errors.clone()))?;
        let limiter_keys = IntGaugeVec::new(
            Opts::new(
                "limiter_keys",
                "Keys a rate limiter remembers (each is capped)",
            ),
            &["limiter"],
        )?;
        registry.register(Box::new(limiter_keys.clone()))?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route template, method and status",
            ),
            &["route", "method", "status"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        let http_seconds = HistogramVec::new(
            HistogramOpts::new(
                "http_request_seconds",
                "Time from an HTTP request's head to its response's head, by route template",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )?;
        registry.register(Box::new(http_seconds.clone()))?;
        let logins = IntCounterVec::new(
            Opts::new(
                "logins_total",
                "POST /api/login answers: ok, or the error code (unauthorized, rate_limited, ...)",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(logins.clone()))?;
        let webhook_events = IntGaugeVec::new(
            Opts::new(
                "webhook_events",
                "Webhook events owed, by endpoint and state (pending, failed); \
                 read from the database, so the same on every node",
            ),
            &["endpoint", "state"],
        )?;
        registry.register(Box::new(webhook_events.clone()))?;
        let webhook_attempts = IntCounterVec::new(
            Opts::new(
                "webhook_attempts_total",
                "Webhook deliveries this node attempted, by outcome (ok: a 2xx; error)",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(webhook_attempts.clone()))?;
        let file_uploads = IntCounterVec::new(
            Opts::new(
                "file_uploads_total",
                "File uploads this node answered, by result (stored, refused)",
            ),
            &["result"],
        )?;
        registry.register(Box::new(file_uploads.clone()))?;
        // Both series from the start, so a rate over them is 0 rather than absent.
        for result in ["stored", "refused"] {
            file_uploads.with_label_values(&[result]);
        }
        let file_upload_bytes = counter(
            "file_upload_bytes_total",
            "Bytes of the uploads this node stored, as received",
        )?;
        let files_served = counter(
            "files_served_total",
            "Files and thumbnails this node began to send",
        )?;
        let files_stored = gauge(
            "files_stored",
            "Files stored (attached or not); read from the database at each scrape",
        )?;
        let files_stored_bytes = gauge(
            "files_stored_bytes",
            "Bytes of the files stored, thumbnails included; read from the database at each scrape",
        )?;
        let process = process::Process::register(&registry)?;
        Ok(Arc::new(Self {
            registry,
            connected_sockets,
            rooms_with_sockets,
            messages_stored,
            deliveries,
            event_errors,
            ack_seconds,
            commit_seconds,
            slow_client_evictions,
            limiter_keys,
            connections_shed,
            connections_refused,
            http_requests,
            http_seconds,
            logins,
            webhook_events,
            webhook_attempts,
            file_uploads,
            file_upload_bytes,
            files_served,
            files_stored,
            files_stored_bytes,
            process,
        }))
    }

    /// Counts an event answered with error `code`.
    pub fn event_error(&self, code: crate::error::ErrorCode) {
        self.event_errors.with_label_values(&[code.as_str()]).inc();
    }

    /// Counts one HTTP answer; `route` is a route template (`/api/rooms/{room}`),
    /// never a raw path, so the label has as many values as there are routes.
    pub fn http_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.http_requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.http_seconds
            .with_label_values(&[route])
            .observe(seconds);
    }

    /// Counts a login attempt: `None` when it succeeded, else its error code.
    pub fn login(&self, error: Option<crate::error::ErrorCode>) {
        let outcome = error.map_or("ok", |code| code.as_str());
        self.logins.with_label_values(&[outcome]).inc();
    }

    /// Sets what each webhook endpoint is owed now; endpoints gone drop out.
    pub fn set_webhook_backlog(&self, backlog: &[crate::store::Backlog]) {
        self.webhook_events.reset();
        for b in backlog {
            self.webhook_events
                .with_label_values(&[b.endpoint.as_str(), "pending"])
                .set(b.pending);
            self.webhook_events
                .with_label_values(&[b.endpoint.as_str(), "failed"])
                .set(b.failed);
        }
    }

    /// Counts one webhook attempt.
    pub fn webhook_attempt(&self, ok: bool) {
        self.webhook_attempts
            .with_label_values(&[if ok { "ok" } else { "error" }])
            .inc();
    }

    /// Counts an upload stored, of `bytes` as received.
    pub fn file_uploaded(&self, bytes: u64) {
        self.file_uploads.with_label_values(&["stored"]).inc();
        self.file_upload_bytes.inc_by(bytes);
    }

    /// Counts an upload refused (whatever the reason).
    pub fn file_refused(&self) {
        self.file_uploads.with_label_values(&["refused"]).inc();
    }

    /// Sets the files stored and their bytes, as the database counts them.
    pub fn set_files_stored(&self, files: i64, bytes: i64) {
        self.files_stored.set(files);
        self.files_stored_bytes.set(bytes);
    }

    /// Records how many keys each limiter remembers now.
    pub fn set_limiter_keys(&self, sizes: &[(&str, usize)]) {
        for (name, n) in sizes {
            self.limiter_keys
                .with_label_values(&[*name])
                .set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
    }

    /// The Prometheus text exposition, with the room count measured now.
    pub fn render(&self, rooms_with_sockets: usize) -> String {
        self.rooms_with_sockets
            .set(i64::try_from(rooms_with_sockets).unwrap_or(i64::MAX));
        self.process.update();
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "could not encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
