//! Argon2id password hashing, off the async runtime (each hash takes tens of ms).

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// A valid hash of a password nobody has, checked when the username is
/// unknown so that a login takes as long whether or not the account exists.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2yXyaGrdQf0Xnu5vOoHYW+0cS1tV5zl3vB0uXfpdv8c";

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

/// Whether `password` matches `hash`; `None` checks against a dummy hash and is always false.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
        && known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_users_cost_a_real_hash_check() {
        // The dummy must parse, or an unknown username would answer at once.
        let dummy = argon2::password_hash::phc::PasswordHash::new(DUMMY_HASH);
        assert!(dummy.is_ok(), "{dummy:?}");
        let h = hash("secret-pass".into()).await.expect("hash");
        assert!(verify("secret-pass".into(), Some(h.clone())).await);
        assert!(!verify("wrong-pass".into(), Some(h)).await);
        assert!(!verify("secret-pass".into(), None).await);
    }
}
