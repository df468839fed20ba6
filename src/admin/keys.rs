//! `roomcast key create|revoke|list`: the API keys of bots and backends.

use super::{open, print};
use crate::auth::keys::{key_hash, new_key};
use crate::cli::KeyCommand;
use crate::domain::{BOT_PREFIX, RoomName, Username, is_account_id};
use crate::store::{KeyRecord, StoreError};

pub async fn key(cmd: KeyCommand) -> anyhow::Result<()> {
    match cmd {
        KeyCommand::Create {
            name,
            rooms,
            as_user,
            server,
            store,
        } => {
            Username::parse(&name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
            for room in &rooms {
                RoomName::parse(room).map_err(|e| anyhow::anyhow!("--rooms: {e}"))?;
            }
            let user_id = match as_user {
                Some(u) => {
                    anyhow::ensure!(
                        !u.is_empty() && u.len() <= 256 && !u.starts_with(BOT_PREFIX),
                        "--as-user must be a user id (not a bot: one)"
                    );
                    u
                }
                None => format!("{BOT_PREFIX}{name}"),
            };
            let (_, store) = open(store).await?;
            if is_account_id(&user_id) {
                anyhow::ensure!(
                    store.credentials(&user_id).await?.is_some(),
                    "--as-user {user_id}: no such account"
                );
            }
            let record = KeyRecord {
                name: name.clone(),
                user_id,
                rooms,
                server,
                last_used: None,
            };
            let key = new_key();
            match store.create_key(&record, &key_hash(&key)).await {
                Ok(()) => print([key]),
                Err(StoreError::Conflict) => anyhow::bail!("a key named {name} exists"),
                Err(e) => Err(e.into()),
            }
        }
        KeyCommand::Revoke { name, store } => {
            let (_, store) = open(store).await?;
            match store.revoke_key(&name).await {
                Ok(()) => print([format!("key {name} revoked")]),
                Err(StoreError::NotFound) => anyhow::bail!("no key {name}"),
                Err(e) => Err(e.into()),
            }
        }
        KeyCommand::List { store } => {
            let (_, store) = open(store).await?;
            let keys = store.keys().await?;
            print(keys.into_iter().map(|k| {
                let rooms = if k.rooms.is_empty() {
                    "*".to_owned()
                } else {
                    k.rooms.join(",")
                };
                let scope = if k.server { "server" } else { "rooms" };
                let used = k.last_used.map_or_else(|| "never used".to_owned(), used_at);
                format!("{}\t{}\t{rooms}\t{scope}\t{used}", k.name, k.user_id)
            }))
        }
    }
}

/// A last use, as how long ago.
fn used_at(ms: i64) -> String {
    let secs = (crate::domain::now_ms() - ms).max(0) / 1000;
    format!("last used {secs} s ago")
}
