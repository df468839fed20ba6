//! Connection abuse (docs/protocol.md §5d): idle and slow TCP connections,
//! WebSocket handshakes that never CONNECT, polling sessions that stop
//! polling, huge headers and huge bodies are each closed by a deadline or
//! refused at a limit, while a well-behaved pair keeps chatting.

use std::time::Duration;

use futures_util::StreamExt;
use roomcast::config::Timeouts;
use roomcast::wire_client::{packet, polling, ws};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Deadlines short enough for a test, in the proportions of the defaults.
async fn spawn_strict_app() -> TestApp {
    spawn_app_with(|s| {
        s.timeouts = Timeouts {
            http_head: Duration::from_millis(800),
            connect: Duration::from_millis(800),
            ping_interval: Duration::from_millis(400),
            ping_timeout: Duration::from_millis(400),
            ..Timeouts::default()
        }
    })
    .await
}

/// Two clients in `room`; `Pair::round` proves every chat still arrives.
struct Pair {
    ann: TestClient,
    bob: TestClient,
    sent: usize,
}

impl Pair {
    async fn new(app: &TestApp) -> Self {
        let mut ann = app.client("ann").await;
        let mut bob = app.client("bob").await;
        ann.join("calm").await;
        bob.join("calm").await;
        Self { ann, bob, sent: 0 }
    }

    /// Sends `n` chats and checks bob receives each, in order.
    async fn round(&mut self, n: usize) {
        for _ in 0..n {
            self.sent += 1;
            let text = format!("calm {}", self.sent);
            self.ann.chat("calm", &text).await;
            assert_eq!(self.bob.next("chat").await["message"], text.as_str());
        }
    }
}

/// Reads until the server closes `tcp`; panics if it stays open past `WAIT`.
async fn closed_by_server(mut tcp: TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(WAIT, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return seen,
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => panic!("connection still open after {WAIT:?}"),
        }
    }
}

#[tokio::test]
async fn idle_and_slow_tcp_connections_are_closed_after_the_head_deadline() {
    let app = spawn_strict_app().await;
    let mut pair = Pair::new(&app).await;
    let mut held = Vec::new();
    for i in 0..300 {
        let mut tcp = TcpStream::connect(app.addr).await.expect("tcp");
        match i % 3 {
            // Half-open: connects and says nothing.
            0 => {}
            // Slowloris: a request head that never ends.
            1 => tcp
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .expect("write"),
            // One request, then an idle keep-alive connection.
            _ => tcp
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write"),
        }
        held.push(tcp);
    }
    pair.round(30).await;
    let closing: Vec<_> = held
        .into_iter()
        .map(|t| tokio::spawn(closed_by_server(t)))
        .collect();
    for (i, task) in closing.into_iter().enumerate() {
        let seen = task.await.expect("task");
        if i % 3 == 2 {
            assert!(seen.starts_with(b"HTTP/1.1 200"), "the request was served");
        }
    }
    pair.round(30).await;
}

