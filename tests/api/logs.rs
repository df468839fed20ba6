//! Logs: `--log-format json` writes one JSON object per line; connections
//! are logged, messages are not.

use std::process::Stdio;

use serde_json::Value;
use tokio::io::AsyncReadExt;

use crate::helpers::*;

#[tokio::test]
async fn json_logs_have_a_line_per_connection_and_none_per_message() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut server, addr) = start_roomcast(
        roomcast_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .arg("--database")
            .arg(format!("sqlite://{}", dir.path().join("logs.db").display()))
            .args(["--jwt-secret", SECRET])
            .env_remove("ROOMCAST_LOG")
            .stderr(Stdio::piped()),
    )
    .await;
    let mut c = TestClient::connect(
        &format!("http://{addr}/"),
        Connect::token(token("ann", None)),
    )
    .await
    .expect("connect");
    c.join("lobby").await;
    for _ in 0..5 {
        c.chat("lobby", "a-very-private-chat-text").await;
    }
    c.close().await;
    sigterm(&server);
    let mut stderr = String::new();
    server
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .await
        .expect("read stderr");
    let exit = server.wait().await.expect("exit");
    assert_eq!(exit.code(), Some(0));

    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let connected: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "connected")
        .collect();
    assert_eq!(connected.len(), 1, "{stderr}");
    assert_eq!(connected[0]["fields"]["user"], "ann");
    assert!(connected[0]["level"].is_string() && connected[0]["timestamp"].is_string());
    assert!(lines.iter().any(|l| l["fields"]["message"] == "shut down"));
    assert!(
        !stderr.contains("a-very-private-chat-text"),
        "messages are not logged"
    );
    assert!(lines.len() < 12, "a few lines, not one per event: {stderr}");
}
