//! The webhook outbox (docs/protocol.md "Webhooks"): every event is written
//! by the transaction of the change that causes it, one row per endpoint
//! that wants its type, so a committed change always has its webhook owed,
//! `kill -9` right after the ack included. Rows leave the outbox when the
//! endpoint answered 2xx; after the last attempt they stay as `failed`.
//! The sender (`webhooks`) reads and updates them through [`Webhooks`].
//!
//! Per endpoint, rows are numbered in the order their transactions wrote
//! them (SQLite: one writer at a time; PostgreSQL: a message's row is
//! written under its room's advisory lock, so a room's events are numbered
//! in commit order), and the sender sends them in that order.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Serialize;
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, QueryBuilder, Type,
};

use super::connections::Connections;
use super::{Applied, ChangePayload, Happened, Item, StoreError, StoreResult};
use crate::domain::{RoomRecord, User};

/// The event types an endpoint may ask for (`events`), as the contract names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HookEvent {
    MessageCreated,
    MessageEdited,
    MessageDeleted,
    ReactionAdded,
    ReactionRemoved,
    MemberInvited,
    MemberRemoved,
    MemberBanned,
    MemberJoined,
    MemberLeft,
    RoomCreated,
    RoomDeleted,
    UserRegistered,
}

impl HookEvent {
    pub const ALL: [HookEvent; 13] = [
        HookEvent::MessageCreated,
        HookEvent::MessageEdited,
        HookEvent::MessageDeleted,
        HookEvent::ReactionAdded,
        HookEvent::ReactionRemoved,
        HookEvent::MemberInvited,
        HookEvent::MemberRemoved,
        HookEvent::MemberBanned,
        HookEvent::MemberJoined,
        HookEvent::MemberLeft,
        HookEvent::RoomCreated,
        HookEvent::RoomDeleted,
        HookEvent::UserRegistered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::MessageCreated => "message.created",
            HookEvent::MessageEdited => "message.edited",
            HookEvent::MessageDeleted => "message.deleted",
            HookEvent::ReactionAdded => "reaction.added",
            HookEvent::ReactionRemoved => "reaction.removed",
            HookEvent::MemberInvited => "member.invited",
            HookEvent::MemberRemoved => "member.removed",
            HookEvent::MemberBanned => "member.banned",
            HookEvent::MemberJoined => "member.joined",
            HookEvent::MemberLeft => "member.left",
            HookEvent::RoomCreated => "room.created",
            HookEvent::RoomDeleted => "room.deleted",
            HookEvent::UserRegistered => "user.registered",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Where an endpoint was configured: the settings file (rewritten at every
/// start, so one removed from the file goes) or the admin CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    File,
    Cli,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::File => "file",
            Origin::Cli => "cli",
        }
    }
}

/// A webhook endpoint as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: String,
    pub url: String,
    /// `whsec_` and base64: signs every delivery; never logged (see `Debug`).
    pub secret: String,
    /// The types it wants; `None` for all.
    pub events: Option<Vec<HookEvent>>,
    /// May be in a private or loopback range.
    pub allow_private: bool,
    pub origin: Origin,
}

impl Endpoint {
    /// An endpoint from what a person wrote (settings file or CLI), or why
    /// it is not one. `name`: 1 to 64 of `A-Z a-z 0-9 . - _`; `url`: http or
    /// https; `secret`: `whsec_` and the base64 of 16 to 64 bytes; `events`:
    /// type names, all when `None`.
    pub fn new(
        name: &str,
        url: &str,
        secret: &str,
        events: Option<&[String]>,
        allow_private: bool,
        origin: Origin,
    ) -> Result<Self, String> {
        use base64::Engine as _;
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(format!(
                "webhook name {name:?}: 1 to 64 letters, digits, '.', '-' or '_'"
            ));
        }
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("webhook {name}: url: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "webhook {name}: url must be http:// or https:// with a host"
            ));
        }
        let key = secret
            .strip_prefix("whsec_")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
        if !key.is_some_and(|k| (16..=64).contains(&k.len())) {
            return Err(format!(
                "webhook {name}: secret must be whsec_ and the base64 of 16 to 64 random bytes \
                 (`roomcast webhooks add` makes one)"
            ));
        }
        let events = match events {
            None => None,
            Some(list) => {
                let mut kinds = Vec::with_capacity(list.len());
                for e in list {
                    let kind = HookEvent::parse(e).ok_or_else(|| {
                        let known: Vec<&str> = HookEvent::ALL.iter().map(|k| k.as_str()).collect();
                        format!(
                            "webhook {name}: unknown event {e:?} (known: {})",
                            known.join(", ")
                        )
                    })?;
                    if !kinds.contains(&kind) {
                        kinds.push(kind);
                    }
                }
                if kinds.is_empty() {
                    return Err(format!(
                        "webhook {name}: events is empty (leave it out for every event)"
                    ));
                }
                Some(kinds)
            }
        };
        Ok(Self {
            name: name.to_owned(),
            url: url.to_owned(),
            secret: secret.to_owned(),
            events,
            allow_private,
            origin,
        })
    }

    /// A new random secret in the Standard Webhooks form.
    pub fn new_secret() -> String {
        use base64::Engine as _;
        let bytes: [u8; 32] = rand::random();
        format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret", &"whsec_…")
            .field("events", &self.events)
            .field("allow_private", &self.allow_private)
            .field("origin", &self.origin)
            .finish()
    }
}

