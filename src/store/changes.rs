//! Changes to stored messages (edit, delete, react, unreact) as the writer
//! applies them inside its transaction, one text for both backends, and the
//! one read of a message in its current state.
//!
//! Every change is conditional SQL (`WHERE id = .. AND room = .. AND
//! deleted_ts IS NULL ..`) and a refusal is found from rows affected and a
//! read, never from a failed statement: a failed statement would abort a
//! PostgreSQL transaction, and with it every other item of the batch.

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Type};

use super::connections::Connections;
use super::mentions;
use super::{Applied, Change, Happened, MAX_REACTIONS, StoreError, StoreResult};
use crate::domain::{Deletion, Message, ReactionSummary, ReplyRef, User, excerpt};

/// The columns of a message in its current state, its parent's joined for
/// the reply excerpt; followed by a `WHERE` on `m`.
macro_rules! select_message {
    ($rest:literal) => {
        concat!(
            "SELECT m.id, m.seq, m.room, m.user_id, m.user_name, m.body, m.ts, m.edited, \
             m.deleted_by, m.deleted_ts, m.reactions, m.mentions, m.files, m.reply_to, \
             p.user_id AS parent_user_id, p.user_name AS parent_user_name, \
             p.body AS parent_body, p.deleted_ts AS parent_deleted_ts \
             FROM messages m LEFT JOIN messages p ON p.id = m.reply_to ",
            $rest
        )
    };
}
pub(super) use select_message;

/// A message row with its parent's columns ([`select_message!`]).
#[derive(FromRow)]
pub(super) struct MessageRow {
    id: i64,
    seq: i64,
    room: String,
    user_id: String,
    user_name: String,
    body: String,
    ts: i64,
    edited: Option<i64>,
    deleted_by: Option<String>,
    deleted_ts: Option<i64>,
    reactions: Option<String>,
    mentions: Option<String>,
    files: Option<String>,
    reply_to: Option<i64>,
    parent_user_id: Option<String>,
    parent_user_name: Option<String>,
    parent_body: Option<String>,
    parent_deleted_ts: Option<i64>,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        let deleted = match (r.deleted_by, r.deleted_ts) {
            (Some(by), Some(ts)) => Some(Deletion { by, ts }),
            _ => None,
        };
        let reply_to = match (r.reply_to, r.parent_user_id, r.parent_user_name) {
            (Some(id), Some(uid), Some(name)) => {
                let gone = r.parent_deleted_ts.is_some();
                Some(ReplyRef {
                    id,
                    user: User::new(uid, name),
                    excerpt: if gone {
                        None
                    } else {
                        r.parent_body.as_deref().map(excerpt)
                    },
                    deleted: gone,
                })
            }
            _ => None,
        };
        // Written only by `refresh_reactions`; unreadable JSON shows none.
        let reactions = r
            .reactions
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        // Written only by `mentions::store`, as the reactions are.
        let mentions = r
            .mentions
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        // Written only by `files::attach`, as the reactions are.
        let files = r
            .files
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        Message {
            id: r.id,
            seq: r.seq,
            room: r.room,
            user: User::new(r.user_id, r.user_name),
            message: r.body,
            ts: r.ts,
            edited: r.edited,
            deleted,
            reply_to,
            reactions,
            mentions,
            files,
        }
    }
}

/// What one change did.
pub(super) enum Step {
    Changed(Applied),
    Unchanged(Message),
    Refused(StoreError),
}

#[derive(FromRow)]
struct Target {
    deleted_ts: Option<i64>,
}

