//! Who may see and join which room (PROTOCOL §3), shared by sockets and HTTP.

mod files;
mod lists;
mod manage;
mod moderation;
mod search;

use crate::auth::Identity;
use crate::domain::{
    DM_PREFIX, ReplyRef, Role, RoomName, RoomRecord, Standing, Visibility, excerpt, is_dm, now_ms,
};
use crate::error::AppError;
use crate::store::{Entry, HistoryPage, Page, Store, StoreError};

pub use files::{may_read_file, open_for_upload};
pub use lists::{DM_MAX_OTHERS, Enlister, leave_for_good, listed, mark_read, open_dm};
pub use manage::{MEMBERS_LIMIT, Settings, configure, delete, members};
pub use moderation::{
    Applied, Change, apply, banned, list, may_moderate, moderate, set_slow_mode, standing,
};
pub use search::search;

/// The room `who` wants to join, where they stand in it and its
/// moderators (one read): created public and owned by them when it does
/// not exist and `auto_create` is on, refused when they may not enter
/// (private, or banned).
pub async fn open_for_join(
    store: &dyn Store,
    auto_create: bool,
    who: &Identity,
    name: &RoomName,
) -> Result<Entry, AppError> {
    // Before auto-creating: a key limited to other rooms makes none.
    if !who.may_use(name.as_str()) {
        return Err(key_limited(name));
    }
    let now = now_ms();
    let entry = match store.entry(name, &who.user.id, now).await? {
        Some(entry) => entry,
        // A conversation's room is made by `dm` only.
        None if auto_create && !is_dm(name.as_str()) => {
            let fresh = RoomRecord {
                name: name.to_string(),
                visibility: Visibility::Public,
                owner: who.user.id.clone(),
                topic: None,
            };
            match store.create_room(&fresh).await {
                // `create_room` put it in the owner's list.
                Ok(()) => Entry {
                    room: fresh,
                    member: true,
                    standing: Standing {
                        role: Role::Owner,
                        banned: false,
                        muted_until: None,
                        slow_mode: 0,
                    },
                    moderators: Vec::new(),
                },
                // Someone else created it in the meantime: theirs wins.
                Err(StoreError::Conflict) => store
                    .entry(name, &who.user.id, now)
                    .await?
                    .ok_or_else(|| not_found(name))?,
                Err(e) => return Err(e.into()),
            }
        }
        None => return Err(not_found(name)),
    };
    check_access(who, name, entry)
}

/// The existing room `who` wants to read.
pub async fn open_for_read(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
) -> Result<RoomRecord, AppError> {
    let entry = store
        .entry(name, &who.user.id, now_ms())
        .await?
        .ok_or_else(|| not_found(name))?;
    Ok(check_access(who, name, entry)?.room)
}

/// The room when `who` may enter it (it is public, theirs, they were
/// invited, or their token's `rooms` claim names it): a ban keeps them out
/// of every room, public ones and those their token names included.
fn check_access(who: &Identity, name: &RoomName, entry: Entry) -> Result<Entry, AppError> {
    if !who.may_use(name.as_str()) {
        return Err(key_limited(name));
    }
    let room = &entry.room;
    let open = room.visibility == Visibility::Public
        || room.owner == who.user.id
        || who.rooms.contains(&room.name)
        || entry.member;
    if !open {
        return Err(AppError::Forbidden(format!(
            "room {} is private",
            room.name
        )));
    }
    if entry.standing.banned {
        return Err(banned(name));
    }
    Ok(entry)
}

/// Every room `who` can see: public ones, their own, invitations, and the
/// private rooms their token names.
pub async fn visible(store: &dyn Store, who: &Identity) -> Result<Vec<RoomRecord>, AppError> {
    let mut rooms = store.rooms_for(&who.user.id).await?;
    rooms.retain(|r| who.may_use(&r.name));
    let mut claimed: Vec<&String> = who
        .rooms
        .iter()
        .filter(|name| !rooms.iter().any(|r| &r.name == *name))
        .collect();
    claimed.sort();
    // A claim that is no room name names no room that can be opened.
    for name in claimed.into_iter().filter_map(|n| RoomName::parse(n).ok()) {
        if let Some(room) = store.room(&name).await? {
            rooms.push(room);
        }
    }
    rooms.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rooms)
}

