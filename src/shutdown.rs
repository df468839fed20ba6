//! The gate that graceful shutdown closes: once closed, new socket events
//! and connections are refused with an answer, and shutdown can wait for the
//! events already queued to finish.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// Open while serving; closed once shutdown starts.
pub struct Gate {
    closing: AtomicBool,
    /// How many sockets are working through queued events.
    busy: Arc<watch::Sender<usize>>,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            closing: AtomicBool::new(false),
            busy: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Gate {
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }

    /// Marks work in progress until the guard is dropped.
    pub fn busy(&self) -> Busy {
        self.busy.send_modify(|n| *n += 1);
        Busy(self.busy.clone())
    }

    /// Waits until no work is in progress, or `timeout`; `false` on timeout.
    pub async fn idle(&self, timeout: Duration) -> bool {
        let mut rx = self.busy.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n == 0))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// Work in progress; see [`Gate::busy`].
pub struct Busy(Arc<watch::Sender<usize>>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}
