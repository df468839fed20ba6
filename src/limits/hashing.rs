//! A bound on password hashes computed at once, logins and registrations
//! together. Each Argon2id hash takes 19 MiB and tens of ms of one core:
//! without a bound, 128 concurrent registrations took 2.5 GB of RSS and
//! made a login wait 6.9 s; with it, 77 MB and 117 ms (release build, 2
//! shared cores; docs/protocol.md §5a).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::AppError;

/// How long a request waits for a permit before it is answered 503.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// Requests that may wait for a permit, per permit; more are answered 503 at once.
const WAITING_PER_PERMIT: usize = 32;

/// Permits for password hashing: one per core (at least two), of which
/// registrations may hold at most half, so logins always have one.
pub struct PasswordWork {
    all: Semaphore,
    registrations: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Held while one password hash is computed.
pub struct HashPermit<'a> {
    _all: SemaphorePermit<'a>,
    _registration: Option<SemaphorePermit<'a>>,
}

/// Counts a waiting request for as long as it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn busy() -> AppError {
    AppError::Unavailable("too many password checks at once; retry in a few seconds".into())
}

impl PasswordWork {
    /// Permits for `parallelism` cores.
    pub fn new(parallelism: usize) -> Self {
        let all = parallelism.max(2);
        Self {
            all: Semaphore::new(all),
            registrations: Semaphore::new(all / 2),
            waiting: AtomicUsize::new(0),
            max_waiting: all * WAITING_PER_PERMIT,
        }
    }

    /// Sized from the cores this process may use.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// A permit for a login's password check.
    pub async fn login(&self) -> Result<HashPermit<'_>, AppError> {
        self.acquire(false).await
    }

    /// A permit for a registration's hash (one of the registrations' half).
    pub async fn registration(&self) -> Result<HashPermit<'_>, AppError> {
        self.acquire(true).await
    }

    async fn acquire(&self, registration: bool) -> Result<HashPermit<'_>, AppError> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        let _waiting = Waiting(&self.waiting);
        let permits = async {
            let reg = if registration {
                Some(self.registrations.acquire().await.ok()?)
            } else {
                None
            };
            let all = self.all.acquire().await.ok()?;
            Some(HashPermit {
                _all: all,
                _registration: reg,
            })
        };
        match tokio::time::timeout(MAX_WAIT, permits).await {
            Ok(Some(permit)) => Ok(permit),
            // Closed semaphores (never done) or no permit in time.
            _ => Err(busy()),
        }
    }

    /// Permits free now, of all.
    pub fn available(&self) -> usize {
        self.all.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn registrations_never_take_the_last_permits() {
        let work = PasswordWork::new(4);
        let r1 = work.registration().await.expect("first");
        let r2 = work.registration().await.expect("second");
        // Two logins still get theirs at once while registrations wait.
        let waiting = tokio::time::timeout(Duration::from_millis(100), work.registration()).await;
        assert!(waiting.is_err(), "a third registration waits");
        let l1 = work.login().await.expect("login");
        let l2 = work.login().await.expect("login");
        assert_eq!(work.available(), 0);
        drop((r1, r2, l1, l2));
        assert_eq!(work.available(), 4);
    }
}
