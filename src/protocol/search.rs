//! `search` and `GET /api/search` (docs/protocol.md §4 "Search"): the
//! request and its answer.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::fields::{Fields, Request};
use crate::domain::{Message, RoomName, SearchQuery};
use crate::error::AppError;

/// `search {q, room?, before?, limit?}`, and the query string of `GET /api/search`.
#[derive(Debug)]
pub struct Search {
    pub query: SearchQuery,
    /// Only this room: the `room` field, or the query's `in:` (both may
    /// be given only when they agree).
    pub room: Option<RoomName>,
    /// Only matches with a smaller id (the last id of the previous page).
    pub before: Option<i64>,
    pub limit: u32,
}

impl Search {
    /// A page's size when the request names none.
    pub const DEFAULT_LIMIT: u32 = 20;
    /// The largest page.
    pub const MAX_LIMIT: u32 = 50;

    /// The request from its parts, each checked in turn: a bad query is
    /// `invalid_payload` (saying why), a bad `room` `invalid_room`.
    pub fn new(
        q: &str,
        room: Option<&str>,
        before: Option<i64>,
        limit: Option<u64>,
    ) -> Result<Self, AppError> {
        let query = SearchQuery::parse(q).map_err(|e| AppError::payload(format!("q: {e}")))?;
        let field = room
            .map(RoomName::parse)
            .transpose()
            .map_err(AppError::InvalidRoom)?;
        let room = match (field, query.room()) {
            (Some(a), Some(b)) if &a != b => {
                return Err(AppError::payload(format!(
                    "room {a} and in:{b} name different rooms"
                )));
            }
            (field, named) => field.or_else(|| named.cloned()),
        };
        let limit = match limit {
            None => Self::DEFAULT_LIMIT,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| (1..=Self::MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    AppError::payload(format!(
                        "limit must be an integer from 1 to {}",
                        Self::MAX_LIMIT
                    ))
                })?,
        };
        Ok(Self {
            query,
            room,
            before,
            limit,
        })
    }
}

impl Request for Search {
    fn parse(payload: Option<Value>) -> Result<Self, AppError> {
        let f = Fields::of(payload)?;
        // Not an unsigned integer: 0 stands in for it and is refused.
        let limit = f.get("limit").map(|v| v.as_u64().unwrap_or(0));
        Self::new(
            &f.string("q")?,
            f.opt_string("room")?,
            f.opt_id("before")?,
            limit,
        )
    }
}

/// One match: the message as it is now, and where the query's words are
/// in its text, as `[start, end)` ranges of characters (Unicode code
/// points, not UTF-16 units), sorted and not overlapping.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    pub message: Message,
    pub highlights: Vec<[usize; 2]>,
}

/// The ack of `search` and the body of `GET /api/search`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    /// Newest first.
    pub results: Vec<SearchHit>,
    /// Whether older matches exist (ask again with `before`: the last id).
    pub more: bool,
}
