//! The official Engine.IO suite's heartbeat and closing checks, as our own tests: pings, their timeout, `1`, invalid packets, duplicate polls.

use std::time::Duration;

use futures_util::StreamExt;
use roomcast::wire_client::packet;
use roomcast::wire_client::ws::{self, Message};
use serde_json::json;
use tokio::time::Instant;

use crate::conformance::{
    PING_INTERVAL, PING_TIMEOUT, connected_polling, poll, polling_session, post, short_timers,
};
use crate::helpers::*;

#[tokio::test]
async fn polling_pings_come_every_interval_and_pongs_keep_the_session() {
    let app = short_timers().await;
    let start = Instant::now();
    let url = connected_polling(&app, "pinged").await;
    for round in 0..3 {
        let (status, body) = poll(&app, &url).await;
        assert_eq!(
            (status, body.as_str()),
            (200, packet::PING),
            "round {round}"
        );
        // The first ping one interval after the handshake, as Node sends it.
        assert!(
            start.elapsed() >= PING_INTERVAL * (round + 1),
            "round {round}"
        );
        assert_eq!(
            post(&app, &url, packet::PONG).await,
            Some((200, "ok".into()))
        );
    }
    // Three intervals are longer than interval + timeout: the pongs counted.
    let rooms = packet::event(Some(7), "rooms", &[json!({})]);
    assert_eq!(post(&app, &url, &rooms).await, Some((200, "ok".into())));
    let (_, body) = poll(&app, &url).await;
    assert!(body.starts_with("437["), "the session still serves: {body}");
}

#[tokio::test]
async fn a_polling_session_that_does_not_answer_a_ping_is_closed() {
    let app = short_timers().await;
    let start = Instant::now();
    let url = connected_polling(&app, "silent").await;
    assert_eq!(poll(&app, &url).await, (200, packet::PING.into()));
    // No pong: this poll is held until the session closes (the barrier).
    let (status, body) = poll(&app, &url).await;
    assert_eq!(
        (status, body.as_str()),
        (200, packet::CLOSE),
        "closed by the server"
    );
    assert!(start.elapsed() >= PING_INTERVAL + PING_TIMEOUT);
    assert_eq!(poll(&app, &url).await.0, 400, "the session is gone");
}

#[tokio::test]
async fn websocket_pings_come_every_interval_and_a_silent_client_is_closed() {
    let app = short_timers().await;
    let start = Instant::now();
    let mut ws = ws::open(ws::url(app.addr), app.addr, None)
        .await
        .expect("ws");
    let auth = json!({"token": token("ws-pinged", None)});
    ws::handshake(&mut ws, Some(&auth), WAIT)
        .await
        .expect("CONNECT");
    for round in 0..3 {
        let frame = tokio::time::timeout(WAIT, ws.next()).await.expect("a ping");
        let text = frame
            .expect("open")
            .expect("frame")
            .into_text()
            .expect("text");
        assert_eq!(text.as_str(), packet::PING, "round {round}");
        assert!(
            start.elapsed() >= PING_INTERVAL * (round + 1),
            "round {round}"
        );
        ws::send(&mut ws, packet::PONG).await.expect("pong");
    }
    let rooms = packet::event(Some(7), "rooms", &[json!({})]);
    let ack = ws::call(&mut ws, &rooms, 7, WAIT)
        .await
        .expect("still served");
    assert_eq!(ack["ok"], true);

    // Now a client that reads but never answers.
    let start = Instant::now();
    let mut silent = ws::open(ws::url(app.addr), app.addr, None)
        .await
        .expect("ws");
    let auth = json!({"token": token("ws-silent", None)});
    ws::handshake(&mut silent, Some(&auth), WAIT)
        .await
        .expect("CONNECT");
    let mut pings = 0;
    let closed = loop {
        match tokio::time::timeout(WAIT, silent.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Text(t))) if t.as_str() == packet::PING => pings += 1,
            Some(Ok(Message::Text(t))) if t.as_str() == packet::CLOSE => break true,
            None | Some(Err(_) | Ok(Message::Close(_))) => break true,
            Some(Ok(_)) => {}
        }
    };
    assert!(
        closed && pings == 1,
        "one ping, then closed ({pings} pings)"
    );
    assert!(start.elapsed() >= PING_INTERVAL + PING_TIMEOUT);
}

