//! Logs: `--log-format json` writes one JSON object per line; connections
//! are logged, messages are not.

use std::process::Stdio;

use serde_json::Value;
use tokio::io::AsyncReadExt;

use crate::helpers::*;

/// The real binary with JSON logs on a piped stderr, on a new database in `dir`.
async fn json_logging_server(dir: &std::path::Path) -> (tokio::process::Child, String) {
    start_roomcast(
        roomcast_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .arg("--database")
            .arg(format!("sqlite://{}", dir.join("logs.db").display()))
            .args(["--jwt-secret", SECRET])
            .env_remove("ROOMCAST_LOG")
            .stderr(Stdio::piped()),
    )
    .await
}

#[tokio::test]
async fn json_logs_have_a_line_per_connection_and_none_per_message() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut server, addr) = json_logging_server(dir.path()).await;
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

#[tokio::test]
async fn refused_connections_are_logged_once_each_with_their_reason() {
    use crate::auth::{EXPIRED, INVALID_TOKEN, NO_CREDENTIALS};
    let dir = tempfile::tempdir().expect("dir");
    let (mut server, addr) = json_logging_server(dir.path()).await;
    let expired = sign(
        &serde_json::json!({"sub": "u", "exp": now() - 3600}),
        SECRET,
    );
    let tries = [
        (Connect::token("forged".into()), INVALID_TOKEN),
        (Connect::token(expired), EXPIRED),
        (
            Connect {
                auth: None,
                cookie: None,
                transport: rust_socketio::TransportType::Websocket,
            },
            NO_CREDENTIALS,
        ),
    ];
    let url = format!("http://{addr}/");
    for (how, _) in &tries {
        // Each answer is its connect_error: the line was written before it.
        assert!(TestClient::connect(&url, how.clone()).await.is_err());
    }
    sigterm(&server);
    let mut stderr = String::new();
    let mut pipe = server.stderr.take().expect("stderr");
    pipe.read_to_string(&mut stderr).await.expect("read stderr");
    assert_eq!(server.wait().await.expect("exit").code(), Some(0));
    let reasons: Vec<String> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "connection refused")
        .map(|l| {
            l["fields"]["reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let want: Vec<&str> = tries.iter().map(|(_, reason)| *reason).collect();
    assert_eq!(reasons, want, "{stderr}");
}

#[tokio::test]
async fn a_server_on_a_busy_port_exits_naming_it_and_creates_no_file() {
    let busy = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    let dir = tempfile::tempdir().expect("dir");
    let out = roomcast_command()
        .args(["serve", "--listen", &addr, "--jwt-secret", SECRET])
        .arg("--database")
        .arg(format!("sqlite://{}", dir.path().join("busy.db").display()))
        .stderr(Stdio::piped())
        .output();
    let out = tokio::time::timeout(WAIT, out)
        .await
        .expect("exited")
        .expect("ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
    assert!(left.is_empty(), "files made: {left:?}");
    drop(busy);
}

/// Opens an Engine.IO polling session and sends CONNECT with `token`;
/// returns the server's answer (its `connect_error`).
async fn polling_connect(http: &reqwest::Client, addr: &str, token: &str) -> String {
    let base = format!("http://{addr}/socket.io/?EIO=4&transport=polling");
    let open = http.get(&base).send().await.expect("open");
    let open = open.text().await.expect("open body");
    let handshake: Value = serde_json::from_str(&open[1..]).expect("handshake");
    let url = format!("{base}&sid={}", handshake["sid"].as_str().expect("sid"));
    let connect = format!("40{}", serde_json::json!({ "token": token }));
    http.post(&url).body(connect).send().await.expect("connect");
    let answer = http.get(&url).send().await.expect("poll");
    answer.text().await.expect("answer")
}

#[tokio::test]
async fn a_flood_of_refusals_is_logged_at_the_rate_and_the_rest_counted() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut server, addr) = json_logging_server(dir.path()).await;
    let http = reqwest::Client::new();
    const FLOOD: usize = 200;
    let started = std::time::Instant::now();
    let answers =
        futures_util::future::join_all((0..FLOOD).map(|_| polling_connect(&http, &addr, "forged")))
            .await;
    let took = started.elapsed();
    assert!(
        answers
            .iter()
            .all(|a| a.contains("unauthorized: invalid token"))
    );
    // The count is logged with the first refusal of a later second: the
    // window being a second of time, only time passing can end it.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    polling_connect(&http, &addr, "forged").await;
    sigterm(&server);
    let mut stderr = String::new();
    let mut pipe = server.stderr.take().expect("stderr");
    pipe.read_to_string(&mut stderr).await.expect("read stderr");
    assert_eq!(server.wait().await.expect("exit").code(), Some(0));
    let lines: Vec<Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let logged = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "connection refused")
        .count();
    let suppressed: u64 = lines
        .iter()
        .filter_map(|l| l["fields"]["suppressed"].as_u64())
        .sum();
    // Every refusal is either a line or in a count, none twice.
    assert_eq!(logged as u64 + suppressed, FLOOD as u64 + 1, "{stderr}");
    // At most 10 a second: the flood's seconds, the window it started in
    // and the last refusal's.
    let windows = took.as_secs() as usize + 2;
    assert!(logged <= 10 * windows + 1, "{logged} lines in {took:?}");
    assert!(suppressed > 0, "{stderr}");
}
