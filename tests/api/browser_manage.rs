//! Managing a room in the web chat in Chromium: `tests/browser/manage.cjs`
//! sets a topic that reaches a member at once, lists the members with their
//! roles, and deletes the room after an in-page confirmation (a member with
//! it open is put out; it leaves the sidebar of another tab); screenshots in
//! target/screenshots/.

use crate::browser_changes::run_page_script;
use crate::helpers::*;

#[tokio::test]
async fn the_owner_sets_a_topic_and_deletes_the_room_in_chromium() {
    let app = spawn_app().await;
    run_page_script(&app, "manage.cjs").await;
}
