//! Search in the web chat in Chromium: `tests/browser/search.cjs` finds an
//! old message and a recent one across rooms (never one of another's
//! private room), marks the matched words, and opens the room at the
//! message in the same page; screenshots in target/screenshots/.

use crate::browser_changes::run_page_script;
use crate::helpers::*;

#[tokio::test]
async fn search_finds_and_opens_an_old_message_in_chromium() {
    let app = spawn_app().await;
    run_page_script(&app, "search.cjs").await;
}
