//! Room moderation (docs/protocol.md §4 "Moderation"): roles, mutes, bans
//! and slow mode through socket events and HTTP, on both stores.

use serde_json::{Value, json};

use crate::helpers::*;

/// A client of `app` as `sub`, on `backend`'s server.
async fn user(app: &TestApp, sub: &str) -> TestClient {
    app.client(sub).await
}

/// olga owns the public room `hall` (she created it by joining); mia is her
/// moderator; sam is a member. All three are in the room.
async fn hall(app: &TestApp) -> (TestClient, TestClient, TestClient) {
    let mut olga = user(app, "olga").await;
    olga.join("hall").await;
    let mut mia = user(app, "mia").await;
    mia.join("hall").await;
    let mut sam = user(app, "sam").await;
    sam.join("hall").await;
    let ack = olga
        .ack(
            "moderator",
            json!({"room": "hall", "user": "mia", "on": true}),
        )
        .await;
    assert_eq!(ack, json!({"ok": true}));
    // Everyone in the room learns of the appointment.
    for c in [&mut olga, &mut mia, &mut sam] {
        let n = c.next("moderation").await;
        assert_eq!(
            (
                n["action"].as_str(),
                n["user"].as_str(),
                n["by"]["id"].as_str()
            ),
            (Some("appointed"), Some("mia"), Some("olga")),
            "{n}"
        );
    }
    (olga, mia, sam)
}

fn code(ack: &Value) -> &str {
    ack["error"].as_str().unwrap_or("ok")
}

