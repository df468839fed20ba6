//! The caller of an `/api` route: `Authorization: Bearer JWT`, else the session cookie.

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
        let header_str = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let token = match header_str(header::AUTHORIZATION) {
            Some(v) => Some(
                v.strip_prefix("Bearer ")
                    .ok_or_else(|| AppError::Unauthorized("expected a Bearer token".into()))?,
            ),
            None => None,
        };
        let identity = state
            .auth
            .identify(token, header_str(header::COOKIE))
            .await?;
        Ok(Caller(identity))
    }
}
