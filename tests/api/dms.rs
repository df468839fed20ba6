//! Direct messages and the user directory (docs/protocol.md §4 "Direct
//! messages"): one room per set of people, made on first use, in everyone's
//! list; and `GET /api/users`, which shows names and ids only.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::on_both_backends;

fn names(people: &Value) -> Vec<String> {
    people
        .as_array()
        .map(|a| {
            a.iter()
                .map(|u| u["id"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn a_direct_message_from_scratch(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut ann = app.client("ann").await;
    // Bob is nobody the server knows until he connects.
    let ack = ann.ack("dm", json!({"user": "bob"})).await;
    assert_eq!(ack["error"], "not_found", "{ack}");
    let mut bob = app.client("bob").await;
    let mut carol = app.client("carol").await;

    let ack = ann.ack("dm", json!({"user": "bob"})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let room = ack["room"]["name"].as_str().expect("name").to_owned();
    assert!(room.starts_with("dm:"), "{room}");
    assert_eq!(ack["room"]["visibility"], "private");
    assert_eq!(names(&ack["room"]["people"]), ["ann", "bob"]);
    // From the other side, the same room.
    let back = bob.ack("dm", json!({"users": ["ann", "ann"]})).await;
    assert_eq!(back["room"]["name"], room.as_str(), "{back}");

    // Ann writes; bob's socket, not in the room, is told at once.
    ann.join(&room).await;
    let m = ann.chat(&room, "hi bob").await;
    let notice = bob.next("activity").await;
    assert_eq!(
        (notice["room"].clone(), notice["id"].clone()),
        (json!(room), m["id"].clone())
    );
    let list = bob.ack("rooms", json!({})).await;
    let entry = list["rooms"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == room.as_str()))
        .cloned()
        .expect("the conversation is in bob's rooms");
    assert_eq!(entry["member"], true, "{entry}");
    assert_eq!(entry["unread"], 1, "{entry}");
    assert_eq!(names(&entry["people"]), ["ann", "bob"], "{entry}");
    // Nobody else may read it, or even see it.
    let ack = carol.ack("join", json!({"room": room})).await;
    assert_eq!(ack["error"], "forbidden", "{ack}");
    let list = carol.ack("rooms", json!({})).await;
    assert!(!list.to_string().contains(&room), "{list}");
    carol.none_before_ack("activity").await;

    // A group: the three of them, another room.
    let group = carol.ack("dm", json!({"users": ["ann", "bob"]})).await;
    assert_eq!(names(&group["room"]["people"]), ["ann", "bob", "carol"]);
    assert_ne!(group["room"]["name"], room.as_str());
    // Over HTTP, the same answer.
    let r = app
        .post(
            "/api/dms",
            json!({"users": ["bob", "carol"]}),
            Some(&token("ann", None)),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["room"]["name"], group["room"]["name"]);
}

async fn bad_direct_messages_change_nothing(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let ann = app.client("ann").await;
    for sub in ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"] {
        app.client(sub).await.close().await;
    }
    let eight: Vec<String> = (1..=8).map(|i| format!("u{i}")).collect();
    let cases = [
        (json!({"user": "ann"}), "invalid_payload"),
        (json!({"users": []}), "invalid_payload"),
        (json!({"users": eight}), "invalid_payload"),
        (json!({"users": ["u1", 5]}), "invalid_payload"),
        (json!({"user": 5}), "invalid_payload"),
        (json!({"user": "u1", "users": ["u2"]}), "invalid_payload"),
        (json!({}), "invalid_payload"),
        (json!({"user": "ghost"}), "not_found"),
        (json!({"users": ["u1", "ghost"]}), "not_found"),
    ];
    for (payload, code) in cases {
        let ack = ann.ack("dm", payload.clone()).await;
        assert_eq!(ack["error"], code, "{payload}: {ack}");
    }
    // The conversations' names are theirs: no room of that name is made
    // any other way, and a conversation nobody opened is not found.
    let ack = ann
        .ack(
            "join",
            json!({"room": "dm:0123456789abcdef0123456789abcdef"}),
        )
        .await;
    assert_eq!(ack["error"], "not_found", "{ack}");
    let r = app
        .post(
            "/api/rooms",
            json!({"name": "dm:mine"}),
            Some(&token("ann", None)),
        )
        .await;
    assert_eq!(r.status(), 400);
    let list = ann.ack("rooms", json!({})).await;
    assert_eq!(list["rooms"], json!([]), "{list}");
    // Seven others is the most.
    let ack = ann.ack("dm", json!({"users": &eight[..7]})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(ack["room"]["people"].as_array().map(Vec::len), Some(8));
}

async fn the_directory_shows_names_and_ids_only(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (zed, _) = app.register_and_login("zed").await;
    app.register_and_login("zoe_1").await;
    app.client("zara").await.close().await;
    app.client("bob").await.close().await;
    let get = |q: &str| {
        let path = format!("/api/users?q={q}");
        let zed = zed.clone();
        let app = &app;
        async move { app.get(&path, Some(&zed)).await }
    };
    let r = get("Z").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        names(&body["users"]),
        ["zara", "acct:zed", "acct:zoe_1"],
        "{body}"
    );
    for u in body["users"].as_array().expect("users") {
        let keys: Vec<&String> = u.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["id", "name"], "only an id and a name: {u}");
    }
    // Wildcards are plain characters.
    let body: Value = get("zoe_").await.json().await.expect("json");
    assert_eq!(names(&body["users"]), ["acct:zoe_1"]);
    let body: Value = get("z%25").await.json().await.expect("json");
    assert_eq!(body["users"], json!([]));
    let body: Value = get("_").await.json().await.expect("json");
    assert_eq!(body["users"], json!([]));
    for bad in ["", &"x".repeat(65)] {
        assert_eq!(get(bad).await.status(), 400, "q={bad}");
    }
    assert_eq!(app.get("/api/users", Some(&zed)).await.status(), 400);
    assert_eq!(app.get("/api/users?q=z", None).await.status(), 401);
}

on_both_backends!(
    a_direct_message_from_scratch,
    bad_direct_messages_change_nothing,
    the_directory_shows_names_and_ids_only,
);
