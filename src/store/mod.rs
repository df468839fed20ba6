//! Durable storage behind one interface; the backend is picked by URL scheme in [`open`].

mod admin;
mod postgres;
mod sql;
mod sqlite;
mod sqlite_readers;
mod url;
mod writer;

use std::sync::Arc;

use async_trait::async_trait;
use prometheus::Histogram;
use tokio::task::JoinHandle;

use crate::domain::{Message, RoomName, RoomRecord, User};
use postgres::RoomLocks;

pub use sqlite::lock_for_server;
pub use url::{describe, sqlite_file};
pub use writer::{Committed, Done, Writer};

/// Errors at the storage edge. Database detail stays in `Unavailable` and is
/// only ever logged.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists")]
    Conflict,
    #[error("not found")]
    NotFound,
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A message accepted from a client, not yet stored.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub room: RoomName,
    pub user: User,
    pub message: String,
}

impl NewMessage {
    /// The message as stored under `id` at `ts`.
    fn stored(self, id: i64, ts: i64) -> Message {
        Message {
            id,
            room: self.room.into_string(),
            user: self.user,
            message: self.message,
            ts,
        }
    }
}

/// Which slice of a room's history to read, and how much of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The newest `limit` messages.
    Latest { limit: u32 },
    /// The newest `limit` messages with an id below `id`.
    Before { id: i64, limit: u32 },
    /// The oldest `limit` messages with an id above `id` (replay after reconnect).
    After { id: i64, limit: u32 },
}

/// A page of messages, oldest first; `more` says whether the page was cut:
/// older messages exist (`Latest`, `Before`) or newer ones do (`After`).
#[derive(Debug, Clone, Default)]
pub struct HistoryPage {
    pub messages: Vec<Message>,
    pub more: bool,
}

/// What the login route needs to check a password.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
    pub disabled: bool,
    /// May log into the Socket.IO Admin UI (`roomcast user promote`).
    pub admin: bool,
}

/// A built-in account as `roomcast user list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: User,
    pub disabled: bool,
    pub admin: bool,
}

/// An API key as stored (`roomcast key`), without its secret: the server
/// keeps only the SHA-256 of the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// Unique; the bot's user is `bot:` and this name.
    pub name: String,
    /// The user the key acts as.
    pub user_id: String,
    /// The rooms it is limited to; empty for every room.
    pub rooms: Vec<String>,
    /// May act as any user (`X-Roomcast-As`).
    pub server: bool,
    /// Unix ms, recorded at most once a minute per node.
    pub last_used: Option<i64>,
}

/// What the server reads and writes, appending aside (that is the
/// [`Writer`]'s). Implementations translate their database errors into
/// [`StoreError`] so no caller ever sees a driver type.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores `value` under `key` unless a value is already there; returns the stored value.
    async fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String>;

    async fn create_user(&self, user: &User, password_hash: &str) -> StoreResult<()>;
    async fn credentials(&self, user_id: &str) -> StoreResult<Option<Credentials>>;

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// The user of a live session; expired sessions and disabled users give `None`.
    async fn session_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<User>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;

    async fn room(&self, name: &RoomName) -> StoreResult<Option<RoomRecord>>;
    /// Creates a room; `Conflict` when the name is taken.
    async fn create_room(&self, room: &RoomRecord) -> StoreResult<()>;
    async fn is_member(&self, room: &RoomName, user_id: &str) -> StoreResult<bool>;
    async fn add_member(&self, room: &RoomName, user_id: &str) -> StoreResult<()>;
    /// Removes an invitation; `false` when the user was not a member.
    async fn remove_member(&self, room: &RoomName, user_id: &str) -> StoreResult<bool>;
    /// Public rooms, rooms the user owns and private rooms they were invited to.
    async fn rooms_for(&self, user_id: &str) -> StoreResult<Vec<RoomRecord>>;

    async fn history(&self, room: &RoomName, page: Page) -> StoreResult<HistoryPage>;

    /// Answers when the database does (for health checks).
    async fn ping(&self) -> StoreResult<()>;

    /// Whether the app user (a JWT subject) is disabled; one read, and on
    /// their first connect one insert that makes them known.
    async fn app_user_seen(&self, user: &User) -> StoreResult<bool>;
    /// The key whose SHA-256 is `key_hash`; `None` for no key or a revoked one.
    async fn api_key(&self, key_hash: &str) -> StoreResult<Option<KeyRecord>>;
    /// The names of every key that is not revoked.
    async fn key_names(&self) -> StoreResult<Vec<String>>;
    /// Records when keys were last used (name, unix ms); revoked ones are skipped.
    async fn keys_used(&self, used: &[(String, i64)]) -> StoreResult<()>;
}

