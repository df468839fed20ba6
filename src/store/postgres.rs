//! PostgreSQL backend, for several nodes sharing one database.
//!
//! Ids come from a sequence. Several nodes may append to the same room at
//! once, so commit order alone would not keep delivery in id order (node A
//! draws id 10, node B draws 11 and broadcasts first). Each append therefore
//! takes a session-level advisory lock per room of its batch, draws ids,
//! commits, and keeps the lock until the batch has been delivered (the
//! [`OrderGuard`] it returns): the next writer of that room, on any node,
//! draws larger ids and broadcasts after.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Postgres, Row};

use super::{
    Appended, Credentials, HistoryPage, NewMessage, OrderGuard, Page, Store, StoreError,
    StoreResult,
};
use crate::domain::{Message, RoomRecord, User, Visibility, now_ms};

pub(super) struct PgStore {
    pub(super) pool: PgPool,
    /// The schema's name, mixed into lock keys: advisory locks are
    /// database-wide, and two deployments (or test runs) in different
    /// schemas must not wait on each other.
    schema: String,
}

pub(super) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::RowNotFound => StoreError::NotFound,
        _ => StoreError::Unavailable(e.to_string()),
    }
}

impl PgStore {
    pub(super) async fn open(url: &str) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            // Batches waiting for delivery keep their connection (the lock).
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
            .fetch_one(&pool)
            .await?;
        Ok(Self { pool, schema })
    }
}

/// A stable 64-bit key for a room's advisory lock (FNV-1a: the same on every
/// node and build, unlike std's hasher).
fn lock_key(schema: &str, room: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    // The NUL cannot occur in either name, so ("ab", "c") and ("a", "bc") differ.
    for b in schema.bytes().chain([0]).chain(room.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Holds a connection with advisory locks; releases them when dropped.
struct RoomLocks(Option<PoolConnection<Postgres>>);

impl Drop for RoomLocks {
    fn drop(&mut self) {
        let Some(mut conn) = self.0.take() else {
            return;
        };
        // Dropping can happen outside a runtime only at shutdown, where
        // closing the connection releases the locks anyway.
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            if let Err(e) = sqlx::query("SELECT pg_advisory_unlock_all()")
                .execute(&mut *conn)
                .await
            {
                // A closed session holds no locks: never pool one that may.
                tracing::warn!(error = %e, "could not release room locks; closing the connection");
                conn.close_on_drop();
            }
        });
    }
}

async fn lock_rooms(
    mut conn: PoolConnection<Postgres>,
    schema: &str,
    batch: &[NewMessage],
) -> StoreResult<RoomLocks> {
    // Sorted, so two nodes locking overlapping rooms cannot deadlock.
    let mut keys: Vec<i64> = batch.iter().map(|m| lock_key(schema, &m.room)).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        if let Err(e) = sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(key)
            .execute(&mut *conn)
            .await
        {
            conn.close_on_drop();
            return Err(db_err(e));
        }
    }
    Ok(RoomLocks(Some(conn)))
}

