//! The table of open HTTP connections: what each one waits for, so that the
//! server can shed the stalled ones when descriptors run short, and close
//! those whose client stopped reading a response.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use prometheus::IntCounter;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// What a connection is doing, as far as shedding cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Waiting for a request head (new, or idle between keep-alive requests).
    Head = 0,
    /// Has a request head, waiting for the rest of its body.
    Body = 1,
    /// A handler runs on a complete request (a long-poll may wait here).
    Busy = 2,
    /// Handed over to a WebSocket, or gone: no longer in the table.
    Detached = 3,
}

impl Phase {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Head,
            1 => Self::Body,
            2 => Self::Busy,
            _ => Self::Detached,
        }
    }

    /// Stalled before a complete request: the client owes the next move.
    fn sheddable(self) -> bool {
        matches!(self, Self::Head | Self::Body)
    }
}

/// One open HTTP connection. Lives while hyper serves it; an upgraded
/// WebSocket lets go of it (its stream keeps no timer and no entry).
pub(crate) struct ConnEntry {
    id: u64,
    start: Instant,
    phase: AtomicU8,
    /// Milliseconds after `start` when `phase` was last set.
    phase_since: AtomicU64,
    /// Milliseconds after `start` (plus one) since when a write has been
    /// pending; 0 while writes go through.
    write_blocked_since: AtomicU64,
    body_timed_out: std::sync::atomic::AtomicBool,
    /// How long the current request's body may take, in milliseconds
    /// (uploads have longer than other requests).
    body_limit_ms: AtomicU64,
    /// Wakes the connection task to drop (close) the connection.
    pub(crate) kill: Notify,
}

impl ConnEntry {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(crate) fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Relaxed))
    }

    pub(crate) fn set_phase(&self, phase: Phase) {
        self.phase_since.store(self.now_ms(), Ordering::Relaxed);
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    /// A request head arrived; its body is complete already or must be
    /// within `limit`.
    pub(crate) fn begin_request(&self, body_complete: bool, limit: Duration) {
        self.body_timed_out.store(false, Ordering::Relaxed);
        self.body_limit_ms.store(
            u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.set_phase(if body_complete {
            Phase::Busy
        } else {
            Phase::Body
        });
    }

    pub(crate) fn mark_body_timed_out(&self) {
        self.body_timed_out.store(true, Ordering::Relaxed);
    }

    pub(crate) fn body_timed_out(&self) -> bool {
        self.body_timed_out.load(Ordering::Relaxed)
    }

    fn note_write(&self, pending: bool) {
        if pending {
            if self.write_blocked_since.load(Ordering::Relaxed) == 0 {
                self.write_blocked_since
                    .store(self.now_ms() + 1, Ordering::Relaxed);
            }
        } else {
            self.write_blocked_since.store(0, Ordering::Relaxed);
        }
    }
}

/// Deadlines the sweeper enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SweepLimits {
    /// A write pending this long closes the connection.
    pub(crate) write_stall: Duration,
}

/// Every open connection of one server, and the budget they share.
pub(crate) struct Conns {
    start: Instant,
    next_id: AtomicU64,
    /// TCP connections open now, upgraded WebSockets included.
    open: AtomicUsize,
    budget: usize,
    table: Mutex<HashMap<u64, Arc<ConnEntry>>>,
    shed: IntCounter,
    refused: IntCounter,
    /// Shed or refused since the last warning, and when that was (ms).
    unreported: AtomicU64,
    last_warning: AtomicU64,
}

/// Seconds between two "shedding" warnings: one line per burst.
const WARN_EVERY_MS: u64 = 10_000;

impl Conns {
    pub(crate) fn new(budget: usize, shed: IntCounter, refused: IntCounter) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            next_id: AtomicU64::new(0),
            open: AtomicUsize::new(0),
            budget,
            table: Mutex::new(HashMap::new()),
            shed,
            refused,
            unreported: AtomicU64::new(0),
            last_warning: AtomicU64::new(0),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// How many connections to close at once when the budget is reached:
    /// a batch, so that an attack does not cost a table scan per accept.
    fn batch(&self) -> usize {
        (self.budget / 32).max(1)
    }

