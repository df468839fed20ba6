//! The moderation statements (roles, mutes, bans, slow mode), written once: [`Moderation`] for any [`Connections`].

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Type};

use super::StoreResult;
use super::connections::Connections;
use super::outbox::{self, Event};
use crate::domain::{Ban, Mute, Role, RoomName, RoomRecord, Standing, Visibility};

/// A room's moderation, as its owner and moderators list it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moderation {
    /// User ids, sorted.
    pub moderators: Vec<String>,
    /// Mutes in force, by user id.
    pub mutes: Vec<Mute>,
    /// By user id.
    pub bans: Vec<Ban>,
    pub slow_mode: i64,
}

/// A room as someone entering it finds it, read in one statement: what
/// every join and every HTTP read of a room needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub room: RoomRecord,
    /// Invited (a row in `members`).
    pub member: bool,
    pub standing: Standing,
    /// The room's moderators' user ids, sorted.
    pub moderators: Vec<String>,
}

/// Roles, mutes, bans and slow mode of rooms. `NotFound` where a room is
/// named that does not exist (callers check it first).
#[async_trait]
pub trait Moderate: Send + Sync {
    /// Where `user_id` stands in `room` at `now`; `None` when there is no such room.
    async fn standing(
        &self,
        room: &RoomName,
        user_id: &str,
        now: i64,
    ) -> StoreResult<Option<Standing>>;
    /// The room, whether `user_id` is invited, where they stand at `now` and
    /// the room's moderators, in one read; `None` when there is no such room.
    async fn entry(&self, room: &RoomName, user_id: &str, now: i64) -> StoreResult<Option<Entry>>;
    /// Appoints (`on`) or dismisses a moderator; `false` when nothing changed.
    async fn set_moderator(
        &self,
        room: &RoomName,
        user_id: &str,
        by: &str,
        on: bool,
    ) -> StoreResult<bool>;
    /// Mutes (or mutes again, with the new end) a user.
    async fn mute(&self, room: &RoomName, mute: &Mute) -> StoreResult<()>;
    /// Lifts a mute; `false` when none was in force at `now`.
    async fn unmute(&self, room: &RoomName, user_id: &str, now: i64) -> StoreResult<bool>;
    /// Bans a user; their invitation, moderator role and mute go with it.
    async fn ban(&self, room: &RoomName, ban: &Ban) -> StoreResult<()>;
    /// Lifts a ban; `false` when there was none.
    async fn unban(&self, room: &RoomName, user_id: &str) -> StoreResult<bool>;
    async fn set_slow_mode(&self, room: &RoomName, seconds: i64) -> StoreResult<()>;
    /// Sets the room's topic (`""` clears it); `NotFound` when there is no such room.
    async fn set_topic(&self, room: &RoomName, topic: &str) -> StoreResult<()>;
    /// The room's moderators' user ids, sorted.
    async fn moderators(&self, room: &RoomName) -> StoreResult<Vec<String>>;
    /// The room's moderators, mutes in force at `now`, bans and slow mode.
    async fn moderation(&self, room: &RoomName, now: i64) -> StoreResult<Moderation>;
}

#[derive(FromRow)]
struct StandingRow {
    owner: String,
    slow_mode: i64,
    moderator: i64,
    banned: i64,
    muted_until: Option<i64>,
}

/// One statement for a join's standing (the writer screens posts itself,
/// a batch at a time: `restraints.rs`).
const STANDING: &str = "SELECT owner, slow_mode, \
       (SELECT COUNT(*) FROM moderators WHERE room = $1 AND user_id = $2) AS moderator, \
       (SELECT COUNT(*) FROM bans WHERE room = $1 AND user_id = $2) AS banned, \
       (SELECT until FROM mutes WHERE room = $1 AND user_id = $2 AND until > $3) AS muted_until \
     FROM rooms WHERE name = $1";

