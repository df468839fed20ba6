//! Token buckets per key, with a hard cap on the keys they remember.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys one set of buckets remembers at most. Keys are short (validated
/// usernames, addresses, user ids), so a full set is a few MiB.
pub(super) const MAX_KEYS: usize = 50_000;

#[derive(Clone, Copy)]
struct Bucket {
    /// Below zero when attempts have reserved tokens not yet refilled.
    tokens: f64,
    at: Instant,
}

/// One token bucket per key.
pub(super) struct Buckets {
    per_sec: f64,
    burst: f64,
    cap: usize,
    map: Mutex<HashMap<String, Bucket>>,
}

impl Buckets {
    /// `burst` tokens, refilled at `per_sec`.
    pub(super) fn new(per_sec: f64, burst: u32) -> Self {
        Self::with_cap(per_sec, burst, MAX_KEYS)
    }

    pub(super) fn with_cap(per_sec: f64, burst: u32, cap: usize) -> Self {
        Self {
            per_sec,
            burst: f64::from(burst),
            cap: cap.max(2),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`; `false` (and nothing taken) when its bucket is empty.
    pub(super) fn take(&self, key: &str) -> bool {
        self.reserve(key, Duration::ZERO).is_some()
    }

    /// Takes a token for `key`, reserving one that has yet to refill if it
    /// comes within `max_wait`. `Some(wait)`: the caller goes on after
    /// `wait` (zero when a token was there); `None`: refused, nothing taken.
    pub(super) fn reserve(&self, key: &str, max_wait: Duration) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(key) {
            self.make_room(&mut map, now);
        }
        let bucket = map.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let tokens = self.level(*bucket, now);
        let after = tokens - 1.0;
        let wait = if after >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-after / self.per_sec)
        };
        if wait > max_wait {
            *bucket = Bucket { tokens, at: now };
            return None;
        }
        *bucket = Bucket {
            tokens: after,
            at: now,
        };
        Some(wait)
    }

    /// Keys remembered now.
    pub(super) fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn level(&self, b: Bucket, now: Instant) -> f64 {
        (b.tokens + now.duration_since(b.at).as_secs_f64() * self.per_sec).min(self.burst)
    }

    /// Called before a new key is added: at the cap, forgets the buckets
    /// that refilled completely (a full bucket and no bucket behave the
    /// same), and if that is not enough, the fullest half. Forgetting the
    /// fullest first means a client cannot get its own emptied bucket
    /// forgotten by making up keys: each new key is fuller than its own, so
    /// it would have to empty more buckets than the cap holds, every attempt
    /// of which the other buckets charge.
    fn make_room(&self, map: &mut HashMap<String, Bucket>, now: Instant) {
        if map.len() < self.cap {
            return;
        }
        map.retain(|_, b| self.level(*b, now) < self.burst);
        if map.len() < self.cap {
            return;
        }
        let mut levels: Vec<(f64, String)> = map
            .iter()
            .map(|(k, b)| (self.level(*b, now), k.clone()))
            .collect();
        let half = levels.len() / 2;
        levels.select_nth_unstable_by(half, |a, b| b.0.total_cmp(&a.0));
        for (_, key) in &levels[..half] {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses() {
        let b = Buckets::new(0.001, 3);
        assert!((0..3).all(|_| b.take("u")));
        assert!(!b.take("u"));
        assert!(b.take("other"), "buckets are per key");
    }

    #[test]
    fn the_cap_holds_and_the_emptiest_buckets_are_kept() {
        let b = Buckets::with_cap(0.001, 3, 100);
        for _ in 0..3 {
            assert!(b.take("mine"));
        }
        assert!(!b.take("mine"));
        for i in 0..10_000 {
            b.take(&format!("made-up-{i}"));
            assert!(b.len() <= 100);
        }
        assert!(
            !b.take("mine"),
            "made-up keys did not reset an empty bucket"
        );
    }

    #[test]
    fn a_reservation_waits_for_the_next_token_within_the_bound() {
        // One token per 100 ms.
        let b = Buckets::new(10.0, 1);
        let max = Duration::from_millis(250);
        assert_eq!(b.reserve("u", max), Some(Duration::ZERO));
        let first = b.reserve("u", max).expect("within the bound");
        assert!(first > Duration::from_millis(50) && first <= Duration::from_millis(100));
        let second = b.reserve("u", max).expect("still within the bound");
        assert!(second > Duration::from_millis(150), "{second:?}");
        assert_eq!(b.reserve("u", max), None, "beyond the bound: refused");
        assert!(b.reserve("u", Duration::ZERO).is_none());
    }
}
