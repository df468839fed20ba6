//! Every user's list of rooms and read positions (docs/protocol.md §4 "Your
//! rooms and read state"), for sockets and HTTP alike.

use crate::auth::Identity;
use crate::domain::{RoomName, RoomRecord};
use crate::error::AppError;
use crate::store::{Entry, Listed, ReadMark, Store};

/// After `who` entered a room (`entry`, already checked): the room goes in
/// their list when it was not there. `true` when it was added.
pub async fn enlist(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
    entry: &Entry,
) -> Result<bool, AppError> {
    if entry.member {
        return Ok(false);
    }
    Ok(store.enlist(name, &who.user.id).await?)
}

/// `who` takes `name` out of their list for good (a private room's
/// invitation goes with it); `not_found` when it was not in it.
pub async fn leave_for_good(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
) -> Result<RoomRecord, AppError> {
    let room = store.room(name).await?.ok_or_else(|| not_listed(name))?;
    if !store.delist(name, &who.user.id).await? {
        return Err(not_listed(name));
    }
    Ok(room)
}

/// Moves `who`'s read position in `name` forward to `id`: the position now,
/// and whether it moved (then the user's other sockets are told).
pub async fn mark_read(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
    id: i64,
) -> Result<(i64, bool), AppError> {
    if !who.may_use(name.as_str()) {
        return Err(AppError::Forbidden(format!(
            "this key may not act in room {name}"
        )));
    }
    match store.mark_read(name, &who.user.id, id).await? {
        ReadMark::Moved => Ok((id, true)),
        ReadMark::Ahead(at) => Ok((at, false)),
        ReadMark::PastNewest(newest) => Err(AppError::payload(format!(
            "id {id} is past the newest message of room {name} ({newest})"
        ))),
        ReadMark::NotListed => Err(not_listed(name)),
    }
}

/// `who`'s list, with counts, by name; rooms a key may not use left out.
pub async fn listed(store: &dyn Store, who: &Identity) -> Result<Vec<Listed>, AppError> {
    let mut list = store.listed(&who.user.id).await?;
    list.retain(|l| who.may_use(&l.room.name));
    Ok(list)
}

fn not_listed(name: &RoomName) -> AppError {
    AppError::NotFound(format!("room {name} is not in your rooms"))
}
