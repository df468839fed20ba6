//! People: who exists for a direct message, the user directory, and the
//! rooms of direct conversations (docs/protocol.md §4 "Direct messages"),
//! written once: [`People`] for any [`Connections`].

use async_trait::async_trait;
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, QueryBuilder, Type,
};

use super::StoreResult;
use super::connections::Connections;
use super::outbox::{self, Event};
use crate::domain::{DM_PREFIX, RoomName, RoomRecord, User, Visibility, now_ms};

/// The owner of every direct conversation: no user, so nobody manages one.
pub const DM_OWNER: &str = "@dm";

#[async_trait]
pub trait People: Send + Sync {
    /// Those of `ids` that are a built-in account or an app user the
    /// server has seen, and not disabled.
    async fn known_users(&self, ids: &[String]) -> StoreResult<Vec<User>>;
    /// At most `limit` users (accounts and app users, not disabled) whose
    /// display name, username or id starts with `prefix` (any case), by name.
    async fn directory(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>>;
    /// Makes the room of a direct conversation between `users` unless it
    /// exists, and puts it in each one's list; `true` when it was made.
    async fn open_dm(&self, room: &RoomName, users: &[String]) -> StoreResult<bool>;
    /// The people of each direct conversation in `user_id`'s list: (room, person).
    async fn dm_people(&self, user_id: &str) -> StoreResult<Vec<(String, User)>>;
}

#[derive(FromRow)]
struct PersonRow {
    id: String,
    name: String,
}

#[derive(FromRow)]
struct DmPersonRow {
    room: String,
    id: String,
    name: String,
}

/// `s` as a LIKE pattern of itself (`\` escapes), lower-cased.
fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[async_trait]
impl<C> People for C
where
    C: Connections,
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
{
    async fn known_users(&self, ids: &[String]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q =
            QueryBuilder::<C::Db>::new("SELECT id, name FROM users WHERE disabled = 0 AND id IN (");
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(id.as_str());
        }
        q.push(") UNION SELECT id, name FROM app_users WHERE disabled = 0 AND id IN (");
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(id.as_str());
        }
        q.push(")");
        let rows: Vec<PersonRow> = q.build_query_as().fetch_all(self.pool()).await?;
        Ok(rows.into_iter().map(|r| User::new(r.id, r.name)).collect())
    }

    async fn directory(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
        let pattern = format!("{}%", literal(prefix));
        let account = format!("acct:{pattern}");
        let rows: Vec<PersonRow> = sqlx::query_as(
            "SELECT id, name FROM ( \
               SELECT id, name FROM users WHERE disabled = 0 \
                 AND (LOWER(name) LIKE $1 ESCAPE '\\' OR LOWER(id) LIKE $2 ESCAPE '\\') \
               UNION \
               SELECT id, name FROM app_users WHERE disabled = 0 \
                 AND (LOWER(name) LIKE $1 ESCAPE '\\' OR LOWER(id) LIKE $1 ESCAPE '\\') \
             ) AS found ORDER BY LOWER(name), id LIMIT $3",
        )
        .bind(pattern.as_str())
        .bind(account.as_str())
        .bind(i64::from(limit))
        .fetch_all(&mut *self.reader().await?)
        .await?;
        Ok(rows.into_iter().map(|r| User::new(r.id, r.name)).collect())
    }

    async fn open_dm(&self, room: &RoomName, users: &[String]) -> StoreResult<bool> {
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        let made = sqlx::query(
            "INSERT INTO rooms (name, visibility, owner, created_at) VALUES ($1, 'private', $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(room.as_str())
        .bind(DM_OWNER)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let made = C::affected(&made) > 0;
        for user in users {
            sqlx::query(
                "INSERT INTO members (room, user_id, read_id) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
            )
            .bind(room.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?;
        }
        if made {
            let record = RoomRecord {
                name: room.to_string(),
                visibility: Visibility::Private,
                owner: DM_OWNER.to_owned(),
                topic: None,
            };
            outbox::record::<C>(&mut *tx, &[Event::room_created(&record)?], now).await?;
        }
        tx.commit().await?;
        Ok(made)
    }

    async fn dm_people(&self, user_id: &str) -> StoreResult<Vec<(String, User)>> {
        let like = format!("{DM_PREFIX}%");
        let rows: Vec<DmPersonRow> = sqlx::query_as(
            "SELECT b.room, b.user_id AS id, COALESCE(u.name, a.name, b.user_id) AS name \
             FROM members m JOIN members b ON b.room = m.room \
             LEFT JOIN users u ON u.id = b.user_id LEFT JOIN app_users a ON a.id = b.user_id \
             WHERE m.user_id = $1 AND m.room LIKE $2 ORDER BY b.room, b.user_id",
        )
        .bind(user_id)
        .bind(like.as_str())
        .fetch_all(&mut *self.reader().await?)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.room, User::new(r.id, r.name)))
            .collect())
    }
}
