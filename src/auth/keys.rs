//! API keys of bots and backends (docs/protocol.md §2): long-lived secrets
//! made by `roomcast key create`, stored as their SHA-256, revoked by
//! deleting them, their last use recorded at most once a minute per node.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{Identity, Refused, session};
use crate::domain::{ACCOUNT_PREFIX, User, now_ms};
use crate::error::AppError;
use crate::store::{KeyRecord, Store};

/// Every key starts with this, which no JWT does (a JWT starts `eyJ`): one
/// `token` field or bearer header carries either.
pub const KEY_PREFIX: &str = "rc_";

/// How often a key's last use is written, at most, per node.
const LAST_USE_EVERY_MS: i64 = 60_000;

/// A fresh key: the prefix and 256 random bits.
pub fn new_key() -> String {
    format!(
        "{KEY_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    )
}

/// What is stored of a key. SHA-256, not Argon2: a key is 256 random bits,
/// so no guess can find it however fast the hash (Argon2 slows the
/// guessing of low-entropy passwords), and a fast hash keeps a key check to
/// one indexed read, with no CPU cost per request.
pub fn key_hash(key: &str) -> String {
    session::token_hash(key)
}

/// What a socket or request proven by a key may do beyond its user's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyScope {
    /// The key's name (`roomcast key revoke NAME`).
    pub name: String,
    /// The rooms it is limited to; empty for every room.
    pub rooms: HashSet<String>,
    /// May act as any user (`X-Roomcast-As`).
    pub server: bool,
}

impl KeyScope {
    /// Whether the key may act in `room`.
    pub fn allows(&self, room: &str) -> bool {
        self.rooms.is_empty() || self.rooms.contains(room)
    }
}

/// When each key's last use was last written by this node.
#[derive(Default, Clone)]
pub(super) struct LastUse(Arc<Mutex<HashMap<String, i64>>>);

impl LastUse {
    /// Whether a use of `name` now should be written (at most once a minute).
    fn due(&self, name: &str, now: i64) -> bool {
        let Ok(mut written) = self.0.lock() else {
            return false;
        };
        match written.get(name) {
            Some(at) if now - at < LAST_USE_EVERY_MS => false,
            _ => {
                written.insert(name.to_owned(), now);
                true
            }
        }
    }
}

/// The identity a key proves, or `session ended` for no such key (never
/// made, or revoked: the same to the caller).
pub(super) async fn identify(
    store: &Arc<dyn Store>,
    last_use: &LastUse,
    key: &str,
) -> Result<Identity, AppError> {
    let record = store
        .api_key(&key_hash(key))
        .await?
        .ok_or(Refused::KeyRevoked)?;
    let now = now_ms();
    if last_use.due(&record.name, now) {
        let store = store.clone();
        let used = vec![(record.name.clone(), now)];
        tokio::spawn(async move {
            if let Err(e) = store.keys_used(&used).await {
                tracing::warn!(error = %e, "recording a key's last use failed");
            }
        });
    }
    Ok(identity_of(record))
}

fn identity_of(record: KeyRecord) -> Identity {
    let KeyRecord {
        name,
        user_id,
        rooms,
        server,
        ..
    } = record;
    let shown = if user_id.starts_with(crate::domain::BOT_PREFIX) {
        name.clone()
    } else {
        user_id
            .strip_prefix(ACCOUNT_PREFIX)
            .unwrap_or(&user_id)
            .to_owned()
    };
    let rooms: HashSet<String> = rooms.into_iter().collect();
    Identity {
        user: User::new(user_id, shown),
        rooms: rooms.clone(),
        key: Some(KeyScope {
            name,
            rooms,
            server,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_prefixed_and_distinct() {
        let (a, b) = (new_key(), new_key());
        assert!(a.starts_with(KEY_PREFIX) && a.len() == KEY_PREFIX.len() + 43);
        assert_ne!(a, b);
        assert_ne!(key_hash(&a), key_hash(&b));
    }

    #[test]
    fn last_use_is_due_once_a_minute() {
        let l = LastUse::default();
        assert!(l.due("k", 1_000));
        assert!(!l.due("k", 50_000));
        assert!(l.due("other", 50_000));
        assert!(l.due("k", 61_000));
    }
}
