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

use crate::cluster::{Io, Sock, presence};
use socketioxide::{SendError, SocketError};

use super::Conn;
use crate::metrics::Metrics;
use crate::protocol::{ActivityNotice, Broadcast, ChangePayload, change_event};
use crate::store::{Applied, Committed, Happened};
use crate::telemetry::Quoted;

/// How long to keep trying to tell a stalled socket it is disconnected before
/// leaving it to the Engine.IO ping timeout.
const DISCONNECT_TRIES: u32 = 600;

/// Sends the writer's batches straight to the sockets of this node, in id
/// order: the single-node path of `realtime::deliver`.
pub(super) async fn alone(io: Io, mut committed: Committed, metrics: Arc<Metrics>) {
    while let Some(batch) = committed.recv().await {
        batch
            .deliver(async |changes| {
                metrics.messages_stored.inc_by(created(changes));
                to_local_sockets(&io, changes, &metrics);
            })
            .await;
    }
}

/// How many of `changes` are new messages.
pub(crate) fn created(changes: &[Applied]) -> u64 {
    changes
        .iter()
        .filter(|c| c.happened == Happened::Created)
        .count() as u64
}

/// Emits each change (`chat`, `edit`, `delete`, `reaction`) to every socket
/// of this node in its room, in order.
pub(crate) fn to_local_sockets(io: &Io, changes: &[Applied], metrics: &Metrics) {
    for run in changes.chunk_by(|a, b| a.message.room == b.message.room) {
        activity(io, run);
        let mut sockets = io.local().within(run[0].message.room.clone()).sockets();
        for m in run {
            // Encoded once; each socket's packet shares the bytes. All the
            // sockets are of the one namespace, so any of them can encode.
            let Some(first) = sockets.first() else {
                break;
            };
            // Only a `reaction` adds a field to the message: the others
            // encode it as it is, without the wrapper's flattening.
            let packet = match m.happened {
                Happened::Reacted { .. } => {
                    first.encode_event(change_event(m), &ChangePayload::of(m))
                }
                _ => first.encode_event(change_event(m), &m.message),
            };
            let Ok(packet) = packet else {
                continue;
            };
            // A socket that overflowed gets nothing more: no later change
            // may reach it after one it missed.
            sockets.retain(|s| match s.emit_encoded(packet.clone()) {
                Ok(()) => {
                    metrics.deliveries.inc();
                    true
                }
                Err(e) => {
                    send_failed(s, &e);
                    false
                }
            });
        }
    }
}

/// Tells the sockets of this node that have `run`'s room in their user's
/// list but are not in it (`presence::list_room`) of each new message. A
/// hint for a sidebar, not the message: a socket whose buffer is full
/// misses it (and is not disconnected for it).
fn activity(io: &Io, run: &[Applied]) {
    let room = run[0].message.room.as_str();
    let sockets = io.local().within(presence::list_room(room)).sockets();
    let Some(first) = sockets.first() else {
        return;
    };
    for m in run.iter().filter(|m| m.happened == Happened::Created) {
        let encode = |mention| {
            let notice = ActivityNotice {
                room,
                id: m.message.id,
                user: &m.message.user,
                ts: m.message.ts,
                mention,
            };
            first.encode_event(ActivityNotice::EVENT, &notice).ok()
        };
        let Some(plain) = encode(false) else {
            continue;
        };
        let mention = match m.message.mentions.is_empty() {
            true => None,
            false => encode(true),
        };
        for s in &sockets {
            let packet = match &mention {
                Some(p) if mentions(s, &m.message.mentions) => p,
                _ => &plain,
            };
            let _ = s.emit_encoded(packet.clone());
        }
    }
}

/// Whether `s`'s user is one of `users`.
fn mentions(s: &Sock, users: &[String]) -> bool {
    s.extensions
        .get::<Arc<Conn>>()
        .is_some_and(|c| users.contains(&c.identity.user.id))
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
    conn.ctx.metrics.slow_client_evictions.inc();
    tracing::warn!(sid = %s.id, user = %Quoted(&conn.identity.user.id), "outgoing buffer full: disconnecting a slow client");
    let rooms = s.rooms();
    s.leave_all();
    let s = s.clone();
    tokio::spawn(async move {
        conn.announce_left(&s, rooms).await;
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
