//! Custom room events (docs/protocol.md §4 `signal`, §6 `POST
//! /api/rooms/{room}/events`): to the room's other sockets at once, on every
//! node, never stored; bad ones reach nobody.

use serde_json::{Value, json};

use crate::cluster_support::Cluster;
use crate::helpers::*;
use crate::on_both_backends;

fn is_kind(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v: &Value| v["type"] == kind
}

async fn signal_reaches_the_others_in_the_room_only(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    let mut eve = app.client("eve").await;
    ann.join("r").await;
    bob.join("r").await;
    eve.join("x").await;
    ann.join("x").await;
    let data = json!({"x": 3, "y": [1.5, null], "who": "ünï"});
    let ack = ann
        .ack(
            "signal",
            json!({"room": "r", "type": "cursor.move", "data": data}),
        )
        .await;
    assert_eq!(ack, json!({"ok": true}));
    assert_eq!(
        bob.next("signal").await,
        json!({"room": "r", "type": "cursor.move", "data": data,
               "user": {"id": "ann", "name": "ann name"}})
    );
    // The handler broadcasts before it acks, and Ann had the ack: a signal
    // to Ann or Eve would precede these acks.
    ann.none_before_ack("signal").await;
    // Eve is in `x` only: Ann's next signal to `x` is the barrier.
    let ack = ann
        .ack("signal", json!({"room": "x", "type": "barrier"}))
        .await;
    assert_eq!(ack["ok"], true);
    let b = eve
        .none_before("signal", "signal", is_kind("barrier"))
        .await;
    assert_eq!(b["data"], Value::Null, "absent data is null: {b}");
    // Not stored: the room's history holds nothing.
    let h = bob.ack("history", json!({"room": "r"})).await;
    assert_eq!(h["messages"], json!([]), "{h}");
}

async fn bad_signals_are_refused_and_reach_nobody(backend: Backend) {
    let app = spawn_app_on(backend, |s| s.max_payload = 1024).await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("r").await;
    bob.join("r").await;
    let cases = [
        (json!({"room": "r"}), "invalid_payload"),
        (json!({"room": "r", "type": 5}), "invalid_payload"),
        (json!({"room": "r", "type": ""}), "invalid_payload"),
        (json!({"room": "r", "type": "a b"}), "invalid_payload"),
        (json!({"room": "r", "type": "é"}), "invalid_payload"),
        (
            json!({"room": "r", "type": "t".repeat(65)}),
            "invalid_payload",
        ),
        (
            json!({"room": "r", "type": "t", "data": "x".repeat(2000)}),
            "invalid_payload",
        ),
        (json!({"type": "t"}), "invalid_payload"),
        (json!({"room": "a b", "type": "t"}), "invalid_room"),
        (json!({"room": "other", "type": "t"}), "not_in_room"),
    ];
    for (payload, code) in cases {
        let ack = ann.ack("signal", payload.clone()).await;
        assert_eq!(
            (ack["ok"].as_bool(), ack["error"].as_str()),
            (Some(false), Some(code)),
            "{payload}: {ack}"
        );
    }
    let long = ann
        .ack("signal", json!({"room": "r", "type": "t".repeat(64)}))
        .await;
    assert_eq!(long["ok"], true, "64 characters is a type: {long}");
    // Bob's first signal is the valid one sent after all the bad ones.
    let first = bob.next("signal").await;
    assert_eq!(first["type"], "t".repeat(64), "{first}");
    assert_eq!(
        ann.ack("rooms", json!({})).await["ok"],
        true,
        "still connected"
    );
}

async fn signals_count_against_the_message_rate(backend: Backend) {
    let app = spawn_app_on(backend, |s| {
        s.message_burst = 2;
        s.message_rate = 0.001;
    })
    .await;
    let mut ann = app.client("ann").await;
    ann.join("r").await;
    let sig = json!({"room": "r", "type": "t"});
    assert_eq!(ann.ack("signal", sig.clone()).await["ok"], true);
    assert_eq!(ann.chat("r", "one").await["ok"], true);
    let over = ann.ack("signal", sig).await;
    assert_eq!(over["error"], "rate_limited", "{over}");
}

async fn http_events_reach_every_socket_of_the_room(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("r").await;
    bob.join("side").await;
    let backend_token = token("game-server", None);
    let r = app
        .post(
            "/api/rooms/r/events",
            json!({"type": "game.move", "data": {"from": "e2", "to": "e4"}}),
            Some(&backend_token),
        )
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        ann.next("signal").await,
        json!({"room": "r", "type": "game.move", "data": {"from": "e2", "to": "e4"},
               "user": {"id": "game-server", "name": "game-server name"}})
    );
    for bad in [json!({"type": "no spaces"}), json!({"data": 1}), json!([])] {
        let r = app
            .post("/api/rooms/r/events", bad, Some(&backend_token))
            .await;
        assert_eq!(r.status(), 400);
    }
    // A barrier in `r` after the bad ones: Ann got none of them; Bob (in
    // `side`) got nothing of `r`.
    let r = app
        .post(
            "/api/rooms/r/events",
            json!({"type": "barrier"}),
            Some(&backend_token),
        )
        .await;
    assert_eq!(r.status(), 204);
    ann.none_before("signal", "signal", is_kind("barrier"))
        .await;
    let r = app
        .post(
            "/api/rooms/side/events",
            json!({"type": "barrier"}),
            Some(&backend_token),
        )
        .await;
    assert_eq!(r.status(), 204);
    bob.none_before("signal", "signal", is_kind("barrier"))
        .await;
}

