//! A few SQLite connections outside the pool for the one-statement reads of
//! connect and join (identity, room, membership, history).
//!
//! Every sqlx SQLite connection runs on a worker thread of its own, so each
//! statement is a handoff to that thread and back. The pool adds one more
//! handoff per query: it pings the worker each time a connection is
//! returned. A reader here is used and put back with no ping; in WAL mode
//! readers never block the writer nor wait for it.

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tokio::sync::{Mutex, MutexGuard};

/// Read connections; as many as the server has cores is plenty for
/// statements that each take microseconds.
const READERS: usize = 4;

pub(super) struct Readers {
    conns: Vec<Mutex<SqliteConnection>>,
    next: AtomicUsize,
}

impl Readers {
    pub(super) async fn open(options: &SqliteConnectOptions) -> sqlx::Result<Self> {
        let mut conns = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            conns.push(Mutex::new(options.connect().await?));
        }
        Ok(Self {
            conns,
            next: AtomicUsize::new(0),
        })
    }

    /// A free reader, or the next one in turn when all are busy.
    pub(super) async fn get(&self) -> MutexGuard<'_, SqliteConnection> {
        for conn in &self.conns {
            if let Ok(guard) = conn.try_lock() {
                return guard;
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        self.conns[i].lock().await
    }
}