/// What `roomcast user|room` adds to the [`Store`]; the server never holds
/// one ([`open_admin`]). `NotFound` when the user or room does not exist.
#[async_trait]
pub trait Admin: Store {
    /// Every built-in account, sorted by id.
    async fn users(&self) -> StoreResult<Vec<Account>>;
    /// Also ends the user's sessions.
    async fn set_password(&self, user_id: &str, password_hash: &str) -> StoreResult<()>;
    /// Disabling also ends the user's sessions.
    async fn set_disabled(&self, user_id: &str, disabled: bool) -> StoreResult<()>;
    /// Grants or takes away the Admin UI (`user promote|demote`).
    async fn set_admin(&self, user_id: &str, admin: bool) -> StoreResult<()>;
    /// Every room, sorted by name.
    async fn all_rooms(&self) -> StoreResult<Vec<RoomRecord>>;
    /// Deletes a room with its members and its messages. A stored name, not
    /// a [`RoomName`]: rooms named before a rule changed must go too.
    async fn delete_room(&self, name: &str) -> StoreResult<()>;
    /// Every app user seen so far, sorted by id.
    async fn app_users(&self) -> StoreResult<Vec<Account>>;
    /// Disables (or enables) an app user; disabling one never seen makes it
    /// known as disabled, enabling one never seen is `NotFound`.
    async fn set_app_disabled(&self, user_id: &str, disabled: bool) -> StoreResult<()>;
    /// Stores a new key under the hash of its secret; `Conflict` for a taken name.
    async fn create_key(&self, key: &KeyRecord, key_hash: &str) -> StoreResult<()>;
    /// Deletes a key; `NotFound` when there is none of that name.
    async fn revoke_key(&self, name: &str) -> StoreResult<()>;
    /// Every key, sorted by name.
    async fn keys(&self) -> StoreResult<Vec<KeyRecord>>;
}

/// Stores a batch in one transaction and returns it with ids and times, in
/// order, holding what keeps its rooms in order until delivery. Private to
/// the store: only the [`Writer`] that [`open`] starts appends.
#[async_trait]
trait Append: Send + Sync + 'static {
    async fn append(&self, batch: Vec<NewMessage>) -> StoreResult<Batch>;
}

/// A committed batch: its messages, with ids and times, in id order, and
/// what keeps its rooms in that order. The messages are reached only through
/// [`Batch::deliver`], which holds the order until delivery is done, so no
/// message of these rooms committed later, on any node, can be delivered
/// before them. Dropping a batch undelivered releases the order too.
#[must_use = "a committed batch is for delivery: call `deliver`"]
pub struct Batch {
    messages: Vec<Message>,
    order: Order,
}

/// What keeps a batch's rooms in id order until it is delivered.
enum Order {
    /// SQLite: one writer per file, so commit order is id order already.
    Alone,
    /// PostgreSQL: the advisory locks of the batch's rooms, which the next
    /// writer of any of them, on any node, waits for before drawing ids.
    Locked(RoomLocks),
}

impl Batch {
    fn new(messages: Vec<Message>, order: Order) -> Self {
        Self { messages, order }
    }

    /// Runs `deliver` on the messages, then lets the next writer of these rooms go on.
    pub async fn deliver(self, deliver: impl AsyncFnOnce(&[Message])) {
        let Self { messages, order } = self;
        deliver(&messages).await;
        order.release();
    }
}

