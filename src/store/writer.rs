//! The group-commit writer: the one task that appends messages.
//!
//! Whatever is queued when a transaction starts goes into that transaction, so
//! one commit (and one fsync) covers many messages, and ids follow commit order.
//! After a commit the batch is handed on, in order, for delivery; only then is
//! each sender told its message is durable.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Appended, NewMessage, Store, StoreError};
use crate::domain::Message;

/// Called once with the stored message, or with why it was not stored. It
/// borrows the message: most callers only need its id and time.
pub type Done = Box<dyn FnOnce(Result<&Message, StoreError>) + Send>;

/// Committed batches in commit order, for whoever delivers them.
pub type Committed = mpsc::Receiver<Appended>;

/// How many messages wait for the writer before senders wait too.
const QUEUE: usize = 8192;
/// The most messages in one transaction.
const MAX_BATCH: usize = 1024;

struct Pending {
    message: NewMessage,
    done: Done,
}

/// A handle to submit messages to the writer task. Cheap to clone; the task
/// ends once every handle is dropped and the queue is drained.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Pending>,
}

impl Writer {
    /// Starts the writer task over `store`.
    pub fn spawn(store: Arc<dyn Store>) -> (Self, Committed, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (committed_tx, committed_rx) = mpsc::channel(1024);
        let task = tokio::spawn(run(store, rx, committed_tx));
        (Self { tx }, committed_rx, task)
    }

    /// Queues a message; `done` is called after its transaction commits (or fails).
    /// Messages submitted one after another from one task are stored in that order.
    pub async fn submit(&self, message: NewMessage, done: Done) {
        if let Err(mpsc::error::SendError(p)) = self.tx.send(Pending { message, done }).await {
            (p.done)(Err(StoreError::Unavailable("writer stopped".into())));
        }
    }
}

async fn run(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Pending>,
    committed: mpsc::Sender<Appended>,
) {
    let mut pending: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    let mut dones: Vec<Done> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut pending, MAX_BATCH).await > 0 {
        let batch: Vec<NewMessage> = pending
            .drain(..)
            .map(|p| {
                dones.push(p.done);
                p.message
            })
            .collect();
        match store.append(batch).await {
            Ok(stored) => {
                for (done, m) in dones.drain(..).zip(&stored.messages) {
                    done(Ok(m));
                }
                // Delivery learns of the batch in commit order; a closed
                // receiver only means nobody is listening (shutdown).
                let _ = committed.send(stored).await;
            }
            Err(e) => {
                tracing::error!(error = %e, messages = dones.len(), "group commit failed");
                for done in dones.drain(..) {
                    done(Err(StoreError::Unavailable(e.to_string())));
                }
            }
        }
    }
}
