//! The Socket.IO events of docs/protocol.md §4: what a client sends, what
//! each ack carries, and what the server broadcasts.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::fields::{Fields, Request};
use crate::domain::{Message, MessageText, RoomName, SignalType, User};
use crate::error::AppError;

/// The CONNECT packet's `auth` object: `{token}`, a JWT. Anything else
/// (no object, no `token`, not a string) is no token: the session cookie
/// may still identify the socket (docs/protocol.md §2).
#[derive(Debug, Default)]
pub struct ConnectAuth {
    pub token: Option<String>,
}

impl ConnectAuth {
    pub fn parse(auth: Option<Value>) -> Self {
        let token = match auth {
            Some(Value::Object(mut map)) => match map.remove("token") {
                Some(Value::String(token)) => Some(token),
                _ => None,
            },
            _ => None,
        };
        Self { token }
    }
}

/// The events a client may send, parsed once from the event name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEvent {
    Join,
    Leave,
    Chat,
    Typing,
    History,
    Rooms,
    Signal,
}

impl ClientEvent {
    /// The event of this name; any other name is `invalid_payload`.
    pub fn parse(name: &str) -> Result<Self, AppError> {
        Ok(match name {
            "join" => Self::Join,
            "leave" => Self::Leave,
            "chat" => Self::Chat,
            "typing" => Self::Typing,
            "history" => Self::History,
            "rooms" => Self::Rooms,
            "signal" => Self::Signal,
            other => return Err(AppError::payload(format!("unknown event {other:?}"))),
        })
    }
}

/// `join {room, since?}`.
#[derive(Debug)]
pub struct Join {
    pub room: RoomName,
    /// Replay what came after this id instead of the latest page.
    pub since: Option<i64>,
}

/// `leave {room}` and `typing {room}`.
#[derive(Debug)]
pub struct InRoom {
    pub room: RoomName,
}

/// `chat {room, message}`.
#[derive(Debug)]
pub struct Chat {
    pub room: RoomName,
    pub message: MessageText,
}

/// `signal {room, type, data?}`: a custom room event, not stored.
#[derive(Debug)]
pub struct Signal {
    pub room: RoomName,
    pub kind: SignalType,
    /// Any JSON; `null` when absent.
    pub data: Value,
}

/// `history {room, before?, limit?}`.
#[derive(Debug)]
pub struct History {
    pub room: RoomName,
    pub before: Option<i64>,
    pub limit: u32,
}

/// `rooms {}`; sending no argument at all is accepted too.
#[derive(Debug)]
pub struct Rooms;

impl Request for Join {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            room: f.room()?,
            since: f.opt_id("since")?,
        })
    }
}

impl Request for InRoom {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        Ok(Self {
            room: Fields::of(payload)?.room()?,
        })
    }
}

impl Request for Chat {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            room: f.room()?,
            message: f.message()?,
        })
    }
}

impl Request for Signal {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            room: f.room()?,
            kind: f.signal_type()?,
            data: f.json("data"),
        })
    }
}

impl Request for History {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            room: f.room()?,
            before: f.opt_id("before")?,
            limit: f.limit()?,
        })
    }
}

impl Request for Rooms {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        if payload.is_some() {
            Fields::of(payload)?;
        }
        Ok(Self)
    }
}

/// A room as payloads show it, with its live `online` count (all nodes).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Room)]
pub struct RoomView {
    #[schema(value_type = String)]
    pub name: String,
    pub visibility: crate::domain::Visibility,
    /// The owner's user id.
    pub owner: String,
    /// Distinct users with a socket in the room now.
    pub online: u64,
}

/// The ack of `rooms` and the body of `GET /api/rooms`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomList {
    pub rooms: Vec<RoomView>,
}

/// The ack of `history` and the body of `GET /api/rooms/{room}/messages`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    /// Oldest first.
    pub messages: Vec<Message>,
    /// Whether older messages exist.
    pub more: bool,
}

/// The ack of `join`.
#[derive(Debug, Serialize)]
pub struct Joined {
    pub room: RoomView,
    /// The latest page, or what came after `since`; oldest first.
    pub history: Vec<Message>,
    pub more: bool,
    /// Distinct users with a socket in the room, this one included.
    pub online: Vec<User>,
}

/// The ack of `chat`: the stored message's id and time.
#[derive(Debug, Serialize)]
pub struct Stored {
    pub id: i64,
    pub ts: i64,
}

/// The ack of `leave` and `typing`: `{ok: true}` and nothing else.
#[derive(Debug, Serialize)]
pub struct Done {}

/// A successful ack: `{"ok": true}` and the answer's own fields.
#[derive(Debug, Serialize)]
pub struct Ack<T> {
    ok: bool,
    #[serde(flatten)]
    answer: T,
}

impl<T: Serialize> Ack<T> {
    pub fn ok(answer: T) -> Self {
        Self { ok: true, answer }
    }
}

/// Something the server emits to sockets: the payload type names its event.
pub trait Broadcast: Serialize {
    const EVENT: &'static str;
}

/// Why a socket left a room, in a `leave` notice.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LeaveReason {
    /// The socket went away.
    Disconnect,
    /// Its user lost access (the owner removed them).
    Removed,
}

/// `join` to a room: `user` entered it.
#[derive(Debug, Serialize)]
pub struct JoinNotice<'a> {
    pub room: &'a str,
    pub user: &'a User,
    pub ts: i64,
}

/// `leave` to a room: `user` left it; `reason` only when they did not ask.
#[derive(Debug, Serialize)]
pub struct LeaveNotice<'a> {
    pub room: &'a str,
    pub user: &'a User,
    pub ts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<LeaveReason>,
}

/// `typing` to the rest of a room.
#[derive(Debug, Serialize)]
pub struct TypingNotice<'a> {
    pub room: &'a str,
    pub user: &'a User,
}

/// `signal` to the rest of a room (or, from HTTP, to all of it).
#[derive(Debug, Serialize)]
pub struct SignalNotice<'a> {
    pub room: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub data: &'a Value,
    pub user: &'a User,
}

impl Broadcast for SignalNotice<'_> {
    const EVENT: &'static str = "signal";
}

impl Broadcast for JoinNotice<'_> {
    const EVENT: &'static str = "join";
}

impl Broadcast for LeaveNotice<'_> {
    const EVENT: &'static str = "leave";
}

impl Broadcast for TypingNotice<'_> {
    const EVENT: &'static str = "typing";
}

/// The event a stored message is delivered as (its payload is the [`Message`]).
pub const CHAT_EVENT: &str = "chat";
