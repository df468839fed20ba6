//! `roomcast room list|create|delete`.

use super::{open, print};
use crate::cli::RoomCommand;
use crate::domain::{RoomName, RoomRecord, Visibility};
use crate::store::StoreError;

pub async fn room(cmd: RoomCommand) -> anyhow::Result<()> {
    match cmd {
        RoomCommand::List { store } => {
            let (_, store) = open(store).await?;
            let rooms = store.all_rooms().await?;
            print(
                rooms
                    .into_iter()
                    .map(|r| format!("{}\t{}\t{}", r.name, r.visibility.as_str(), r.owner)),
            )
        }
        RoomCommand::Create {
            name,
            owner,
            private,
            store,
        } => {
            let name = RoomName::parse(&name).map_err(anyhow::Error::msg)?;
            anyhow::ensure!(!owner.is_empty(), "--owner must not be empty");
            let (_, store) = open(store).await?;
            let visibility = if private {
                Visibility::Private
            } else {
                Visibility::Public
            };
            let room = RoomRecord {
                name: name.to_string(),
                visibility,
                owner,
            };
            match store.create_room(&room).await {
                Ok(()) => print([format!("created room {name}")]),
                Err(StoreError::Conflict) => anyhow::bail!("room {name} already exists"),
                Err(e) => Err(e.into()),
            }
        }
        RoomCommand::Delete { name, store } => {
            let (_, store) = open(store).await?;
            match store.delete_room(&name).await {
                Ok(()) => print([format!("deleted room {name}")]),
                Err(StoreError::NotFound) => anyhow::bail!("no room {name}"),
                Err(e) => Err(e.into()),
            }
        }
    }
}
