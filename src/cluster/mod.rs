//! What every node shares about sockets: the Socket.IO handle and its
//! adapter (Redis pub/sub when configured), and who is in which room on any
//! node. Used by the socket events and the HTTP routes alike.

mod bus;
mod crowds;
mod manage;
pub mod presence;

use std::collections::HashMap;

use crate::domain::{RoomRecord, User, Visibility, now_ms};
use crate::protocol::{
    Action, Broadcast, LastMessage, LeaveNotice, LeaveReason, ModerationNotice, RoomView,
};
use crate::rooms::Applied;
use crate::store::Listed;

pub use bus::{Adapter, Bus, Io, Sock};
pub use crowds::Crowds;
pub use manage::{room_deleted, topic_changed};
pub use presence::is_chat_room;

/// Disconnects this node's sockets of API keys that are no longer stored
/// (`roomcast key revoke`, which runs outside the server): every node does
/// so for its own sockets. One read of the key names, and only while a
/// socket of some key is connected here.
pub async fn drop_revoked_keys(io: &Io, store: &dyn crate::store::Store) {
    let Ok(rooms) = io.local().rooms().await else {
        return;
    };
    let held: Vec<String> = rooms
        .iter()
        .filter_map(|r| r.strip_prefix(presence::KEY_ROOM))
        .map(str::to_owned)
        .collect();
    if held.is_empty() {
        return;
    }
    let live = match store.key_names().await {
        Ok(live) => live,
        Err(e) => {
            tracing::warn!(error = %e, "cannot check for revoked keys");
            return;
        }
    };
    for name in held.iter().filter(|n| !live.contains(n)) {
        tracing::info!(key = %name, "disconnecting the sockets of a revoked key");
        let _ = io
            .local()
            .within(presence::key_room(name))
            .disconnect()
            .await;
    }
}

/// A room as payloads show it, with its live `online` count (all nodes).
pub async fn room_view(io: &Io, room: &RoomRecord) -> RoomView {
    view(room, presence::count(io, &room.name).await)
}

/// [`room_view`] of each room, asked of the nodes concurrently.
pub async fn room_views(io: &Io, rooms: &[RoomRecord]) -> Vec<RoomView> {
    futures_util::future::join_all(rooms.iter().map(|r| room_view(io, r))).await
}

/// After `room` went into `user_id`'s list: their sockets on every node
/// that are not in the room get its `activity` from now on.
pub async fn listed(io: &Io, room: &str, user_id: &str) {
    let theirs = io
        .within(presence::id_room(user_id))
        .except(room.to_owned());
    if let Err(e) = theirs.join(presence::list_room(room)).await {
        tracing::warn!(error = %e, room, "a room list change may not have reached every node");
    }
}

/// Opens `who`'s direct conversation with `users` ([`rooms::open_dm`]):
/// every participant's sockets get its `activity` from now on; the room as
/// a list shows it, with its people.
pub async fn open_dm(
    io: &Io,
    store: &dyn crate::store::Store,
    who: &crate::auth::Identity,
    users: &[String],
) -> Result<RoomView, crate::error::AppError> {
    let (room, ids) = crate::rooms::open_dm(store, who, users).await?;
    for id in &ids {
        listed(io, &room.name, id).await;
    }
    // The others are known users (checked); the caller is who they are.
    let mut people: Vec<User> = store
        .known_users(&ids)
        .await?
        .into_iter()
        .filter(|u| u.id != who.user.id)
        .collect();
    people.push(who.user.clone());
    people.sort_by(|a, b| a.id.cmp(&b.id));
    let mut view = room_view(io, &room).await;
    view.people = Some(people);
    Ok(view)
}

/// After `room` left `user_id`'s list: none of their sockets gets its
/// `activity` any more.
pub async fn delisted(io: &Io, room: &str, user_id: &str) {
    let theirs = io.within(presence::id_room(user_id));
    if let Err(e) = theirs.leave(presence::list_room(room)).await {
        tracing::warn!(error = %e, room, "a room list change may not have reached every node");
    }
}

/// The `rooms` answer for `who`: every room they may see, with the counts
/// of those in their list. The two reads go to the store at once (on
/// SQLite, two reader connections; benches/rooms_list.rs).
pub async fn rooms_of(
    io: &Io,
    store: &dyn crate::store::Store,
    who: &crate::auth::Identity,
) -> Result<Vec<RoomView>, crate::error::AppError> {
    let (visible, (listed, people)) = futures_util::future::try_join(
        crate::rooms::visible(store, who),
        crate::rooms::listed(store, who),
    )
    .await?;
    Ok(list_views(io, &visible, listed, people).await)
}