#[tokio::test]
async fn a_close_packet_ends_the_session_on_both_transports() {
    // Default ping interval: no ping may answer the waiting poll first.
    let app = spawn_app().await;
    let url = polling_session(&app).await;
    let waiting = tokio::spawn({
        let (http, url) = (app.http.clone(), url.clone());
        async move { http.get(&url).send().await.expect("poll").text().await }
    });
    // Ordering, not a check: the poll reaches the server before the close.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        post(&app, &url, packet::CLOSE).await,
        Some((200, "ok".into()))
    );
    let body = waiting.await.expect("task").expect("body");
    assert_eq!(body, "6", "the waiting poll ends with a noop");
    assert_eq!(poll(&app, &url).await.0, 400, "the session is gone");

    let mut ws = ws::open(ws::url(app.addr), app.addr, None)
        .await
        .expect("ws");
    ws::next_text(&mut ws, WAIT).await.expect("open packet");
    ws::send(&mut ws, packet::CLOSE).await.expect("send 1");
    assert!(ws::closed_by_server(&mut ws, WAIT).await);
}

#[tokio::test]
async fn an_invalid_packet_closes_the_session_on_both_transports() {
    let app = short_timers().await;
    let url = polling_session(&app).await;
    // 400, or the connection closed unanswered: either way the session ends.
    if let Some((status, body)) = post(&app, &url, "abc").await {
        assert_eq!(status, 400, "{body}");
    }
    assert_eq!(poll(&app, &url).await.0, 400, "the session is gone");

    let mut ws = ws::open(ws::url(app.addr), app.addr, None)
        .await
        .expect("ws");
    ws::next_text(&mut ws, WAIT).await.expect("open packet");
    ws::send(&mut ws, "abc").await.expect("send");
    assert!(ws::closed_by_server(&mut ws, WAIT).await);
}

/// Two polls at once: one gets 400, the other the close packet, and the
/// session is gone (the engine.io test suite's "should close the session
/// upon duplicate poll requests").
async fn duplicate_polls_close_the_session(app: &TestApp, url: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Raw connections: a client library may queue the second request
    // behind the first.
    let path = url.trim_start_matches(&format!("http://{}", app.addr));
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut first = tokio::net::TcpStream::connect(app.addr).await.expect("tcp");
    first
        .write_all(request.as_bytes())
        .await
        .expect("first poll");
    // Ordering, not a check: the first poll reaches the server and waits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut second = tokio::net::TcpStream::connect(app.addr).await.expect("tcp");
    second
        .write_all(request.as_bytes())
        .await
        .expect("second poll");
    let read = |mut tcp: tokio::net::TcpStream| async move {
        let mut text = String::new();
        tokio::time::timeout(WAIT, tcp.read_to_string(&mut text))
            .await
            .expect("answered")
            .expect("read");
        text
    };
    let (first, second) = tokio::join!(read(first), read(second));
    assert!(
        second.starts_with("HTTP/1.1 400"),
        "a duplicate poll is an error: {second}\nfirst: {first}"
    );
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert!(
        first.ends_with("\r\n\r\n1"),
        "the first poll gets the close packet: {first}"
    );
    let after = app.http.get(url).send().await.expect("third poll");
    assert_eq!(after.status(), 400, "the session is gone");
}

#[tokio::test]
async fn two_concurrent_long_polls_on_a_new_session_close_it() {
    // A short CONNECT deadline: without the fix the second poll waits for it.
    let app = spawn_app_with(|s| s.timeouts.connect = Duration::from_secs(2)).await;
    let url = polling_session(&app).await;
    duplicate_polls_close_the_session(&app, &url).await;
}

#[tokio::test]
async fn two_concurrent_long_polls_on_a_connected_session_close_it() {
    let app = spawn_app().await;
    let url = connected_polling(&app, "twice").await;
    duplicate_polls_close_the_session(&app, &url).await;
}
