//! The caller's list of rooms over HTTP (docs/protocol.md §6): read
//! positions and leaving a room for good, as the `read` and `leave_room`
//! events.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::Caller;
use super::api::{ApiResult, room_name};
use super::json::ApiJson;
use crate::cluster::{self, presence};
use crate::error::{AppError, ErrorBody};
use crate::protocol::{Broadcast, Dm, DmOpened, DmWith, ReadAck, ReadNotice, ReadUpTo, UserList};
use crate::rooms;
use crate::state::Shared;

#[utoipa::path(put, path = "/api/rooms/{room}/read", tag = "rooms",
    params(("room" = String, Path, description = "Room name")),
    request_body = ReadUpTo,
    responses(
        (status = 200, description = "How far the caller has read now (never back)", body = ReadAck),
        (status = 400, description = "Bad room name or id, or an id past the room's newest message", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 404, description = "The room is not in the caller's list", body = ErrorBody),
    ))]
pub(super) async fn read(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(room): Path<String>,
    body: Result<ApiJson<ReadUpTo>, AppError>,
) -> ApiResult {
    let name = room_name(&room)?;
    let ApiJson(ReadUpTo { id }) = body?;
    let (id, moved) = rooms::mark_read(st.store.as_ref(), &who, &name, id).await?;
    if moved {
        let notice = ReadNotice {
            room: name.as_str(),
            id,
        };
        let _ = st
            .io
            .to(presence::id_room(&who.user.id))
            .emit(ReadNotice::EVENT, &notice)
            .await;
    }
    Ok(Json(ReadAck { id }).into_response())
}

#[utoipa::path(delete, path = "/api/rooms/{room}/membership", tag = "rooms",
    params(("room" = String, Path, description = "Room name")),
    responses(
        (status = 204, description = "Out of the caller's list; their sockets left the room"),
        (status = 400, description = "Bad room name", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 404, description = "The room is not in the caller's list", body = ErrorBody),
    ))]
pub(super) async fn leave_room(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(room): Path<String>,
) -> ApiResult {
    let name = room_name(&room)?;
    rooms::leave_for_good(st.store.as_ref(), &who, &name).await?;
    cluster::left_for_good(&st.io, name.as_str(), &who.user.id).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/api/dms", tag = "rooms",
    request_body = DmWith,
    responses(
        (status = 200, description = "The conversation's room (made on first use), with its people", body = DmOpened),
        (status = 400, description = "No other user, more than seven, or a bad body", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 404, description = "A user the server does not know, or disabled", body = ErrorBody),
    ))]
pub(super) async fn open_dm(
    State(st): State<Shared>,
    Caller(who): Caller,
    body: Result<ApiJson<Dm>, AppError>,
) -> ApiResult {
    let ApiJson(Dm { users }) = body?;
    let room = cluster::open_dm(&st.io, st.store.as_ref(), &who, &users).await?;
    Ok(Json(DmOpened { room }).into_response())
}

/// The most users one directory answer lists.
const DIRECTORY_LIMIT: u32 = 20;

#[utoipa::path(get, path = "/api/users", tag = "accounts",
    params(("q" = String, Query, description = "The start of a display name, username or user id (1 to 64 characters, any case)")),
    responses(
        (status = 200, description = "At most 20 users, by display name: id and name only, no disabled ones", body = UserList),
        (status = 400, description = "No q, or one over 64 characters", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
    ))]
pub(super) async fn directory(
    State(st): State<Shared>,
    Caller(_who): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let prefix = q.get("q").map(|s| s.trim()).unwrap_or_default();
    if prefix.is_empty() || prefix.chars().count() > 64 {
        return Err(AppError::payload("q must be 1 to 64 characters"));
    }
    let users = st.store.directory(prefix, DIRECTORY_LIMIT).await?;
    Ok(Json(UserList { users }).into_response())
}
