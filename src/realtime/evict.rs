//! A member removed from a room: their sockets leave it at once (PROTOCOL §6).

use std::sync::Arc;

use serde_json::json;

use super::{Conn, Ctx};
use crate::domain::now_ms;

/// Makes every socket of `user_id` in `room` leave it, except one whose
/// token's `rooms` claim still admits it. The room hears `leave` with
/// `"reason": "removed"` before the socket goes, so the removed page learns
/// why too.
pub async fn evict(ctx: &Ctx, room: &str, user_id: &str) {
    let ts = now_ms();
    for s in ctx.io.within(room.to_owned()).sockets() {
        let Some(conn) = s.extensions.get::<Arc<Conn>>() else {
            continue;
        };
        if conn.identity.user.id != user_id || conn.identity.rooms.contains(room) {
            continue;
        }
        let notice =
            json!({"room": room, "user": conn.identity.user, "ts": ts, "reason": "removed"});
        let _ = ctx.io.to(room.to_owned()).emit("leave", &notice).await;
        s.leave(room.to_owned());
    }
}
