//! PROTOCOL §5: an acked chat survives `kill -9`; the generated secret survives restarts.

use std::path::Path;

use serde_json::{Value, json};
use tokio::process::Child;

use crate::helpers::*;

/// The real `roomcast` binary on port 0; returns the process and its address.
pub(crate) async fn start_binary(db: &Path, secret: Option<&str>) -> (Child, String) {
    start_binary_with(db, secret, "full").await
}

/// [`start_binary`] with `--sqlite-sync SYNC`.
async fn start_binary_with(db: &Path, secret: Option<&str>, sync: &str) -> (Child, String) {
    start_roomcast(&mut binary_command(db, secret, sync)).await
}

/// [`start_binary`] with the server's log (stderr) written to `log`.
pub(crate) async fn start_binary_logged(
    db: &Path,
    secret: Option<&str>,
    log: &Path,
) -> (Child, String) {
    let mut cmd = binary_command(db, secret, "full");
    cmd.stderr(std::fs::File::create(log).expect("log file"));
    start_roomcast(&mut cmd).await
}

fn binary_command(db: &Path, secret: Option<&str>, sync: &str) -> tokio::process::Command {
    let mut cmd = roomcast_command();
    cmd.arg("serve")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .args(["--sqlite-sync", sync])
        .env_remove("ROOMCAST_JWT_SECRET")
        // These tests send bursts far above the default per-user rate.
        .args(["--message-rate", "1000000000", "--message-burst", "1000000"]);
    if let Some(s) = secret {
        cmd.arg("--jwt-secret").arg(s);
    }
    cmd
}

/// SIGKILLs `server`, starts a new one on the same file, and connects to it as ann.
async fn kill_and_restart(mut server: Child, db: &Path, sync: &str) -> (Child, TestClient) {
    server.start_kill().expect("kill -9");
    server.wait().await.expect("reaped");
    let (server, addr) = start_binary_with(db, Some(SECRET), sync).await;
    let url = format!("http://{addr}/");
    let client = TestClient::connect(&url, Connect::token(token("ann", None)))
        .await
        .expect("reconnect");
    (server, client)
}

/// Every message of `room`, oldest first, read back through `history` pages.
pub(crate) async fn whole_history(c: &TestClient, room: &str) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    let mut before: Option<Value> = None;
    loop {
        let mut q = json!({"room": room, "limit": 100});
        if let Some(b) = &before {
            q["before"] = b.clone();
        }
        let page = c.ack("history", q).await;
        let messages = page["messages"].as_array().expect("messages").clone();
        before = messages.first().map(|m| m["id"].clone());
        all.splice(0..0, messages);
        if page["more"] != true {
            return all;
        }
    }
}

#[tokio::test]
async fn acked_chats_survive_sigkill() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("kill.db");
    let (server, addr) = start_binary(&db, Some(SECRET)).await;
    let url = format!("http://{addr}/");
    let mut c = TestClient::connect(&url, Connect::token(token("ann", None)))
        .await
        .expect("connect");
    c.join("durable").await;
    let mut acked = Vec::new();
    for i in 0..200 {
        let ack = c.chat("durable", &format!("message {i}")).await;
        acked.push(ack["id"].as_i64().expect("id"));
    }
    // SIGKILL right after the last ack: no chance to flush anything.
    let (_server, c) = kill_and_restart(server, &db, "full").await;
    let all = whole_history(&c, "durable").await;
    assert_eq!(all.len(), 200);
    for (i, m) in all.iter().enumerate() {
        assert_eq!(m["message"], format!("message {i}"));
        assert_eq!(m["id"], acked[i]);
    }
}

