//! Every user's list of rooms and how far they read each (docs/protocol.md
//! §4 "Your rooms and read state"), written once: [`Reads`] for any
//! [`Connections`]; and the writer's numbering of posts in their rooms
//! ([`Ordinals`]), which makes unread counts a subtraction.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Type};

use super::connections::Connections;
use super::membership::{add_member, remove_member};
use super::outbox::HookEvent;
use super::sql::RoomRow;
use super::{StoreError, StoreResult};
use crate::domain::{Member, Role, RoomName, RoomRecord, User, excerpt};

/// A room of a user's list with what a sidebar shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub room: RoomRecord,
    /// The newest message id read (0: none).
    pub read_id: i64,
    /// Messages after `read_id` that are not deleted (one's own posts move
    /// `read_id` past them).
    pub unread: i64,
    /// Of those, the ones that mention the user.
    pub mentions: i64,
    /// The newest message that is not deleted.
    pub last: Option<Latest>,
}

/// The newest message of a room, as a sidebar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    pub id: i64,
    pub user: User,
    /// The first characters of its text.
    pub excerpt: String,
    pub ts: i64,
}

/// What `mark_read` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMark {
    /// The position moved forward to the id given.
    Moved,
    /// It was already there or further: it stays at this id.
    Ahead(i64),
    /// The id is past the room's newest message, this one (0: none).
    PastNewest(i64),
    /// The room is not in the user's list.
    NotListed,
}

/// Users' lists of rooms and read positions.
#[async_trait]
pub trait Reads: Send + Sync {
    /// Puts each (room, user id) in that user's list, read up to the
    /// room's newest message, in one transaction; for each, `false` when it
    /// was there already.
    async fn enlist(&self, entries: &[(String, String)]) -> StoreResult<Vec<bool>>;
    /// Takes `room` out of `user_id`'s list (and so, in a private room, the
    /// invitation); `false` when it was not there.
    async fn delist(&self, room: &RoomName, user_id: &str) -> StoreResult<bool>;
    /// Moves `user_id`'s read position in `room` forward to `id`.
    async fn mark_read(&self, room: &RoomName, user_id: &str, id: i64) -> StoreResult<ReadMark>;
    /// Every room of `user_id`'s list with its counts, by name.
    async fn listed(&self, user_id: &str) -> StoreResult<Vec<Listed>>;
    /// The names of the rooms in `user_id`'s list.
    async fn list_names(&self, user_id: &str) -> StoreResult<Vec<String>>;
    /// The first `limit` of the people whose list holds `room`, with their
    /// roles: the owner, moderators, members, each by display name and id;
    /// and whether there are more.
    async fn room_members(&self, room: &RoomName, limit: u32) -> StoreResult<(Vec<Member>, bool)>;
}

#[derive(FromRow)]
struct MemberRow {
    id: String,
    name: String,
    /// 0 the owner, 1 a moderator, 2 a member.
    tier: i32,
}

impl From<MemberRow> for Member {
    fn from(r: MemberRow) -> Self {
        let role = match r.tier {
            0 => Role::Owner,
            1 => Role::Moderator,
            _ => Role::Member,
        };
        Member {
            user: User::new(r.id, r.name),
            role,
        }
    }
}

#[derive(FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    room: RoomRow,
    read_id: i64,
    /// The number (`messages.n`) of the newest post read, or (none read)
    /// of the one before the room's first.
    base: Option<i64>,
    /// Deleted messages after the read position, before the newest live one.
    gone: i64,
    mentioned: i64,
    last_id: Option<i64>,
    last_n: Option<i64>,
    last_user: Option<String>,
    last_name: Option<String>,
    last_body: Option<String>,
    last_ts: Option<i64>,
}

impl From<ListedRow> for Listed {
    fn from(r: ListedRow) -> Self {
        // Posts are numbered 1, 2, 3.. in each room (in a room deleted and
        // made again, from where the old one stopped: only differences
        // count). Every post after the newest live one is deleted, so the
        // unread ones are those up to it, less the deletions among them.
        let unread = match (r.last_id, r.last_n) {
            (Some(id), Some(n)) if id > r.read_id => (n - r.base.unwrap_or(0) - r.gone).max(0),
            _ => 0,
        };
        let last = match (r.last_id, r.last_user, r.last_name, r.last_body, r.last_ts) {
            (Some(id), Some(user), Some(name), Some(body), Some(ts)) => Some(Latest {
                id,
                user: User::new(user, name),
                excerpt: excerpt(&body),
                ts,
            }),
            _ => None,
        };
        Listed {
            room: r.room.into(),
            read_id: r.read_id,
            unread,
            mentions: r.mentioned,
            last,
        }
    }
}

/// Per room: the newest live message (a probe of `messages_room_id` and
/// its row), the deletions and the mentions after the read position (a
/// probe each, of `messages_deleted` and `mentions`' key); the read
/// position's post number is beside it (`members.read_n`), and only when
/// nothing at or before it exists is the room's first post looked up.
/// Of the newest message only what its excerpt shows (`excerpt`'s 100
/// characters, counted alike by both stores' `substr`) comes back, not up
/// to 4,000. Both stores' COALESCE stop at the first value that is not NULL.
const LISTED: &str = "SELECT r.name, r.visibility, r.owner, r.topic, b.read_id, \
       COALESCE(b.read_n, (SELECT n - 1 FROM messages WHERE room = b.room ORDER BY id ASC LIMIT 1)) AS base, \
       (SELECT COUNT(*) FROM messages WHERE room = b.room AND id > b.read_id AND id < l.id \
          AND deleted_ts IS NOT NULL) AS gone, \
       (SELECT COUNT(*) FROM mentions WHERE user_id = $1 AND room = b.room AND message > b.read_id) AS mentioned, \
       l.id AS last_id, l.n AS last_n, l.user_id AS last_user, l.user_name AS last_name, \
       substr(l.body, 1, 100) AS last_body, l.ts AS last_ts \
     FROM members b JOIN rooms r ON r.name = b.room \
     LEFT JOIN messages l ON l.id = (SELECT id FROM messages \
          WHERE room = b.room AND deleted_ts IS NULL ORDER BY id DESC LIMIT 1) \
     WHERE b.user_id = $1 ORDER BY r.name";

