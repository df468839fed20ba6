//! Who is connecting (PROTOCOL §2): JWTs, built-in accounts and their session
//! cookie, and which browser origins may act for them.

mod accounts;
pub mod jwt;
mod origin;
pub mod password;
pub mod session;

use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::config::Settings;
use crate::domain::{User, is_account_id, now_ms};
use crate::error::AppError;
use crate::store::Store;

pub use accounts::LoggedIn;
pub(crate) use accounts::account_id;
use jwt::Verified;
pub use origin::Origins;

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
            keys: jwt::Keys::new(secret.as_bytes(), settings.jwt_leeway_secs)?,
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
    ///
    /// User ids are in two namespaces that cannot meet: a JWT's `sub` is the
    /// app's user id as signed, and a built-in account's id is `acct:` and its
    /// username. A JWT with an `acct:` subject is accepted only when roomcast
    /// issued it at a login whose session still lives (not logged out, not
    /// ended by a password change, the account not disabled).
    pub async fn identify(
        &self,
        token: Option<&str>,
        cookie_header: Option<&str>,
    ) -> Result<Identity, AppError> {
        let refused = || AppError::Unauthorized("unauthorized".into());
        if let Some(token) = token {
            let Verified { identity, sid } = self.keys.verify(token).ok_or_else(refused)?;
            if !is_account_id(&identity.user.id) {
                return Ok(identity);
            }
            let sid = sid.ok_or_else(refused)?;
            let user = self
                .store
                .session_user(&sid, now_ms())
                .await?
                .filter(|u| u.id == identity.user.id)
                .ok_or_else(refused)?;
            return Ok(Identity {
                user,
                rooms: identity.rooms,
            });
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
