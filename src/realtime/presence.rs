//! Who is online in a room: the users of the sockets the adapter has in it.

use std::collections::HashSet;
use std::sync::Arc;

use socketioxide::SocketIo;

use super::Conn;
use crate::domain::User;

/// The distinct users with a socket in `room`, in no particular order.
pub(crate) fn online(io: &SocketIo, room: &str) -> Vec<User> {
    let mut seen = HashSet::new();
    io.within(room.to_owned())
        .sockets()
        .into_iter()
        .filter_map(|s| s.extensions.get::<Arc<Conn>>())
        .filter(|c| seen.insert(c.identity.user.id.clone()))
        .map(|c| c.identity.user.clone())
        .collect()
}