async fn roles_follow_the_rules_and_refusals_change_nothing(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (olga, mia, mut sam) = hall(&app).await;
    let mut max = user(&app, "max").await;
    max.join("hall").await;
    olga.ack(
        "moderator",
        json!({"room": "hall", "user": "max", "on": true}),
    )
    .await;
    assert_eq!(sam.next("moderation").await["user"], "max");

    let mute = |u: &str| json!({"room": "hall", "user": u, "seconds": 60});
    let ban = |u: &str| json!({"room": "hall", "user": u});
    let appoint = |u: &str| json!({"room": "hall", "user": u, "on": true});
    let cases: Vec<(&TestClient, &str, Value, &str)> = vec![
        // A member moderates nothing.
        (&sam, "mute", mute("max"), "forbidden"),
        (&sam, "ban", ban("olga"), "forbidden"),
        (&sam, "moderator", appoint("sam"), "forbidden"),
        (
            &sam,
            "slow_mode",
            json!({"room": "hall", "seconds": 5}),
            "forbidden",
        ),
        // Only the owner appoints.
        (&mia, "moderator", appoint("sam"), "forbidden"),
        (
            &mia,
            "moderator",
            json!({"room": "hall", "user": "max", "on": false}),
            "forbidden",
        ),
        // Nobody acts on the owner, or on themselves.
        (&mia, "mute", mute("olga"), "forbidden"),
        (&mia, "ban", ban("olga"), "forbidden"),
        (&mia, "mute", mute("mia"), "forbidden"),
        (&olga, "ban", ban("olga"), "forbidden"),
        (&olga, "mute", mute("olga"), "forbidden"),
        (&olga, "moderator", appoint("olga"), "forbidden"),
        // A moderator does not act on another moderator.
        (&mia, "mute", mute("max"), "forbidden"),
        (&mia, "ban", ban("max"), "forbidden"),
        (&mia, "unmute", ban("max"), "forbidden"),
        // Bad input.
        (
            &olga,
            "mute",
            json!({"room": "hall", "user": "sam", "seconds": 0}),
            "invalid_payload",
        ),
        (
            &olga,
            "mute",
            json!({"room": "hall", "user": "sam", "seconds": "60"}),
            "invalid_payload",
        ),
        (
            &olga,
            "mute",
            json!({"room": "hall", "user": "sam"}),
            "invalid_payload",
        ),
        (
            &olga,
            "mute",
            json!({"room": "hall", "user": "", "seconds": 5}),
            "invalid_payload",
        ),
        (&olga, "ban", json!({"room": "hall"}), "invalid_payload"),
        (
            &olga,
            "ban",
            json!({"room": "a b", "user": "sam"}),
            "invalid_room",
        ),
        (&olga, "ban", json!("hall"), "invalid_payload"),
        (
            &olga,
            "moderator",
            json!({"room": "hall", "user": "sam", "on": "yes"}),
            "invalid_payload",
        ),
        (
            &olga,
            "slow_mode",
            json!({"room": "hall", "seconds": -1}),
            "invalid_payload",
        ),
        (
            &olga,
            "slow_mode",
            json!({"room": "hall", "seconds": 86401}),
            "invalid_payload",
        ),
        (
            &olga,
            "ban",
            json!({"room": "nowhere", "user": "sam"}),
            "not_found",
        ),
        // Lifting what is not there.
        (&olga, "unmute", ban("sam"), "not_found"),
        (&olga, "unban", ban("sam"), "not_found"),
        (
            &olga,
            "moderator",
            json!({"room": "hall", "user": "sam", "on": false}),
            "not_found",
        ),
    ];
    for (who, event, payload, want) in cases {
        let ack = who.ack(event, payload.clone()).await;
        assert_eq!(code(&ack), want, "{event} {payload}: {ack}");
        if want != "ok" {
            assert!(ack["message"].is_string(), "{ack}");
        }
    }
    // Nothing changed: no notice reached sam (every refusal was answered
    // before this barrier, and a change announces itself before its ack),
    // and everyone may still post.
    sam.none_before_ack("moderation").await;
    for c in [&olga, &mia, &sam, &max] {
        c.chat("hall", "still free").await;
    }
    // A joining socket learns its own role and the room's moderators.
    let again = user(&app, "mia").await;
    let ack = again.ack("join", json!({"room": "hall"})).await;
    assert_eq!(ack["role"], "moderator", "{ack}");
    assert_eq!(ack["moderators"], json!(["max", "mia"]));
    assert_eq!(ack["slow_mode"], 0);
    assert!(ack.get("muted_until").is_none(), "{ack}");
    assert_eq!(
        sam.ack("join", json!({"room": "hall"})).await["role"],
        "member"
    );
    assert_eq!(
        olga.ack("join", json!({"room": "hall"})).await["role"],
        "owner"
    );

    // The owner dismisses a moderator, who then moderates nothing.
    let ack = olga
        .ack(
            "moderator",
            json!({"room": "hall", "user": "mia", "on": false}),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let n = sam.next("moderation").await;
    assert_eq!(
        (n["action"].as_str(), n["user"].as_str()),
        (Some("dismissed"), Some("mia"))
    );
    let ack = mia.ack("mute", mute("sam")).await;
    assert_eq!(code(&ack), "forbidden");

    // A ban takes the moderator role away; appointed again while banned,
    // a moderator still moderates nothing.
    olga.ack("ban", ban("max")).await;
    assert_eq!(code(&max.ack("mute", mute("sam")).await), "forbidden");
    olga.ack("moderator", appoint("max")).await;
    assert_eq!(code(&max.ack("mute", mute("sam")).await), "forbidden");
    sam.chat("hall", "never muted").await;
}

async fn a_muted_user_reads_but_cannot_post_until_the_mute_ends(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (mut olga, mia, mut sam) = hall(&app).await;
    let ack = mia
        .ack("mute", json!({"room": "hall", "user": "sam", "seconds": 2}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let until = ack["until"].as_i64().expect("until");
    let n = sam.next("moderation").await;
    assert_eq!(n["action"], "muted");
    assert_eq!(n["until"], until);
    assert_eq!(olga.next("moderation").await["user"], "sam");

    // Refused with when it ends, on the socket and over HTTP.
    let refused = sam
        .ack("chat", json!({"room": "hall", "message": "let me speak"}))
        .await;
    assert_eq!(code(&refused), "muted", "{refused}");
    assert_eq!(refused["until"], until);
    let r = app
        .post(
            "/api/rooms/hall/messages",
            json!({"message": "http"}),
            Some(&token("sam", None)),
        )
        .await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        (body["error"].as_str(), body["until"].as_i64()),
        (Some("muted"), Some(until))
    );
    // A new socket of sam's is told at join.
    let other = user(&app, "sam").await;
    let joined = other.ack("join", json!({"room": "hall"})).await;
    assert_eq!(joined["muted_until"], until, "{joined}");

    // Sam still reads the room.
    olga.chat("hall", "you can read this").await;
    assert_eq!(sam.next("chat").await["message"], "you can read this");
    // Nothing of his was stored.
    let h = olga.ack("history", json!({"room": "hall"})).await;
    let texts: Vec<&str> = h["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(texts, ["you can read this"]);

    // The mute expires on its own.
    let wait = until - roomcast::domain::now_ms() + 50;
    tokio::time::sleep(std::time::Duration::from_millis(wait.max(0) as u64)).await;
    sam.chat("hall", "free again").await;

    // Muted again, then unmuted by the owner: posting works at once.
    mia.ack(
        "mute",
        json!({"room": "hall", "user": "sam", "seconds": 600}),
    )
    .await;
    assert_eq!(
        code(
            &sam.ack("chat", json!({"room": "hall", "message": "x"}))
                .await
        ),
        "muted"
    );
    let ack = olga
        .ack("unmute", json!({"room": "hall", "user": "sam"}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    sam.chat("hall", "unmuted").await;
    olga.drain("moderation");
}

/// Moderation reaches the changes of issue 14's other half: a muted user's
/// edits and reactions are refused like their chats (`muted`, socket and
/// HTTP), and a moderator (not only the owner) deletes anyone's message.
async fn muted_users_change_nothing_and_moderators_delete_any_message(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (mut olga, mia, mut sam) = hall(&app).await;
    let id = sam.chat("hall", "before the mute").await["id"]
        .as_i64()
        .expect("id");
    assert_eq!(olga.next("chat").await["id"], id);
    let ack = mia
        .ack(
            "mute",
            json!({"room": "hall", "user": "sam", "seconds": 600}),
        )
        .await;
    let until = ack["until"].as_i64().expect("until");
    for (event, payload) in [
        (
            "edit",
            json!({"room": "hall", "id": id, "message": "changed"}),
        ),
        ("react", json!({"room": "hall", "id": id, "emoji": "👍"})),
        ("unreact", json!({"room": "hall", "id": id, "emoji": "👍"})),
    ] {
        let refused = sam.ack(event, payload).await;
        assert_eq!(code(&refused), "muted", "{event}: {refused}");
        assert_eq!(refused["until"], until, "{event}");
    }
    let sam_token = token("sam", None);
    let r = app
        .patch(
            &format!("/api/rooms/hall/messages/{id}"),
            json!({"message": "changed"}),
            Some(&sam_token),
        )
        .await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "muted", "{body}");

    // Mia, a moderator, deletes sam's message; the room sees the tombstone.
    let ack = mia.ack("delete", json!({"room": "hall", "id": id})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let gone = olga.next("delete").await;
    assert_eq!(
        (gone["id"].as_i64(), gone["message"].as_str()),
        (Some(id), Some(""))
    );
    assert_eq!(gone["deleted"]["by"], "mia", "{gone}");
    // The stored message is as everyone saw it: text gone, never edited.
    let h = olga.ack("history", json!({"room": "hall"})).await;
    let stored = &h["messages"][0];
    assert_eq!(
        (stored["message"].as_str(), stored.get("edited")),
        (Some(""), None),
        "{h}"
    );
    sam.drain("moderation");
}

async fn a_ban_puts_every_socket_out_of_a_public_room_until_unbanned(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (mut olga, mia, mut sam) = hall(&app).await;
    // A token naming the room does not keep a banned user in.
    let mut claimed = app
        .connect(Connect::token(token("sam", Some(&["hall"]))))
        .await
        .expect("claimed");
    claimed.join("hall").await;
    sam.join("lobby").await;

    let ack = mia.ack("ban", json!({"room": "hall", "user": "sam"})).await;
    assert_eq!(ack, json!({"ok": true}));
    for c in [&mut sam, &mut claimed] {
        let n = c.next("moderation").await;
        assert_eq!(
            (n["action"].as_str(), n["by"]["id"].as_str()),
            (Some("banned"), Some("mia"))
        );
        let leave = c.next("leave").await;
        assert_eq!(
            (leave["room"].as_str(), leave["reason"].as_str()),
            (Some("hall"), Some("banned"))
        );
    }
    let leave = olga.next("leave").await;
    assert_eq!(
        (leave["user"]["id"].as_str(), leave["reason"].as_str()),
        (Some("sam"), Some("banned"))
    );

    // Out at once: the room's chats no longer reach him, and he can neither
    // post, rejoin nor read it.
    olga.chat("hall", "after the ban").await;
    // Sam's own chat in another room is stored after olga's (acked), and
    // chats reach a socket in commit order.
    sam.chat("lobby", "barrier").await;
    sam.none_before("chat", "chat", |m| m["room"] == "lobby")
        .await;
    let sam_token = token("sam", None);
    let cases = [
        sam.ack("chat", json!({"room": "hall", "message": "hi"}))
            .await,
        sam.ack("join", json!({"room": "hall"})).await,
        sam.ack("history", json!({"room": "hall"})).await,
        claimed.ack("join", json!({"room": "hall"})).await,
    ];
    let codes: Vec<&str> = cases.iter().map(code).collect();
    assert_eq!(
        codes,
        ["not_in_room", "forbidden", "forbidden", "forbidden"]
    );
    let r = app.get("/api/rooms/hall/messages", Some(&sam_token)).await;
    assert_eq!(r.status(), 403);
    let r = app
        .post(
            "/api/rooms/hall/messages",
            json!({"message": "x"}),
            Some(&sam_token),
        )
        .await;
    assert_eq!(r.status(), 403);
    let online = olga.ack("join", json!({"room": "hall"})).await;
    assert_eq!(
        online["online"].as_array().map(Vec::len),
        Some(2),
        "{online}"
    );

    // Unbanned, he may join again.
    let ack = olga
        .ack("unban", json!({"room": "hall", "user": "sam"}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(sam.next("moderation").await["action"], "unbanned");
    sam.join("hall").await;
    sam.chat("hall", "back").await;
}

async fn a_ban_removes_the_invitation_to_a_private_room(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let owner = token("olga", None);
    let r = app
        .post(
            "/api/rooms",
            json!({"name": "staff", "visibility": "private"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status(), 201);
    let mut sam = user(&app, "sam").await;
    let r = app
        .post(
            "/api/rooms/staff/members",
            json!({"user": "sam"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status(), 201);
    sam.join("staff").await;
    let r = app
        .http
        .put(app.url("/api/rooms/staff/bans/sam"))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 204);
    assert_eq!(sam.next("leave").await["reason"], "banned");
    let r = app.delete("/api/rooms/staff/bans/sam", Some(&owner)).await;
    assert_eq!(r.status(), 204);
    // Unbanned, but no longer invited.
    assert_eq!(
        code(&sam.ack("join", json!({"room": "staff"})).await),
        "forbidden"
    );
}

async fn slow_mode_allows_one_message_per_interval_and_says_the_wait(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (mut olga, mia, mut sam) = hall(&app).await;
    let ack = mia
        .ack("slow_mode", json!({"room": "hall", "seconds": 30}))
        .await;
    assert_eq!(ack, json!({"ok": true}));
    let n = sam.next("moderation").await;
    assert_eq!(
        (n["action"].as_str(), n["seconds"].as_i64()),
        (Some("slow_mode"), Some(30))
    );
    assert!(n.get("user").is_none(), "{n}");
    assert_eq!(
        sam.ack("join", json!({"room": "hall"})).await["slow_mode"],
        30
    );

    // Two chats sent without waiting: the second is checked after the first is stored.
    let first = sam.ack("chat", json!({"room": "hall", "message": "one"}));
    let second = sam.ack("chat", json!({"room": "hall", "message": "two"}));
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first["ok"], true, "{first}");
    assert_eq!(code(&second), "rate_limited", "{second}");
    let wait = second["retry_after_ms"].as_i64().expect("retry_after_ms");
    assert!((1..=30_000).contains(&wait), "{second}");

    // Another socket of sam's, and HTTP, are held back by the stored message.
    let mut other = user(&app, "sam").await;
    other.join("hall").await;
    assert_eq!(
        code(
            &other
                .ack("chat", json!({"room": "hall", "message": "three"}))
                .await
        ),
        "rate_limited"
    );
    let r = app
        .post(
            "/api/rooms/hall/messages",
            json!({"message": "four"}),
            Some(&token("sam", None)),
        )
        .await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=30).contains(&retry), "{retry}");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "rate_limited");
    assert!(
        body["retry_after_ms"].as_i64().is_some_and(|ms| ms > 0),
        "{body}"
    );

    // The owner and moderators are exempt.
    for _ in 0..2 {
        olga.chat("hall", "owner").await;
        mia.chat("hall", "moderator").await;
    }
    // Off again: sam posts at once.
    let r = app
        .http
        .patch(app.url("/api/rooms/hall"))
        .bearer_auth(token("olga", None))
        .json(&json!({"slow_mode": 0}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 204);
    assert_eq!(olga.next("moderation").await["seconds"], 30);
    assert_eq!(olga.next("moderation").await["seconds"], 0);
    sam.chat("hall", "free").await;
}

async fn moderation_over_http_lists_and_changes_what_sockets_see(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (_olga, _mia, mut sam) = hall(&app).await;
    let (owner, moderator, member) = (token("olga", None), token("mia", None), token("sam", None));
    let put = |path: &str, bearer: &str, body: Option<Value>| {
        let mut req = app.http.put(app.url(path)).bearer_auth(bearer);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    let r = put(
        "/api/rooms/hall/mutes/sam",
        &moderator,
        Some(json!({"seconds": 120})),
    )
    .await
    .expect("put");
    assert_eq!(r.status(), 200);
    let mute: Value = r.json().await.expect("json");
    assert_eq!(
        (mute["user"].as_str(), mute["by"].as_str()),
        (Some("sam"), Some("mia"))
    );
    assert_eq!(sam.next("moderation").await["until"], mute["until"]);
    let r = put("/api/rooms/hall/bans/eve", &moderator, None)
        .await
        .expect("put");
    assert_eq!(r.status(), 204);
    let r = put("/api/rooms/hall/moderators/max", &owner, None)
        .await
        .expect("put");
    assert_eq!(r.status(), 204);

    let r = app
        .get("/api/rooms/hall/moderation", Some(&moderator))
        .await;
    assert_eq!(r.status(), 200);
    let view: Value = r.json().await.expect("json");
    assert_eq!(view["moderators"], json!(["max", "mia"]));
    assert_eq!(view["mutes"], json!([mute]));
    assert_eq!(view["bans"][0]["user"], "eve");
    assert_eq!(view["bans"][0]["by"], "mia");
    assert_eq!(view["slow_mode"], 0);
    let r = app.get("/api/rooms/hall/moderation", Some(&member)).await;
    assert_eq!(r.status(), 403);

    let r = put("/api/rooms/hall/moderators/sam", &moderator, None)
        .await
        .expect("put");
    assert_eq!(r.status(), 403);
    let r = app
        .delete("/api/rooms/hall/mutes/sam", Some(&moderator))
        .await;
    assert_eq!(r.status(), 204);
    let r = app
        .delete("/api/rooms/hall/moderators/max", Some(&owner))
        .await;
    assert_eq!(r.status(), 204);
    sam.chat("hall", "unmuted over HTTP").await;
}

/// `roomcast message delete` on a live server's database: the tombstone is
/// in the stream (a socket joining with `since` gets it, with its own
/// position after everything the server stored before), later chats keep
/// their order after it, and mistakes change nothing.
async fn the_cli_deletes_a_message_into_the_stream(backend: Backend) {
    use crate::admin::cli;
    let app = spawn_app_on(backend, |_| {}).await;
    let (olga, _mia, sam) = hall(&app).await;
    let secret = format!("cli-delete-{}", roomcast::domain::now_ms());
    let id = sam.chat("hall", &secret).await["id"].as_i64().expect("id");
    let after = olga.chat("hall", "after it").await["id"]
        .as_i64()
        .expect("id");

    let out = cli(&app, &["message", "delete", "hall", &id.to_string()], "").await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        out.stdout.trim(),
        format!("deleted message {id} of room hall")
    );

    // Catch-up from the last id seen brings the tombstone, once.
    let back = user(&app, "sam").await;
    let joined = back
        .ack("join", json!({"room": "hall", "since": after}))
        .await;
    let history = joined["history"].as_array().expect("history");
    assert_eq!(history.len(), 1, "{joined}");
    let tomb = &history[0];
    assert_eq!(
        (tomb["id"].as_i64(), tomb["message"].as_str()),
        (Some(id), Some(""))
    );
    assert_eq!(tomb["deleted"]["by"], "@admin", "{tomb}");
    let seq = tomb["seq"].as_i64().expect("seq");
    assert!(
        seq > after,
        "the deletion is positioned after {after}: {seq}"
    );
    // The server's next message is positioned after the CLI's change.
    let next = olga.chat("hall", "next").await;
    let next_seq = next["id"].as_i64().expect("id");
    assert!(next_seq > seq, "{next_seq} after {seq}");

    for (args, says) in [
        (
            vec!["message", "delete", "hall", &id.to_string()[..]],
            "no message",
        ),
        (
            vec!["message", "delete", "hall", "999999"],
            "no message 999999",
        ),
        (vec!["message", "delete", "a b", "1"], "room"),
    ] {
        let out = cli(&app, &args, "").await;
        assert!(!out.ok, "{args:?}: {}", out.stdout);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    let h = olga.ack("history", json!({"room": "hall"})).await;
    let texts: Vec<&str> = h["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(texts, ["", "after it", "next"]);
}

async fn the_cli_bans_and_mutes_on_a_live_servers_database(backend: Backend) {
    use crate::admin::cli;
    let app = spawn_app_on(backend, |_| {}).await;
    let (_olga, _mia, sam) = hall(&app).await;

    let out = cli(&app, &["room", "mute", "hall", "sam", "--minutes", "5"], "").await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "muted sam in room hall for 5 minutes");
    // Sockets in the room learn of it at their next chat.
    let refused = sam
        .ack("chat", json!({"room": "hall", "message": "x"}))
        .await;
    assert_eq!(code(&refused), "muted", "{refused}");
    let until = refused["until"].as_i64().expect("until");
    let left = until - roomcast::domain::now_ms();
    assert!((290_000..=300_000).contains(&left), "{left}");
    let out = cli(&app, &["room", "unmute", "hall", "sam"], "").await;
    assert!(out.ok, "{}", out.stderr);
    sam.chat("hall", "unmuted by the CLI").await;

    let out = cli(&app, &["room", "ban", "hall", "sam"], "").await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "banned sam from room hall");
    let refused = sam
        .ack("chat", json!({"room": "hall", "message": "x"}))
        .await;
    assert_eq!(code(&refused), "forbidden", "{refused}");
    let again = user(&app, "sam").await;
    assert_eq!(
        code(&again.ack("join", json!({"room": "hall"})).await),
        "forbidden"
    );
    let out = cli(&app, &["room", "unban", "hall", "sam"], "").await;
    assert!(out.ok, "{}", out.stderr);
    again.ack("join", json!({"room": "hall"})).await;

    // Mistakes change nothing and say why.
    for (args, says) in [
        (&["room", "ban", "hall", "olga"][..], "owns room hall"),
        (&["room", "ban", "nowhere", "sam"][..], "no room nowhere"),
        (&["room", "unban", "hall", "sam"][..], "not banned"),
        (&["room", "mute", "hall", "sam", "--minutes", "0"][..], "0"),
    ] {
        let out = cli(&app, args, "").await;
        assert!(!out.ok, "{args:?} succeeded");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    sam.chat("hall", "still fine").await;
}

crate::on_both_backends!(
    the_cli_bans_and_mutes_on_a_live_servers_database,
    the_cli_deletes_a_message_into_the_stream,
    roles_follow_the_rules_and_refusals_change_nothing,
    a_muted_user_reads_but_cannot_post_until_the_mute_ends,
    muted_users_change_nothing_and_moderators_delete_any_message,
    a_ban_puts_every_socket_out_of_a_public_room_until_unbanned,
    a_ban_removes_the_invitation_to_a_private_room,
    slow_mode_allows_one_message_per_interval_and_says_the_wait,
    moderation_over_http_lists_and_changes_what_sockets_see,
);

/// The official JS client: mute then ban, as a browser's script would see them.
#[tokio::test]
async fn the_official_js_client_sees_mute_and_ban() {
    let app = spawn_app().await;
    let root = env!("CARGO_MANIFEST_DIR");
    let out = tokio::process::Command::new("node")
        .arg(format!("{root}/tests/js/moderation.cjs"))
        .arg(format!("http://{}", app.addr))
        .arg(token("olga", None))
        .arg(token("sam", None))
        .env("NODE_PATH", format!("{root}/web/node_modules"))
        .kill_on_drop(true)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_str(stdout.trim()).expect("json line");
    let until = r["mute"]["until"].as_i64().expect("until");
    assert_eq!(
        (
            r["muted"]["action"].as_str(),
            r["muted"]["user"].as_str(),
            r["muted"]["until"].as_i64()
        ),
        (Some("muted"), Some("sam"), Some(until))
    );
    assert_eq!(
        (
            r["refused"]["error"].as_str(),
            r["refused"]["until"].as_i64()
        ),
        (Some("muted"), Some(until))
    );
    assert_eq!(r["ban"], json!({"ok": true}));
    assert_eq!(r["banned"]["action"], "banned");
    assert_eq!(r["leave"]["reason"], "banned");
    assert_eq!(r["rejoin"]["error"], "forbidden");
}
