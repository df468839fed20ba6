//! Hostile text: SQL, HTML, control characters, surrogates and huge strings
//! are stored and returned exactly as text, or refused with the contract's
//! error; the socket that sent them keeps working and the room keeps going.

use serde_json::{Value, json};

use crate::helpers::*;

/// Texts that break naive SQL, HTML or terminal handling, none of them
/// touching the trimmed edges (trimming is the contract's only change).
fn hostile_texts() -> Vec<String> {
    vec![
        "'); DROP TABLE messages; --".into(),
        "\" OR 1=1 -- ' OR ''='".into(),
        "<script>alert(document.cookie)</script>".into(),
        "<img src=x onerror=alert(1)> &amp; &lt; &#0; ]]>".into(),
        "nul\u{0}in\u{0}the middle".into(),
        "bell\u{7} esc\u{1b}[31mred\u{1b}[0m del\u{7f} c1\u{85}nel".into(),
        "line\r\nbreaks\u{2028}and\u{2029}separators".into(),
        "rtl \u{202e}txt.exe zero\u{200b}width bom\u{feff}".into(),
        "astral 😀𝄞 and \u{fffd} replacement".into(),
        "backslash \\ quote \" slash / percent %s %n {}".into(),
        "🙂".repeat(4000),
    ]
}

/// Every hostile text goes through `chat` and HTTP and comes back byte for
/// byte: in the broadcast, in `history`, and in the HTTP history.
#[tokio::test]
async fn hostile_messages_are_stored_and_returned_exactly() {
    let app = spawn_app().await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("inj").await;
    bob.join("inj").await;
    let texts = hostile_texts();
    for t in &texts {
        let ack = ann.chat("inj", t).await;
        let m = bob.next("chat").await;
        assert_eq!(m["message"].as_str(), Some(t.as_str()), "broadcast");
        assert_eq!(m["id"], ack["id"]);
    }
    let bearer = token("carol", None);
    for t in &texts {
        let r = app
            .post(
                "/api/rooms/inj/messages",
                json!({"message": t}),
                Some(&bearer),
            )
            .await;
        assert_eq!(r.status(), 201, "HTTP post of {t:?}");
        assert_eq!(bob.next("chat").await["message"].as_str(), Some(t.as_str()));
    }
    let expected: Vec<&str> = texts.iter().chain(&texts).map(String::as_str).collect();
    let via_socket = crate::durability::whole_history(&bob, "inj").await;
    let via_socket: Vec<&str> = via_socket
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(via_socket, expected, "socket history");
    let r = app
        .get("/api/rooms/inj/messages?limit=100", Some(&bearer))
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    let via_http: Vec<&str> = body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(via_http, expected, "HTTP history");
    // The tables are still there.
    ann.chat("inj", "still working").await;
}

/// A JWT's `sub` and `name` are whatever the integrating app signs: they are
/// shown exactly, never interpreted.
#[tokio::test]
async fn hostile_user_ids_and_names_from_tokens_are_shown_exactly() {
    let app = spawn_app().await;
    let sub = "x'); DROP TABLE users; --<b>\u{0}";
    let name = "<script>alert(1)</script>\u{1b}[2J";
    let claims = json!({"sub": sub, "name": name, "exp": now() + 3600});
    let mut evil = app
        .connect(Connect::token(sign(&claims, SECRET)))
        .await
        .expect("any sub is an id");
    let mut bob = app.client("bob").await;
    bob.join("names").await;
    assert_eq!(bob.next("join").await["user"]["id"], "bob");
    let ack = evil.join("names").await;
    assert_eq!(ack["online"].as_array().map(Vec::len), Some(2));
    let joined = bob.next("join").await;
    assert_eq!(joined["user"], json!({"id": sub, "name": name}));
    evil.chat("names", "hi").await;
    assert_eq!(
        bob.next("chat").await["user"],
        json!({"id": sub, "name": name})
    );
    let history = crate::durability::whole_history(&bob, "names").await;
    assert_eq!(history[0]["user"], json!({"id": sub, "name": name}));
    drop(evil.next("join").await);
}

