//! `/api/rooms/{room}/messages/{id}`: edits, deletions and reactions over
//! HTTP (docs/protocol.md §6), through the same writer and rules as the
//! socket events; each answers the message as it is after the change.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use super::Caller;
use super::json::ApiJson;
use crate::auth::Identity;
use crate::domain::{Emoji, Message, RoomName};
use crate::error::{AppError, ErrorBody};
use crate::protocol::EditMessage;
use crate::rooms;
use crate::state::Shared;
use crate::store::Change;

type ApiResult = Result<Response, AppError>;

/// The room and message id of the path, once the caller may read the room
/// and has message rate left (each change is a write, like a post).
async fn target(
    st: &Shared,
    who: &Identity,
    room: &str,
    id: &str,
) -> Result<(RoomName, i64), AppError> {
    let name = RoomName::parse(room).map_err(AppError::InvalidRoom)?;
    let id = id
        .parse::<i64>()
        .map_err(|_| AppError::payload("the message id must be an integer"))?;
    rooms::open_for_read(st.store.as_ref(), who, &name).await?;
    st.limits.message(&who.user.id)?;
    Ok((name, id))
}

/// Applies `change` through the writer; answers 200 with the message after the commit.
async fn apply(st: &Shared, change: Change) -> ApiResult {
    let (tx, rx) = oneshot::channel();
    st.writer
        .apply(change, Box::new(move |r| drop(tx.send(r.cloned()))))
        .await;
    let message: Message = rx.await.map_err(|_| AppError::Internal)??;
    Ok(Json(message).into_response())
}

#[utoipa::path(patch, path = "/api/rooms/{room}/messages/{id}", tag = "messages",
    params(
        ("room" = String, Path, description = "Room name"),
        ("id" = i64, Path, description = "Message id"),
    ),
    request_body = EditMessage,
    responses(
        (status = 200, description = "Edited, after commit; the room's sockets get `edit`", body = Message),
        (status = 400, description = "Bad room name, id, message or JSON", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "Someone else's message, a private room, or banned or muted there (`muted`, with `until`)", body = ErrorBody),
        (status = 404, description = "No such room, or no such live message in it", body = ErrorBody),
    ))]
pub(super) async fn edit(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path((room, id)): Path<(String, String)>,
    body: Result<ApiJson<EditMessage>, AppError>,
) -> ApiResult {
    let (room, id) = target(&st, &who, &room, &id).await?;
    let ApiJson(EditMessage { message }) = body?;
    let user = who.user;
    let message = message.into_string();
    apply(
        &st,
        Change::Edit {
            room,
            id,
            user,
            message,
        },
    )
    .await
}

#[utoipa::path(delete, path = "/api/rooms/{room}/messages/{id}", tag = "messages",
    params(
        ("room" = String, Path, description = "Room name"),
        ("id" = i64, Path, description = "Message id"),
    ),
    responses(
        (status = 200, description = "Deleted, after commit: the tombstone; the room's sockets get `delete`", body = Message),
        (status = 400, description = "Bad room name or id", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "Neither the author nor the room's owner or a moderator", body = ErrorBody),
        (status = 404, description = "No such room, or no such live message in it", body = ErrorBody),
    ))]
pub(super) async fn delete(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path((room, id)): Path<(String, String)>,
) -> ApiResult {
    let (room, id) = target(&st, &who, &room, &id).await?;
    let any = rooms::may_moderate(st.store.as_ref(), &room, &who).await?;
    let by = who.user;
    apply(&st, Change::Delete { room, id, by, any }).await
}

#[utoipa::path(put, path = "/api/rooms/{room}/messages/{id}/reactions/{emoji}", tag = "messages",
    params(
        ("room" = String, Path, description = "Room name"),
        ("id" = i64, Path, description = "Message id"),
        ("emoji" = String, Path, description = "One emoji, percent-encoded"),
    ),
    responses(
        (status = 200, description = "Reacted (or already had), after commit; the room's sockets get `reaction` when it changed", body = Message),
        (status = 400, description = "Not exactly one emoji, or a bad room name or id", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "No access to the room, banned from it, or muted in it (`muted`, with `until`)", body = ErrorBody),
        (status = 404, description = "No such room, or no such live message in it", body = ErrorBody),
        (status = 409, description = "The message has 20 distinct reactions already", body = ErrorBody),
    ))]
pub(super) async fn react(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(path): Path<(String, String, String)>,
) -> ApiResult {
    reaction(&st, who, path, true).await
}

#[utoipa::path(delete, path = "/api/rooms/{room}/messages/{id}/reactions/{emoji}", tag = "messages",
    params(
        ("room" = String, Path, description = "Room name"),
        ("id" = i64, Path, description = "Message id"),
        ("emoji" = String, Path, description = "One emoji, percent-encoded"),
    ),
    responses(
        (status = 200, description = "Taken back (or never made), after commit; the room's sockets get `reaction` when it changed", body = Message),
        (status = 400, description = "Not exactly one emoji, or a bad room name or id", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "No access to the room, banned from it, or muted in it (`muted`, with `until`)", body = ErrorBody),
        (status = 404, description = "No such room, or no such live message in it", body = ErrorBody),
    ))]
pub(super) async fn unreact(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(path): Path<(String, String, String)>,
) -> ApiResult {
    reaction(&st, who, path, false).await
}

/// `react` (`added`) and `unreact`: the same checks, one change or the other.
async fn reaction(
    st: &Shared,
    who: Identity,
    (room, id, emoji): (String, String, String),
    added: bool,
) -> ApiResult {
    let (room, id) = target(st, &who, &room, &id).await?;
    let emoji = Emoji::parse(&emoji)
        .map_err(AppError::InvalidPayload)?
        .into_string();
    let change = Change::reaction(room, id, who.user, emoji, added);
    apply(st, change).await
}
