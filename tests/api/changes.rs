//! PROTOCOL §4 "Changing messages": `edit`, `delete`, replies, `react` and
//! `unreact`, their broadcasts and errors, and catch-up of changes with
//! `join {since}`, on both stores.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::durability::whole_history;
use crate::helpers::*;

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// Ann (who creates, so owns, `room`) and Bob, both joined, join notices read.
async fn ann_and_bob(app: &TestApp, room: &str) -> (TestClient, TestClient) {
    let mut ann = app.client("ann").await;
    ann.join(room).await;
    let mut bob = app.client("bob").await;
    bob.join(room).await;
    ann.next("join").await;
    ann.next("join").await;
    bob.next("join").await;
    (ann, bob)
}

async fn change(c: &TestClient, event: &str, payload: Value) -> Value {
    let ack = c.ack(event, payload).await;
    assert_eq!(ack["ok"], true, "{event}: {ack}");
    ack
}

async fn refused(c: &TestClient, event: &str, payload: Value) -> String {
    let ack = c.ack(event, payload).await;
    assert_eq!(ack["ok"], false, "{event} should be refused: {ack}");
    ack["error"].as_str().expect("code").to_owned()
}

async fn edits_are_acked_broadcast_and_stored(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (mut ann, mut bob) = ann_and_bob(&app, "r").await;
    let id = id_of(&ann.chat("r", "first").await);
    let plain = bob.next("chat").await;
    let mut keys: Vec<&String> = plain.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["id", "message", "room", "seq", "ts", "user"],
        "{plain}"
    );
    assert_eq!(plain["seq"], id, "a new message's seq is its id");

    let ack = change(
        &ann,
        "edit",
        json!({"room": "r", "id": id, "message": "  second  "}),
    )
    .await;
    assert_eq!(ack["id"], id);
    let seq = ack["seq"].as_i64().expect("seq");
    assert!(seq > id);
    for c in [&mut ann, &mut bob] {
        let ev = c.next("edit").await;
        assert_eq!(
            (ev["id"].as_i64(), ev["seq"].as_i64()),
            (Some(id), Some(seq))
        );
        assert_eq!(ev["message"], "second", "trimmed as chat is");
        assert_eq!(ev["user"]["id"], "ann");
        assert!(ev["edited"].as_i64().expect("edited") >= ev["ts"].as_i64().expect("ts"));
    }
    let history = whole_history(&bob, "r").await;
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0]["message"].as_str(), history[0]["seq"].as_i64()),
        (Some("second"), Some(seq))
    );
    assert!(history[0]["edited"].is_i64());
}

async fn bad_edits_and_deletes_change_nothing(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (ann, mut bob) = ann_and_bob(&app, "r").await;
    let mine = id_of(&ann.chat("r", "mine").await);
    ann.ack("join", json!({"room": "other"})).await;
    let elsewhere = id_of(&ann.chat("other", "elsewhere").await);
    let eve = app.client("eve").await;
    let cases = [
        (
            &bob,
            "edit",
            json!({"room": "r", "id": mine, "message": "bob's now"}),
            "forbidden",
        ),
        (
            &bob,
            "delete",
            json!({"room": "r", "id": mine}),
            "forbidden",
        ),
        (
            &ann,
            "edit",
            json!({"room": "r", "id": 1_i64 << 40, "message": "x"}),
            "not_found",
        ),
        (
            &ann,
            "edit",
            json!({"room": "r", "id": elsewhere, "message": "x"}),
            "not_found",
        ),
        (
            &ann,
            "delete",
            json!({"room": "r", "id": elsewhere}),
            "not_found",
        ),
        (
            &ann,
            "edit",
            json!({"room": "r", "id": mine, "message": "   "}),
            "invalid_message",
        ),
        (
            &ann,
            "edit",
            json!({"room": "r", "id": mine, "message": 5}),
            "invalid_message",
        ),
        (
            &ann,
            "edit",
            json!({"room": "r", "message": "x"}),
            "invalid_payload",
        ),
        (
            &ann,
            "edit",
            json!({"room": "r", "id": "1", "message": "x"}),
            "invalid_payload",
        ),
        (
            &ann,
            "edit",
            json!({"room": "r", "id": mine}),
            "invalid_payload",
        ),
        (&ann, "delete", json!({"room": "r"}), "invalid_payload"),
        (
            &ann,
            "edit",
            json!({"room": "not a room!", "id": mine, "message": "x"}),
            "invalid_room",
        ),
        (
            &eve,
            "edit",
            json!({"room": "r", "id": mine, "message": "x"}),
            "not_in_room",
        ),
        (
            &eve,
            "delete",
            json!({"room": "r", "id": mine}),
            "not_in_room",
        ),
    ];
    for (who, event, payload, code) in cases {
        assert_eq!(
            refused(who, event, payload.clone()).await,
            code,
            "{event} {payload}"
        );
    }
    // Each refusal was answered before the barrier's ack: no broadcast came.
    bob.none_before_ack("edit").await;
    bob.none_before_ack("delete").await;
    let history = whole_history(&ann, "r").await;
    assert_eq!(history[0]["message"], "mine");
    assert_eq!(history[0]["seq"], mine, "unchanged");
    assert!(history[0].get("edited").is_none());

    // A deleted message cannot be edited, deleted or reacted to again.
    change(&ann, "delete", json!({"room": "r", "id": mine})).await;
    for (event, payload) in [
        ("edit", json!({"room": "r", "id": mine, "message": "back"})),
        ("delete", json!({"room": "r", "id": mine})),
        ("react", json!({"room": "r", "id": mine, "emoji": "👍"})),
    ] {
        assert_eq!(refused(&ann, event, payload).await, "not_found", "{event}");
    }
    eve.close().await;
}