    /// Counts a just-accepted connection. If that goes over the budget, the
    /// oldest stalled connections are closed to make room; false when none
    /// could be and the new one must be refused.
    pub(crate) fn admit(self: &Arc<Self>, tcp: TcpStream) -> Option<(TrackedIo, Arc<ConnEntry>)> {
        let open = self.open.fetch_add(1, Ordering::Relaxed) + 1;
        let guard = OpenGuard(self.clone());
        if open > self.budget && self.shed_stalled(self.batch()) == 0 {
            self.refused.inc();
            self.report(1);
            drop(guard);
            return None;
        }
        let entry = Arc::new(ConnEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            start: self.start,
            phase: AtomicU8::new(Phase::Head as u8),
            phase_since: AtomicU64::new(self.now_ms()),
            write_blocked_since: AtomicU64::new(0),
            body_timed_out: std::sync::atomic::AtomicBool::new(false),
            body_limit_ms: AtomicU64::new(0),
            kill: Notify::new(),
        });
        self.lock().insert(entry.id, entry.clone());
        let io = TrackedIo {
            tcp,
            entry: Some(entry.clone()),
            _open: guard,
        };
        Some((io, entry))
    }

    /// Out of descriptors at `accept`: make room. Returns how many were shed.
    pub(crate) fn out_of_descriptors(&self) -> usize {
        self.shed_stalled(self.batch())
    }

    /// The connection task ended (closed or upgraded).
    pub(crate) fn remove(&self, entry: &ConnEntry) {
        entry.set_phase(Phase::Detached);
        self.lock().remove(&entry.id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnEntry>>> {
        // The table holds no invariant a panicking holder could break.
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Closes the `n` connections stalled longest before a complete request.
    fn shed_stalled(&self, n: usize) -> usize {
        let victims: Vec<Arc<ConnEntry>> = {
            let mut table = self.lock();
            let mut stalled: Vec<(u64, u64)> = table
                .values()
                .filter(|e| e.phase().sheddable())
                .map(|e| (e.phase_since.load(Ordering::Relaxed), e.id))
                .collect();
            if stalled.len() > n {
                stalled.select_nth_unstable(n);
                stalled.truncate(n);
            }
            stalled
                .into_iter()
                .filter_map(|(_, id)| table.remove(&id))
                .collect()
        };
        for entry in &victims {
            entry.kill.notify_one();
        }
        let count = victims.len();
        if count > 0 {
            self.shed.inc_by(count as u64);
            self.report(count as u64);
        }
        count
    }

    /// One warning line per burst of shedding, not one per connection.
    fn report(&self, count: u64) {
        let pending = self.unreported.fetch_add(count, Ordering::Relaxed) + count;
        let now = self.now_ms().max(1);
        let last = self.last_warning.load(Ordering::Relaxed);
        if (last == 0 || now.saturating_sub(last) >= WARN_EVERY_MS)
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.unreported.fetch_sub(pending, Ordering::Relaxed);
            tracing::warn!(
                closed = pending,
                open = self.open.load(Ordering::Relaxed),
                budget = self.budget,
                "connection budget reached: closing connections stalled before a complete request"
            );
        }
    }

    /// Closes connections past a deadline only a sweep can see (a write
    /// stalled; a body still incomplete a second past its request's body
    /// deadline, should the handler have stopped reading it: the body's own
    /// timer answers 408 when the handler reads); runs every
    /// `tick` until the table is dropped. One task per server, whatever the
    /// number of connections: no timer per connection.
    pub(crate) async fn sweep(self: Arc<Self>, limits: SweepLimits, tick: Duration) {
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stall_ms = u64::try_from(limits.write_stall.as_millis()).unwrap_or(u64::MAX);
        loop {
            interval.tick().await;
            let now = self.now_ms();
            let expired: Vec<Arc<ConnEntry>> = {
                let mut table = self.lock();
                let ids: Vec<u64> = table
                    .values()
                    .filter(|e| {
                        let blocked = e.write_blocked_since.load(Ordering::Relaxed);
                        let since = e.phase_since.load(Ordering::Relaxed);
                        (blocked != 0 && now.saturating_sub(blocked - 1) >= stall_ms)
                            || (e.phase() == Phase::Body
                                && now.saturating_sub(since)
                                    >= e.body_limit_ms.load(Ordering::Relaxed).saturating_add(1000))
                    })
                    .map(|e| e.id)
                    .collect();
                ids.into_iter().filter_map(|id| table.remove(&id)).collect()
            };
            for entry in expired {
                tracing::debug!("closing a connection past its write or body deadline");
                entry.kill.notify_one();
            }
        }
    }
}

/// Decrements the open count when the TCP stream is closed.
pub(crate) struct OpenGuard(Arc<Conns>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The TCP stream as hyper (and, after an upgrade, the WebSocket) sees it:
/// it tells its entry when writes block. An upgraded stream drops the entry
/// on its next read or write, so an idle WebSocket keeps two pointers more
/// than before and no timer.
pub(crate) struct TrackedIo {
    tcp: TcpStream,
    entry: Option<Arc<ConnEntry>>,
    _open: OpenGuard,
}

impl TrackedIo {
    fn note_write<T>(&mut self, result: &Poll<T>) {
        if let Some(entry) = &self.entry {
            if entry.phase() == Phase::Detached {
                self.entry = None;
            } else {
                entry.note_write(result.is_pending());
            }
        }
    }
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self
            .entry
            .as_ref()
            .is_some_and(|e| e.phase() == Phase::Detached)
        {
            self.entry = None;
        }
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.tcp).poll_write(cx, buf);
        self.note_write(&result);
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        self.note_write(&result);
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let result = Pin::new(&mut self.tcp).poll_flush(cx);
        self.note_write(&result);
        result
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// Raises the soft limit on open files to the hard limit (systemd and most
/// shells start services at 1024 soft, 512Ki or so hard) and returns the
/// limit in force. On failure, the soft limit as it is.
pub(crate) fn raise_nofile_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 1024;
    };
    if soft < hard {
        match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => return hard,
            Err(e) => tracing::warn!(error = %e, soft, hard, "could not raise the open-file limit"),
        }
    }
    soft
}
