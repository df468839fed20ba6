//! The administration statements of `roomcast user|room`, written once: [`Admin`] for any [`Connections`].

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::connections::Connections;
use super::sql::{KeyRow, RoomRow};
use super::{Account, Admin, KeyRecord, StoreError, StoreResult};
use crate::domain::{RoomRecord, User, now_ms};

/// `NotFound` when a statement touched no row.
fn found(rows: u64) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl<C> Admin for C
where
    // The bounds of `Store` for any `Connections` (`sql.rs`), which `Admin` extends.
    C: Connections,
    C::Db: sqlx::database::HasStatementCache,
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> i32: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'q, 't> &'t [u8]: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> Vec<u8>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Encode<'r, C::Db>,
    for<'r> Option<&'r str>: Encode<'r, C::Db>,
{
    async fn users(&self) -> StoreResult<Vec<Account>> {
        let rows: Vec<(String, String, i64, i64)> =
            sqlx::query_as(C::USERS).fetch_all(self.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, disabled, admin)| Account {
                user: User::new(id, name),
                disabled: disabled != 0,
                admin: admin != 0,
            })
            .collect())
    }

    async fn set_admin(&self, user_id: &str, admin: bool) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET admin = $1 WHERE id = $2")
            .bind(i64::from(admin))
            .bind(user_id)
            .execute(self.pool())
            .await?;
        found(C::affected(&done))
    }

    async fn set_password(&self, user_id: &str, hash: &str) -> StoreResult<()> {
        // A new password ends every session, and with them the JWTs
        // issued at those logins (they name their session).
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        found(C::affected(&done))?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        Ok(tx.commit().await?)
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        found(C::affected(&done))?;
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx.commit().await?)
    }

    async fn all_rooms(&self) -> StoreResult<Vec<RoomRecord>> {
        let rows: Vec<RoomRow> = sqlx::query_as(C::ALL_ROOMS).fetch_all(self.pool()).await?;
        Ok(rows.into_iter().map(RoomRecord::from).collect())
    }

    async fn app_users(&self) -> StoreResult<Vec<Account>> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT id, name, disabled FROM app_users ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, disabled)| Account {
                user: User::new(id, name),
                disabled: disabled != 0,
                admin: false,
            })
            .collect())
    }

    async fn set_app_disabled(&self, user_id: &str, disabled: bool) -> StoreResult<()> {
        if !disabled {
            let done = sqlx::query("UPDATE app_users SET disabled = 0 WHERE id = $1")
                .bind(user_id)
                .execute(self.pool())
                .await?;
            return found(C::affected(&done));
        }
        // A sub never seen yet is refused from its first connect on.
        sqlx::query(
            "INSERT INTO app_users (id, name, disabled, created_at) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (id) DO UPDATE SET disabled = 1",
        )
        .bind(user_id)
        .bind(user_id)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn create_key(&self, key: &KeyRecord, key_hash: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_keys (name, key_hash, user_id, rooms, server, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key.name.as_str())
        .bind(key_hash)
        .bind(key.user_id.as_str())
        .bind(key.rooms.join(",").as_str())
        .bind(i64::from(key.server))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn revoke_key(&self, name: &str) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM api_keys WHERE name = $1")
            .bind(name)
            .execute(self.pool())
            .await?;
        found(C::affected(&done))
    }

    async fn keys(&self) -> StoreResult<Vec<KeyRecord>> {
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT name, user_id, rooms, server, last_used FROM api_keys ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(KeyRecord::from).collect())
    }
}