/// The rooms `visible` to a user as payloads show them, with the counts of
/// those in their list (`listed`, by name).
async fn list_views(
    io: &Io,
    visible: &[RoomRecord],
    listed: Vec<Listed>,
    people: Vec<(String, User)>,
) -> Vec<RoomView> {
    let mut views = room_views(io, visible).await;
    let mut people_of: HashMap<String, Vec<User>> = HashMap::new();
    for (room, person) in people {
        people_of.entry(room).or_default().push(person);
    }
    let mut listed: HashMap<String, Listed> = listed
        .into_iter()
        .map(|l| (l.room.name.clone(), l))
        .collect();
    for view in &mut views {
        if let Some(l) = listed.remove(&view.name) {
            view.member = true;
            view.read = Some(l.read_id);
            view.unread = Some(l.unread);
            view.mentions = Some(l.mentions);
            view.people = people_of.remove(&view.name);
            view.last = l.last.map(|m| LastMessage {
                id: m.id,
                user: m.user,
                excerpt: m.excerpt,
                ts: m.ts,
            });
        }
    }
    views
}

/// A room as payloads show it, given its `online` count.
pub fn view(room: &RoomRecord, online: usize) -> RoomView {
    RoomView {
        name: room.name.clone(),
        visibility: room.visibility,
        owner: room.owner.clone(),
        topic: room.topic.clone(),
        online: online as u64,
        member: false,
        read: None,
        unread: None,
        mentions: None,
        last: None,
        people: None,
    }
}

/// After `user_id` lost their membership of `room`, takes their sockets out
/// of it on every node, except those that still have access: anyone may be
/// in a public room, the owner always may, and so may a socket whose token's
/// `rooms` claim names the room (it sits in `presence::claim_room`). The
/// room and the removed sockets get `leave` with `"reason": "removed"`.
pub async fn evict(io: &Io, room: &RoomRecord, user_id: &str) {
    delisted(io, &room.name, user_id).await;
    if room.visibility == Visibility::Public || room.owner == user_id {
        return;
    }
    remove_from_room(io, &room.name, user_id).await;
}

/// Takes every socket of `user_id`, on every node, out of `room`, and tells
/// them and the room. Sockets are found by user id alone: one user's
/// sockets may each claim another display name.
pub async fn remove_from_room(io: &Io, room: &str, user_id: &str) {
    // Sockets whose token names the room keep it.
    let keeps = presence::claim_room(user_id, room);
    take_out(io, room, user_id, Some(keeps), LeaveReason::Removed).await;
}

/// After `user_id` was banned from `room`: takes all their sockets, on
/// every node, out of it (a token naming the room does not keep them in),
/// with `leave` `"reason": "banned"` to the room and to them.
pub async fn ban(io: &Io, room: &str, user_id: &str) {
    delisted(io, room, user_id).await;
    take_out(io, room, user_id, None, LeaveReason::Banned).await;
}

/// After `user_id` took `room` out of their list: all their sockets, on
/// every node, leave it, with `leave` `"reason": "left"` to the room and to
/// them.
pub async fn left_for_good(io: &Io, room: &str, user_id: &str) {
    delisted(io, room, user_id).await;
    take_out(io, room, user_id, None, LeaveReason::Left).await;
}

/// Makes a stored moderation change known: the room and the user acted on
/// get `moderation`; a banned user's sockets are then taken out of the room.
pub async fn publish(io: &Io, by: &User, target: &str, applied: &Applied, now: i64) {
    let notice = ModerationNotice {
        room: &applied.room.name,
        action: applied.action,
        user: Some(target),
        by,
        until: applied.until,
        seconds: None,
        ts: now,
    };
    announce(io, &notice).await;
    if applied.action == Action::Banned {
        ban(io, &applied.room.name, target).await;
    }
}

/// Tells the room, and every socket of the user acted on (in the room or
/// not, on every node), of a moderation change.
pub async fn announce(io: &Io, notice: &ModerationNotice<'_>) {
    let mut to = vec![notice.room.to_owned()];
    if let Some(user) = notice.user {
        to.push(presence::id_room(user));
    }
    let _ = io.to(to).emit(ModerationNotice::EVENT, notice).await;
}

async fn take_out(io: &Io, room: &str, user_id: &str, keeps: Option<String>, reason: LeaveReason) {
    // The name the room knows them by, for the notice (any of them).
    let online = presence::online(io, room).await;
    let user = online
        .into_iter()
        .find(|u| u.id == user_id)
        .unwrap_or_else(|| User::new(user_id.to_owned(), user_id.to_owned()));
    let theirs = presence::id_room(user_id);
    let mut leaving = io.within(theirs.clone());
    if let Some(keeps) = &keeps {
        leaving = leaving.except(keeps.clone());
    }
    if let Err(e) = leaving.leave(room.to_owned()).await {
        tracing::warn!(error = %e, room, "removal may not have reached every node");
    }
    let notice = LeaveNotice {
        room,
        user: &user,
        ts: now_ms(),
        reason: Some(reason),
    };
    let mut told = io.to([room.to_owned(), theirs]);
    if let Some(keeps) = keeps {
        told = told.except(keeps);
    }
    let _ = told.emit(LeaveNotice::EVENT, &notice).await;
}
