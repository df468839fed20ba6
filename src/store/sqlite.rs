//! SQLite backend: one WAL-mode file, migrated on open.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, QueryBuilder, Row, Sqlite};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::sqlite_readers::Readers;
use super::{
    Appended, Credentials, HistoryPage, NewMessage, Page, SqliteSync, Store, StoreError,
    StoreResult,
};
use crate::domain::{Message, RoomRecord, User, Visibility, now_ms};

/// SQLite's bound-parameter limit is 32766; 6 columns a row keeps a chunk well under it.
const ROWS_PER_INSERT: usize = 500;

/// How often the WAL is checkpointed into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

pub(super) struct SqliteStore {
    pub(super) pool: SqlitePool,
    /// For the reads of every connect and join.
    readers: Readers,
    /// Only the group-commit writer appends, and it holds this across its
    /// statement, so ids follow commit order.
    appender: Mutex<Appender>,
    _checkpointer: AbortOnDrop,
}

/// The connection messages are appended on, outside the pool (which pings a
/// connection's worker thread each time it is returned), and the next id.
struct Appender {
    conn: SqliteConnection,
    next_id: i64,
}

/// Ends the checkpoint task with the store.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(super) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::RowNotFound => StoreError::NotFound,
        _ => StoreError::Unavailable(e.to_string()),
    }
}

impl SqliteStore {
    pub(super) async fn open(url: &str, sync: SqliteSync) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
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
            // No connection checkpoints when its commit grows the WAL past
            // 1000 pages: that would stall the writer for the copy and the
            // fsyncs several times a second under load (p99 of the 200-room
            // benchmark 2.5 ms instead of 1). A task of its own does it.
            .pragma("wal_autocheckpoint", "0");
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
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM messages")
            .fetch_one(&pool)
            .await?;
        let readers = Readers::open(&options).await?;
        let appender = Appender {
            conn: options.connect().await?,
            next_id: max.unwrap_or(0) + 1,
        };
        let checkpointer = tokio::spawn(checkpoint_loop(options.connect().await?));
        Ok(Self {
            pool,
            readers,
            appender: Mutex::new(appender),
            _checkpointer: AbortOnDrop(checkpointer),
        })
    }
}

/// Copies the WAL into the database file every [`CHECKPOINT_EVERY`], on a
/// connection (and so a thread) of its own. PASSIVE never waits for the
/// writer or readers: frames still in use are left for the next round, and
/// SQLite restarts the WAL from its beginning once all are copied.
async fn checkpoint_loop(mut conn: SqliteConnection) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut conn)
            .await
        {
            tracing::warn!(error = %e, "SQLite WAL checkpoint failed; retrying");
        }
    }
}

/// One multi-row INSERT of `rows`.
fn insert_statement(rows: &[Message]) -> QueryBuilder<Sqlite> {
    let mut insert =
        QueryBuilder::new("INSERT INTO messages (id, room, user_id, user_name, body, ts) ");
    insert.push_values(rows, |mut row, m| {
        row.push_bind(m.id)
            .push_bind(&m.room)
            .push_bind(&m.user.id)
            .push_bind(&m.user.name)
            .push_bind(&m.message)
            .push_bind(m.ts);
    });
    insert
}

pub(super) fn room_of(row: &SqliteRow) -> RoomRecord {
    let visibility: String = row.get("visibility");
    RoomRecord {
        name: row.get("name"),
        // The CHECK constraint allows only the two values.
        visibility: Visibility::parse(&visibility).unwrap_or(Visibility::Private),
        owner: row.get("owner"),
    }
}

