//! What a room's topic change and deletion tell sockets, on every node.

use super::Io;
use super::presence;
use crate::domain::{User, now_ms};
use crate::protocol::{Broadcast, RoomDeletedNotice, TopicNotice};

/// How many users' rooms one `room_deleted` emit names.
const USERS_PER_EMIT: usize = 256;

/// Tells every socket in the room, on every node, its new topic.
pub async fn topic_changed(io: &Io, room: &str, topic: &str, by: &User) {
    let notice = TopicNotice {
        room,
        topic,
        by,
        ts: now_ms(),
    };
    let _ = io
        .to(room.to_owned())
        .emit(TopicNotice::EVENT, &notice)
        .await;
}

/// After `room` was deleted: `room_deleted` to every socket in it and to
/// every socket of the users whose list held it (`listed`), on every node;
/// then every socket leaves the room and its `@list/` room.
pub async fn room_deleted(io: &Io, room: &str, by: &User, listed: &[String]) {
    let notice = RoomDeletedNotice {
        room,
        by,
        ts: now_ms(),
    };
    let rooms = [room.to_owned(), presence::list_room(room)];
    // One socket, one notice: the room and the `@list/` room in one emit,
    // then the users' own rooms without the sockets already told. A listed
    // user's sockets are in one of the first two unless a list change was
    // still on its way to some node.
    let _ = io
        .to(rooms.clone())
        .emit(RoomDeletedNotice::EVENT, &notice)
        .await;
    for users in listed.chunks(USERS_PER_EMIT) {
        let theirs: Vec<String> = users.iter().map(|u| presence::id_room(u)).collect();
        let _ = io
            .to(theirs)
            .except(rooms.clone())
            .emit(RoomDeletedNotice::EVENT, &notice)
            .await;
    }
    if let Err(e) = io.within(rooms.clone()).leave(rooms).await {
        tracing::warn!(error = %e, room, "a deleted room's sockets may not all have left it");
    }
}