#[derive(FromRow)]
struct EntryRow {
    name: String,
    visibility: String,
    owner: String,
    topic: Option<String>,
    slow_mode: i64,
    member: i64,
    banned: i64,
    muted_until: Option<i64>,
    /// One row per moderator; NULL when there is none.
    moderator: Option<String>,
}

/// [`Moderate::entry`]: the room, with one row per moderator (the
/// per-user columns repeat; rooms have few moderators).
const ENTRY: &str = "SELECT r.name, r.visibility, r.owner, r.topic, r.slow_mode, \
       (SELECT COUNT(*) FROM members WHERE room = $1 AND user_id = $2) AS member, \
       (SELECT COUNT(*) FROM bans WHERE room = $1 AND user_id = $2) AS banned, \
       (SELECT until FROM mutes WHERE room = $1 AND user_id = $2 AND until > $3) AS muted_until, \
       d.user_id AS moderator \
     FROM rooms r LEFT JOIN moderators d ON d.room = r.name \
     WHERE r.name = $1";

#[async_trait]
impl<C> Moderate for C
where
    // The bounds of `Store` for any `Connections` (`sql.rs`).
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
    async fn standing(
        &self,
        room: &RoomName,
        user_id: &str,
        now: i64,
    ) -> StoreResult<Option<Standing>> {
        let row: Option<StandingRow> = sqlx::query_as(STANDING)
            .bind(room.as_str())
            .bind(user_id)
            .bind(now)
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        Ok(row.map(|r| Standing {
            role: Role::of(&r.owner, user_id, r.moderator > 0),
            banned: r.banned > 0,
            muted_until: r.muted_until,
            slow_mode: r.slow_mode,
        }))
    }

    async fn entry(&self, room: &RoomName, user_id: &str, now: i64) -> StoreResult<Option<Entry>> {
        let rows: Vec<EntryRow> = sqlx::query_as(ENTRY)
            .bind(room.as_str())
            .bind(user_id)
            .bind(now)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        let mut moderators: Vec<String> = rows.iter().filter_map(|r| r.moderator.clone()).collect();
        // Sorted here, in byte order on both stores, as `moderators` is.
        moderators.sort();
        let Some(r) = rows.into_iter().next() else {
            return Ok(None);
        };
        let role = Role::of(&r.owner, user_id, moderators.iter().any(|m| m == user_id));
        Ok(Some(Entry {
            room: RoomRecord {
                name: r.name,
                // The CHECK constraint allows only the two values.
                visibility: Visibility::parse(&r.visibility).unwrap_or(Visibility::Private),
                owner: r.owner,
                topic: r.topic,
            },
            member: r.member > 0,
            standing: Standing {
                role,
                banned: r.banned > 0,
                muted_until: r.muted_until,
                slow_mode: r.slow_mode,
            },
            moderators,
        }))
    }

    async fn set_moderator(
        &self,
        room: &RoomName,
        user_id: &str,
        by: &str,
        on: bool,
    ) -> StoreResult<bool> {
        let done = if on {
            sqlx::query(
                "INSERT INTO moderators (room, user_id, by_user) VALUES ($1, $2, $3) \
                 ON CONFLICT (room, user_id) DO NOTHING",
            )
            .bind(room.as_str())
            .bind(user_id)
            .bind(by)
            .execute(self.pool())
            .await?
        } else {
            sqlx::query("DELETE FROM moderators WHERE room = $1 AND user_id = $2")
                .bind(room.as_str())
                .bind(user_id)
                .execute(self.pool())
                .await?
        };
        Ok(C::affected(&done) > 0)
    }

    async fn mute(&self, room: &RoomName, mute: &Mute) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO mutes (room, user_id, until, by_user) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (room, user_id) DO UPDATE SET until = excluded.until, by_user = excluded.by_user",
        )
        .bind(room.as_str())
        .bind(mute.user.as_str())
        .bind(mute.until)
        .bind(mute.by.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn unmute(&self, room: &RoomName, user_id: &str, now: i64) -> StoreResult<bool> {
        // An expired mute is deleted too, but lifting it changes nothing.
        let done = sqlx::query("DELETE FROM mutes WHERE room = $1 AND user_id = $2 AND until > $3")
            .bind(room.as_str())
            .bind(user_id)
            .bind(now)
            .execute(self.pool())
            .await?;
        sqlx::query("DELETE FROM mutes WHERE room = $1 AND user_id = $2")
            .bind(room.as_str())
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(C::affected(&done) > 0)
    }

    async fn ban(&self, room: &RoomName, ban: &Ban) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "INSERT INTO bans (room, user_id, by_user, ts) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (room, user_id) DO NOTHING",
        )
        .bind(room.as_str())
        .bind(ban.user.as_str())
        .bind(ban.by.as_str())
        .bind(ban.ts)
        .execute(&mut *tx)
        .await?;
        if C::affected(&done) > 0 {
            let event = Event::banned(room.as_str(), ban.user.as_str(), ban.by.as_str(), ban.ts)?;
            outbox::record::<C>(&mut *tx, &[event], ban.ts).await?;
        }
        for sql in [
            "DELETE FROM members WHERE room = $1 AND user_id = $2",
            "DELETE FROM moderators WHERE room = $1 AND user_id = $2",
            "DELETE FROM mutes WHERE room = $1 AND user_id = $2",
        ] {
            sqlx::query(sql)
                .bind(room.as_str())
                .bind(ban.user.as_str())
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx.commit().await?)
    }

    async fn unban(&self, room: &RoomName, user_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM bans WHERE room = $1 AND user_id = $2")
            .bind(room.as_str())
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(C::affected(&done) > 0)
    }

    async fn set_slow_mode(&self, room: &RoomName, seconds: i64) -> StoreResult<()> {
        sqlx::query("UPDATE rooms SET slow_mode = $1 WHERE name = $2")
            .bind(seconds)
            .bind(room.as_str())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn set_topic(&self, room: &RoomName, topic: &str) -> StoreResult<()> {
        // `NULLIF`: no topic is NULL, one text for setting and clearing.
        let done = sqlx::query("UPDATE rooms SET topic = NULLIF($1, '') WHERE name = $2")
            .bind(topic)
            .bind(room.as_str())
            .execute(self.pool())
            .await?;
        if C::affected(&done) == 0 {
            return Err(super::StoreError::NotFound);
        }
        Ok(())
    }

    async fn moderators(&self, room: &RoomName) -> StoreResult<Vec<String>> {
        // On the reader: every join lists them.
        let mut moderators: Vec<String> =
            sqlx::query_scalar("SELECT user_id FROM moderators WHERE room = $1")
                .bind(room.as_str())
                .fetch_all(&mut *self.reader().await?)
                .await?;
        // Sorted here, in byte order on both stores (no collation to agree on).
        moderators.sort();
        Ok(moderators)
    }

    async fn moderation(&self, room: &RoomName, now: i64) -> StoreResult<Moderation> {
        let moderators = self.moderators(room).await?;
        let mutes: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT user_id, until, by_user FROM mutes WHERE room = $1 AND until > $2",
        )
        .bind(room.as_str())
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        let bans: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT user_id, by_user, ts FROM bans WHERE room = $1")
                .bind(room.as_str())
                .fetch_all(self.pool())
                .await?;
        let slow_mode: i64 = sqlx::query_scalar("SELECT slow_mode FROM rooms WHERE name = $1")
            .bind(room.as_str())
            .fetch_one(self.pool())
            .await?;
        let mut mutes: Vec<Mute> = mutes
            .into_iter()
            .map(|(user, until, by)| Mute { user, until, by })
            .collect();
        mutes.sort_by(|a, b| a.user.cmp(&b.user));
        let mut bans: Vec<Ban> = bans
            .into_iter()
            .map(|(user, by, ts)| Ban { user, by, ts })
            .collect();
        bans.sort_by(|a, b| a.user.cmp(&b.user));
        Ok(Moderation {
            moderators,
            mutes,
            bans,
            slow_mode,
        })
    }
}
