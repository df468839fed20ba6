//! What the official Socket.IO protocol test suite checks, as our own tests, on a server that requires a token at CONNECT.

// The suite's reference server accepts any CONNECT, has a `/custom`
// namespace and echoes `message` as `message-back`; roomcast refuses a
// CONNECT without identity, has only `/`, and has its own events, so the
// checks are made with a token and the `rooms` event where they apply.

use futures_util::StreamExt;
use roomcast::wire_client::packet;
use roomcast::wire_client::ws::{self, WsStream};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::conformance::{CONNECT_TIMEOUT, short_timers};
use crate::helpers::*;

/// A WebSocket that has read the Engine.IO open packet (no CONNECT yet).
async fn opened(app: &TestApp) -> WsStream {
    let mut ws = ws::open(ws::url(app.addr), app.addr, None)
        .await
        .expect("ws");
    let open = ws::next_text(&mut ws, WAIT).await.expect("open packet");
    assert!(open.starts_with("0{"), "{open}");
    ws
}

/// A WebSocket connected to `/` as `user`.
async fn connected(app: &TestApp, user: &str) -> WsStream {
    let mut ws = ws::open(ws::url(app.addr), app.addr, None)
        .await
        .expect("ws");
    let auth = json!({"token": token(user, None)});
    ws::handshake(&mut ws, Some(&auth), WAIT)
        .await
        .expect("CONNECT");
    ws
}

/// Sends `text` and returns the next text frame.
async fn answer(ws: &mut WsStream, text: &str) -> String {
    ws::send(ws, text).await.expect("send");
    ws::next_text(ws, WAIT).await.expect("an answer")
}

#[tokio::test]
async fn connect_to_the_main_namespace_with_a_token_answers_its_sid_only() {
    let app = short_timers().await;
    let mut ws = opened(&app).await;
    let auth = json!({"token": token("main", None)});
    let text = answer(&mut ws, &packet::connect(Some(&auth))).await;
    let json = text.strip_prefix("40").unwrap_or_else(|| panic!("{text}"));
    let v: Value = serde_json::from_str(json).expect("JSON");
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["sid"], "{text}");
    assert!(v["sid"].as_str().is_some_and(|s| !s.is_empty()), "{text}");
}

#[tokio::test]
async fn connect_without_a_usable_token_gets_connect_error() {
    let app = short_timers().await;
    for connect in [
        packet::connect(None),
        packet::connect_with_token(Some("x.y.z")),
    ] {
        let mut ws = opened(&app).await;
        let text = answer(&mut ws, &connect).await;
        let json = text
            .strip_prefix("44")
            .unwrap_or_else(|| panic!("{connect}: {text}"));
        let v: Value = serde_json::from_str(json).expect("JSON");
        assert!(v["message"].is_string(), "{connect}: {text}");
    }
}

#[tokio::test]
async fn an_unknown_namespace_gets_the_exact_invalid_namespace_answer() {
    let app = short_timers().await;
    let with_token = format!(r#"40/random,{{"token":"{}"}}"#, token("ns", None));
    for connect in ["40/random,".to_owned(), with_token] {
        let mut ws = opened(&app).await;
        let text = answer(&mut ws, &connect).await;
        assert_eq!(
            text, r#"44/random,{"message":"Invalid namespace"}"#,
            "{connect}"
        );
    }
}

#[tokio::test]
async fn a_malformed_connect_closes_the_connection() {
    let app = short_timers().await;
    let mut ws = opened(&app).await;
    ws::send(&mut ws, "4abc").await.expect("send");
    assert!(ws::closed_by_server(&mut ws, WAIT).await);
}

#[tokio::test]
async fn a_connect_that_never_comes_is_closed_after_the_connect_timeout() {
    let app = short_timers().await;
    let start = Instant::now();
    let mut ws = opened(&app).await;
    // Pings are answered meanwhile: only the missing CONNECT ends it.
    assert!(ws::closed_by_server(&mut ws, WAIT).await, "closed");
    assert!(start.elapsed() >= CONNECT_TIMEOUT, "{:?}", start.elapsed());
}

#[tokio::test]
async fn disconnect_from_the_main_namespace_leaves_the_engine_io_session_open() {
    // As the v5 suite has it: DISCONNECT leaves the namespace, not the
    // Engine.IO session, whose next frame is its next ping.
    let app = short_timers().await;
    let mut ws = connected(&app, "leaver").await;
    ws::send(&mut ws, packet::DISCONNECT)
        .await
        .expect("send 41");
    let frame = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a frame");
    let text = frame
        .expect("open")
        .expect("frame")
        .into_text()
        .expect("text");
    assert_eq!(text.as_str(), packet::PING);
}

#[tokio::test]
async fn an_event_with_an_ack_is_answered_with_that_ack_id() {
    let app = short_timers().await;
    let mut ws = connected(&app, "acked").await;
    let text = answer(&mut ws, r#"4213["rooms",{}]"#).await;
    let args = text
        .strip_prefix("4313")
        .unwrap_or_else(|| panic!("{text}"));
    let v: Value = serde_json::from_str(args).expect("ack arguments");
    assert_eq!(v[0]["ok"], true, "{text}");
}

#[tokio::test]
async fn a_packet_of_unknown_type_or_unreadable_event_closes_the_connection() {
    let app = short_timers().await;
    // An unknown packet type, an event whose data is no array, one whose
    // ack id is no number; none asks for an answer that could be given.
    for bad in ["49", r#"42{"not":"an array"}"#, r#"42abc["rooms",{}]"#] {
        let mut ws = connected(&app, "malformed").await;
        ws::send(&mut ws, bad).await.expect("send");
        assert!(ws::closed_by_server(&mut ws, WAIT).await, "{bad}");
    }
}
