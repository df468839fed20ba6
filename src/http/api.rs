//! `/api` routes of PROTOCOL §6.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::openapi::{
    ErrorBody, Health, LoggedIn, Membership, MessagePage, Registered, Room, RoomList,
};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::{AppState, Caller, ClientAddr};
use crate::auth::session;
use crate::domain::{Message, MessageText, RoomName, Username, Visibility};
use crate::error::AppError;
use crate::store::{NewMessage, StoreError};
use crate::{realtime, rooms};

type ApiResult = Result<Response, AppError>;

/// A JSON body, or the contract's `invalid_payload` when it is not one.
fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, AppError> {
    b.map(|Json(v)| v).map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge("request body too large".into())
        } else {
            AppError::payload(format!("invalid JSON body: {}", e.body_text()))
        }
    })
}

fn room_name(raw: &str) -> Result<RoomName, AppError> {
    RoomName::parse(raw).map_err(AppError::InvalidRoom)
}

#[derive(Deserialize, ToSchema)]
pub(super) struct Credentials {
    username: String,
    password: String,
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
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    b: Result<Json<Credentials>, JsonRejection>,
) -> ApiResult {
    let c = body(b)?;
    if !st.auth.registration_open() {
        return Err(AppError::Forbidden("registration is closed".into()));
    }
    st.limits.register(addr)?;
    let _hashing = st.limits.passwords.registration().await?;
    let user = st.auth.register(&c.username, &c.password).await?;
    Ok((StatusCode::CREATED, Json(json!({"user": user}))).into_response())
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
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    b: Result<Json<Credentials>, JsonRejection>,
) -> ApiResult {
    let c = body(b)?;
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
        Json(json!({"token": done.token, "user": done.user})),
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/logout", tag = "accounts", security(()),
    responses((status = 204, description = "The session of the cookie, or of the login JWT in `Authorization: Bearer`, ended (every copy of that JWT stops working) and the cookie cleared")))]
pub(super) async fn logout(State(st): State<AppState>, headers: HeaderMap) -> ApiResult {
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
pub(super) async fn list_rooms(State(st): State<AppState>, Caller(who): Caller) -> ApiResult {
    let list = rooms::visible(st.store.as_ref(), &who).await?;
    let rooms = st.rooms_json(&list).await;
    Ok(Json(json!({"rooms": rooms})).into_response())
}

#[derive(Deserialize, ToSchema)]
pub(super) struct NewRoom {
    name: String,
    /// `public` (the default) or `private`.
    #[serde(default)]
    #[schema(value_type = Option<Visibility>)]
    visibility: Option<String>,
}

#[utoipa::path(post, path = "/api/rooms", tag = "rooms",
    request_body = NewRoom,
    responses(
        (status = 201, description = "Created, owned by the caller", body = Room),
        (status = 400, description = "Bad name, visibility or JSON", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    ))]
pub(super) async fn create_room(
    State(st): State<AppState>,
    Caller(who): Caller,
    b: Result<Json<NewRoom>, JsonRejection>,
) -> ApiResult {
    let req = body(b)?;
    let name = room_name(&req.name)?;
    let visibility = match req.visibility.as_deref() {
        None => Visibility::Public,
        Some(v) => Visibility::parse(v)
            .ok_or_else(|| AppError::payload("visibility must be \"public\" or \"private\""))?,
    };
    let room = rooms::create(st.store.as_ref(), &who, &name, visibility).await?;
    Ok((StatusCode::CREATED, Json(st.room_json(&room).await)).into_response())
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
    State(st): State<AppState>,
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
        None => 50,
        Some(n @ 1..=100) => n as u32,
        Some(_) => return Err(AppError::payload("limit must be an integer from 1 to 100")),
    };
    let h = rooms::history(st.store.as_ref(), &who, &name, before, limit).await?;
    Ok(Json(json!({"messages": h.messages, "more": h.more})).into_response())
}

#[derive(Deserialize, ToSchema)]
pub(super) struct PostMessage {
    /// 1 to 4000 characters after trimming.
    #[schema(value_type = String)]
    message: Value,
}

#[utoipa::path(post, path = "/api/rooms/{room}/messages", tag = "messages",
    params(("room" = String, Path, description = "Room name")),
    request_body = PostMessage,
    responses(
        (status = 201, description = "Stored durably, and delivered like a socket `chat`", body = Message),
        (status = 400, description = "Bad room name, message or JSON", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "Private room", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
        (status = 413, description = "Body over the size limit", body = ErrorBody),
        (status = 429, description = "The caller's message rate is exceeded", body = ErrorBody),
    ))]
pub(super) async fn post_message(
    State(st): State<AppState>,
    Caller(who): Caller,
    Path(room): Path<String>,
    b: Result<Json<PostMessage>, JsonRejection>,
) -> ApiResult {
    let name = room_name(&room)?;
    let text = match body(b)?.message {
        Value::String(s) => MessageText::parse(&s).map_err(AppError::InvalidMessage)?,
        _ => return Err(AppError::InvalidMessage("message must be a string".into())),
    };
    rooms::open_for_read(st.store.as_ref(), &who, &name).await?;
    st.limits.message(&who.user.id)?;
    let (tx, rx) = oneshot::channel();
    let message = NewMessage {
        room: name,
        user: who.user,
        message: text.into_string(),
    };
    st.writer
        .submit(message, Box::new(move |r| drop(tx.send(r.cloned()))))
        .await;
    let stored = rx.await.map_err(|_| AppError::Internal)??;
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub(super) struct Invite {
    /// The invited user's id.
    user: String,
}

#[utoipa::path(post, path = "/api/rooms/{room}/members", tag = "members",
    params(("room" = String, Path, description = "Room name")),
    request_body = Invite,
    responses(
        (status = 201, description = "Invited", body = Membership),
        (status = 400, description = "Bad room name, user or JSON", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The caller does not own the room", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    ))]
pub(super) async fn invite(
    State(st): State<AppState>,
    Caller(who): Caller,
    Path(room): Path<String>,
    b: Result<Json<Invite>, JsonRejection>,
) -> ApiResult {
    let name = room_name(&room)?;
    let req = body(b)?;
    rooms::invite(st.store.as_ref(), &who, &name, &req.user).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"room": name.as_str(), "user": req.user})),
    )
        .into_response())
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
    State(st): State<AppState>,
    Caller(who): Caller,
    Path((room, user)): Path<(String, String)>,
) -> ApiResult {
    let name = room_name(&room)?;
    let record = rooms::remove_member(st.store.as_ref(), &who, &name, &user).await?;
    realtime::evict(&st, &record, &user).await;
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
pub(super) async fn health(State(st): State<AppState>) -> Response {
    // A database that is down makes the pool retry until its acquire
    // timeout (10 s on PostgreSQL); a health check must answer well within
    // a load balancer's own timeout, so it gives up sooner.
    let ping = tokio::time::timeout(HEALTH_TIMEOUT, st.store.ping())
        .await
        .unwrap_or_else(|_| Err(StoreError::Unavailable("no answer in time".into())));
    match ping {
        Ok(()) => match st.bus.redis_up() {
            None => Json(json!({"status": "ok"})).into_response(),
            Some(true) => Json(json!({"status": "ok", "redis": "up"})).into_response(),
            Some(false) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "degraded", "database": "up", "redis": "down"})),
            )
                .into_response(),
        },
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "down"})),
            )
                .into_response()
        }
    }
}
