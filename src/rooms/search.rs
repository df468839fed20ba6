//! Search over the rooms a caller may read, as `history` decides
//! (docs/protocol.md §4 "Search"), for sockets and HTTP alike.

use crate::auth::Identity;
use crate::error::AppError;
use crate::protocol::{Search, SearchHit, SearchResults};
use crate::store::{Scope, Store};

/// A page of `who`'s matches of `request`, newest first, with highlights.
/// A room named (`room` or `in:`) is opened as `history` opens it, so one
/// that is private to them is `forbidden` and one that does not exist
/// `not_found`; without one, the store looks only where they may read.
pub async fn search(
    store: &dyn Store,
    who: &Identity,
    request: &Search,
) -> Result<SearchResults, AppError> {
    if let Some(room) = &request.room {
        super::open_for_read(store, who, room).await?;
    }
    let scope = Scope {
        user_id: &who.user.id,
        claimed: who.rooms.iter().map(String::as_str).collect(),
        only: who
            .key
            .as_ref()
            .filter(|k| !k.rooms.is_empty())
            .map(|k| k.rooms.iter().map(String::as_str).collect()),
        room: request.room.as_ref(),
    };
    let found = store
        .search(&request.query, &scope, request.before, request.limit)
        .await?;
    let results = found
        .messages
        .into_iter()
        .map(|message| SearchHit {
            highlights: request.query.highlights(&message.message),
            message,
        })
        .collect();
    Ok(SearchResults {
        results,
        more: found.more,
    })
}
