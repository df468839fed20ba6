//! The statements both backends share, written once: [`Store`] for any [`Connections`].
//!
//! sqlx binds `$n` placeholders on SQLite as well as on PostgreSQL, so one
//! text serves both; what differs (set-up, appending, the collation of
//! sorted lists) stays in `sqlite.rs` and `postgres.rs`.

use std::ops::DerefMut;

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};

use super::{Credentials, HistoryPage, KeyRecord, Page, Store, StoreError, StoreResult};
use crate::domain::{Message, RoomName, RoomRecord, User, Visibility, now_ms};

/// Where a backend runs the shared statements, and the text of its sorted
/// lists. [`Store`] (here) and [`Admin`](super::Admin) (`admin.rs`) are
/// implemented once for every backend that says this.
pub(super) trait Connections: Send + Sync + 'static {
    type Db: Database;
    /// A connection for the one-row reads of every connect and join:
    /// SQLite's `Readers` (see `sqlite_readers.rs`), PostgreSQL's pool.
    type Reader<'a>: DerefMut<Target = <Self::Db as Database>::Connection> + Send
    where
        Self: 'a;

    /// Rooms `$1` may see ([`Store::rooms_for`]), by name.
    const ROOMS_FOR: &'static str;
    /// Every account (`Admin::users`), by id.
    const USERS: &'static str;
    /// Every room (`Admin::all_rooms`), by name.
    const ALL_ROOMS: &'static str;

    /// For writes, lists and transactions.
    fn pool(&self) -> &Pool<Self::Db>;
    fn reader(&self) -> impl Future<Output = StoreResult<Self::Reader<'_>>> + Send;
    /// How many rows a statement changed.
    fn affected(done: &<Self::Db as Database>::QueryResult) -> u64;
}

/// The [`Connections`] constants of the sorted lists, each ordered by a text
/// column followed by `$by_bytes`: what makes that order byte order, as
/// SQLite's default collation is and a PostgreSQL database's may not be.
macro_rules! sorted_lists {
    ($by_bytes:literal) => {
        const ROOMS_FOR: &'static str = concat!(
            "SELECT name, visibility, owner FROM rooms \
             WHERE visibility = 'public' OR owner = $1 \
                OR name IN (SELECT room FROM members WHERE user_id = $1) \
             ORDER BY name",
            $by_bytes
        );
        const USERS: &'static str = concat!(
            "SELECT id, name, disabled, admin FROM users ORDER BY id",
            $by_bytes
        );
        const ALL_ROOMS: &'static str = concat!(
            "SELECT name, visibility, owner FROM rooms ORDER BY name",
            $by_bytes
        );
    };
}
pub(super) use sorted_lists;

/// The one translation of database errors, for both backends.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
            sqlx::Error::RowNotFound => StoreError::NotFound,
            _ => StoreError::Unavailable(e.to_string()),
        }
    }
}

#[derive(FromRow)]
pub(super) struct RoomRow {
    name: String,
    visibility: String,
    owner: String,
}

impl From<RoomRow> for RoomRecord {
    fn from(r: RoomRow) -> Self {
        RoomRecord {
            name: r.name,
            // The CHECK constraint allows only the two values.
            visibility: Visibility::parse(&r.visibility).unwrap_or(Visibility::Private),
            owner: r.owner,
        }
    }
}

#[derive(FromRow)]
struct UserRow {
    id: String,
    name: String,
}

#[derive(FromRow)]
struct AccountRow {
    id: String,
    name: String,
    password_hash: String,
    disabled: i64,
    admin: i64,
}

#[derive(FromRow)]
struct MessageRow {
    id: i64,
    room: String,
    user_id: String,
    user_name: String,
    body: String,
    ts: i64,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        Message {
            id: r.id,
            room: r.room,
            user: User::new(r.user_id, r.user_name),
            message: r.body,
            ts: r.ts,
        }
    }
}

