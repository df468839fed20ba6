//! What the Socket.IO Admin UI is told as things happen (docs/protocol.md
//! §4b): the per-second tally each `server_stats` carries and, in
//! development mode, the socket, room and event streams. `realtime` and
//! `admin_ui` feed it. The streams go to the `/admin` namespace (so, through
//! the adapter, to the dashboards of every node) from one task, in the order
//! they were fed; a full queue drops them rather than slow a socket down.
//! The tally is this node's: each node sends its own `server_stats`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

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

/// One second's count of one kind: (second in ms, type, subtype).
type Key = (i64, &'static str, Option<&'static str>);

/// The feed; cheap to clone.
#[derive(Clone)]
pub struct Monitor(Arc<Inner>);

struct Inner {
    tally: Mutex<BTreeMap<Key, u64>>,
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
            tally: Mutex::new(BTreeMap::new()),
            stream,
        }))
    }

    /// Whether the socket, room and event streams are on.
    pub fn verbose(&self) -> bool {
        self.0.stream.is_some()
    }

    fn count(&self, kind: &'static str, sub: Option<&'static str>, n: u64) {
        if n == 0 {
            return;
        }
        let now = now_ms();
        let key = (now - now.rem_euclid(1000), kind, sub);
        let mut tally = self.0.tally.lock().unwrap_or_else(|p| p.into_inner());
        *tally.entry(key).or_insert(0) += n;
    }

    /// Everything counted since the last call, for `server_stats`.
    pub fn take_tally(&self) -> Vec<AggregatedEvent> {
        let tally = std::mem::take(&mut *self.0.tally.lock().unwrap_or_else(|p| p.into_inner()));
        tally
            .into_iter()
            .map(|((timestamp, kind, sub_type), count)| AggregatedEvent {
                timestamp,
                kind,
                sub_type,
                count,
            })
            .collect()
    }

    /// Packets sent to clients (acks and deliveries), counted by their senders.
    pub fn packets_out(&self, n: u64) {
        self.count("packetsOut", None, n);
    }

    fn push(&self, item: impl FnOnce() -> Item) {
        if let Some(tx) = &self.0.stream {
            let _ = tx.try_send(item());
        }
    }

    /// A socket connected (after its CONNECT was accepted).
    pub fn connected(&self, s: &Sock, user: Option<&User>, at: i64) {
        self.count("rawConnection", None, 1);
        self.push(|| Item::Connected(Box::new(describe(s, user, at)), iso8601(now_ms())));
    }

    /// A socket went away.
    pub fn disconnected(&self, s: &Sock, reason: DisconnectReason) {
        let reason = reason_text(reason);
        self.count("rawDisconnection", Some(reason), 1);
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
        self.count("packetsIn", None, 1);
        self.count("bytesIn", None, bytes as u64);
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

/// The reason as the Node server words it (the dashboard shows it).
fn reason_text(reason: DisconnectReason) -> &'static str {
    use DisconnectReason::*;
    match reason {
        TransportClose => "transport close",
        MultipleHttpPollingError | PacketParsingError => "parse error",
        TransportError => "transport error",
        HeartbeatTimeout => "ping timeout",
        ClientNSDisconnect => "client namespace disconnect",
        ServerNSDisconnect => "server namespace disconnect",
        ClosingServer => "server shutting down",
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
