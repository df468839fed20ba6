//! `GET /api/search` (docs/protocol.md §6): the `search` event over HTTP.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::IntoResponse;

use super::Caller;
use super::api::ApiResult;
use crate::error::{AppError, ErrorBody};
use crate::protocol::{Search, SearchResults};
use crate::rooms;
use crate::state::Shared;

#[utoipa::path(get, path = "/api/search", tag = "messages",
    params(
        ("q" = String, Query, description = "The query: words, prefixes (`deplo*`), \"phrases\", `from:USER`, `in:ROOM`; all must match"),
        ("room" = Option<String>, Query, description = "Only this room"),
        ("before" = Option<i64>, Query, description = "Only matches with a smaller id"),
        ("limit" = Option<u32>, Query, description = "1 to 50, default 20"),
    ),
    responses(
        (status = 200, description = "Matches, newest first, with highlights", body = SearchResults),
        (status = 400, description = "Bad query, room name, before or limit", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "The room named is private to the caller, or they are banned there", body = ErrorBody),
        (status = 404, description = "The room named does not exist", body = ErrorBody),
    ))]
pub(super) async fn search(
    State(st): State<Shared>,
    Caller(who): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let given = |key: &str| q.get(key).map(String::as_str).filter(|v| !v.is_empty());
    let int = |key: &str| -> Result<Option<i64>, AppError> {
        given(key)
            .map(|v| {
                v.parse()
                    .map_err(|_| AppError::payload(format!("{key} must be an integer")))
            })
            .transpose()
    };
    let limit = given("limit")
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| AppError::payload("limit must be an integer from 1 to 50"))
        })
        .transpose()?;
    let query = q
        .get("q")
        .ok_or_else(|| AppError::payload("q is required"))?;
    let request = Search::new(query, given("room"), int("before")?, limit)?;
    let found = rooms::search(st.store.as_ref(), &who, &request).await?;
    Ok(Json(found).into_response())
}
