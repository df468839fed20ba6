//! Who is connecting (PROTOCOL §2): JWTs, built-in accounts and their session cookie.

mod accounts;
pub mod jwt;
pub mod password;
pub mod session;

use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::config::Settings;
use crate::domain::{User, now_ms};
use crate::error::AppError;
use crate::store::Store;

pub use accounts::LoggedIn;

/// A proven user, and the private rooms their token lets them join.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: User,
    /// The token's `rooms` claim; empty for session cookies.
    pub rooms: HashSet<String>,
}

/// Checks identities and runs the built-in accounts. Shared by the socket
/// middleware and the HTTP routes so both accept exactly the same proofs.
#[derive(Clone)]
pub struct Auth {
    keys: jwt::Keys,
    store: Arc<dyn Store>,
    ttl_secs: u64,
    registration: bool,
}

const SECRET_KEY: &str = "jwt_secret";

impl Auth {
    /// Uses the configured secret, or the one kept in the database (made on first start).
    pub async fn new(settings: &Settings, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let secret = match &settings.jwt_secret {
            Some(s) if !s.0.is_empty() => s.0.clone(),
            _ => {
                let fresh = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
                store.setting_or_insert(SECRET_KEY, &fresh).await?
            }
        };
        Ok(Self {
            keys: jwt::Keys::new(secret.as_bytes())?,
            store,
            ttl_secs: settings.session_ttl_secs,
            registration: settings.registration,
        })
    }

    /// The JWT keys, for issuing tokens.
    pub fn keys(&self) -> &jwt::Keys {
        &self.keys
    }

    /// Identity from a bearer token, else from the session cookie in a
    /// `Cookie` header. A token that is present but bad is refused, not
    /// passed over for the cookie.
    pub async fn identify(
        &self,
        token: Option<&str>,
        cookie_header: Option<&str>,
    ) -> Result<Identity, AppError> {
        let refused = || AppError::Unauthorized("unauthorized".into());
        if let Some(token) = token {
            let identity = self.keys.verify(token).ok_or_else(refused)?;
            // A JWT for a built-in account that was disabled is refused too:
            // disabling must shut the user out, not only their password.
            if let Some(c) = self.store.credentials(&identity.user.id).await?
                && c.disabled
            {
                return Err(refused());
            }
            return Ok(identity);
        }
        let Some(cookie) = cookie_header.and_then(session::from_cookie_header) else {
            return Err(refused());
        };
        let user = self
            .store
            .session_user(&session::token_hash(&cookie), now_ms())
            .await?
            .ok_or_else(refused)?;
        Ok(Identity {
            user,
            rooms: HashSet::new(),
        })
    }
}
