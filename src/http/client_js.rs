//! The official `socket.io-client` bundle, embedded at build time (see build.rs).

use axum::http::header;
use axum::response::IntoResponse;

static FULL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/web/node_modules/socket.io-client/dist/socket.io.js"
));
static MIN: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/web/node_modules/socket.io-client/dist/socket.io.min.js"
));

fn javascript(body: &'static [u8]) -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

pub(super) async fn full() -> impl IntoResponse {
    javascript(FULL)
}

pub(super) async fn min() -> impl IntoResponse {
    javascript(MIN)
}
