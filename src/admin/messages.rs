//! `roomcast message delete`.

use super::{print, settings_of};
use crate::cli::MessageCommand;
use crate::domain::{RoomName, User};
use crate::store::{self, Change, StoreError};

/// Who the tombstone of a deletion made here names as its deleter: not a
/// user anyone can be (`@` starts no account id nor, by convention, a `sub`).
const ADMIN: &str = "@admin";

pub async fn message(cmd: MessageCommand) -> anyhow::Result<()> {
    match cmd {
        MessageCommand::Delete { room, id, store } => {
            let room = RoomName::parse(&room).map_err(anyhow::Error::msg)?;
            let settings = settings_of(store)?;
            // The same statements as a socket's `delete`, with a stream
            // position of their own, so `join {since}` brings the tombstone.
            let change = Change::Delete {
                room: room.clone(),
                id,
                by: User::new(ADMIN, "an administrator"),
                any: true,
            };
            match store::apply_direct(&settings.database, settings.sqlite_sync, change).await? {
                Ok(m) => print([format!("deleted message {} of room {room}", m.id)]),
                Err(StoreError::NotFound) => {
                    anyhow::bail!("no message {id} in room {room} (or it was deleted already)")
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}
