//! The statements both backends share, written once: [`Store`] for any [`Connections`].
//!
//! sqlx binds `$n` placeholders on SQLite as well as on PostgreSQL, so one
//! text serves both; what differs (set-up, appending, the collation of
//! sorted lists) stays in `sqlite.rs` and `postgres.rs`.

use async_trait::async_trait;
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, QueryBuilder, Type,
};

use super::changes::{self, MessageRow, select_message};
use super::connections::Connections;
use super::membership;
use super::outbox::{self, Event, HookEvent};
use super::{Credentials, HistoryPage, KeyRecord, Page, Store, StoreError, StoreResult};
use crate::domain::{Message, RoomName, RoomRecord, User, Visibility, now_ms};

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
    topic: Option<String>,
}

impl From<RoomRow> for RoomRecord {
    fn from(r: RoomRow) -> Self {
        RoomRecord {
            name: r.name,
            // The CHECK constraint allows only the two values.
            visibility: Visibility::parse(&r.visibility).unwrap_or(Visibility::Private),
            owner: r.owner,
            topic: r.topic,
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

/// Three parameters a row: far under both stores' limits.
const APP_USERS_PER_INSERT: usize = 512;

/// A page of a room's messages below an id, newest first.
const BEFORE: &str =
    select_message!("WHERE m.room = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT +$3");
/// A room's messages created or changed after a stream position, in stream order.
const SINCE: &str =
    select_message!("WHERE m.room = $1 AND m.seq > $2 ORDER BY m.seq ASC LIMIT +$3");

#[async_trait]
impl<C> Store for C
where
    // What the statements bind and decode; the same list as in `admin.rs`.
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
    for<'r> Option<i64>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<String>: Decode<'r, C::Db> + Type<C::Db>,
    for<'q, 't> &'t [u8]: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> Vec<u8>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Encode<'r, C::Db>,
    for<'r> Option<&'r str>: Encode<'r, C::Db>,
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
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO users (id, name, password_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user.id.as_str())
        .bind(user.name.as_str())
        .bind(password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        outbox::record::<C>(&mut *tx, &[Event::registered(user)?], now).await?;
        Ok(tx.commit().await?)
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
            sqlx::query_as("SELECT name, visibility, owner, topic FROM rooms WHERE name = $1")
                .bind(name.as_str())
                .fetch_optional(&mut *self.reader().await?)
                .await?;
        Ok(row.map(RoomRecord::from))
    }

    async fn create_room(&self, room: &RoomRecord) -> StoreResult<()> {
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO rooms (name, visibility, owner, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(room.name.as_str())
        .bind(room.visibility.as_str())
        .bind(room.owner.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // The owner has the room in their list from the start.
        sqlx::query("INSERT INTO members (room, user_id) VALUES ($1, $2)")
            .bind(room.name.as_str())
            .bind(room.owner.as_str())
            .execute(&mut *tx)
            .await?;
        outbox::record::<C>(&mut *tx, &[Event::room_created(room)?], now).await?;
        Ok(tx.commit().await?)
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
        let mut tx = self.pool().begin().await?;
        membership::add_member::<C>(&mut tx, room.as_str(), user_id, HookEvent::MemberInvited)
            .await?;
        Ok(tx.commit().await?)
    }

    async fn remove_member(&self, room: &RoomName, user_id: &str) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        let removed = membership::remove_member::<C>(
            &mut tx,
            room.as_str(),
            user_id,
            HookEvent::MemberRemoved,
        )
        .await?;
        tx.commit().await?;
        Ok(removed)
    }

    async fn rooms_for(&self, user_id: &str) -> StoreResult<Vec<RoomRecord>> {
        let rows: Vec<RoomRow> = sqlx::query_as(C::ROOMS_FOR)
            .bind(user_id)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        Ok(rows.into_iter().map(RoomRecord::from).collect())
    }

    async fn delete_room(&self, name: &str) -> StoreResult<Vec<String>> {
        let mut tx = self.pool().begin().await?;
        // Members first, to say whose list held the room: read by the
        // statement that deletes them, so no list changes in between.
        let listed: Vec<String> =
            sqlx::query_scalar("DELETE FROM members WHERE room = $1 RETURNING user_id")
                .bind(name)
                .fetch_all(&mut *tx)
                .await?;
        let done = sqlx::query("DELETE FROM rooms WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if C::affected(&done) == 0 {
            return Err(StoreError::NotFound);
        }
        // Moderators, mutes and bans go by cascade; messages (their
        // mentions by cascade from them), slow mode's times and files
        // (their chunks at the next sweep) name the room without a
        // foreign key.
        for sql in [
            "DELETE FROM messages WHERE room = $1",
            "DELETE FROM slow_posts WHERE room = $1",
            "DELETE FROM files WHERE room = $1",
        ] {
            sqlx::query(sql).bind(name).execute(&mut *tx).await?;
        }
        outbox::record::<C>(&mut *tx, &[Event::room_deleted(name)?], now_ms()).await?;
        tx.commit().await?;
        Ok(listed)
    }

    async fn history(&self, room: &RoomName, page: Page) -> StoreResult<HistoryPage> {
        // The rows on one side of `bound`, newest first unless `ascending`,
        // and one past the page, which tells whether there is more. Pages
        // go by id; a replay (`Since`) goes by stream position.
        // `LIMIT +$3`, not `LIMIT $3`: SQLite plans a bare bound LIMIT as a
        // constant and so expires the statement at every bind, re-preparing
        // (parsing and planning) it on each read; `+$3` is an expression it
        // leaves to run time, and the cached statement is reused.
        // PostgreSQL plans both alike.
        let (sql, bound, ascending, limit) = match page {
            Page::Latest { limit } => (BEFORE, i64::MAX, false, limit),
            Page::Before { id, limit } => (BEFORE, id, false, limit),
            Page::Since { seq, limit } => (SINCE, seq, true, limit),
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

    async fn message(&self, room: &RoomName, id: i64) -> StoreResult<Option<Message>> {
        let found = changes::read::<C>(&mut *self.reader().await?, id).await?;
        Ok(found.filter(|m| m.room == room.as_str()))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }

    async fn app_user_disabled(&self, user_id: &str) -> StoreResult<Option<bool>> {
        let disabled: Option<i64> =
            sqlx::query_scalar("SELECT disabled FROM app_users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&mut *self.reader().await?)
                .await?;
        Ok(disabled.map(|d| d != 0))
    }

    async fn record_app_users(&self, users: &[User]) -> StoreResult<()> {
        let now = now_ms();
        // One multi-row statement (its own transaction) per chunk: a
        // connect storm of new users is a few statements, not one each.
        // Racing another node's first connect of the same user is harmless.
        for chunk in users.chunks(APP_USERS_PER_INSERT) {
            let mut insert =
                QueryBuilder::<C::Db>::new("INSERT INTO app_users (id, name, created_at) ");
            insert.push_values(chunk, |mut row, user| {
                row.push_bind(user.id.as_str())
                    .push_bind(user.name.as_str())
                    .push_bind(now);
            });
            insert.push(" ON CONFLICT (id) DO NOTHING");
            insert.build().execute(self.pool()).await?;
        }
        Ok(())
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