async fn insert_batch(locks: &mut RoomLocks, batch: Vec<NewMessage>) -> StoreResult<Vec<Message>> {
    let conn = locks
        .0
        .as_mut()
        .ok_or_else(|| StoreError::Unavailable("lost the room locks".into()))?;
    let mut tx = conn.begin().await.map_err(db_err)?;
    let mut ids: Vec<i64> =
        sqlx::query_scalar("SELECT nextval('message_ids') FROM generate_series(1, $1)")
            .bind(batch.len() as i64)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
    ids.sort_unstable();
    let ts = now_ms();
    let stored: Vec<Message> = batch
        .into_iter()
        .zip(ids)
        .map(|(m, id)| Message {
            id,
            room: m.room,
            user: m.user,
            message: m.message,
            ts,
        })
        .collect();
    sqlx::query(
        "INSERT INTO messages (id, room, user_id, user_name, body, ts) \
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])",
    )
    .bind(stored.iter().map(|m| m.id).collect::<Vec<_>>())
    .bind(stored.iter().map(|m| m.room.as_str()).collect::<Vec<_>>())
    .bind(stored.iter().map(|m| m.user.id.as_str()).collect::<Vec<_>>())
    .bind(stored.iter().map(|m| m.user.name.as_str()).collect::<Vec<_>>())
    .bind(stored.iter().map(|m| m.message.as_str()).collect::<Vec<_>>())
    .bind(stored.iter().map(|m| m.ts).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(stored)
}

pub(super) fn room_of(row: &PgRow) -> RoomRecord {
    let visibility: String = row.get("visibility");
    RoomRecord {
        name: row.get("name"),
        // The CHECK constraint allows only the two values.
        visibility: Visibility::parse(&visibility).unwrap_or(Visibility::Private),
        owner: row.get("owner"),
    }
}

fn message_of(row: &PgRow) -> Message {
    Message {
        id: row.get("id"),
        room: row.get("room"),
        user: User {
            id: row.get("user_id"),
            name: row.get("user_name"),
        },
        message: row.get("body"),
        ts: row.get("ts"),
    }
}

#[async_trait]
impl Store for PgStore {
    async fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT(key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn create_user(&self, user: &User, password_hash: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, name, password_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&user.id)
        .bind(&user.name)
        .bind(password_hash)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn credentials(&self, user_id: &str) -> StoreResult<Option<Credentials>> {
        let row = sqlx::query("SELECT id, name, password_hash, disabled FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| Credentials {
            user: User {
                id: r.get("id"),
                name: r.get("name"),
            },
            password_hash: r.get("password_hash"),
            disabled: r.get::<i64, _>("disabled") != 0,
        }))
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(user_id)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(|r| User {
            id: r.get("id"),
            name: r.get("name"),
        }))
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn room(&self, name: &str) -> StoreResult<Option<RoomRecord>> {
        let row = sqlx::query("SELECT name, visibility, owner FROM rooms WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(row.as_ref().map(room_of))
    }

    async fn create_room(&self, room: &RoomRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO rooms (name, visibility, owner, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&room.name)
        .bind(room.visibility.as_str())
        .bind(&room.owner)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn is_member(&self, room: &str, user_id: &str) -> StoreResult<bool> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM members WHERE room = $1 AND user_id = $2)")
            .bind(room)
            .bind(user_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn add_member(&self, room: &str, user_id: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO members (room, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(room)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn remove_member(&self, room: &str, user_id: &str) -> StoreResult<bool> {
        self.delete_member(room, user_id).await
    }

    async fn rooms_for(&self, user_id: &str) -> StoreResult<Vec<RoomRecord>> {
        let rows = sqlx::query(
            "SELECT name, visibility, owner FROM rooms \
             WHERE visibility = 'public' OR owner = $1 \
                OR name IN (SELECT room FROM members WHERE user_id = $1) \
             ORDER BY name COLLATE \"C\"",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.iter().map(room_of).collect())
    }

    async fn append(&self, batch: Vec<NewMessage>) -> StoreResult<Appended> {
        let conn = self.pool.acquire().await.map_err(db_err)?;
        let mut locks = lock_rooms(conn, &self.schema, &batch).await?;
        let messages = insert_batch(&mut locks, batch).await?;
        let order: OrderGuard = Box::new(locks);
        Ok(Appended {
            messages,
            order: Some(order),
        })
    }

    async fn history(&self, room: &str, page: Page) -> StoreResult<HistoryPage> {
        let q = page.query();
        let sql = if q.ascending {
            "SELECT * FROM messages WHERE room = $1 AND id > $2 ORDER BY id ASC LIMIT $3"
        } else {
            "SELECT * FROM messages WHERE room = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        };
        let rows = sqlx::query(sql)
            .bind(room)
            .bind(q.bound)
            .bind(q.fetch())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(q.page(rows.iter().map(message_of).collect()))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn users(&self) -> StoreResult<Vec<(User, bool)>> {
        self.admin_users().await
    }

    async fn set_password(&self, user_id: &str, password_hash: &str) -> StoreResult<()> {
        self.admin_set_password(user_id, password_hash).await
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> StoreResult<()> {
        self.admin_set_disabled(user_id, disabled).await
    }

    async fn all_rooms(&self) -> StoreResult<Vec<RoomRecord>> {
        self.admin_rooms().await
    }

    async fn delete_room(&self, name: &str) -> StoreResult<()> {
        self.admin_delete_room(name).await
    }
}
