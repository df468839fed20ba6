//! The events of docs/protocol.md §4, one function each.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::Value;
use socketioxide::extract::AckSender;
use socketioxide::socket::DisconnectReason;

use super::Conn;
use super::ack::answer;
use super::edits;
use super::manage;
use super::moderation;
use super::reply::{Reply, joined, not_in_room};
use crate::cluster::{self, Adapter, Sock, presence};
use crate::domain::{Message, now_ms};
use crate::error::AppError;
use crate::protocol::{
    Broadcast, Chat, ClientEvent, Dm, DmOpened, Done, History, InRoom, Join, JoinNotice, Joined,
    LeaveNotice, MessagePage, Read, ReadAck, ReadNotice, Request, RoomList, Rooms, Search,
    SearchResults, Signal, SignalNotice, Stored, TypingNotice,
};
use crate::rooms::{self, Change};
use crate::store::{NewMessage, Page, StoreError};
use crate::telemetry::Quoted;

/// How many messages `join` returns without `since`, and at most with it.
const JOIN_HISTORY: u32 = 50;
const REPLAY_LIMIT: u32 = 500;

/// One received event, as the socket's queue (`inbox`) hands it over.
pub(crate) struct Inbound {
    pub(crate) event: String,
    /// `None` when the event had no argument or it was not JSON.
    pub(crate) payload: Option<Value>,
    pub(crate) ack: AckSender<Adapter>,
    /// When the packet was read, for the ack latency metric.
    pub(crate) received: Instant,
}

/// Handles one event and answers it.
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
    let reply = Reply {
        conn,
        s,
        event: &event,
        ack,
        received,
    };
    match ClientEvent::parse(&event) {
        // `chat` acks only once its message is durable, from the writer.
        Ok(ClientEvent::Chat) => chat(conn, s, payload, reply).await,
        Ok(ClientEvent::Join) => reply.send(join(conn, s, payload).await),
        Ok(ClientEvent::Leave) => reply.send(leave(conn, s, payload).await),
        Ok(ClientEvent::Typing) => reply.send(typing(conn, s, payload).await),
        Ok(ClientEvent::History) => reply.send(history(conn, payload).await),
        Ok(ClientEvent::Rooms) => reply.send(list_rooms(conn, payload).await),
        Ok(ClientEvent::Moderator) => reply.send(moderation::moderator(conn, payload).await),
        Ok(ClientEvent::Mute) => reply.send(moderation::mute(conn, payload).await),
        Ok(ClientEvent::Unmute) => {
            reply.send(moderation::target(conn, payload, Change::Unmute).await)
        }
        Ok(ClientEvent::Ban) => reply.send(moderation::target(conn, payload, Change::Ban).await),
        Ok(ClientEvent::Unban) => {
            reply.send(moderation::target(conn, payload, Change::Unban).await)
        }
        Ok(ClientEvent::SlowMode) => reply.send(moderation::slow_mode(conn, payload).await),
        // Changes ack once committed, from the writer, as `chat` does.
        Ok(ClientEvent::Edit) => edits::edit(conn, s, payload, reply).await,
        Ok(ClientEvent::Delete) => edits::delete(conn, s, payload, reply).await,
        Ok(ClientEvent::React) => edits::react(conn, s, payload, reply, true).await,
        Ok(ClientEvent::Unreact) => edits::react(conn, s, payload, reply, false).await,
        Ok(ClientEvent::Signal) => reply.send(signal(conn, s, payload).await),
        Ok(ClientEvent::Read) => reply.send(read(conn, s, payload).await),
        Ok(ClientEvent::LeaveRoom) => reply.send(leave_room(conn, payload).await),
        Ok(ClientEvent::Dm) => reply.send(dm(conn, payload).await),
        Ok(ClientEvent::Topic) => reply.send(manage::topic(conn, payload).await),
        Ok(ClientEvent::Members) => reply.send(manage::members(conn, payload).await),
        Ok(ClientEvent::DeleteRoom) => reply.send(manage::delete_room(conn, payload).await),
        Ok(ClientEvent::Search) => reply.send(search(conn, payload).await),
        Err(e) => reply.send(Err::<Done, _>(e)),
    }
}