async fn deletes_leave_a_tombstone(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (mut ann, mut bob) = ann_and_bob(&app, "r").await;
    let own = id_of(&bob.chat("r", "bob's own").await);
    let other = id_of(&bob.chat("r", "bob's other").await);
    change(
        &ann,
        "react",
        json!({"room": "r", "id": own, "emoji": "👍"}),
    )
    .await;
    let reply = id_of(
        &ann.ack(
            "chat",
            json!({"room": "r", "message": "re", "reply_to": own}),
        )
        .await,
    );

    // The author deletes his own; the owner deletes anyone's.
    let ack = change(&bob, "delete", json!({"room": "r", "id": own})).await;
    let ev = ann.next("delete").await;
    assert_eq!(ev["seq"], ack["seq"]);
    assert_eq!(ev["message"], "");
    assert_eq!(ev["deleted"]["by"], "bob");
    assert!(ev["deleted"]["ts"].is_i64());
    assert!(
        ev.get("reactions").is_none(),
        "reactions go with the text: {ev}"
    );
    assert_eq!(
        (ev["user"]["id"].as_str(), ev["id"].as_i64()),
        (Some("bob"), Some(own))
    );
    change(&ann, "delete", json!({"room": "r", "id": other})).await;
    assert_eq!(id_of(&bob.next("delete").await), own, "his own first");
    let ev = bob.next("delete").await;
    assert_eq!(
        (ev["id"].as_i64(), ev["deleted"]["by"].as_str()),
        (Some(other), Some("ann"))
    );

    let history = whole_history(&bob, "r").await;
    let by_id: BTreeMap<i64, &Value> = history.iter().map(|m| (id_of(m), m)).collect();
    assert_eq!(by_id[&own]["message"], "");
    assert!(by_id[&own].get("reactions").is_none());
    // The reply stays; its quote says the parent is gone, without its text.
    assert_eq!(
        by_id[&reply]["reply_to"],
        json!({"id": own, "user": {"id": "bob", "name": "bob name"}, "deleted": true})
    );
}

async fn replies_quote_their_parent_as_it_is_now(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (ann, mut bob) = ann_and_bob(&app, "r").await;
    let long = "q".repeat(150);
    let parent = id_of(&ann.chat("r", &long).await);
    bob.next("chat").await;
    let ack = change(
        &bob,
        "chat",
        json!({"room": "r", "message": "answer", "reply_to": parent}),
    )
    .await;
    let ev = bob.next("chat").await;
    assert_eq!(ev["id"], ack["id"]);
    assert_eq!(
        ev["reply_to"],
        json!({"id": parent, "user": {"id": "ann", "name": "ann name"}, "excerpt": "q".repeat(100)})
    );
    // The quote follows the parent's edits.
    change(
        &ann,
        "edit",
        json!({"room": "r", "id": parent, "message": "question?"}),
    )
    .await;
    let history = whole_history(&bob, "r").await;
    assert_eq!(history[1]["reply_to"]["excerpt"], "question?");

    ann.ack("join", json!({"room": "other"})).await;
    let elsewhere = id_of(&ann.chat("other", "elsewhere").await);
    for (reply_to, code) in [
        (json!(elsewhere), "not_found"),
        (json!(1_i64 << 40), "not_found"),
        (json!("1"), "invalid_payload"),
    ] {
        let got = refused(
            &bob,
            "chat",
            json!({"room": "r", "message": "x", "reply_to": reply_to}),
        )
        .await;
        assert_eq!(got, code, "reply_to {reply_to}");
    }
    change(&ann, "delete", json!({"room": "r", "id": parent})).await;
    assert_eq!(
        refused(
            &bob,
            "chat",
            json!({"room": "r", "message": "x", "reply_to": parent})
        )
        .await,
        "not_found",
        "no reply to a deleted message"
    );

    // HTTP posts take `reply_to` too.
    let (bearer, _) = app.register_and_login("cat").await;
    let answer = id_of(&ann.chat("r", "for cat").await);
    let res = app
        .post(
            "/api/rooms/r/messages",
            json!({"message": "cat's answer", "reply_to": answer}),
            Some(&bearer),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["reply_to"]["excerpt"], "for cat");
    let res = app
        .post(
            "/api/rooms/r/messages",
            json!({"message": "x", "reply_to": elsewhere}),
            Some(&bearer),
        )
        .await;
    assert_eq!(res.status(), 404);
}

