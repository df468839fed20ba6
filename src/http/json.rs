//! `ApiJson<T>`: a JSON body parsed as the protocol's [`Request`] `T`, so an
//! HTTP body gets the same per-field error codes as the socket event.

use axum::Json;
use axum::extract::{FromRequest, Request as HttpRequest};
use axum::http::StatusCode;
use serde_json::Value;

use crate::error::AppError;
use crate::protocol::Request;

/// A request body of the contract; any failure is the contract's error.
pub(super) struct ApiJson<T>(pub(super) T);

impl<S: Send + Sync, T: Request> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: HttpRequest, state: &S) -> Result<Self, AppError> {
        let Json(body) = Json::<Value>::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge("request body too large".into())
            } else {
                AppError::payload(format!("invalid JSON body: {}", e.body_text()))
            }
        })?;
        T::parse(Some(body)).map(ApiJson)
    }
}
