//! The bundled script and stylesheet (built by build.rs with esbuild) and the icon.

use axum::http::header;
use axum::response::IntoResponse;

static SCRIPT: &str = include_str!(concat!(env!("OUT_DIR"), "/web/app.js"));
static STYLE: &str = include_str!(concat!(env!("OUT_DIR"), "/web/app.css"));
static ICON: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/icon.svg"));

/// Changes whenever the bundle does; pages ask for `/assets/app.js?v=VERSION`,
/// so the assets can be cached for good.
pub(super) const VERSION: &str = env!("ROOMCAST_ASSETS_VERSION");

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
}

pub(super) async fn script() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

pub(super) async fn style() -> impl IntoResponse {
    asset("text/css; charset=utf-8", STYLE)
}

pub(super) async fn icon() -> impl IntoResponse {
    asset("image/svg+xml", ICON)
}
