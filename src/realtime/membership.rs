//! Taking a user's sockets out of a room they may no longer enter.

use super::Ctx;
use crate::domain::{RoomRecord, Visibility};

/// After `user_id` lost their membership of `room`, takes their sockets out
/// of it on every node, except those that still have access: anyone may be
/// in a public room, the owner always may, and so may a socket whose token's
/// `rooms` claim names the room (it sits in `presence::claim_room`). The
/// room and the removed sockets get `leave` `{"room","user","ts","reason":"removed"}`.
pub async fn evict(ctx: &Ctx, room: &RoomRecord, user_id: &str) {
    if room.visibility == Visibility::Public || room.owner == user_id {
        return;
    }
    ctx.remove_from_room(&room.name, user_id).await;
}
