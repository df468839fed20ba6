//! The message menu of the web chat in Chromium: `tests/browser/changes.cjs`
//! edits, deletes, replies and reacts as two people, on the real server,
//! and leaves screenshots in target/screenshots/ (the copies in
//! docs/screenshots/ are taken from there by hand: a test run never
//! rewrites tracked files).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::helpers::*;

const CHROMIUM: &str = "/usr/bin/chromium";

#[tokio::test]
async fn two_people_edit_delete_reply_and_react_in_chromium() {
    let app = spawn_app().await;
    run_page_script(&app, "changes.cjs").await;
}

/// Runs `tests/browser/SCRIPT` against `app` in Chromium (screenshots into
/// target/screenshots/) and checks it reported no script error, CSP
/// violation or dialog.
pub(crate) async fn run_page_script(app: &TestApp, script: &str) {
    assert!(Path::new(CHROMIUM).exists(), "{CHROMIUM} is missing");
    let root = env!("CARGO_MANIFEST_DIR");
    let shots = format!("{root}/target/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let run = Command::new("node")
        .arg(format!("{root}/tests/browser/{script}"))
        .arg(format!("http://{}", app.addr))
        .arg(&shots)
        .env("NODE_PATH", format!("{root}/web/node_modules"))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("the scenario finished in time")
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|j| serde_json::from_str(j).expect("json"))
        .expect("the script reports");
    assert_eq!(
        result["problems"],
        json!([]),
        "script errors, CSP or dialogs"
    );
}
