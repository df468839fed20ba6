//! Full-text search over the messages of the rooms a caller may read: one
//! statement for both backends but for the match itself (FTS5's MATCH on
//! SQLite, the `search` tsvector on PostgreSQL; see `Connections`).
//!
//! The index is the database's (migrations 0011): triggers on SQLite and a
//! generated column on PostgreSQL keep it in step with every write, in the
//! writer's transaction, so nothing here writes.

use async_trait::async_trait;
use sqlx::database::HasStatementCache;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};

use super::StoreResult;
use super::changes::{MessageRow, select_message};
use super::connections::Connections;
use crate::domain::{Message, RoomName, SearchQuery};

/// Whose search it is and where it may look: the same rooms `history`
/// opens (`rooms::check_access`), as one SQL condition.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    pub user_id: &'a str,
    /// Private rooms the caller's token names (its `rooms` claim).
    pub claimed: Vec<&'a str>,
    /// A key limited to rooms looks only there; `None`: no such limit.
    pub only: Option<Vec<&'a str>>,
    /// Only this room (the `room` field or `in:`), already checked.
    pub room: Option<&'a RoomName>,
}

/// A page of matches, newest first; `more`: older matches exist.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub messages: Vec<Message>,
    pub more: bool,
}

/// Searching messages.
#[async_trait]
pub trait Search: Send + Sync {
    /// At most `limit` messages matching `query` with an id below
    /// `before`, newest first, in the rooms `scope` allows; deleted ones
    /// never.
    async fn search(
        &self,
        query: &SearchQuery,
        scope: &Scope<'_>,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Found>;
}

#[async_trait]
impl<C> Search for C
where
    C: Connections,
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    C::Db: HasStatementCache,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<String>: Decode<'r, C::Db> + Type<C::Db>,
{
    async fn search(
        &self,
        query: &SearchQuery,
        scope: &Scope<'_>,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Found> {
        let mut sql = QueryBuilder::<C::Db>::new(select_message!("WHERE m.id IN ("));
        let text = C::search_text(query);
        sql.push(C::SEARCH_HITS)
            .push_bind(text.as_str())
            .push(C::SEARCH_HITS_END);
        sql.push(" AND ")
            .push(C::SEARCH_KEY)
            .push(" < ")
            .push_bind(before.unwrap_or(i64::MAX));
        sql.push(" AND s.deleted_ts IS NULL");
        if let Some(room) = scope.room {
            sql.push(" AND s.room = ").push_bind(room.as_str());
        }
        let authors = query.authors();
        if !authors.is_empty() {
            sql.push(" AND s.user_id");
            list(&mut sql, authors.iter().map(String::as_str));
        }
        readable(&mut sql, scope);
        // One past the page tells whether there is more. `LIMIT +$n`: see
        // `Store::history`.
        sql.push(" ORDER BY ")
            .push(C::SEARCH_KEY)
            .push(" DESC LIMIT +")
            .push_bind(i64::from(limit) + 1)
            .push(") ORDER BY m.id DESC");
        // Not prepared once for all: PostgreSQL then plans each search
        // with its words, so a common word walks the id index backwards and
        // stops at the page, while a rare one reads the GIN index.
        let rows: Vec<MessageRow> = sql
            .build_query_as()
            .persistent(false)
            .fetch_all(self.pool())
            .await?;
        let more = rows.len() > limit as usize;
        let messages = rows
            .into_iter()
            .take(limit as usize)
            .map(Message::from)
            .collect();
        Ok(Found { messages, more })
    }
}

/// `s.room` among the rooms `history` would open for the scope: public
/// ones, the caller's own, those they are listed in (an invitation, in a
/// private room) or their token names, never one they are banned from,
/// and only those a key limited to rooms names.
fn readable<DB: Database>(sql: &mut QueryBuilder<DB>, scope: &Scope<'_>)
where
    for<'q, 't> &'t str: Encode<'q, DB> + Type<DB>,
{
    let user = scope.user_id;
    sql.push(
        " AND s.room IN (SELECT r.name FROM rooms r WHERE (r.visibility = 'public' OR r.owner = ",
    )
    .push_bind(user)
    .push(" OR EXISTS (SELECT 1 FROM members b WHERE b.room = r.name AND b.user_id = ")
    .push_bind(user)
    .push(")");
    if !scope.claimed.is_empty() {
        sql.push(" OR r.name");
        list(sql, scope.claimed.iter().copied());
    }
    sql.push(") AND NOT EXISTS (SELECT 1 FROM bans x WHERE x.room = r.name AND x.user_id = ")
        .push_bind(user)
        .push(")");
    if let Some(only) = &scope.only {
        sql.push(" AND r.name");
        list(sql, only.iter().copied());
    }
    sql.push(")");
}

/// ` IN ($a, $b, ..)` of `values`; `IN (NULL)`, which holds for nothing,
/// when there are none.
fn list<DB: Database, T>(sql: &mut QueryBuilder<DB>, values: impl IntoIterator<Item = T>)
where
    for<'q> T: Encode<'q, DB> + Type<DB>,
{
    sql.push(" IN (");
    let mut any = false;
    for v in values {
        if any {
            sql.push(", ");
        }
        sql.push_bind(v);
        any = true;
    }
    if !any {
        sql.push("NULL");
    }
    sql.push(")");
}
