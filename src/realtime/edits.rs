//! The events that change stored messages (docs/protocol.md §4): `edit`,
//! `delete`, `react`, `unreact`. Each is checked here (in the room, the
//! rate, who may delete), then applied by the writer, which acks it once
//! committed; delivery then broadcasts it to the room.

use serde_json::Value;

use super::Conn;
use super::ack::answer;
use super::reply::{Reply, joined, not_in_room};
use crate::cluster::Sock;
use crate::domain::{Message, RoomName};
use crate::error::AppError;
use crate::protocol::{Changed, Delete, Edit, React, Request};
use crate::rooms;
use crate::store::{Change, StoreError};

/// `edit {room, id, message}`: only the author, not of a deleted message.
pub(super) async fn edit(conn: &Conn, s: &Sock, payload: Option<Value>, reply: Reply<'_>) {
    let checked = Edit::parse(payload).and_then(|e| {
        allowed(conn, s, &e.room)?;
        Ok(Change::Edit {
            room: e.room,
            id: e.id,
            user: conn.identity.user.clone(),
            message: e.message.into_string(),
        })
    });
    submit(conn, checked, reply).await;
}

/// `delete {room, id}`: the author, or whoever may moderate the room.
pub(super) async fn delete(conn: &Conn, s: &Sock, payload: Option<Value>, reply: Reply<'_>) {
    let checked = match Delete::parse(payload).and_then(|d| {
        allowed(conn, s, &d.room)?;
        Ok(d)
    }) {
        Ok(d) => {
            match rooms::may_moderate(conn.ctx.store.as_ref(), &d.room, &conn.identity).await {
                Ok(any) => Ok(Change::Delete {
                    room: d.room,
                    id: d.id,
                    by: conn.identity.user.clone(),
                    any,
                }),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    submit(conn, checked, reply).await;
}

/// `react {room, id, emoji}` (`added`) and `unreact` (not).
pub(super) async fn react(
    conn: &Conn,
    s: &Sock,
    payload: Option<Value>,
    reply: Reply<'_>,
    added: bool,
) {
    let parsed = React::parse(payload).and_then(|r| {
        allowed(conn, s, &r.room)?;
        Ok(r)
    });
    let checked = parsed.map(|r| {
        let user = conn.identity.user.clone();
        Change::reaction(r.room, r.id, user, r.emoji.into_string(), added)
    });
    submit(conn, checked, reply).await;
}

/// What every change needs: the socket in the room, and the user's message
/// rate (each change is a write like a `chat`).
fn allowed(conn: &Conn, s: &Sock, room: &RoomName) -> Result<(), AppError> {
    if !joined(s, room) {
        return Err(not_in_room(room));
    }
    conn.ctx.limits.message(&conn.identity.user.id)
}

/// Hands a checked change to the writer, which acks `{ok, id, seq}` after
/// the commit; a refusal is answered at once. The writer refuses a banned
/// or muted user's edits and reactions (`forbidden`, `muted`) as it does
/// their chats.
async fn submit(conn: &Conn, checked: Result<Change, AppError>, reply: Reply<'_>) {
    let change = match checked {
        Ok(c) => c,
        Err(e) => return reply.send(Err::<Changed, _>(e)),
    };
    let Reply {
        s, ack, received, ..
    } = reply;
    let (metrics, socket) = (conn.ctx.metrics.clone(), s.clone());
    let done = Box::new(move |stored: Result<&Message, StoreError>| {
        let result = stored
            .map(|m| Changed {
                id: m.id,
                seq: m.seq,
            })
            .map_err(AppError::from);
        answer(&metrics, &socket, ack, received, result);
    });
    conn.ctx.writer.apply(change, done).await;
}
