//! A room's topic, its member list and its deletion (docs/protocol.md §4
//! "Room topic, members, deletion" and §6): requests, answers, notices.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::fields::{Fields, Request};
use super::socket::Broadcast;
use crate::domain::{Member, RoomName, Topic, User};
use crate::error::AppError;

/// `topic {room, topic}`: `""` clears it.
#[derive(Debug)]
pub struct SetTopic {
    pub room: RoomName,
    pub topic: Topic,
}

impl Request for SetTopic {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        Ok(Self {
            room: f.room()?,
            topic: f.topic("topic")?,
        })
    }
}

/// The ack of `members` and the body of `GET /api/rooms/{room}/members`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    /// The owner (when a user), then moderators, then members, each by
    /// display name and id; at most 500.
    pub members: Vec<Member>,
    /// Whether the room has more than these.
    pub more: bool,
}

/// `topic` to a room: `by` set its topic (`""`: cleared it).
#[derive(Debug, Serialize)]
pub struct TopicNotice<'a> {
    pub room: &'a str,
    pub topic: &'a str,
    pub by: &'a User,
    pub ts: i64,
}

impl Broadcast for TopicNotice<'_> {
    const EVENT: &'static str = "topic";
}

/// `room_deleted` to a room and to every socket of the users whose list
/// held it: its owner deleted it.
#[derive(Debug, Serialize)]
pub struct RoomDeletedNotice<'a> {
    pub room: &'a str,
    pub by: &'a User,
    pub ts: i64,
}

impl Broadcast for RoomDeletedNotice<'_> {
    const EVENT: &'static str = "room_deleted";
}
