//! `/api` routes of PROTOCOL §6.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::{AppState, Caller};
use crate::auth::session;
use crate::domain::{MessageText, RoomName, Visibility};
use crate::error::AppError;
use crate::rooms;
use crate::store::NewMessage;

type ApiResult = Result<Response, AppError>;

/// A JSON body, or the contract's `invalid_payload` when it is not one.
fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, AppError> {
    b.map(|Json(v)| v)
        .map_err(|e| AppError::payload(format!("invalid JSON body: {}", e.body_text())))
}

fn room_name(raw: &str) -> Result<RoomName, AppError> {
    RoomName::parse(raw).map_err(AppError::InvalidRoom)
}

#[derive(Deserialize)]
pub(super) struct Credentials {
    username: String,
    password: String,
}

pub(super) async fn register(
    State(st): State<AppState>,
    b: Result<Json<Credentials>, JsonRejection>,
) -> ApiResult {
    let c = body(b)?;
    let user = st.auth.register(&c.username, &c.password).await?;
    Ok((StatusCode::CREATED, Json(json!({"user": user}))).into_response())
}

pub(super) async fn login(
    State(st): State<AppState>,
    b: Result<Json<Credentials>, JsonRejection>,
) -> ApiResult {
    let c = body(b)?;
    let done = st.auth.login(&c.username, &c.password).await?;
    let cookie = session::set_cookie(&done.session, st.auth.ttl_secs());
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({"token": done.token, "user": done.user})),
    )
        .into_response())
}

pub(super) async fn logout(State(st): State<AppState>, headers: HeaderMap) -> ApiResult {
    let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    st.auth.logout(cookie).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session::clear_cookie())],
    )
        .into_response())
}

pub(super) async fn list_rooms(State(st): State<AppState>, Caller(who): Caller) -> ApiResult {
    let list = rooms::visible(st.store.as_ref(), &who).await?;
    let rooms = st.rooms_json(&list).await;
    Ok(Json(json!({"rooms": rooms})).into_response())
}

#[derive(Deserialize)]
pub(super) struct NewRoom {
    name: String,
    #[serde(default)]
    visibility: Option<String>,
}

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

#[derive(Deserialize)]
pub(super) struct PostMessage {
    message: Value,
}

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
    let (tx, rx) = oneshot::channel();
    let message = NewMessage {
        room: name.to_string(),
        user: who.user,
        message: text.into_string(),
    };
    st.writer
        .submit(message, Box::new(move |r| drop(tx.send(r.cloned()))))
        .await;
    let stored = rx.await.map_err(|_| AppError::Internal)??;
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}

#[derive(Deserialize)]
pub(super) struct Invite {
    user: String,
}

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

/// 200 when the database answers and, with Redis configured, Redis does too;
/// 503 otherwise, naming what is down (a node without Redis still serves
/// its own sockets, but not as part of the cluster).
pub(super) async fn health(State(st): State<AppState>) -> Response {
    match st.store.ping().await {
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
