//! Durable storage behind one interface; the backend is picked by URL scheme in [`open`].

mod admin;
mod changes;
mod connections;
mod files;
mod membership;
mod mentions;
mod moderation;
mod outbox;
mod people;
mod postgres;
mod reads;
mod restraints;
mod search;
mod sql;
mod sqlite;
mod sqlite_readers;
mod url;
mod writer;

use std::sync::Arc;

use async_trait::async_trait;
use prometheus::Histogram;
use tokio::task::JoinHandle;

use serde::{Deserialize, Serialize};

use crate::domain::{Message, ReplyRef, RoomName, RoomRecord, User};
use postgres::RoomLocks;

pub use files::{CHUNK_BYTES, FileRecord, Files, Part};
pub use moderation::{Entry, Moderate, Moderation};
pub use outbox::{Backlog, Delivery, Endpoint, HookEvent, Origin, Webhooks};
pub use people::{DM_OWNER, People};
pub use reads::{Latest, Listed, ReadMark, Reads};
pub use restraints::Restraint;
pub use search::{Found, Scope, Search};
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
    /// A change to a message that is not the changer's to make.
    #[error("not yours")]
    NotYours,
    /// A reaction past [`MAX_REACTIONS`] distinct emoji on one message.
    #[error("too many reactions")]
    TooManyReactions,
    /// A post named a file that is not its author's unattached upload to
    /// its room (or named one twice): which of these is never said.
    #[error("no such file")]
    NoSuchFile,
    /// A ban, a mute or slow mode held the item back, as the writer found
    /// them in its batch (or the room is gone).
    #[error("restrained: {0:?}")]
    Restrained(Restraint),
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
    /// The parent it answers, read (and found in the same room) by the caller.
    pub reply_to: Option<ReplyRef>,
    /// The ids of the uploads it attaches (at most `MAX_FILES`), checked
    /// and attached by the writer in its transaction.
    pub files: Vec<String>,
}

impl NewMessage {
    /// The message as stored under `id` at `ts`.
    fn stored(self, id: i64, ts: i64) -> Message {
        Message {
            id,
            seq: id,
            room: self.room.into_string(),
            user: self.user,
            message: self.message,
            ts,
            edited: None,
            deleted: None,
            reply_to: self.reply_to,
            reactions: Vec::new(),
            mentions: Vec::new(),
            // Filled in by the writer from the rows it attaches.
            files: Vec::new(),
        }
    }
}

/// The most distinct emoji one message may carry.
pub const MAX_REACTIONS: i64 = 20;

/// What the writer applies: a new message, or a change to a stored one.
/// Each takes the next position of the message's room's stream.
#[derive(Debug, Clone)]
pub enum Change {
    Post(NewMessage),
    /// Only by the author; not of a deleted message.
    Edit {
        room: RoomName,
        id: i64,
        user: User,
        message: String,
    },
    /// By the author, or by anyone when `any` (the caller checked they may
    /// moderate the room). Removes the text and the reactions.
    Delete {
        room: RoomName,
        id: i64,
        by: User,
        any: bool,
    },
    /// Adding a reaction the user already made changes nothing.
    React {
        room: RoomName,
        id: i64,
        user: User,
        emoji: String,
    },
    /// Removing a reaction the user never made changes nothing.
    Unreact {
        room: RoomName,
        id: i64,
        user: User,
        emoji: String,
    },
}

impl Change {
    /// `React` when `added`, else `Unreact`: the socket event and the HTTP
    /// route pick one the same way.
    pub fn reaction(room: RoomName, id: i64, user: User, emoji: String, added: bool) -> Self {
        if added {
            Change::React {
                room,
                id,
                user,
                emoji,
            }
        } else {
            Change::Unreact {
                room,
                id,
                user,
                emoji,
            }
        }
    }

    fn room(&self) -> &RoomName {
        match self {
            Change::Post(m) => &m.room,
            Change::Edit { room, .. }
            | Change::Delete { room, .. }
            | Change::React { room, .. }
            | Change::Unreact { room, .. } => room,
        }
    }
}