/// One event owed to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The outbox row: per endpoint, the order to send in.
    pub row: i64,
    pub endpoint: String,
    /// The same on every attempt (`webhook-id`).
    pub event_id: String,
    pub kind: String,
    /// Unix ms of the change.
    pub ts: i64,
    /// The `data` of the body, as JSON text.
    pub data: String,
    pub attempts: i64,
    /// Unix ms; not to be tried before.
    pub next_at: i64,
    pub failed: bool,
    pub last_error: Option<String>,
}

/// How many events one endpoint is owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    pub endpoint: String,
    pub pending: i64,
    pub failed: i64,
}

/// An event about to be written, before its rows exist.
pub(super) struct Event {
    kind: HookEvent,
    data: String,
}

impl Event {
    fn new(kind: HookEvent, data: &impl Serialize) -> StoreResult<Self> {
        let data = serde_json::to_string(data)
            .map_err(|e| StoreError::Unavailable(format!("webhook data: {e}")))?;
        Ok(Self { kind, data })
    }

    /// A committed change of a message, with the socket event's payload.
    fn of_change(a: &Applied) -> StoreResult<Self> {
        let kind = match &a.happened {
            Happened::Created => HookEvent::MessageCreated,
            Happened::Edited => HookEvent::MessageEdited,
            Happened::Deleted => HookEvent::MessageDeleted,
            Happened::Reacted { added: true, .. } => HookEvent::ReactionAdded,
            Happened::Reacted { added: false, .. } => HookEvent::ReactionRemoved,
        };
        Self::new(kind, &ChangePayload::of(a))
    }

    pub(super) fn room_created(room: &RoomRecord) -> StoreResult<Self> {
        #[derive(Serialize)]
        struct Room<'a> {
            name: &'a str,
            visibility: &'a str,
            owner: &'a str,
        }
        Self::new(
            HookEvent::RoomCreated,
            &Room {
                name: &room.name,
                visibility: room.visibility.as_str(),
                owner: &room.owner,
            },
        )
    }

    pub(super) fn room_deleted(room: &str) -> StoreResult<Self> {
        Self::new(HookEvent::RoomDeleted, &RoomOnly { room })
    }

    /// `member.invited`, `member.removed`: `{room, user}` (a user id).
    pub(super) fn member(kind: HookEvent, room: &str, user: &str) -> StoreResult<Self> {
        Self::new(kind, &Member { room, user })
    }

    pub(super) fn banned(room: &str, user: &str, by: &str, ts: i64) -> StoreResult<Self> {
        #[derive(Serialize)]
        struct Banned<'a> {
            room: &'a str,
            user: &'a str,
            by: &'a str,
            ts: i64,
        }
        Self::new(HookEvent::MemberBanned, &Banned { room, user, by, ts })
    }

    pub(super) fn registered(user: &User) -> StoreResult<Self> {
        Self::new(HookEvent::UserRegistered, user)
    }
}

#[derive(Serialize)]
struct RoomOnly<'a> {
    room: &'a str,
}

#[derive(Serialize)]
struct Member<'a> {
    room: &'a str,
    user: &'a str,
}

