//! The official JavaScript client (socket.io-client from npm, as browsers run
//! it) against the real server, on every transport.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn the_official_js_client_works_on_every_transport() {
    let app = spawn_app().await;
    let root = env!("CARGO_MANIFEST_DIR");
    let out = tokio::process::Command::new("node")
        .arg(format!("{root}/tests/js/official_client.cjs"))
        .arg(format!("http://{}", app.addr))
        .arg(token("js-user", None))
        .env("NODE_PATH", format!("{root}/web/node_modules"))
        .output()
        .await
        .expect("run node (Node.js is needed for the tests)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node client failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_str(stdout.trim()).expect("json line");
    assert_eq!(results["refused"], "unauthorized: invalid token");
    assert_eq!(results["polling"]["transport"], "polling");
    assert_eq!(results["upgrade"]["transport"], "websocket");
    assert_eq!(results["websocket"]["transport"], "websocket");
}
