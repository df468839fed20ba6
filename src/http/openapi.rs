//! The OpenAPI document of the `/api` routes, generated from the handlers'
//! annotations and served at `/api/openapi.json`.

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::api;
use crate::domain::{Message, User, Visibility};

/// A room as responses show it.
#[derive(Serialize, ToSchema)]
pub(super) struct Room {
    name: String,
    visibility: Visibility,
    /// The owner's user id.
    owner: String,
    /// Distinct users with a socket in the room now.
    online: u64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct RoomList {
    rooms: Vec<Room>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct MessagePage {
    /// Oldest first.
    messages: Vec<Message>,
    /// Whether older messages exist.
    more: bool,
}

/// Every error: a code of the contract and a message for people.
#[derive(Serialize, ToSchema)]
pub(super) struct ErrorBody {
    #[schema(example = "forbidden")]
    error: ErrorCode,
    message: String,
}

/// The codes of `AppError::code`, for the schema only (responses are built
/// by `AppError`; tests/api/openapi.rs checks they match this).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub(super) enum ErrorCode {
    InvalidPayload,
    InvalidRoom,
    InvalidMessage,
    NotFound,
    Forbidden,
    NotInRoom,
    RateLimited,
    Unauthorized,
    Conflict,
    TooLarge,
    Timeout,
    Internal,
}

#[derive(Serialize, ToSchema)]
pub(super) struct LoggedIn {
    /// A JWT for `auth.token` or `Authorization: Bearer`.
    token: String,
    user: User,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Registered {
    user: User,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Membership {
    room: String,
    /// The invited user's id.
    user: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Health {
    /// `ok`, or `degraded` (503) while Redis is down.
    #[schema(example = "ok")]
    status: String,
    /// `up` or `down`; only with `--redis`.
    redis: Option<String>,
    /// `up`; only in a `degraded` answer.
    database: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "roomcast HTTP API", description = "PROTOCOL §6: rooms, messages and members over HTTP, for backends and bots."),
    paths(
        api::register, api::login, api::logout, api::list_rooms, api::create_room,
        api::room_messages, api::post_message, api::invite, api::remove_member, api::health,
    ),
    components(schemas(Room, RoomList, MessagePage, ErrorBody, ErrorCode, LoggedIn, Registered, Membership, Health, Message, User, Visibility)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
)]
struct ApiDoc;

/// Bearer JWTs and the session cookie, the two identities of PROTOCOL §2.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("roomcast_session"))),
        );
    }
}

/// The document, built once per request (it is small and rarely asked for).
pub(super) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
