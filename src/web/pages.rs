//! Page handlers: the signed-in pages redirect to `/login` without a session.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::template::{Page, render};
use crate::auth::Identity;
use crate::domain::RoomName;
use crate::state::Shared;

/// The policy the pages are written for: no inline script or style, no eval,
/// sockets only to this origin. Set here so it holds even without a global layer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

fn html(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    // Pages name the signed-in user: never keep them in shared caches.
    set(h, header::CACHE_CONTROL, "no-store");
    res
}

/// The session user behind the cookie, if any (pages never take bearer tokens).
async fn signed_in(st: &Shared, headers: &HeaderMap) -> Result<Option<Identity>, Response> {
    let Some(cookie) = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    match st.auth.identify(None, Some(cookie)).await {
        Ok(who) => Ok(Some(who)),
        Err(crate::error::AppError::Unauthorized(_)) => Ok(None),
        Err(_) => Err(html(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error".into(),
        )),
    }
}

fn to_login(next: &str) -> Response {
    // `next` is one of our own paths (a valid room name), safe in a URL as is.
    Redirect::to(&format!("/login?next={next}")).into_response()
}

fn signed_in_page(page: Page, title: &str, who: &Identity, room: &str) -> Response {
    let vars = [
        ("user_id", who.user.id.as_str()),
        ("user_name", who.user.name.as_str()),
        ("room", room),
    ];
    html(StatusCode::OK, render(page, title, &vars))
}

pub(super) async fn lobby(State(st): State<Shared>, headers: HeaderMap) -> Response {
    match signed_in(&st, &headers).await {
        Ok(Some(who)) => signed_in_page(Page::Lobby, "Rooms", &who, ""),
        Ok(None) => to_login("/"),
        Err(res) => res,
    }
}

pub(super) async fn room(
    State(st): State<Shared>,
    Path(room): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Ok(name) = RoomName::parse(&room) else {
        return html(
            StatusCode::NOT_FOUND,
            render(Page::NotFound, "Not found", &[]),
        );
    };
    match signed_in(&st, &headers).await {
        Ok(Some(who)) => signed_in_page(Page::Room, name.as_str(), &who, name.as_str()),
        Ok(None) => to_login(&format!("/r/{}", name.as_str())),
        Err(res) => res,
    }
}

/// The sign-in form; someone already signed in goes straight to the lobby.
pub(super) async fn login(State(st): State<Shared>, headers: HeaderMap) -> Response {
    match signed_in(&st, &headers).await {
        Ok(Some(_)) => Redirect::to("/").into_response(),
        Ok(None) => html(StatusCode::OK, render(Page::Login, "Sign in", &[])),
        Err(res) => res,
    }
}

pub(super) async fn register() -> Response {
    html(
        StatusCode::OK,
        render(Page::Register, "Create an account", &[]),
    )
}

/// A confirmation page: logging out is a POST from its button, so a link
/// on another site cannot sign anyone out.
pub(super) async fn logout() -> Response {
    html(StatusCode::OK, render(Page::Logout, "Sign out", &[]))
}
