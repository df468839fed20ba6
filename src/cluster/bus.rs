//! The pub/sub driver under socketioxide-redis: Redis when configured, nothing
//! otherwise, so the server has one adapter type either way.
//!
//! socketioxide-redis's own driver sits on a `MultiplexedConnection`, which
//! never reconnects; this one uses redis's `ConnectionManager` with automatic
//! resubscription, and a watchdog that pings Redis, logs when it is lost or
//! back, and drives the reconnection even on an idle node.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, PushInfo, PushKind};
use socketioxide::SocketIo;
use socketioxide::adapter::Emitter;
use socketioxide::extract::SocketRef;
use socketioxide_redis::CustomRedisAdapter;
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

/// The adapter every node runs: local rooms, plus Redis when it has a URL.
pub type Adapter = CustomRedisAdapter<Emitter, Bus>;
/// The Socket.IO server handle, over [`Adapter`].
pub type Io = SocketIo<Adapter>;
/// A connected socket, over [`Adapter`].
pub type Sock = SocketRef<Adapter>;

/// The channel committed chats travel on (see `realtime::fanout`).
const CHAT_CHANNEL: &str = "roomcast-chat";
/// Batches from Redis that may wait for delivery before the driver drops one.
const CHAT_BUFFER: usize = 65_536;

/// How often the watchdog checks Redis.
const WATCH_EVERY: Duration = Duration::from_millis(500);

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

/// The adapter's pub/sub: `Off` on a single node, where publishing is a no-op.
#[derive(Clone)]
pub struct Bus(Option<Arc<Redis>>);

struct Redis {
    conn: ConnectionManager,
    handlers: Handlers,
    up: AtomicBool,
}

/// A Redis failure, as the adapter logs it.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct BusError(#[from] redis::RedisError);

impl Bus {
    /// The single-node bus: nothing is published, no other node exists.
    pub fn off() -> Self {
        Self(None)
    }

    /// Connects to Redis (RESP3, needed for pub/sub pushes) and starts the watchdog.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let url = if url.contains("protocol=") {
            url.to_owned()
        } else {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}protocol=resp3")
        };
        let client = redis::Client::open(url)?;
        let handlers: Handlers = Arc::default();
        let push_handlers = handlers.clone();
        let config = ConnectionManagerConfig::new()
            .set_push_sender(move |msg: PushInfo| {
                route(msg, &push_handlers);
                Ok::<(), std::convert::Infallible>(())
            })
            .set_automatic_resubscription()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config).await?;
        let redis = Arc::new(Redis {
            conn,
            handlers,
            up: AtomicBool::new(true),
        });
        tokio::spawn(watch(Arc::downgrade(&redis)));
        Ok(Self(Some(redis)))
    }

    /// Whether other nodes can be reached: `None` without Redis.
    pub fn redis_up(&self) -> Option<bool> {
        self.0.as_ref().map(|r| r.up.load(Ordering::Relaxed))
    }

    /// Whether this node shares its rooms with others.
    pub fn clustered(&self) -> bool {
        self.0.is_some()
    }

    /// Publishes a committed batch to every node, this one included.
    pub(crate) async fn publish_chats(&self, body: Vec<u8>) -> Result<(), BusError> {
        self.publish(CHAT_CHANNEL.into(), body).await
    }

    /// Every node's published batches, in the order Redis ran the publishes.
    pub(crate) async fn chats(&self) -> Result<MessageStream<ChanItem>, BusError> {
        self.subscribe(CHAT_CHANNEL.into(), CHAT_BUFFER).await
    }
}

impl Redis {
    fn mark(&self, ok: bool, error: Option<&redis::RedisError>) {
        let was = self.up.swap(ok, Ordering::Relaxed);
        match (was, ok) {
            (true, false) => tracing::error!(
                error = %error.map(ToString::to_string).unwrap_or_default(),
                "lost Redis: serving local sockets only until it is back"
            ),
            (false, true) => tracing::info!("Redis is back: rooms span every node again"),
            _ => {}
        }
    }

    fn result<T>(&self, r: redis::RedisResult<T>) -> Result<T, BusError> {
        match r {
            Ok(v) => Ok(v),
            Err(e) => {
                self.mark(false, Some(&e));
                Err(e.into())
            }
        }
    }
}

/// Pings Redis until the bus is dropped; a ping through the manager also
/// makes it reconnect (and resubscribe) after Redis comes back.
async fn watch(redis: std::sync::Weak<Redis>) {
    let mut tick = tokio::time::interval(WATCH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(redis) = redis.upgrade() else {
            return;
        };
        let mut conn = redis.conn.clone();
        match redis::cmd("PING").query_async::<String>(&mut conn).await {
            Ok(_) => redis.mark(true, None),
            Err(e) => redis.mark(false, Some(&e)),
        }
    }
}

/// Hands a pub/sub message to the adapter stream subscribed to its channel.
fn route(msg: PushInfo, handlers: &Handlers) {
    if !matches!(msg.kind, PushKind::Message) || msg.data.len() < 2 {
        return;
    }
    let mut data = msg.data.into_iter();
    let (Some(chan), Some(body)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(chan), Ok(body)) = (
        redis::from_redis_value::<String>(chan),
        redis::from_redis_value::<Vec<u8>>(body),
    ) else {
        tracing::warn!("undecodable Redis pub/sub message");
        return;
    };
    let Ok(handlers) = handlers.read() else {
        return;
    };
    if let Some(tx) = handlers.get(&chan)
        && let Err(e) = tx.try_send((chan, body))
    {
        tracing::warn!(error = %e, "Redis messages arrive faster than this node handles them");
    }
}

impl Driver for Bus {
    type Error = BusError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        let Some(redis) = &self.0 else {
            return Ok(());
        };
        let r = redis
            .conn
            .clone()
            .publish::<_, _, redis::Value>(chan, val)
            .await;
        redis.result(r).map(drop)
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        let Some(redis) = &self.0 else {
            return Ok(MessageStream::new_empty());
        };
        let (tx, rx) = mpsc::channel(size);
        if let Ok(mut handlers) = redis.handlers.write() {
            handlers.insert(chan.clone(), tx);
        }
        let r = redis.conn.clone().subscribe(chan.as_str()).await;
        redis.result(r)?;
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        let Some(redis) = &self.0 else {
            return Ok(());
        };
        if let Ok(mut handlers) = redis.handlers.write() {
            handlers.remove(&chan);
        }
        let r = redis.conn.clone().unsubscribe(chan).await;
        redis.result(r)
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let Some(redis) = &self.0 else {
            return Ok(1);
        };
        let mut conn = redis.conn.clone();
        let r = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async::<(String, u16)>(&mut conn)
            .await;
        redis.result(r).map(|(_, n)| n)
    }
}