#[async_trait]
impl<C> Reads for C
where
    C: Connections,
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
{
    async fn enlist(&self, entries: &[(String, String)]) -> StoreResult<Vec<bool>> {
        let mut tx = self.pool().begin().await?;
        let mut added = Vec::with_capacity(entries.len());
        for (room, user_id) in entries {
            added.push(add_member::<C>(&mut tx, room, user_id, HookEvent::MemberJoined).await?);
        }
        tx.commit().await?;
        Ok(added)
    }

    async fn delist(&self, room: &RoomName, user_id: &str) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        let removed =
            remove_member::<C>(&mut tx, room.as_str(), user_id, HookEvent::MemberLeft).await?;
        tx.commit().await?;
        Ok(removed)
    }

    async fn mark_read(&self, room: &RoomName, user_id: &str, id: i64) -> StoreResult<ReadMark> {
        let mut tx = self.pool().begin().await?;
        let read: Option<i64> =
            sqlx::query_scalar("SELECT read_id FROM members WHERE room = $1 AND user_id = $2")
                .bind(room.as_str())
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(read) = read else {
            return Ok(ReadMark::NotListed);
        };
        if read >= id {
            return Ok(ReadMark::Ahead(read));
        }
        let newest: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM messages WHERE room = $1")
                .bind(room.as_str())
                .fetch_one(&mut *tx)
                .await?;
        if id > newest {
            return Ok(ReadMark::PastNewest(newest));
        }
        // With the number of the newest post at or before it (NULL: none).
        sqlx::query(
            "UPDATE members SET read_id = $3, read_n = (SELECT n FROM messages \
               WHERE room = $1 AND id <= $3 ORDER BY id DESC LIMIT 1) \
             WHERE room = $1 AND user_id = $2 AND read_id < $3",
        )
        .bind(room.as_str())
        .bind(user_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ReadMark::Moved)
    }

    async fn listed(&self, user_id: &str) -> StoreResult<Vec<Listed>> {
        let rows: Vec<ListedRow> = sqlx::query_as(LISTED)
            .bind(user_id)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        Ok(rows.into_iter().map(Listed::from).collect())
    }

    async fn room_members(&self, room: &RoomName, limit: u32) -> StoreResult<(Vec<Member>, bool)> {
        let rows: Vec<MemberRow> = sqlx::query_as(C::MEMBERS)
            .bind(room.as_str())
            .bind(i64::from(limit) + 1)
            .fetch_all(self.pool())
            .await?;
        let more = rows.len() > limit as usize;
        let members = rows
            .into_iter()
            .take(limit as usize)
            .map(Member::from)
            .collect();
        Ok((members, more))
    }

    async fn list_names(&self, user_id: &str) -> StoreResult<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT room FROM members WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&mut *self.reader().await?)
                .await?,
        )
    }
}

/// The writer's numbers of posts in their rooms (`messages.n`): the last
/// one given in each room it has seen. Only the writer inserts posts (on
/// PostgreSQL, under the room's lock, starting from an empty one each
/// batch), so what it remembers stays true; a room it has not seen is read
/// from its newest message.
#[derive(Debug, Default)]
pub(super) struct Ordinals(HashMap<String, i64>);

/// The most rooms [`Ordinals`] remembers; past it, it starts again.
const ORDINALS_KEPT: usize = 100_000;

/// Numbers drawn for one batch, kept by [`Ordinals::keep`] once it committed.
pub(super) struct Drawn {
    /// One per post, in batch order.
    pub ns: Vec<i64>,
    last: HashMap<String, i64>,
}

impl Ordinals {
    /// The numbers of posts to `rooms` (one entry per post, in batch order).
    pub(super) async fn draw<C: Connections>(
        &self,
        conn: &mut <C::Db as Database>::Connection,
        rooms: &[&str],
    ) -> StoreResult<Drawn>
    where
        for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
        <C::Db as Database>::Arguments: IntoArguments<C::Db>,
        for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
        usize: ColumnIndex<<C::Db as Database>::Row>,
        for<'r> i64: Decode<'r, C::Db> + Type<C::Db>,
    {
        let mut last: HashMap<String, i64> = HashMap::new();
        let mut ns = Vec::with_capacity(rooms.len());
        for room in rooms {
            let n = match last.get_mut(*room) {
                Some(n) => n,
                None => {
                    let known = match self.0.get(*room) {
                        Some(n) => *n,
                        None => sqlx::query_scalar(
                            "SELECT n FROM messages WHERE room = $1 ORDER BY id DESC LIMIT 1",
                        )
                        .bind(*room)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(StoreError::from)?
                        .unwrap_or(0),
                    };
                    last.entry((*room).to_owned()).or_insert(known)
                }
            };
            *n += 1;
            ns.push(*n);
        }
        Ok(Drawn { ns, last })
    }

    /// Remembers what a committed batch drew.
    pub(super) fn keep(&mut self, drawn: Drawn) {
        if self.0.len() + drawn.last.len() > ORDINALS_KEPT {
            self.0.clear();
        }
        self.0.extend(drawn.last);
    }
}
