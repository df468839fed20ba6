//! What the Socket.IO Admin UI is told as things happen (docs/protocol.md
//! §4b): the tally each `server_stats` carries and, in
//! development mode, the socket, room and event streams. `realtime` and
//! `admin_ui` feed it. The streams go to the `/admin` namespace (so, through
//! the adapter, to the dashboards of every node) from one task, in the order
//! they were fed; a full queue drops them rather than slow a socket down.
//! The tally is this node's: each node sends its own `server_stats`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ConnectInfo;
use serde_json::Value;
use socketioxide::TransportType;
use socketioxide::socket::DisconnectReason;
use tokio::sync::mpsc;

use crate::cluster::{Io, Sock, is_chat_room};
use crate::domain::{User, now_ms};
use crate::protocol::admin_ui::{
    ADMIN_NAMESPACE, AggregatedEvent, Handshake, SerializedSocket, SocketData, iso8601,
};

/// Stream items waiting for the task that emits them; beyond this they are
/// dropped (dashboards are told less; no socket waits for them).
const STREAM_QUEUE: usize = 4096;

/// Headers never shown: they are credentials.
const HIDDEN_HEADERS: [&str; 2] = ["cookie", "authorization"];

/// The disconnect reasons, as the Node server words them (the dashboard
/// shows them), one counter each.
const REASONS: [&str; 7] = [
    "transport close",
    "parse error",
    "transport error",
    "ping timeout",
    "client namespace disconnect",
    "server namespace disconnect",
    "server shutting down",
];

/// Counts since the last `server_stats`: atomics, so counting an event
/// takes no lock on the path of every event.
#[derive(Default)]
struct Tally {
    connections: AtomicU64,
    disconnections: [AtomicU64; REASONS.len()],
    packets_in: AtomicU64,
    bytes_in: AtomicU64,
    packets_out: AtomicU64,
}

/// The feed; cheap to clone.
#[derive(Clone)]
pub struct Monitor(Arc<Inner>);

struct Inner {
    tally: Tally,
    /// Development mode only.
    stream: Option<mpsc::Sender<Item>>,
}

/// A stream event: its name and its arguments, in the dashboard's order.
enum Item {
    // Boxed: a described socket is several times the size of the others.
    Connected(Box<SerializedSocket>, String),
    Disconnected(String, String, &'static str, String),
    Joined(String, String, String, String),
    Left(String, String, String, String),
    Received(String, String, Vec<Value>, String),
}

impl Monitor {
    /// With `verbose` (development mode) the streams are sent to `io`'s
    /// `/admin` namespace by a task spawned here.
    pub fn new(io: Io, verbose: bool) -> Self {
        let stream = verbose.then(|| {
            let (tx, rx) = mpsc::channel(STREAM_QUEUE);
            tokio::spawn(send_stream(io, rx));
            tx
        });
        Self(Arc::new(Inner {
            tally: Tally::default(),
            stream,
        }))
    }

    /// Whether the socket, room and event streams are on.
    pub fn verbose(&self) -> bool {
        self.0.stream.is_some()
    }

    /// Everything counted since the last call, stamped with this second
    /// (the dashboard charts by 10 s), for `server_stats`.
    pub fn take_tally(&self) -> Vec<AggregatedEvent> {
        let now = now_ms();
        let second = now - now.rem_euclid(1000);
        let t = &self.0.tally;
        let event = |kind, sub_type, n: &AtomicU64| {
            let count = n.swap(0, Ordering::Relaxed);
            (count > 0).then_some(AggregatedEvent {
                timestamp: second,
                kind,
                sub_type,
                count,
            })
        };
        let mut all: Vec<AggregatedEvent> = [
            event("rawConnection", None, &t.connections),
            event("packetsIn", None, &t.packets_in),
            event("bytesIn", None, &t.bytes_in),
            event("packetsOut", None, &t.packets_out),
        ]
        .into_iter()
        .flatten()
        .collect();
        for (reason, n) in REASONS.iter().zip(&t.disconnections) {
            all.extend(event("rawDisconnection", Some(*reason), n));
        }
        all
    }

    /// Packets sent to clients (acks and deliveries), counted by their senders.
    pub fn packets_out(&self, n: u64) {
        self.0.tally.packets_out.fetch_add(n, Ordering::Relaxed);
    }

    fn push(&self, item: impl FnOnce() -> Item) {
        if let Some(tx) = &self.0.stream {
            let _ = tx.try_send(item());
        }
    }

