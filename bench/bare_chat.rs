//! The chat subset on bare socketioxide 0.18 (no auth, no storage): the
//! baseline `bench/compare.sh` measures roomcast against, and, with
//! [`Faults`], the misbehaving server the load tool's tests use.
//!
//! Shared by `bench/bare_socketioxide.rs` (the example binary) and
//! `tests/api/load_tool.rs` (via `#[path]`), so the tests exercise the very
//! server the benchmark runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;

/// Counters the server keeps.
#[derive(Default)]
pub(crate) struct Stats {
    /// The last message id given out.
    pub(crate) last_id: AtomicU64,
    /// Chats acked `ok` but deliberately not broadcast.
    pub(crate) dropped: AtomicU64,
}

/// Misbehaviour on purpose, to check what a load tool reports.
#[derive(Clone, Copy, Default)]
pub(crate) struct Faults {
    /// `n > 0`: every n-th chat (ids n, 2n, ...) is acked `ok` and broadcast to no one.
    pub(crate) drop_every: u64,
    /// Each chat is broadcast (and acked) this much later.
    pub(crate) delay: std::time::Duration,
}

/// An axum router serving `/socket.io/`, misbehaving as `faults` says.
pub(crate) fn router(faults: Faults) -> (axum::Router, Arc<Stats>) {
    let (layer, io) = SocketIo::new_layer();
    let stats = Arc::new(Stats::default());
    let st = stats.clone();
    // Handlers are registered in a connect middleware, which socketioxide
    // runs before it answers CONNECT. Registered in the connect handler
    // (a task spawned after the answer), a `join` sent right after
    // connecting can find no handler and is dropped: about 1 connect in
    // 4,000 here then never got its join ack.
    let register = move |s: SocketRef| {
        s.on("join", join);
        let st = st.clone();
        s.on(
            "chat",
            async move |s: SocketRef, TryData(v): TryData<Value>, ack: AckSender| {
                chat(&s, v.ok(), ack, &st, faults).await;
            },
        );
        async { Ok::<(), std::convert::Infallible>(()) }
    };
    io.ns("/", (async |_: SocketRef| {}).with(register));
    (axum::Router::new().layer(layer), stats)
}

fn refuse(ack: AckSender, error: &str) {
    let _ = ack.send(&json!({"ok": false, "error": error, "message": error}));
}

async fn join(s: SocketRef, TryData(v): TryData<Value>, ack: AckSender) {
    let Some(room) = v
        .ok()
        .and_then(|v| v.get("room")?.as_str().map(str::to_owned))
    else {
        return refuse(ack, "invalid_payload");
    };
    s.join(room.clone());
    let _ = ack.send(&json!({
        "ok": true,
        "room": {"name": room, "visibility": "public", "owner": "", "online": 0},
        "history": [], "more": false, "online": [],
    }));
}

async fn chat(s: &SocketRef, v: Option<Value>, ack: AckSender, stats: &Stats, faults: Faults) {
    let field = |k: &str| v.as_ref()?.get(k)?.as_str().map(str::to_owned);
    let (Some(room), Some(message)) = (field("room"), field("message")) else {
        return refuse(ack, "invalid_payload");
    };
    if !s.rooms().iter().any(|r| *r == room) {
        return refuse(ack, "not_in_room");
    }
    let id = stats.last_id.fetch_add(1, Ordering::Relaxed) + 1;
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let msg = json!({
        "id": id, "room": room,
        "user": {"id": s.id.to_string(), "name": s.id.to_string()},
        "message": message, "ts": ts,
    });
    if !faults.delay.is_zero() {
        tokio::time::sleep(faults.delay).await;
    }
    if faults.drop_every > 0 && id.is_multiple_of(faults.drop_every) {
        stats.dropped.fetch_add(1, Ordering::Relaxed);
    } else {
        // The bare way: one room broadcast; a socket whose buffer is full
        // silently misses it (the load tool counts that as lost).
        let _ = s.within(room).emit("chat", &msg).await;
    }
    let _ = ack.send(&json!({"ok": true, "id": id, "ts": ts}));
}
