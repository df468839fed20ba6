//! Built-in accounts: register, log in, log out.

use super::{Auth, password, session};
use crate::domain::{ACCOUNT_PREFIX, User, Username, now_ms};
use crate::error::AppError;
use crate::store::{Admin, Credentials};

/// The result of a successful login.
#[derive(Debug)]
pub struct LoggedIn {
    pub user: User,
    /// A JWT for `auth.token` or `Authorization: Bearer`.
    pub token: String,
    /// The session token to set as a cookie.
    pub session: String,
}

const MIN_PASSWORD: usize = 8;
const MAX_PASSWORD: usize = 1024;

impl Auth {
    /// Whether `POST /api/register` is open.
    pub fn registration_open(&self) -> bool {
        self.registration
    }

    /// How long login tokens and sessions live.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    pub async fn register(&self, username: &str, password: &str) -> Result<User, AppError> {
        if !self.registration {
            return Err(AppError::Forbidden("registration is closed".into()));
        }
        self.create_account(username, password).await
    }

    /// Creates an account whether or not registration is open (`roomcast user add`).
    pub async fn create_account(&self, username: &str, password: &str) -> Result<User, AppError> {
        let name = Username::parse(username).map_err(AppError::InvalidPayload)?;
        let hash = hash_password(password).await?;
        let user = User::new(name.user_id(), name.as_str().to_owned());
        self.store
            .create_user(&user, &hash)
            .await
            .map_err(|e| match e {
                crate::store::StoreError::Conflict => {
                    AppError::Conflict("username is taken".into())
                }
                other => other.into(),
            })?;
        Ok(user)
    }

    /// Sets a new password (`roomcast user passwd`) and ends every session
    /// of the account, and with them every JWT issued at its logins.
    pub async fn set_password(
        &self,
        admin: &dyn Admin,
        username: &str,
        password: &str,
    ) -> Result<(), AppError> {
        let id = account_id(username)
            .ok_or_else(|| AppError::NotFound(format!("no user {username}")))?;
        let hash = hash_password(password).await?;
        admin.set_password(&id, &hash).await.map_err(|e| match e {
            crate::store::StoreError::NotFound => AppError::NotFound(format!("no user {username}")),
            other => other.into(),
        })
    }

    /// The account of a right username and password that is not disabled;
    /// anything else is the one `wrong username or password` refusal.
    async fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Credentials, AppError> {
        let wrong = || AppError::Unauthorized("wrong username or password".into());
        // A name that cannot be a username is looked up as no account: the
        // same answer, after the same dummy hash check, as an unknown one.
        let creds = match account_id(username) {
            Some(id) => self.store.credentials(&id).await?,
            None => None,
        };
        let hash = creds.as_ref().map(|c| c.password_hash.clone());
        if !password::verify(password.to_owned(), hash).await {
            return Err(wrong());
        }
        let creds = creds.ok_or_else(wrong)?;
        if creds.disabled {
            return Err(wrong());
        }
        Ok(creds)
    }

    pub async fn login(&self, username: &str, password: &str) -> Result<LoggedIn, AppError> {
        let user = self.check_password(username, password).await?.user;
        let session = session::new_token();
        let sid = session::token_hash(&session);
        self.open_session(&sid, &user).await?;
        // The JWT names its session: it works exactly as long as the cookie.
        let token = self.keys.issue(&user, self.ttl_secs, None, Some(sid));
        Ok(LoggedIn {
            user,
            token,
            session,
        })
    }

    /// Stores a session under `hash` (of its token) for `user`.
    async fn open_session(&self, hash: &str, user: &User) -> Result<(), AppError> {
        let expires = now_ms() + (self.ttl_secs as i64).saturating_mul(1000);
        self.store.create_session(hash, &user.id, expires).await?;
        Ok(())
    }

    /// A dashboard's login at the `/admin` namespace (docs/protocol.md
    /// §4b): the password as `login` checks it, then the admin flag. Opens
    /// a dashboard session and returns its token, which the dashboard keeps
    /// to reconnect ([`Auth::admin_session`]). Every refusal reads
    /// `invalid credentials`, the dashboard's own wording, so none tells
    /// which accounts exist or are admins.
    pub async fn admin_login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(User, String), AppError> {
        let creds = self
            .check_password(username, password)
            .await
            .map_err(|e| match e {
                AppError::Unauthorized(_) => invalid_admin(),
                other => other,
            })?;
        if !creds.admin {
            return Err(invalid_admin());
        }
        let session = session::new_token();
        self.open_session(&dashboard_hash(&session), &creds.user)
            .await?;
        Ok((creds.user, session))
    }

    /// The admin whose live session `token` is (a dashboard reconnecting
    /// with the `sessionId` a login gave it).
    pub async fn admin_session(&self, token: &str) -> Result<User, AppError> {
        let user = self
            .store
            .session_user(&dashboard_hash(token), now_ms())
            .await?
            .ok_or_else(invalid_admin)?;
        self.require_admin(&user).await?;
        Ok(user)
    }

    async fn require_admin(&self, user: &User) -> Result<(), AppError> {
        match self.store.credentials(&user.id).await? {
            Some(c) if c.admin && !c.disabled => Ok(()),
            _ => Err(invalid_admin()),
        }
    }

    /// Ends the session of a `Cookie` header and the one a login JWT names
    /// (`Authorization: Bearer`), whichever are present: the cookie and every
    /// copy of that login's JWT stop working at once. An app-signed JWT has
    /// no session and is left to its `exp`.
    pub async fn logout(
        &self,
        bearer: Option<&str>,
        cookie_header: Option<&str>,
    ) -> Result<(), AppError> {
        if let Some(token) = cookie_header.and_then(session::from_cookie_header) {
            self.store
                .delete_session(&session::token_hash(&token))
                .await?;
        }
        if let Some(sid) = bearer
            .and_then(|t| self.keys.verify(t).ok())
            .and_then(|c| c.sid)
        {
            self.store.delete_session(&sid).await?;
        }
        Ok(())
    }
}

/// A dashboard session is stored under the hash of its token with this
/// prefix: the dashboard keeps the token in `localStorage`, where a script
/// could read it, so it must not also work as the HttpOnly session cookie
/// (nor a cookie as a dashboard session). Both end as sessions do (expiry,
/// password change, disabling).
fn dashboard_hash(token: &str) -> String {
    session::token_hash(&format!("admin-ui\n{token}"))
}

fn invalid_admin() -> AppError {
    AppError::Unauthorized("invalid credentials".into())
}

/// The user id of the account `username` names (a username, or an account's
/// user id as `roomcast user list` prints it), or `None` when it can be
/// neither (so it names no account).
pub(crate) fn account_id(username: &str) -> Option<String> {
    let name = username.strip_prefix(ACCOUNT_PREFIX).unwrap_or(username);
    Username::parse(name).ok().map(|n| n.user_id())
}

/// Checks the length rule, then hashes with Argon2id.
async fn hash_password(password: &str) -> Result<String, AppError> {
    let len = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&len) {
        return Err(AppError::payload(format!(
            "password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )));
    }
    password::hash(password.to_owned())
        .await
        .map_err(|_| AppError::Internal)
}
