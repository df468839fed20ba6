//! The group-commit writer: the one task that appends messages and changes them.
//!
//! Whatever is queued when a transaction starts goes into that transaction, so
//! one commit (and one fsync) covers many messages and changes (edits,
//! deletions, reactions), applied in submit order; ids and stream positions
//! follow commit order. Each item has its own result: a refused change fails
//! no other item of its batch.
//! After a commit the batch is handed on, in order, for delivery; only then is
//! each sender told its message is durable.

use std::sync::Arc;

use prometheus::Histogram;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Append, Batch, Change, NewMessage, Outcome, StoreError};
use crate::domain::Message;

/// Called once with the stored message (after a change: as it is now), or
/// with why it was not stored. It borrows the message: most callers only
/// need its id and time.
pub type Done = Box<dyn FnOnce(Result<&Message, StoreError>) + Send>;

/// Committed batches in commit order, for whoever delivers them.
pub type Committed = mpsc::Receiver<Batch>;

/// How many messages wait for the writer before senders wait too.
const QUEUE: usize = 8192;
/// The most messages in one transaction.
const MAX_BATCH: usize = 1024;

struct Pending {
    change: Change,
    done: Done,
}

// Nearly every job is a `Write`, so the enum's size is the write's anyway;
// boxing it would add an allocation per message to save nothing on the
// rare `Flush` (the lint tripped at 216 bytes once `User` carried `bot`).
#[allow(clippy::large_enum_variant)]
enum Job {
    Write(Pending),
    /// Answered once everything queued before it has committed.
    Flush(oneshot::Sender<()>),
}

/// A handle to submit messages to the writer task. Cheap to clone; the task
/// ends once every handle is dropped and the queue is drained.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task, the one appender of `store`.
    /// `commit_seconds` observes how long each transaction takes.
    pub(super) fn spawn(
        store: Arc<dyn Append>,
        commit_seconds: Histogram,
    ) -> (Self, Committed, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (committed_tx, committed_rx) = mpsc::channel(1024);
        let task = tokio::spawn(run(store, rx, committed_tx, commit_seconds));
        (Self { tx }, committed_rx, task)
    }

    /// Queues a message; `done` is called after its transaction commits (or fails).
    /// Messages submitted one after another from one task are stored in that order.
    pub async fn submit(&self, message: NewMessage, done: Done) {
        self.apply(Change::Post(message), done).await;
    }

    /// Queues a change (or a post); `done` is called after its transaction
    /// commits, with the message as it is then, or with why this change
    /// was refused (`NotFound`, `NotYours`, `TooManyReactions`).
    pub async fn apply(&self, change: Change, done: Done) {
        let job = Job::Write(Pending { change, done });
        if let Err(mpsc::error::SendError(Job::Write(p))) = self.tx.send(job).await {
            (p.done)(Err(StoreError::Unavailable("writer stopped".into())));
        }
    }

    /// Returns once every message submitted before the call has been
    /// committed (or has failed) and its `done` has run.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Job::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

async fn run(
    store: Arc<dyn Append>,
    mut rx: mpsc::Receiver<Job>,
    committed: mpsc::Sender<Batch>,
    commit_seconds: Histogram,
) {
    let mut pending: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut dones: Vec<Done> = Vec::with_capacity(MAX_BATCH);
    let mut flushes = Vec::new();
    while rx.recv_many(&mut pending, MAX_BATCH).await > 0 {
        let mut batch: Vec<Change> = Vec::with_capacity(pending.len());
        for job in pending.drain(..) {
            match job {
                Job::Write(p) => {
                    dones.push(p.done);
                    batch.push(p.change);
                }
                Job::Flush(tx) => flushes.push(tx),
            }
        }
        if !batch.is_empty() {
            let timer = commit_seconds.start_timer();
            let result = store.apply(batch).await;
            timer.observe_duration();
            finish(result, &mut dones, &committed).await;
        }
        // Everything queued before each flush was in this batch, now done.
        for tx in flushes.drain(..) {
            let _ = tx.send(());
        }
    }
}

/// Tells each sender how its item fared, then hands the batch to delivery.
async fn finish(
    result: Result<(Vec<Outcome>, Batch), StoreError>,
    dones: &mut Vec<Done>,
    committed: &mpsc::Sender<Batch>,
) {
    match result {
        Ok((results, stored)) => {
            for (done, r) in dones.drain(..).zip(results) {
                match r {
                    Outcome::InBatch(i) => match stored.changes.get(i) {
                        Some(c) => done(Ok(&c.message)),
                        None => done(Err(StoreError::Unavailable("lost a change".into()))),
                    },
                    Outcome::Unchanged(m) => done(Ok(&m)),
                    Outcome::Refused(e) => done(Err(e)),
                }
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