/// The events of a writer's batch, in stream order (posts and changes that
/// changed something; refusals and no-ops owe nothing).
pub(super) fn events_of(items: &[Item]) -> StoreResult<Vec<Event>> {
    let mut events = Vec::new();
    for item in items {
        match item {
            // The payload borrows the message: no copy per post.
            Item::Posted(m) => events.push(Event::new(
                HookEvent::MessageCreated,
                &ChangePayload {
                    message: m,
                    reaction: None,
                },
            )?),
            Item::Step(super::changes::Step::Changed(a)) => events.push(Event::of_change(a)?),
            _ => {}
        }
    }
    Ok(events)
}

/// Four parameters a row: far under both stores' limits.
const EVENTS_PER_INSERT: usize = 500;

/// How long the writer trusts its answer to "are there endpoints at all?":
/// an endpoint added while the server runs (`roomcast webhooks add`) gets
/// the events committed from at most this long after it was added.
const GATE_FRESH: Duration = Duration::from_secs(1);

/// Whether any endpoint exists, read at most once per [`GATE_FRESH`]: with
/// none, a batch writes no outbox rows and SQLite keeps its one-statement
/// append (a statement per batch more would need a transaction).
#[derive(Default)]
pub(super) struct Gate(Mutex<Option<(Instant, bool)>>);

impl Gate {
    pub(super) async fn open<C: Connections>(
        &self,
        conn: &mut <C::Db as Database>::Connection,
    ) -> StoreResult<bool>
    where
        for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
        <C::Db as Database>::Arguments: IntoArguments<C::Db>,
        usize: ColumnIndex<<C::Db as Database>::Row>,
        for<'r> i64: Decode<'r, C::Db> + Type<C::Db>,
    {
        let known = *self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, any)) = known
            && at.elapsed() < GATE_FRESH
        {
            return Ok(any);
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints")
            .fetch_one(&mut *conn)
            .await?;
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), n > 0));
        Ok(n > 0)
    }
}