impl Order {
    fn release(self) {
        match self {
            Order::Alone => {}
            Order::Locked(locks) => drop(locks),
        }
    }
}

/// Every side of a backend; only [`open`] and [`open_admin`] see it whole.
trait Backend: Store + Admin + Append {}

impl<T: Store + Admin + Append> Backend for T {}

/// When a SQLite commit counts as done: what an acked message survives.
/// PostgreSQL follows its own `synchronous_commit` instead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSync {
    /// Every group commit is flushed to disk (fsync): an acked message
    /// survives a power cut or a kernel crash.
    #[default]
    Full,
    /// The WAL is written at every commit but flushed only at checkpoints:
    /// an acked message survives the server being killed (`kill -9`), not a
    /// power cut; a commit costs a write instead of a disk flush.
    Normal,
}

/// The server's store and its one writer.
pub struct Opened {
    pub store: Arc<dyn Store>,
    pub writer: Writer,
    /// Committed batches in commit order, for delivery.
    pub committed: Committed,
    /// Ends once every [`Writer`] handle is dropped and the queue is drained.
    pub writer_task: JoinHandle<()>,
}

/// Opens (creating and migrating when needed) the store a URL names and
/// starts its writer; `commit_seconds` observes each group commit.
pub async fn open(
    url: &str,
    sync: SqliteSync,
    commit_seconds: Histogram,
) -> anyhow::Result<Opened> {
    let backend = connect(url, sync, true).await?;
    let (writer, committed, writer_task) = Writer::spawn(backend.clone(), commit_seconds);
    Ok(Opened {
        store: backend,
        writer,
        committed,
        writer_task,
    })
}

/// Opens the store a URL names for administration (`roomcast user|room|token`),
/// which never creates a database: a missing SQLite file, or a PostgreSQL
/// database with no roomcast tables, means the command was pointed at the
/// wrong place, and a new one (with a new JWT secret) would only hide that.
pub async fn open_admin(url: &str, sync: SqliteSync) -> anyhow::Result<Arc<dyn Admin>> {
    if let Some(file) = sqlite_file(url)?
        && !file.exists()
    {
        anyhow::bail!(
            "no database at {} (from {url}); the admin commands never create one. \
             Point them at the server's database with --database URL, \
             ROOMCAST_DATABASE=URL or --config FILE (the server's TOML)",
            file.display()
        );
    }
    Ok(connect(url, sync, false).await?)
}

/// `roomcast backup`: a consistent copy of the SQLite database `url` names,
/// written to `to` (which must not exist yet) while the server may be
/// running. PostgreSQL has its own tool for this, `pg_dump`.
pub async fn backup(url: &str, to: &std::path::Path) -> anyhow::Result<()> {
    match sqlite_file(url)? {
        Some(file) if !file.exists() => anyhow::bail!(
            "no database at {} (from {url}); point `backup` at the server's database \
             with --database URL, ROOMCAST_DATABASE=URL or --config FILE",
            file.display()
        ),
        Some(_) => sqlite::backup(url, to).await,
        None if url.starts_with("sqlite:") => {
            anyhow::bail!("an in-memory database cannot be backed up")
        }
        None => anyhow::bail!(
            "backup copies SQLite databases; for PostgreSQL use its own tool: \
             pg_dump --format=custom --file=FILE URL, restored with pg_restore --dbname=URL FILE"
        ),
    }
}

async fn connect(url: &str, sync: SqliteSync, create: bool) -> anyhow::Result<Arc<dyn Backend>> {
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => Ok(Arc::new(
            sqlite::SqliteStore::open(url, sync, create).await?,
        )),
        Some("postgres" | "postgresql") => {
            Ok(Arc::new(postgres::PgStore::open(url, create).await?))
        }
        _ => anyhow::bail!(
            "unsupported database URL: expected sqlite://PATH or postgres://USER@HOST/DB"
        ),
    }
}