async fn reactions_are_one_emoji_once_per_user(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (mut ann, mut bob) = ann_and_bob(&app, "r").await;
    let id = id_of(&ann.chat("r", "react to me").await);
    let react = |emoji: &str| json!({"room": "r", "id": id, "emoji": emoji});

    let first = change(&bob, "react", react("👍")).await;
    let ev = ann.next("reaction").await;
    assert_eq!(ev["seq"], first["seq"]);
    assert_eq!(
        ev["reaction"],
        json!({"emoji": "👍", "user": "bob", "added": true})
    );
    assert_eq!(
        ev["reactions"],
        json!([{"emoji": "👍", "count": 1, "users": ["bob"]}])
    );
    assert_eq!(ev["message"], "react to me");
    change(&ann, "react", react("👍")).await;
    let ev = ann.next("reaction").await;
    assert_eq!(
        ev["reactions"],
        json!([{"emoji": "👍", "count": 2, "users": ["bob", "ann"]}])
    );
    bob.next("reaction").await;
    assert_eq!(bob.next("reaction").await, ev, "everyone hears the same");

    // Once per user: again is `ok` and changes nothing, as is taking back
    // what was never given.
    let again = change(&bob, "react", react("👍")).await;
    let never = change(&bob, "unreact", react("🎉")).await;
    assert_eq!(again["seq"], never["seq"]);
    ann.none_before_ack("reaction").await;

    for emoji in ["👨‍👩‍👧", "👍🏽", "🇫🇷", "❤️"] {
        change(&bob, "react", react(emoji)).await;
    }
    for bad in [
        json!("a"),
        json!("👍👍"),
        json!(""),
        json!("👍 "),
        json!(5),
        json!(":+1:"),
    ] {
        let got = refused(&bob, "react", json!({"room": "r", "id": id, "emoji": bad})).await;
        assert_eq!(got, "invalid_payload", "{bad}");
    }
    assert_eq!(
        refused(&bob, "react", json!({"room": "r", "id": id})).await,
        "invalid_payload"
    );
    assert_eq!(
        refused(
            &bob,
            "react",
            json!({"room": "r", "id": 1_i64 << 40, "emoji": "👍"})
        )
        .await,
        "not_found"
    );

    change(&bob, "unreact", react("👍")).await;
    let mut last = Value::Null;
    for _ in 0..5 {
        last = ann.next("reaction").await;
    }
    assert_eq!(
        last["reaction"],
        json!({"emoji": "👍", "user": "bob", "added": false})
    );
    let summary = &last["reactions"];
    assert_eq!(
        summary[0],
        json!({"emoji": "👍", "count": 1, "users": ["ann"]})
    );
    assert_eq!(summary.as_array().map(Vec::len), Some(5));

    // At most 20 distinct emoji per message.
    let faces: Vec<String> = (0..15)
        .map(|i| char::from_u32(0x1F600 + i).expect("emoji").to_string())
        .collect();
    for e in &faces {
        change(&ann, "react", react(e)).await;
    }
    let over = bob.ack("react", react("🚀")).await;
    assert_eq!(over["error"], "conflict", "{over}");
    change(&bob, "react", react(&faces[0])).await;
}

/// A client's view of a room: messages by id, each replaced whole by the
/// next event about it, and the quotes of its replies brought up to date
/// (the rule docs/protocol.md gives clients).
#[derive(Default, PartialEq, Debug)]
struct View(BTreeMap<i64, Value>);

