//! Limits: each is hit and answered with the contract's error, and other users go on.

use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_user_over_the_message_rate_gets_rate_limited_on_sockets_and_http_alike() {
    let app = spawn_app_with(|s| {
        s.message_rate = 0.001;
        s.message_burst = 3;
    })
    .await;
    let mut ann = app.client("ann").await;
    ann.join("lobby").await;
    let mut bob = app.client("bob").await;
    bob.join("lobby").await;
    for i in 0..3 {
        ann.chat("lobby", &format!("m{i}")).await;
    }
    let ack = ann
        .ack("chat", json!({"room": "lobby", "message": "one too many"}))
        .await;
    assert_eq!(ack["ok"], false);
    assert_eq!(ack["error"], "rate_limited");
    assert!(ack["message"].is_string());
    // The same bucket covers ann's HTTP posts.
    let r = app
        .post(
            "/api/rooms/lobby/messages",
            json!({"message": "via http"}),
            Some(&token("ann", None)),
        )
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"],
        "rate_limited"
    );

    // bob is not affected, and the refused messages were never stored.
    bob.chat("lobby", "bob is fine").await;
    let history = ann.ack("history", json!({"room": "lobby"})).await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(texts, ["m0", "m1", "m2", "bob is fine"]);
}

#[tokio::test]
async fn an_oversized_event_is_refused_and_the_socket_stays_connected() {
    let app = spawn_app_with(|s| s.max_payload = 2048).await;
    let mut ann = app.client("ann").await;
    ann.join("lobby").await;
    let mut bob = app.client("bob").await;
    bob.join("lobby").await;
    let big = "x".repeat(3000);
    let ack = ann
        .ack("chat", json!({"room": "lobby", "message": big}))
        .await;
    assert_eq!(ack["ok"], false);
    assert_eq!(ack["error"], "invalid_payload");
    assert!(ack["message"].as_str().unwrap_or("").contains("too large"));
    // Same socket, next event: fine; the room saw only that one.
    ann.chat("lobby", "small").await;
    assert_eq!(bob.next("chat").await["message"], "small");
    let h = ann.ack("history", json!({"room": "lobby"})).await;
    assert_eq!(h["messages"].as_array().map(Vec::len), Some(1));

    let r = app
        .post(
            "/api/rooms/lobby/messages",
            json!({"message": "y".repeat(3000)}),
            Some(&token("ann", None)),
        )
        .await;
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<Value>().await.expect("json")["error"], "too_large");
}

async fn login(app: &TestApp, from: &reqwest::Client, user: &str, password: &str) -> u16 {
    let r = from
        .post(app.url("/api/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("login request");
    let status = r.status().as_u16();
    if status >= 400 {
        let body: Value = r.json().await.expect("error body");
        let want = if status == 429 {
            "rate_limited"
        } else {
            "unauthorized"
        };
        assert_eq!(body["error"], want);
    }
    status
}

#[tokio::test]
async fn login_attempts_are_limited_per_username_and_address_and_per_address() {
    let app = spawn_app_with(|s| {
        s.login_attempts = 3;
        s.login_window = std::time::Duration::from_secs(3600);
    })
    .await;
    for user in ["ann", "bob"] {
        let creds = json!({"username": user, "password": "correct horse"});
        assert_eq!(app.post("/api/register", creds, None).await.status(), 201);
    }
    let (here, there) = (client_from([127, 0, 0, 1]), client_from([127, 0, 0, 2]));
    for _ in 0..3 {
        assert_eq!(login(&app, &here, "ann", "wrong password").await, 401);
    }
    // (ann, here) is spent, even with the right password...
    assert_eq!(login(&app, &here, "ann", "correct horse").await, 429);
    // ...but not ann from elsewhere, nor bob from here.
    assert_eq!(login(&app, &there, "ann", "correct horse").await, 200);
    assert_eq!(login(&app, &here, "bob", "correct horse").await, 200);
    // One address trying many usernames: 3 times --login-attempts, then 429.
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(login(&app, &here, &format!("nobody{i}"), "wrong password").await);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    assert_eq!(login(&app, &there, "bob", "correct horse").await, 200);
}

#[tokio::test]
async fn connections_beyond_the_per_user_limit_get_connect_error() {
    let app = spawn_app_with(|s| s.max_connections = 2).await;
    let mut watcher = app.client("bob").await;
    watcher.join("lobby").await;
    let mut first = app.client("ann").await;
    first.join("lobby").await;
    let _second = app.client("ann").await;
    let refused = app
        .connect(Connect::token(token("ann", None)))
        .await
        .err()
        .expect("third socket refused");
    assert!(refused.contains("too many connections"), "{refused}");
    // Other users still connect.
    let _carl = app.client("carl").await;

    // Once one of ann's sockets is gone (the room is told), she may connect again.
    first.close().await;
    loop {
        let notice = watcher.next("leave").await;
        if notice["user"]["id"] == "ann" {
            break;
        }
    }
    app.client("ann").await;
}

#[tokio::test]
async fn only_a_frame_far_over_the_limit_closes_the_connection() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    // The engine's guard is 16 times `max_payload` (see docs/protocol.md §5a).
    let app = spawn_app_with(|s| s.max_payload = 1024).await;
    let mut ws = crate::raw::raw_connect(app.addr, "ann").await;
    let over = "x".repeat(4 * 1024);
    let frame = format!(r#"421["chat",{{"room":"r","message":"{over}"}}]"#);
    ws.send(Message::text(frame)).await.expect("send");
    // The engine's first ping goes out right after the handshake and may
    // come before the answer.
    let answer = loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("answer")
            .expect("open")
            .expect("frame");
        if frame.to_text().is_ok_and(|t| t == "2") {
            ws.send(Message::text("3")).await.expect("pong");
            continue;
        }
        break frame;
    };
    assert!(
        answer.to_text().expect("text").starts_with("431[{"),
        "answered, not closed: {answer:?}"
    );
    let huge = "x".repeat(32 * 1024);
    let frame = format!(r#"422["chat",{{"room":"r","message":"{huge}"}}]"#);
    let _ = ws.send(Message::text(frame)).await;
    let mut closed = false;
    while let Ok(next) = tokio::time::timeout(WAIT, ws.next()).await {
        match next {
            None | Some(Err(_)) => {
                closed = true;
                break;
            }
            Some(Ok(m)) if m.is_close() => {
                closed = true;
                break;
            }
            Some(Ok(_)) => {}
        }
    }
    assert!(closed, "the connection was closed");
}