    /// A socket connected (after its CONNECT was accepted).
    pub fn connected(&self, s: &Sock, user: Option<&User>, at: i64) {
        self.0.tally.connections.fetch_add(1, Ordering::Relaxed);
        self.push(|| Item::Connected(Box::new(describe(s, user, at)), iso8601(now_ms())));
    }

    /// A socket went away.
    pub fn disconnected(&self, s: &Sock, reason: DisconnectReason) {
        let i = reason_index(reason);
        self.0.tally.disconnections[i].fetch_add(1, Ordering::Relaxed);
        let reason = REASONS[i];
        self.push(|| {
            let at = iso8601(now_ms());
            Item::Disconnected(s.ns().to_owned(), s.id.to_string(), reason, at)
        });
    }

    /// Socket `id` of namespace `nsp` joined a chat room.
    pub fn joined(&self, nsp: &str, room: &str, id: &str) {
        self.push(|| Item::Joined(nsp.into(), room.into(), id.into(), iso8601(now_ms())));
    }

    /// Socket `id` of namespace `nsp` left a chat room.
    pub fn left(&self, nsp: &str, room: &str, id: &str) {
        self.push(|| Item::Left(nsp.into(), room.into(), id.into(), iso8601(now_ms())));
    }

    /// An event of `bytes` arrived from a client: counted always, streamed
    /// (with its name and first argument, as roomcast reads it) in
    /// development mode.
    pub fn received(&self, s: &Sock, event: &str, payload: Option<&Value>, bytes: usize) {
        let t = &self.0.tally;
        t.packets_in.fetch_add(1, Ordering::Relaxed);
        t.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
        self.push(|| {
            let mut args = vec![Value::String(event.to_owned())];
            args.extend(payload.cloned());
            let at = iso8601(now_ms());
            Item::Received(s.ns().to_owned(), s.id.to_string(), args, at)
        });
    }
}

async fn send_stream(io: Io, mut rx: mpsc::Receiver<Item>) {
    while let Some(item) = rx.recv().await {
        let Some(admin) = io.of(ADMIN_NAMESPACE) else {
            continue;
        };
        let sent = match &item {
            Item::Connected(a, b) => admin.emit("socket_connected", &(a, b)).await,
            Item::Disconnected(a, b, c, d) => {
                admin.emit("socket_disconnected", &(a, b, c, d)).await
            }
            Item::Joined(a, b, c, d) => admin.emit("room_joined", &(a, b, c, d)).await,
            Item::Left(a, b, c, d) => admin.emit("room_left", &(a, b, c, d)).await,
            Item::Received(a, b, c, d) => admin.emit("event_received", &(a, b, c, d)).await,
        };
        if let Err(e) = sent {
            tracing::debug!(error = %e, "admin stream event not sent everywhere");
        }
    }
}

/// Where `reason` is in [`REASONS`].
fn reason_index(reason: DisconnectReason) -> usize {
    use DisconnectReason::*;
    match reason {
        TransportClose => 0,
        MultipleHttpPollingError | PacketParsingError => 1,
        TransportError => 2,
        HeartbeatTimeout => 3,
        ClientNSDisconnect => 4,
        ServerNSDisconnect => 5,
        ClosingServer => 6,
    }
}

/// A local socket as the dashboard shows it. `at` is when it connected.
pub fn describe(s: &Sock, user: Option<&User>, at: i64) -> SerializedSocket {
    let parts = s.req_parts();
    let headers = parts
        .headers
        .iter()
        .filter(|(name, _)| !HIDDEN_HEADERS.contains(&name.as_str()))
        .filter_map(|(name, v)| Some((name.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let query = parts
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect();
    let address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let origin = parts.headers.get("origin").and_then(|v| v.to_str().ok());
    let host = parts.headers.get("host").and_then(|v| v.to_str().ok());
    let xdomain = origin.is_some_and(|o| {
        let authority = o.split_once("://").map(|(_, a)| a);
        authority != host
    });
    let id = s.id.to_string();
    let mut rooms: Vec<String> = s
        .rooms()
        .into_iter()
        .filter(|r| is_chat_room(r))
        .map(|r| r.to_string())
        .collect();
    rooms.sort();
    rooms.push(id.clone());
    SerializedSocket {
        client_id: id.clone(),
        id,
        transport: match s.transport_type() {
            TransportType::Polling => "polling",
            TransportType::Websocket => "websocket",
        },
        nsp: s.ns().to_owned(),
        data: SocketData {
            user: user.cloned(),
        },
        handshake: Handshake {
            address,
            headers,
            query,
            issued: at,
            secure: false,
            time: iso8601(at),
            url: parts.uri.to_string(),
            xdomain,
        },
        rooms,
    }
}
