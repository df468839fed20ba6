//! Full-text search (docs/protocol.md §4 "Search"): exactly the expected
//! messages for words, prefixes, phrases and filters, in a seeded history
//! of several users and rooms of every kind of access; after edits and
//! deletions; nothing of a private room for a stranger; bad queries
//! answered as such, never as an internal error.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::on_both_backends;

/// The ids of every message in the seeded history, by name.
struct Seeded {
    /// ops (public, ann's)
    o1: i64,
    o2: i64,
    o3: i64,
    o4: i64,
    /// lobby (public, bob's)
    l1: i64,
    l2: i64,
    /// secret (private, ann's; sam has no access)
    s1: i64,
    /// club (private, bob's; sam invited)
    c1: i64,
    /// jail (public, cat's; sam banned)
    j1: i64,
    /// vip (private, ann's; sam's token with `rooms: ["vip"]` names it)
    v1: i64,
}

async fn room(app: &TestApp, owner: &str, name: &str, visibility: &str) {
    let r = app
        .post(
            "/api/rooms",
            json!({"name": name, "visibility": visibility}),
            Some(&token(owner, None)),
        )
        .await;
    assert_eq!(r.status(), 201, "room {name}");
}

async fn post(app: &TestApp, who: &str, room: &str, text: &str) -> i64 {
    let r = app
        .post(
            &format!("/api/rooms/{room}/messages"),
            json!({"message": text}),
            Some(&token(who, None)),
        )
        .await;
    assert_eq!(r.status(), 201, "post to {room}");
    let body: Value = r.json().await.expect("message");
    body["id"].as_i64().expect("id")
}

async fn seed(app: &TestApp) -> Seeded {
    app.seen("sam").await;
    room(app, "ann", "ops", "public").await;
    room(app, "bob", "lobby", "public").await;
    room(app, "ann", "secret", "private").await;
    room(app, "bob", "club", "private").await;
    room(app, "cat", "jail", "public").await;
    room(app, "ann", "vip", "private").await;
    let invite = app
        .post(
            "/api/rooms/club/members",
            json!({"user": "sam"}),
            Some(&token("bob", None)),
        )
        .await;
    assert_eq!(invite.status(), 201);
    let s = Seeded {
        o1: post(app, "ann", "ops", "deploy started on prod").await,
        o2: post(app, "bob", "ops", "the build failed again").await,
        s1: post(app, "ann", "secret", "deploy the secret key").await,
        o3: post(app, "ann", "ops", "deployment finished").await,
        l1: post(app, "cat", "lobby", "🚀 deploy tomorrow?").await,
        c1: post(app, "bob", "club", "deploy club site").await,
        j1: post(app, "cat", "jail", "deploy in jail").await,
        o4: post(app, "bob", "ops", "failed build, not a build failure").await,
        l2: post(app, "ann", "lobby", "lunch at noon").await,
        v1: post(app, "ann", "vip", "deploy vip lounge").await,
    };
    let ban = app
        .put(
            "/api/rooms/jail/bans/sam",
            json!({}),
            Some(&token("cat", None)),
        )
        .await;
    assert!(ban.status().is_success(), "ban: {}", ban.status());
    s
}

/// The ack of `search` from `who`; asserts it is a success.
async fn found(who: &TestClient, payload: Value) -> Value {
    let ack = who.ack("search", payload.clone()).await;
    assert_eq!(ack["ok"], true, "{payload}: {ack}");
    ack
}

