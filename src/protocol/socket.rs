//! The Socket.IO events of docs/protocol.md §4: what a client sends, what
//! each ack carries, and what the server broadcasts.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::fields::{Fields, Request};
use crate::domain::{Emoji, Message, MessageText, Role, RoomName, SignalType, User};
use crate::error::AppError;
// The outbox writes this payload inside the store's transaction, so the
// store owns its type; it is the socket contract all the same.
use crate::store::{Applied, Happened};
pub use crate::store::{ChangePayload, ReactionNote};

/// The CONNECT packet's `auth` object: `{token}`, a JWT. Anything else
/// (no object, no `token`, not a string) is no token: the session cookie
/// may still identify the socket (docs/protocol.md §2).
#[derive(Debug, Default)]
pub struct ConnectAuth {
    pub token: Option<String>,
    /// `as`: with a server key, the user the socket acts as (docs/protocol.md §2).
    pub as_user: Option<String>,
    /// `asName`: that user's display name when it is an app user.
    pub as_name: Option<String>,
}

impl ConnectAuth {
    pub fn parse(auth: Option<Value>) -> Self {
        let Some(Value::Object(mut map)) = auth else {
            return Self {
                token: None,
                as_user: None,
                as_name: None,
            };
        };
        let token = match map.remove("token") {
            Some(Value::String(token)) => Some(token),
            _ => None,
        };
        let mut text = |key: &str| match map.remove(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            // Not a user id: refused as one (an empty id is never valid).
            Some(_) => Some(String::new()),
        };
        let as_user = text("as");
        let as_name = text("asName");
        Self {
            token,
            as_user,
            as_name,
        }
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
    Moderator,
    Mute,
    Unmute,
    Ban,
    Unban,
    SlowMode,
    Edit,
    Delete,
    React,
    Unreact,
    Signal,
    Read,
    LeaveRoom,
    Dm,
    Topic,
    Members,
    DeleteRoom,
    Search,
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
            "moderator" => Self::Moderator,
            "mute" => Self::Mute,
            "unmute" => Self::Unmute,
            "ban" => Self::Ban,
            "unban" => Self::Unban,
            "slow_mode" => Self::SlowMode,
            "edit" => Self::Edit,
            "delete" => Self::Delete,
            "react" => Self::React,
            "unreact" => Self::Unreact,
            "signal" => Self::Signal,
            "read" => Self::Read,
            "leave_room" => Self::LeaveRoom,
            "dm" => Self::Dm,
            "topic" => Self::Topic,
            "members" => Self::Members,
            "delete_room" => Self::DeleteRoom,
            "search" => Self::Search,
            other => return Err(AppError::payload(format!("unknown event {other:?}"))),
        })
    }
}

/// `join {room, since?}`.
#[derive(Debug)]
pub struct Join {
    pub room: RoomName,
    /// Replay what was created or changed after this stream position (a
    /// message's `seq`; a message id works too) instead of the latest page.
    pub since: Option<i64>,
    /// `false`: a room that does not exist is `not_found`, even with
    /// auto-creation on (a page asks the person first).
    pub create: bool,
}

/// `leave {room}` and `typing {room}`.
#[derive(Debug)]
pub struct InRoom {
    pub room: RoomName,
}

/// `chat {room, message?, reply_to?, files?}`.
#[derive(Debug)]
pub struct Chat {
    pub room: RoomName,
    /// Trimmed; empty only when the post carries files.
    pub message: String,
    /// The id of the message of the same room this one answers.
    pub reply_to: Option<i64>,
    /// The ids of the caller's uploads to the room it attaches.
    pub files: Vec<String>,
}

/// `edit {room, id, message}`.
#[derive(Debug)]
pub struct Edit {
    pub room: RoomName,
    pub id: i64,
    pub message: MessageText,
}

/// `delete {room, id}`.
#[derive(Debug)]
pub struct Delete {
    pub room: RoomName,
    pub id: i64,
}

/// `react {room, id, emoji}` and `unreact {room, id, emoji}`.
#[derive(Debug)]
pub struct React {
    pub room: RoomName,
    pub id: i64,
    pub emoji: Emoji,
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

/// `read {room, id}`: read up to message `id` (0 or more).
#[derive(Debug)]
pub struct Read {
    pub room: RoomName,
    pub id: i64,
}

impl Request for Read {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        let id = f.id("id")?;
        if id < 0 {
            return Err(AppError::payload("id must be a message id, 0 or more"));
        }
        Ok(Self {
            room: f.room()?,
            id,
        })
    }
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
            create: f.opt_boolean("create")?.unwrap_or(true),
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
        let room = f.room()?;
        let (message, files) = f.post()?;
        Ok(Self {
            room,
            message,
            reply_to: f.opt_id("reply_to")?,
            files,
        })
    }
}

