//! The caller of an `/api` route: `Authorization: Bearer` a JWT or an API
//! key, else the session cookie; a server key may name another user in
//! `X-Roomcast-As`.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Shared;

/// An authenticated caller; a route that takes it answers 401 without one.
pub struct Caller(pub Identity);

impl FromRequestParts<Shared> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, AppError> {
        let header_str = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let token = match header_str(header::AUTHORIZATION.as_str()) {
            Some(v) => Some(
                v.strip_prefix("Bearer ")
                    .ok_or_else(|| AppError::Unauthorized("expected a Bearer token".into()))?,
            ),
            None => None,
        };
        let identity = state
            .auth
            .identify(token, header_str(header::COOKIE.as_str()))
            .await?;
        match header_str(AS_USER) {
            None => Ok(Caller(identity)),
            Some(user) => {
                let name = header_str(AS_NAME);
                Ok(Caller(state.auth.act_as(identity, user, name).await?))
            }
        }
    }
}

/// The user a server key acts as (docs/protocol.md §6).
pub(super) const AS_USER: &str = "x-roomcast-as";
/// The display name of that user when it is an app user (default: the id).
pub(super) const AS_NAME: &str = "x-roomcast-as-name";