fn ids(ack: &Value) -> Vec<i64> {
    ack["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["message"]["id"].as_i64().expect("id"))
        .collect()
}

/// The ids `q` finds for `who`, all on one page.
async fn hits(who: &TestClient, q: &str) -> Vec<i64> {
    let ack = found(who, json!({"q": q, "limit": 50})).await;
    assert_eq!(ack["more"], false, "{q}: {ack}");
    ids(&ack)
}

async fn code(who: &TestClient, payload: Value) -> String {
    let ack = who.ack("search", payload.clone()).await;
    assert_eq!(ack["ok"], false, "{payload}: {ack}");
    ack["error"].as_str().unwrap_or("?").to_owned()
}

async fn finds_exactly_what_the_searcher_may_read(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let s = seed(&app).await;
    let sam = app.client("sam").await;

    // Newest first; not secret (private), not jail (banned), not vip.
    assert_eq!(hits(&sam, "deploy").await, [s.c1, s.l1, s.o1]);
    assert_eq!(hits(&sam, "DEPLOY").await, [s.c1, s.l1, s.o1]);
    assert_eq!(hits(&sam, "deplo*").await, [s.c1, s.l1, s.o3, s.o1]);
    assert_eq!(hits(&sam, "\"build failed\"").await, [s.o2]);
    assert_eq!(hits(&sam, "build failed").await, [s.o4, s.o2]);
    assert_eq!(hits(&sam, "failed build").await, [s.o4, s.o2]);
    assert_eq!(hits(&sam, "\"failed build\"").await, [s.o4]);
    assert_eq!(hits(&sam, "fail*").await, [s.o4, s.o2]);
    assert_eq!(hits(&sam, "from:ann deplo*").await, [s.o3, s.o1]);
    assert_eq!(hits(&sam, "deploy from:bob").await, [s.c1]);
    assert_eq!(hits(&sam, "deploy from:acct:bob").await, Vec::<i64>::new());
    assert_eq!(hits(&sam, "deplo* in:ops").await, [s.o3, s.o1]);
    assert_eq!(hits(&sam, "deploy in:club").await, [s.c1]);
    assert_eq!(hits(&sam, "lunch").await, [s.l2]);
    assert!(hits(&sam, "nothingmatches").await.is_empty());
    let in_room = found(&sam, json!({"q": "deplo*", "room": "ops"})).await;
    assert_eq!(ids(&in_room), [s.o3, s.o1]);
    let agreed = found(&sam, json!({"q": "deplo* in:ops", "room": "ops"})).await;
    assert_eq!(ids(&agreed), [s.o3, s.o1]);

    // Nothing of a private room leaks, asked for or not.
    assert!(hits(&sam, "secret").await.is_empty());
    assert!(hits(&sam, "key").await.is_empty());
    assert!(hits(&sam, "vip").await.is_empty());
    assert!(hits(&sam, "jail").await.is_empty());
    assert_eq!(code(&sam, json!({"q": "key in:secret"})).await, "forbidden");
    assert_eq!(
        code(&sam, json!({"q": "key", "room": "secret"})).await,
        "forbidden"
    );
    assert_eq!(
        code(&sam, json!({"q": "deploy in:jail"})).await,
        "forbidden"
    );
    assert_eq!(code(&sam, json!({"q": "x in:nowhere"})).await, "not_found");
    assert_eq!(
        code(&sam, json!({"q": "x in:ops", "room": "lobby"})).await,
        "invalid_payload"
    );

    // Whom the rooms are open to sees them: the owner, a token's claim.
    let ann = app.client("ann").await;
    assert_eq!(hits(&ann, "secret").await, [s.s1]);
    // Not club (bob's, ann not invited); jail is public to her.
    assert_eq!(hits(&ann, "deploy").await, [s.v1, s.j1, s.l1, s.s1, s.o1]);
    let claimed = app
        .connect(Connect::token(token("sam", Some(&["vip"]))))
        .await
        .expect("sam with vip");
    assert_eq!(hits(&claimed, "deploy").await, [s.v1, s.c1, s.l1, s.o1]);
    assert_eq!(hits(&claimed, "vip").await, [s.v1]);
}

async fn pages_newest_first_with_before(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let s = seed(&app).await;
    let sam = app.client("sam").await;
    let first = found(&sam, json!({"q": "deplo*", "limit": 3})).await;
    assert_eq!(ids(&first), [s.c1, s.l1, s.o3]);
    assert_eq!(first["more"], true);
    let second = found(&sam, json!({"q": "deplo*", "limit": 3, "before": s.o3})).await;
    assert_eq!(ids(&second), [s.o1]);
    assert_eq!(second["more"], false);
    let exact = found(&sam, json!({"q": "deplo*", "limit": 4})).await;
    assert_eq!(exact["more"], false);
}

async fn edits_and_deletions_are_searched_as_they_are_now(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let s = seed(&app).await;
    let sam = app.client("sam").await;
    let ann = token("ann", None);
    let bob = token("bob", None);
    let r = app
        .patch(
            &format!("/api/rooms/ops/messages/{}", s.o1),
            json!({"message": "rollout started on prod"}),
            Some(&ann),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .delete(&format!("/api/rooms/ops/messages/{}", s.o2), Some(&bob))
        .await;
    assert_eq!(r.status(), 200);

    assert_eq!(hits(&sam, "deploy").await, [s.c1, s.l1]);
    assert_eq!(hits(&sam, "rollout").await, [s.o1]);
    let edited = found(&sam, json!({"q": "rollout"})).await;
    assert_eq!(
        edited["results"][0]["message"]["message"],
        "rollout started on prod"
    );
    assert_eq!(hits(&sam, "\"build failed\"").await, Vec::<i64>::new());
    assert_eq!(hits(&sam, "failed").await, [s.o4]);
    assert_eq!(hits(&sam, "again").await, Vec::<i64>::new());

    // A deleted room's messages are gone from the index with it.
    let r = app.delete("/api/rooms/lobby", Some(&bob)).await;
    assert_eq!(r.status(), 204);
    assert_eq!(hits(&sam, "deploy").await, [s.c1]);
    assert!(hits(&sam, "lunch").await.is_empty());
}

async fn highlights_are_character_ranges(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let s = seed(&app).await;
    let sam = app.client("sam").await;
    let ack = found(&sam, json!({"q": "build fail*"})).await;
    assert_eq!(ack["results"][0]["message"]["id"], s.o4);
    assert_eq!(
        ack["results"][0]["highlights"],
        json!([[0, 6], [7, 12], [20, 25], [26, 33]])
    );
    // The rocket is one character (two UTF-16 units).
    let ack = found(&sam, json!({"q": "deploy in:lobby"})).await;
    assert_eq!(ack["results"][0]["message"]["id"], s.l1);
    assert_eq!(ack["results"][0]["highlights"], json!([[2, 8]]));
    let ack = found(&sam, json!({"q": "\"build failed\""})).await;
    assert_eq!(ack["results"][0]["highlights"], json!([[4, 16]]));
}

async fn bad_queries_are_invalid_payload_never_internal(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let s = seed(&app).await;
    let sam = app.client("sam").await;
    for q in ["\"unclosed", "*", "", "   ", "a*", "from:ann", "-- ) ("] {
        assert_eq!(
            code(&sam, json!({"q": q})).await,
            "invalid_payload",
            "{q:?}"
        );
    }
    let long = "deploy ".repeat(43);
    assert_eq!(code(&sam, json!({"q": long})).await, "invalid_payload");
    let many = vec!["deploy"; 17].join(" ");
    assert_eq!(code(&sam, json!({"q": many})).await, "invalid_payload");
    for bad in [
        json!({}),
        json!({"q": 5}),
        json!({"q": "deploy", "limit": 51}),
        json!({"q": "deploy", "limit": 0}),
        json!({"q": "deploy", "limit": "5"}),
        json!({"q": "deploy", "before": "x"}),
    ] {
        assert_eq!(code(&sam, bad.clone()).await, "invalid_payload", "{bad}");
    }
    assert_eq!(
        code(&sam, json!({"q": "deploy", "room": "no/such room"})).await,
        "invalid_room"
    );
    // Engine syntax is only words here: matched literally, or nothing.
    for q in [
        "') OR 1=1 --",
        "NEAR(deploy started)",
        "body:deploy",
        "col:x",
        "deploy OR secret",
        "deploy AND NOT lunch",
        "deploy & !lunch | secret",
        "'deploy':*",
        "\"deploy\" \"\"",
        "^deploy",
        "deploy -started",
        "{body}: deploy",
        "\\\"; DROP TABLE messages; --",
    ] {
        let ack = sam.ack("search", json!({"q": q})).await;
        assert!(
            ack["ok"] == true || ack["error"] == "invalid_payload",
            "{q:?}: {ack}"
        );
        for hit in ids(&ack_or_empty(&ack)) {
            assert!(![s.s1, s.j1, s.v1].contains(&hit), "{q:?} leaked {hit}");
        }
    }
    // A literal match through the syntax: the words are all there.
    assert_eq!(hits(&sam, "NEAR(deploy started)").await, Vec::<i64>::new());
    assert_eq!(hits(&sam, "body:deploy").await, Vec::<i64>::new());
    assert_eq!(hits(&sam, "started: deploy").await, [s.o1]);
}

fn ack_or_empty(ack: &Value) -> Value {
    if ack["ok"] == true {
        ack.clone()
    } else {
        json!({"results": []})
    }
}

async fn http_search_answers_as_the_event(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let s = seed(&app).await;
    let sam = token("sam", None);
    let r = app.get("/api/search?q=deplo%2A&limit=2", Some(&sam)).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(ids(&body), [s.c1, s.l1]);
    assert_eq!(body["more"], true);
    assert!(body.get("ok").is_none(), "{body}");
    let r = app
        .get(
            &format!("/api/search?q=deplo%2A&before={}", s.l1),
            Some(&sam),
        )
        .await;
    let body: Value = r.json().await.expect("json");
    assert_eq!(ids(&body), [s.o3, s.o1]);
    let r = app.get("/api/search?q=deploy&room=club", Some(&sam)).await;
    let body: Value = r.json().await.expect("json");
    assert_eq!(ids(&body), [s.c1]);
    for (path, status) in [
        ("/api/search?q=key&room=secret", 403),
        ("/api/search?q=key%20in%3Asecret", 403),
        ("/api/search?q=key&room=nowhere", 404),
        ("/api/search", 400),
        ("/api/search?q=%22unclosed", 400),
        ("/api/search?q=deploy&limit=x", 400),
        ("/api/search?q=deploy&before=x", 400),
    ] {
        let r = app.get(path, Some(&sam)).await;
        assert_eq!(r.status(), status, "{path}");
        let body: Value = r.json().await.expect("json");
        assert_ne!(body["error"], "internal", "{path}: {body}");
    }
    assert_eq!(app.get("/api/search?q=deploy", None).await.status(), 401);
}

async fn a_key_limited_to_rooms_searches_only_those(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let s = seed(&app).await;
    let key = crate::keys::create_key(
        &app.database_url(),
        &["--name", "ops-bot", "--rooms", "ops,club"],
    )
    .await;
    let bot = app.connect(Connect::token(key)).await.expect("bot");
    // Its rooms may be entered (club is private): nothing of lobby, vip,
    // secret or jail.
    assert_eq!(hits(&bot, "deploy").await, [s.c1, s.o1]);
    assert_eq!(
        code(&bot, json!({"q": "deploy in:lobby"})).await,
        "forbidden"
    );
}

on_both_backends!(
    a_key_limited_to_rooms_searches_only_those,
    finds_exactly_what_the_searcher_may_read,
    pages_newest_first_with_before,
    edits_and_deletions_are_searched_as_they_are_now,
    highlights_are_character_ranges,
    bad_queries_are_invalid_payload_never_internal,
    http_search_answers_as_the_event,
);
