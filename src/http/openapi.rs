//! The OpenAPI document of the `/api` routes, generated from the handlers'
//! annotations and the protocol's own types (`protocol`, `error::ErrorBody`),
//! served at `/api/openapi.json`.

use axum::Json;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::{Modify, OpenApi};

use super::{api, changes, files, lists, manage, moderation, search};
use crate::domain::{
    Ban, Deletion, FileView, Member, Message, Mute, ReactionSummary, ReplyRef, Role, User,
    Visibility,
};
use crate::error::{ErrorBody, ErrorCode};
use crate::protocol::{
    Credentials, DmOpened, DmWith, EditMessage, Health, Invite, LastMessage, LoggedIn, MemberList,
    Membership, MessagePage, ModerationView, MuteFor, NewRoom, PostEvent, PostMessage, ReadAck,
    ReadUpTo, Registered, RoomList, RoomPatch, RoomView, SearchHit, SearchResults, Status, Up,
    UserList,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "roomcast HTTP API", description = "PROTOCOL §6: rooms, messages, members and moderation over HTTP, for backends and bots."),
    paths(
        api::register, api::login, api::logout, api::list_rooms, api::create_room,
        api::room_messages, api::post_message, api::post_event, api::invite, api::remove_member, api::health,
        moderation::appoint, moderation::dismiss, moderation::mute, moderation::unmute,
        moderation::ban, moderation::unban, moderation::patch_room, moderation::list,
        changes::edit, changes::delete, changes::react, changes::unreact,
        lists::read, lists::leave_room, lists::open_dm, lists::directory,
        manage::members, manage::delete_room, search::search,
        files::upload, files::file, files::thumbnail,
    ),
    components(schemas(
        RoomView, RoomList, MessagePage, ErrorBody, ErrorCode, LoggedIn, Registered, Membership,
        Health, Status, Up, Message, User, Visibility, Credentials, NewRoom, PostMessage, PostEvent, Invite,
        Mute, Ban, MuteFor, RoomPatch, ModerationView,
        EditMessage, Deletion, ReplyRef, ReactionSummary, LastMessage, ReadUpTo, ReadAck,
        DmWith, DmOpened, UserList, MemberList, Member, Role, SearchResults, SearchHit,
        FileView,
    )),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
)]
struct ApiDoc;

/// Bearer JWTs (or API keys) and the session cookie, the identities of PROTOCOL §2.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or rc_ API key")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("roomcast_session"))),
        );
        // A server key acts as another user on every room route (PROTOCOL §2).
        let acting = [
            (
                super::identity::AS_USER,
                "With a server key only: act as this user id (403 with any other identity)",
            ),
            (
                super::identity::AS_NAME,
                "With `x-roomcast-as` naming an app user: the name shown for them",
            ),
        ];
        for (path, item) in doc.paths.paths.iter_mut() {
            if !path.starts_with("/api/rooms") {
                continue;
            }
            let params = item.parameters.get_or_insert_with(Vec::new);
            for (name, description) in acting {
                params.push(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some(description))
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                );
            }
        }
    }
}

/// The document, built once per request (it is small and rarely asked for).
pub(super) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
