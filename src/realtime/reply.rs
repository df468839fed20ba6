//! How an event is answered, and the checks every room event shares.

use std::time::Instant;

use serde::Serialize;
use socketioxide::extract::AckSender;

use super::Conn;
use super::ack::answer;
use crate::cluster::{Adapter, Sock};
use crate::domain::RoomName;
use crate::error::AppError;
use crate::telemetry::Quoted;

/// What an event is answered through.
pub(super) struct Reply<'a> {
    pub(super) conn: &'a Conn,
    pub(super) s: &'a Sock,
    pub(super) event: &'a str,
    pub(super) ack: AckSender<Adapter>,
    pub(super) received: Instant,
}

impl Reply<'_> {
    pub(super) fn send<T: Serialize>(self, result: Result<T, AppError>) {
        if let Err(e) = &result {
            tracing::debug!(sid = %self.s.id, event = %Quoted(self.event), code = e.code().as_str(), "event refused");
        }
        answer(
            &self.conn.ctx.metrics,
            self.s,
            self.ack,
            self.received,
            result,
        );
    }
}

pub(super) fn joined(s: &Sock, room: &RoomName) -> bool {
    s.rooms().iter().any(|r| r == room.as_str())
}

pub(super) fn not_in_room(name: &RoomName) -> AppError {
    AppError::NotInRoom(format!("not in room {name}; join it first"))
}