impl Request for Edit {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            room: f.room()?,
            id: f.id("id")?,
            message: f.message()?,
        })
    }
}

impl Request for Delete {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            room: f.room()?,
            id: f.id("id")?,
        })
    }
}

impl Request for React {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            room: f.room()?,
            id: f.id("id")?,
            emoji: f.emoji()?,
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
    /// Absent when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Distinct users with a socket in the room now.
    pub online: u64,
    /// In the caller's list of rooms (owned, invited, or joined and not
    /// left); only these carry the fields below.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub member: bool,
    /// The newest message id the caller has read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<i64>,
    /// Messages after `read` by others that are not deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<i64>,
    /// Of those, the ones that mention the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<i64>,
    /// The room's newest message that is not deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<LastMessage>,
    /// A direct conversation's people, the caller among them (in the lists
    /// of rooms); its name is `dm:` and a hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people: Option<Vec<User>>,
}

/// `dm {user}` or `dm {users: [..]}`: the conversation with these people.
#[derive(Debug)]
pub struct Dm {
    pub users: Vec<String>,
}

impl Request for Dm {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        let users = match (f.get("user"), f.get("users")) {
            (Some(Value::String(u)), None) => vec![u.clone()],
            (None, Some(Value::Array(list))) => list
                .iter()
                .map(|u| match u {
                    Value::String(s) if !s.is_empty() && s.len() <= 256 => Ok(s.clone()),
                    _ => Err(AppError::payload("users must be user ids")),
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(AppError::payload(
                    "user (a user id) or users (a list of them) is required",
                ));
            }
        };
        if users.iter().any(|u| u.is_empty() || u.len() > 256) {
            return Err(AppError::payload("user must be a user id"));
        }
        Ok(Self { users })
    }
}

/// The ack of `dm` and the body of `POST /api/dms`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DmOpened {
    pub room: RoomView,
}

/// A room's newest message as a list of rooms shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LastMessage {
    pub id: i64,
    pub user: User,
    /// Its first 100 characters.
    pub excerpt: String,
    pub ts: i64,
}

/// The ack of `read`: how far the caller has read now (more than asked
/// when another device read further).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadAck {
    pub id: i64,
}

/// `read` to the user's other sockets: their read position moved.
#[derive(Debug, Serialize)]
pub struct ReadNotice<'a> {
    pub room: &'a str,
    pub id: i64,
}

impl Broadcast for ReadNotice<'_> {
    const EVENT: &'static str = "read";
}

/// `activity` to a user's sockets not in the room: a message was stored in
/// a room of their list.
#[derive(Debug, Serialize)]
pub struct ActivityNotice<'a> {
    pub room: &'a str,
    pub id: i64,
    pub user: &'a User,
    pub ts: i64,
    /// The message mentions the receiving socket's user.
    pub mention: bool,
}

impl Broadcast for ActivityNotice<'_> {
    const EVENT: &'static str = "activity";
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
    /// The joiner's own role in the room.
    pub role: Role,
    /// The room's moderators' user ids, sorted (the owner is `room.owner`).
    pub moderators: Vec<String>,
    /// The room's slow mode in seconds; 0 is off.
    pub slow_mode: i64,
    /// When the joiner's mute ends (unix ms); absent when not muted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muted_until: Option<i64>,
}

/// The ack of `chat`: the stored message's id and time.
#[derive(Debug, Serialize)]
pub struct Stored {
    pub id: i64,
    pub ts: i64,
}

/// The ack of `edit`, `delete`, `react` and `unreact`: the message's id
/// and its stream position now (unchanged when the change was a no-op).
#[derive(Debug, Serialize, ToSchema)]
pub struct Changed {
    pub id: i64,
    pub seq: i64,
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
    /// Its user was banned from the room.
    Banned,
    /// Its user took the room out of their list (`leave_room`).
    Left,
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

/// `presence` to a big room: the joins and leaves of some 200 ms, in order.
#[derive(Debug, Serialize)]
pub struct PresenceNotice<'a> {
    pub room: &'a str,
    pub changes: &'a [PresenceChange],
    pub ts: i64,
}

/// One socket of `user` joined the room (`joined`) or left it.
#[derive(Debug, Clone, Serialize)]
pub struct PresenceChange {
    pub user: User,
    pub joined: bool,
}

impl Broadcast for PresenceNotice<'_> {
    const EVENT: &'static str = "presence";
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

/// The event a committed change is delivered as: `chat`, `edit`, `delete`
/// or `reaction`; each payload is the whole [`Message`] as it is now.
pub fn change_event(a: &Applied) -> &'static str {
    match a.happened {
        Happened::Created => CHAT_EVENT,
        Happened::Edited => "edit",
        Happened::Deleted => "delete",
        Happened::Reacted { .. } => "reaction",
    }
}
