//! The Socket.IO side (PROTOCOL §4): authentication at connect, the events,
//! and delivery of stored messages to rooms.

mod delivery;
mod handlers;
mod inbox;
mod membership;
pub mod payload;
mod presence;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, TryData};
use socketioxide::handler::ConnectHandler;

use crate::auth::{Auth, Identity};
use crate::domain::RoomRecord;
use crate::error::AppError;
use crate::http::Origins;
use crate::limits::{ConnectionSlot, Limits};
use crate::metrics::Metrics;
use crate::shutdown::Gate;
use crate::store::{Store, Writer};

pub use delivery::deliver;
pub use membership::evict;

/// What the socket handlers share.
pub struct Ctx {
    pub io: SocketIo,
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
    /// A room as payloads show it, with its live `online` count.
    pub fn room_json(&self, room: &RoomRecord) -> Value {
        let online = presence::online(&self.io, &room.name).len();
        serde_json::json!({
            "name": room.name,
            "visibility": room.visibility,
            "owner": room.owner,
            "online": online,
        })
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
    /// This socket's place in the per-user connection limit.
    slot: ConnectionSlot,
}

/// The events a client may send.
const EVENTS: [&str; 6] = ["join", "leave", "chat", "typing", "history", "rooms"];

/// Installs the default namespace on `io`.
///
/// Authentication and handler registration happen in a connect middleware:
/// socketioxide runs it before it answers CONNECT, whereas a connect handler
/// runs in a task of its own after the answer, so an event sent right after
/// connecting could reach a socket with no handlers yet.
pub fn attach(ctx: Arc<Ctx>) {
    let io = ctx.io.clone();
    let middleware = move |s: SocketRef, TryData(auth): TryData<Value>| {
        let ctx = ctx.clone();
        async move { authenticate(ctx, s, auth.ok()).await }
    };
    io.ns("/", (async |_: SocketRef| {}).with(middleware));
}

async fn authenticate(ctx: Arc<Ctx>, s: SocketRef, auth: Option<Value>) -> Result<(), AppError> {
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
        tracing::info!(user = %identity.user.id, error = %e, "connection refused");
    })?;
    tracing::info!(sid = %s.id, user = %identity.user.id, transport = ?s.transport_type(), "connected");
    ctx.metrics.connected_sockets.inc();
    s.extensions.insert(Arc::new(Conn {
        ctx,
        identity,
        inbox: inbox::Inbox::default(),
        overflowed: AtomicBool::new(false),
        slot,
    }));
    for event in EVENTS {
        s.on(event, inbox::enqueue);
    }
    // Unknown events go through the same queue, so one that asks for an ack
    // gets an error instead of a callback that never fires.
    s.on_fallback(inbox::enqueue);
    s.on_disconnect(handlers::disconnected);
    Ok(())
}
