//! Limits that protect the server from its own users: message rate per
//! user, login and registration attempts, password hashes at once, sockets
//! per user.
//!
//! All counters live in this process. With several nodes each node counts
//! for itself, so a user spread over N nodes gets up to N times the rate.

mod buckets;
mod hashing;
mod login;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::config::Settings;
use crate::domain::Username;
use crate::error::AppError;
use buckets::Buckets;
pub use hashing::{HashPermit, PasswordWork};
use login::AccountLimits;

/// The limits of one node, shared by the socket handlers and the HTTP routes.
pub struct Limits {
    messages: Buckets,
    accounts: AccountLimits,
    /// Permits for password hashing (logins and registrations).
    pub passwords: PasswordWork,
    connections: Mutex<HashMap<String, u32>>,
    max_connections: u32,
    /// Largest socket event or HTTP body, in bytes.
    pub max_payload: usize,
}

impl Limits {
    pub fn new(settings: &Settings) -> Arc<Self> {
        Arc::new(Self {
            messages: Buckets::new(settings.message_rate, settings.message_burst),
            accounts: AccountLimits::new(
                settings.login_attempts,
                settings.login_window,
                settings.registration_rate,
            ),
            passwords: PasswordWork::for_this_machine(),
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

    /// One login attempt for `username` from `addr` (the buckets are in
    /// `limits/login.rs`); may wait a few seconds when the username is much tried.
    pub async fn login(&self, username: &Username, addr: Option<IpAddr>) -> Result<(), AppError> {
        self.accounts.login(username, addr).await
    }

    /// A login attempt whose name is no valid username: charges the address only.
    pub fn invalid_login(&self, addr: Option<IpAddr>) -> Result<(), AppError> {
        self.accounts.invalid_login(addr)
    }

    /// One registration attempt from `addr` (`--registration-rate` per hour).
    pub fn register(&self, addr: Option<IpAddr>) -> Result<(), AppError> {
        self.accounts.register(addr)
    }

    /// Keys each limiter remembers now, by limiter name (each is capped).
    pub fn tracked_keys(&self) -> Vec<(&'static str, usize)> {
        let mut sizes = vec![("messages", self.messages.len())];
        sizes.extend(self.accounts.sizes());
        sizes
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
