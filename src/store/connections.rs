//! What a backend gives the shared statements (`sql.rs`, `admin.rs`,
//! `changes.rs`): its connections, and the text of its sorted lists.

use std::ops::DerefMut;

use sqlx::{Database, Pool};

use super::StoreResult;
use crate::domain::SearchQuery;

/// Where a backend runs the shared statements, and the text of its sorted
/// lists. [`Store`](super::Store) (`sql.rs`) and [`Admin`](super::Admin) (`admin.rs`) are
/// implemented once for every backend that says this.
pub(super) trait Connections: Send + Sync + 'static {
    type Db: Database;
    /// A connection for the one-row reads of every connect and join:
    /// SQLite's `Readers` (see `sqlite_readers.rs`), PostgreSQL's pool.
    type Reader<'a>: DerefMut<Target = <Self::Db as Database>::Connection> + Send
    where
        Self: 'a;

    /// Rooms `$1` may see ([`Store::rooms_for`](super::Store::rooms_for)), by name.
    const ROOMS_FOR: &'static str;
    /// Every account (`Admin::users`), by id.
    const USERS: &'static str;
    /// Every room (`Admin::all_rooms`), by name.
    const ALL_ROOMS: &'static str;
    /// The people whose list holds room `$1` ([`Reads::room_members`](super::Reads::room_members)),
    /// the owner first, then moderators, then members, each by display name
    /// (any case) and id; at most `$2`.
    const MEMBERS: &'static str;

    /// The start of a search (`search.rs`): `SELECT s.id` of the messages
    /// `s` that match the query bound next (`$1`), so that ` AND ..`
    /// conditions on `s` may follow.
    const SEARCH_HITS: &'static str;
    /// What closes the match after the query.
    const SEARCH_HITS_END: &'static str;
    /// The id of a match as the engine orders its matches: FTS5 walks its
    /// index newest first only by its own rowid, not by `s.id`.
    const SEARCH_KEY: &'static str;
    /// The query as this backend's match takes it.
    fn search_text(query: &SearchQuery) -> String;

    /// What a `SELECT` ends with to lock the rows it reads until the
    /// transaction ends: ` FOR UPDATE` on PostgreSQL; nothing on SQLite,
    /// whose writer holds the whole database (`BEGIN IMMEDIATE`).
    const LOCK_ROWS: &'static str;
    /// A statement that makes the transaction wait for any other holding
    /// uploader `$1`'s lock, so the sums of two uploads at once are taken
    /// one after the other (`Files::record_file`'s quota). Empty on SQLite,
    /// where each write statement already holds the whole database.
    const LOCK_UPLOADER: &'static str;

    /// A turn at writing bulk (a file's chunk) between the writer's
    /// batches: SQLite has one write lock, and a statement that finds it
    /// taken sleeps and retries with growing waits (its busy handler), so
    /// the writer queued behind a stream of chunk writes waited hundreds
    /// of ms; taking turns in a FIFO queue, it waits for at most the chunks
    /// already in line. `None` on PostgreSQL, whose rows lock one by one.
    fn write_turn(&self) -> impl Future<Output = Option<tokio::sync::MutexGuard<'_, ()>>> + Send;

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
            "SELECT name, visibility, owner, topic FROM rooms \
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
            "SELECT name, visibility, owner, topic FROM rooms ORDER BY name",
            $by_bytes
        );
        // `members` by its key (room, user_id); names resolved as
        // `People::dm_people` does. `LIMIT +$2`: see `Store::history`.
        const MEMBERS: &'static str = concat!(
            "SELECT b.user_id AS id, COALESCE(u.name, a.name, b.user_id) AS name, \
               CASE WHEN b.user_id = r.owner THEN 0 WHEN d.user_id IS NOT NULL THEN 1 \
                    ELSE 2 END AS tier \
             FROM members b JOIN rooms r ON r.name = b.room \
             LEFT JOIN moderators d ON d.room = b.room AND d.user_id = b.user_id \
             LEFT JOIN users u ON u.id = b.user_id LEFT JOIN app_users a ON a.id = b.user_id \
             WHERE b.room = $1 \
             ORDER BY tier, LOWER(COALESCE(u.name, a.name, b.user_id))",
            $by_bytes,
            ", b.user_id",
            $by_bytes,
            " LIMIT +$2"
        );
    };
}
pub(super) use sorted_lists;
