//! Who may upload a file to a room and who may read one (docs/protocol.md
//! "Files"): uploading is posting, so it takes what `chat` takes; reading
//! an attached file takes what `history` takes.

use super::{check_access, not_found};
use crate::auth::Identity;
use crate::domain::{RoomName, RoomRecord, now_ms};
use crate::error::AppError;
use crate::store::{FileRecord, Restraint, Store};

/// The room `who` may upload to: one they may read and post in (a ban is
/// `forbidden`, a mute in force `muted`).
pub async fn open_for_upload(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
) -> Result<RoomRecord, AppError> {
    let now = now_ms();
    let entry = store
        .entry(name, &who.user.id, now)
        .await?
        .ok_or_else(|| not_found(name))?;
    let entry = check_access(who, name, entry)?;
    if let Some(until) = entry.standing.muted_until.filter(|u| *u > now) {
        return Err(Restraint::Muted {
            room: name.to_string(),
            until,
        }
        .into());
    }
    Ok(entry.room)
}

/// Whether `who` may read file `f`: an upload no message carries yet only
/// its uploader (in a room their key may act in); an attached file
/// whoever `history` lets read its room. Every other answer is the same
/// `not_found` for the caller, so nothing tells a file apart from none.
pub async fn may_read_file(
    store: &dyn Store,
    who: &Identity,
    f: &FileRecord,
) -> Result<bool, AppError> {
    let Ok(room) = RoomName::parse(&f.room) else {
        return Ok(false);
    };
    if f.message.is_none() {
        return Ok(f.uploader == who.user.id && who.may_use(room.as_str()));
    }
    match super::open_for_read(store, who, &room).await {
        Ok(_) => Ok(true),
        Err(AppError::Internal) => Err(AppError::Internal),
        Err(_) => Ok(false),
    }
}
