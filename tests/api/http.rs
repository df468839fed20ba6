//! PROTOCOL §6: the HTTP routes built so far, and the client bundle.

use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn the_official_client_bundle_is_served() {
    let app = spawn_app().await;
    for path in ["/socket.io/socket.io.js", "/socket.io/socket.io.min.js"] {
        let r = app.get(path, None).await;
        assert_eq!(r.status(), 200, "{path}");
        let ct = r.headers()["content-type"].to_str().expect("ct").to_owned();
        assert!(ct.starts_with("application/javascript"), "{ct}");
        let body = r.text().await.expect("body");
        assert!(
            body.contains("Socket.IO v4.8"),
            "{path} is the socket.io-client bundle"
        );
    }
}

#[tokio::test]
async fn health_answers_when_the_database_does() {
    let app = spawn_app().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status(), 200);
}

async fn rooms_can_be_created_and_listed(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let t = token("olga", None);
    let r = app
        .post(
            "/api/rooms",
            json!({"name": "ops", "visibility": "private"}),
            Some(&t),
        )
        .await;
    assert_eq!(r.status(), 201);
    let room: Value = r.json().await.expect("json");
    assert_eq!(
        room,
        json!({"name": "ops", "visibility": "private", "owner": "olga", "online": 0})
    );
    let again = app
        .post("/api/rooms", json!({"name": "ops"}), Some(&t))
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(
        again.json::<Value>().await.expect("json")["error"],
        "conflict"
    );
    for (body, code) in [
        (json!({"name": "bad name"}), "invalid_room"),
        (
            json!({"name": "ok", "visibility": "secret"}),
            "invalid_payload",
        ),
        (json!({"visibility": "public"}), "invalid_payload"),
    ] {
        let r = app.post("/api/rooms", body.clone(), Some(&t)).await;
        assert_eq!(r.status(), 400, "{body}");
        assert_eq!(r.json::<Value>().await.expect("json")["error"], code);
    }
    let mine: Value = app
        .get("/api/rooms", Some(&t))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["rooms"][0]["name"], "ops");
    let other: Value = app
        .get("/api/rooms", Some(&token("x", None)))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(other["rooms"], json!([]));
}

async fn an_http_post_is_delivered_like_a_chat(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut ann = app.client("ann").await;
    ann.join("r").await;
    let bot = token("bot", None);
    let r = app
        .post(
            "/api/rooms/r/messages",
            json!({"message": " beep "}),
            Some(&bot),
        )
        .await;
    assert_eq!(r.status(), 201);
    let stored: Value = r.json().await.expect("json");
    assert_eq!(stored["message"], "beep");
    let live = ann.next("chat").await;
    assert_eq!(live, stored);
    let page: Value = app
        .get("/api/rooms/r/messages?limit=10", Some(&bot))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page, json!({"messages": [stored], "more": false}));

    let cases = [
        (
            "/api/rooms/r/messages",
            json!({"message": 1}),
            400,
            "invalid_message",
        ),
        (
            "/api/rooms/r/messages",
            json!({"message": ""}),
            400,
            "invalid_message",
        ),
        ("/api/rooms/r/messages", json!({}), 400, "invalid_payload"),
        (
            "/api/rooms/nope/messages",
            json!({"message": "x"}),
            404,
            "not_found",
        ),
        (
            "/api/rooms/b%20d/messages",
            json!({"message": "x"}),
            400,
            "invalid_room",
        ),
    ];
    for (path, body, status, code) in cases {
        let r = app.post(path, body.clone(), Some(&bot)).await;
        assert_eq!(r.status(), status, "{path} {body}");
        assert_eq!(r.json::<Value>().await.expect("json")["error"], code);
    }
    for q in ["limit=0", "limit=101", "before=x"] {
        let r = app
            .get(&format!("/api/rooms/r/messages?{q}"), Some(&bot))
            .await;
        assert_eq!(r.status(), 400, "{q}");
    }
}

crate::on_both_backends!(
    rooms_can_be_created_and_listed,
    an_http_post_is_delivered_like_a_chat,
);
