//! Delivery of stored messages, and what happens to a socket that cannot keep up.
//!
//! socketioxide drops a packet when a socket's outgoing buffer is full, and a
//! room broadcast does not say which socket dropped it. A `chat` must never
//! vanish silently (a client would not see the gap, since ids are global), so
//! chats go to each socket in turn: a socket whose buffer is full is taken
//! out of every room and disconnected. Its client reconnects and replays
//! with `join {since}`, which loses nothing.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::bus::Io;
use super::bus::Sock;
use serde_json::value::RawValue;
use socketioxide::{SendError, SocketError};

use super::{Conn, handlers};
use crate::store::Committed;

/// How long to keep trying to tell a stalled socket it is disconnected before
/// leaving it to the Engine.IO ping timeout.
const DISCONNECT_TRIES: u32 = 600;

/// Sends committed messages to the sockets in their rooms, in commit (and so
/// id) order: this node's sockets one by one, other nodes' through the
/// adapter (Redis), which they apply in publish order. A batch's order guard
/// is dropped only after both, so the next writer of its rooms, on any node,
/// publishes after it.
pub async fn deliver(io: Io, node_room: String, clustered: bool, mut committed: Committed) {
    while let Some(batch) = committed.recv().await {
        for run in batch.messages.chunk_by(|a, b| a.room == b.room) {
            let room = run[0].room.clone();
            let mut sockets = io.local().within(room.clone()).sockets();
            for m in run {
                // Serialized once, copied into each socket's packet.
                let Ok(json) = serde_json::value::to_raw_value(m) else {
                    continue;
                };
                // A socket that overflowed gets nothing more: no later message
                // may reach it after one it missed.
                sockets.retain(|s| match s.emit("chat", &json) {
                    Ok(()) => true,
                    Err(e) => {
                        send_failed(s, &e);
                        false
                    }
                });
                if clustered {
                    to_other_nodes(&io, &room, &node_room, &json).await;
                }
            }
        }
        drop(batch.order);
    }
}

/// Broadcasts a chat to the room's sockets on the other nodes. While Redis
/// is down this fails (the bus logs it once); those clients find the
/// message with `join {since}` or `history`.
async fn to_other_nodes(io: &Io, room: &str, node_room: &str, json: &RawValue) {
    let result = io
        .to(room.to_owned())
        .except(node_room.to_owned())
        .emit("chat", json)
        .await;
    if let Err(e) = result {
        tracing::debug!(error = %e, room, "chat not sent to other nodes");
    }
}

/// Handles a failed send to `s`: a full buffer disconnects it (see the
/// module doc); a closed socket needs nothing.
pub(crate) fn send_failed(s: &Sock, e: &SendError) {
    if matches!(e, SendError::Socket(SocketError::InternalChannelFull)) {
        overflowed(s);
    }
}

/// Takes a socket that could not be sent to out of its rooms and disconnects it.
fn overflowed(s: &Sock) {
    let Some(conn) = s.extensions.get::<Arc<Conn>>() else {
        return;
    };
    if conn.overflowed.swap(true, Ordering::SeqCst) {
        return;
    }
    tracing::warn!(sid = %s.id, user = %conn.identity.user.id, "outgoing buffer full: disconnecting a slow client");
    let rooms = s.rooms();
    s.leave_all();
    let s = s.clone();
    tokio::spawn(async move {
        handlers::announce_disconnect(&s, &conn, rooms).await;
        // The DISCONNECT packet needs room in the same full buffer: retry as
        // it drains. A client that reads nothing at all is closed by the
        // Engine.IO ping timeout instead.
        for _ in 0..DISCONNECT_TRIES {
            match s.clone().disconnect() {
                Err(SocketError::InternalChannelFull) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                _ => return,
            }
        }
    });
}
