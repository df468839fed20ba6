//! PROTOCOL §5: an acked chat survives `kill -9`; the generated secret survives restarts.

use std::path::Path;
use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::*;

/// The real `roomcast` binary on port 0; returns the process and its address.
async fn start_binary(db: &Path, secret: Option<&str>) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_roomcast"));
    cmd.arg("serve")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .env_remove("ROOMCAST_JWT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some(s) = secret {
        cmd.arg("--jwt-secret").arg(s);
    }
    let mut child = cmd.spawn().expect("start roomcast");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    tokio::time::timeout(WAIT, BufReader::new(stdout).read_line(&mut line))
        .await
        .expect("roomcast printed its address")
        .expect("read stdout");
    let addr = line
        .trim()
        .strip_prefix("roomcast listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, addr)
}

#[tokio::test]
async fn acked_chats_survive_sigkill() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("kill.db");
    let (mut server, addr) = start_binary(&db, Some(SECRET)).await;
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
    server.start_kill().expect("kill -9");
    server.wait().await.expect("reaped");

    let (_server, addr) = start_binary(&db, Some(SECRET)).await;
    let url = format!("http://{addr}/");
    let c = TestClient::connect(&url, Connect::token(token("ann", None)))
        .await
        .expect("reconnect");
    let newest = c
        .ack("history", json!({"room": "durable", "limit": 100}))
        .await;
    let oldest = c
        .ack(
            "history",
            json!({"room": "durable", "limit": 100, "before": newest["messages"][0]["id"]}),
        )
        .await;
    assert_eq!(oldest["more"], false);
    let all: Vec<&Value> = oldest["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .chain(newest["messages"].as_array().expect("messages"))
        .collect();
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
