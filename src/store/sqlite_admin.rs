//! SQLite backend: the administration queries of `roomcast user|room`.

use sqlx::Row;

use super::sqlite::{SqliteStore, db_err, room_of};
use super::{StoreError, StoreResult};
use crate::domain::{RoomRecord, User};

/// `NotFound` when a statement touched no row.
fn found(rows: u64) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

impl SqliteStore {
    pub(super) async fn admin_users(&self) -> StoreResult<Vec<(User, bool)>> {
        let rows = sqlx::query("SELECT id, name, disabled FROM users ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(rows
            .iter()
            .map(|r| {
                let user = User {
                    id: r.get("id"),
                    name: r.get("name"),
                };
                (user, r.get::<i64, _>("disabled") != 0)
            })
            .collect())
    }

    pub(super) async fn admin_set_password(&self, user_id: &str, hash: &str) -> StoreResult<()> {
        // A new password ends every session, and with them the JWTs
        // issued at those logins (they name their session).
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        found(done.rows_affected())?;
        sqlx::query("DELETE FROM sessions WHERE user_id = ?")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn admin_set_disabled(
        &self,
        user_id: &str,
        disabled: bool,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done = sqlx::query("UPDATE users SET disabled = ? WHERE id = ?")
            .bind(i64::from(disabled))
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        found(done.rows_affected())?;
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = ?")
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn admin_rooms(&self) -> StoreResult<Vec<RoomRecord>> {
        let rows = sqlx::query("SELECT name, visibility, owner FROM rooms ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(rows.iter().map(room_of).collect())
    }

    pub(super) async fn admin_delete_room(&self, name: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done = sqlx::query("DELETE FROM rooms WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        found(done.rows_affected())?;
        // Members go by cascade; messages name the room without a foreign key.
        sqlx::query("DELETE FROM messages WHERE room = ?")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }
}
