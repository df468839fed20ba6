//! The README's webhook receivers (`examples/webhooks/receiver.py`, Flask,
//! and `receiver.js`, Express), run as they are against the real server:
//! each checks roomcast's signature with its language's `standardwebhooks`
//! package, and refuses a forged delivery.

use std::process::Stdio;
use std::time::Duration;

use roomcast::store::{Endpoint, Origin};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::examples::{examples, npm_ci, python};
use crate::helpers::*;

/// A free port on loopback (bound and let go: a receiver takes it next).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Starts a receiver with the secret and port in its environment, as the
/// README runs it; waits until it listens.
async fn start(mut cmd: Command, secret: &str) -> (Child, u16) {
    let port = free_port();
    let child = cmd
        .env("ROOMCAST_WEBHOOK_SECRET", secret)
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the receiver");
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the receiver never listened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, port)
}

#[tokio::test]
async fn the_readme_receivers_check_what_roomcast_sends_and_refuse_forgeries() {
    let secret = Endpoint::new_secret();
    let mut flask = Command::new(python().await);
    flask.arg(examples().join("webhooks/receiver.py"));
    let dir = tokio::task::spawn_blocking(|| npm_ci("webhooks"))
        .await
        .expect("npm ci");
    let mut express = Command::new("node");
    express.arg(dir.join("receiver.js"));
    let mut receivers = [start(flask, &secret).await, start(express, &secret).await];
    let urls: Vec<String> = receivers
        .iter()
        .map(|(_, port)| format!("http://127.0.0.1:{port}/roomcast"))
        .collect();
    let app = spawn_app_with(|s| {
        s.webhooks = urls
            .iter()
            .zip(["flask", "express"])
            .map(|(url, name)| {
                Endpoint::new(name, url, &secret, None, true, Origin::File).expect("endpoint")
            })
            .collect();
    })
    .await;
    let mut ann = app.client("ann").await;
    ann.join("hooks").await;
    let id = ann.chat("hooks", "hello").await["id"].clone();
    let http = reqwest::Client::new();
    for ((child, _), url) in receivers.iter_mut().zip(&urls) {
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        // The event lines (Flask prints its banner on stdout too).
        let mut next = async || loop {
            let line = tokio::time::timeout(WAIT, lines.next_line())
                .await
                .expect("the receiver printed in time")
                .expect("read")
                .expect("a line");
            if line.contains(" evt_") {
                return line;
            }
        };
        let room = next().await;
        assert!(room.starts_with("room.created evt_"), "{url}: {room}");
        let chat = next().await;
        assert!(
            chat.starts_with("message.created evt_") && chat.ends_with(&format!(" {id}")),
            "{url}: {chat}"
        );
        // A delivery signed with another secret is refused.
        let forged = http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", "evt_forged")
            .header("webhook-timestamp", (now() as i64).to_string())
            .header(
                "webhook-signature",
                "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            )
            .body(json!({"id": "evt_forged", "type": "message.created", "data": {}}).to_string())
            .send()
            .await
            .expect("answered");
        assert_eq!(forged.status(), 401, "{url}");
    }
}
