//! Uploaded files with scripts in Chromium: `tests/browser/files_security.cjs`
//! opens an SVG and an HTML file (each with a script that posts a chat
//! and sets a cookie) from their URLs, and finds that neither ran, even
//! rendered rather than downloaded; the same files served without the
//! headers do run (the control that lets the test fail). And the web
//! chat's files: `tests/browser/files.cjs` pastes an image (a preview on
//! both sides, larger on click), sends a text file that the other side
//! downloads byte for byte, drops a file and cancels an upload under way;
//! screenshots in target/screenshots/.

use crate::browser_changes::run_page_script;
use crate::helpers::*;

#[tokio::test]
async fn uploaded_svg_and_html_run_no_script_in_chromium() {
    let app = spawn_app().await;
    run_page_script(&app, "files_security.cjs").await;
}

#[tokio::test]
async fn two_people_share_an_image_and_a_file_in_chromium() {
    let app = spawn_app().await;
    run_page_script(&app, "files.cjs").await;
}
