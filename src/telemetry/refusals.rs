//! One log line per refused connection, at most so many a second.

use std::fmt::Display;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Quoted;

const WINDOW: Duration = Duration::from_secs(1);

/// Logs refused connections with their reason, `per_second` lines a second
/// at most: past that they are only counted, and the count is logged as one
/// line when the next window's first refusal comes. An attacker sending bad
/// tokens as fast as it can thus adds about `per_second + 1` lines a second.
pub struct RefusalLog {
    per_second: u32,
    window: Mutex<Window>,
}

struct Window {
    started: Instant,
    logged: u32,
    suppressed: u64,
}

/// What to do for one refusal.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Log it, after a line counting the `suppressed` refusals not logged.
    Log { suppressed: u64 },
    /// Only count it.
    Count,
}

impl RefusalLog {
    pub fn new(per_second: u32) -> Self {
        Self {
            per_second,
            window: Mutex::new(Window {
                started: Instant::now(),
                logged: 0,
                suppressed: 0,
            }),
        }
    }

    /// Logs (or counts) one refused connection: the socket, the user when
    /// known, and why, as the client was told.
    pub fn refused(&self, sid: &dyn Display, user: Option<&str>, reason: &dyn Display) {
        let Verdict::Log { suppressed } = self.verdict(Instant::now()) else {
            return;
        };
        if suppressed > 0 {
            tracing::warn!(
                suppressed,
                "refused connections not logged (more than the rate limit)"
            );
        }
        match user {
            Some(user) => {
                tracing::info!(sid = %sid, user = %Quoted(user), reason = %reason, "connection refused");
            }
            None => tracing::info!(sid = %sid, reason = %reason, "connection refused"),
        }
    }

    fn verdict(&self, now: Instant) -> Verdict {
        // A poisoned lock only means a panic while counting: keep counting.
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if now.duration_since(w.started) >= WINDOW {
            let suppressed = std::mem::take(&mut w.suppressed);
            w.started = now;
            w.logged = 1;
            return Verdict::Log { suppressed };
        }
        if w.logged < self.per_second {
            w.logged += 1;
            Verdict::Log { suppressed: 0 }
        } else {
            w.suppressed += 1;
            Verdict::Count
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_rate_refusals_are_counted_and_the_count_logged_once() {
        let log = RefusalLog::new(3);
        let t0 = Instant::now();
        let first: Vec<Verdict> = (0..5).map(|_| log.verdict(t0)).collect();
        let logged = Verdict::Log { suppressed: 0 };
        assert_eq!(
            first[..3],
            [
                logged,
                Verdict::Log { suppressed: 0 },
                Verdict::Log { suppressed: 0 }
            ]
        );
        assert_eq!(first[3..], [Verdict::Count, Verdict::Count]);
        // Still the same second: counted.
        assert_eq!(log.verdict(t0 + Duration::from_millis(999)), Verdict::Count);
        // The next second's first line comes after the count of the three.
        let t1 = t0 + WINDOW;
        assert_eq!(log.verdict(t1), Verdict::Log { suppressed: 3 });
        assert_eq!(log.verdict(t1), Verdict::Log { suppressed: 0 });
    }
}