#[async_trait]
impl<C> Store for C
where
    // What the statements bind and decode; the same list as in `admin.rs`.
    C: Connections,
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> i32: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
{
    async fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT(key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool())
        .await?;
        let stored = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(self.pool())
            .await?;
        Ok(stored)
    }

    async fn create_user(&self, user: &User, password_hash: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, name, password_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user.id.as_str())
        .bind(user.name.as_str())
        .bind(password_hash)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn credentials(&self, user_id: &str) -> StoreResult<Option<Credentials>> {
        let row: Option<AccountRow> = sqlx::query_as(
            "SELECT id, name, password_hash, disabled, admin FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(&mut *self.reader().await?)
        .await?;
        Ok(row.map(|r| Credentials {
            user: User::new(r.id, r.name),
            password_hash: r.password_hash,
            disabled: r.disabled != 0,
            admin: r.admin != 0,
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
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT u.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *self.reader().await?)
        .await?;
        Ok(row.map(|r| User::new(r.id, r.name)))
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn room(&self, name: &RoomName) -> StoreResult<Option<RoomRecord>> {
        let row: Option<RoomRow> =
            sqlx::query_as("SELECT name, visibility, owner FROM rooms WHERE name = $1")
                .bind(name.as_str())
                .fetch_optional(&mut *self.reader().await?)
                .await?;
        Ok(row.map(RoomRecord::from))
    }

    async fn create_room(&self, room: &RoomRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO rooms (name, visibility, owner, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(room.name.as_str())
        .bind(room.visibility.as_str())
        .bind(room.owner.as_str())
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn is_member(&self, room: &RoomName, user_id: &str) -> StoreResult<bool> {
        // `1` is an INT4 on PostgreSQL, hence `i32` on both.
        let found: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM members WHERE room = $1 AND user_id = $2")
                .bind(room.as_str())
                .bind(user_id)
                .fetch_optional(&mut *self.reader().await?)
                .await?;
        Ok(found.is_some())
    }

    async fn add_member(&self, room: &RoomName, user_id: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO members (room, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(room.as_str())
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn remove_member(&self, room: &RoomName, user_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM members WHERE room = $1 AND user_id = $2")
            .bind(room.as_str())
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(C::affected(&done) > 0)
    }

    async fn rooms_for(&self, user_id: &str) -> StoreResult<Vec<RoomRecord>> {
        let rows: Vec<RoomRow> = sqlx::query_as(C::ROOMS_FOR)
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(RoomRecord::from).collect())
    }

    async fn history(&self, room: &RoomName, page: Page) -> StoreResult<HistoryPage> {
        // The rows on one side of `bound`, newest first unless `ascending`,
        // and one past the page, which tells whether there is more.
        let (bound, ascending, limit) = match page {
            Page::Latest { limit } => (i64::MAX, false, limit),
            Page::Before { id, limit } => (id, false, limit),
            Page::After { id, limit } => (id, true, limit),
        };
        // `LIMIT +$3`, not `LIMIT $3`: SQLite plans a bare bound LIMIT as a
        // constant and so expires the statement at every bind, re-preparing
        // (parsing and planning) it on each read; `+$3` is an expression it
        // leaves to run time, and the cached statement is reused.
        // PostgreSQL plans both alike.
        let sql = if ascending {
            "SELECT * FROM messages WHERE room = $1 AND id > $2 ORDER BY id ASC LIMIT +$3"
        } else {
            "SELECT * FROM messages WHERE room = $1 AND id < $2 ORDER BY id DESC LIMIT +$3"
        };
        let rows: Vec<MessageRow> = sqlx::query_as(sql)
            .bind(room.as_str())
            .bind(bound)
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        let more = rows.len() > limit as usize;
        let mut messages: Vec<Message> = rows
            .into_iter()
            .take(limit as usize)
            .map(Message::from)
            .collect();
        if !ascending {
            messages.reverse();
        }
        Ok(HistoryPage { messages, more })
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }

    async fn app_user_seen(&self, user: &User) -> StoreResult<bool> {
        let disabled: Option<i64> =
            sqlx::query_scalar("SELECT disabled FROM app_users WHERE id = $1")
                .bind(user.id.as_str())
                .fetch_optional(&mut *self.reader().await?)
                .await?;
        if let Some(d) = disabled {
            return Ok(d != 0);
        }
        // First connect: the one write, racing others harmlessly.
        sqlx::query(
            "INSERT INTO app_users (id, name, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(user.id.as_str())
        .bind(user.name.as_str())
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(false)
    }

    async fn api_key(&self, key_hash: &str) -> StoreResult<Option<KeyRecord>> {
        let row: Option<KeyRow> = sqlx::query_as(KEY_SELECT_BY_HASH)
            .bind(key_hash)
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        Ok(row.map(KeyRecord::from))
    }

    async fn key_names(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT name FROM api_keys")
            .fetch_all(self.pool())
            .await?)
    }

    async fn keys_used(&self, used: &[(String, i64)]) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        for (name, at) in used {
            sqlx::query("UPDATE api_keys SET last_used = $1 WHERE name = $2")
                .bind(*at)
                .bind(name.as_str())
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx.commit().await?)
    }
}

const KEY_SELECT_BY_HASH: &str = "SELECT name, user_id, rooms, server, last_used \
     FROM api_keys WHERE key_hash = $1";

/// An `api_keys` row.
#[derive(FromRow)]
pub(super) struct KeyRow {
    name: String,
    user_id: String,
    rooms: String,
    server: i64,
    last_used: Option<i64>,
}

impl From<KeyRow> for KeyRecord {
    fn from(r: KeyRow) -> Self {
        KeyRecord {
            name: r.name,
            user_id: r.user_id,
            rooms: r
                .rooms
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            server: r.server != 0,
            last_used: r.last_used,
        }
    }
}
