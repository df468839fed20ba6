//! Durable storage behind one interface; the backend is picked by URL scheme in [`open`].

mod postgres;
mod postgres_admin;
mod sqlite;
mod sqlite_admin;
mod sqlite_readers;
mod writer;

use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;

use crate::domain::{Message, RoomRecord, User};

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
    pub room: String,
    pub user: User,
    pub message: String,
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

/// How a backend reads a [`Page`]: the rows of the room on one side of
/// `bound`, `limit + 1` of them (one row past the page tells whether there
/// is more), newest first unless `ascending`.
pub(super) struct PageQuery {
    pub(super) bound: i64,
    pub(super) ascending: bool,
    pub(super) limit: u32,
}

impl Page {
    pub(super) fn query(self) -> PageQuery {
        let (bound, ascending, limit) = match self {
            Page::Latest { limit } => (i64::MAX, false, limit),
            Page::Before { id, limit } => (id, false, limit),
            Page::After { id, limit } => (id, true, limit),
        };
        PageQuery {
            bound,
            ascending,
            limit,
        }
    }
}

impl PageQuery {
    /// The rows to fetch: the page and one more.
    pub(super) fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// The page from the rows fetched in the query's order.
    pub(super) fn page(&self, mut messages: Vec<Message>) -> HistoryPage {
        let more = messages.len() > self.limit as usize;
        messages.truncate(self.limit as usize);
        if !self.ascending {
            messages.reverse();
        }
        HistoryPage { messages, more }
    }
}

/// Held by a backend until a stored batch has been delivered, so that no
/// node delivers a later message of the same rooms before it (see
/// `postgres.rs`); dropping it lets the next writer of those rooms go on.
pub type OrderGuard = Box<dyn Send + Sync>;

/// A committed batch, with ids and times, in id order.
pub struct Appended {
    pub messages: Vec<Message>,
    /// `None` when the backend has a single writer (SQLite).
    pub order: Option<OrderGuard>,
}

/// What the login route needs to check a password.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
    pub disabled: bool,
}

/// The storage interface. Implementations translate their database errors
/// into [`StoreError`] so no caller ever sees a driver type.
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

    async fn room(&self, name: &str) -> StoreResult<Option<RoomRecord>>;
    /// Creates a room; `Conflict` when the name is taken.
    async fn create_room(&self, room: &RoomRecord) -> StoreResult<()>;
    async fn is_member(&self, room: &str, user_id: &str) -> StoreResult<bool>;
    async fn add_member(&self, room: &str, user_id: &str) -> StoreResult<()>;
    /// Removes an invitation; `false` when the user was not a member.
    async fn remove_member(&self, room: &str, user_id: &str) -> StoreResult<bool>;
    /// Public rooms, rooms the user owns and private rooms they were invited to.
    async fn rooms_for(&self, user_id: &str) -> StoreResult<Vec<RoomRecord>>;

    /// Stores a batch in one transaction and returns it with ids and times,
    /// in order. Called only by the [`Writer`]; its guard must be kept until
    /// the batch has been delivered.
    async fn append(&self, batch: Vec<NewMessage>) -> StoreResult<Appended>;
    async fn history(&self, room: &str, page: Page) -> StoreResult<HistoryPage>;

    /// Answers when the database does (for health checks).
    async fn ping(&self) -> StoreResult<()>;

    // Administration (`roomcast user|room`). `NotFound` when the user or room does not exist.
    /// Every built-in account, sorted by id, with whether it is disabled.
    async fn users(&self) -> StoreResult<Vec<(User, bool)>>;
    /// Also ends the user's sessions.
    async fn set_password(&self, user_id: &str, password_hash: &str) -> StoreResult<()>;
    /// Disabling also ends the user's sessions.
    async fn set_disabled(&self, user_id: &str, disabled: bool) -> StoreResult<()>;
    /// Every room, sorted by name.
    async fn all_rooms(&self) -> StoreResult<Vec<RoomRecord>>;
    /// Deletes a room with its members and its messages.
    async fn delete_room(&self, name: &str) -> StoreResult<()>;
}

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

/// Opens (creating and migrating when needed) the store a URL names.
pub async fn open(url: &str, sync: SqliteSync) -> anyhow::Result<Arc<dyn Store>> {
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => Ok(Arc::new(sqlite::SqliteStore::open(url, sync).await?)),
        Some("postgres" | "postgresql") => Ok(Arc::new(postgres::PgStore::open(url).await?)),
        _ => anyhow::bail!(
            "unsupported database URL: expected sqlite://PATH or postgres://USER@HOST/DB"
        ),
    }
}
