//! PROTOCOL §4: every event, its ack and its broadcasts.

use rust_socketio::TransportType;
use serde_json::{Value, json};

use crate::helpers::*;

async fn join_ack_has_room_history_more_and_online(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut ann = app.client("ann").await;
    let ack = ann.join("general").await;
    assert_eq!(
        ack["room"],
        json!({"name": "general", "visibility": "public", "owner": "ann", "online": 1})
    );
    assert_eq!(ack["history"], json!([]));
    assert_eq!(ack["more"], false);
    assert_eq!(ack["online"], json!([{"id": "ann", "name": "ann name"}]));
    let notice = ann.next("join").await;
    assert_eq!(notice["room"], "general");
    assert_eq!(notice["user"], json!({"id": "ann", "name": "ann name"}));
    assert!(notice["ts"].as_i64().expect("ts") > 0);

    // 51 messages: the join ack carries the latest 50, oldest first, and says there is more.
    for i in 0..51 {
        ann.chat("general", &format!("m{i}")).await;
    }
    let mut bob = app.client("bob").await;
    let ack = bob.join("general").await;
    let history = ack["history"].as_array().expect("history");
    assert_eq!(history.len(), 50);
    assert_eq!(history[0]["message"], "m1");
    assert_eq!(history[49]["message"], "m50");
    assert_eq!(ack["more"], true);
    let mut online: Vec<&str> = ack["online"]
        .as_array()
        .expect("online")
        .iter()
        .map(|u| u["id"].as_str().expect("id"))
        .collect();
    online.sort();
    assert_eq!(online, ["ann", "bob"]);
    assert_eq!(ack["room"]["online"], 2);
    // Ann hears Bob join; Bob hears himself.
    assert_eq!(ann.next("join").await["user"]["id"], "bob");
    assert_eq!(bob.next("join").await["user"]["id"], "bob");
}

/// A big room's join ack names at most `--online-names` users, the joiner
/// always among them, and still counts them all; one user's two sockets
/// count once; someone leaving counts out.
async fn a_big_rooms_join_names_some_and_counts_all(backend: Backend) {
    let app = spawn_app_on(backend, |s| s.online_names = 3).await;
    let mut people = Vec::new();
    for i in 0..6 {
        let mut c = app.client(&format!("u{i}")).await;
        let ack = c.join("big").await;
        let named = ack["online"].as_array().expect("online");
        assert_eq!(named.len(), (i + 1).min(3), "{ack}");
        assert!(
            named.iter().any(|u| u["id"] == format!("u{i}")),
            "the joiner: {ack}"
        );
        assert_eq!(ack["room"]["online"], i + 1, "{ack}");
        people.push(c);
    }
    let mut again = app.client("u0").await;
    let ack = again.join("big").await;
    assert_eq!(ack["room"]["online"], 6, "{ack}");
    assert_eq!(ack["online"].as_array().map(Vec::len), Some(3), "{ack}");
    let ack = people[5].ack("leave", json!({"room": "big"})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let ack = people[4].join("big").await;
    assert_eq!(ack["room"]["online"], 5, "{ack}");
    let r = app.get("/api/rooms", Some(&token("u1", None))).await;
    let body: Value = r.json().await.expect("json");
    let big = body["rooms"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == "big"))
        .cloned()
        .expect("big");
    assert_eq!(big["online"], 5, "{big}");
}

/// Who changed in one `presence` notice, in order: (user id, joined).
fn changes(notice: &Value) -> Vec<(String, bool)> {
    notice["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["user"]["id"].as_str().expect("id").to_owned(),
                c["joined"].as_bool().expect("joined"),
            )
        })
        .collect()
}