/// What a committed change did, as delivery announces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Happened {
    Created,
    Edited,
    Deleted,
    Reacted {
        emoji: String,
        user: String,
        added: bool,
    },
}

/// One change of a committed batch: what happened, and the message as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub happened: Happened,
    pub message: Message,
}

/// The payload of a committed change's event: the message, and on a
/// `reaction` what changed (`reaction: {emoji, user, added}`).
#[derive(Debug, Serialize)]
pub struct ChangePayload<'a> {
    #[serde(flatten)]
    pub message: &'a Message,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaction: Option<ReactionNote<'a>>,
}

/// What a `reaction` event changed.
#[derive(Debug, Serialize)]
pub struct ReactionNote<'a> {
    pub emoji: &'a str,
    /// The user id of who reacted or took the reaction back.
    pub user: &'a str,
    /// `true` for `react`, `false` for `unreact`.
    pub added: bool,
}

impl<'a> ChangePayload<'a> {
    pub fn of(a: &'a Applied) -> Self {
        let reaction = match &a.happened {
            Happened::Reacted { emoji, user, added } => Some(ReactionNote {
                emoji,
                user,
                added: *added,
            }),
            _ => None,
        };
        Self {
            message: &a.message,
            reaction,
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
    /// The first `limit` messages created or changed after stream position
    /// `seq`, in stream order (replay after reconnect).
    Since { seq: i64, limit: u32 },
}

/// A page of messages, oldest first; `more` says whether the page was cut:
/// older messages exist (`Latest`, `Before`) or newer ones do (`Since`).
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
pub trait Store:
    Moderate + Webhooks + Reads + People + Search + Files + Send + Sync + 'static
{
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
    /// Deletes a room with its members and its messages, and owes the
    /// `room.deleted` webhook, in one transaction (`roomcast room delete`
    /// and the owner's deletion). A stored name, not a [`RoomName`]: rooms
    /// named before a rule changed must go too. Returns the user ids whose
    /// list held it; `NotFound` when there is no such room.
    async fn delete_room(&self, name: &str) -> StoreResult<Vec<String>>;

    async fn history(&self, room: &RoomName, page: Page) -> StoreResult<HistoryPage>;
    /// One message of `room` in its current state.
    async fn message(&self, room: &RoomName, id: i64) -> StoreResult<Option<Message>>;

    /// Answers when the database does (for health checks).
    async fn ping(&self) -> StoreResult<()>;

    /// Whether the app user (a JWT subject) is disabled; `None` when never seen.
    async fn app_user_disabled(&self, user_id: &str) -> StoreResult<Option<bool>>;
    /// Makes app users known (seen for the first time), in one transaction;
    /// one already known, or disabled meanwhile, stays as it is.
    async fn record_app_users(&self, users: &[User]) -> StoreResult<()>;
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

/// Applies a batch in one transaction, in order, and returns each item's
/// result (the message as it is now, or why that item was refused, which
/// fails no other) with what happened, holding what keeps its rooms in order
/// until delivery. Private to the store: only the [`Writer`] that [`open`]
/// starts, and [`apply_direct`], apply.
#[async_trait]
trait Append: Send + Sync + 'static {
    async fn apply(&self, batch: Vec<Change>) -> StoreResult<(Vec<Outcome>, Batch)>;
}

/// One item of a batch as a backend applied it, in submit order.
enum Item {
    Posted(Message),
    Step(changes::Step),
    /// Not applied yet (never left so by a backend that returns).
    Waiting,
}

/// A backend's items for the batch's screened-in changes, with the refused
/// ones put back at their places: one item per change submitted, in order.
fn with_refusals(items: Vec<Item>, refused: Vec<(usize, StoreError)>) -> Vec<Item> {
    if refused.is_empty() {
        return items;
    }
    let mut all = Vec::with_capacity(items.len() + refused.len());
    let mut items = items.into_iter();
    for (k, e) in refused {
        while all.len() < k {
            match items.next() {
                Some(i) => all.push(i),
                None => break,
            }
        }
        all.push(Item::Step(changes::Step::Refused(e)));
    }
    all.extend(items);
    all
}

/// Each item's [`Outcome`] and the batch's changes, both in submit order,
/// which is stream order.
fn assemble(items: Vec<Item>) -> (Vec<Outcome>, Vec<Applied>) {
    let mut outcomes = Vec::with_capacity(items.len());
    let mut applied = Vec::with_capacity(items.len());
    for item in items {
        let outcome = match item {
            Item::Posted(message) => {
                applied.push(Applied {
                    happened: Happened::Created,
                    message,
                });
                Outcome::InBatch(applied.len() - 1)
            }
            Item::Step(changes::Step::Changed(a)) => {
                applied.push(a);
                Outcome::InBatch(applied.len() - 1)
            }
            Item::Step(changes::Step::Unchanged(m)) => Outcome::Unchanged(Box::new(m)),
            Item::Step(changes::Step::Refused(e)) => Outcome::Refused(e),
            Item::Waiting => Outcome::Refused(StoreError::Unavailable("not applied".into())),
        };
        outcomes.push(outcome);
    }
    (outcomes, applied)
}

/// How one item of a batch fared.
enum Outcome {
    /// It changed its message: the batch's change at this index.
    InBatch(usize),
    /// It changed nothing (a reaction already there, or not there to
    /// remove): the message as it is.
    Unchanged(Box<Message>),
    Refused(StoreError),
}

/// A committed batch: what happened, in stream order, with each message's
/// current state, and what keeps its rooms in that order. The changes are
/// reached only through [`Batch::deliver`], which holds the order until
/// delivery is done, so no change of these rooms committed later, on any
/// node, can be delivered before them. Dropping a batch undelivered
/// releases the order too.
#[must_use = "a committed batch is for delivery: call `deliver`"]
pub struct Batch {
    changes: Vec<Applied>,
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
    fn new(changes: Vec<Applied>, order: Order) -> Self {
        Self { changes, order }
    }

    /// Runs `deliver` on the changes, then lets the next writer of these rooms go on.
    pub async fn deliver(self, deliver: impl AsyncFnOnce(&[Applied])) {
        let Self { changes, order } = self;
        deliver(&changes).await;
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

/// Applies one change outside the server's writer, for the admin CLI
/// (`roomcast message delete`): the same statements as the writer's, in a
/// transaction of their own, drawing the next stream position from the
/// database (SQLite: the counter row; PostgreSQL: the sequence, under the
/// room's advisory lock), so the change is in the stream for `join {since}`.
/// Sockets connected now are not told; they learn of it on their next join.
pub async fn apply_direct(
    url: &str,
    sync: SqliteSync,
    change: Change,
) -> anyhow::Result<StoreResult<Message>> {
    // A post takes its position from the server's writer, which on SQLite
    // counts posts in memory: only changes may come from elsewhere.
    anyhow::ensure!(
        !matches!(change, Change::Post(_)),
        "apply_direct changes stored messages; new ones go through the server"
    );
    let backend = connect_existing(url, sync).await?;
    let (mut results, batch) = backend.apply(vec![change]).await?;
    let mut message = None;
    batch
        .deliver(async |changes| message = changes.first().map(|c| c.message.clone()))
        .await;
    Ok(match (results.pop(), message) {
        (Some(Outcome::InBatch(_)), Some(m)) => Ok(m),
        (Some(Outcome::Unchanged(m)), _) => Ok(*m),
        (Some(Outcome::Refused(e)), _) => Err(e),
        _ => Err(StoreError::NotFound),
    })
}

/// Opens the store a URL names for administration (`roomcast user|room|token`),
/// which never creates a database: a missing SQLite file, or a PostgreSQL
/// database with no roomcast tables, means the command was pointed at the
/// wrong place, and a new one (with a new JWT secret) would only hide that.
pub async fn open_admin(url: &str, sync: SqliteSync) -> anyhow::Result<Arc<dyn Admin>> {
    Ok(connect_existing(url, sync).await?)
}

/// [`connect`] for the admin commands: a missing SQLite file is an error
/// that says where to point them, never a new database.
async fn connect_existing(url: &str, sync: SqliteSync) -> anyhow::Result<Arc<dyn Backend>> {
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
    connect(url, sync, false).await
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
