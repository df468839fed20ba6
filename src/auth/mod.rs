//! Who is connecting (PROTOCOL §2): JWTs, built-in accounts and their session
//! cookie, and which browser origins may act for them.

mod accounts;
pub mod jwt;
pub mod keys;
mod newcomers;
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
use jwt::{TokenRefusal, Verified};
pub use origin::Origins;

/// A proven user, and the private rooms their token lets them join.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: User,
    /// The token's `rooms` claim (a key's rooms); empty for session cookies.
    pub rooms: HashSet<String>,
    /// Set when an API key proved it: what the key may do.
    pub key: Option<keys::KeyScope>,
}

impl Identity {
    /// Whether the identity may act in `room` at all: a key limited to
    /// rooms may act only in those.
    pub fn may_use(&self, room: &str) -> bool {
        self.key.as_ref().is_none_or(|k| k.allows(room))
    }
}

/// Why an identity was refused. Each has its own message after the
/// `unauthorized` code (docs/protocol.md §2), told apart only as far as
/// helps an honest client: which part of a signature failed is never said,
/// and a disabled account reads the same as an ended session, so neither
/// tells anyone which usernames exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No token and no session cookie.
    NoCredentials,
    /// A validly signed token past its `exp` or before its `nbf`.
    Expired,
    /// A token that does not verify: malformed, forged or signed with another secret.
    InvalidToken,
    /// A login token or session cookie whose session ended (logout, password
    /// change, expiry) or whose account is disabled; an app user's JWT
    /// after `roomcast user disable --app`.
    SessionEnded,
    /// An API key that is not (or no longer) stored.
    KeyRevoked,
}

impl Refused {
    /// What the client is told: `connect_error`'s `message`, and the HTTP
    /// error's `message` beside the code `unauthorized`.
    pub fn message(self) -> &'static str {
        match self {
            Self::NoCredentials => "unauthorized: no token or session cookie",
            Self::Expired => "unauthorized: token expired or not yet valid",
            Self::InvalidToken => "unauthorized: invalid token",
            Self::SessionEnded => "unauthorized: session ended or account disabled",
            Self::KeyRevoked => "unauthorized: unknown or revoked key",
        }
    }
}

impl From<Refused> for AppError {
    fn from(r: Refused) -> Self {
        AppError::Unauthorized(r.message().into())
    }
}

/// Checks identities and runs the built-in accounts. Shared by the socket
/// middleware and the HTTP routes so both accept exactly the same proofs.
#[derive(Clone)]
pub struct Auth {
    keys: jwt::Keys,
    store: Arc<dyn Store>,
    ttl_secs: u64,
    registration: bool,
    last_use: keys::LastUse,
    newcomers: newcomers::Newcomers,
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
            ttl_secs: settings.session_ttl_secs,
            registration: settings.registration,
            last_use: keys::LastUse::default(),
            newcomers: newcomers::Newcomers::spawn(store.clone()),
            store,
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
        if let Some(key) = token.filter(|t| t.starts_with(keys::KEY_PREFIX)) {
            return keys::identify(&self.store, &self.last_use, key).await;
        }
        if let Some(token) = token {
            let Verified { identity, sid } = self.keys.verify(token).map_err(|e| match e {
                TokenRefusal::Expired => Refused::Expired,
                TokenRefusal::Invalid => Refused::InvalidToken,
            })?;
            // Only keys are bots: no JWT may name one.
            if identity.user.bot {
                return Err(Refused::InvalidToken.into());
            }
            if !is_account_id(&identity.user.id) {
                self.app_user(&identity.user).await?;
                return Ok(identity);
            }
            // Only roomcast signs `acct:` tokens, always with a session.
            let sid = sid.ok_or(Refused::InvalidToken)?;
            let user = self
                .store
                .session_user(&sid, now_ms())
                .await?
                .ok_or(Refused::SessionEnded)?;
            if user.id != identity.user.id {
                return Err(Refused::InvalidToken.into());
            }
            return Ok(Identity {
                user,
                rooms: identity.rooms,
                key: None,
            });
        }
        let Some(cookie) = cookie_header.and_then(session::from_cookie_header) else {
            return Err(Refused::NoCredentials.into());
        };
        let user = self
            .store
            .session_user(&session::token_hash(&cookie), now_ms())
            .await?
            .ok_or(Refused::SessionEnded)?;
        Ok(Identity {
            user,
            rooms: HashSet::new(),
            key: None,
        })
    }

    /// The app's user becomes known here (one read per connect; on the
    /// first, a place in the newcomers' next transaction), so it can be
    /// disabled; a disabled one is refused.
    async fn app_user(&self, user: &User) -> Result<(), AppError> {
        match self.store.app_user_disabled(&user.id).await? {
            Some(true) => Err(Refused::SessionEnded.into()),
            Some(false) => Ok(()),
            None => self.newcomers.record(user).await,
        }
    }

    /// `who` (proven by a server key) acting as `user_id`: that user with
    /// that user's rights, within the key's rooms. A built-in account must
    /// exist and not be disabled, and is shown by its own name; an app
    /// user by `name` (default: the id) unless disabled.
    pub async fn act_as(
        &self,
        who: Identity,
        user_id: &str,
        name: Option<&str>,
    ) -> Result<Identity, AppError> {
        let Some(scope) = who.key.filter(|k| k.server) else {
            return Err(AppError::Forbidden(
                "only a server key may act as another user".into(),
            ));
        };
        if user_id.is_empty()
            || user_id.len() > 256
            || user_id.starts_with(crate::domain::BOT_PREFIX)
        {
            return Err(AppError::payload(
                "x-roomcast-as (a socket's `as`) must be a user id",
            ));
        }
        let user = if is_account_id(user_id) {
            match self.store.credentials(user_id).await? {
                Some(c) if !c.disabled => c.user,
                _ => return Err(AppError::NotFound(format!("no user {user_id}"))),
            }
        } else {
            let user = User::new(user_id, name.filter(|n| !n.is_empty()).unwrap_or(user_id));
            self.app_user(&user).await?;
            user
        };
        Ok(Identity {
            user,
            rooms: HashSet::new(),
            key: Some(scope),
        })
    }
}
