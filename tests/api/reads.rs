//! Your rooms and read state (docs/protocol.md §4 "Your rooms and read
//! state"): the list, exact unread counts, `read` across a user's sockets,
//! `activity` for rooms a socket has not joined, and `leave_room`.

use serde_json::{Value, json};

use crate::durability::start_binary;
use crate::helpers::*;
use crate::on_both_backends;

/// The entry for `room` in `who`'s `rooms` answer.
async fn listed(who: &TestClient, room: &str) -> Value {
    let ack = who.ack("rooms", json!({})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    ack["rooms"]
        .as_array()
        .and_then(|rooms| rooms.iter().find(|r| r["name"] == room))
        .cloned()
        .unwrap_or(Value::Null)
}

async fn unread(who: &TestClient, room: &str) -> i64 {
    let entry = listed(who, room).await;
    assert_eq!(entry["member"], true, "{room} is not listed: {entry}");
    entry["unread"].as_i64().expect("unread")
}

/// The private room `staff`, made by olga, with her socket in it: her
/// token and the socket.
async fn staff_room(app: &TestApp) -> (String, TestClient) {
    let (owner, mut olga) = app.private_room("staff", "olga").await;
    olga.join("staff").await;
    (owner, olga)
}

fn id(ack: &Value) -> i64 {
    ack["id"].as_i64().expect("an id")
}

async fn counts_are_exact(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut alice = app.client("alice").await;
    let mut bob = app.client("bob").await;
    let mut carol = app.client("carol").await;
    alice.join("general").await;
    bob.join("general").await;
    let a1 = id(&alice.chat("general", "one").await);
    let a2 = id(&alice.chat("general", "two").await);
    let a3 = id(&alice.chat("general", "three").await);

    let entry = listed(&bob, "general").await;
    assert_eq!(entry["member"], true, "{entry}");
    assert_eq!(entry["unread"], 3, "{entry}");
    assert_eq!(entry["read"], 0, "{entry}");
    assert_eq!(entry["last"]["id"], a3, "{entry}");
    assert_eq!(entry["last"]["user"]["id"], "alice", "{entry}");
    assert_eq!(entry["last"]["excerpt"], "three", "{entry}");
    // Her own posts are read: they moved her position.
    assert_eq!(unread(&alice, "general").await, 0);

    let ack = bob.ack("read", json!({"room": "general", "id": a2})).await;
    assert_eq!(ack, json!({"ok": true, "id": a2}));
    assert_eq!(unread(&bob, "general").await, 1);

    // Carol comes in with everything so far read.
    carol.join("general").await;
    assert_eq!(unread(&carol, "general").await, 0);
    let c1 = id(&carol.chat("general", "hi all").await);
    assert_eq!(unread(&bob, "general").await, 2);
    assert_eq!(unread(&alice, "general").await, 1);
    assert_eq!(unread(&carol, "general").await, 0);

    // A deleted message is not unread, nor the latest.
    let ack = alice
        .ack("delete", json!({"room": "general", "id": a3}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(unread(&bob, "general").await, 1);
    assert_eq!(listed(&bob, "general").await["last"]["id"], c1);

    let b1 = id(&bob.chat("general", "back").await);
    assert_eq!(unread(&bob, "general").await, 0);
    assert_eq!(listed(&bob, "general").await["read"], b1);
    assert_eq!(unread(&alice, "general").await, 2);
    assert_eq!(unread(&carol, "general").await, 1);

    // Positions never move back.
    let ack = bob.ack("read", json!({"room": "general", "id": a1})).await;
    assert_eq!(ack, json!({"ok": true, "id": b1}));

    // A room bob can see but never joined is listed without counts.
    alice.join("elsewhere").await;
    alice.chat("elsewhere", "unseen").await;
    let entry = listed(&bob, "elsewhere").await;
    assert_eq!(entry["name"], "elsewhere", "{entry}");
    assert!(entry.get("member").is_none(), "{entry}");
    assert!(entry.get("unread").is_none(), "{entry}");

    // Over HTTP: the same list, and the same read.
    let bearer = token("alice", None);
    let r = app.get("/api/rooms", Some(&bearer)).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    let general = body["rooms"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == "general"))
        .cloned()
        .expect("general");
    assert_eq!(general["unread"], 2, "{general}");
    let r = app
        .put("/api/rooms/general/read", json!({"id": b1}), Some(&bearer))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json"), json!({"id": b1}));
    assert_eq!(unread(&alice, "general").await, 0);
}

async fn reads_reach_the_users_other_sockets(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut alice = app.client("alice").await;
    alice.join("general").await;
    let mut laptop = app.client("bob").await;
    laptop.join("general").await;
    let mut phone = app.client("bob").await;
    let mut carol = app.client("carol").await;
    let m = id(&alice.chat("general", "news").await);

    let ack = laptop
        .ack("read", json!({"room": "general", "id": m}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(
        phone.next("read").await,
        json!({"room": "general", "id": m})
    );
    assert_eq!(unread(&phone, "general").await, 0);
    // Over HTTP too, to every socket of the user.
    let m2 = id(&alice.chat("general", "more").await);
    let r = app
        .put(
            "/api/rooms/general/read",
            json!({"id": m2}),
            Some(&token("bob", None)),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(phone.next("read").await["id"], m2);
    assert_eq!(laptop.next("read").await["id"], m2);
    // The reading socket is not told of its own read, and nobody else is:
    // the notices are emitted before the ack (and the HTTP answer).
    let m3 = id(&alice.chat("general", "again").await);
    laptop
        .ack("read", json!({"room": "general", "id": m3}))
        .await;
    assert_eq!(phone.next("read").await["id"], m3);
    laptop.none_before_ack("read").await;
    carol.none_before_ack("read").await;
    alice.none_before_ack("read").await;
}

async fn activity_reaches_sockets_not_in_the_room(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut alice = app.client("alice").await;
    alice.join("general").await;
    // Connected before general is in bob's list: it is told once bob joins.
    let mut sidebar = app.client("bob").await;
    let mut inside = app.client("bob").await;
    inside.join("general").await;
    let mut stranger = app.client("carol").await;
    stranger.join("other").await;

    let m = id(&alice.chat("general", "ping").await);
    let notice = sidebar.next("activity").await;
    assert_eq!(notice["room"], "general", "{notice}");
    assert_eq!(notice["id"], m, "{notice}");
    assert_eq!(notice["user"]["id"], "alice", "{notice}");
    // The socket in the room gets the chat and no `activity` (emitted
    // before the chat); carol, whose list lacks general, gets none: her
    // barrier is a chat to her room, committed after alice's.
    inside
        .none_before("activity", "chat", |c| c["id"] == m)
        .await;
    alice.join("other").await;
    alice.chat("other", "barrier").await;
    stranger
        .none_before("activity", "chat", |c| c["room"] == "other")
        .await;

    // A new socket of bob's gets it from its first moment.
    let mut later = app.client("bob").await;
    let m2 = id(&alice.chat("general", "pong").await);
    assert_eq!(later.next("activity").await["id"], m2);

    // Leaving the room puts the socket back on `activity`.
    let ack = inside.ack("leave", json!({"room": "general"})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let m3 = id(&alice.chat("general", "again").await);
    assert_eq!(inside.next("activity").await["id"], m3);
}

async fn leaving_a_room_for_good(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut alice = app.client("alice").await;
    alice.join("general").await;
    let mut bob = app.client("bob").await;
    bob.join("general").await;
    let mut other = app.client("bob").await;
    other.join("general").await;
    let mut sidebar = app.client("bob").await;
    alice.next("join").await;
    alice.next("join").await;

    let ack = bob.ack("leave_room", json!({"room": "general"})).await;
    assert_eq!(ack, json!({"ok": true}));
    // Every socket of bob's left, and the room was told.
    assert_eq!(bob.next("leave").await["reason"], "left");
    assert_eq!(other.next("leave").await["reason"], "left");
    let notice = alice.next("leave").await;
    assert_eq!(notice["user"]["id"], "bob", "{notice}");
    assert_eq!(notice["reason"], "left", "{notice}");
    let ack = bob
        .ack("chat", json!({"room": "general", "message": "x"}))
        .await;
    assert_eq!(ack["error"], "not_in_room", "{ack}");
    let entry = listed(&bob, "general").await;
    assert!(entry.get("member").is_none(), "{entry}");

    // No more activity: the barrier is a chat in a room the sidebar is in,
    // committed after the one to general.
    sidebar.join("side").await;
    alice.chat("general", "gone?").await;
    alice.join("side").await;
    alice.chat("side", "barrier").await;
    sidebar
        .none_before("activity", "chat", |c| c["room"] == "side")
        .await;

    // Not in the list: `not_found`, for the event, `read` and HTTP alike.
    let ack = bob.ack("leave_room", json!({"room": "general"})).await;
    assert_eq!(ack["error"], "not_found", "{ack}");
    let ack = bob.ack("read", json!({"room": "general", "id": 1})).await;
    assert_eq!(ack["error"], "not_found", "{ack}");
    let r = app
        .delete("/api/rooms/general/membership", Some(&token("bob", None)))
        .await;
    assert_eq!(r.status(), 404);

    // Joining again puts it back, read up to now.
    bob.join("general").await;
    assert_eq!(unread(&bob, "general").await, 0);
    let r = app
        .delete("/api/rooms/general/membership", Some(&token("bob", None)))
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(bob.next("leave").await["reason"], "left");
}

async fn bad_reads_change_nothing(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut alice = app.client("alice").await;
    alice.join("general").await;
    let mut bob = app.client("bob").await;
    bob.join("general").await;
    let m = id(&alice.chat("general", "one").await);
    alice.chat("general", "two").await;
    let cases = [
        (json!({"room": "general", "id": m + 100}), "invalid_payload"),
        (json!({"room": "general", "id": -1}), "invalid_payload"),
        (json!({"room": "general", "id": "5"}), "invalid_payload"),
        (json!({"room": "general", "id": 1.5}), "invalid_payload"),
        (json!({"room": "general"}), "invalid_payload"),
        (json!({"room": "bad name", "id": m}), "invalid_room"),
        (json!({"room": "nowhere", "id": m}), "not_found"),
        (json!("general"), "invalid_payload"),
    ];
    for (payload, code) in cases {
        let ack = bob.ack("read", payload.clone()).await;
        assert_eq!(ack["ok"], false, "{payload}: {ack}");
        assert_eq!(ack["error"], code, "{payload}: {ack}");
        assert!(ack["message"].is_string(), "{ack}");
    }
    let bearer = token("bob", None);
    for (body, status) in [
        (json!({"id": m + 100}), 400),
        (json!({"id": -3}), 400),
        (json!({}), 400),
    ] {
        let r = app
            .put("/api/rooms/general/read", body.clone(), Some(&bearer))
            .await;
        assert_eq!(r.status(), status, "{body}");
    }
    let r = app
        .put(
            "/api/rooms/bad%20name/read",
            json!({"id": m}),
            Some(&bearer),
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .put("/api/rooms/general/read", json!({"id": m}), None)
        .await;
    assert_eq!(r.status(), 401);
    // Nothing moved, and bob's socket is still connected and in the room.
    assert_eq!(unread(&bob, "general").await, 2);
    bob.chat("general", "still here").await;
}

async fn private_rooms_in_the_list(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (owner, olga) = staff_room(&app).await;
    let m = id(&olga.chat("staff", "before the invitation").await);
    // Sam's socket, connected before he is invited, hears of the room's
    // messages from the invitation on; the invitation itself is read.
    let mut sam = app.client("sam").await;
    let r = app
        .post(
            "/api/rooms/staff/members",
            json!({"user": "sam"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status(), 201);
    let entry = listed(&sam, "staff").await;
    assert_eq!(entry["member"], true, "{entry}");
    assert_eq!(entry["unread"], 0, "{entry}");
    assert_eq!(entry["read"], m, "{entry}");
    let m2 = id(&olga.chat("staff", "welcome").await);
    assert_eq!(sam.next("activity").await["id"], m2);
    assert_eq!(unread(&sam, "staff").await, 1);

    // Removed: out of his list, and no more activity (the barrier: a chat
    // in his own room, committed after olga's).
    let r = app
        .delete("/api/rooms/staff/members/sam", Some(&owner))
        .await;
    assert_eq!(r.status(), 204);
    olga.chat("staff", "private again").await;
    sam.join("own").await;
    sam.chat("own", "barrier").await;
    sam.none_before("activity", "chat", |c| c["room"] == "own")
        .await;
    assert!(listed(&sam, "staff").await.is_null());

    // Leaving a private room for good gives its invitation up.
    let r = app
        .post(
            "/api/rooms/staff/members",
            json!({"user": "sam"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status(), 201);
    sam.join("staff").await;
    let ack = sam.ack("leave_room", json!({"room": "staff"})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let ack = sam.ack("join", json!({"room": "staff"})).await;
    assert_eq!(ack["error"], "forbidden", "{ack}");
}

async fn mentions_are_counted_and_follow_edits(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut alice = app.client("alice").await;
    alice.join("general").await;
    let mut bob = app.client("bob").await;
    bob.join("general").await;
    let mut bob_sidebar = app.client("bob").await;
    let (zed_token, _) = app.register_and_login("zed").await;
    let mut zed = app.connect(Connect::token(zed_token)).await.expect("zed");
    zed.join("general").await;
    let mut carol = app.client("carol").await;
    carol.join("general").await;
    bob.ack("leave", json!({"room": "general"})).await;

    // JWT users by their subject, accounts by their username; unknown
    // names, e-mail addresses and the author herself are no mentions.
    let text = "hi @bob, @zed and @nobody (mail me: x@carol.example) @alice";
    let ack = alice.chat("general", text).await;
    let m = id(&ack);
    let chat = carol.next("chat").await;
    assert_eq!(chat["mentions"], json!(["bob", "acct:zed"]), "{chat}");
    let history = alice.ack("history", json!({"room": "general"})).await;
    assert_eq!(
        history["messages"][0]["mentions"],
        json!(["bob", "acct:zed"])
    );
    // Bob's sockets outside the room hear it as a mention; carol's list
    // has the room but she is not mentioned.
    for socket in [&mut bob, &mut bob_sidebar] {
        let notice = socket.next("activity").await;
        assert_eq!(notice["id"], m, "{notice}");
        assert_eq!(notice["mention"], true, "{notice}");
    }
    let entry = listed(&bob, "general").await;
    assert_eq!(
        (entry["unread"].clone(), entry["mentions"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(listed(&zed, "general").await["mentions"], 1);
    assert_eq!(listed(&carol, "general").await["mentions"], 0);
    let m2 = id(&alice.chat("general", "no names here").await);
    let plain = bob.next("activity").await;
    assert_eq!(
        (plain["id"].clone(), plain["mention"].clone()),
        (json!(m2), json!(false))
    );

    // An edit mentions whom the new text names; a deletion no one.
    let ack = alice
        .ack(
            "edit",
            json!({"room": "general", "id": m, "message": "only @zed now"}),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let edited = carol.next("edit").await;
    assert_eq!(edited["mentions"], json!(["acct:zed"]), "{edited}");
    assert_eq!(listed(&bob, "general").await["mentions"], 0);
    assert_eq!(listed(&zed, "general").await["mentions"], 1);
    let ack = alice
        .ack("delete", json!({"room": "general", "id": m}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let deleted = carol.next("delete").await;
    assert!(deleted.get("mentions").is_none(), "{deleted}");
    assert_eq!(listed(&zed, "general").await["mentions"], 0);
    // Reading past a mention clears it.
    alice.chat("general", "@zed again").await;
    assert_eq!(listed(&zed, "general").await["mentions"], 1);
    let newest = id(&alice.chat("general", "and more").await);
    zed.ack("read", json!({"room": "general", "id": newest}))
        .await;
    let entry = listed(&zed, "general").await;
    assert_eq!(
        (entry["unread"].clone(), entry["mentions"].clone()),
        (json!(0), json!(0))
    );

    // Nobody is mentioned into a private room they may not read.
    let (_, olga) = staff_room(&app).await;
    let ack = olga.chat("staff", "@bob cannot read this").await;
    let page = olga.ack("history", json!({"room": "staff"})).await;
    assert_eq!(page["messages"][0]["id"], ack["id"]);
    assert!(page["messages"][0].get("mentions").is_none(), "{page}");
}

/// Counts stay exact where the post numbers do not start at 1 or end with
/// deletions: a room deleted and made again under its name (the writer may
/// number on from where the old one stopped), a member added before its
/// first post, reads between posts and deletions after the newest read.
async fn counts_in_a_room_made_again(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (owner, mut olga) = app.private_room("again", "olga").await;
    olga.join("again").await;
    for i in 0..3 {
        olga.chat("again", &format!("old {i}")).await;
    }
    let ack = olga.ack("delete_room", json!({"room": "again"})).await;
    assert_eq!(ack, json!({"ok": true}));
    olga.next("room_deleted").await;
    // Made again by her: the same bearer token.
    let mut olga = app.private_room("again", "olga").await.1;
    // Sam is invited while the new room is still empty.
    let mut sam = app.client("sam").await;
    let r = app
        .post(
            "/api/rooms/again/members",
            json!({"user": "sam"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(unread(&sam, "again").await, 0);
    olga.join("again").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id(&olga.chat("again", &format!("new {i}")).await));
    }
    assert_eq!(unread(&sam, "again").await, 5);
    // Deleting the newest: one fewer, and the latest is the one before.
    let ack = olga
        .ack("delete", json!({"room": "again", "id": ids[4]}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let entry = listed(&sam, "again").await;
    assert_eq!(entry["unread"], 4, "{entry}");
    assert_eq!(entry["last"]["id"], ids[3], "{entry}");
    // Read up to the second; the third deleted: one left unread.
    let ack = sam
        .ack("read", json!({"room": "again", "id": ids[1]}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(unread(&sam, "again").await, 2);
    let ack = olga
        .ack("delete", json!({"room": "again", "id": ids[2]}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(unread(&sam, "again").await, 1);
    // Everything after the read position deleted: nothing unread.
    let ack = olga
        .ack("delete", json!({"room": "again", "id": ids[3]}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let entry = listed(&sam, "again").await;
    assert_eq!(entry["unread"], 0, "{entry}");
    assert_eq!(entry["last"]["id"], ids[1], "{entry}");
    // A new post counts from there, and sam's own post reads it all.
    olga.chat("again", "after all that").await;
    assert_eq!(unread(&sam, "again").await, 1);
    sam.join("again").await;
    sam.chat("again", "read").await;
    assert_eq!(unread(&sam, "again").await, 0);
    olga.chat("again", "one more").await;
    assert_eq!(unread(&sam, "again").await, 1);
}

/// An acked `read` survives `kill -9`, and posts numbered after a restart
/// go on from the stored numbers: the counts stay exact.
#[tokio::test]
async fn an_acked_read_survives_sigkill_and_counts_go_on() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("reads.db");
    let (mut server, addr) = start_binary(&db, Some(SECRET)).await;
    let url = format!("http://{addr}/");
    let connect = |sub: &'static str| {
        let url = url.clone();
        async move {
            TestClient::connect(&url, Connect::token(token(sub, None)))
                .await
                .expect("connect")
        }
    };
    let mut alice = connect("alice").await;
    alice.join("r").await;
    let mut bob = connect("bob").await;
    bob.join("r").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id(&alice.chat("r", &format!("m{i}")).await));
    }
    let ack = bob.ack("read", json!({"room": "r", "id": ids[2]})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    server.start_kill().expect("kill -9");
    server.wait().await.expect("reaped");

    let (_server, addr) = start_binary(&db, Some(SECRET)).await;
    let url = format!("http://{addr}/");
    let bob = TestClient::connect(&url, Connect::token(token("bob", None)))
        .await
        .expect("reconnect");
    let entry = listed(&bob, "r").await;
    assert_eq!(entry["read"], ids[2], "{entry}");
    assert_eq!(entry["unread"], 2, "{entry}");
    let mut alice = TestClient::connect(&url, Connect::token(token("alice", None)))
        .await
        .expect("reconnect");
    alice.join("r").await;
    alice.chat("r", "after the restart").await;
    alice.chat("r", "and again").await;
    assert_eq!(unread(&bob, "r").await, 4);
}

on_both_backends!(
    mentions_are_counted_and_follow_edits,
    counts_are_exact,
    counts_in_a_room_made_again,
    reads_reach_the_users_other_sockets,
    activity_reaches_sockets_not_in_the_room,
    leaving_a_room_for_good,
    bad_reads_change_nothing,
    private_rooms_in_the_list,
);
