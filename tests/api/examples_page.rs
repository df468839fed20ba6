//! The chat page of the README's Flask and Express examples
//! (`examples/chat.html`, served by the app) in Chromium, against the real
//! `roomcast` binary on another origin.

use std::process::Stdio;

use tokio::process::Command;

use crate::examples::{App, python_client, stack};
use crate::helpers::*;

/// The page an app serves, in Chromium (`tests/browser/example_page.cjs`):
/// joined by name with the app's token, chatting both ways with a Python
/// client, history for a second person on a phone, user text kept as text.
async fn the_example_page_chats_in_chromium(app: App, prefix: &str) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let s = stack(app, Backend::Sqlite).await;
    let root = env!("CARGO_MANIFEST_DIR");
    let shots = format!("{root}/target/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let mut node = Command::new("node")
        .arg(format!("{root}/tests/browser/example_page.cjs"))
        .args([s.app_url.as_str(), shots.as_str(), prefix])
        .env("NODE_PATH", format!("{root}/web/node_modules"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node (Node.js is needed for the tests)");
    let mut to_node = node.stdin.take().expect("stdin");
    let mut lines = BufReader::new(node.stdout.take().expect("stdout")).lines();
    let mut result = None;
    let scenario = async {
        while let Some(line) = lines.next_line().await.expect("read node") {
            if line == "READY" {
                let py = python_client(&s.app_url, "Ann", "hello from Python").await;
                assert!(py.ok, "client.py failed:\n{}{}", py.stdout, py.stderr);
                to_node.write_all(b"SENT\n").await.expect("tell node");
            } else if let Some(json) = line.strip_prefix("RESULT ") {
                result = Some(serde_json::from_str::<serde_json::Value>(json).expect("json"));
            }
        }
    };
    tokio::time::timeout(WAIT * 6, scenario)
        .await
        .expect("the page scenario finished in time");
    let status = node.wait().await.expect("node exit");
    assert!(
        status.success(),
        "example_page.cjs failed (its stderr is above)"
    );
    let result = result.expect("the scenario reports what the pages showed");
    assert_eq!(
        result["problems"],
        serde_json::json!([]),
        "script errors or dialogs"
    );
    assert_eq!(result["images"], 0, "a message became HTML");
    let want = serde_json::json!([
        "Carol: hello from the page",
        "Carol: <img src=x onerror=alert(1)>",
        "Ann: hello from Python"
    ]);
    assert_eq!(result["carol"], want);
    assert_eq!(result["dan"], want);
}

#[tokio::test]
async fn the_flask_example_page_chats_in_chromium() {
    the_example_page_chats_in_chromium(App::Flask, "example-flask").await;
}

#[tokio::test]
async fn the_express_example_page_chats_in_chromium() {
    the_example_page_chats_in_chromium(App::Express, "example-express").await;
}
