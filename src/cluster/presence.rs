//! Who is online in a room, counted on every node.
//!
//! Each socket also sits in a room of its own whose name no chat room can
//! have (`@` is not allowed in room names): `@user/{user as JSON}`, so the
//! adapter's "rooms of the sockets in room R" (answered by every node through
//! Redis) names R's users.

use std::collections::HashSet;

use super::bus::Io;
use crate::domain::User;

const USER_ROOM: &str = "@user/";
const ID_ROOM: &str = "@id/";
const CLAIM_ROOM: &str = "@claim/";
/// Sockets proven by an API key sit in `@key/` and the key's name, so a
/// revoked key's sockets can be found ([`super::drop_revoked_keys`]).
pub(super) const KEY_ROOM: &str = "@key/";

/// The room a user's sockets sit in for each room of their list they have
/// not joined: what `activity` notices go to.
pub fn list_room(room: &str) -> String {
    format!("{LIST_ROOM}{room}")
}

const LIST_ROOM: &str = "@list/";

/// The room every socket of the API key `name` sits in.
pub fn key_room(name: &str) -> String {
    format!("{KEY_ROOM}{name}")
}

/// The room every socket of `user` with this display name sits in (the
/// census of `online` reads names from it).
pub fn user_room(user: &User) -> String {
    let json = serde_json::to_string(user).unwrap_or_default();
    format!("{USER_ROOM}{json}")
}

/// The room every socket of `user_id` sits in, whatever name its token
/// claims: what reaches all of a user's sockets (removal from a room).
pub fn id_room(user_id: &str) -> String {
    let json = serde_json::to_string(user_id).unwrap_or_default();
    format!("{ID_ROOM}{json}")
}

/// The room a socket of `user_id` sits in when its token's `rooms` claim
/// names `room`: removing the user's membership leaves such sockets in place.
pub fn claim_room(user_id: &str, room: &str) -> String {
    let json = serde_json::to_string(&(user_id, room)).unwrap_or_default();
    format!("{CLAIM_ROOM}{json}")
}

/// Whether `room` is a chat room (not one of the bookkeeping rooms above).
pub fn is_chat_room(room: &str) -> bool {
    !room.starts_with('@')
}

/// Who is online in a room: how many distinct users, and some of them.
#[derive(Debug, Default)]
pub struct Census {
    pub count: usize,
    /// At most the number asked for, in no particular order.
    pub users: Vec<User>,
}

/// The distinct users with a socket in `room` on any node, in no particular
/// order. Without Redis (or while it is down) only this node's are counted.
pub async fn online(io: &Io, room: &str) -> Vec<User> {
    census(io, room, usize::MAX).await.users
}

/// How many distinct users have a socket in `room` on any node.
pub async fn count(io: &Io, room: &str) -> usize {
    census(io, room, 0).await.count
}

/// How many distinct users have a socket in `room` on any node, and up to
/// `names` of them. Users are counted by their `@id/` rooms, with no JSON
/// read; only the names given are decoded: in a room of 1,000 sockets,
/// decoding and sending every name in every join ack halved the rate at
/// which clients could join it (bench/README.md).
pub async fn census(io: &Io, room: &str, names: usize) -> Census {
    let rooms = match io.within(room.to_owned()).rooms().await {
        Ok(rooms) => rooms,
        Err(e) => {
            tracing::debug!(error = %e, "online: counting this node only");
            io.local()
                .within(room.to_owned())
                .rooms()
                .await
                .unwrap_or_default()
        }
    };
    let count = rooms.iter().filter(|r| r.starts_with(ID_ROOM)).count();
    let mut seen = HashSet::new();
    let users = rooms
        .iter()
        .filter_map(|r| r.strip_prefix(USER_ROOM))
        .filter_map(|json| serde_json::from_str::<User>(json).ok())
        .filter(|u| seen.insert(u.id.clone()))
        .take(names)
        .collect();
    Census { count, users }
}
