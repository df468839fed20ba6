//! The Socket.IO side (docs/protocol.md §4): authentication at connect, the
//! events, and delivery of stored messages to rooms.

mod ack;
mod delivery;
mod edits;
mod fanout;
mod handlers;
mod inbox;
mod manage;
mod moderation;
mod reply;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::Value;

use socketioxide::extract::TryData;
use socketioxide::handler::ConnectHandler;

use crate::auth::Identity;
use crate::cluster::{Bus, Io, Sock, presence};
use crate::domain::{User, now_ms};
use crate::error::AppError;
use crate::limits::ConnectionSlot;
use crate::metrics::Metrics;
use crate::protocol::{Broadcast, ConnectAuth, LeaveNotice, LeaveReason};
use crate::state::Ctx;
use crate::store::Committed;
use crate::telemetry::Quoted;

/// Sends committed messages to the sockets of this node, in id order.
/// Alone, batches come straight from the writer (`delivery`); in a cluster,
/// from Redis (`fanout`), in the one order every node sees.
pub async fn deliver(io: Io, bus: Bus, committed: Committed, metrics: Arc<Metrics>) {
    if bus.clustered() {
        fanout::run(io, bus, committed, metrics).await;
    } else {
        delivery::alone(io, committed, metrics).await;
    }
}

/// One connected socket's identity and ordered event queue, kept in its extensions.
pub(crate) struct Conn {
    ctx: Arc<Ctx>,
    identity: Identity,
    inbox: inbox::Inbox,
    /// Set once the socket's outgoing buffer overflowed: it is being
    /// disconnected and must receive or handle nothing more.
    overflowed: AtomicBool,
    /// Set first thing by the disconnect handler, so a `join` finishing
    /// after it can undo itself (socketioxide's own `connected` flag is also
    /// false for a moment after CONNECT, so it cannot tell).
    gone: AtomicBool,
    /// This socket's place in the per-user connection limit.
    slot: ConnectionSlot,
    /// Unix milliseconds, for the Admin UI.
    connected_at: i64,
}

impl Conn {
    /// Tells each of `rooms` that the socket left because it went away.
    async fn announce_left(&self, s: &Sock, rooms: Vec<socketioxide_core::adapter::Room>) {
        let ts = now_ms();
        for room in rooms.into_iter().filter(|r| presence::is_chat_room(r)) {
            if self.ctx.crowds.left(&room, &self.identity.user) {
                continue;
            }
            let notice = LeaveNotice {
                room: &room,
                user: &self.identity.user,
                ts,
                reason: Some(LeaveReason::Disconnect),
            };
            let _ = s.to(room.clone()).emit(LeaveNotice::EVENT, &notice).await;
        }
    }
}

/// Who a chat socket of this node is and when it connected (for the Admin
/// UI); `None` for a socket of another namespace.
pub fn who(s: &Sock) -> Option<(User, i64)> {
    let conn = s.extensions.get::<Arc<Conn>>()?;
    Some((conn.identity.user.clone(), conn.connected_at))
}

/// Installs the default namespace on `io`.
///
/// Authentication and handler registration happen in a connect middleware:
/// socketioxide runs it before it answers CONNECT, whereas a connect handler
/// runs in a task of its own after the answer, so an event sent right after
/// connecting could reach a socket with no handlers yet.
/// With Redis, this subscribes the namespace's channels.
pub async fn attach(ctx: Arc<Ctx>) -> anyhow::Result<()> {
    let io = ctx.io.clone();
    let middleware = move |s: Sock, TryData(auth): TryData<Value>| {
        let ctx = ctx.clone();
        async move { authenticate(ctx, s, auth.ok()).await }
    };
    io.ns("/", (async |_: Sock| {}).with(middleware))
        .await
        .map_err(|e| anyhow::anyhow!("Socket.IO adapter: {e}"))
}

async fn authenticate(ctx: Arc<Ctx>, s: Sock, auth: Option<Value>) -> Result<(), AppError> {
    let ConnectAuth {
        token,
        as_user,
        as_name,
    } = ConnectAuth::parse(auth);
    let cookie = s
        .req_parts()
        .headers
        .get(axum::http::header::COOKIE)
        .and_then(|v| v.to_str().ok());
    if ctx.gate.is_closing() {
        return Err(AppError::Unavailable("server is shutting down".into()));
    }
    if !ctx.origins.allows(&s.req_parts().headers) {
        let e = AppError::Forbidden("origin not allowed".into());
        ctx.refusals.refused(&s.id, None, &e);
        return Err(e);
    }
    let identity = ctx
        .auth
        .identify(token.as_deref(), cookie)
        .await
        .inspect_err(|e| ctx.refusals.refused(&s.id, None, e))?;
    // A server key may act as any user, as over HTTP (`X-Roomcast-As`).
    let identity = match as_user {
        None => identity,
        Some(user) => ctx
            .auth
            .act_as(identity, &user, as_name.as_deref())
            .await
            .inspect_err(|e| ctx.refusals.refused(&s.id, None, e))?,
    };
    // The rooms of the user's list, for their `activity`.
    let listed = match ctx.store.list_names(&identity.user.id).await {
        Ok(names) => names
            .iter()
            .filter(|n| identity.may_use(n))
            .map(|n| presence::list_room(n))
            .collect::<Vec<String>>(),
        Err(e) => {
            let e = AppError::from(e);
            ctx.refusals.refused(&s.id, Some(&identity.user.id), &e);
            return Err(e);
        }
    };
    let slot = ctx
        .limits
        .connect(&identity.user.id)
        .inspect_err(|e| ctx.refusals.refused(&s.id, Some(&identity.user.id), e))?;
    tracing::info!(sid = %s.id, user = %Quoted(&identity.user.id), transport = ?s.transport_type(), "connected");
    ctx.metrics.connected_sockets.inc();
    // Bookkeeping rooms: who is online, on any node, and every socket of
    // this user id (see `presence`).
    s.join(presence::user_room(&identity.user));
    s.join(presence::id_room(&identity.user.id));
    for room in &identity.rooms {
        s.join(presence::claim_room(&identity.user.id, room));
    }
    if let Some(key) = &identity.key {
        s.join(presence::key_room(&key.name));
    }
    s.join(listed);
    let connected_at = now_ms();
    ctx.monitor
        .connected(&s, Some(&identity.user), connected_at);
    s.extensions.insert(Arc::new(Conn {
        ctx,
        identity,
        inbox: inbox::Inbox::default(),
        overflowed: AtomicBool::new(false),
        gone: AtomicBool::new(false),
        slot,
        connected_at,
    }));
    // Every event, known or not, goes through one queue (`handlers::dispatch`
    // tells them apart), so one that asks for an ack always gets an answer.
    // The fallback alone does that without a per-socket map of handlers
    // (~350 bytes per socket with one entry per event).
    s.on_fallback(inbox::enqueue);
    s.on_disconnect(handlers::disconnected);
    Ok(())
}
