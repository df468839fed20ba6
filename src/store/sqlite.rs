//! SQLite backend: one WAL-mode file, migrated on open.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteQueryResult, SqliteSynchronous,
};
use sqlx::{ConnectOptions, QueryBuilder, Sqlite};
use tokio::sync::{Mutex, MutexGuard};
use tokio::task::JoinHandle;

use super::connections::{self, Connections};
use super::mentions;
use super::reads::{Drawn, Ordinals};
use super::sqlite_readers::Readers;
use super::{
    Append, Batch, Change, Item, Order, Outcome, SqliteSync, StoreResult, assemble, changes, files,
    outbox, restraints, with_refusals,
};
use crate::domain::{Message, SearchQuery, now_ms};

/// SQLite's bound-parameter limit is 32766; 8 columns a row keeps a chunk well under it.
const ROWS_PER_INSERT: usize = 500;

/// How often the WAL is checkpointed into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

pub(super) struct SqliteStore {
    pool: SqlitePool,
    /// For the reads of every connect and join.
    readers: Readers,
    /// Only the group-commit writer appends, and it holds this across its
    /// statement, so ids follow commit order.
    appender: Mutex<Appender>,
    /// Whether batches owe webhooks (any endpoint at all).
    hooks: outbox::Gate,
    /// Taken by the writer for each batch and by each bulk write (see
    /// `Connections::write_turn`).
    turn: Mutex<()>,
    _checkpointer: AbortOnDrop,
}

/// The connection messages are appended on, outside the pool (which pings a
/// connection's worker thread each time it is returned), and the position
/// the next post should take: a hint, checked by the post itself against
/// the counter row (see [`fast_insert`]).
struct Appender {
    conn: SqliteConnection,
    next: i64,
    /// Each room's last post number (`messages.n`).
    ordinals: Ordinals,
}

/// Ends the checkpoint task with the store.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SqliteStore {
    /// Opens (and migrates) the file `url` names; only with `create` does
    /// a missing file get made.
    pub(super) async fn open(url: &str, sync: SqliteSync, create: bool) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL syncs the WAL at every commit, so an acked message survives
            // power loss too; group commit keeps that fsync off the per-message
            // path. NORMAL in WAL mode still survives the process dying.
            .synchronous(match sync {
                SqliteSync::Full => SqliteSynchronous::Full,
                SqliteSync::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Space a write frees inside a page (a row moved by a split, an
            // old cell) is zeroed, so copies of a text a later delete
            // removes do not linger there; FAST costs no I/O. Batches with
            // deletions turn it fully on (`secure_delete`).
            .pragma("secure_delete", "fast")
            // No connection checkpoints when its commit grows the WAL past
            // 1000 pages: that would stall the writer for the copy and the
            // fsyncs several times a second under load (p99 of the 200-room
            // benchmark 2.5 ms instead of 1). A task of its own does it.
            .pragma("wal_autocheckpoint", "0")
            // A WAL that grew in a burst shrinks back to 64 MiB when it
            // starts over (see `checkpoint_loop`).
            .pragma("journal_size_limit", "67108864");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // An in-process connection to a local file cannot have gone away
            // the way a network connection can, and testing it is a round
            // trip to its worker thread: a third of the thread handoffs of
            // each query (the pool still tests it on release).
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        let readers = Readers::open(&options).await?;
        let last: i64 = sqlx::query_scalar(LAST).fetch_one(&pool).await?;
        let appender = Appender {
            conn: options.connect().await?,
            next: last + 1,
            ordinals: Ordinals::default(),
        };
        let checkpointer = tokio::spawn(checkpoint_loop(options.connect().await?));
        Ok(Self {
            pool,
            readers,
            appender: Mutex::new(appender),
            hooks: outbox::Gate::default(),
            turn: Mutex::new(()),
            _checkpointer: AbortOnDrop(checkpointer),
        })
    }
}

/// The file a `sqlite:` URL names, made absolute so a message shows which
/// directory it was looked for in; `None` for in-memory databases.
pub(super) fn file_of(url: &str) -> anyhow::Result<Option<std::path::PathBuf>> {
    let options = SqliteConnectOptions::from_str(url)?;
    let db = options.get_filename();
    if db.as_os_str().is_empty() || db.as_os_str() == ":memory:" {
        return Ok(None);
    }
    Ok(Some(
        std::path::absolute(db).unwrap_or_else(|_| db.to_owned()),
    ))
}

/// Writes a consistent copy of the database to `to` with `VACUUM INTO`: one
/// read transaction, so the copy holds every transaction committed before it
/// began (every message acked by then) and none of a later one, while the
/// server goes on writing (WAL readers never block the writer). The copy is a
/// plain database file, with no WAL beside it, ready to be served.
pub(super) async fn backup(url: &str, to: &std::path::Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        !to.exists(),
        "{} already exists; backup never overwrites a file",
        to.display()
    );
    let target = to
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("{}: not a UTF-8 path", to.display()))?;
    let mut conn = SqliteConnectOptions::from_str(url)?
        .create_if_missing(false)
        .read_only(true)
        .busy_timeout(Duration::from_secs(10))
        .connect()
        .await?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&mut conn)
        .await
        .with_context(|| format!("writing the copy to {}", to.display()))?;
    Ok(())
}

