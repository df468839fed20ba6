//! Bad input gets the contract's error and changes nothing else.

use rust_socketio::Payload;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn non_object_payloads_are_invalid_payload_and_the_socket_keeps_working() {
    let app = spawn_app().await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("r").await;
    bob.join("r").await;
    let bad: Vec<Payload> = vec![
        Payload::Text(vec![]),
        Payload::Text(vec![json!(null)]),
        Payload::Text(vec![json!(7)]),
        Payload::Text(vec![json!("room")]),
        Payload::Text(vec![json!(["r"])]),
        Payload::Text(vec![json!(true)]),
    ];
    for event in ["join", "leave", "chat", "typing", "history"] {
        for p in &bad {
            let ack = ann.ack_raw(event, p.clone()).await;
            assert_eq!(ack["ok"], false, "{event} {p:?}");
            assert_eq!(ack["error"], "invalid_payload", "{event} {p:?}: {ack}");
            assert!(ack["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        // A missing or mistyped room is invalid_payload too.
        for p in [json!({}), json!({"room": 5}), json!({"room": null})] {
            let ack = ann.ack(event, p.clone()).await;
            assert_eq!(ack["error"], "invalid_payload", "{event} {p}: {ack}");
        }
    }
    for p in &bad[1..] {
        let ack = ann.ack_raw("rooms", p.clone()).await;
        assert_eq!(ack["error"], "invalid_payload", "rooms {p:?}");
    }
    // Still connected, still in the room, nothing was broadcast: Ann's
    // chat is stored after every refused event was answered, and chats
    // reach a socket in commit order, so it is the first chat Bob gets.
    // Join, leave and typing notices are emitted before their event's ack:
    // they would have come before it too.
    ann.chat("r", "still here").await;
    let first = bob
        .none_before("chat", "chat", |m| m["message"] == "still here")
        .await;
    assert_eq!(first["message"], "still here");
    assert_eq!(bob.next("join").await["user"]["id"], "bob", "his own");
    for event in ["join", "leave", "typing"] {
        bob.none_before_ack(event).await;
    }
}

#[tokio::test]
async fn room_names_follow_the_rules() {
    let app = spawn_app().await;
    let ann = app.client("ann").await;
    let long = "x".repeat(65);
    for bad in ["", "has space", "a/b", "<b>", "é", long.as_str()] {
        for event in ["join", "leave", "typing", "history"] {
            let ack = ann.ack(event, json!({"room": bad})).await;
            assert_eq!(ack["error"], "invalid_room", "{event} {bad:?}: {ack}");
        }
        let ack = ann.ack("chat", json!({"room": bad, "message": "m"})).await;
        assert_eq!(ack["error"], "invalid_room");
    }
    let ok = "Aa0_-.:".to_owned() + &"y".repeat(57);
    let mut ann = ann;
    ann.join(&ok).await;
}

#[tokio::test]
async fn messages_are_strings_of_1_to_4000_characters_after_trimming() {
    let app = spawn_app().await;
    let mut ann = app.client("ann").await;
    ann.join("r").await;
    let too_long = "é".repeat(4001);
    for bad in [
        json!(5),
        json!(null),
        json!({"t": 1}),
        json!(["a"]),
        json!("   \n\t "),
        json!(too_long),
    ] {
        let ack = ann.ack("chat", json!({"room": "r", "message": bad})).await;
        assert_eq!(ack["error"], "invalid_message", "{ack}");
    }
    let missing = ann.ack("chat", json!({"room": "r"})).await;
    assert_eq!(missing["error"], "invalid_payload");
    let longest = "é".repeat(4000);
    ann.chat("r", &format!("  {longest}  ")).await;
    let h = ann.ack("history", json!({"room": "r"})).await;
    assert_eq!(h["messages"].as_array().expect("messages").len(), 1);
    assert_eq!(h["messages"][0]["message"], longest);
    // Markup and SQL are just text.
    let nasty = "<img src=x onerror=alert(1)>'); DROP TABLE messages;--";
    ann.chat("r", nasty).await;
    let h = ann.ack("history", json!({"room": "r", "limit": 1})).await;
    assert_eq!(h["messages"][0]["message"], nasty);
}

#[tokio::test]
async fn history_arguments_are_checked() {
    let app = spawn_app().await;
    let mut ann = app.client("ann").await;
    ann.join("r").await;
    for bad in [
        json!({"room": "r", "limit": 0}),
        json!({"room": "r", "limit": 101}),
        json!({"room": "r", "limit": "5"}),
        json!({"room": "r", "before": "x"}),
        json!({"room": "r", "before": 1.5}),
    ] {
        let ack = ann.ack("history", bad.clone()).await;
        assert_eq!(ack["error"], "invalid_payload", "{bad}");
    }
    let since = ann
        .ack("join", json!({"room": "r", "since": "yesterday"}))
        .await;
    assert_eq!(since["error"], "invalid_payload");
}

#[tokio::test]
async fn a_storage_failure_is_internal_and_leaks_nothing() {
    let app = spawn_app().await;
    let mut ann = app.client("ann").await;
    ann.join("r").await;
    ann.chat("r", "before").await;
    // Break the database behind the server's back.
    let url = format!("sqlite://{}", app.db_path.display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("open db");
    sqlx::query("DROP TABLE messages")
        .execute(&mut conn)
        .await
        .expect("drop");
    let ack = ann
        .ack("chat", json!({"room": "r", "message": "lost?"}))
        .await;
    assert_eq!(
        ack,
        json!({"ok": false, "error": "internal", "message": "internal error"})
    );
    let h = ann.ack("history", json!({"room": "r"})).await;
    assert_eq!(h["error"], "internal");
    let text = h.to_string().to_lowercase();
    assert!(!text.contains("sql") && !text.contains("table"), "{text}");
    // The socket survives and other events still work (`typing` reads
    // nothing; `rooms` counts messages, so it fails as history does).
    let typing: Value = ann.ack("typing", json!({"room": "r"})).await;
    assert_eq!(typing["ok"], true);
}

#[tokio::test]
async fn an_unknown_event_that_wants_an_ack_gets_an_error() {
    let app = spawn_app().await;
    let ann = app.client("ann").await;
    let ack = ann.ack("shout", json!({"room": "r"})).await;
    assert_eq!(ack["ok"], false);
    assert_eq!(ack["error"], "invalid_payload");
    assert!(ack["message"].as_str().expect("message").contains("shout"));
    assert_eq!(ann.ack("rooms", json!({})).await["ok"], true);
}

#[tokio::test]
async fn room_names_made_only_of_dots_are_invalid_everywhere() {
    let app = spawn_app().await;
    let jwt = token("ann", None);
    let mut ann = app.client("ann").await;
    for name in [".", "..", "..."] {
        let r = app
            .post("/api/rooms", json!({"name": name}), Some(&jwt))
            .await;
        assert_eq!(r.status(), 400, "{name}");
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["error"], "invalid_room", "{name}");
        let ack = ann.ack("join", json!({"room": name})).await;
        assert_eq!(ack["error"], "invalid_room", "{name}");
    }
    // Dots among other characters are still fine; nothing was created before.
    ann.join("..a").await;
    let rooms = ann.ack("rooms", json!({})).await;
    let names: Vec<&str> = rooms["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["..a"]);
}