/// Applies `change` at stream position `seq` (time `ts`) on `conn`, inside
/// the caller's transaction. `Post`s are the backends' own (bulk inserts).
pub(super) async fn apply<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    change: Change,
    seq: i64,
    ts: i64,
) -> StoreResult<Step>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<String>: Decode<'r, C::Db> + Type<C::Db>,
{
    let (happened, id) = match change {
        Change::Post(_) => return Err(StoreError::Unavailable("a post is not a change".into())),
        Change::Edit {
            room,
            id,
            user,
            message,
        } => {
            let done = sqlx::query(
                "UPDATE messages SET body = $1, edited = $2, seq = $3 \
                 WHERE id = $4 AND room = $5 AND user_id = $6 AND deleted_ts IS NULL",
            )
            .bind(message.as_str())
            .bind(ts)
            .bind(seq)
            .bind(id)
            .bind(room.as_str())
            .bind(user.id.as_str())
            .execute(&mut *conn)
            .await?;
            if C::affected(&done) == 0 {
                return refusal::<C>(conn, room.as_str(), id).await;
            }
            // The mentions of the new text only.
            let ids =
                mentions::resolve::<C>(conn, room.as_str(), &user.id, message.as_str()).await?;
            mentions::store::<C>(conn, id, room.as_str(), &ids, true).await?;
            (Happened::Edited, id)
        }
        Change::Delete { room, id, by, any } => {
            let done = sqlx::query(
                "UPDATE messages SET body = '', edited = NULL, reply_to = NULL, reactions = NULL, \
                 files = NULL, deleted_by = $1, deleted_ts = $2, seq = $3 \
                 WHERE id = $4 AND room = $5 AND deleted_ts IS NULL AND (user_id = $1 OR $6 = 1)",
            )
            .bind(by.id.as_str())
            .bind(ts)
            .bind(seq)
            .bind(id)
            .bind(room.as_str())
            .bind(i64::from(any))
            .execute(&mut *conn)
            .await?;
            if C::affected(&done) == 0 {
                return refusal::<C>(conn, room.as_str(), id).await;
            }
            // Its files go with it: their rows now (their URLs answer 404
            // from this commit on), their chunks at the next sweep.
            for sql in [
                "DELETE FROM reactions WHERE message = $1",
                "DELETE FROM files WHERE message = $1",
            ] {
                sqlx::query(sql).bind(id).execute(&mut *conn).await?;
            }
            mentions::store::<C>(conn, id, room.as_str(), &[], true).await?;
            (Happened::Deleted, id)
        }
        Change::React {
            room,
            id,
            user,
            emoji,
        } => {
            if let Some(step) = unless_live::<C>(conn, room.as_str(), id).await? {
                return Ok(step);
            }
            let others: i64 = sqlx::query_scalar(
                "SELECT COUNT(DISTINCT emoji) FROM reactions WHERE message = $1 AND emoji <> $2",
            )
            .bind(id)
            .bind(emoji.as_str())
            .fetch_one(&mut *conn)
            .await?;
            if others >= MAX_REACTIONS {
                return Ok(Step::Refused(StoreError::TooManyReactions));
            }
            let done = sqlx::query(
                "INSERT INTO reactions (message, emoji, user_id, pos) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(emoji.as_str())
            .bind(user.id.as_str())
            .bind(seq)
            .execute(&mut *conn)
            .await?;
            if C::affected(&done) == 0 {
                return unchanged::<C>(conn, id).await;
            }
            refresh_reactions::<C>(conn, id, seq).await?;
            let happened = Happened::Reacted {
                emoji,
                user: user.id,
                added: true,
            };
            (happened, id)
        }
        Change::Unreact {
            room,
            id,
            user,
            emoji,
        } => {
            if let Some(step) = unless_live::<C>(conn, room.as_str(), id).await? {
                return Ok(step);
            }
            let done = sqlx::query(
                "DELETE FROM reactions WHERE message = $1 AND emoji = $2 AND user_id = $3",
            )
            .bind(id)
            .bind(emoji.as_str())
            .bind(user.id.as_str())
            .execute(&mut *conn)
            .await?;
            if C::affected(&done) == 0 {
                return unchanged::<C>(conn, id).await;
            }
            refresh_reactions::<C>(conn, id, seq).await?;
            let happened = Happened::Reacted {
                emoji,
                user: user.id,
                added: false,
            };
            (happened, id)
        }
    };
    match read::<C>(conn, id).await? {
        Some(message) => Ok(Step::Changed(Applied { happened, message })),
        None => Ok(Step::Refused(StoreError::NotFound)),
    }
}

/// The message `id` as it is now.
pub(super) async fn read<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    id: i64,
) -> StoreResult<Option<Message>>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<String>: Decode<'r, C::Db> + Type<C::Db>,
{
    let row: Option<MessageRow> = sqlx::query_as(select_message!("WHERE m.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(Message::from))
}

/// Why a conditional change matched no row: no such message in that room,
/// or deleted (`NotFound`), or someone else's (`NotYours`).
async fn refusal<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    room: &str,
    id: i64,
) -> StoreResult<Step>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<String>: Decode<'r, C::Db> + Type<C::Db>,
{
    let target = target::<C>(conn, room, id).await?;
    Ok(Step::Refused(match target {
        Some(t) if t.deleted_ts.is_none() => StoreError::NotYours,
        _ => StoreError::NotFound,
    }))
}

/// `Some(refusal)` unless message `id` is in `room` and not deleted.
async fn unless_live<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    room: &str,
    id: i64,
) -> StoreResult<Option<Step>>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<String>: Decode<'r, C::Db> + Type<C::Db>,
{
    Ok(match target::<C>(conn, room, id).await? {
        Some(t) if t.deleted_ts.is_none() => None,
        _ => Some(Step::Refused(StoreError::NotFound)),
    })
}

async fn target<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    room: &str,
    id: i64,
) -> StoreResult<Option<Target>>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<String>: Decode<'r, C::Db> + Type<C::Db>,
{
    let row: Option<Target> =
        sqlx::query_as("SELECT deleted_ts FROM messages WHERE id = $1 AND room = $2")
            .bind(id)
            .bind(room)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row)
}

async fn unchanged<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    id: i64,
) -> StoreResult<Step>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<String>: Decode<'r, C::Db> + Type<C::Db>,
{
    Ok(match read::<C>(conn, id).await? {
        Some(m) => Step::Unchanged(m),
        None => Step::Refused(StoreError::NotFound),
    })
}

#[derive(FromRow)]
struct ReactionRow {
    emoji: String,
    user_id: String,
}

/// Rewrites message `id`'s reaction summary from its reactions, and moves
/// it to stream position `seq`.
async fn refresh_reactions<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    id: i64,
    seq: i64,
) -> StoreResult<()>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<String>: Decode<'r, C::Db> + Type<C::Db>,
{
    let rows: Vec<ReactionRow> = sqlx::query_as(
        "SELECT emoji, user_id FROM reactions WHERE message = $1 ORDER BY pos, user_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let summary = ReactionSummary::of(rows.iter().map(|r| (r.emoji.as_str(), r.user_id.as_str())));
    // No reactions is NULL, as on a message never reacted to.
    let json = if summary.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&summary).map_err(|e| StoreError::Unavailable(e.to_string()))?
    };
    sqlx::query("UPDATE messages SET reactions = NULLIF($1, ''), seq = $2 WHERE id = $3")
        .bind(json.as_str())
        .bind(seq)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