/// For `roomcast serve` on SQLite: an exclusive lock on `PATH-lock` beside
/// the database, held as long as the returned file is open (the kernel
/// releases it when the process ends, `kill -9` included). A second server
/// on the same file would start and then fail every write behind the first
/// one's writer; it refuses to start instead. The admin commands take no
/// lock and work while the server runs. `None` for PostgreSQL and
/// in-memory SQLite.
pub fn lock_for_server(url: &str) -> anyhow::Result<Option<std::fs::File>> {
    if !url.starts_with("sqlite:") {
        return Ok(None);
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    let db = options.get_filename();
    if db.as_os_str().is_empty() || db.as_os_str() == ":memory:" {
        return Ok(None);
    }
    let mut path = db.as_os_str().to_owned();
    path.push("-lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "database {} is in use by another roomcast server (it holds {}); \
             one server per SQLite file (use PostgreSQL for several nodes)",
            db.display(),
            std::path::Path::new(&path).display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", std::path::Path::new(&path).display()))
        }
    }
}

/// Frames in the WAL (4 KiB pages) past which a checkpoint also starts the
/// WAL over: 16 MiB.
const RESTART_ABOVE: i64 = 4096;

/// Copies the WAL into the database file every [`CHECKPOINT_EVERY`], on a
/// connection (and so a thread) of its own. PASSIVE never waits for the
/// writer or readers: frames still in use are left for the next round.
///
/// SQLite starts the WAL over only when a commit finds every frame copied,
/// and under steady writes some commit always lands during the copy: in a
/// restart storm the WAL grew to 211 MB beside a 7 MB database, and every
/// read and every start (which rebuilds the WAL's index) paid for it. Past
/// [`RESTART_ABOVE`] frames, a RESTART follows: it copies what was
/// committed since the PASSIVE one, holding commits off for that short copy,
/// waits for readers to leave the WAL, and the next commit writes from its
/// start (`journal_size_limit` then trims the file).
async fn checkpoint_loop(mut conn: SqliteConnection) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let frames = match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut conn)
            .await
        {
            Ok((_, frames, _)) => frames,
            Err(e) => {
                tracing::warn!(error = %e, "SQLite WAL checkpoint failed; retrying");
                continue;
            }
        };
        if frames > RESTART_ABOVE
            && let Err(e) = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
                .execute(&mut conn)
                .await
        {
            tracing::warn!(error = %e, "SQLite WAL restart failed; retrying");
        }
    }
}

/// The last stream position given out: posts count by their ids, changes
/// by the counter row (which the admin CLI's changes move too). Read at
/// open and in every transaction; a post alone checks the counter row
/// instead ([`fast_insert`]).
const LAST: &str = "SELECT MAX(COALESCE((SELECT MAX(id) FROM messages), 0), \
                    (SELECT last FROM stream))";

