//! Bursts and races no client library produces, through the raw client
//! (`roomcast::wire_client`): the CONNECT race (an event sent the instant
//! CONNECT is answered must find its handler), bursts of events written back
//! to back, a reader that stalls, floods, and raw long-polling batches.

use futures_util::{SinkExt, StreamExt};
use roomcast::wire_client::ws::{self, Message};
use roomcast::wire_client::{packet, polling};

use crate::helpers::*;

/// Connects, sends `join` as soon as CONNECT is answered; true if the join is acked.
async fn join_at_once(addr: std::net::SocketAddr, user: String) -> bool {
    let Ok(mut ws) = ws::open(ws::url(addr), addr, None).await else {
        return false;
    };
    let auth = serde_json::json!({"token": token(&user, None)});
    // `handshake` returns the moment the CONNECT answer is read, and the
    // join goes out before anything else is.
    if ws::handshake(&mut ws, Some(&auth), WAIT).await.is_err() {
        return false;
    }
    let join = r#"421["join",{"room":"race"}]"#;
    match ws::call(&mut ws, join, 1, WAIT).await {
        Ok(ack) => ack["ok"] == true,
        Err(_) => false,
    }
}

#[tokio::test]
async fn a_join_sent_the_instant_connect_is_answered_is_never_lost() {
    let app = spawn_app().await;
    let mut lost = 0;
    for round in 0..4 {
        let tasks: Vec<_> = (0..250)
            .map(|i| tokio::spawn(join_at_once(app.addr, format!("r{round}u{i}"))))
            .collect();
        for t in tasks {
            if !t.await.expect("task") {
                lost += 1;
            }
        }
    }
    assert_eq!(
        lost, 0,
        "joins lost out of 1000 (each sent the instant CONNECT was answered)"
    );
}

/// A raw WebSocket connection.
pub(crate) type RawWs = ws::WsStream;

/// A raw WebSocket Socket.IO connection, authenticated, for bursts no client
/// library sends: many packets written back to back before any answer.
pub(crate) async fn raw_connect(addr: std::net::SocketAddr, user: &str) -> RawWs {
    let mut ws = ws::open(ws::url(addr), addr, None)
        .await
        .expect("ws connect");
    let auth = serde_json::json!({"token": token(user, None)});
    ws::handshake(&mut ws, Some(&auth), WAIT)
        .await
        .unwrap_or_else(|e| panic!("CONNECT as {user}: {e}"));
    ws
}

/// The next `n` chats carry messages "1" to "n", in that order, with increasing ids.
async fn expect_chats_in_order(reader: &mut TestClient, n: usize) {
    let mut last_id = 0;
    for i in 1..=n {
        let m = reader.next("chat").await;
        assert_eq!(m["message"], i.to_string(), "delivery follows send order");
        let id = m["id"].as_i64().expect("id");
        assert!(id > last_id, "ids increase in delivery order");
        last_id = id;
    }
}

