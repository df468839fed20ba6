//! `GET /metrics`: Prometheus text format.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::cluster;
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
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        st.metrics.render(rooms),
    )
}
