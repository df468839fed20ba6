//! `/api` routes of docs/protocol.md §6.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use super::json::ApiJson;
use super::{Caller, ClientAddr};
use crate::auth::session;
use crate::cluster;
use crate::domain::{Message, RoomName, Username};
use crate::error::{AppError, ErrorBody};
use crate::protocol::{
    Broadcast, Credentials, DEFAULT_LIMIT, Health, Invite, LoggedIn, Membership, MessagePage,
    NewRoom, PostEvent, PostMessage, Registered, RoomList, RoomView, SignalNotice, Status, Up,
    bad_limit, page_limit,
};
use crate::rooms;
use crate::state::Shared;
use crate::store::{NewMessage, StoreError};

pub(super) type ApiResult = Result<Response, AppError>;

pub(super) fn room_name(raw: &str) -> Result<RoomName, AppError> {
    RoomName::parse(raw).map_err(AppError::InvalidRoom)
}

#[utoipa::path(post, path = "/api/register", tag = "accounts", security(()),
    request_body = Credentials,
    responses(
        (status = 201, description = "Account created", body = Registered),
        (status = 400, description = "Bad username, password or JSON", body = ErrorBody),
        (status = 403, description = "Registration is closed", body = ErrorBody),
        (status = 409, description = "Username taken", body = ErrorBody),
        (status = 429, description = "Too many registrations from this address", body = ErrorBody),
    ))]
pub(super) async fn register(
    State(st): State<Shared>,
    ClientAddr(addr): ClientAddr,
    ApiJson(c): ApiJson<Credentials>,
) -> ApiResult {
    if !st.auth.registration_open() {
        return Err(AppError::Forbidden("registration is closed".into()));
    }
    st.limits.register(addr)?;
    let _hashing = st.limits.passwords.registration().await?;
    let user = st.auth.register(&c.username, &c.password).await?;
    Ok((StatusCode::CREATED, Json(Registered { user })).into_response())
}

#[utoipa::path(post, path = "/api/login", tag = "accounts", security(()),
    request_body = Credentials,
    responses(
        (status = 200, description = "Logged in; also sets the session cookie", body = LoggedIn),
        (status = 400, description = "Bad JSON", body = ErrorBody),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many attempts for this user or address", body = ErrorBody),
    ))]
pub(super) async fn login(
    State(st): State<Shared>,
    ClientAddr(addr): ClientAddr,
    ApiJson(c): ApiJson<Credentials>,
) -> ApiResult {
    let answer = try_login(&st, addr, c).await;
    st.metrics.login(answer.as_ref().err().map(AppError::code));
    answer
}

async fn try_login(st: &Shared, addr: Option<std::net::IpAddr>, c: Credentials) -> ApiResult {
    // A name no account can have is a wrong login, charged to the address
    // only: it is never stored as a limiter key (or looked up).
    let Ok(name) = Username::parse(&c.username) else {
        st.limits.invalid_login(addr)?;
        return Err(AppError::Unauthorized("wrong username or password".into()));
    };
    st.limits.login(&name, addr).await?;
    // Busy permits answer 503 (docs/protocol.md §5a); left out of the
    // OpenAPI document, whose test produces every status it lists.
    let _hashing = st.limits.passwords.login().await?;
    let done = st.auth.login(name.as_str(), &c.password).await?;
    let cookie = session::set_cookie(&done.session, st.auth.ttl_secs());
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(LoggedIn {
            token: done.token,
            user: done.user,
        }),
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/logout", tag = "accounts", security(()),
    responses((status = 204, description = "The session of the cookie, or of the login JWT in `Authorization: Bearer`, ended (every copy of that JWT stops working) and the cookie cleared")))]
pub(super) async fn logout(State(st): State<Shared>, headers: HeaderMap) -> ApiResult {
    let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    st.auth.logout(bearer, cookie).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session::clear_cookie())],
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/rooms", tag = "rooms",
    responses(
        (status = 200, description = "Rooms the caller can see, by name", body = RoomList),
        (status = 401, description = "No or bad identity", body = ErrorBody),
    ))]