#[tokio::test]
async fn a_burst_of_events_is_handled_in_the_order_sent() {
    let app = spawn_app().await;
    let mut reader = app.client("reader").await;
    // Reordering is a matter of scheduling, so give it several chances.
    for round in 0..6 {
        let room = format!("burst{round}");
        reader.join(&room).await;
        let mut ws = raw_connect(app.addr, &format!("writer{round}")).await;
        // join and 300 chats in one burst: none waits for an ack, and the
        // chats only succeed if the join was handled first.
        let join = format!(r#"420["join",{{"room":"{room}"}}]"#);
        ws.feed(Message::text(join)).await.expect("feed");
        for i in 1..=300 {
            let chat = format!(r#"42{i}["chat",{{"room":"{room}","message":"{i}"}}]"#);
            ws.feed(Message::text(chat)).await.expect("feed");
        }
        ws.flush().await.expect("flush");
        expect_chats_in_order(&mut reader, 300).await;
        let mut acked = 0;
        while acked < 300 {
            let text = ws::next_text(&mut ws, WAIT).await.expect("frame");
            if let packet::Packet::Ack(id, args) = packet::decode(&text)
                && id != 0
            {
                assert!(packet::ack_ok(args), "{text}");
                acked += 1;
            }
        }
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_without_a_gap() {
    let app = spawn_app_with(|s| s.socket_buffer = 512).await;
    let mut reader = app.client("reader").await;
    reader.join("busy").await;
    let mut stalled = raw_connect(app.addr, "stalled").await;
    stalled
        .send(Message::text(r#"421["join",{"room":"busy"}]"#))
        .await
        .expect("join");
    // From here on nobody reads `stalled` until the end.
    let sender = app.client("sender").await;
    sender
        .ack("join", serde_json::json!({"room": "busy"}))
        .await;
    let text = "x".repeat(3900);
    // Enough to fill the stalled socket's TCP buffers and then its 512
    // packets; paced by an ack every 50 so the readers that do read keep up.
    const N: usize = 5000;
    for i in 0..N {
        let chat = serde_json::json!({"room": "busy", "message": format!("{i} {text}")});
        if i % 50 == 49 {
            sender.ack("chat", chat).await;
        } else {
            sender.emit("chat", chat).await;
        }
    }
    // The well-behaved reader gets every message, in order.
    let mut first_id = None;
    for i in 0..N {
        let m = reader.next("chat").await;
        let body = m["message"].as_str().expect("text");
        assert!(body.starts_with(&format!("{i} ")), "message {i} in order");
        first_id.get_or_insert(m["id"].as_i64().expect("id"));
    }
    let left = reader.next("leave").await;
    assert_eq!(left["user"]["id"], "stalled");
    assert_eq!(left["reason"], "disconnect");
    let metrics = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .expect("metrics");
    assert!(
        metrics.contains("\nroomcast_slow_client_evictions_total 1\n"),
        "the eviction is counted"
    );
    // The stalled client got a gap-free prefix, then was disconnected.
    let first_id = first_id.expect("some message");
    let mut got = 0;
    let mut disconnected = false;
    while let Ok(Some(frame)) = tokio::time::timeout(WAIT, stalled.next()).await {
        let Ok(Message::Text(t)) = frame else {
            disconnected = true;
            break;
        };
        if let Some(event) = t.strip_prefix("42") {
            let v: serde_json::Value = serde_json::from_str(event).expect("event");
            if v[0] == "chat" {
                assert_eq!(v[1]["id"].as_i64(), Some(first_id + got), "no gap");
                got += 1;
            }
        } else if t.as_str() == "41" || t.as_str() == "1" {
            disconnected = true;
            break;
        }
    }
    assert!(disconnected, "the slow client was disconnected");
    assert!((got as usize) < N, "the slow client did not get everything");
}

#[tokio::test]
async fn a_flood_of_events_is_answered_rate_limited_and_the_socket_survives() {
    let app = spawn_app().await;
    let mut ws = raw_connect(app.addr, "flooder").await;
    // Far more events than one socket may have waiting (1024), all at once.
    const N: u32 = 4000;
    for i in 1..=N {
        ws.feed(Message::text(format!(r#"42{i}["rooms",{{}}]"#)))
            .await
            .expect("feed");
    }
    ws.flush().await.expect("flush");
    let (mut ok, mut limited) = (0, 0);
    while ok + limited < N {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("every event is answered")
            .expect("open")
            .expect("frame");
        let text = frame.to_text().expect("text");
        if text == packet::PING {
            ws::send(&mut ws, packet::PONG).await.expect("pong");
        } else if text.contains(r#""error":"rate_limited""#) {
            limited += 1;
        } else if text.contains(r#""ok":true"#) {
            ok += 1;
        }
    }
    assert!(limited > 0, "some events were refused");
    assert!(ok >= 1024, "the queue's worth was served");
    // Still connected and served.
    let ack = ws::call(&mut ws, r#"429999["rooms",{}]"#, 9999, WAIT).await;
    assert_eq!(ack.expect("still served")["ok"], true);
}

/// A raw long-polling session: sid after handshake and CONNECT.
async fn polling_connect(app: &TestApp, user: &str) -> String {
    let url = polling_handshake(app).await;
    let auth = packet::connect_with_token(Some(&token(user, None)));
    let r = app.http.post(&url).body(auth).send().await.expect("post");
    assert!(r.status().is_success());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        assert!(tokio::time::Instant::now() < deadline, "no CONNECT answer");
        let body = app.http.get(&url).send().await.expect("poll");
        let body = body.text().await.expect("body");
        for p in polling::packets(&body) {
            match packet::decode(p) {
                packet::Packet::Connected(_) => return url,
                packet::Packet::Ping => {
                    let pong = app.http.post(&url).body(packet::PONG).send();
                    pong.await.expect("pong");
                }
                _ => {}
            }
        }
    }
}

#[tokio::test]
async fn a_polling_batch_of_events_is_handled_in_the_order_sent() {
    let app = spawn_app().await;
    let mut reader = app.client("reader").await;
    for round in 0..3 {
        let room = format!("batch{round}");
        reader.join(&room).await;
        let url = polling_connect(&app, &format!("poller{round}")).await;
        // One HTTP body carrying a join and 300 chats: the server decodes
        // them in one go, so only its own ordering keeps them in sequence.
        let mut packets = vec![format!(r#"420["join",{{"room":"{room}"}}]"#)];
        for i in 1..=300 {
            packets.push(format!(
                r#"42{i}["chat",{{"room":"{room}","message":"{i}"}}]"#
            ));
        }
        let r = app
            .http
            .post(&url)
            .body(polling::payload(&packets))
            .send()
            .await
            .expect("post batch");
        assert!(r.status().is_success());
        expect_chats_in_order(&mut reader, 300).await;
    }
}

/// A new Engine.IO polling session's sid (handshake only, no CONNECT).
async fn polling_handshake(app: &TestApp) -> String {
    let base = format!("http://{}", app.addr);
    let open = app
        .http
        .get(polling::url(&base))
        .send()
        .await
        .expect("handshake");
    let open = open.text().await.expect("body");
    let sid = polling::sid(&open).unwrap_or_else(|| panic!("open packet: {open:?}"));
    polling::session_url(&base, &sid)
}
