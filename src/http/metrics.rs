//! `GET /metrics` in Prometheus text format, and the middleware that counts HTTP requests.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::cluster;
use crate::metrics::Metrics;
use crate::state::Shared;

pub(super) async fn metrics(State(st): State<Shared>) -> impl IntoResponse {
    // Chat rooms with a socket on this node (like every gauge here), without
    // the bookkeeping rooms of `cluster::presence`. Socket ids count as rooms
    // in socketioxide only with the `__private` prefix feature, which is off.
    let rooms = st
        .io
        .local()
        .rooms()
        .await
        .map(|r| r.iter().filter(|r| cluster::is_chat_room(r)).count())
        .unwrap_or(0);
    st.metrics.set_limiter_keys(&st.limits.tracked_keys());
    // Two aggregates over the files' rows (no bytes are read); a database
    // that does not answer leaves the last values.
    match st.files.totals().await {
        Ok((files, bytes)) => st.metrics.set_files_stored(files, bytes),
        Err(e) => tracing::warn!(error = %e, "could not count the stored files"),
    }
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        st.metrics.render(rooms),
    )
}

/// Counts and times every HTTP answer by its route template. Socket.IO's
/// long-polling requests are under `/socket.io/`, whose times are how long
/// a poll waited for something to send, not how slow the server was.
pub async fn track_requests(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    // A template, or one value for every path no route matched, so a
    // scanner's paths cannot grow the label set.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().clone();
    let response = next.run(req).await;
    metrics.http_request(
        &route,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
