//! `roomcast room list|create|delete|ban|unban|mute|unmute`.

use super::{open, print};
use crate::cli::RoomCommand;
use crate::domain::{RoomName, RoomRecord, Visibility, now_ms};
use crate::rooms::Change;
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
                topic: None,
            };
            match store.create_room(&room).await {
                Ok(()) => print([format!("created room {name}")]),
                Err(StoreError::Conflict) => anyhow::bail!("room {name} already exists"),
                Err(e) => Err(e.into()),
            }
        }
        RoomCommand::Ban { room, user, store } => moderate(room, user, Change::Ban, store).await,
        RoomCommand::Unban { room, user, store } => {
            moderate(room, user, Change::Unban, store).await
        }
        RoomCommand::Mute {
            room,
            user,
            minutes,
            store,
        } => {
            let change = Change::Mute {
                seconds: minutes * 60,
            };
            moderate(room, user, change, store).await
        }
        RoomCommand::Unmute { room, user, store } => {
            moderate(room, user, Change::Unmute, store).await
        }
        RoomCommand::Delete { name, store } => {
            let (_, store) = open(store).await?;
            match store.delete_room(&name).await {
                Ok(_) => print([format!("deleted room {name}")]),
                Err(StoreError::NotFound) => anyhow::bail!("no room {name}"),
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// `room ban|unban|mute|unmute`: the change, written straight to the database
/// (as by the room's owner: anyone but the owner may be acted on). The
/// server reads bans and mutes at every join and post, so they hold at once
/// on every node; sockets in the room are not told (no server is involved).
async fn moderate(
    room: String,
    user: String,
    change: Change,
    store: crate::cli::StoreArgs,
) -> anyhow::Result<()> {
    let name = RoomName::parse(&room).map_err(anyhow::Error::msg)?;
    let user = crate::protocol::checked_user(user).map_err(anyhow::Error::msg)?;
    let (_, store) = open(store).await?;
    let record = store
        .room(&name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no room {name}"))?;
    anyhow::ensure!(
        record.owner != user,
        "{user} owns room {name}; the owner cannot be banned or muted"
    );
    let now = now_ms();
    crate::rooms::apply(store.as_ref(), "roomcast-cli", &name, &user, change, now)
        .await
        .map_err(anyhow::Error::msg)?;
    let done = match change {
        Change::Ban => format!("banned {user} from room {name}"),
        Change::Unban => format!("unbanned {user} in room {name}"),
        Change::Mute { seconds } => {
            format!("muted {user} in room {name} for {} minutes", seconds / 60)
        }
        Change::Unmute => format!("unmuted {user} in room {name}"),
        Change::Appoint(_) => format!("changed {user}'s role in room {name}"),
    };
    print([done])
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
