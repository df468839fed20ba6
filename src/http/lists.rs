//! The caller's list of rooms over HTTP (docs/protocol.md §6): read
//! positions and leaving a room for good, as the `read` and `leave_room`
//! events.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::Caller;
use super::api::{ApiResult, room_name};
use super::json::ApiJson;
use crate::cluster::{self, presence};
use crate::error::{AppError, ErrorBody};
use crate::protocol::{Broadcast, ReadAck, ReadNotice, ReadUpTo};
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
