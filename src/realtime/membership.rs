//! Taking a user's sockets out of a room they may no longer enter.

use std::sync::Arc;

use serde_json::json;

use super::{Conn, Ctx};
use crate::domain::{RoomRecord, now_ms};
use crate::error::AppError;
use crate::rooms;

/// Removes from `room` every socket of `user_id` that no longer has access
/// (a token whose `rooms` claim names the room still has it). The sockets
/// still in the room get `leave` `{"room","user","ts","reason":"removed"}`,
/// and so does each removed socket, so its client knows why the room went
/// quiet. Returns how many sockets were removed.
pub async fn evict(ctx: &Ctx, room: &RoomRecord, user_id: &str) -> Result<usize, AppError> {
    let mut removed = Vec::new();
    for s in ctx.io.within(room.name.clone()).sockets() {
        let Some(conn) = s.extensions.get::<Arc<Conn>>() else {
            continue;
        };
        if conn.identity.user.id != user_id
            || rooms::may_access(ctx.store.as_ref(), &conn.identity, room).await?
        {
            continue;
        }
        s.leave(room.name.clone());
        removed.push((s, conn));
    }
    let Some((_, conn)) = removed.first() else {
        return Ok(0);
    };
    let notice = json!({
        "room": room.name,
        "user": conn.identity.user,
        "ts": now_ms(),
        "reason": "removed",
    });
    let _ = ctx.io.to(room.name.clone()).emit("leave", &notice).await;
    for (s, _) in &removed {
        let _ = s.emit("leave", &notice);
    }
    Ok(removed.len())
}