fn message_of(row: &SqliteRow) -> Message {
    Message {
        id: row.get("id"),
        room: row.get("room"),
        user: User {
            id: row.get("user_id"),
            name: row.get("user_name"),
        },
        message: row.get("body"),
        ts: row.get("ts"),
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn create_user(&self, user: &User, password_hash: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO users (id, name, password_hash, created_at) VALUES (?, ?, ?, ?)")
            .bind(&user.id)
            .bind(&user.name)
            .bind(password_hash)
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn credentials(&self, user_id: &str) -> StoreResult<Option<Credentials>> {
        let row = sqlx::query("SELECT id, name, password_hash, disabled FROM users WHERE id = ?")
            .bind(user_id)
            .fetch_optional(&mut *self.readers.get().await)
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| Credentials {
            user: User {
                id: r.get("id"),
                name: r.get("name"),
            },
            password_hash: r.get("password_hash"),
            disabled: r.get::<i64, _>("disabled") != 0,
        }))
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)")
            .bind(token_hash)
            .bind(user_id)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *self.readers.get().await)
        .await
        .map_err(db_err)?;
        Ok(row.map(|r| User {
            id: r.get("id"),
            name: r.get("name"),
        }))
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn room(&self, name: &str) -> StoreResult<Option<RoomRecord>> {
        let row = sqlx::query("SELECT name, visibility, owner FROM rooms WHERE name = ?")
            .bind(name)
            .fetch_optional(&mut *self.readers.get().await)
            .await
            .map_err(db_err)?;
        Ok(row.as_ref().map(room_of))
    }

    async fn create_room(&self, room: &RoomRecord) -> StoreResult<()> {
        sqlx::query("INSERT INTO rooms (name, visibility, owner, created_at) VALUES (?, ?, ?, ?)")
            .bind(&room.name)
            .bind(room.visibility.as_str())
            .bind(&room.owner)
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn is_member(&self, room: &str, user_id: &str) -> StoreResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM members WHERE room = ? AND user_id = ?")
                .bind(room)
                .bind(user_id)
                .fetch_optional(&mut *self.readers.get().await)
                .await
                .map_err(db_err)?;
        Ok(found.is_some())
    }

    async fn add_member(&self, room: &str, user_id: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO members (room, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(room)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn remove_member(&self, room: &str, user_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM members WHERE room = ? AND user_id = ?")
            .bind(room)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn rooms_for(&self, user_id: &str) -> StoreResult<Vec<RoomRecord>> {
        let rows = sqlx::query(
            "SELECT name, visibility, owner FROM rooms \
             WHERE visibility = 'public' OR owner = ?1 \
                OR name IN (SELECT room FROM members WHERE user_id = ?1) \
             ORDER BY name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.iter().map(room_of).collect())
    }

    async fn append(&self, batch: Vec<NewMessage>) -> StoreResult<Appended> {
        let mut appender = self.appender.lock().await;
        let Appender { conn, next_id } = &mut *appender;
        let ts = now_ms();
        let stored: Vec<Message> = batch
            .into_iter()
            .zip(*next_id..)
            .map(|(m, id)| Message {
                id,
                room: m.room,
                user: m.user,
                message: m.message,
                ts,
            })
            .collect();
        match stored.len() {
            0 => {}
            // One statement is a transaction of its own: one trip to the
            // connection's thread instead of three (BEGIN, INSERT, COMMIT).
            n if n <= ROWS_PER_INSERT => {
                let mut insert = insert_statement(&stored);
                insert.build().execute(&mut *conn).await.map_err(db_err)?;
            }
            _ => {
                let mut tx = conn.begin().await.map_err(db_err)?;
                for chunk in stored.chunks(ROWS_PER_INSERT) {
                    let mut insert = insert_statement(chunk);
                    insert.build().execute(&mut *tx).await.map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
            }
        }
        *next_id += stored.len() as i64;
        // One writer task and one process per file: commit order is id order.
        Ok(Appended {
            messages: stored,
            order: None,
        })
    }

    async fn history(&self, room: &str, page: Page) -> StoreResult<HistoryPage> {
        let q = page.query();
        // `LIMIT +?`, not `LIMIT ?`: SQLite plans a bare bound LIMIT as a
        // constant and so expires the statement at every bind, re-preparing
        // (parsing and planning) it on each read; `+?` is an expression it
        // leaves to run time, and the cached statement is reused.
        let sql = if q.ascending {
            "SELECT * FROM messages WHERE room = ? AND id > ? ORDER BY id ASC LIMIT +?"
        } else {
            "SELECT * FROM messages WHERE room = ? AND id < ? ORDER BY id DESC LIMIT +?"
        };
        let rows = sqlx::query(sql)
            .bind(room)
            .bind(q.bound)
            .bind(q.fetch())
            .fetch_all(&mut *self.readers.get().await)
            .await
            .map_err(db_err)?;
        Ok(q.page(rows.iter().map(message_of).collect()))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn users(&self) -> StoreResult<Vec<(User, bool)>> {
        self.admin_users().await
    }

    async fn set_password(&self, user_id: &str, password_hash: &str) -> StoreResult<()> {
        self.admin_set_password(user_id, password_hash).await
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> StoreResult<()> {
        self.admin_set_disabled(user_id, disabled).await
    }

    async fn all_rooms(&self) -> StoreResult<Vec<RoomRecord>> {
        self.admin_rooms().await
    }

    async fn delete_room(&self, name: &str) -> StoreResult<()> {
        self.admin_delete_room(name).await
    }
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
            let store = SqliteStore::open(&url, sync).await.expect("open");
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

    /// With no connection checkpointing on commit, the task must: appended
    /// messages reach the database file itself, not only the WAL.
    #[tokio::test]
    async fn the_checkpoint_task_moves_the_wal_into_the_database_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let store = SqliteStore::open(&format!("sqlite://{}", path.display()), SqliteSync::Normal)
            .await
            .expect("open");
        let before = std::fs::metadata(&path).expect("db file").len();
        let batch = (0..2000)
            .map(|i| NewMessage {
                room: "r".into(),
                user: User {
                    id: "u".into(),
                    name: "U".into(),
                },
                message: format!("message {i} {}", "x".repeat(200)),
            })
            .collect();
        let appended = store.append(batch).await.expect("append");
        assert_eq!(appended.messages.len(), 2000);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let now = std::fs::metadata(&path).expect("db file").len();
            if now > before + 400_000 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "database file still {now} bytes (was {before}): no checkpoint"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