/// A batch of posts numbered from `first` in one statement (one trip to the
/// connection's thread, not four: BEGIN, a read, INSERT, COMMIT), which
/// fails, inserting nothing, when a change elsewhere (the admin CLI) moved
/// the counter row to `first` or past it: the first row's `seq` is then
/// NULL, which the column refuses ([`guard_failed`]); the writer then takes
/// the transaction path, which reads [`LAST`]. The guard reads only
/// `stream`, once, inside a plain multi-row VALUES: a statement reading
/// `messages` while inserting into it makes SQLite copy the rows through a
/// temporary table (+5 to +35 us a statement of 8 rows, measured with
/// Python's sqlite3 3.40), and `INSERT .. SELECT .. FROM (VALUES ..)` with
/// the guard in its WHERE copies every row through a co-routine (acked
/// chats/s 72,162 and 87,552 against 86,028 and 106,739 plain, two rounds
/// of `roomcast-load`, 64 rooms, window 64, release build).
fn fast_insert(
    rows: &[(usize, &super::NewMessage)],
    ns: &[i64],
    first: i64,
    ts: i64,
) -> QueryBuilder<Sqlite> {
    let mut insert = QueryBuilder::new(
        "INSERT INTO messages (id, seq, room, user_id, user_name, body, ts, reply_to, n) VALUES ",
    );
    for (k, ((_, m), n)) in rows.iter().zip(ns).enumerate() {
        let id = first + k as i64;
        insert.push(if k == 0 { "(" } else { ", (" });
        insert.push_bind(id).push(", ");
        if k == 0 {
            insert
                .push("(SELECT CASE WHEN last < ")
                .push_bind(first)
                .push(" THEN ")
                .push_bind(first)
                .push(" END FROM stream)");
        } else {
            insert.push_bind(id);
        }
        insert
            .push(", ")
            .push_bind(m.room.as_str())
            .push(", ")
            .push_bind(m.user.id.as_str())
            .push(", ")
            .push_bind(m.user.name.as_str())
            .push(", ")
            .push_bind(m.message.as_str())
            .push(", ")
            .push_bind(ts)
            .push(", ")
            .push_bind(m.reply_to.as_ref().map(|r| r.id))
            .push(", ")
            .push_bind(*n)
            .push(")");
    }
    insert
}

/// Whether a [`fast_insert`] failed on its guard (its NULL `seq`), not on
/// anything else.
fn guard_failed(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::NotNullViolation)
}

/// One multi-row INSERT of posts already numbered.
fn insert_statement(rows: &[(&Message, i64)]) -> QueryBuilder<Sqlite> {
    let mut insert = QueryBuilder::new(
        "INSERT INTO messages (id, seq, room, user_id, user_name, body, ts, reply_to, n) ",
    );
    insert.push_values(rows, |mut row, (m, n)| {
        row.push_bind(m.id)
            .push_bind(m.seq)
            .push_bind(&m.room)
            .push_bind(&m.user.id)
            .push_bind(&m.user.name)
            .push_bind(&m.message)
            .push_bind(m.ts)
            .push_bind(m.reply_to.as_ref().map(|r| r.id))
            .push_bind(*n);
    });
    insert
}

impl Connections for SqliteStore {
    type Db = Sqlite;
    type Reader<'a> = MutexGuard<'a, SqliteConnection>;

    // SQLite's default collation compares bytes.
    connections::sorted_lists!("");

    // The index is the outer loop, newest first by its rowid, so a common
    // word stops at the page; each match is then one lookup by id.
    const SEARCH_HITS: &'static str = "SELECT s.id FROM messages_fts \
        CROSS JOIN messages s ON s.id = messages_fts.rowid WHERE messages_fts MATCH ";
    const SEARCH_HITS_END: &'static str = "";
    const SEARCH_KEY: &'static str = "messages_fts.rowid";
    const LOCK_ROWS: &'static str = "";
    const LOCK_UPLOADER: &'static str = "";

    fn search_text(query: &SearchQuery) -> String {
        query.fts5()
    }

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn reader(&self) -> StoreResult<Self::Reader<'_>> {
        Ok(self.readers.get().await)
    }

    async fn write_turn(&self) -> Option<MutexGuard<'_, ()>> {
        Some(self.turn.lock().await)
    }

    fn affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }
}

