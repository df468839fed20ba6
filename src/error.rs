//! The contract's error codes (PROTOCOL §4 and §6), mapped to acks and HTTP in one place.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::store::StoreError;

/// Every error a client can see. `Display` is the human-readable `message`;
/// it never carries internal detail (SQL, paths, stack text).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    InvalidPayload(String),
    #[error("{0}")]
    InvalidRoom(String),
    #[error("{0}")]
    InvalidMessage(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotInRoom(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    /// An HTTP request body that did not arrive within its deadline (408).
    #[error("{0}")]
    Timeout(String),
    /// The server cannot take this now (it is shutting down). Answered as
    /// `internal` on sockets, which is what the contract has for it, and 503.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal,
}

impl AppError {
    /// The machine-readable code of the contract.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidPayload(_) => "invalid_payload",
            Self::InvalidRoom(_) => "invalid_room",
            Self::InvalidMessage(_) => "invalid_message",
            Self::NotFound(_) => "not_found",
            Self::Forbidden(_) => "forbidden",
            Self::NotInRoom(_) => "not_in_room",
            Self::RateLimited(_) => "rate_limited",
            Self::Unauthorized(_) => "unauthorized",
            Self::Conflict(_) => "conflict",
            Self::TooLarge(_) => "too_large",
            Self::Timeout(_) => "timeout",
            Self::Unavailable(_) | Self::Internal => "internal",
        }
    }

    /// The HTTP status of PROTOCOL §6.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidPayload(_) | Self::InvalidRoom(_) | Self::InvalidMessage(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::NotInRoom(_) => StatusCode::CONFLICT,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The failed ack object of PROTOCOL §4.
    pub fn to_ack(&self) -> Value {
        json!({"ok": false, "error": self.code(), "message": self.to_string()})
    }

    pub(crate) fn payload(msg: impl Into<String>) -> Self {
        Self::InvalidPayload(msg.into())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict("already exists".into()),
            StoreError::NotFound => Self::NotFound("not found".into()),
            StoreError::Unavailable(cause) => {
                // The cause is for the operator's log, never for the client.
                tracing::error!(error = %cause, "storage error");
                Self::Internal
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.code(), "message": self.to_string()});
        (self.status(), Json(body)).into_response()
    }
}

/// Turns a handler result into the ack object: `{"ok":true, ...fields}` or the error.
pub fn ack_of(result: Result<Value, AppError>) -> Value {
    match result {
        Ok(Value::Object(mut fields)) => {
            fields.insert("ok".into(), Value::Bool(true));
            Value::Object(fields)
        }
        Ok(_) => json!({"ok": true}),
        Err(e) => e.to_ack(),
    }
}