on_both_backends!(
    signal_reaches_the_others_in_the_room_only,
    bad_signals_are_refused_and_reach_nobody,
    signals_count_against_the_message_rate,
    http_events_reach_every_socket_of_the_room,
);

#[tokio::test]
async fn signals_reach_every_other_socket_of_the_room_on_three_nodes() {
    let cluster = Cluster::start(3).await;
    let mut clients = Vec::new();
    for i in 0..6 {
        let mut c = cluster.nodes[i % 3].client(&format!("u{i}")).await;
        c.join("hall").await;
        clients.push(c);
    }
    // Outsiders on every node, in another room only.
    let mut outsiders = Vec::new();
    for i in 0..3 {
        let mut c = cluster.nodes[i].client(&format!("out{i}")).await;
        c.join("side").await;
        outsiders.push(c);
    }
    clients[0].join("side").await;
    let bad = clients[0]
        .ack("signal", json!({"room": "hall", "type": "bad type"}))
        .await;
    assert_eq!(bad["error"], "invalid_payload");
    let ack = clients[0]
        .ack(
            "signal",
            json!({"room": "hall", "type": "move", "data": [1, 2]}),
        )
        .await;
    assert_eq!(ack["ok"], true);
    for (i, c) in clients.iter_mut().enumerate().skip(1) {
        // The first signal each receives is the good one: the bad one
        // reached nobody.
        let got = c.next("signal").await;
        assert_eq!(
            (
                got["type"].as_str(),
                got["user"]["id"].as_str(),
                &got["data"]
            ),
            (Some("move"), Some("u0"), &json!([1, 2])),
            "client {i}"
        );
    }
    clients[0].none_before_ack("signal").await;
    // A signal to `side` from the same node after the one to `hall`: each
    // node hears them in that order from the one Redis publisher, so the
    // outsiders' first signal being this one proves the other never came.
    let ack = clients[0]
        .ack("signal", json!({"room": "side", "type": "barrier"}))
        .await;
    assert_eq!(ack["ok"], true);
    for o in outsiders.iter_mut() {
        o.none_before("signal", "signal", is_kind("barrier")).await;
    }
    // The backend's route on one node reaches the room on all of them.
    let r = reqwest::Client::new()
        .post(format!(
            "http://{}/api/rooms/hall/events",
            cluster.nodes[1].addr
        ))
        .bearer_auth(token("backend", None))
        .json(&json!({"type": "announce", "data": "deploy"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 204);
    for (i, c) in clients.iter_mut().enumerate() {
        let got = c.next("signal").await;
        assert_eq!(
            (got["type"].as_str(), got["user"]["id"].as_str()),
            (Some("announce"), Some("backend")),
            "client {i}"
        );
    }
}

#[tokio::test]
async fn python_socketio_clients_exchange_signals() {
    let stdout = crate::py_client::run_python("signal_client.py", "py-sig").await;
    assert!(stdout.contains("signal cursor from py-sig"), "{stdout}");
}

/// Signals are volatile: a socket that stops reading misses some and is
/// never disconnected for them (a chat would have it evicted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_socket_misses_signals_and_stays_connected() {
    use roomcast::wire_client::ws;
    let app = spawn_app_with(|s| s.socket_buffer = 64).await;
    let addr = app.addr;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let mut slow = ws::open_on(socket, ws::url(addr), addr).await.expect("ws");
    let auth = json!({"token": token("slow", None)});
    ws::handshake(&mut slow, Some(&auth), WAIT)
        .await
        .expect("CONNECT");
    let joined = ws::call(&mut slow, r#"421["join",{"room":"busy"}]"#, 1, WAIT)
        .await
        .expect("join ack");
    assert_eq!(joined["ok"], true);
    let mut fast = app.client("fast").await;
    fast.join("busy").await;
    // 5,000 signals of 2 KiB (10 MB): far beyond the 64-packet buffer and
    // the kernel's socket buffers. Sent 500 at a time without waiting (a
    // socket may have 1,024 events waiting), each round closed by an ack:
    // the socket's events are handled in order, so all were handled by then.
    const SENT: usize = 5000;
    let data = "x".repeat(2048);
    for _ in 0..SENT / 500 {
        for _ in 0..499 {
            fast.emit(
                "signal",
                json!({"room": "busy", "type": "fill", "data": data}),
            )
            .await;
        }
        let last = fast
            .ack(
                "signal",
                json!({"room": "busy", "type": "fill", "data": data}),
            )
            .await;
        assert_eq!(last["ok"], true, "{last}");
    }
    // The stalled socket now reads everything that reached it, then asks
    // for something: it is answered, so it was never disconnected.
    ws::send(&mut slow, r#"422["rooms",{}]"#)
        .await
        .expect("send");
    let mut got = 0;
    loop {
        let t = ws::next_text(&mut slow, WAIT)
            .await
            .expect("the stalled socket is still connected");
        if t.starts_with("432[") {
            assert!(t.contains(r#""ok":true"#), "{t}");
            break;
        }
        if t.starts_with(r#"42["signal""#) {
            got += 1;
        }
        assert!(!t.starts_with("41"), "disconnected: {t}");
    }
    assert!(
        got < SENT,
        "a stalled socket got all {got} signals: none dropped?"
    );
    println!("the stalled socket received {got} of {SENT} signals");
}
