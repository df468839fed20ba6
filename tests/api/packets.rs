//! Malformed Socket.IO packets (docs/protocol.md §4): an event with an ack
//! id that can be read is answered `invalid_payload` and the socket stays;
//! a packet nothing can answer closes the connection, as the reference
//! server does; an ack id beyond an i64 never stores anything.

use roomcast::wire_client::ws;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::raw::{RawWs, raw_connect};

/// Sends `packet` (malformed or not) and returns ack `id`'s first argument.
async fn ack_of(ws: &mut RawWs, packet: &str, id: u64) -> Value {
    ws::call(ws, packet, id, WAIT)
        .await
        .unwrap_or_else(|e| panic!("no ack for {packet}: {e}"))
}

/// True once the server closes `ws`, within `WAIT`.
async fn closed_by_server(ws: &mut RawWs) -> bool {
    ws::closed_by_server(ws, WAIT).await
}

/// Sends one frame as it is.
async fn send(ws: &mut RawWs, packet: &str) {
    ws::send(ws, packet).await.expect("send");
}

#[tokio::test]
async fn malformed_events_with_an_ack_id_are_answered_and_the_socket_stays() {
    let app = spawn_app().await;
    let mut ws = raw_connect(app.addr, "sloppy").await;
    let cases = [
        (1, "421[]"),
        (12, "4212[5]"),
        (13, r#"4213["chat",{bad json"#),
        (14, r#"4214{"event":"chat"}"#),
        (15, r#"4215[1,{"room":"x"}]"#),
        (16, r#"4216[null]"#),
    ];
    for (id, packet) in cases {
        let ack = ack_of(&mut ws, packet, id).await;
        assert_eq!(ack["ok"], false, "{packet}: {ack}");
        assert_eq!(ack["error"], "invalid_payload", "{packet}: {ack}");
        assert!(ack["message"].is_string(), "{packet}: {ack}");
    }
    // Barrier: the same socket is still served.
    let ack = ack_of(&mut ws, r#"4299["rooms",{}]"#, 99).await;
    assert_eq!(ack["ok"], true, "{ack}");
}

#[tokio::test]
async fn packets_nothing_can_answer_close_the_connection() {
    let app = spawn_app().await;
    let mut watcher = app.client("watcher").await;
    watcher.join("lobby").await;
    assert_eq!(watcher.next("join").await["user"]["id"], "watcher");
    let cases = [
        "42[]",
        r#"42["chat",{bad json"#,
        r#"42[1,{"room":"lobby"}]"#,
        r#"42{"event":"chat"}"#,
        "9",
        "4x",
        r#"45["chat",{}]"#,
        r#"46["chat"]"#,
        r#"43["late"]"#,
    ];
    for (i, packet) in cases.into_iter().enumerate() {
        let user = format!("bad{i}");
        let mut ws = raw_connect(app.addr, &user).await;
        let join = r#"420["join",{"room":"lobby"}]"#;
        assert_eq!(ack_of(&mut ws, join, 0).await["ok"], true);
        assert_eq!(watcher.next("join").await["user"]["id"], user.as_str());
        send(&mut ws, packet).await;
        assert!(
            closed_by_server(&mut ws).await,
            "{packet} closes the connection"
        );
        let left = watcher.next("leave").await;
        assert_eq!(left["user"]["id"], user.as_str(), "{packet}");
    }
}

#[tokio::test]
async fn a_client_disconnect_packet_is_a_normal_disconnect() {
    let app = spawn_app().await;
    let mut watcher = app.client("watcher").await;
    watcher.join("lobby").await;
    let mut ws = raw_connect(app.addr, "polite").await;
    assert_eq!(
        ack_of(&mut ws, r#"420["join",{"room":"lobby"}]"#, 0).await["ok"],
        true
    );
    send(&mut ws, "41").await;
    let left = watcher.next("leave").await;
    assert_eq!(left["user"]["id"], "polite");
    assert_eq!(left["reason"], "disconnect");
}

#[tokio::test]
async fn a_chat_whose_ack_id_does_not_fit_an_i64_is_never_stored() {
    let app = spawn_app().await;
    let mut reader = app.client("reader").await;
    reader.join("ids").await;
    for (i, id) in [
        "18446744073709551616",
        "9223372036854775808",
        "18446744073709551615",
    ]
    .into_iter()
    .enumerate()
    {
        let mut ws = raw_connect(app.addr, &format!("big{i}")).await;
        assert_eq!(
            ack_of(&mut ws, r#"420["join",{"room":"ids"}]"#, 0).await["ok"],
            true
        );
        let chat = format!(r#"42{id}["chat",{{"room":"ids","message":"ghost {i}"}}]"#);
        send(&mut ws, &chat).await;
        assert!(
            closed_by_server(&mut ws).await,
            "ack id {id} closes the connection"
        );
    }
    // Barrier: a chat acked after the three, then the history.
    let writer = app.client("writer").await;
    writer.ack("join", json!({"room": "ids"})).await;
    writer.chat("ids", "barrier").await;
    let history = writer.ack("history", json!({"room": "ids"})).await;
    let messages: Vec<_> = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["message"].clone())
        .collect();
    assert_eq!(
        messages,
        vec![json!("barrier")],
        "only the barrier is stored"
    );
    assert_eq!(reader.next("chat").await["message"], "barrier");
}
