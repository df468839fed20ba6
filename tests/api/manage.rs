//! Running a room (docs/protocol.md §4 "Room topic, members, deletion"):
//! its topic, its member list, its deletion by the owner, and invitations
//! of people the server does not know.

use roomcast::store::{Endpoint, Origin};
use serde_json::{Value, json};

use crate::admin::cli;
use crate::helpers::*;
use crate::on_both_backends;
use crate::webhooks::Receiver;

/// `room`'s entry in `who`'s `rooms` answer (null when not there).
async fn listed(who: &TestClient, room: &str) -> Value {
    let ack = who.ack("rooms", json!({})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    ack["rooms"]
        .as_array()
        .and_then(|rooms| rooms.iter().find(|r| r["name"] == room))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The user ids and roles of a member list, in order.
fn roles(list: &Value) -> Vec<(String, String)> {
    list["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            let id = m["user"]["id"].as_str().expect("id").to_owned();
            (id, m["role"].as_str().expect("role").to_owned())
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(u, r)| ((*u).to_owned(), (*r).to_owned()))
        .collect()
}

async fn appoint(owner: &TestClient, room: &str, user: &str) {
    let ack = owner
        .ack("moderator", json!({"room": room, "user": user, "on": true}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
}

async fn a_topic_is_set_shown_and_cleared(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut olga = app.client("olga").await;
    let mut sam = app.client("sam").await;
    olga.join("hall").await;
    sam.join("hall").await;
    appoint(&olga, "hall", "mia").await;

    let ack = olga
        .ack(
            "topic",
            json!({"room": "hall", "topic": "  Plans for Friday \t"}),
        )
        .await;
    assert_eq!(ack, json!({"ok": true}));
    for c in [&mut olga, &mut sam] {
        let n = c.next("topic").await;
        assert_eq!(n["room"], "hall", "{n}");
        assert_eq!(n["topic"], "Plans for Friday", "{n}");
        assert_eq!(n["by"], json!({"id": "olga", "name": "olga name"}), "{n}");
        assert!(n["ts"].is_i64(), "{n}");
    }
    // Durable and shown wherever the room is: the join ack, `rooms`, HTTP.
    let mut ann = app.client("ann").await;
    assert_eq!(ann.join("hall").await["room"]["topic"], "Plans for Friday");
    assert_eq!(listed(&sam, "hall").await["topic"], "Plans for Friday");
    let r = app.get("/api/rooms", Some(&token("sam", None))).await;
    let body: Value = r.json().await.expect("json");
    let hall = body["rooms"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == "hall"))
        .cloned()
        .expect("hall");
    assert_eq!(hall["topic"], "Plans for Friday", "{hall}");

    // Refused, each with nothing changed.
    let refusals = [
        (
            &sam,
            json!({"room": "hall", "topic": "mine now"}),
            "forbidden",
        ),
        (
            &olga,
            json!({"room": "hall", "topic": "é".repeat(251)}),
            "invalid_payload",
        ),
        (
            &olga,
            json!({"room": "hall", "topic": "two\nlines"}),
            "invalid_payload",
        ),
        (
            &olga,
            json!({"room": "hall", "topic": 5}),
            "invalid_payload",
        ),
        (&olga, json!({"room": "hall"}), "invalid_payload"),
        (&olga, json!({"room": "nowhere", "topic": "x"}), "not_found"),
    ];
    for (who, payload, code) in refusals {
        let ack = who.ack("topic", payload.clone()).await;
        assert_eq!(ack["ok"], false, "{payload}: {ack}");
        assert_eq!(ack["error"], code, "{payload}: {ack}");
        assert!(
            ack["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{ack}"
        );
    }
    let sams = token("sam", None);
    let both = json!({"slow_mode": 5, "topic": "sam's"});
    let r = app.patch("/api/rooms/hall", both, Some(&sams)).await;
    assert_eq!(r.status(), 403);
    let r = app.patch("/api/rooms/hall", json!({}), Some(&sams)).await;
    assert_eq!(r.status(), 400);
    assert_eq!(listed(&sam, "hall").await["topic"], "Plans for Friday");
    let r = app
        .get("/api/rooms/hall/moderation", Some(&token("olga", None)))
        .await;
    let m: Value = r.json().await.expect("json");
    assert_eq!(m["slow_mode"], 0, "the refused PATCH set no slow mode: {m}");

    // A moderator sets it over HTTP, with slow mode in the same PATCH. The
    // barrier: the refusals above were answered before this was sent, so
    // a notice of theirs would have come first.
    let mias = token("mia", None);
    let r = app
        .patch(
            "/api/rooms/hall",
            json!({"topic": "Plans v2", "slow_mode": 0}),
            Some(&mias),
        )
        .await;
    assert_eq!(r.status(), 204);
    let n = sam
        .none_before("topic", "topic", |n| n["topic"] == "Plans v2")
        .await;
    assert_eq!(n["by"]["id"], "mia", "{n}");
    assert_eq!(sam.next("moderation").await["action"], "appointed");
    assert_eq!(sam.next("moderation").await["action"], "slow_mode");

    // `""` clears it: the notice says so, and the room has none any more.
    let ack = olga
        .ack("topic", json!({"room": "hall", "topic": " "}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(sam.next("topic").await["topic"], "");
    assert!(listed(&sam, "hall").await.get("topic").is_none());
    ann.close().await;
    let mut ann = app.client("ann").await;
    assert!(ann.join("hall").await["room"].get("topic").is_none());

    // In a direct conversation, any of its people sets it; nobody else.
    let bob = app.client("bob").await;
    let dm = ann.ack("dm", json!({"user": "bob"})).await;
    let room = dm["room"]["name"].as_str().expect("room").to_owned();
    ann.join(&room).await;
    let ack = bob
        .ack("topic", json!({"room": room, "topic": "lunch"}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(ann.next("topic").await["topic"], "lunch");
    let ack = sam
        .ack("topic", json!({"room": room, "topic": "me too"}))
        .await;
    assert_eq!(ack["error"], "forbidden", "{ack}");
    let again = ann.ack("dm", json!({"user": "bob"})).await;
    assert_eq!(again["room"]["topic"], "lunch", "{again}");
}

async fn members_are_listed_owner_moderators_then_members(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (owner, olga) = app.private_room("staff", "olga").await;
    // Known to the server (connected once), then invited.
    let (carl, _) = app.register_and_login("carl").await;
    let mut people = Vec::new();
    for id in ["zed", "bob", "mia", "amy", "eve"] {
        people.push(app.client(id).await);
    }
    for id in ["zed", "bob", "mia", "amy", "acct:carl"] {
        let r = app
            .post(
                "/api/rooms/staff/members",
                json!({"user": id}),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status(), 201, "invite {id}");
    }
    appoint(&olga, "staff", "zed").await;
    appoint(&olga, "staff", "mia").await;

    let expected = pairs(&[
        ("olga", "owner"),
        ("mia", "moderator"),
        ("zed", "moderator"),
        ("amy", "member"),
        ("bob", "member"),
        ("acct:carl", "member"),
    ]);
    let ack = olga.ack("members", json!({"room": "staff"})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(roles(&ack), expected, "{ack}");
    assert_eq!(ack["more"], false);
    assert_eq!(
        ack["members"][0]["user"],
        json!({"id": "olga", "name": "olga name"})
    );
    assert_eq!(ack["members"][5]["user"]["name"], "carl");
    // Any member may ask, over HTTP too: the same list.
    let r = app.get("/api/rooms/staff/members", Some(&carl)).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(roles(&body), expected, "{body}");
    assert_eq!(body["more"], false);

    // A stranger may not read the room, so may not list it.
    let eve = &people[4];
    let ack = eve.ack("members", json!({"room": "staff"})).await;
    assert_eq!(ack["error"], "forbidden", "{ack}");
    let r = app
        .get("/api/rooms/staff/members", Some(&token("eve", None)))
        .await;
    assert_eq!(r.status(), 403);
    let ack = eve.ack("members", json!({"room": "nowhere"})).await;
    assert_eq!(ack["error"], "not_found", "{ack}");
    let r = app.get("/api/rooms/nowhere/members", Some(&carl)).await;
    assert_eq!(r.status(), 404);
    let ack = eve.ack("members", json!({"room": 5})).await;
    assert_eq!(ack["error"], "invalid_payload", "{ack}");

    // Who left for good is no member; a public room lists who joined it.
    let amy = &people[3];
    let ack = amy.ack("leave_room", json!({"room": "staff"})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let ack = eve.ack("join", json!({"room": "open"})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let ack = amy.ack("join", json!({"room": "open"})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let ack = olga.ack("members", json!({"room": "staff"})).await;
    assert!(!roles(&ack).iter().any(|(u, _)| u == "amy"), "{ack}");
    let ack = olga.ack("members", json!({"room": "open"})).await;
    assert_eq!(
        roles(&ack),
        pairs(&[("eve", "owner"), ("amy", "member")]),
        "{ack}"
    );
}

async fn the_owner_deletes_a_room_and_everyone_with_it_is_told(backend: Backend) {
    let secret = Endpoint::new_secret();
    let mut hooks = Receiver::start(0, &secret, &[]).await;
    let url = hooks.url();
    let app = spawn_app_on(backend, |s| {
        let only = ["room.deleted".to_owned()];
        let endpoint = Endpoint::new(
            "deleted",
            &url,
            &secret,
            Some(&only[..]),
            true,
            Origin::File,
        );
        s.webhooks = vec![endpoint.expect("endpoint")];
    })
    .await;
    let mut olga = app.client("olga").await;
    let mut sam = app.client("sam").await;
    let mut ann = app.client("ann").await;
    let mut mia = app.client("mia").await;
    olga.join("club").await;
    olga.join("side").await;
    sam.join("club").await;
    sam.join("side").await;
    mia.join("club").await;
    appoint(&olga, "club", "mia").await;
    // Ann has the room in her list but her socket is not in it.
    ann.join("club").await;
    ann.join("side").await;
    let ack = ann.ack("leave", json!({"room": "club"})).await;
    assert_eq!(ack["ok"], true, "{ack}");

    // Not the moderator's, not a member's: refused, and nothing changes.
    for who in [&mia, &sam] {
        let ack = who.ack("delete_room", json!({"room": "club"})).await;
        assert_eq!(ack["error"], "forbidden", "{ack}");
    }
    let r = app
        .delete("/api/rooms/club", Some(&token("mia", None)))
        .await;
    assert_eq!(r.status(), 403);
    let ack = olga.ack("delete_room", json!({"room": "nowhere"})).await;
    assert_eq!(ack["error"], "not_found", "{ack}");
    let ack = olga.ack("delete_room", json!({})).await;
    assert_eq!(ack["error"], "invalid_payload", "{ack}");
    olga.chat("club", "still here").await;
    assert_eq!(sam.next("chat").await["message"], "still here");
    assert_eq!(listed(&sam, "club").await["member"], true);

    let ack = olga.ack("delete_room", json!({"room": "club"})).await;
    assert_eq!(ack, json!({"ok": true}));
    // In the room, only listed, and the owner's own socket: all told.
    for c in [&mut sam, &mut ann, &mut mia, &mut olga] {
        let n = c.next("room_deleted").await;
        assert_eq!(n["room"], "club", "{n}");
        assert_eq!(n["by"], json!({"id": "olga", "name": "olga name"}), "{n}");
        assert!(n["ts"].is_i64(), "{n}");
    }
    // Everyone is out: a chat is not_in_room, the room is in no list.
    let ack = sam
        .ack("chat", json!({"room": "club", "message": "hello?"}))
        .await;
    assert_eq!(ack["error"], "not_in_room", "{ack}");
    assert!(listed(&sam, "club").await.is_null());
    assert!(listed(&ann, "club").await.is_null());
    let r = app
        .get("/api/rooms/club/messages", Some(&token("sam", None)))
        .await;
    assert_eq!(r.status(), 404);
    let hook = hooks.accepted(1).await.0;
    assert_eq!(hook[0]["type"], "room.deleted");
    assert_eq!(hook[0]["data"], json!({"room": "club"}));

    // The name is free again: a new room, with nothing of the old one.
    let ack = ann.join("club").await;
    assert_eq!(ack["role"], "owner", "{ack}");
    assert_eq!(ack["history"], json!([]), "{ack}");
    let ack = ann.ack("members", json!({"room": "club"})).await;
    assert_eq!(roles(&ack), pairs(&[("ann", "owner")]), "{ack}");
    // No socket of the old room's people is left in it or in its `@list/`
    // room: the new room's chat reaches none of them, as a chat or as
    // `activity`. The barrier: olga's chat in `side`, which sam is in,
    // stored after ann's in `club`.
    ann.chat("club", "a new room").await;
    olga.chat("side", "after").await;
    let barrier = sam
        .none_before("activity", "chat", |m| m["room"] == "side")
        .await;
    assert_eq!(barrier["message"], "after");
    let chats = sam.drain("chat");
    assert!(chats.iter().all(|m| m["room"] != "club"), "{chats:?}");

    // Over HTTP: 204, then the room is gone.
    let owner = token("olga", None);
    let r = app
        .post("/api/rooms", json!({"name": "den"}), Some(&owner))
        .await;
    assert_eq!(r.status(), 201);
    let r = app.delete("/api/rooms/den", Some(&owner)).await;
    assert_eq!(r.status(), 204);
    let r = app.delete("/api/rooms/den", Some(&owner)).await;
    assert_eq!(r.status(), 404);
    let hook = hooks.accepted(1).await.0;
    assert_eq!(hook[0]["data"], json!({"room": "den"}));

    // A direct conversation has no owner: nobody deletes it.
    let dm = sam.ack("dm", json!({"user": "ann"})).await;
    let room = dm["room"]["name"].clone();
    let ack = sam.ack("delete_room", json!({"room": room})).await;
    assert_eq!(ack["error"], "forbidden", "{ack}");
}

async fn inviting_someone_the_server_does_not_know_is_not_found(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (owner, olga) = app.private_room("staff", "olga").await;
    app.client("gone").await.close().await;
    assert!(
        cli(&app, &["user", "disable", "--app", "gone"], "")
            .await
            .ok
    );
    for user in ["ghost", "acct:ghost", "gone"] {
        let r = app
            .post(
                "/api/rooms/staff/members",
                json!({"user": user}),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status(), 404, "{user}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(
            body,
            json!({"error": "not_found", "message": "no such user"}),
            "{user}"
        );
    }
    let ack = olga.ack("members", json!({"room": "staff"})).await;
    assert_eq!(roles(&ack), pairs(&[("olga", "owner")]), "{ack}");
    // The ghost, once seen, may be invited.
    app.client("ghost").await.close().await;
    let r = app
        .post(
            "/api/rooms/staff/members",
            json!({"user": "ghost"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status(), 201);
}

on_both_backends!(
    a_topic_is_set_shown_and_cleared,
    members_are_listed_owner_moderators_then_members,
    the_owner_deletes_a_room_and_everyone_with_it_is_told,
    inviting_someone_the_server_does_not_know_is_not_found,
);
