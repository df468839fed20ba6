//! Moderation as the writer enforces it (docs/protocol.md §4 "Moderation"):
//! a batch's posts and changes are screened inside the batch, against bans,
//! mutes and slow mode as the database holds them at that moment, with one
//! statement for the whole batch, one text for both backends.
//!
//! Checking in the writer, not before submitting, is what keeps moderation
//! off the per-message cost: a read per chat on its way in cost two thirds
//! of the acked chats per second (see the note on issue 14), one read per
//! batch costs almost nothing. It also closes the gap between the check and
//! the insert: a ban committed before the batch refuses its posts, on any
//! node (on PostgreSQL the statement runs under the rooms' advisory locks).

use std::collections::HashMap;

use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, QueryBuilder, Type,
};

use super::connections::Connections;
use super::{Change, StoreError, StoreResult};

/// Why the writer refused a post or change of one user in one room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restraint {
    /// The room was deleted (messages have no foreign key to hold it).
    NoRoom {
        room: String,
    },
    Banned {
        room: String,
    },
    /// Muted until `until` (unix ms).
    Muted {
        room: String,
        until: i64,
    },
    /// Slow mode: one message per `seconds`; the next may come in `retry_after_ms`.
    Slowed {
        room: String,
        seconds: i64,
        retry_after_ms: i64,
    },
}

/// Distinct (room, user) pairs per statement: two parameters each, well
/// under SQLite's 32,766 and PostgreSQL's 65,535 (a batch holds at most 1,024 items).
const PAIRS_PER_STATEMENT: usize = 1024;

/// What the database says of one (room, user) pair of the batch.
#[derive(FromRow)]
struct PairRow {
    room: String,
    user_id: String,
    missing: i64,
    banned: i64,
    muted_until: Option<i64>,
    slow_mode: i64,
    /// Slow mode holds this user (not the owner, not a moderator).
    slowed: i64,
    last_post: Option<i64>,
}

/// The screen of one batch: a refusal (or none) per item, and the posts to
/// record in `slow_posts` when they are stored.
pub(super) struct Screened {
    pub refusals: Vec<Option<StoreError>>,
    /// (room, user id) of each accepted post that slow mode holds.
    pub slowed: Vec<(String, String)>,
}

/// The (room, user) an item must be screened for: posts for everything,
/// edits and reactions for bans and mutes (slow mode counts new messages
/// only). Deletions are not screened: a muted author may still withdraw
/// what they wrote, and a moderator's deletion is checked by its caller.
fn subject(change: &Change) -> Option<(&str, &str)> {
    match change {
        Change::Post(m) => Some((m.room.as_str(), m.user.id.as_str())),
        Change::Edit { room, user, .. }
        | Change::React { room, user, .. }
        | Change::Unreact { room, user, .. } => Some((room.as_str(), user.id.as_str())),
        Change::Delete { .. } => None,
    }
}

/// Screens `batch` at time `now` on `conn` (the writer's connection, inside
/// its transaction where the backend has one).
pub(super) async fn screen<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    batch: &[Change],
    now: i64,
) -> StoreResult<Screened>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'q> String: Encode<'q, C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Decode<'r, C::Db> + Type<C::Db>,
{
    let mut pairs: Vec<(&str, &str)> = batch.iter().filter_map(subject).collect();
    pairs.sort_unstable();
    pairs.dedup();
    // Keyed by the batch's own strings: no allocation per item.
    let mut rows: HashMap<(&str, &str), PairRow> = HashMap::with_capacity(pairs.len());
    for chunk in pairs.chunks(PAIRS_PER_STATEMENT) {
        let mut q = QueryBuilder::<C::Db>::new(
            "SELECT v.column1 AS room, v.column2 AS user_id, \
               CAST(CASE WHEN r.name IS NULL THEN 1 ELSE 0 END AS BIGINT) AS missing, \
               (SELECT COUNT(*) FROM bans b WHERE b.room = v.column1 AND b.user_id = v.column2) AS banned, \
               (SELECT u.until FROM mutes u WHERE u.room = v.column1 AND u.user_id = v.column2) AS muted_until, \
               COALESCE(r.slow_mode, 0) AS slow_mode, \
               CAST(CASE WHEN r.slow_mode > 0 AND r.owner <> v.column2 AND NOT EXISTS \
                   (SELECT 1 FROM moderators d WHERE d.room = v.column1 AND d.user_id = v.column2) \
                 THEN 1 ELSE 0 END AS BIGINT) AS slowed, \
               CASE WHEN r.slow_mode > 0 THEN (SELECT s.ts FROM slow_posts s \
                 WHERE s.room = v.column1 AND s.user_id = v.column2) END AS last_post \
             FROM (",
        );
        q.push_values(chunk, |mut row, (room, user)| {
            row.push_bind(*room).push_bind(*user);
        });
        q.push(") AS v LEFT JOIN rooms r ON r.name = v.column1");
        let found: Vec<PairRow> = q.build_query_as().fetch_all(&mut *conn).await?;
        for r in found {
            if let Ok(k) = pairs.binary_search(&(r.room.as_str(), r.user_id.as_str())) {
                rows.insert(pairs[k], r);
            }
        }
    }
    // Within the batch, a slowed user's second post waits for their first.
    let mut next_post: HashMap<(&str, &str), i64> = HashMap::new();
    let mut slowed = Vec::new();
    let refusals = batch
        .iter()
        .map(|change| {
            let (room, user) = subject(change)?;
            let row = rows.get(&(room, user))?;
            let refuse = |r| Some(StoreError::Restrained(r));
            if row.missing != 0 {
                return refuse(Restraint::NoRoom { room: room.into() });
            }
            if row.banned != 0 {
                return refuse(Restraint::Banned { room: room.into() });
            }
            if let Some(until) = row.muted_until.filter(|u| *u > now) {
                return refuse(Restraint::Muted {
                    room: room.into(),
                    until,
                });
            }
            if !matches!(change, Change::Post(_)) || row.slowed == 0 {
                return None;
            }
            let interval = row.slow_mode * 1000;
            let next = next_post
                .entry((room, user))
                .or_insert_with(|| row.last_post.map_or(i64::MIN, |t| t + interval));
            if *next > now {
                return refuse(Restraint::Slowed {
                    room: room.into(),
                    seconds: row.slow_mode,
                    retry_after_ms: *next - now,
                });
            }
            *next = now + interval;
            slowed.push((room.to_owned(), user.to_owned()));
            None
        })
        .collect();
    Ok(Screened { refusals, slowed })
}

/// Records when each slowed user's accepted post was stored, in the
/// writer's transaction: the next batch's [`screen`] reads it.
pub(super) async fn record_slowed<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    slowed: &[(String, String)],
    ts: i64,
) -> StoreResult<()>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
{
    for (room, user) in slowed {
        sqlx::query(
            "INSERT INTO slow_posts (room, user_id, ts) VALUES ($1, $2, $3) \
             ON CONFLICT (room, user_id) DO UPDATE SET ts = excluded.ts",
        )
        .bind(room.as_str())
        .bind(user.as_str())
        .bind(ts)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The items of a screened batch that go on, and the refused ones by index.
pub(super) fn split(
    batch: Vec<Change>,
    refusals: Vec<Option<StoreError>>,
) -> (Vec<Change>, Vec<(usize, StoreError)>) {
    let mut kept = Vec::with_capacity(batch.len());
    let mut refused = Vec::new();
    for (k, (change, refusal)) in batch.into_iter().zip(refusals).enumerate() {
        match refusal {
            None => kept.push(change),
            Some(e) => refused.push((k, e)),
        }
    }
    (kept, refused)
}
