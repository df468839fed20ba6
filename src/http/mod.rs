//! HTTP: the `/api` routes, health, and the official client bundle.

mod api;
mod changes;
mod client;
mod client_js;
mod files;
mod headers;
mod identity;
mod json;
mod lists;
mod manage;
mod metrics;
mod moderation;
mod openapi;
mod search;

use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get, patch, post, put};

use crate::state::Shared;

pub use client::{ClientAddr, Edge};
pub(crate) use headers::add as security_headers;
pub use identity::Caller;
pub use metrics::track_requests;

/// The HTTP routes (without Socket.IO, which `app` mounts beside them), over
/// the state the sockets share, so that an HTTP post is delivered exactly
/// like a socket `chat`; `edge` says which forwarded headers are believed.
/// With `with_metrics` false, `/metrics` is left to [`metrics_router`] on an
/// address of its own.
pub fn router(state: Shared, edge: Arc<Edge>, with_metrics: bool) -> Router {
    let accounts = Router::new()
        .route("/api/register", post(api::register))
        .route("/api/login", post(api::login))
        .route("/api/logout", post(api::logout))
        .route_layer(axum::middleware::from_fn(client::account_answers));
    let routes = Router::new()
        .route("/socket.io/socket.io.js", get(client_js::full))
        .route("/socket.io/socket.io.min.js", get(client_js::min))
        .merge(accounts)
        .route("/api/rooms", get(api::list_rooms).post(api::create_room))
        .route(
            "/api/rooms/{room}/messages",
            get(api::room_messages).post(api::post_message),
        )
        .route("/api/rooms/{room}/events", post(api::post_event))
        .route(
            "/api/rooms/{room}/messages/{id}",
            patch(changes::edit).delete(changes::delete),
        )
        .route(
            "/api/rooms/{room}/messages/{id}/reactions/{emoji}",
            put(changes::react).delete(changes::unreact),
        )
        .route(
            "/api/rooms/{room}/members",
            get(manage::members).post(api::invite),
        )
        .route("/api/rooms/{room}/read", put(lists::read))
        .route("/api/rooms/{room}/membership", delete(lists::leave_room))
        .route("/api/dms", post(lists::open_dm))
        .route("/api/users", get(lists::directory))
        .route("/api/search", get(search::search))
        .route("/files/{id}/thumbnail", get(files::thumbnail))
        .route("/files/{id}/{name}", get(files::file))
        .route(
            "/api/rooms/{room}/members/{user}",
            delete(api::remove_member),
        )
        .route(
            "/api/rooms/{room}",
            patch(moderation::patch_room).delete(manage::delete_room),
        )
        .route("/api/rooms/{room}/moderation", get(moderation::list))
        .route(
            "/api/rooms/{room}/moderators/{user}",
            put(moderation::appoint).delete(moderation::dismiss),
        )
        .route(
            "/api/rooms/{room}/mutes/{user}",
            put(moderation::mute).delete(moderation::unmute),
        )
        .route(
            "/api/rooms/{room}/bans/{user}",
            put(moderation::ban).delete(moderation::unban),
        )
        .route("/healthz", get(api::health))
        .route("/api/openapi.json", get(openapi::document));
    let routes = if with_metrics {
        routes.route("/metrics", get(metrics::metrics))
    } else {
        routes
    };
    routes.layer(axum::Extension(edge)).with_state(state)
}

/// `POST /api/rooms/{room}/files`, apart from [`router`]: an upload's body
/// is not JSON, so `app` puts it behind a CSRF guard of its own, and its
/// size is `--max-file-size`'s to bound, not `--max-payload`'s.
pub fn upload_router(state: Shared, edge: Arc<Edge>) -> Router {
    Router::new()
        .route("/api/rooms/{room}/files", post(files::upload))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::Extension(edge))
        .with_state(state)
}

/// The header a raw upload names its file in (which `web::csrf` also reads).
pub(crate) use files::FILENAME as FILENAME_HEADER;

/// `/metrics` alone, for `--metrics-listen`.
pub fn metrics_router(state: Shared) -> Router {
    Router::new()
        .route("/metrics", get(metrics::metrics))
        .with_state(state)
}
