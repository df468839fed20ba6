//! The Socket.IO side (PROTOCOL §4): authentication at connect, the events,
//! and delivery of stored messages to rooms.

mod bus;
mod delivery;
mod fanout;
mod handlers;
mod inbox;
mod membership;
pub mod payload;
mod presence;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::Value;

use socketioxide::extract::TryData;
use socketioxide::handler::ConnectHandler;

use crate::auth::{Auth, Identity};
use crate::domain::{RoomRecord, User};
use crate::error::AppError;
use crate::http::Origins;
use crate::limits::{ConnectionSlot, Limits};
use crate::metrics::Metrics;
use crate::shutdown::Gate;
use crate::store::{Store, Writer};
use crate::telemetry::Quoted;

pub use bus::{Adapter, Bus, Io, Sock};
pub use delivery::deliver;
pub use membership::evict;
pub use presence::is_chat_room;

/// What the socket handlers share.
pub struct Ctx {
    pub io: Io,
    /// The adapter's pub/sub, for health checks.
    pub bus: Bus,
    pub store: Arc<dyn Store>,
    pub writer: Writer,
    pub auth: Auth,
    pub auto_create: bool,
    pub limits: Arc<Limits>,
    /// Closed by graceful shutdown (see `app::App::run`).
    pub gate: Gate,
    pub metrics: Arc<Metrics>,
    /// Browser origins allowed besides the server's own.
    pub origins: Origins,
}

impl Ctx {
    /// A room as payloads show it, with its live `online` count (all nodes).
    pub async fn room_json(&self, room: &RoomRecord) -> Value {
        let online = presence::online(&self.io, &room.name).await.len();
        room_value(room, online)
    }

    /// Takes every socket of `user_id`, on every node, out of `room`, and
    /// tells them and the room (`leave` with `"reason": "removed"`). For the
    /// owner removing a member; access checks are the caller's (see
    /// `membership::evict`), except that sockets whose token's `rooms` claim
    /// names the room stay. Sockets are found by user id alone: one user's
    /// sockets may each claim another display name.
    pub async fn remove_from_room(&self, room: &str, user_id: &str) {
        // The name the room knows them by, for the notice (any of them).
        let online = presence::online(&self.io, room).await;
        let user = online
            .into_iter()
            .find(|u| u.id == user_id)
            .unwrap_or_else(|| User {
                id: user_id.to_owned(),
                name: user_id.to_owned(),
            });
        // Sockets whose token names the room keep it.
        let keeps = presence::claim_room(user_id, room);
        let theirs = presence::id_room(user_id);
        let leaving = self.io.within(theirs.clone()).except(keeps.clone());
        if let Err(e) = leaving.leave(room.to_owned()).await {
            tracing::warn!(error = %e, room, "removal may not have reached every node");
        }
        let notice = serde_json::json!({
            "room": room, "user": user, "ts": crate::domain::now_ms(), "reason": "removed",
        });
        let _ = self
            .io
            .to([room.to_owned(), theirs])
            .except(keeps)
            .emit("leave", &notice)
            .await;
    }

    /// [`Ctx::room_json`] of each room, asked of the nodes concurrently.
    pub async fn rooms_json(&self, rooms: &[RoomRecord]) -> Vec<Value> {
        futures_util::future::join_all(rooms.iter().map(|r| self.room_json(r))).await
    }
}

/// A room as payloads show it, given its `online` count.
fn room_value(room: &RoomRecord, online: usize) -> Value {
    serde_json::json!({
        "name": room.name,
        "visibility": room.visibility,
        "owner": room.owner,
        "online": online,
    })
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
    let token = auth
        .as_ref()
        .and_then(|a| a.get("token"))
        .and_then(Value::as_str);
    let cookie = s
        .req_parts()
        .headers
        .get(axum::http::header::COOKIE)
        .and_then(|v| v.to_str().ok());
    if ctx.gate.is_closing() {
        return Err(AppError::Unavailable("server is shutting down".into()));
    }
    if !ctx.origins.allows(&s.req_parts().headers) {
        tracing::info!(sid = %s.id, "connection refused: origin not allowed");
        return Err(AppError::Forbidden("origin not allowed".into()));
    }
    let identity = ctx.auth.identify(token, cookie).await?;
    let slot = ctx.limits.connect(&identity.user.id).inspect_err(|e| {
        tracing::info!(user = %Quoted(&identity.user.id), error = %e, "connection refused");
    })?;
    tracing::info!(sid = %s.id, user = %Quoted(&identity.user.id), transport = ?s.transport_type(), "connected");
    ctx.metrics.connected_sockets.inc();
    // Bookkeeping rooms: who is online, on any node, and every socket of
    // this user id (see `presence`).
    s.join(presence::user_room(&identity.user));
    s.join(presence::id_room(&identity.user.id));
    for room in &identity.rooms {
        s.join(presence::claim_room(&identity.user.id, room));
    }
    s.extensions.insert(Arc::new(Conn {
        ctx,
        identity,
        inbox: inbox::Inbox::default(),
        overflowed: AtomicBool::new(false),
        gone: AtomicBool::new(false),
        slot,
    }));
    // Every event, known or not, goes through one queue (`handlers::dispatch`
    // tells them apart), so one that asks for an ack always gets an answer.
    // The fallback alone does that without a per-socket map of handlers
    // (~350 bytes per socket with one entry per event).
    s.on_fallback(inbox::enqueue);
    s.on_disconnect(handlers::disconnected);
    Ok(())
}