#[tokio::test]
async fn the_generated_secret_is_kept_so_tokens_survive_restarts() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("secret.db");
    let (mut server, addr) = start_binary(&db, None).await;
    let http = reqwest::Client::new();
    let creds = json!({"username": "ann", "password": "long enough"});
    let r = http
        .post(format!("http://{addr}/api/register"))
        .json(&creds)
        .send()
        .await
        .expect("register");
    assert_eq!(r.status(), 201);
    let login: Value = http
        .post(format!("http://{addr}/api/login"))
        .json(&creds)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let jwt = login["token"].as_str().expect("token").to_owned();
    // The test secret is not the server's: a token signed with it is refused.
    let url = format!("http://{addr}/");
    assert!(
        TestClient::connect(&url, Connect::token(token("ann", None)))
            .await
            .is_err()
    );
    server.start_kill().expect("kill");
    server.wait().await.expect("reaped");

    let (_server, addr) = start_binary(&db, None).await;
    let mut c = TestClient::connect(&format!("http://{addr}/"), Connect::token(jwt))
        .await
        .expect("token from before the restart still works");
    c.join("lobby").await;
}

#[tokio::test]
async fn every_ack_of_a_pipelined_burst_survives_sigkill_mid_stream() {
    pipelined_burst_survives_sigkill("full").await;
}

/// `normal` flushes the WAL only at checkpoints, but what a commit wrote is in
/// the OS's page cache, so a killed process still loses no acked chat.
#[tokio::test]
async fn with_sqlite_sync_normal_every_ack_of_a_burst_still_survives_sigkill() {
    pipelined_burst_survives_sigkill("normal").await;
}

async fn pipelined_burst_survives_sigkill(sync: &str) {
    use futures_util::{SinkExt, StreamExt};
    use roomcast::wire_client::packet::{self, Packet};
    use roomcast::wire_client::ws::Message;

    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("burst.db");
    let (server, addr) = start_binary_with(&db, Some(SECRET), sync).await;
    let mut ws = crate::raw::raw_connect(addr.parse().expect("addr"), "ann").await;
    ws.send(Message::text(r#"420["join",{"room":"k"}]"#))
        .await
        .expect("join");
    // Thousands of chats in flight, many group commits under way, and the
    // process killed while acks are still arriving.
    for i in 1..=5000 {
        let chat = format!(r#"42{i}["chat",{{"room":"k","message":"m{i}"}}]"#);
        ws.feed(Message::text(chat)).await.expect("feed");
    }
    ws.flush().await.expect("flush");
    let mut acked: Vec<i64> = Vec::new();
    while acked.len() < 1000 {
        let frame = ws.next().await.expect("open").expect("frame");
        let text = frame.to_text().expect("text");
        if let Packet::Ack(_, args) = packet::decode(text) {
            let ack = packet::ack_value(args).expect("ack json");
            if let Some(id) = ack["id"].as_i64() {
                acked.push(id);
            }
        }
    }
    let (_server, c) = kill_and_restart(server, &db, sync).await;
    let stored: Vec<i64> = whole_history(&c, "k")
        .await
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect();
    assert!(stored.windows(2).all(|w| w[0] < w[1]), "ids increase");
    let missing: Vec<&i64> = acked.iter().filter(|id| !stored.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "acked but lost after kill -9: {missing:?}"
    );
    assert!(stored.len() >= acked.len());
}

#[tokio::test]
async fn a_second_server_on_the_same_sqlite_file_refuses_to_start() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("shared.db");
    let (mut first, addr) = start_binary(&db, Some(SECRET)).await;
    let mut second = roomcast_command();
    second
        .args(["serve", "--listen", "127.0.0.1:0", "--jwt-secret", SECRET])
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .env_remove("ROOMCAST_JWT_SECRET")
        .stderr(std::process::Stdio::piped());
    let out = tokio::time::timeout(WAIT, second.output())
        .await
        .expect("the second server exits instead of serving")
        .expect("run");
    assert!(!out.status.success(), "the second server fails");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&db.display().to_string()) && stderr.contains("in use"),
        "the message names the file: {stderr}"
    );
    // The admin commands still work beside the running server.
    let list = tokio::process::Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .args(["room", "list"])
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .output()
        .await
        .expect("room list");
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    // The first server is untouched.
    let url = format!("http://{addr}/");
    let mut ann = TestClient::connect(&url, Connect::token(token("ann", None)))
        .await
        .expect("connect");
    ann.join("one").await;
    ann.chat("one", "still here").await;
    // kill -9 releases the lock: the next server starts.
    first.start_kill().expect("kill -9");
    first.wait().await.expect("reaped");
    let (_third, _) = start_binary(&db, Some(SECRET)).await;
}