/// Creates a room owned by `who`; a taken name is `Conflict`.
pub async fn create(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
    visibility: Visibility,
) -> Result<RoomRecord, AppError> {
    if !who.may_use(name.as_str()) {
        return Err(key_limited(name));
    }
    if is_dm(name.as_str()) {
        return Err(AppError::InvalidRoom(format!(
            "{name}: names starting with {DM_PREFIX} are direct conversations'"
        )));
    }
    let room = RoomRecord {
        name: name.to_string(),
        visibility,
        owner: who.user.id.clone(),
        topic: None,
    };
    store.create_room(&room).await.map_err(|e| match e {
        StoreError::Conflict => AppError::Conflict(format!("room {name} already exists")),
        other => other.into(),
    })?;
    Ok(room)
}

/// The owner of a private room invites `user_id`: a built-in account or
/// an app user the server has seen, not disabled, or the bot of a key not
/// revoked (`not_found` otherwise, and nothing is stored).
pub async fn invite(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
    user_id: &str,
) -> Result<(), AppError> {
    owned(store, who, name, user_id).await?;
    // A bot (`bot:` and a key's name) is known while its key is not revoked.
    let known = match user_id.strip_prefix(crate::domain::BOT_PREFIX) {
        Some(key) => store.key_names().await?.iter().any(|k| k == key),
        None => !store.known_users(&[user_id.to_owned()]).await?.is_empty(),
    };
    if !known {
        return Err(AppError::NotFound("no such user".into()));
    }
    store.add_member(name, user_id).await?;
    Ok(())
}

/// The owner removes `user_id`'s invitation; `not_found` when there was none.
/// Returns the room, so the caller can take the user's sockets out of it.
pub async fn remove_member(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
    user_id: &str,
) -> Result<RoomRecord, AppError> {
    let room = owned(store, who, name, user_id).await?;
    if !store.remove_member(name, user_id).await? {
        return Err(AppError::NotFound(format!(
            "{user_id} is not a member of room {name}"
        )));
    }
    Ok(room)
}

/// The room, when `who` owns it (members are the owner's to manage) and
/// `user_id` could be a user id.
async fn owned(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
    user_id: &str,
) -> Result<RoomRecord, AppError> {
    if !who.may_use(name.as_str()) {
        return Err(key_limited(name));
    }
    let room = store.room(name).await?.ok_or_else(|| not_found(name))?;
    if room.owner != who.user.id {
        return Err(AppError::Forbidden(
            "only the room's owner manages members".into(),
        ));
    }
    if user_id.is_empty() || user_id.len() > 256 {
        return Err(AppError::payload("user must be a user id"));
    }
    Ok(room)
}

/// A page of a room's history for `who`, newest first unless `before` pages back
/// (the `history` event and `GET /api/rooms/{room}/messages`).
pub async fn history(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
    before: Option<i64>,
    limit: u32,
) -> Result<HistoryPage, AppError> {
    open_for_read(store, who, name).await?;
    let page = match before {
        Some(id) => Page::Before { id, limit },
        None => Page::Latest { limit },
    };
    Ok(store.history(name, page).await?)
}

fn key_limited(name: &RoomName) -> AppError {
    AppError::Forbidden(format!("this key may not act in room {name}"))
}

/// The parent a new message in `room` answers: message `id` of the same
/// room, not deleted; `not_found` otherwise.
pub async fn reply_ref(store: &dyn Store, room: &RoomName, id: i64) -> Result<ReplyRef, AppError> {
    match store.message(room, id).await? {
        Some(parent) if parent.deleted.is_none() => Ok(ReplyRef {
            id,
            excerpt: Some(excerpt(&parent.message)),
            user: parent.user,
            deleted: false,
        }),
        _ => Err(AppError::NotFound(format!(
            "reply_to: no message {id} in room {room}"
        ))),
    }
}

fn not_found(name: &RoomName) -> AppError {
    AppError::NotFound(format!("room {name} does not exist"))
}