#[tokio::test]
async fn websocket_handshakes_that_never_connect_are_closed_after_the_connect_timeout() {
    let app = spawn_strict_app().await;
    let mut pair = Pair::new(&app).await;
    let mut lurkers = Vec::new();
    for _ in 0..100 {
        let ws = ws::open(ws::url(app.addr), app.addr, None).await;
        lurkers.push(ws.expect("ws"));
    }
    // Each answers pings, so only the missing CONNECT can end it.
    let tasks: Vec<_> = lurkers
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let deadline = tokio::time::Instant::now() + WAIT;
                loop {
                    match tokio::time::timeout_at(deadline, ws.next()).await {
                        Err(_) => return false,
                        Ok(None | Some(Err(_))) => return true,
                        Ok(Some(Ok(m))) if m.is_close() => return true,
                        Ok(Some(Ok(m))) => {
                            if m.to_text().is_ok_and(|t| t == packet::PING) {
                                let _ = ws::send(&mut ws, packet::PONG).await;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    pair.round(30).await;
    for t in tasks {
        assert!(
            t.await.expect("task"),
            "a handshake without CONNECT stayed open"
        );
    }
    pair.round(30).await;
}

/// Opens an Engine.IO polling session; returns its sid.
async fn polling_session(app: &TestApp) -> String {
    let body = app
        .http
        .get(polling::url(&app.url("")))
        .send()
        .await
        .expect("handshake")
        .text()
        .await
        .expect("handshake");
    polling::sid(&body).unwrap_or_else(|| panic!("open packet: {body:?}"))
}

async fn post_packet(app: &TestApp, sid: &str, packet: String) {
    let url = polling::session_url(&app.url(""), sid);
    let r = app.http.post(url).body(packet).send().await.expect("post");
    assert_eq!(r.status(), 200);
}

/// Polls `sid`, answering pings, until a packet starting with `prefix`
/// arrives; returns it.
async fn poll_until(app: &TestApp, sid: &str, prefix: &str) -> String {
    let url = polling::session_url(&app.url(""), sid);
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        let r = app.http.get(&url).send().await.expect("poll");
        let status = r.status();
        if !status.is_success() {
            let why = r.text().await.unwrap_or_default();
            panic!("session {sid} closed before {prefix}: {status} {why}");
        }
        let body = r.text().await.expect("body");
        let packets: Vec<&str> = polling::packets(&body).collect();
        if let Some(p) = packets.iter().find(|p| p.starts_with(prefix)) {
            return (*p).to_owned();
        }
        if packets.contains(&packet::PING) {
            post_packet(app, sid, packet::PONG.into()).await;
        }
    }
    panic!("no {prefix} packet for {sid} within {WAIT:?}");
}

/// Polls `sid` (never answering a ping) until the server forgets it.
async fn until_forgotten(app: &TestApp, sid: &str) {
    let url = polling::session_url(&app.url(""), sid);
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        match app.http.get(&url).send().await {
            Ok(r) if r.status().is_success() => continue,
            _ => return,
        }
    }
    panic!("polling session {sid} still open after {WAIT:?}");
}

#[tokio::test]
async fn polling_sessions_that_stop_polling_are_closed_and_leave_their_rooms() {
    let app = spawn_strict_app().await;
    let mut pair = Pair::new(&app).await;
    let mut silent = Vec::new();
    for _ in 0..100 {
        silent.push(polling_session(&app).await);
    }
    // These CONNECT and join (answering pings until the join is acked, so
    // the server's heartbeat cannot close them before they are in the room),
    // then never poll again.
    for i in 0..10 {
        let sid = polling_session(&app).await;
        let auth = json!({"token": token(&format!("ghost{i}"), None)});
        // Like a real client, wait for the CONNECT answer before any event:
        // an event for a namespace not yet connected ends the session.
        post_packet(&app, &sid, format!("40{auth}")).await;
        poll_until(&app, &sid, "40{").await;
        post_packet(&app, &sid, r#"420["join",{"room":"calm"}]"#.into()).await;
        let ack = poll_until(&app, &sid, "430").await;
        assert!(ack.contains(r#""ok":true"#), "join refused: {ack}");
    }
    pair.round(30).await;
    let mut left = std::collections::BTreeSet::new();
    while left.len() < 10 {
        let event = pair.bob.next("leave").await;
        assert_eq!(event["reason"], "disconnect");
        left.insert(event["user"]["id"].as_str().expect("id").to_owned());
    }
    for sid in &silent {
        until_forgotten(&app, sid).await;
    }
    pair.round(30).await;
    let metrics = app.get("/metrics", None).await.text().await.expect("text");
    assert!(
        metrics.contains("\nroomcast_connected_sockets 2\n"),
        "only the pair is left"
    );
}

#[tokio::test]
async fn huge_or_too_many_headers_get_431_and_the_server_keeps_serving() {
    let app = spawn_strict_app().await;
    let mut pair = Pair::new(&app).await;
    let big = "x".repeat(100 * 1024);
    for _ in 0..20 {
        let r = app
            .http
            .get(app.url("/healthz"))
            .header("x-big", &big)
            .send();
        let status = r.await.map(|r| r.status().as_u16()).unwrap_or(0);
        assert!(status == 431 || status == 0, "huge header: {status}");
        let mut req = app.http.get(app.url("/healthz"));
        for i in 0..200 {
            req = req.header(format!("x-h{i}"), "v");
        }
        let status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
        assert!(status == 431 || status == 0, "many headers: {status}");
    }
    pair.round(30).await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status(), 200);
}

/// Sends a request head announcing `declared` bytes and 2 MiB of them (over
/// every limit: the API's 64 KiB and the engine's 1 MiB guard); returns the
/// status line the server answers with, long before the rest is sent.
async fn status_before_the_body(app: &TestApp, path: &str, declared: u64) -> String {
    let mut tcp = TcpStream::connect(app.addr).await.expect("tcp");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n",
        token("ann", None)
    );
    tcp.write_all(head.as_bytes()).await.expect("head");
    let (mut rx, mut tx) = tcp.into_split();
    // The server stops reading at its limit, so this write may block until
    // the connection closes; errors are fine too.
    let writer = tokio::spawn(async move {
        let _ = tx.write_all(&vec![b' '; 2 << 20]).await;
        tx
    });
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(WAIT, rx.read(&mut buf))
        .await
        .expect("answered before the body was sent")
        .expect("read");
    writer.abort();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn huge_bodies_are_refused_without_being_read() {
    let app = spawn_strict_app().await;
    let mut pair = Pair::new(&app).await;
    let gigabyte = 1 << 30;
    let line = status_before_the_body(&app, "/api/rooms/calm/messages", gigabyte).await;
    assert!(line.starts_with("HTTP/1.1 413"), "API post: {line}");
    let sid = polling_session(&app).await;
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let line = status_before_the_body(&app, &path, gigabyte).await;
    assert!(line.starts_with("HTTP/1.1 4"), "engine post: {line}");
    // A chunked body with no declared length is cut at the limit too.
    let chunks =
        futures_util::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024])));
    let r = app
        .http
        .post(app.url("/api/rooms/calm/messages"))
        .bearer_auth(token("ann", None))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    let status = r.map(|r| r.status().as_u16()).unwrap_or(0);
    assert!(status == 413 || status == 0, "chunked: {status}");
    pair.round(30).await;
    assert_eq!(
        crate::durability::whole_history(&pair.bob, "calm")
            .await
            .len(),
        pair.sent,
        "nothing but the pair's chats was stored"
    );
}
