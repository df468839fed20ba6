//! The bodies of the HTTP API (docs/protocol.md §6) that are not socket
//! shapes too; the OpenAPI document is derived from these types.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::fields::{Fields, Request};
use crate::domain::{MessageText, RoomName, SignalType, User, Visibility};
use crate::error::AppError;

/// `POST /api/register` and `POST /api/login`.
#[derive(Debug, ToSchema)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// `POST /api/rooms`.
#[derive(Debug, ToSchema)]
pub struct NewRoom {
    #[schema(value_type = String)]
    pub name: RoomName,
    /// `public` (the default) or `private`.
    #[schema(value_type = Option<Visibility>)]
    pub visibility: Visibility,
}

/// `POST /api/rooms/{room}/messages`.
#[derive(Debug, ToSchema)]
pub struct PostMessage {
    /// 1 to 4000 characters after trimming; with `files`, may be missing or empty.
    #[schema(value_type = Option<String>)]
    pub message: String,
    /// The id of the message of the same room this one answers.
    pub reply_to: Option<i64>,
    /// Up to 10 ids of the caller's uploads to this room that no message carries yet.
    #[schema(value_type = Option<Vec<String>>)]
    pub files: Vec<String>,
}

/// `PATCH /api/rooms/{room}/messages/{id}`.
#[derive(Debug, ToSchema)]
pub struct EditMessage {
    /// 1 to 4000 characters after trimming.
    #[schema(value_type = String)]
    pub message: MessageText,
}

/// `POST /api/rooms/{room}/events`: a `signal` from the backend.
#[derive(Debug, ToSchema)]
pub struct PostEvent {
    /// 1 to 64 characters of `A-Z a-z 0-9 . - _`.
    #[schema(value_type = String, rename = "type")]
    pub kind: SignalType,
    /// Any JSON; `null` when absent.
    #[schema(value_type = Object)]
    pub data: Value,
}

/// `POST /api/rooms/{room}/members`.
#[derive(Debug, ToSchema)]
pub struct Invite {
    /// The invited user's id.
    pub user: String,
}

/// `POST /api/dms` (parsed as the `dm` event's [`Dm`](super::Dm)): one
/// other user, or up to seven.
#[derive(Debug, ToSchema)]
pub struct DmWith {
    pub user: Option<String>,
    pub users: Option<Vec<String>>,
}

/// The body of `GET /api/users`.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct UserList {
    /// By display name.
    pub users: Vec<crate::domain::User>,
}

/// `PUT /api/rooms/{room}/read`: read up to message `id` (0 or more).
#[derive(Debug, ToSchema)]
pub struct ReadUpTo {
    pub id: i64,
}

impl Request for ReadUpTo {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let id = Fields::of(payload)?.id("id")?;
        if id < 0 {
            return Err(AppError::payload("id must be a message id, 0 or more"));
        }
        Ok(Self { id })
    }
}

impl Request for Credentials {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            username: f.string("username")?,
            password: f.string("password")?,
        })
    }
}

impl Request for NewRoom {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        let name = f.room_at("name")?;
        let visibility = match f.opt_string("visibility")? {
            None => Visibility::Public,
            Some(v) => Visibility::parse(v)
                .ok_or_else(|| AppError::payload("visibility must be \"public\" or \"private\""))?,
        };
        Ok(Self { name, visibility })
    }
}

impl Request for PostMessage {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        let (message, files) = f.post()?;
        Ok(Self {
            message,
            reply_to: f.opt_id("reply_to")?,
            files,
        })
    }
}

impl Request for EditMessage {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        Ok(Self {
            message: Fields::of(payload)?.message()?,
        })
    }
}

impl Request for PostEvent {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            kind: f.signal_type()?,
            data: f.json("data"),
        })
    }
}

impl Request for Invite {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        Ok(Self {
            user: Fields::of(payload)?.string("user")?,
        })
    }
}

/// What `POST /api/login` answers; it also sets the session cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedIn {
    /// A JWT for `auth.token` or `Authorization: Bearer`.
    pub token: String,
    pub user: User,
}

/// What `POST /api/register` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    pub user: User,
}

/// What `POST /api/rooms/{room}/members` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Membership {
    pub room: String,
    /// The invited user's id.
    pub user: String,
}

/// `up` or `down`, in a health answer.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Up {
    Up,
    Down,
}

/// The server's state in a health answer.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Redis is down (503): this node serves only its own sockets.
    Degraded,
    /// The database is down (503).
    Unavailable,
}

/// What `GET /healthz` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: Status,
    /// Only with `--redis`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<Up>,
    /// Only in an answer that is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<Up>,
}
