//! A user's row in a room's members, added or removed with the webhook it
//! owes, inside the caller's transaction: one text for invitations, first
//! joins, the owner's removal and leaving for good (`sql.rs`, `reads.rs`).

use sqlx::{Database, Encode, Executor, IntoArguments, Type};

use super::StoreResult;
use super::connections::Connections;
use super::outbox::{self, Event, HookEvent};
use crate::domain::now_ms;

/// Puts `user_id` in `room`'s members (read up to its newest message, with
/// that post's number: migrations/*/0013) inside the caller's transaction,
/// with the webhook `kind` when the row is new; `true` then. One text for
/// invitations and first joins.
pub(super) async fn add_member<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    room: &str,
    user_id: &str,
    kind: HookEvent,
) -> StoreResult<bool>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> i64: Encode<'r, C::Db> + Type<C::Db>,
{
    let done = sqlx::query(
        "INSERT INTO members (room, user_id, read_id, read_n) \
         VALUES ($1, $2, COALESCE((SELECT MAX(id) FROM messages WHERE room = $1), 0), \
                 (SELECT n FROM messages WHERE room = $1 ORDER BY id DESC LIMIT 1)) \
         ON CONFLICT DO NOTHING",
    )
    .bind(room)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    owe_hook::<C>(conn, C::affected(&done) > 0, kind, room, user_id).await
}

/// Takes `user_id` out of `room`'s members inside the caller's
/// transaction, with the webhook `kind` when there was a row; `true` then.
/// One text for the owner's removal and leaving for good.
pub(super) async fn remove_member<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    room: &str,
    user_id: &str,
    kind: HookEvent,
) -> StoreResult<bool>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> i64: Encode<'r, C::Db> + Type<C::Db>,
{
    let done = sqlx::query("DELETE FROM members WHERE room = $1 AND user_id = $2")
        .bind(room)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    owe_hook::<C>(conn, C::affected(&done) > 0, kind, room, user_id).await
}

/// When the row `changed`, the webhook `kind` in the same transaction;
/// returns `changed`.
async fn owe_hook<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    changed: bool,
    kind: HookEvent,
    room: &str,
    user_id: &str,
) -> StoreResult<bool>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> i64: Encode<'r, C::Db> + Type<C::Db>,
{
    if changed {
        let event = Event::member(kind, room, user_id)?;
        outbox::record::<C>(&mut *conn, &[event], now_ms()).await?;
    }
    Ok(changed)
}
