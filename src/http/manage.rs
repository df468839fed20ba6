//! A room's member list and its deletion over HTTP (docs/protocol.md §6),
//! as the `members` and `delete_room` events.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::Caller;
use super::api::{ApiResult, room_name};
use crate::cluster;
use crate::error::ErrorBody;
use crate::protocol::MemberList;
use crate::rooms;
use crate::state::Shared;

#[utoipa::path(get, path = "/api/rooms/{room}/members", tag = "members",
    params(("room" = String, Path, description = "Room name")),
    responses(
        (status = 200, description = "The people whose list holds the room, with their roles: the owner, moderators, members, each by display name; at most 500", body = MemberList),
        (status = 400, description = "Bad room name", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "Private room, or banned", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    ))]
pub(super) async fn members(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(room): Path<String>,
) -> ApiResult {
    let name = room_name(&room)?;
    let (members, more) = rooms::members(st.store.as_ref(), &who, &name).await?;
    Ok(Json(MemberList { members, more }).into_response())
}

#[utoipa::path(delete, path = "/api/rooms/{room}", tag = "rooms",
    params(("room" = String, Path, description = "Room name")),
    responses(
        (status = 204, description = "Deleted with its members and messages; `room_deleted` to its sockets and its people's, which all leave it"),
        (status = 400, description = "Bad room name", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The caller does not own the room", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    ))]
pub(super) async fn delete_room(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(room): Path<String>,
) -> ApiResult {
    let name = room_name(&room)?;
    let listed = rooms::delete(st.store.as_ref(), &who, &name).await?;
    cluster::room_deleted(&st.io, name.as_str(), &who.user, &listed).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