async fn join(conn: &Conn, s: &Sock, payload: Option<Value>) -> Result<Joined, AppError> {
    let Join {
        room: name,
        since,
        create,
    } = Join::parse(payload)?;
    let ctx = &conn.ctx;
    let auto_create = ctx.auto_create && create;
    let entry =
        rooms::open_for_join(ctx.store.as_ref(), auto_create, &conn.identity, &name).await?;
    let enlisted = ctx.enlister.enlist(&conn.identity, &name, &entry).await?;
    let already = joined(s, &name);
    // Join before reading history: a message committed in between is then
    // both in the history and delivered live (clients drop the repeated id),
    // never in neither. In the room, the socket needs no `activity` of it.
    s.join(name.to_string());
    s.leave(presence::list_room(name.as_str()));
    if enlisted {
        cluster::listed(&ctx.io, name.as_str(), &conn.identity.user.id).await;
    }
    let page = match since {
        Some(seq) => Page::Since {
            seq,
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
    // One census of the room (a request to every node with Redis) for the
    // room's count, the list, and whether the room is big enough for its
    // notices to be gathered (`cluster::Crowds`).
    let mut census = presence::census(&ctx.io, name.as_str(), ctx.online_names).await;
    let me = &conn.identity.user;
    if !already {
        ctx.monitor.joined(s.ns(), name.as_str(), &s.id.to_string());
        if !ctx.crowds.joined(name.as_str(), me, census.count) {
            let notice = JoinNotice {
                room: name.as_str(),
                user: me,
                ts: now_ms(),
            };
            let _ = ctx
                .io
                .to(name.to_string())
                .emit(JoinNotice::EVENT, &notice)
                .await;
        }
    }
    // The joiner is named whatever the limit.
    if census.users.len() >= ctx.online_names && !census.users.iter().any(|u| u.id == me.id) {
        census.users.pop();
        census.users.push(me.clone());
    }
    let online = census.users;
    Ok(Joined {
        room: cluster::view(&entry.room, census.count),
        history: history.messages,
        more: history.more,
        online,
        role: entry.standing.role,
        moderators: entry.moderators,
        slow_mode: entry.standing.slow_mode,
        muted_until: entry.standing.muted_until,
    })
}

async fn leave(conn: &Conn, s: &Sock, payload: Option<Value>) -> Result<Done, AppError> {
    let InRoom { room: name } = InRoom::parse(payload)?;
    if !joined(s, &name) {
        return Err(not_in_room(&name));
    }
    s.leave(name.to_string());
    conn.ctx
        .monitor
        .left(s.ns(), name.as_str(), &s.id.to_string());
    // Out of a room of its list, the socket gets its `activity` again.
    if conn
        .ctx
        .store
        .is_member(&name, &conn.identity.user.id)
        .await?
    {
        s.join(presence::list_room(name.as_str()));
    }
    if conn.ctx.crowds.left(name.as_str(), &conn.identity.user) {
        return Ok(Done {});
    }
    let notice = LeaveNotice {
        room: name.as_str(),
        user: &conn.identity.user,
        ts: now_ms(),
        reason: None,
    };
    let _ = conn
        .ctx
        .io
        .to(name.to_string())
        .emit(LeaveNotice::EVENT, &notice)
        .await;
    Ok(Done {})
}

async fn chat(conn: &Conn, s: &Sock, payload: Option<Value>, reply: Reply<'_>) {
    let parsed = Chat::parse(payload).and_then(|chat| {
        if !joined(s, &chat.room) {
            return Err(not_in_room(&chat.room));
        }
        conn.ctx.limits.message(&conn.identity.user.id)?;
        Ok(chat)
    });
    let chat = match parsed {
        Ok(chat) => chat,
        Err(e) => return reply.send(Err::<Stored, _>(e)),
    };
    let reply_to = match chat.reply_to {
        None => None,
        Some(id) => match rooms::reply_ref(conn.ctx.store.as_ref(), &chat.room, id).await {
            Ok(parent) => Some(parent),
            Err(e) => return reply.send(Err::<Stored, _>(e)),
        },
    };
    let message = NewMessage {
        room: chat.room,
        user: conn.identity.user.clone(),
        message: chat.message,
        reply_to,
        files: chat.files,
    };
    let Reply {
        s, ack, received, ..
    } = reply;
    let (metrics, socket) = (conn.ctx.metrics.clone(), s.clone());
    // The writer refuses it if a ban, a mute or slow mode holds the user
    // back (`forbidden`, `muted`, `rate_limited`), checked in its batch.
    let done = Box::new(move |stored: Result<&Message, StoreError>| {
        let result = stored
            .map(|m| Stored { id: m.id, ts: m.ts })
            .map_err(AppError::from);
        answer(&metrics, &socket, ack, received, result);
    });
    conn.ctx.writer.submit(message, done).await;
}

async fn typing(conn: &Conn, s: &Sock, payload: Option<Value>) -> Result<Done, AppError> {
    let InRoom { room: name } = InRoom::parse(payload)?;
    if !joined(s, &name) {
        return Err(not_in_room(&name));
    }
    let notice = TypingNotice {
        room: name.as_str(),
        user: &conn.identity.user,
    };
    // Typing is a hint: under load it may be dropped rather than queued.
    let _ = s
        .to(name.to_string())
        .volatile()
        .emit(TypingNotice::EVENT, &notice)
        .await;
    Ok(Done {})
}

/// A custom room event: to the room's other sockets on every node, not stored.
async fn signal(conn: &Conn, s: &Sock, payload: Option<Value>) -> Result<Done, AppError> {
    let Signal { room, kind, data } = Signal::parse(payload)?;
    if !joined(s, &room) {
        return Err(not_in_room(&room));
    }
    conn.ctx.limits.message(&conn.identity.user.id)?;
    let notice = SignalNotice {
        room: room.as_str(),
        kind: kind.as_str(),
        data: &data,
        user: &conn.identity.user,
    };
    // Volatile, as `typing`: a slow socket may miss it, never is
    // disconnected for it.
    let _ = s
        .to(room.to_string())
        .volatile()
        .emit(SignalNotice::EVENT, &notice)
        .await;
    Ok(Done {})
}

/// Moves the user's read position forward; their other sockets are told.
async fn read(conn: &Conn, s: &Sock, payload: Option<Value>) -> Result<ReadAck, AppError> {
    let Read { room, id } = Read::parse(payload)?;
    let (id, moved) = rooms::mark_read(conn.ctx.store.as_ref(), &conn.identity, &room, id).await?;
    if moved {
        let notice = ReadNotice {
            room: room.as_str(),
            id,
        };
        let _ = s
            .to(presence::id_room(&conn.identity.user.id))
            .emit(ReadNotice::EVENT, &notice)
            .await;
    }
    Ok(ReadAck { id })
}

/// The direct conversation with the people named: made on first use.
async fn dm(conn: &Conn, payload: Option<Value>) -> Result<DmOpened, AppError> {
    let Dm { users } = Dm::parse(payload)?;
    let room = cluster::open_dm(
        &conn.ctx.io,
        conn.ctx.store.as_ref(),
        &conn.identity,
        &users,
    )
    .await?;
    Ok(DmOpened { room })
}

/// Takes a room out of the user's list for good: every socket of theirs
/// leaves it.
async fn leave_room(conn: &Conn, payload: Option<Value>) -> Result<Done, AppError> {
    let InRoom { room } = InRoom::parse(payload)?;
    let ctx = &conn.ctx;
    rooms::leave_for_good(ctx.store.as_ref(), &conn.identity, &room).await?;
    cluster::left_for_good(&ctx.io, room.as_str(), &conn.identity.user.id).await;
    Ok(Done {})
}

async fn history(conn: &Conn, payload: Option<Value>) -> Result<MessagePage, AppError> {
    let History {
        room,
        before,
        limit,
    } = History::parse(payload)?;
    let h = rooms::history(
        conn.ctx.store.as_ref(),
        &conn.identity,
        &room,
        before,
        limit,
    )
    .await?;
    Ok(MessagePage {
        messages: h.messages,
        more: h.more,
    })
}

/// Full-text search over the rooms the socket's user may read.
async fn search(conn: &Conn, payload: Option<Value>) -> Result<SearchResults, AppError> {
    let request = Search::parse(payload)?;
    rooms::search(conn.ctx.store.as_ref(), &conn.identity, &request).await
}

async fn list_rooms(conn: &Conn, payload: Option<Value>) -> Result<RoomList, AppError> {
    Rooms::parse(payload)?;
    Ok(RoomList {
        rooms: cluster::rooms_of(&conn.ctx.io, conn.ctx.store.as_ref(), &conn.identity).await?,
    })
}

/// Tells each room the socket was in that it left (docs/protocol.md §4).
pub(crate) async fn disconnected(s: Sock, reason: DisconnectReason) {
    let Some(conn) = s.extensions.get::<Arc<Conn>>() else {
        return;
    };
    conn.ctx.monitor.disconnected(&s, reason);
    conn.gone.store(true, Ordering::SeqCst);
    conn.slot.release();
    conn.ctx.metrics.connected_sockets.dec();
    tracing::info!(sid = %s.id, user = %Quoted(&conn.identity.user.id), "disconnected");
    // A node shutting down alone closes every socket: a `leave` would only
    // go to sockets being closed too. With 19,000 sockets that was ~170,000
    // notices in the way of the restart (issue 17). Other nodes' sockets
    // must still hear of it.
    if conn.ctx.gate.is_closing() && !conn.ctx.bus.clustered() {
        return;
    }
    conn.announce_left(&s, s.rooms()).await;
}
