//! The web chat pages of PROTOCOL §6 (`/login`, `/register`, `/logout`, `/`,
//! `/r/{room}`), their embedded assets, and the CSRF guard the pages rely on.

mod assets;
pub mod csrf;
mod pages;

pub use pages::CONTENT_SECURITY_POLICY;
mod template;

use axum::Router;
use axum::routing::get;

use crate::state::Shared;

/// The pages and `/assets/*` (merged beside the `/api` routes by `app`).
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/", get(pages::lobby))
        .route("/r/{room}", get(pages::room))
        .route("/login", get(pages::login))
        .route("/register", get(pages::register))
        .route("/logout", get(pages::logout))
        .route("/assets/app.js", get(assets::script))
        .route("/assets/app.css", get(assets::style))
        .route("/assets/icon.svg", get(assets::icon))
        .with_state(state)
}