/// Room names and usernames outside the safe alphabet are refused with
/// their codes; nothing is created.
#[tokio::test]
async fn hostile_room_names_and_usernames_are_refused_and_create_nothing() {
    let app = spawn_app().await;
    let ann = app.client("ann").await;
    let bearer = token("ann", None);
    let bad = [
        "'; DROP TABLE rooms; --",
        "<script>",
        "a\u{0}b",
        "tab\there",
        "caf\u{e9}",
        "r\u{202e}",
        "..%2f..%2fetc",
    ];
    for name in bad {
        let ack = ann.ack("join", json!({"room": name})).await;
        assert_eq!(ack["error"], "invalid_room", "{name:?}: {ack}");
        let r = app
            .post(
                "/api/rooms",
                json!({"name": name, "visibility": "public"}),
                Some(&bearer),
            )
            .await;
        assert_eq!(r.status(), 400, "POST /api/rooms {name:?}");
        let creds = json!({"username": name, "password": "correct horse"});
        let r = app.post("/api/register", creds, None).await;
        assert_eq!(r.status(), 400, "register {name:?}");
        let body: Value = r.json().await.expect("json");
        assert!(body["error"].is_string() && body["message"].is_string());
    }
    let rooms = ann.ack("rooms", json!({})).await;
    assert_eq!(rooms["rooms"], json!([]), "no room was created");
    let r = app.post(
        "/api/login",
        json!({"username": bad[0], "password": "x"}),
        None,
    );
    assert!(r.await.status().is_client_error());
}

/// Sends `frame` on a raw socket and returns the ack with id `id`.
async fn raw_ack(ws: &mut crate::raw::RawWs, frame: &str, id: u32) -> Value {
    roomcast::wire_client::ws::call(ws, frame, id.into(), WAIT)
        .await
        .unwrap_or_else(|e| panic!("no ack for {frame}: {e}"))
}

/// JSON `\ud800` (a lone UTF-16 surrogate) has no Unicode meaning and no
/// UTF-8 form: serde_json refuses it, so the event is `invalid_payload`
/// (as an unparseable argument) and the socket stays. A proper surrogate
/// pair is an ordinary character and is stored exactly.
#[tokio::test]
async fn lone_surrogates_are_refused_and_pairs_are_stored() {
    let app = spawn_app().await;
    let mut bob = app.client("bob").await;
    bob.join("s").await;
    let mut ws = crate::raw::raw_connect(app.addr, "ann").await;
    let ack = raw_ack(&mut ws, r#"421["join",{"room":"s"}]"#, 1).await;
    assert_eq!(ack["ok"], true, "{ack}");
    for (i, lone) in [r"\ud800", r"\udfff", r"a\ud83d", r"\ude00b"]
        .iter()
        .enumerate()
    {
        let id = 10 + i as u32;
        let frame = format!(r#"42{id}["chat",{{"room":"s","message":"{lone}"}}]"#);
        let ack = raw_ack(&mut ws, &frame, id).await;
        assert_eq!(ack["ok"], false, "{lone}: {ack}");
        assert_eq!(ack["error"], "invalid_payload", "{lone}: {ack}");
    }
    let frame = r#"4220["chat",{"room":"s","message":"pair \ud83d\ude00"}]"#;
    let ack = raw_ack(&mut ws, frame, 20).await;
    assert_eq!(ack["ok"], true, "{ack}");
    // Only the valid one reached the room.
    assert_eq!(bob.next("chat").await["message"], "pair 😀");
    let history = crate::durability::whole_history(&bob, "s").await;
    assert_eq!(history.len(), 1);

    // Over HTTP the body is not JSON text: 400 with the contract's body.
    let r = app
        .http
        .post(app.url("/api/rooms/s/messages"))
        .bearer_auth(token("ann", None))
        .header("content-type", "application/json")
        .body(r#"{"message":"\ud800"}"#)
        .send()
        .await
        .expect("http");
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "invalid_payload", "{body}");
}

/// A 4 MB string is refused with the contract's error wherever it is put,
/// and the sender's socket keeps working. The limit is raised here so the
/// frame passes the engine's guard and reaches roomcast's own check (with
/// the default limit the engine closes a 4 MB frame: docs/protocol.md §5a).
#[tokio::test]
async fn four_megabyte_strings_are_refused_and_the_socket_survives() {
    let app = spawn_app_with(|s| s.max_payload = 512 * 1024).await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("big").await;
    bob.join("big").await;
    let huge = "A".repeat(4 * 1024 * 1024);
    for payload in [
        json!({"room": "big", "message": huge}),
        json!({"room": huge, "message": "m"}),
        json!({"room": "big", "message": "m", "extra": huge}),
    ] {
        let ack = ann.ack("chat", payload).await;
        assert_eq!(ack["error"], "invalid_payload", "{}", ack["message"]);
    }
    // Just under the event limit, over the message limit: invalid_message.
    let ack = ann
        .ack("chat", json!({"room": "big", "message": "é".repeat(4001)}))
        .await;
    assert_eq!(ack["error"], "invalid_message");
    let r = app
        .post(
            "/api/rooms/big/messages",
            json!({"message": huge}),
            Some(&token("ann", None)),
        )
        .await;
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.expect("json");
    assert!(body["error"].is_string(), "{body}");
    ann.chat("big", "after the flood").await;
    assert_eq!(bob.next("chat").await["message"], "after the flood");
    let history = crate::durability::whole_history(&bob, "big").await;
    assert_eq!(history.len(), 1, "nothing huge was stored");
}
