//! The contract's error codes (docs/protocol.md §4 and §6), mapped to acks and HTTP in one place.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::{Restraint, StoreError};

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
    /// `rate_limited` with the wait: the room's slow mode (HTTP `Retry-After`).
    #[error("{message}")]
    SlowMode {
        message: String,
        retry_after_ms: i64,
    },
    /// The caller is muted in the room until `until` (unix ms).
    #[error("{message}")]
    Muted { message: String, until: i64 },
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

/// The machine-readable codes of the contract, as acks, HTTP bodies, the
/// `event_errors` metric and the OpenAPI document spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidPayload,
    InvalidRoom,
    InvalidMessage,
    NotFound,
    Forbidden,
    NotInRoom,
    RateLimited,
    Muted,
    Unauthorized,
    Conflict,
    TooLarge,
    Timeout,
    Internal,
}

impl ErrorCode {
    /// Every code, for the document's tests and the metric's labels.
    pub const ALL: [Self; 13] = [
        Self::InvalidPayload,
        Self::InvalidRoom,
        Self::InvalidMessage,
        Self::NotFound,
        Self::Forbidden,
        Self::NotInRoom,
        Self::RateLimited,
        Self::Muted,
        Self::Unauthorized,
        Self::Conflict,
        Self::TooLarge,
        Self::Timeout,
        Self::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidPayload => "invalid_payload",
            Self::InvalidRoom => "invalid_room",
            Self::InvalidMessage => "invalid_message",
            Self::NotFound => "not_found",
            Self::Forbidden => "forbidden",
            Self::NotInRoom => "not_in_room",
            Self::RateLimited => "rate_limited",
            Self::Muted => "muted",
            Self::Unauthorized => "unauthorized",
            Self::Conflict => "conflict",
            Self::TooLarge => "too_large",
            Self::Timeout => "timeout",
            Self::Internal => "internal",
        }
    }
}

/// Every HTTP error body: a code of the contract and a message for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    #[schema(example = "forbidden")]
    pub error: ErrorCode,
    pub message: String,
    /// `muted`: when the mute ends, unix milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// `rate_limited` by a room's slow mode: milliseconds to wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<i64>,
}

/// A refused event's ack: `{"ok": false, "error", "message"}`.
#[derive(Debug, Serialize)]
pub struct Refusal {
    ok: bool,
    pub error: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<i64>,
}

impl AppError {
    /// The machine-readable code of the contract.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidPayload(_) => ErrorCode::InvalidPayload,
            Self::InvalidRoom(_) => ErrorCode::InvalidRoom,
            Self::InvalidMessage(_) => ErrorCode::InvalidMessage,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotInRoom(_) => ErrorCode::NotInRoom,
            Self::RateLimited(_) | Self::SlowMode { .. } => ErrorCode::RateLimited,
            Self::Muted { .. } => ErrorCode::Muted,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::TooLarge(_) => ErrorCode::TooLarge,
            Self::Timeout(_) => ErrorCode::Timeout,
            Self::Unavailable(_) | Self::Internal => ErrorCode::Internal,
        }
    }

    /// The HTTP status of docs/protocol.md §6.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidPayload(_) | Self::InvalidRoom(_) | Self::InvalidMessage(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::NotInRoom(_) => StatusCode::CONFLICT,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::RateLimited(_) | Self::SlowMode { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Muted { .. } => StatusCode::FORBIDDEN,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The failed ack of docs/protocol.md §4.
    pub fn to_ack(&self) -> Refusal {
        Refusal {
            ok: false,
            error: self.code(),
            message: self.to_string(),
            until: self.until(),
            retry_after_ms: self.retry_after_ms(),
        }
    }

    /// The HTTP body of docs/protocol.md §6.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            error: self.code(),
            message: self.to_string(),
            until: self.until(),
            retry_after_ms: self.retry_after_ms(),
        }
    }

    fn until(&self) -> Option<i64> {
        match self {
            Self::Muted { until, .. } => Some(*until),
            _ => None,
        }
    }

    fn retry_after_ms(&self) -> Option<i64> {
        match self {
            Self::SlowMode { retry_after_ms, .. } => Some(*retry_after_ms),
            _ => None,
        }
    }

    pub(crate) fn payload(msg: impl Into<String>) -> Self {
        Self::InvalidPayload(msg.into())
    }
}

/// The writer's refusals of a banned, muted or slowed user, in the words
/// the room's moderation uses everywhere.
impl From<Restraint> for AppError {
    fn from(r: Restraint) -> Self {
        match r {
            Restraint::NoRoom { room } => Self::NotFound(format!("room {room} does not exist")),
            Restraint::Banned { room } => {
                Self::Forbidden(format!("you are banned from room {room}"))
            }
            Restraint::Muted { room, until } => Self::Muted {
                message: format!("you are muted in room {room}"),
                until,
            },
            Restraint::Slowed {
                room,
                seconds,
                retry_after_ms,
            } => Self::SlowMode {
                message: format!("room {room} is in slow mode: one message per {seconds} s"),
                retry_after_ms,
            },
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Conflict("already exists".into()),
            StoreError::NotFound => Self::NotFound("not found".into()),
            StoreError::NotYours => Self::Forbidden("that message is someone else's".into()),
            StoreError::TooManyReactions => Self::Conflict(format!(
                "a message has at most {} distinct reactions",
                crate::store::MAX_REACTIONS
            )),
            StoreError::NoSuchFile => Self::InvalidPayload("no such file".into()),
            StoreError::Restrained(r) => r.into(),
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
        let mut response = (self.status(), Json(self.to_body())).into_response();
        if let Some(ms) = self.retry_after_ms() {
            // Whole seconds, rounded up, as `Retry-After` counts them.
            let seconds = (ms.max(0) + 999) / 1000;
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
