//! The moderation events of docs/protocol.md §4 "Moderation", one function each.

use serde_json::Value;

use super::Conn;
use crate::cluster;
use crate::domain::{RoomName, now_ms};
use crate::error::AppError;
use crate::protocol::{
    Action, Appoint, Done, ModerationNotice, MuteUser, Muted, Request, SlowMode, Target,
};
use crate::rooms::{self, Applied, Change};

/// `moderator {room, user, on}`.
pub(super) async fn moderator(conn: &Conn, payload: Option<Value>) -> Result<Done, AppError> {
    let Appoint { room, user, on } = Appoint::parse(payload)?;
    change(conn, &room, &user, Change::Appoint(on)).await?;
    Ok(Done {})
}

/// `mute {room, user, seconds}`; the ack says when it ends.
pub(super) async fn mute(conn: &Conn, payload: Option<Value>) -> Result<Muted, AppError> {
    let MuteUser {
        room,
        user,
        seconds,
    } = MuteUser::parse(payload)?;
    let applied = change(conn, &room, &user, Change::Mute { seconds }).await?;
    Ok(Muted {
        until: applied.until.unwrap_or_default(),
    })
}

/// `unmute`, `ban` and `unban`, `{room, user}`.
pub(super) async fn target(
    conn: &Conn,
    payload: Option<Value>,
    what: Change,
) -> Result<Done, AppError> {
    let Target { room, user } = Target::parse(payload)?;
    change(conn, &room, &user, what).await?;
    Ok(Done {})
}

/// `slow_mode {room, seconds}`.
pub(super) async fn slow_mode(conn: &Conn, payload: Option<Value>) -> Result<Done, AppError> {
    let SlowMode { room, seconds } = SlowMode::parse(payload)?;
    let ctx = &conn.ctx;
    rooms::set_slow_mode(ctx.store.as_ref(), &conn.identity, &room, seconds).await?;
    let notice = ModerationNotice {
        room: room.as_str(),
        action: Action::SlowMode,
        user: None,
        by: &conn.identity.user,
        until: None,
        seconds: Some(seconds),
        ts: now_ms(),
    };
    cluster::announce(&ctx.io, &notice).await;
    Ok(Done {})
}

async fn change(
    conn: &Conn,
    room: &RoomName,
    user: &str,
    what: Change,
) -> Result<Applied, AppError> {
    let ctx = &conn.ctx;
    let now = now_ms();
    let applied =
        rooms::moderate(ctx.store.as_ref(), &conn.identity, room, user, what, now).await?;
    cluster::publish(&ctx.io, &conn.identity.user, user, &applied, now).await;
    Ok(applied)
}