/// Writes `events` (at `ts`) into the outbox inside the caller's
/// transaction: for each, one row per endpoint that wants its type, in the
/// order given. Each event gets one id, the same for every endpoint.
pub(super) async fn record<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    events: &[Event],
    ts: i64,
) -> StoreResult<()>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> i64: Encode<'r, C::Db> + Type<C::Db>,
{
    for chunk in events.chunks(EVENTS_PER_INSERT) {
        let ids: Vec<String> = chunk.iter().map(|_| event_id()).collect();
        // `VALUES` columns are `column1..` on both stores.
        let mut insert = QueryBuilder::<C::Db>::new(
            "INSERT INTO webhook_outbox (endpoint, event_id, type, ts, data) \
             SELECT e.name, v.column1, v.column2, ",
        );
        insert.push_bind(ts).push(", v.column3 FROM (VALUES ");
        for (k, (event, id)) in chunk.iter().zip(&ids).enumerate() {
            insert.push(if k == 0 { "(" } else { ", (" });
            insert
                .push_bind(id.as_str())
                .push(", ")
                .push_bind(event.kind.as_str())
                .push(", ")
                .push_bind(event.data.as_str())
                .push(", ")
                .push_bind(k as i64)
                .push(")");
        }
        insert.push(
            ") AS v JOIN webhook_endpoints e \
             ON e.events = '' OR e.events LIKE '%,' || v.column2 || ',%' \
             ORDER BY v.column4, e.name",
        );
        insert.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// A new event id: `evt_` and 128 random bits in hex.
fn event_id() -> String {
    format!("evt_{:032x}", rand::random::<u128>())
}

/// The `events` column: `''` for all, else `,a,b,` for `LIKE`.
fn events_column(events: &Option<Vec<HookEvent>>) -> String {
    let Some(list) = events else {
        return String::new();
    };
    let mut s = String::from(",");
    for e in list {
        s.push_str(e.as_str());
        s.push(',');
    }
    s
}

#[derive(FromRow)]
struct EndpointRow {
    name: String,
    url: String,
    secret: String,
    events: String,
    allow_private: i64,
    origin: String,
}

impl From<EndpointRow> for Endpoint {
    fn from(r: EndpointRow) -> Self {
        Endpoint {
            name: r.name,
            url: r.url,
            secret: r.secret,
            // Written only by `events_column`; an unknown name is skipped.
            events: (!r.events.is_empty()).then(|| {
                r.events
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .filter_map(HookEvent::parse)
                    .collect()
            }),
            allow_private: r.allow_private != 0,
            origin: if r.origin == "file" {
                Origin::File
            } else {
                Origin::Cli
            },
        }
    }
}

#[derive(FromRow)]
struct DeliveryRow {
    id: i64,
    endpoint: String,
    event_id: String,
    #[sqlx(rename = "type")]
    kind: String,
    ts: i64,
    data: String,
    attempts: i64,
    next_at: i64,
    state: String,
    last_error: Option<String>,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Delivery {
            row: r.id,
            endpoint: r.endpoint,
            event_id: r.event_id,
            kind: r.kind,
            ts: r.ts,
            data: r.data,
            attempts: r.attempts,
            next_at: r.next_at,
            failed: r.state == "failed",
            last_error: r.last_error,
        }
    }
}

/// The columns of a [`DeliveryRow`], followed by the rest of the query.
macro_rules! select_delivery {
    ($rest:literal) => {
        concat!(
            "SELECT id, endpoint, event_id, type, ts, data, attempts, next_at, state, last_error \
             FROM webhook_outbox ",
            $rest
        )
    };
}

/// The endpoints and their outbox, for the sender and the admin CLI.
#[async_trait]
pub trait Webhooks: Send + Sync {
    /// Every endpoint, sorted by name.
    async fn endpoints(&self) -> StoreResult<Vec<Endpoint>>;
    /// Adds an endpoint or replaces the one of that name (what it is owed stays).
    async fn put_endpoint(&self, endpoint: &Endpoint) -> StoreResult<()>;
    /// Removes an endpoint and everything it is owed; `false` when there was none.
    async fn remove_endpoint(&self, name: &str) -> StoreResult<bool>;
    /// Makes the settings file's endpoints the stored ones of origin
    /// `file`: each put, and those no longer in the file removed.
    async fn sync_file_endpoints(&self, endpoints: &[Endpoint]) -> StoreResult<()>;
    /// Takes or renews the right to send to `endpoint` until `until` (unix
    /// ms): `true` when this node (`node`) holds it, because it held it or
    /// the holder's lease ran out before `now`.
    async fn lease(&self, endpoint: &str, node: &str, now: i64, until: i64) -> StoreResult<bool>;
    /// Gives every lease `node` holds back (shutdown), so another node takes over at once.
    async fn release_leases(&self, node: &str) -> StoreResult<()>;
    /// The oldest `limit` pending events of `endpoint`, due or not, oldest first.
    async fn next_deliveries(&self, endpoint: &str, limit: i64) -> StoreResult<Vec<Delivery>>;
    /// Received (2xx): the rows go.
    async fn delivered(&self, rows: &[i64]) -> StoreResult<()>;
    /// An attempt failed: tried again at `next_at`, or kept as failed when `None`.
    async fn attempt_failed(
        &self,
        row: i64,
        attempts: i64,
        next_at: Option<i64>,
        error: &str,
    ) -> StoreResult<()>;
    /// What every endpoint is owed, pending and failed.
    async fn backlog(&self) -> StoreResult<Vec<Backlog>>;
    /// Failed events, oldest first, of one endpoint or all.
    async fn failed_deliveries(&self, endpoint: Option<&str>) -> StoreResult<Vec<Delivery>>;
    /// Makes failed events pending again, due now; how many.
    async fn retry_failed(&self, endpoint: Option<&str>) -> StoreResult<u64>;
}

#[async_trait]
impl<C> Webhooks for C
where
    C: Connections,
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<String>: Decode<'r, C::Db> + Type<C::Db>,
{
    async fn endpoints(&self) -> StoreResult<Vec<Endpoint>> {
        let rows: Vec<EndpointRow> = sqlx::query_as(
            "SELECT name, url, secret, events, allow_private, origin \
             FROM webhook_endpoints ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(Endpoint::from).collect())
    }

    async fn put_endpoint(&self, e: &Endpoint) -> StoreResult<()> {
        let mut conn = self.pool().acquire().await?;
        put::<C>(&mut *conn, e).await
    }

    async fn remove_endpoint(&self, name: &str) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        // The outbox first: SQLite's foreign keys cascade, but say it for both.
        sqlx::query("DELETE FROM webhook_outbox WHERE endpoint = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(C::affected(&done) > 0)
    }

    async fn sync_file_endpoints(&self, endpoints: &[Endpoint]) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        let stored: Vec<String> =
            sqlx::query_scalar("SELECT name FROM webhook_endpoints WHERE origin = 'file'")
                .fetch_all(&mut *tx)
                .await?;
        for name in stored {
            if endpoints.iter().all(|e| e.name != name) {
                for sql in [
                    "DELETE FROM webhook_outbox WHERE endpoint = $1",
                    "DELETE FROM webhook_endpoints WHERE name = $1",
                ] {
                    sqlx::query(sql)
                        .bind(name.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        for e in endpoints {
            put::<C>(&mut *tx, e).await?;
        }
        Ok(tx.commit().await?)
    }

    async fn lease(&self, endpoint: &str, node: &str, now: i64, until: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET lease_node = $1, lease_until = $2 \
             WHERE name = $3 AND (lease_node = $1 OR lease_node IS NULL OR lease_until < $4)",
        )
        .bind(node)
        .bind(until)
        .bind(endpoint)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(C::affected(&done) > 0)
    }

    async fn release_leases(&self, node: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webhook_endpoints SET lease_node = NULL, lease_until = 0 \
             WHERE lease_node = $1",
        )
        .bind(node)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn next_deliveries(&self, endpoint: &str, limit: i64) -> StoreResult<Vec<Delivery>> {
        // `+$2`: see `history` in sql.rs (a bound LIMIT re-prepares on SQLite).
        let rows: Vec<DeliveryRow> = sqlx::query_as(select_delivery!(
            "WHERE endpoint = $1 AND state = 'pending' ORDER BY id LIMIT +$2"
        ))
        .bind(endpoint)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(Delivery::from).collect())
    }

    async fn delivered(&self, rows: &[i64]) -> StoreResult<()> {
        // One statement (one commit) for a round of sends.
        for chunk in rows.chunks(EVENTS_PER_INSERT) {
            let mut delete = QueryBuilder::<C::Db>::new("DELETE FROM webhook_outbox WHERE id IN (");
            let mut ids = delete.separated(", ");
            for id in chunk {
                ids.push_bind(*id);
            }
            delete.push(")");
            delete.build().execute(self.pool()).await?;
        }
        Ok(())
    }

    async fn attempt_failed(
        &self,
        row: i64,
        attempts: i64,
        next_at: Option<i64>,
        error: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webhook_outbox SET attempts = $1, next_at = $2, state = $3, last_error = $4 \
             WHERE id = $5",
        )
        .bind(attempts)
        .bind(next_at.unwrap_or(0))
        .bind(if next_at.is_some() {
            "pending"
        } else {
            "failed"
        })
        .bind(error)
        .bind(row)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn backlog(&self) -> StoreResult<Vec<Backlog>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT e.name, \
                    COUNT(CASE WHEN o.state = 'pending' THEN 1 END), \
                    COUNT(CASE WHEN o.state = 'failed' THEN 1 END) \
             FROM webhook_endpoints e LEFT JOIN webhook_outbox o ON o.endpoint = e.name \
             GROUP BY e.name ORDER BY e.name",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(endpoint, pending, failed)| Backlog {
                endpoint,
                pending,
                failed,
            })
            .collect())
    }

    async fn failed_deliveries(&self, endpoint: Option<&str>) -> StoreResult<Vec<Delivery>> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(select_delivery!(
            "WHERE state = 'failed' AND ($1 = '' OR endpoint = $1) ORDER BY id"
        ))
        .bind(endpoint.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(Delivery::from).collect())
    }

    async fn retry_failed(&self, endpoint: Option<&str>) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_at = 0 \
             WHERE state = 'failed' AND ($1 = '' OR endpoint = $1)",
        )
        .bind(endpoint.unwrap_or(""))
        .execute(self.pool())
        .await?;
        Ok(C::affected(&done))
    }
}

/// Inserts or replaces one endpoint, keeping its lease and what it is owed.
async fn put<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    e: &Endpoint,
) -> StoreResult<()>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> i64: Encode<'r, C::Db> + Type<C::Db>,
{
    sqlx::query(
        "INSERT INTO webhook_endpoints (name, url, secret, events, allow_private, origin) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (name) DO UPDATE SET url = excluded.url, secret = excluded.secret, \
             events = excluded.events, allow_private = excluded.allow_private, \
             origin = excluded.origin",
    )
    .bind(e.name.as_str())
    .bind(e.url.as_str())
    .bind(e.secret.as_str())
    .bind(events_column(&e.events).as_str())
    .bind(i64::from(e.allow_private))
    .bind(e.origin.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
