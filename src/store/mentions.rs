//! Who a message mentions (docs/protocol.md §4 "Mentions"), found and
//! written by the writer in the transaction that stores or changes the
//! message: the `messages.mentions` column (JSON, for every read of the
//! message) and one `mentions` row per user (for the unread counts).

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};

use super::connections::Connections;
use super::{Item, StoreError, StoreResult};
use crate::domain::{candidate_ids, mentioned_names};

/// Whether `text` may mention anyone: the cheap test that keeps the
/// writer's one-statement append for the messages that do not.
pub(super) fn may_mention(text: &str) -> bool {
    text.contains('@') && !mentioned_names(text).is_empty()
}

/// The users `text`'s `@name`s name who may read `room` (public, or theirs,
/// or invited; not banned, not disabled), its author left out, in the
/// order the text names them. One read.
pub(super) async fn resolve<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    room: &str,
    author: &str,
    text: &str,
) -> StoreResult<Vec<String>>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
{
    let names = mentioned_names(text);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let candidates = candidate_ids(&names);
    let mut q = QueryBuilder::<C::Db>::new(
        "SELECT u.id FROM (SELECT id FROM users WHERE disabled = 0 AND id IN (",
    );
    let mut list = q.separated(", ");
    for c in &candidates {
        list.push_bind(c.as_str());
    }
    q.push(") UNION SELECT id FROM app_users WHERE disabled = 0 AND id IN (");
    let mut list = q.separated(", ");
    for c in &candidates {
        list.push_bind(c.as_str());
    }
    q.push(")) AS u JOIN rooms r ON r.name = ")
        .push_bind(room)
        .push(
            " WHERE (r.visibility = 'public' OR r.owner = u.id \
               OR EXISTS (SELECT 1 FROM members b WHERE b.room = r.name AND b.user_id = u.id)) \
             AND NOT EXISTS (SELECT 1 FROM bans x WHERE x.room = r.name AND x.user_id = u.id) \
             AND u.id <> ",
        )
        .push_bind(author);
    let mut found: Vec<String> = q.build_query_scalar().fetch_all(&mut *conn).await?;
    found.sort_by_key(|id| candidates.iter().position(|c| c == id));
    Ok(found)
}

/// Writes message `id`'s mentions (`replace`: instead of those it had).
pub(super) async fn store<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    id: i64,
    room: &str,
    users: &[String],
    replace: bool,
) -> StoreResult<()>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> i64: Encode<'r, C::Db> + Type<C::Db>,
{
    if replace {
        sqlx::query("DELETE FROM mentions WHERE message = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    } else if users.is_empty() {
        return Ok(());
    }
    // No mentions is NULL, as on a message that never had any.
    let json = if users.is_empty() {
        String::new()
    } else {
        serde_json::to_string(users).map_err(|e| StoreError::Unavailable(e.to_string()))?
    };
    sqlx::query("UPDATE messages SET mentions = NULLIF($1, '') WHERE id = $2")
        .bind(json.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if users.is_empty() {
        return Ok(());
    }
    let mut insert = QueryBuilder::<C::Db>::new("INSERT INTO mentions (user_id, room, message) ");
    insert.push_values(users, |mut row, user| {
        row.push_bind(user.as_str()).push_bind(room).push_bind(id);
    });
    insert.build().execute(&mut *conn).await?;
    Ok(())
}

/// Finds and writes the mentions of the batch's posts, already inserted.
pub(super) async fn of_posts<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    items: &mut [Item],
) -> StoreResult<()>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
{
    for item in items {
        let Item::Posted(m) = item else {
            continue;
        };
        if !may_mention(&m.message) {
            continue;
        }
        let users = resolve::<C>(conn, &m.room, &m.user.id, &m.message).await?;
        store::<C>(conn, m.id, &m.room, &users, false).await?;
        m.mentions = users;
    }
    Ok(())
}
