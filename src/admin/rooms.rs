//! `roomcast room list|create|delete`.

use super::{open, print};
use crate::cli::RoomCommand;
use crate::domain::{RoomName, RoomRecord, Visibility};
use crate::store::{Admin, StoreError};

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
            app_owner,
            private,
            store,
        } => {
            let name = RoomName::parse(&name).map_err(anyhow::Error::msg)?;
            let (_, store) = open(store).await?;
            let owner = owner_id(store.as_ref(), owner, app_owner).await?;
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

/// The owner's user id: an existing built-in account (`--owner`), or an
/// app's user (`--app-owner`), whose ids never start with `acct:`.
async fn owner_id(
    store: &dyn Admin,
    owner: Option<String>,
    app_owner: Option<String>,
) -> anyhow::Result<String> {
    if let Some(sub) = app_owner {
        anyhow::ensure!(!sub.is_empty(), "--app-owner must not be empty");
        anyhow::ensure!(
            !crate::domain::is_account_id(&sub),
            "--app-owner {sub:?} is a built-in account's id: use --owner for accounts"
        );
        return Ok(sub);
    }
    let owner = owner.unwrap_or_default();
    let unknown = || {
        anyhow::anyhow!(
            "no user {owner:?} in this database (see `roomcast user list`); \
             for a user of your app, who signs in with its JWTs, use --app-owner SUB"
        )
    };
    let id = crate::auth::account_id(&owner).ok_or_else(unknown)?;
    match store.credentials(&id).await? {
        Some(_) => Ok(id),
        None => Err(unknown()),
    }
}
