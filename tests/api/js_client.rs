//! The official JavaScript client (socket.io-client from npm, as browsers run
//! it) against the real server, on every transport: 4.x, and 3.x (the oldest
//! that speaks Engine.IO 4).

use serde_json::Value;

use crate::helpers::*;

/// Runs `tests/js/official_client.cjs` with the npm package `client` (from
/// `web/node_modules`) and checks its three transports and its refusal.
async fn official_client_on_every_transport(client: &str, user: &str) {
    let app = spawn_app().await;
    let root = env!("CARGO_MANIFEST_DIR");
    let out = tokio::process::Command::new("node")
        .arg(format!("{root}/tests/js/official_client.cjs"))
        .arg(format!("http://{}", app.addr))
        .arg(token(user, None))
        .arg(client)
        .env("NODE_PATH", format!("{root}/web/node_modules"))
        .kill_on_drop(true)
        .output()
        .await
        .expect("run node (Node.js is needed for the tests)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node client {client} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_str(stdout.trim()).expect("json line");
    assert_eq!(results["refused"], "unauthorized: invalid token");
    assert_eq!(results["polling"]["transport"], "polling");
    assert_eq!(results["upgrade"]["transport"], "websocket");
    assert_eq!(results["websocket"]["transport"], "websocket");
}

/// The version npm installed for package `name` in web/node_modules.
fn installed_version(name: &str) -> String {
    let path = format!(
        "{}/web/node_modules/{name}/package.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let json: Value = serde_json::from_str(&text).expect("package.json");
    json["version"].as_str().expect("version").to_owned()
}

#[tokio::test]
async fn the_official_js_client_works_on_every_transport() {
    assert!(installed_version("socket.io-client").starts_with("4."));
    official_client_on_every_transport("socket.io-client", "js-user").await;
}

#[tokio::test]
async fn socket_io_client_3_works_on_every_transport() {
    assert!(installed_version("socket.io-client-v3").starts_with("3."));
    official_client_on_every_transport("socket.io-client-v3", "js3-user").await;
}