impl View {
    fn apply(&mut self, m: &Value) {
        let id = id_of(m);
        // A `reaction` event's own field says what changed; the rest is the message.
        let mut message = m.clone();
        if let Some(fields) = message.as_object_mut() {
            fields.remove("reaction");
        }
        self.0.insert(id, message);
        for other in self.0.values_mut() {
            if other["reply_to"]["id"].as_i64() != Some(id) {
                continue;
            }
            if m.get("deleted").is_some() {
                other["reply_to"] = json!({"id": id, "user": m["user"], "deleted": true});
            } else {
                let text: String = m["message"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(100)
                    .collect();
                other["reply_to"]["excerpt"] = json!(text);
            }
        }
    }

    fn max_seq(&self) -> i64 {
        self.0
            .values()
            .filter_map(|m| m["seq"].as_i64())
            .max()
            .unwrap_or(0)
    }
}

async fn a_client_back_with_since_sees_what_one_that_stayed_sees(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (mut ann, bob) = ann_and_bob(&app, "r").await;
    let mut stayed = View::default();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id_of(&ann.chat("r", &format!("m{i}")).await));
    }
    let reply = json!({"room": "r", "message": "re m1", "reply_to": ids[1]});
    ids.push(id_of(&change(&bob, "chat", reply).await));
    let mut carl = app.client("carl").await;
    let joined = carl.join("r").await;
    let mut away = View::default();
    for m in joined["history"].as_array().expect("history") {
        away.apply(m);
    }
    let since = away.max_seq();
    carl.close().await;
    for _ in 0..6 {
        stayed.apply(&ann.next("chat").await);
    }

    // While Carl is away: every kind of change, some twice, a new message
    // and a reply to it; `events` counts what the room is told.
    let r = |id: i64| json!({"room": "r", "id": id});
    let with = |id: i64, k: &str, v: &str| {
        let mut p = r(id);
        p[k] = json!(v);
        p
    };
    let mut events = Vec::new();
    let steps: Vec<(&TestClient, &str, Value)> = vec![
        (&ann, "edit", with(ids[0], "message", "m0 edited")),
        (&ann, "delete", r(ids[2])),
        (&ann, "react", with(ids[3], "emoji", "👍")),
        (&bob, "react", with(ids[3], "emoji", "👍")),
        (&bob, "react", with(ids[3], "emoji", "🎉")),
        (&bob, "unreact", with(ids[3], "emoji", "🎉")),
        (
            &ann,
            "edit",
            with(ids[1], "message", "m1, the parent, edited"),
        ),
        (&ann, "edit", with(ids[0], "message", "m0 edited twice")),
        (&bob, "react", with(ids[5], "emoji", "🚀")),
        (&ann, "delete", r(ids[4])),
    ];
    for (who, event, payload) in steps {
        change(who, event, payload).await;
        events.push(event);
    }
    let late = id_of(&ann.chat("r", "late").await);
    let re_late = json!({"room": "r", "message": "re late", "reply_to": late});
    change(&bob, "chat", re_late).await;
    change(&ann, "edit", with(late, "message", "late, edited")).await;
    events.extend(["chat", "chat", "edit"]);
    for event in &events {
        let name = if event.contains("react") {
            "reaction"
        } else {
            *event
        };
        stayed.apply(&ann.next(name).await);
    }

    let mut carl = app.client("carl").await;
    let back = change(&carl, "join", json!({"room": "r", "since": since})).await;
    assert_eq!(back["more"], false);
    let replay = back["history"].as_array().expect("history");
    let seqs: Vec<i64> = replay
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "stream order, each once: {seqs:?}"
    );
    // m0..m4 and the reply to m1 (all changed), and the two late ones.
    assert_eq!(replay.len(), 8, "{replay:?}");
    for m in replay {
        away.apply(m);
    }
    assert_eq!(away, stayed, "field by field");
    let mut truth = View::default();
    for m in whole_history(&carl, "r").await {
        truth.apply(&m);
    }
    assert_eq!(truth, stayed, "and as the store has it now");
    carl.next("join").await;
}

crate::on_both_backends!(
    edits_are_acked_broadcast_and_stored,
    bad_edits_and_deletes_change_nothing,
    deletes_leave_a_tombstone,
    replies_quote_their_parent_as_it_is_now,
    reactions_are_one_emoji_once_per_user,
    a_client_back_with_since_sees_what_one_that_stayed_sees,
);