pub(super) async fn list_rooms(State(st): State<Shared>, Caller(who): Caller) -> ApiResult {
    let rooms = cluster::rooms_of(&st.io, st.store.as_ref(), &who).await?;
    Ok(Json(RoomList { rooms }).into_response())
}

#[utoipa::path(post, path = "/api/rooms", tag = "rooms",
    request_body = NewRoom,
    responses(
        (status = 201, description = "Created, owned by the caller", body = RoomView),
        (status = 400, description = "Bad name, visibility or JSON", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    ))]
pub(super) async fn create_room(
    State(st): State<Shared>,
    Caller(who): Caller,
    ApiJson(req): ApiJson<NewRoom>,
) -> ApiResult {
    let room = rooms::create(st.store.as_ref(), &who, &req.name, req.visibility).await?;
    let view = cluster::room_view(&st.io, &room).await;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[utoipa::path(get, path = "/api/rooms/{room}/messages", tag = "messages",
    params(
        ("room" = String, Path, description = "Room name"),
        ("before" = Option<i64>, Query, description = "Only messages with a smaller id"),
        ("limit" = Option<u32>, Query, description = "1 to 100, default 50"),
    ),
    responses(
        (status = 200, description = "A page of history, oldest first", body = MessagePage),
        (status = 400, description = "Bad room name, before or limit", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "Private room", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    ))]
pub(super) async fn room_messages(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(room): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let name = room_name(&room)?;
    let int = |key: &str| -> Result<Option<i64>, AppError> {
        q.get(key)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse()
                    .map_err(|_| AppError::payload(format!("{key} must be an integer")))
            })
            .transpose()
    };
    let before = int("before")?;
    let limit = match int("limit")? {
        None => DEFAULT_LIMIT,
        Some(n) => u64::try_from(n)
            .ok()
            .and_then(page_limit)
            .ok_or_else(bad_limit)?,
    };
    let h = rooms::history(st.store.as_ref(), &who, &name, before, limit).await?;
    let page = MessagePage {
        messages: h.messages,
        more: h.more,
    };
    Ok(Json(page).into_response())
}

#[utoipa::path(post, path = "/api/rooms/{room}/messages", tag = "messages",
    params(("room" = String, Path, description = "Room name")),
    request_body = PostMessage,
    responses(
        (status = 201, description = "Stored durably, and delivered like a socket `chat`", body = Message),
        (status = 400, description = "Bad room name, message, files or JSON; `no such file` for a file that is not the caller's unattached upload to this room", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "Private room, banned, or `muted` (with `until`)", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
        (status = 413, description = "Body over the size limit", body = ErrorBody),
        (status = 429, description = "The caller's message rate is exceeded, or the room's slow mode (with `retry_after_ms` and `Retry-After`)", body = ErrorBody),
    ))]
pub(super) async fn post_message(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(room): Path<String>,
    body: Result<ApiJson<PostMessage>, AppError>,
) -> ApiResult {
    let name = room_name(&room)?;
    let ApiJson(PostMessage {
        message: text,
        reply_to,
        files,
    }) = body?;
    rooms::open_for_read(st.store.as_ref(), &who, &name).await?;
    st.limits.message(&who.user.id)?;
    // Bans, mutes and slow mode are the writer's to check, in its batch.
    let reply_to = match reply_to {
        Some(id) => Some(rooms::reply_ref(st.store.as_ref(), &name, id).await?),
        None => None,
    };
    let (tx, rx) = oneshot::channel();
    let message = NewMessage {
        room: name,
        user: who.user,
        message: text,
        reply_to,
        files,
    };
    st.writer
        .submit(message, Box::new(move |r| drop(tx.send(r.cloned()))))
        .await;
    let stored = rx.await.map_err(|_| AppError::Internal)??;
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}

#[utoipa::path(post, path = "/api/rooms/{room}/events", tag = "messages",
    params(("room" = String, Path, description = "Room name")),
    request_body = PostEvent,
    responses(
        (status = 204, description = "Sent to the room's sockets on every node as `signal` (volatile, not stored)"),
        (status = 400, description = "Bad room name, type or JSON", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "Private room", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
        (status = 413, description = "Body over the size limit", body = ErrorBody),
        (status = 429, description = "The caller's message rate is exceeded", body = ErrorBody),
    ))]
