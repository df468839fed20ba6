//! The events of PROTOCOL §4, one function each.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::{Value, json};
use socketioxide::extract::AckSender;

use super::bus::{Adapter, Sock};

use super::inbox::Inbound;
use super::{Conn, delivery, payload, presence};
use crate::domain::{Message, RoomName, now_ms};
use crate::error::{AppError, ack_of};
use crate::rooms;
use crate::store::{NewMessage, Page, StoreError};
use crate::telemetry::Quoted;

/// How many messages `join` returns without `since`, and at most with it.
const JOIN_HISTORY: u32 = 50;
const REPLAY_LIMIT: u32 = 500;

pub(crate) async fn dispatch(conn: &Conn, s: &Sock, ev: Inbound) {
    if conn.overflowed.load(Ordering::Relaxed) {
        return;
    }
    let Inbound {
        event,
        payload,
        ack,
        received,
    } = ev;
    let result = match event.as_str() {
        // `chat` acks only once its message is durable, from the writer.
        "chat" => return chat(conn, s, payload, ack, received).await,
        "join" => join(conn, s, payload).await,
        "leave" => leave(conn, s, payload).await,
        "typing" => typing(conn, s, payload).await,
        "history" => history(conn, payload).await,
        "rooms" => list_rooms(conn, payload).await,
        other => Err(AppError::payload(format!("unknown event {other:?}"))),
    };
    if let Err(e) = &result {
        tracing::debug!(sid = %s.id, event = %Quoted(&event), code = e.code(), "event refused");
        conn.ctx.metrics.event_error(e.code());
    }
    // Without an ack id the client asked for no answer; `send` does nothing.
    if let Err(e) = ack.send(&ack_of(result)) {
        delivery::send_failed(s, &e);
    }
    conn.ctx
        .metrics
        .ack_seconds
        .observe(received.elapsed().as_secs_f64());
}

fn joined(s: &Sock, room: &RoomName) -> bool {
    s.rooms().iter().any(|r| r == room.as_str())
}

async fn join(conn: &Conn, s: &Sock, payload: Option<Value>) -> Result<Value, AppError> {
    let obj = payload::object(payload)?;
    let name = payload::room(&obj)?;
    let since = payload::opt_id(&obj, "since")?;
    let ctx = &conn.ctx;
    let room =
        rooms::open_for_join(ctx.store.as_ref(), ctx.auto_create, &conn.identity, &name).await?;
    let already = joined(s, &name);
    // Join before reading history: a message committed in between is then
    // both in the history and delivered live (clients drop the repeated id),
    // never in neither.
    s.join(name.to_string());
    let page = match since {
        Some(id) => Page::After {
            id,
            limit: REPLAY_LIMIT,
        },
        None => Page::Latest {
            limit: JOIN_HISTORY,
        },
    };
    let history = match ctx.store.history(&name, page).await {
        Ok(h) => h,
        Err(e) => {
            if !already {
                s.leave(name.to_string());
            }
            return Err(e.into());
        }
    };
    // The socket may have gone away while this join waited for the database
    // (a polling client that stopped answering pings). The disconnect
    // handler sets `gone` before it reads the socket's rooms to announce its
    // leaving, and socketioxide empties them after: a join that lands after
    // that would leave a member nobody announces leaving, so undo it.
    if conn.gone.load(Ordering::SeqCst) {
        if !already {
            s.leave(name.to_string());
        }
        return Err(AppError::Unavailable("socket disconnected".into()));
    }
    if !already {
        let notice = json!({"room": name.as_str(), "user": conn.identity.user, "ts": now_ms()});
        let _ = ctx.io.to(name.to_string()).emit("join", &notice).await;
    }
    // One census of the room (a request to every node with Redis) for both
    // the room's count and the list.
    let online = presence::online(&ctx.io, name.as_str()).await;
    Ok(json!({
        "room": super::room_value(&room, online.len()),
        "history": history.messages,
        "more": history.more,
        "online": online,
    }))
}

async fn leave(conn: &Conn, s: &Sock, payload: Option<Value>) -> Result<Value, AppError> {
    let obj = payload::object(payload)?;
    let name = payload::room(&obj)?;
    if !joined(s, &name) {
        return Err(not_in_room(&name));
    }
    s.leave(name.to_string());
    let notice = json!({"room": name.as_str(), "user": conn.identity.user, "ts": now_ms()});
    let _ = conn
        .ctx
        .io
        .to(name.to_string())
        .emit("leave", &notice)
        .await;
    Ok(json!({}))
}