/// Past `--presence-batch-above` users online, joins and leaves go out as
/// `presence` batches, in order, instead of one `join` or `leave` each; a
/// room that shrinks back gets them one by one again.
async fn a_big_rooms_joins_and_leaves_come_in_batches(backend: Backend) {
    let app = spawn_app_on(backend, |s| s.presence_batch_above = 2).await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("big").await;
    bob.join("big").await;
    assert_eq!(ann.next("join").await["user"]["id"], "ann");
    assert_eq!(ann.next("join").await["user"]["id"], "bob");

    // The third and fourth are gathered; the leave after them too, in order.
    let mut cat = app.client("cat").await;
    let mut dan = app.client("dan").await;
    let ack = cat.join("big").await;
    assert_eq!(ack["room"]["online"], 3, "{ack}");
    dan.join("big").await;
    let ack = dan.ack("leave", json!({"room": "big"})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    // No `join` or `leave` before the batch (it is sent after them all).
    let batch = ann
        .none_before("join", "presence", |p| p["room"] == "big")
        .await;
    assert!(ann.drain("leave").is_empty());
    let mut got = changes(&batch);
    if got.len() < 3 {
        // The window closed between them: the rest come in the next batch.
        got.extend(changes(&ann.next("presence").await));
    }
    assert_eq!(
        got,
        [
            ("cat".to_owned(), true),
            ("dan".to_owned(), true),
            ("dan".to_owned(), false)
        ]
    );
    assert!(batch["ts"].is_i64(), "{batch}");
    // The joiner hears of itself in the batch too.
    let own = cat.next("presence").await;
    assert_eq!(changes(&own)[0], ("cat".to_owned(), true));

    // A socket that goes away in the big room: gathered as well.
    cat.close().await;
    let gone = ann.next("presence").await;
    assert_eq!(changes(&gone), [("cat".to_owned(), false)]);

    // Down to one: the room is still big until a join counts it, so
    // bob's leave is gathered; the next join's census says small, and from
    // there on it is `join` and `leave`.
    bob.ack("leave", json!({"room": "big"})).await;
    assert_eq!(
        changes(&ann.next("presence").await),
        [("bob".to_owned(), false)]
    );
    dan.join("big").await;
    let joined = ann
        .none_before("presence", "join", |j| j["room"] == "big")
        .await;
    assert_eq!(joined["user"]["id"], "dan");
    dan.ack("leave", json!({"room": "big"})).await;
    let left = ann
        .none_before("presence", "leave", |j| j["room"] == "big")
        .await;
    assert_eq!(left["user"]["id"], "dan");
}

#[tokio::test]
async fn joining_again_is_not_announced_again() {
    let app = spawn_app().await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("r").await;
    bob.join("r").await;
    ann.next("join").await;
    ann.next("join").await;
    bob.next("join").await;
    let again = bob.join("r").await;
    assert_eq!(again["room"]["online"], 2);
    // The join handler emits its notice before it sends the ack, and Bob
    // had the ack before these requests: a notice would precede their acks.
    ann.none_before_ack("join").await;
    bob.none_before_ack("join").await;
}

#[tokio::test]
async fn chat_reaches_members_only_with_id_and_ts() {
    for transport in [
        TransportType::Websocket,
        TransportType::Polling,
        TransportType::WebsocketUpgrade,
    ] {
        let app = spawn_app().await;
        let how = |sub: &str| Connect::token(token(sub, None)).transport(transport.clone());
        let mut ann = app.connect(how("ann")).await.expect("ann");
        let mut bob = app.connect(how("bob")).await.expect("bob");
        let mut eve = app.connect(how("eve")).await.expect("eve");
        ann.join("r").await;
        bob.join("r").await;
        eve.join("elsewhere").await;

        let ack = ann.chat("r", "  hello bob \n").await;
        let id = ack["id"].as_i64().expect("id");
        let ts = ack["ts"].as_i64().expect("ts");
        for c in [&mut ann, &mut bob] {
            let m = c.next("chat").await;
            assert_eq!(
                m,
                json!({"id": id, "seq": id, "room": "r", "user": {"id": "ann", "name": "ann name"},
                       "message": "hello bob", "ts": ts})
            );
        }
        let second = bob.chat("r", "hi ann").await;
        assert!(second["id"].as_i64().expect("id") > id, "ids increase");
        assert_eq!(ann.next("chat").await["message"], "hi ann");
        // Chats reach each socket in commit (id) order, whatever the room:
        // one sent after both acks is a barrier for them.
        eve.chat("elsewhere", "barrier").await;
        eve.none_before("chat", "chat", |m| m["message"] == "barrier")
            .await;
    }
}

#[tokio::test]
async fn chat_to_unjoined_room_reaches_no_one() {
    let app = spawn_app().await;
    let mut ann = app.client("ann").await;
    let eve = app.client("eve").await;
    ann.join("r").await;
    ann.join("barrier").await;
    let ack = eve
        .ack("chat", json!({"room": "r", "message": "psst"}))
        .await;
    assert_eq!(ack["ok"], false);
    assert_eq!(ack["error"], "not_in_room");
    assert!(ack["message"].is_string());
    // A chat stored after the refusal reaches Ann after anything that
    // refused chat could have become (delivery follows commit order).
    ann.chat("barrier", "after the refusal").await;
    ann.none_before("chat", "chat", |m| m["room"] == "barrier")
        .await;
    let h = ann.ack("history", json!({"room": "r"})).await;
    assert_eq!(h["messages"], json!([]));
}

#[tokio::test]
async fn leave_stops_delivery_and_tells_the_others() {
    let app = spawn_app().await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("r").await;
    bob.join("r").await;
    let ack = bob.ack("leave", json!({"room": "r"})).await;
    assert_eq!(ack, json!({"ok": true}));
    let notice = ann.next("leave").await;
    assert_eq!(notice["room"], "r");
    assert_eq!(notice["user"]["id"], "bob");
    assert!(notice["ts"].is_i64());
    assert!(notice.get("reason").is_none());
    // The leave handler emits its notice before its ack, which Bob has.
    bob.none_before_ack("leave").await;

    ann.chat("r", "after bob left").await;
    // Bob's own chat elsewhere is stored after Ann's (acked already), and
    // chats reach a socket in commit order: it comes after Ann's would have.
    bob.join("elsewhere").await;
    bob.chat("elsewhere", "barrier").await;
    bob.none_before("chat", "chat", |m| m["message"] == "barrier")
        .await;
    let again = bob.ack("leave", json!({"room": "r"})).await;
    assert_eq!(again["error"], "not_in_room");
    let no_chat = bob.ack("chat", json!({"room": "r", "message": "x"})).await;
    assert_eq!(no_chat["error"], "not_in_room");
}

#[tokio::test]
async fn disconnect_leaves_every_room_with_reason() {
    let app = spawn_app().await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("a").await;
    ann.join("b").await;
    bob.join("a").await;
    bob.join("b").await;
    bob.close().await;
    let mut rooms = Vec::new();
    for _ in 0..2 {
        let notice = ann.next("leave").await;
        assert_eq!(notice["user"]["id"], "bob");
        assert_eq!(notice["reason"], "disconnect");
        rooms.push(notice["room"].as_str().expect("room").to_owned());
    }
    rooms.sort();
    assert_eq!(rooms, ["a", "b"]);
    let r = ann.ack("join", json!({"room": "a"})).await;
    assert_eq!(r["online"].as_array().expect("online").len(), 1);
}

#[tokio::test]
async fn typing_reaches_the_others_in_the_room() {
    let app = spawn_app().await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    let mut eve = app.client("eve").await;
    ann.join("r").await;
    bob.join("r").await;
    eve.join("x").await;
    let ack = ann.ack("typing", json!({"room": "r"})).await;
    assert_eq!(ack["ok"], true);
    assert_eq!(
        bob.next("typing").await,
        json!({"room": "r", "user": {"id": "ann", "name": "ann name"}})
    );
    // The typing handler broadcasts before it acks, and Ann had the ack:
    // a typing notice to either would precede these acks.
    ann.none_before_ack("typing").await;
    eve.none_before_ack("typing").await;
    let not_in = eve.ack("typing", json!({"room": "r"})).await;
    assert_eq!(not_in["error"], "not_in_room");
}

async fn history_pages_backwards(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut ann = app.client("ann").await;
    ann.join("r").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            ann.chat("r", &format!("m{i}")).await["id"]
                .as_i64()
                .expect("id"),
        );
    }
    let page = ann.ack("history", json!({"room": "r", "limit": 3})).await;
    assert_eq!(page["ok"], true);
    let texts = |p: &Value| -> Vec<String> {
        p["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["message"].as_str().expect("text").to_owned())
            .collect()
    };
    assert_eq!(texts(&page), ["m4", "m5", "m6"]);
    assert_eq!(page["more"], true);
    let older = ann
        .ack(
            "history",
            json!({"room": "r", "before": ids[4], "limit": 3}),
        )
        .await;
    assert_eq!(texts(&older), ["m1", "m2", "m3"]);
    assert_eq!(older["more"], true);
    let oldest = ann
        .ack("history", json!({"room": "r", "before": ids[1]}))
        .await;
    assert_eq!(texts(&oldest), ["m0"]);
    assert_eq!(oldest["more"], false);
    // Reading history does not need a join, only access.
    let bob = app.client("bob").await;
    let h = bob.ack("history", json!({"room": "r"})).await;
    assert_eq!(h["messages"].as_array().expect("messages").len(), 7);
    let missing = bob.ack("history", json!({"room": "nope"})).await;
    assert_eq!(missing["error"], "not_found");
}