#[async_trait]
impl Append for SqliteStore {
    async fn apply(&self, batch: Vec<Change>) -> StoreResult<(Vec<Outcome>, Batch)> {
        let _turn = self.turn.lock().await;
        let mut appender = self.appender.lock().await;
        let Appender {
            conn,
            next,
            ordinals,
        } = &mut *appender;
        let ts = now_ms();
        let screened = restraints::screen::<SqliteStore>(conn, &batch, ts).await?;
        let (batch, refused) = restraints::split(batch, screened.refusals);
        let slowed = screened.slowed;
        if batch.is_empty() {
            let (outcomes, applied) = assemble(with_refusals(Vec::new(), refused));
            return Ok((outcomes, Batch::new(applied, Order::Alone)));
        }
        let posts: Vec<(usize, &super::NewMessage)> = batch
            .iter()
            .enumerate()
            .filter_map(|(k, c)| match c {
                Change::Post(m) => Some((k, m)),
                _ => None,
            })
            .collect();
        // A slowed post has its time recorded in the same transaction, and
        // so are the webhooks it owes.
        let hooks = self.hooks.open::<SqliteStore>(conn).await?;
        let fast = !hooks
            && posts.len() == batch.len()
            && !posts.iter().any(|(_, m)| mentions::may_mention(&m.message))
            && posts.len() <= ROWS_PER_INSERT
            && posts.iter().all(|(_, m)| m.files.is_empty())
            && slowed.is_empty();
        let inserted = if fast {
            let first = *next;
            let rooms: Vec<&str> = posts.iter().map(|(_, m)| m.room.as_str()).collect();
            let drawn = ordinals.draw::<SqliteStore>(conn, &rooms).await?;
            match fast_insert(&posts, &drawn.ns, first, ts)
                .build()
                .execute(&mut *conn)
                .await
            {
                Ok(_) => {
                    ordinals.keep(drawn);
                    true
                }
                Err(e) if guard_failed(&e) => false,
                Err(e) => return Err(e.into()),
            }
        } else {
            false
        };
        drop(posts);
        let items = if inserted {
            let first = *next;
            *next += batch.len() as i64;
            batch
                .into_iter()
                .zip(first..)
                .filter_map(|(c, id)| match c {
                    Change::Post(m) => Some(Item::Posted(m.stored(id, ts))),
                    _ => None,
                })
                .collect()
        } else {
            // Any change rewrites a row, which may free its old overflow
            // pages with the text in them; FAST leaves freed pages as they
            // were, so a change batch zeroes them.
            let deletes = batch.iter().any(|c| !matches!(c, Change::Post(_)));
            if deletes {
                secure_delete(conn, true).await?;
            }
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            let result = match in_transaction(conn, ordinals, batch, ts, &slowed, hooks).await {
                Ok((items, last, drawn)) => match sqlx::query("COMMIT").execute(&mut *conn).await {
                    Ok(_) => {
                        ordinals.keep(drawn);
                        Ok((items, last))
                    }
                    Err(e) => Err(e.into()),
                },
                Err(e) => {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                    Err(e)
                }
            };
            if deletes {
                secure_delete(conn, false).await?;
            }
            let (items, last) = result?;
            *next = last + 1;
            items
        };
        let (outcomes, applied) = assemble(with_refusals(items, refused));
        if applied
            .iter()
            .any(|a| a.happened == super::Happened::Deleted)
        {
            forget_deleted(conn).await;
        }
        // One writer task and one process per file: commit order is id order.
        Ok((outcomes, Batch::new(applied, Order::Alone)))
    }
}

