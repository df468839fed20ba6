//! Limits that protect the server from its own users: message rate per
//! user, login attempts per username and per address, sockets per user.
//!
//! All counters live in this process. With several nodes each node counts
//! for itself, so a user spread over N nodes gets up to N times the rate.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::config::Settings;
use crate::error::AppError;

/// Beyond this many tracked keys, buckets that have refilled completely are
/// forgotten (a full bucket and no bucket behave the same).
const PRUNE_ABOVE: usize = 10_000;

/// One token bucket per key.
struct Buckets {
    per_sec: f64,
    burst: f64,
    map: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Buckets {
    fn new(per_sec: f64, burst: u32) -> Self {
        Self {
            per_sec,
            burst: f64::from(burst),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`; `false` when its bucket is empty.
    fn take(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, b| self.refill(*b, now) < self.burst);
        }
        let bucket = map.entry(key.to_owned()).or_insert((self.burst, now));
        let tokens = self.refill(*bucket, now);
        if tokens < 1.0 {
            *bucket = (tokens, now);
            return false;
        }
        *bucket = (tokens - 1.0, now);
        true
    }

    fn refill(&self, (tokens, at): (f64, Instant), now: Instant) -> f64 {
        (tokens + now.duration_since(at).as_secs_f64() * self.per_sec).min(self.burst)
    }
}

/// The limits of one node, shared by the socket handlers and the HTTP routes.
pub struct Limits {
    messages: Buckets,
    login_users: Buckets,
    login_addrs: Buckets,
    connections: Mutex<HashMap<String, u32>>,
    max_connections: u32,
    /// Largest socket event or HTTP body, in bytes.
    pub max_payload: usize,
}

impl Limits {
    pub fn new(settings: &Settings) -> Arc<Self> {
        let per_minute = f64::from(settings.login_attempts) / 60.0;
        Arc::new(Self {
            messages: Buckets::new(settings.message_rate, settings.message_burst),
            login_users: Buckets::new(per_minute, settings.login_attempts),
            login_addrs: Buckets::new(per_minute, settings.login_attempts),
            connections: Mutex::new(HashMap::new()),
            max_connections: settings.max_connections,
            max_payload: settings.max_payload,
        })
    }

    /// One message from `user_id` (a `chat` or an HTTP post).
    pub fn message(&self, user_id: &str) -> Result<(), AppError> {
        if self.messages.take(user_id) {
            Ok(())
        } else {
            Err(AppError::RateLimited(
                "too many messages; slow down and retry".into(),
            ))
        }
    }

    /// One login attempt for `username` from `addr`. Both buckets are
    /// charged, so guessing one user's password from many addresses and
    /// many users' passwords from one address are both slowed.
    pub fn login(&self, username: &str, addr: Option<IpAddr>) -> Result<(), AppError> {
        let user_ok = self.login_users.take(username);
        let addr_ok = addr.is_none_or(|a| self.login_addrs.take(&a.to_string()));
        if user_ok && addr_ok {
            Ok(())
        } else {
            Err(AppError::RateLimited(
                "too many login attempts; try again in a minute".into(),
            ))
        }
    }

    /// Counts a new socket of `user_id`; refused beyond `max_connections`.
    pub fn connect(self: &Arc<Self>, user_id: &str) -> Result<ConnectionSlot, AppError> {
        let mut map = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(user_id.to_owned()).or_insert(0);
        if *n >= self.max_connections {
            return Err(AppError::RateLimited(format!(
                "too many connections: at most {} per user",
                self.max_connections
            )));
        }
        *n += 1;
        Ok(ConnectionSlot {
            limits: self.clone(),
            user_id: user_id.to_owned(),
            released: AtomicBool::new(false),
        })
    }

    /// Sockets `user_id` has connected now.
    pub fn connections_of(&self, user_id: &str) -> u32 {
        let map = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        map.get(user_id).copied().unwrap_or(0)
    }
}

/// A counted socket; released at disconnect (or when dropped, whichever is first).
pub struct ConnectionSlot {
    limits: Arc<Limits>,
    user_id: String,
    released: AtomicBool,
}

impl ConnectionSlot {
    pub fn release(&self) {
        if self.released.swap(true, Ordering::SeqCst) {
            return;
        }
        let mut map = self
            .limits
            .connections
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.user_id);
            }
        }
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.release();
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
    fn a_released_slot_frees_its_place_once() {
        let mut s = Settings::new("sqlite://x");
        s.max_connections = 1;
        let limits = Limits::new(&s);
        let slot = limits.connect("u").expect("first");
        assert!(limits.connect("u").is_err());
        slot.release();
        drop(slot);
        assert_eq!(limits.connections_of("u"), 0);
        assert!(limits.connect("u").is_ok());
    }
}
