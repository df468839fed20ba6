//! The CONNECT race: an event sent the instant CONNECT is answered must find
//! its handler. A minimal raw Socket.IO client over WebSocket sends `join` in
//! the same breath as it reads the CONNECT answer, from many sockets at once.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;

/// Connects, sends `join` as soon as CONNECT is answered; true if the join is acked.
async fn join_at_once(addr: std::net::SocketAddr, user: String) -> bool {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let Ok((mut ws, _)) = connect_async(url).await else {
        return false;
    };
    let auth = format!(r#"40{{"token":"{}"}}"#, token(&user, None));
    let mut sent_auth = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await {
        let Message::Text(text) = msg else { continue };
        let text = text.as_str();
        if text.starts_with('0') && !sent_auth {
            sent_auth = true;
            if ws.send(Message::text(auth.clone())).await.is_err() {
                return false;
            }
        } else if text.starts_with("40") {
            let join = r#"421["join",{"room":"race"}]"#;
            if ws.send(Message::text(join)).await.is_err() {
                return false;
            }
        } else if text.starts_with("431[") {
            return text.contains(r#""ok":true"#);
        } else if text == "2" {
            let _ = ws.send(Message::text("3")).await;
        }
    }
    false
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

/// A raw WebSocket Socket.IO connection, authenticated, for bursts no client
/// library sends: many packets written back to back before any answer.
async fn raw_connect(
    addr: std::net::SocketAddr,
    user: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = connect_async(url).await.expect("ws connect");
    let open = ws.next().await.expect("open").expect("open frame");
    assert!(open.to_text().expect("text").starts_with('0'));
    let auth = format!(r#"40{{"token":"{}"}}"#, token(user, None));
    ws.send(Message::text(auth)).await.expect("send CONNECT");
    loop {
        let frame = ws.next().await.expect("answer").expect("frame");
        match frame.to_text().expect("text") {
            "2" => ws.send(Message::text("3")).await.expect("pong"),
            t if t.starts_with("40") => return ws,
            other => panic!("unexpected answer to CONNECT: {other}"),
        }
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
        let mut last_id = 0;
        for i in 1..=300 {
            let m = reader.next("chat").await;
            assert_eq!(m["message"], i.to_string(), "delivery follows send order");
            let id = m["id"].as_i64().expect("id");
            assert!(id > last_id, "ids increase in delivery order");
            last_id = id;
        }
        let mut acked = 0;
        while acked < 300 {
            let frame = ws.next().await.expect("frame").expect("frame");
            let text = frame.to_text().expect("text");
            if text.starts_with("43") && !text.starts_with("430[") {
                assert!(text.contains(r#""ok":true"#), "{text}");
                acked += 1;
            } else if text == "2" {
                ws.send(Message::text("3")).await.expect("pong");
            }
        }
    }
}
