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

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult};
use sqlx::{Connection, Postgres};

use super::connections::{self, Connections};
use super::mentions;
use super::reads::Ordinals;
use super::{
    Append, Batch, Change, Item, Order, Outcome, StoreError, StoreResult, assemble, changes, files,
    outbox, restraints, with_refusals,
};
use crate::domain::{Message, SearchQuery, now_ms};

pub(super) struct PgStore {
    pool: PgPool,
    /// The schema's name, mixed into lock keys: advisory locks are
    /// database-wide, and two deployments (or test runs) in different
    /// schemas must not wait on each other.
    schema: String,
    /// Whether batches owe webhooks (any endpoint at all).
    hooks: outbox::Gate,
}

impl PgStore {
    /// Connects and migrates; without `create`, a database (or schema) that
    /// roomcast never migrated is refused rather than filled with tables.
    pub(super) async fn open(url: &str, create: bool) -> anyhow::Result<Self> {
        // No JIT: the list of a user's rooms is one statement of many cheap
        // index probes whose summed estimate passes `jit_above_cost`, and
        // compiling it took 300 of its 340 ms (benches/rooms_list, 1,000
        // rooms); nothing roomcast runs is long enough to repay a JIT.
        let options = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            // Batches waiting for delivery keep their connection (the lock).
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
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
        Ok(Self {
            pool,
            schema,
            hooks: outbox::Gate::default(),
        })
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
    batch: &[Change],
) -> StoreResult<RoomLocks> {
    // Sorted, so two nodes locking overlapping rooms cannot deadlock.
    let mut keys: Vec<i64> = batch
        .iter()
        .map(|c| lock_key(schema, c.room().as_str()))
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

/// Screens the batch ([`restraints`]), draws a stream position per item
/// that goes on from the sequence, inserts the posts with one UNNEST, then
/// applies each change in submit order, and writes the webhooks they owe;
/// one transaction, under the rooms' locks (so a room's outbox rows are
/// numbered in commit order).
async fn apply_batch(
    locks: &mut RoomLocks,
    batch: Vec<Change>,
    hooks: &outbox::Gate,
) -> StoreResult<Vec<Item>> {
    let conn = locks
        .0
        .as_mut()
        .ok_or_else(|| StoreError::Unavailable("lost the room locks".into()))?;
    let mut tx = conn.begin().await?;
    let ts = now_ms();
    // Under the rooms' locks: no other node's batch of these rooms runs
    // between this screen and the commit.
    let screened = restraints::screen::<PgStore>(&mut tx, &batch, ts).await?;
    let (batch, refused) = restraints::split(batch, screened.refusals);
    let files::Screened {
        kept: batch,
        refused: unfiled,
        files: mut attached,
    } = files::screen::<PgStore>(&mut tx, batch).await?;
    let mut ids: Vec<i64> =
        sqlx::query_scalar("SELECT nextval('message_ids') FROM generate_series(1, $1)")
            .bind(batch.len() as i64)
            .fetch_all(&mut *tx)
            .await?;
    ids.sort_unstable();
    let mut items = Vec::with_capacity(batch.len());
    let mut changes = Vec::new();
    for (k, (seq, change)) in ids.into_iter().zip(batch).enumerate() {
        match change {
            Change::Post(m) => {
                let mut stored = m.stored(seq, ts);
                stored.files = std::mem::take(&mut attached[k]);
                items.push(Item::Posted(stored));
            }
            change => {
                changes.push((k, seq, change));
                items.push(Item::Waiting);
            }
        }
    }
    let stored: Vec<&Message> = items
        .iter()
        .filter_map(|i| match i {
            Item::Posted(m) => Some(m),
            _ => None,
        })
        .collect();
    if !stored.is_empty() {
        // Under the rooms' locks: nobody else numbers these rooms' posts now.
        let rooms: Vec<&str> = stored.iter().map(|m| m.room.as_str()).collect();
        let drawn = Ordinals::default()
            .draw::<PgStore>(&mut *tx, &rooms)
            .await?;
        sqlx::query(
            "INSERT INTO messages (id, seq, room, user_id, user_name, body, ts, reply_to, n) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], \
                                  $6::text[], $7::bigint[], $8::bigint[], $9::bigint[])",
        )
        .bind(stored.iter().map(|m| m.id).collect::<Vec<_>>())
        .bind(stored.iter().map(|m| m.seq).collect::<Vec<_>>())
        .bind(stored.iter().map(|m| m.room.as_str()).collect::<Vec<_>>())
        .bind(
            stored
                .iter()
                .map(|m| m.user.id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            stored
                .iter()
                .map(|m| m.user.name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            stored
                .iter()
                .map(|m| m.message.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(stored.iter().map(|m| m.ts).collect::<Vec<_>>())
        .bind(
            stored
                .iter()
                .map(|m| m.reply_to.as_ref().map(|r| r.id))
                .collect::<Vec<_>>(),
        )
        .bind(drawn.ns)
        .execute(&mut *tx)
        .await?;
    }
    drop(stored);
    mentions::of_posts::<PgStore>(&mut *tx, &mut items).await?;
    files::attach::<PgStore>(&mut *tx, &items).await?;
    restraints::record_slowed::<PgStore>(&mut tx, &screened.slowed, ts).await?;
    for (k, seq, change) in changes {
        items[k] = Item::Step(changes::apply::<PgStore>(&mut *tx, change, seq, ts).await?);
    }
    if hooks.open::<PgStore>(&mut *tx).await? {
        outbox::record::<PgStore>(&mut *tx, &outbox::events_of(&items)?, ts).await?;
    }
    tx.commit().await?;
    Ok(with_refusals(with_refusals(items, unfiled), refused))
}

impl Connections for PgStore {
    type Db = Postgres;
    type Reader<'a> = PoolConnection<Postgres>;

    connections::sorted_lists!(r#" COLLATE "C""#);

    const SEARCH_HITS: &'static str =
        "SELECT s.id FROM messages s WHERE s.search @@ to_tsquery('simple', ";
    const SEARCH_HITS_END: &'static str = ")";
    const SEARCH_KEY: &'static str = "s.id";
    const LOCK_ROWS: &'static str = " FOR UPDATE";
    // The schema in the key: advisory locks are database-wide (see `schema`).
    const LOCK_UPLOADER: &'static str = "SELECT pg_advisory_xact_lock(hashtextextended(\
        current_schema() || '/uploader/' || $1, 0))";

    fn search_text(query: &SearchQuery) -> String {
        query.tsquery()
    }

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn reader(&self) -> StoreResult<Self::Reader<'_>> {
        Ok(self.pool.acquire().await?)
    }

    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        None
    }

    fn affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }
}

#[async_trait]
impl Append for PgStore {
    async fn apply(&self, batch: Vec<Change>) -> StoreResult<(Vec<Outcome>, Batch)> {
        let conn = self.pool.acquire().await?;
        let mut locks = lock_rooms(conn, &self.schema, &batch).await?;
        let items = apply_batch(&mut locks, batch, &self.hooks).await?;
        let (outcomes, applied) = assemble(items);
        Ok((outcomes, Batch::new(applied, Order::Locked(locks))))
    }
}
