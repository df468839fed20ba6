//! Graceful shutdown: SIGTERM while clients send acked chats; the process
//! exits 0 and every acked chat is in the history after a restart.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use roomcast::wire_client::packet::{self, Packet};
use roomcast::wire_client::ws::Message;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::durability::{start_binary, start_binary_logged, whole_history};
use crate::helpers::*;

/// What one client saw: ids of `ok` acks, and how many acks were errors.
#[derive(Default, Debug)]
struct Seen {
    acked: Vec<i64>,
    refused: Vec<Value>,
    closed_by_server: bool,
}

/// Keeps up to 100 chats in flight to `room` over a connected raw WebSocket
/// until the server closes the connection, and records every ack.
async fn chatter(ws: crate::raw::RawWs, user: &str, room: &str) -> Seen {
    let (mut sink, mut stream) = ws.split();
    let join = format!(r#"420["join",{{"room":"{room}"}}]"#);
    sink.send(Message::text(join)).await.expect("join");
    let window = Arc::new(Semaphore::new(100));
    let (user, room, w) = (user.to_owned(), room.to_owned(), window.clone());
    let sender = tokio::spawn(async move {
        for i in 1.. {
            let Ok(permit) = w.acquire().await else {
                return;
            };
            permit.forget();
            let chat = format!(r#"42{i}["chat",{{"room":"{room}","message":"{user} {i}"}}]"#);
            if sink.send(Message::text(chat)).await.is_err() {
                return;
            }
        }
    });
    let mut seen = Seen::default();
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(WAIT, stream.next()).await {
        if frame.is_close() {
            seen.closed_by_server = true;
            continue;
        }
        let Ok(text) = frame.to_text() else { continue };
        match packet::decode(text) {
            Packet::Close => seen.closed_by_server = true,
            Packet::Ack(_, args) => {
                let ack = packet::ack_value(args).expect("ack json");
                match ack["id"].as_i64() {
                    Some(id) => seen.acked.push(id),
                    None if ack["ok"] == true => {} // the join ack
                    None => seen.refused.push(ack),
                }
                window.add_permits(1);
            }
            _ => {}
        }
    }
    sender.abort();
    seen
}

/// Waits for `server` (signalled) to exit with status 0 and no panic in
/// its `log`. Batches committed as the sockets close are still handed to
/// delivery: once, that panicked on the namespace socketioxide had taken
/// away.
async fn exits_cleanly(server: &mut tokio::process::Child, log: &std::path::Path) {
    let exit = tokio::time::timeout(WAIT * 2, server.wait())
        .await
        .expect("exits after SIGTERM")
        .expect("wait");
    assert_eq!(exit.code(), Some(0), "graceful exit status");
    let logged = std::fs::read_to_string(log).expect("server log");
    assert!(
        !logged.contains("panicked"),
        "the server panicked: {logged}"
    );
}

#[tokio::test]
async fn sigterm_while_chatting_exits_zero_and_loses_no_acked_chat() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("term.db");
    let log = dir.path().join("term.log");
    let (mut server, addr) = start_binary_logged(&db, Some(SECRET), &log).await;
    let addr: std::net::SocketAddr = addr.parse().expect("addr");
    // Every chatter is connected before any chat is counted: a client still
    // in its handshake when SIGTERM comes would be refused, which is right
    // but is not what this test checks.
    let mut clients = Vec::new();
    for u in ["ann", "bob", "cat"] {
        let ws = crate::raw::raw_connect(addr, u).await;
        clients.push(tokio::spawn(chatter(ws, u, "term")));
    }
    // SIGTERM once some chats are stored, while most are still in flight.
    let watcher = TestClient::connect(&format!("http://{addr}/"), Connect::token(token("w", None)))
        .await
        .expect("watcher");
    let mut watcher = watcher;
    watcher.join("term").await;
    for _ in 0..200 {
        watcher.next("chat").await;
    }
    sigterm(&server);

    exits_cleanly(&mut server, &log).await;

    let mut acked = Vec::new();
    for c in clients {
        let seen = c.await.expect("client task");
        assert!(seen.closed_by_server, "the server closed the connection");
        for r in &seen.refused {
            // Late events are answered, not dropped: `internal` while shutting down.
            assert_eq!(r["ok"], false);
            assert_eq!(r["error"], "internal", "{r}");
        }
        acked.extend(seen.acked);
    }
    assert!(acked.len() >= 200, "chats were acked before SIGTERM");

    let (_server, addr) = start_binary(&db, Some(SECRET)).await;
    let c = TestClient::connect(
        &format!("http://{addr}/"),
        Connect::token(token("ann", None)),
    )
    .await
    .expect("reconnect");
    let stored: Vec<i64> = whole_history(&c, "term")
        .await
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect();
    let missing: Vec<&i64> = acked.iter().filter(|id| !stored.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "acked but lost at shutdown: {missing:?}"
    );
}

/// The SIGTERM handler is in place before the address line is printed: a
/// supervisor that signals as soon as it reads the line gets a graceful exit
/// (status 0), never the default action. Five rounds, because the gap the
/// old order left was a race that lost about half the time.
#[tokio::test]
async fn sigterm_right_after_the_address_line_exits_zero() {
    let dir = tempfile::tempdir().expect("dir");
    for round in 0..5 {
        let db = dir.path().join(format!("early-{round}.db"));
        let (mut server, _addr) = start_binary(&db, Some(SECRET)).await;
        sigterm(&server);
        let status = tokio::time::timeout(WAIT, server.wait())
            .await
            .expect("exits after SIGTERM")
            .expect("reaped");
        assert!(status.success(), "round {round}: {status:?}");
    }
}

/// A message posted over HTTP as the server shuts down (its request still
/// open when the sockets are closed) is stored, answered 201, and handed
/// to delivery with no socket left: once, that panicked in socketioxide
/// (the closed server had no namespace to broadcast to).
#[tokio::test]
async fn a_message_posted_while_the_sockets_close_is_stored_without_a_panic() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("late.db");
    let log = dir.path().join("late.log");
    let (mut server, addr) = start_binary_logged(&db, Some(SECRET), &log).await;
    let addr: std::net::SocketAddr = addr.parse().expect("addr");
    let mut ws = crate::raw::raw_connect(addr, "ann").await;
    let join = packet::event(Some(1), "join", &[serde_json::json!({"room": "late"})]);
    let joined = roomcast::wire_client::ws::call(&mut ws, &join, 1, WAIT)
        .await
        .expect("join");
    assert_eq!(joined["ok"], true, "{joined}");

    // The request head and half the body, before SIGTERM.
    let body = br#"{"message":"posted as the server closes"}"#;
    let (first, rest) = body.split_at(10);
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    let head = format!(
        "POST /api/rooms/late/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        token("bob", None),
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.expect("head");
    tcp.write_all(first).await.expect("first half");
    sigterm(&server);
    // The barrier: the socket is closed once the server closed every socket.
    assert!(
        roomcast::wire_client::ws::closed_by_server(&mut ws, WAIT).await,
        "the server closed the socket"
    );
    tcp.write_all(rest).await.expect("the rest of the body");
    let mut answer = String::new();
    tokio::time::timeout(WAIT, tcp.read_to_string(&mut answer))
        .await
        .expect("answered")
        .expect("read");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    exits_cleanly(&mut server, &log).await;

    let (_server, addr) = start_binary(&db, Some(SECRET)).await;
    let c = TestClient::connect(
        &format!("http://{addr}/"),
        Connect::token(token("ann", None)),
    )
    .await
    .expect("reconnect");
    let stored = whole_history(&c, "late").await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["message"], "posted as the server closes");
}
