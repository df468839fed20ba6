//! `GET /metrics`: Prometheus text format.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::AppState;

pub(super) async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    // Rooms of the default namespace; socket ids count as rooms in
    // socketioxide only with the `__private` prefix feature, which is off.
    let rooms = st.io.rooms().await.map(|r| r.len()).unwrap_or(0);
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        st.metrics.render(rooms),
    )
}