async fn join_since_replays_what_was_missed(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut ann = app.client("ann").await;
    ann.join("r").await;
    ann.chat("r", "seen").await;
    let seen = ann.chat("r", "seen too").await["id"].as_i64().expect("id");
    for i in 0..502 {
        ann.chat("r", &format!("missed {i}")).await;
    }
    let bob = app.client("bob").await;
    let ack = bob.ack("join", json!({"room": "r", "since": seen})).await;
    let replay = ack["history"].as_array().expect("history");
    assert_eq!(replay.len(), 500);
    assert_eq!(replay[0]["message"], "missed 0");
    assert_eq!(replay[499]["message"], "missed 499");
    assert_eq!(
        ack["more"], true,
        "two more messages are newer than the replay"
    );
    let last = replay[499]["id"].as_i64().expect("id");
    let rest = bob.ack("join", json!({"room": "r", "since": last})).await;
    let rest = rest["history"].as_array().expect("history");
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[1]["message"], "missed 501");
    let up_to_date = bob
        .ack("join", json!({"room": "r", "since": rest[1]["id"]}))
        .await;
    assert_eq!(up_to_date["history"], json!([]));
    assert_eq!(up_to_date["more"], false);
}

async fn rooms_lists_what_the_user_may_see_with_online_counts(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let owner = token("olga", None);
    for (name, vis) in [("pub", "public"), ("secret", "private"), ("vip", "private")] {
        let r = app
            .post(
                "/api/rooms",
                json!({"name": name, "visibility": vis}),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    // Connected first: only users the server knows may be invited.
    let mut ann = app.client("ann").await;
    let r = app
        .post(
            "/api/rooms/secret/members",
            json!({"user": "ann"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status(), 201);
    ann.join("pub").await;
    let names = |ack: &Value| -> Vec<String> {
        ack["rooms"]
            .as_array()
            .expect("rooms")
            .iter()
            .map(|r| r["name"].as_str().expect("name").to_owned())
            .collect()
    };
    let list = ann.ack("rooms", json!({})).await;
    assert_eq!(list["ok"], true);
    assert_eq!(names(&list), ["pub", "secret"]);
    assert_eq!(
        list["rooms"][0],
        json!({"name": "pub", "visibility": "public", "owner": "olga", "online": 1,
               "member": true, "read": 0, "unread": 0, "mentions": 0})
    );
    // No argument at all is accepted as `{}`.
    let bare = ann
        .ack_raw("rooms", rust_socketio::Payload::Text(vec![]))
        .await;
    assert_eq!(names(&bare), ["pub", "secret"]);
    // A token's `rooms` claim shows the private rooms it names.
    let claimed = app
        .connect(Connect::token(token("zed", Some(&["vip"]))))
        .await
        .expect("connect");
    assert_eq!(
        names(&claimed.ack("rooms", json!({})).await),
        ["pub", "vip"]
    );
}

async fn private_rooms_admit_owner_invited_and_claimed_only(backend: Backend) {
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
    let mut olga = app
        .connect(Connect::token(owner.clone()))
        .await
        .expect("olga");
    olga.join("staff").await;

    let stranger = app.client("sam").await;
    let ack = stranger.ack("join", json!({"room": "staff"})).await;
    assert_eq!(ack["ok"], false);
    assert_eq!(ack["error"], "forbidden");
    let h = stranger.ack("history", json!({"room": "staff"})).await;
    assert_eq!(h["error"], "forbidden");
    olga.chat("staff", "internal").await;
    olga.next("chat").await;

    // Invited by the owner: now sam may join and sees the history.
    let r = app
        .post(
            "/api/rooms/staff/members",
            json!({"user": "sam"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status(), 201);
    let mut sam = stranger;
    let ack = sam.join("staff").await;
    assert_eq!(ack["history"][0]["message"], "internal");

    // Only the owner manages members.
    let r = app
        .post(
            "/api/rooms/staff/members",
            json!({"user": "eve"}),
            Some(&token("sam", None)),
        )
        .await;
    assert_eq!(r.status(), 403);

    // The `rooms` claim of an app-signed token opens it too.
    let mut claimed = app
        .connect(Connect::token(token("app-user", Some(&["staff"]))))
        .await
        .expect("claimed");
    claimed.join("staff").await;
    claimed.chat("staff", "via claim").await;
    assert_eq!(sam.next("chat").await["message"], "via claim");
}

#[tokio::test]
async fn without_auto_create_unknown_rooms_are_not_found() {
    let app = spawn_app_with(|s| s.auto_create = false).await;
    let ann = app.client("ann").await;
    let ack = ann.ack("join", json!({"room": "nowhere"})).await;
    assert_eq!(ack["error"], "not_found");
    let r = app
        .post(
            "/api/rooms",
            json!({"name": "made"}),
            Some(&token("ann", None)),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(ann.ack("join", json!({"room": "made"})).await["ok"], true);
}

async fn chats_sent_without_waiting_keep_their_order(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("r").await;
    bob.join("r").await;
    for i in 0..200 {
        ann.emit("chat", json!({"room": "r", "message": format!("{i}")}))
            .await;
    }
    let mut last_id = 0;
    for i in 0..200 {
        let m = bob.next("chat").await;
        assert_eq!(m["message"], format!("{i}"), "delivery follows send order");
        let id = m["id"].as_i64().expect("id");
        assert!(id > last_id, "ids increase in delivery order");
        last_id = id;
    }
}

#[tokio::test]
async fn many_clients_that_join_right_after_connecting_are_all_answered() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let addr = app.addr;
        let transport = if i % 10 == 0 {
            TransportType::Polling
        } else {
            TransportType::Websocket
        };
        tasks.push(tokio::spawn(async move {
            let how = Connect::token(token(&format!("u{i}"), None)).transport(transport);
            let c = TestClient::connect(&format!("http://{addr}/"), how)
                .await
                .expect("connect");
            // No pause: the join goes out as soon as CONNECT is answered.
            let ack = c.ack("join", json!({"room": "crowd"})).await;
            assert_eq!(ack["ok"], true, "{ack}");
            c
        }));
    }
    let mut clients = Vec::new();
    for t in tasks {
        clients.push(t.await.expect("client task"));
    }
    let list = clients[0].ack("rooms", json!({})).await;
    assert_eq!(list["rooms"][0]["online"], 100);
}

crate::on_both_backends!(
    join_ack_has_room_history_more_and_online,
    a_big_rooms_join_names_some_and_counts_all,
    a_big_rooms_joins_and_leaves_come_in_batches,
    history_pages_backwards,
    join_since_replays_what_was_missed,
    rooms_lists_what_the_user_may_see_with_online_counts,
    private_rooms_admit_owner_invited_and_claimed_only,
    chats_sent_without_waiting_keep_their_order,
);