pub(super) async fn post_event(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(room): Path<String>,
    body: Result<ApiJson<PostEvent>, AppError>,
) -> ApiResult {
    let name = room_name(&room)?;
    let ApiJson(PostEvent { kind, data }) = body?;
    rooms::open_for_read(st.store.as_ref(), &who, &name).await?;
    st.limits.message(&who.user.id)?;
    let notice = SignalNotice {
        room: name.as_str(),
        kind: kind.as_str(),
        data: &data,
        user: &who.user,
    };
    // Like a socket's `signal`: a hint for live features, dropped for a
    // socket whose buffer is full rather than disconnecting it.
    let _ = st
        .io
        .to(name.to_string())
        .volatile()
        .emit(SignalNotice::EVENT, &notice)
        .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/api/rooms/{room}/members", tag = "members",
    params(("room" = String, Path, description = "Room name")),
    request_body = Invite,
    responses(
        (status = 201, description = "Invited", body = Membership),
        (status = 400, description = "Bad room name, user or JSON", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The caller does not own the room", body = ErrorBody),
        (status = 404, description = "No such room, or no such user (neither an account nor an app user the server has seen, or disabled)", body = ErrorBody),
    ))]
pub(super) async fn invite(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(room): Path<String>,
    body: Result<ApiJson<Invite>, AppError>,
) -> ApiResult {
    let name = room_name(&room)?;
    let ApiJson(Invite { user }) = body?;
    rooms::invite(st.store.as_ref(), &who, &name, &user).await?;
    cluster::listed(&st.io, name.as_str(), &user).await;
    let membership = Membership {
        room: name.to_string(),
        user,
    };
    Ok((StatusCode::CREATED, Json(membership)).into_response())
}

#[utoipa::path(delete, path = "/api/rooms/{room}/members/{user}", tag = "members",
    params(
        ("room" = String, Path, description = "Room name"),
        ("user" = String, Path, description = "The member's user id"),
    ),
    responses(
        (status = 204, description = "Removed; their sockets without other access left the room"),
        (status = 400, description = "Bad room name", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The caller does not own the room", body = ErrorBody),
        (status = 404, description = "No such room, or the user is not a member", body = ErrorBody),
    ))]
pub(super) async fn remove_member(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path((room, user)): Path<(String, String)>,
) -> ApiResult {
    let name = room_name(&room)?;
    let record = rooms::remove_member(st.store.as_ref(), &who, &name, &user).await?;
    cluster::evict(&st.io, &record, &user).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// How long `/healthz` waits for the database.
const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// 200 when the database answers and, with Redis configured, Redis does too;
/// 503 otherwise, naming what is down (a node without Redis still serves
/// its own sockets, but not as part of the cluster).
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses(
        (status = 200, description = "The server, its database and (when configured) Redis answer", body = Health),
        (status = 503, description = "The database or Redis does not answer"),
    ))]
pub(super) async fn health(State(st): State<Shared>) -> Response {
    // A database that is down makes the pool retry until its acquire
    // timeout (10 s on PostgreSQL); a health check must answer well within
    // a load balancer's own timeout, so it gives up sooner.
    let ping = tokio::time::timeout(HEALTH_TIMEOUT, st.store.ping())
        .await
        .unwrap_or_else(|_| Err(StoreError::Unavailable("no answer in time".into())));
    let (code, status, database, redis) = match ping {
        Ok(()) => match st.bus.redis_up() {
            None => (StatusCode::OK, Status::Ok, None, None),
            Some(true) => (StatusCode::OK, Status::Ok, None, Some(Up::Up)),
            Some(false) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Status::Degraded,
                Some(Up::Up),
                Some(Up::Down),
            ),
        },
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            let down = Some(Up::Down);
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Status::Unavailable,
                down,
                None,
            )
        }
    };
    let health = Health {
        status,
        redis,
        database,
    };
    (code, Json(health)).into_response()
}
