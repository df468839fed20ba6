//! The dashboard's files under `/admin/` (embedded by build.rs from the
//! pinned `@socket.io/admin-ui` and `@mdi/font`), with their own CSP.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// `(path below /admin/, bytes)`; `""` is `index.html`.
static FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/admin_ui_files.rs"));

/// The pages' policy (`http::headers`) with two changes the dashboard needs:
/// `style-src 'unsafe-inline'`, because Vuetify writes its theme into a
/// `<style>` element and charts set `style` attributes; and `font-src
/// 'self'` for the icon font. Scripts stay `'self'` only (the build runs no
/// `eval`), and nothing loads from another site.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
     connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'; object-src 'none'";

pub(super) fn router() -> Router {
    Router::new()
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route("/admin/", get(|| async { file("") }))
        .route(
            "/admin/{*path}",
            get(|Path(path): Path<String>| async move { file(&path) }),
        )
}

fn file(path: &str) -> Response {
    let Some((_, body)) = FILES.iter().find(|(p, _)| *p == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let ext = path.rsplit_once('.').map_or("html", |(_, e)| e);
    let content_type = match ext {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        _ => "application/octet-stream",
    };
    // Everything but the page has its version in its name or query.
    let cache = if path.is_empty() {
        "no-cache"
    } else {
        "public, max-age=86400"
    };
    let mut res = (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        *body,
    )
        .into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    res
}