/// A mixed batch inside `BEGIN IMMEDIATE`: positions from [`LAST`], the
/// posts in multi-row INSERTs (and the slowed ones' times), then each
/// change in submit order, then (with `hooks`) the webhooks they owe;
/// returns the items, the last position given out and the post numbers
/// drawn (to keep once committed).
async fn in_transaction(
    conn: &mut SqliteConnection,
    ordinals: &Ordinals,
    batch: Vec<Change>,
    ts: i64,
    slowed: &[(String, String)],
    hooks: bool,
) -> StoreResult<(Vec<Item>, i64, Drawn)> {
    // Inside the transaction: the files a post attaches are screened and
    // attached with no other writer in between.
    let files::Screened {
        kept: batch,
        refused,
        files: mut attached,
    } = files::screen::<SqliteStore>(conn, batch).await?;
    let last: i64 = sqlx::query_scalar(LAST).fetch_one(&mut *conn).await?;
    let n = batch.len() as i64;
    let mut items = Vec::with_capacity(batch.len());
    let mut changes = Vec::new();
    for (k, (seq, change)) in (last + 1..).zip(batch).enumerate() {
        match change {
            Change::Post(m) => {
                let mut stored = m.stored(seq, ts);
                stored.files = std::mem::take(&mut attached[k]);
                items.push(Item::Posted(stored));
            }
            change => {
                changes.push((k, seq, change));
                items.push(Item::Waiting);
            }
        }
    }
    let posted: Vec<&Message> = items
        .iter()
        .filter_map(|i| match i {
            Item::Posted(m) => Some(m),
            _ => None,
        })
        .collect();
    let rooms: Vec<&str> = posted.iter().map(|m| m.room.as_str()).collect();
    let drawn = ordinals.draw::<SqliteStore>(conn, &rooms).await?;
    let numbered: Vec<(&Message, i64)> = posted.into_iter().zip(drawn.ns.iter().copied()).collect();
    for chunk in numbered.chunks(ROWS_PER_INSERT) {
        insert_statement(chunk).build().execute(&mut *conn).await?;
    }
    drop(numbered);
    mentions::of_posts::<SqliteStore>(&mut *conn, &mut items).await?;
    files::attach::<SqliteStore>(&mut *conn, &items).await?;
    restraints::record_slowed::<SqliteStore>(&mut *conn, slowed, ts).await?;
    for (k, seq, change) in changes {
        items[k] = Item::Step(changes::apply::<SqliteStore>(&mut *conn, change, seq, ts).await?);
    }
    if hooks {
        outbox::record::<SqliteStore>(&mut *conn, &outbox::events_of(&items)?, ts).await?;
    }
    sqlx::query("UPDATE stream SET last = $1")
        .bind(last + n)
        .execute(&mut *conn)
        .await?;
    Ok((with_refusals(items, refused), last + n, drawn))
}

/// Turns SQLite's `secure_delete` fully on for a batch with changes (what
/// it frees, the old text of the row and its overflow pages, is overwritten
/// with zeros in the file, not only unlinked) and back to FAST after: fully
/// on for every write it cost about a fifth of the acked chats per second
/// (roomcast-load, 100 rooms, debug build: 11,006 against 14,032 median).
async fn secure_delete(conn: &mut SqliteConnection, on: bool) -> StoreResult<()> {
    let sql = if on {
        "PRAGMA secure_delete = ON"
    } else {
        "PRAGMA secure_delete = FAST"
    };
    sqlx::query(sql).execute(&mut *conn).await?;
    Ok(())
}

/// After a batch that deleted messages: copies the WAL into the file and
/// truncates it, so the deleted text (in older frames of the WAL) is gone
/// from disk before the deletion is acked; `secure_delete` (see
/// [`secure_delete`]) has zeroed it in the pages. Readers finish within moments; a checkpoint still busy
/// after a while is logged and left to the next deletion or checkpoint.
async fn forget_deleted(conn: &mut SqliteConnection) {
    for _ in 0..100 {
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *conn)
            .await
        {
            Ok((0, _, _)) => return,
            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(e) => {
                tracing::warn!(error = %e, "could not truncate the WAL after a deletion");
                return;
            }
        }
    }
    tracing::warn!("the WAL still holds frames after a deletion: readers kept it busy");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--sqlite-sync` reaches every pooled connection (PRAGMA synchronous:
    /// 2 = FULL, 1 = NORMAL).
    #[tokio::test]
    async fn the_sync_setting_reaches_the_connections() {
        for (sync, expected) in [(SqliteSync::Full, 2), (SqliteSync::Normal, 1)] {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("t.db").display());
            let store = SqliteStore::open(&url, sync, true).await.expect("open");
            let mut conns = Vec::new();
            for _ in 0..3 {
                conns.push(store.pool.acquire().await.expect("connection"));
            }
            for c in &mut conns {
                let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(&mut **c)
                    .await
                    .expect("pragma");
                assert_eq!(level, expected, "{sync:?}");
                let auto: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
                    .fetch_one(&mut **c)
                    .await
                    .expect("pragma");
                assert_eq!(auto, 0, "commits never checkpoint");
            }
        }
    }
}
