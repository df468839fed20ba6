//! Running a room (docs/protocol.md §4 "Room topic, members, deletion"):
//! who may set its topic and slow mode, who may list its members, and the
//! owner's deletion; shared by sockets and HTTP.

use crate::auth::Identity;
use crate::domain::{Member, RoomName, RoomRecord, Topic};
use crate::error::AppError;
use crate::store::{DM_OWNER, Store, StoreError};

/// The most members one `members` answer lists.
pub const MEMBERS_LIMIT: u32 = 500;

/// A change to a room's settings: what `PATCH /api/rooms/{room}` takes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings<'a> {
    pub slow_mode: Option<i64>,
    pub topic: Option<&'a Topic>,
}

/// `who` changes the room's settings: slow mode is the owner's and the
/// moderators'; the topic theirs too, and in a direct conversation any of
/// its people's. Every part is checked before anything changes, so a
/// refusal changes nothing. Returns the room.
pub async fn configure(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
    change: Settings<'_>,
) -> Result<RoomRecord, AppError> {
    if !who.may_use(name.as_str()) {
        return Err(super::key_limited(name));
    }
    let room = store
        .room(name)
        .await?
        .ok_or_else(|| super::not_found(name))?;
    // A conversation's owner is nobody: its people hold it in common.
    let dm = room.owner == DM_OWNER;
    let moderates = !dm && super::may_moderate(store, name, who).await?;
    if change.slow_mode.is_some() && !moderates {
        return Err(AppError::Forbidden(
            "only the room's owner and moderators set slow mode".into(),
        ));
    }
    if change.topic.is_some() {
        let may = moderates || (dm && store.is_member(name, &who.user.id).await?);
        if !may {
            return Err(AppError::Forbidden(
                "only the room's owner and moderators set its topic".into(),
            ));
        }
    }
    if let Some(seconds) = change.slow_mode {
        store.set_slow_mode(name, seconds).await?;
    }
    if let Some(topic) = change.topic {
        store
            .set_topic(name, topic.as_str())
            .await
            .map_err(|e| gone(e, name))?;
    }
    Ok(room)
}

/// The first [`MEMBERS_LIMIT`] people whose list holds the room, with
/// their roles, and whether there are more: for whoever may read its
/// history.
pub async fn members(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
) -> Result<(Vec<Member>, bool), AppError> {
    super::open_for_read(store, who, name).await?;
    Ok(store.room_members(name, MEMBERS_LIMIT).await?)
}

/// The owner deletes the room: its members, messages and settings go
/// (`roomcast room delete` does the same). Returns the user ids whose list
/// held it, for the caller to tell their sockets.
pub async fn delete(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
) -> Result<Vec<String>, AppError> {
    if !who.may_use(name.as_str()) {
        return Err(super::key_limited(name));
    }
    let room = store
        .room(name)
        .await?
        .ok_or_else(|| super::not_found(name))?;
    // A conversation's owner, `@dm`, is no user: nobody deletes one.
    if room.owner != who.user.id {
        return Err(AppError::Forbidden(
            "only the room's owner deletes it".into(),
        ));
    }
    store
        .delete_room(name.as_str())
        .await
        .map_err(|e| gone(e, name))
}

/// A room deleted between reading it and changing it is `not_found`.
fn gone(e: StoreError, name: &RoomName) -> AppError {
    match e {
        StoreError::NotFound => super::not_found(name),
        other => other.into(),
    }
}