async fn chat(
    conn: &Conn,
    s: &Sock,
    payload: Option<Value>,
    ack: AckSender<Adapter>,
    received: Instant,
) {
    let metrics = conn.ctx.metrics.clone();
    let parsed = payload::object(payload).and_then(|obj| {
        let name = payload::room(&obj)?;
        let text = payload::message(&obj)?;
        if !joined(s, &name) {
            return Err(not_in_room(&name));
        }
        conn.ctx.limits.message(&conn.identity.user.id)?;
        Ok((name, text))
    });
    let (name, text) = match parsed {
        Ok(p) => p,
        Err(e) => {
            metrics.event_error(e.code());
            if let Err(e) = ack.send(&e.to_ack()) {
                delivery::send_failed(s, &e);
            }
            metrics
                .ack_seconds
                .observe(received.elapsed().as_secs_f64());
            return;
        }
    };
    let message = NewMessage {
        room: name,
        user: conn.identity.user.clone(),
        message: text.into_string(),
    };
    let socket = s.clone();
    let done = Box::new(move |stored: Result<&Message, StoreError>| {
        let reply = match stored {
            Ok(m) => json!({"ok": true, "id": m.id, "ts": m.ts}),
            Err(e) => {
                let e = AppError::from(e);
                metrics.event_error(e.code());
                e.to_ack()
            }
        };
        // A lost ack is a lost guarantee: the client is disconnected, and
        // finds the stored message when it rejoins with `since`.
        if let Err(e) = ack.send(&reply) {
            delivery::send_failed(&socket, &e);
        }
        metrics
            .ack_seconds
            .observe(received.elapsed().as_secs_f64());
    });
    conn.ctx.writer.submit(message, done).await;
}

async fn typing(conn: &Conn, s: &Sock, payload: Option<Value>) -> Result<Value, AppError> {
    let obj = payload::object(payload)?;
    let name = payload::room(&obj)?;
    if !joined(s, &name) {
        return Err(not_in_room(&name));
    }
    let notice = json!({"room": name.as_str(), "user": conn.identity.user});
    // Typing is a hint: under load it may be dropped rather than queued.
    let _ = s
        .to(name.to_string())
        .volatile()
        .emit("typing", &notice)
        .await;
    Ok(json!({}))
}

async fn history(conn: &Conn, payload: Option<Value>) -> Result<Value, AppError> {
    let obj = payload::object(payload)?;
    let name = payload::room(&obj)?;
    let before = payload::opt_id(&obj, "before")?;
    let limit = payload::limit(&obj)?;
    let h = rooms::history(
        conn.ctx.store.as_ref(),
        &conn.identity,
        &name,
        before,
        limit,
    )
    .await?;
    Ok(json!({"messages": h.messages, "more": h.more}))
}

async fn list_rooms(conn: &Conn, payload: Option<Value>) -> Result<Value, AppError> {
    // `rooms` takes `{}`; sending no argument at all is accepted too.
    if payload.is_some() {
        payload::object(payload)?;
    }
    let list = rooms::visible(conn.ctx.store.as_ref(), &conn.identity).await?;
    let rooms = conn.ctx.rooms_json(&list).await;
    Ok(json!({"rooms": rooms}))
}

/// Tells each room the socket was in that it left (PROTOCOL §4).
pub(crate) async fn disconnected(s: Sock) {
    let Some(conn) = s.extensions.get::<Arc<Conn>>() else {
        return;
    };
    conn.gone.store(true, Ordering::SeqCst);
    conn.slot.release();
    conn.ctx.metrics.connected_sockets.dec();
    tracing::info!(sid = %s.id, user = %Quoted(&conn.identity.user.id), "disconnected");
    announce_disconnect(&s, &conn, s.rooms()).await;
}

/// Tells each of `rooms` that the socket left because it went away.
pub(crate) async fn announce_disconnect(
    s: &Sock,
    conn: &Conn,
    rooms: Vec<socketioxide_core::adapter::Room>,
) {
    let ts = now_ms();
    for room in rooms.into_iter().filter(|r| presence::is_chat_room(r)) {
        let notice =
            json!({"room": room, "user": conn.identity.user, "ts": ts, "reason": "disconnect"});
        let _ = s.to(room).emit("leave", &notice).await;
    }
}

fn not_in_room(name: &RoomName) -> AppError {
    AppError::NotInRoom(format!("not in room {name}; join it first"))
}
