//! App users (JWT subjects) made known on their first connect, so that
//! `roomcast user disable --app` can refuse them (docs/protocol.md §2).
//!
//! A first connect waits until its user is stored, as it did when each one
//! was an INSERT of its own; but every newcomer arriving meanwhile goes in
//! the same transaction, so a storm of new users (a deploy of the app that
//! mints the JWTs, a load test) pays one commit per batch instead of one
//! fsync per user. One insert each cost connect + join two thirds of its
//! rate with `--sqlite-sync full` (see the note on issue 14).

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::domain::User;
use crate::error::AppError;
use crate::store::Store;

/// The most newcomers in one transaction.
const MAX_BATCH: usize = 512;

/// A handle to the task that records newcomers; cheap to clone.
#[derive(Clone)]
pub(super) struct Newcomers {
    tx: mpsc::Sender<(User, oneshot::Sender<bool>)>,
}

impl Newcomers {
    /// Starts the recording task; it ends when every handle is dropped.
    pub(super) fn spawn(store: Arc<dyn Store>) -> Self {
        let (tx, mut rx) = mpsc::channel::<(User, oneshot::Sender<bool>)>(4 * MAX_BATCH);
        tokio::spawn(async move {
            let mut pending = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut pending, MAX_BATCH).await > 0 {
                let users: Vec<User> = pending.iter().map(|(u, _)| u.clone()).collect();
                let stored = match store.record_app_users(&users).await {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::error!(error = %e, users = users.len(), "recording new app users failed");
                        false
                    }
                };
                for (_, done) in pending.drain(..) {
                    let _ = done.send(stored);
                }
            }
        });
        Self { tx }
    }

    /// Returns once `user` is stored as an app user (or already was).
    pub(super) async fn record(&self, user: &User) -> Result<(), AppError> {
        let (done, stored) = oneshot::channel();
        if self.tx.send((user.clone(), done)).await.is_err() {
            return Err(AppError::Unavailable(
                "the app user recorder stopped".into(),
            ));
        }
        match stored.await {
            Ok(true) => Ok(()),
            _ => Err(AppError::Internal),
        }
    }
}
