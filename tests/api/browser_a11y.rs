//! Accessibility of the web chat in Chromium: `tests/browser/a11y.cjs` runs
//! axe-core on every page (sign in, create an account, sign out, not found,
//! the lobby, a busy room and its phone drawers) at desktop and phone
//! width and in the dark scheme; a serious or critical violation fails.

use crate::browser_changes::run_page_script;
use crate::helpers::*;

#[tokio::test]
async fn every_page_passes_axe_at_desktop_and_phone_width() {
    let app = spawn_app().await;
    run_page_script(&app, "a11y.cjs").await;
}
