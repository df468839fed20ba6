//! The moderation events and bodies of docs/protocol.md §4 "Moderation" and §6.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::fields::{Fields, Request};
use super::socket::Broadcast;
use crate::domain::{Ban, Mute, RoomName, Topic, User};
use crate::error::AppError;

/// The longest mute: 365 days, in seconds.
const MAX_MUTE_SECONDS: i64 = 365 * 24 * 3600;
/// The longest slow mode: one message a day.
const MAX_SLOW_MODE_SECONDS: i64 = 24 * 3600;

/// `moderator {room, user, on}`: the owner appoints (`on: true`) or dismisses a moderator.
#[derive(Debug)]
pub struct Appoint {
    pub room: RoomName,
    pub user: String,
    pub on: bool,
}

/// `mute {room, user, seconds}`.
#[derive(Debug)]
pub struct MuteUser {
    pub room: RoomName,
    pub user: String,
    pub seconds: i64,
}

/// `unmute`, `ban` and `unban`: `{room, user}`.
#[derive(Debug)]
pub struct Target {
    pub room: RoomName,
    pub user: String,
}

/// `slow_mode {room, seconds}`.
#[derive(Debug)]
pub struct SlowMode {
    pub room: RoomName,
    pub seconds: i64,
}

/// `PUT /api/rooms/{room}/mutes/{user}`.
#[derive(Debug, ToSchema)]
pub struct MuteFor {
    /// 1 to 31,536,000 (a year).
    pub seconds: i64,
}

/// `PATCH /api/rooms/{room}`: at least one of the two.
#[derive(Debug, ToSchema)]
pub struct RoomPatch {
    /// Seconds between two messages of one user, 0 (off) to 86,400.
    pub slow_mode: Option<i64>,
    /// At most 250 characters on one line, trimmed; `""` clears it.
    #[schema(value_type = Option<String>)]
    pub topic: Option<Topic>,
}

/// A target user id: 1 to 256 bytes, as invitations take them.
fn user_id(f: &Fields) -> Result<String, AppError> {
    let user = f.string("user")?;
    checked_user(user)
}

/// `user` when it could be a user id (a path segment or a payload field).
pub fn checked_user(user: String) -> Result<String, AppError> {
    if user.is_empty() || user.len() > 256 {
        return Err(AppError::payload("user must be a user id"));
    }
    Ok(user)
}

fn mute_seconds(f: &Fields) -> Result<i64, AppError> {
    f.int_in("seconds", 1, MAX_MUTE_SECONDS)
}

fn slow_seconds(f: &Fields, key: &str) -> Result<i64, AppError> {
    f.int_in(key, 0, MAX_SLOW_MODE_SECONDS)
}

impl Request for Appoint {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            room: f.room()?,
            user: user_id(&f)?,
            on: f.boolean("on")?,
        })
    }
}

impl Request for MuteUser {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            room: f.room()?,
            user: user_id(&f)?,
            seconds: mute_seconds(&f)?,
        })
    }
}

impl Request for Target {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            room: f.room()?,
            user: user_id(&f)?,
        })
    }
}

impl Request for SlowMode {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            room: f.room()?,
            seconds: slow_seconds(&f, "seconds")?,
        })
    }
}

impl Request for MuteFor {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        Ok(Self {
            seconds: mute_seconds(&Fields::of(payload)?)?,
        })
    }
}

impl Request for RoomPatch {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        let slow_mode = match f.get("slow_mode") {
            None => None,
            Some(_) => Some(slow_seconds(&f, "slow_mode")?),
        };
        let topic = match f.get("topic") {
            None => None,
            Some(_) => Some(f.topic("topic")?),
        };
        if slow_mode.is_none() && topic.is_none() {
            return Err(AppError::payload("slow_mode or topic is required"));
        }
        Ok(Self { slow_mode, topic })
    }
}

/// The ack of `mute`: when it ends (unix ms).
#[derive(Debug, Serialize)]
pub struct Muted {
    pub until: i64,
}

/// The body of `GET /api/rooms/{room}/moderation`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModerationView {
    /// User ids, sorted.
    pub moderators: Vec<String>,
    /// Mutes in force.
    pub mutes: Vec<Mute>,
    pub bans: Vec<Ban>,
    /// Seconds; 0 is off.
    pub slow_mode: i64,
}

/// What changed, in a `moderation` notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Appointed,
    Dismissed,
    Muted,
    Unmuted,
    Banned,
    Unbanned,
    SlowMode,
}

/// `moderation` to a room and to the affected user's sockets: `by` changed
/// `user`'s standing (or, for `slow_mode`, the room's `seconds`).
#[derive(Debug, Serialize)]
pub struct ModerationNotice<'a> {
    pub room: &'a str,
    pub action: Action,
    /// The user acted on; absent for `slow_mode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    pub by: &'a User,
    /// `muted`: when the mute ends, unix ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// `slow_mode`: the new interval (0 is off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<i64>,
    pub ts: i64,
}

impl Broadcast for ModerationNotice<'_> {
    const EVENT: &'static str = "moderation";
}
