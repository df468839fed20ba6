//! HTTP: the `/api` routes, health, and the official client bundle.

mod api;
mod client_js;
mod identity;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::realtime::Ctx;

pub use identity::Caller;

/// Everything HTTP handlers need: the same context the sockets use, so an
/// HTTP post is delivered exactly like a socket `chat`.
pub type AppState = Arc<Ctx>;

/// The HTTP routes (without Socket.IO, which `app` mounts beside them).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/socket.io/socket.io.js", get(client_js::full))
        .route("/socket.io/socket.io.min.js", get(client_js::min))
        .route("/api/register", post(api::register))
        .route("/api/login", post(api::login))
        .route("/api/logout", post(api::logout))
        .route("/api/rooms", get(api::list_rooms).post(api::create_room))
        .route(
            "/api/rooms/{room}/messages",
            get(api::room_messages).post(api::post_message),
        )
        .route("/api/rooms/{room}/members", post(api::invite))
        .route(
            "/api/rooms/{room}/members/{user}",
            axum::routing::delete(api::remove_member),
        )
        .route("/healthz", get(api::health))
        .with_state(state)
}
