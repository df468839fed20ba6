//! PostgreSQL backend, for several nodes sharing one database.
//!
//! Ids come from a sequence. Several nodes may append to the same room at
//! once, so commit order alone would not keep delivery in id order (node A
//! draws id 10, node B draws 11 and broadcasts first). Each append therefore
//! takes a session-level advisory lock per room of its batch, draws ids,
//! commits, and keeps the lock until the batch has been delivered (the
//! [`Order`] of the [`Batch`] it returns): the next writer of that room, on
//! any node, draws larger ids and broadcasts after.
//!
//! Lists sort with `COLLATE "C"`, byte order like SQLite's default: the
//! database's own collation may be a language's (Debian's default cluster
//! takes the system locale), which would list "ann" before "Zed".

use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions, PgQueryResult};
use sqlx::{Connection, Postgres};

use super::sql::{self, Connections};
use super::{Append, Batch, NewMessage, Order, StoreError, StoreResult};
use crate::domain::{Message, now_ms};

pub(super) struct PgStore {
    pool: PgPool,
    /// The schema's name, mixed into lock keys: advisory locks are
    /// database-wide, and two deployments (or test runs) in different
    /// schemas must not wait on each other.
    schema: String,
}

impl PgStore {
    /// Connects and migrates; without `create`, a database (or schema) that
    /// roomcast never migrated is refused rather than filled with tables.
    pub(super) async fn open(url: &str, create: bool) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            // Batches waiting for delivery keep their connection (the lock).
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        if !create {
            let migrated: bool =
                sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                    .fetch_one(&pool)
                    .await?;
            anyhow::ensure!(
                migrated,
                "database {} has no roomcast tables; the admin commands never create them. \
                 Point them at the server's database with --database URL, \
                 ROOMCAST_DATABASE=URL or --config FILE (the server's TOML)",
                super::describe(url)
            );
        }
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
pub(super) struct RoomLocks(Option<PoolConnection<Postgres>>);

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
    let mut keys: Vec<i64> = batch
        .iter()
        .map(|m| lock_key(schema, m.room.as_str()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        if let Err(e) = sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(key)
            .execute(&mut *conn)
            .await
        {
            conn.close_on_drop();
            return Err(e.into());
        }
    }
    Ok(RoomLocks(Some(conn)))
}

async fn insert_batch(locks: &mut RoomLocks, batch: Vec<NewMessage>) -> StoreResult<Vec<Message>> {
    let conn = locks
        .0
        .as_mut()
        .ok_or_else(|| StoreError::Unavailable("lost the room locks".into()))?;
    let mut tx = conn.begin().await?;
    let mut ids: Vec<i64> =
        sqlx::query_scalar("SELECT nextval('message_ids') FROM generate_series(1, $1)")
            .bind(batch.len() as i64)
            .fetch_all(&mut *tx)
            .await?;
    ids.sort_unstable();
    let ts = now_ms();
    let stored: Vec<Message> = batch
        .into_iter()
        .zip(ids)
        .map(|(m, id)| m.stored(id, ts))
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
    .await?;
    tx.commit().await?;
    Ok(stored)
}

impl Connections for PgStore {
    type Db = Postgres;
    type Reader<'a> = PoolConnection<Postgres>;

    sql::sorted_lists!(r#" COLLATE "C""#);

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn reader(&self) -> StoreResult<Self::Reader<'_>> {
        Ok(self.pool.acquire().await?)
    }

    fn affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }
}

#[async_trait]
impl Append for PgStore {
    async fn append(&self, batch: Vec<NewMessage>) -> StoreResult<Batch> {
        let conn = self.pool.acquire().await?;
        let mut locks = lock_rooms(conn, &self.schema, &batch).await?;
        let messages = insert_batch(&mut locks, batch).await?;
        Ok(Batch::new(messages, Order::Locked(locks)))
    }
}
