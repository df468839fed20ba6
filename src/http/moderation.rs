//! The moderation routes of docs/protocol.md §6: roles, mutes, bans and slow mode of a room.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::Caller;
use super::json::ApiJson;
use crate::cluster;
use crate::domain::{Mute, RoomName, now_ms};
use crate::error::{AppError, ErrorBody};
use crate::protocol::{Action, ModerationNotice, ModerationView, MuteFor, RoomPatch, checked_user};
use crate::rooms::{self, Change};
use crate::state::Shared;

type ApiResult = Result<Response, AppError>;

/// The room and the user of a `/api/rooms/{room}/…/{user}` path.
fn target(room: &str, user: String) -> Result<(RoomName, String), AppError> {
    let name = RoomName::parse(room).map_err(AppError::InvalidRoom)?;
    Ok((name, checked_user(user)?))
}

/// Applies `change` and tells the room (and the user's sockets) at once.
async fn change(
    st: &Shared,
    who: &crate::auth::Identity,
    room: &str,
    user: String,
    what: Change,
) -> Result<(String, Option<i64>), AppError> {
    let (name, user) = target(room, user)?;
    let now = now_ms();
    let applied = rooms::moderate(st.store.as_ref(), who, &name, &user, what, now).await?;
    cluster::publish(&st.io, &who.user, &user, &applied, now).await;
    Ok((user, applied.until))
}

#[utoipa::path(put, path = "/api/rooms/{room}/moderators/{user}", tag = "moderation",
    params(("room" = String, Path, description = "Room name"), ("user" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "The user moderates the room"),
        (status = 400, description = "Bad room name", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The caller does not own the room, or the user is its owner", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    ))]
pub(super) async fn appoint(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path((room, user)): Path<(String, String)>,
) -> ApiResult {
    change(&st, &who, &room, user, Change::Appoint(true)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(delete, path = "/api/rooms/{room}/moderators/{user}", tag = "moderation",
    params(("room" = String, Path, description = "Room name"), ("user" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "The user no longer moderates the room"),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The caller does not own the room", body = ErrorBody),
        (status = 404, description = "No such room, or the user is no moderator", body = ErrorBody),
    ))]
pub(super) async fn dismiss(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path((room, user)): Path<(String, String)>,
) -> ApiResult {
    change(&st, &who, &room, user, Change::Appoint(false)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(put, path = "/api/rooms/{room}/mutes/{user}", tag = "moderation",
    params(("room" = String, Path, description = "Room name"), ("user" = String, Path, description = "User id")),
    request_body = MuteFor,
    responses(
        (status = 200, description = "Muted (again) until `until`", body = Mute),
        (status = 400, description = "Bad room name, seconds or JSON", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The caller may not mute this user here", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    ))]
pub(super) async fn mute(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path((room, user)): Path<(String, String)>,
    body: Result<ApiJson<MuteFor>, AppError>,
) -> ApiResult {
    target(&room, user.clone())?;
    let ApiJson(MuteFor { seconds }) = body?;
    let (user, until) = change(&st, &who, &room, user, Change::Mute { seconds }).await?;
    let mute = Mute {
        user,
        until: until.unwrap_or_default(),
        by: who.user.id,
    };
    Ok(Json(mute).into_response())
}

#[utoipa::path(delete, path = "/api/rooms/{room}/mutes/{user}", tag = "moderation",
    params(("room" = String, Path, description = "Room name"), ("user" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "The mute is lifted"),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The caller may not unmute this user here", body = ErrorBody),
        (status = 404, description = "No such room, or the user is not muted", body = ErrorBody),
    ))]
pub(super) async fn unmute(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path((room, user)): Path<(String, String)>,
) -> ApiResult {
    change(&st, &who, &room, user, Change::Unmute).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(put, path = "/api/rooms/{room}/bans/{user}", tag = "moderation",
    params(("room" = String, Path, description = "Room name"), ("user" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Banned; their sockets left the room on every node"),
        (status = 400, description = "Bad room name", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The caller may not ban this user here", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    ))]
pub(super) async fn ban(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path((room, user)): Path<(String, String)>,
) -> ApiResult {
    change(&st, &who, &room, user, Change::Ban).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(delete, path = "/api/rooms/{room}/bans/{user}", tag = "moderation",
    params(("room" = String, Path, description = "Room name"), ("user" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "The ban is lifted"),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The caller may not unban this user here", body = ErrorBody),
        (status = 404, description = "No such room, or the user is not banned", body = ErrorBody),
    ))]
pub(super) async fn unban(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path((room, user)): Path<(String, String)>,
) -> ApiResult {
    change(&st, &who, &room, user, Change::Unban).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(patch, path = "/api/rooms/{room}", tag = "moderation",
    params(("room" = String, Path, description = "Room name")),
    request_body = RoomPatch,
    responses(
        (status = 204, description = "Slow mode and/or topic set; the room's sockets are told (`moderation` `slow_mode`, `topic`)"),
        (status = 400, description = "Bad room name, slow_mode, topic or JSON, or neither field", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The caller is neither owner nor moderator (nor, for the topic, one of a conversation's people)", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    ))]
pub(super) async fn patch_room(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(room): Path<String>,
    body: Result<ApiJson<RoomPatch>, AppError>,
) -> ApiResult {
    let name = RoomName::parse(&room).map_err(AppError::InvalidRoom)?;
    let ApiJson(RoomPatch { slow_mode, topic }) = body?;
    let change = rooms::Settings {
        slow_mode,
        topic: topic.as_ref(),
    };
    rooms::configure(st.store.as_ref(), &who, &name, change).await?;
    if let Some(seconds) = slow_mode {
        let notice = ModerationNotice {
            room: name.as_str(),
            action: Action::SlowMode,
            user: None,
            by: &who.user,
            until: None,
            seconds: Some(seconds),
            ts: now_ms(),
        };
        cluster::announce(&st.io, &notice).await;
    }
    if let Some(topic) = &topic {
        cluster::topic_changed(&st.io, name.as_str(), topic.as_str(), &who.user).await;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/api/rooms/{room}/moderation", tag = "moderation",
    params(("room" = String, Path, description = "Room name")),
    responses(
        (status = 200, description = "Moderators, mutes in force, bans and slow mode", body = ModerationView),
        (status = 400, description = "Bad room name", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The caller is neither owner nor moderator", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    ))]
pub(super) async fn list(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(room): Path<String>,
) -> ApiResult {
    let name = RoomName::parse(&room).map_err(AppError::InvalidRoom)?;
    let m = rooms::list(st.store.as_ref(), &who, &name, now_ms()).await?;
    let view = ModerationView {
        moderators: m.moderators,
        mutes: m.mutes,
        bans: m.bans,
        slow_mode: m.slow_mode,
    };
    Ok(Json(view).into_response())
}
