//! The events that run a room (docs/protocol.md §4 "Room topic, members,
//! deletion"), one function each.

use serde_json::Value;

use super::Conn;
use crate::cluster;
use crate::error::AppError;
use crate::protocol::{Done, InRoom, MemberList, Request, SetTopic};
use crate::rooms::{self, Settings};

/// `topic {room, topic}`: acked once stored; the room is told.
pub(super) async fn topic(conn: &Conn, payload: Option<Value>) -> Result<Done, AppError> {
    let SetTopic { room, topic } = SetTopic::parse(payload)?;
    let ctx = &conn.ctx;
    let change = Settings {
        slow_mode: None,
        topic: Some(&topic),
    };
    rooms::configure(ctx.store.as_ref(), &conn.identity, &room, change).await?;
    cluster::topic_changed(&ctx.io, room.as_str(), topic.as_str(), &conn.identity.user).await;
    Ok(Done {})
}

/// `members {room}`.
pub(super) async fn members(conn: &Conn, payload: Option<Value>) -> Result<MemberList, AppError> {
    let InRoom { room } = InRoom::parse(payload)?;
    let (members, more) = rooms::members(conn.ctx.store.as_ref(), &conn.identity, &room).await?;
    Ok(MemberList { members, more })
}

/// `delete_room {room}`: the owner's; everyone in it or with it in their
/// list is told, and every socket leaves it.
pub(super) async fn delete_room(conn: &Conn, payload: Option<Value>) -> Result<Done, AppError> {
    let InRoom { room } = InRoom::parse(payload)?;
    let ctx = &conn.ctx;
    let listed = rooms::delete(ctx.store.as_ref(), &conn.identity, &room).await?;
    cluster::room_deleted(&ctx.io, room.as_str(), &conn.identity.user, &listed).await;
    Ok(Done {})
}
