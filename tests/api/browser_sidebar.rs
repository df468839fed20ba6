//! Your rooms in the web chat in Chromium: `tests/browser/sidebar.cjs`
//! badges a room the page has not opened, clears it across tabs when read,
//! asks before creating a room, and leaves one for good, on the real
//! server; screenshots in target/screenshots/ (copied to docs/screenshots/
//! by hand).

use crate::browser_changes::run_page_script;
use crate::helpers::*;

#[tokio::test]
async fn the_sidebar_badges_clear_across_tabs_in_chromium() {
    let app = spawn_app().await;
    run_page_script(&app, "sidebar.cjs").await;
}
