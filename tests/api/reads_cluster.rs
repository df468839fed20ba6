//! Your rooms across nodes (docs/protocol.md §7): on two roomcast processes
//! sharing PostgreSQL and Redis, the list, the counts, `read` and `activity`
//! agree on every node, as does leaving a room for good.

use serde_json::{Value, json};

use crate::cluster_support::*;

fn id(ack: &Value) -> i64 {
    ack["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {ack}"))
}

/// `room`'s entry in the `rooms` answer of `c`.
async fn entry(c: &crate::helpers::TestClient, room: &str) -> Value {
    let ack = c.ack("rooms", json!({})).await;
    ack["rooms"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == room))
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn lists_reads_and_activity_agree_on_every_node() {
    let cluster = Cluster::start(2).await;
    let (one, two) = (&cluster.nodes[0], &cluster.nodes[1]);
    let mut alice = one.client("alice").await;
    alice.join("general").await;
    // Bob's phone is on the other node, connected before general is his:
    // his first join (on node one) reaches it through Redis.
    let mut phone = two.client("bob").await;
    let mut laptop = one.client("bob").await;
    laptop.join("general").await;

    let m1 = id(&alice.chat("general", "one").await);
    let m2 = id(&alice.chat("general", "@bob two").await);
    let a = phone.next("activity").await;
    assert_eq!(
        (a["id"].clone(), a["mention"].clone()),
        (json!(m1), json!(false))
    );
    let a = phone.next("activity").await;
    assert_eq!(
        (a["id"].clone(), a["mention"].clone()),
        (json!(m2), json!(true))
    );
    let seen = entry(&phone, "general").await;
    assert_eq!(
        (seen["unread"].clone(), seen["mentions"].clone()),
        (json!(2), json!(1)),
        "{seen}"
    );

    // Read on the laptop (node one): the phone (node two) is told, and its
    // node counts the same.
    let ack = laptop
        .ack("read", json!({"room": "general", "id": m1}))
        .await;
    assert_eq!(ack["id"], m1, "{ack}");
    assert_eq!(
        phone.next("read").await,
        json!({"room": "general", "id": m1})
    );
    let seen = entry(&phone, "general").await;
    assert_eq!(
        (seen["unread"].clone(), seen["mentions"].clone()),
        (json!(1), json!(1)),
        "{seen}"
    );
    let ack = phone
        .ack("read", json!({"room": "general", "id": m2}))
        .await;
    assert_eq!(ack["id"], m2, "{ack}");
    assert_eq!(laptop.next("read").await["id"], m2);
    assert_eq!(entry(&laptop, "general").await["unread"], 0);

    // Leaving for good on node two takes the laptop on node one out too.
    let ack = phone.ack("leave_room", json!({"room": "general"})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(laptop.next("leave").await["reason"], "left");
    let notice = alice.next_of(&["leave"]).await.1;
    assert_eq!(notice["user"]["id"], "bob", "{notice}");
    // No more activity for either: the barrier is a chat in a room both
    // sockets are in, committed after alice's next one to general.
    phone.join("side").await;
    laptop.join("side").await;
    alice.chat("general", "gone").await;
    alice.join("side").await;
    alice.chat("side", "barrier").await;
    for c in [&mut phone, &mut laptop] {
        c.none_before("activity", "chat", |m| m["room"] == "side")
            .await;
    }
    assert!(entry(&phone, "general").await.get("member").is_none());
}

/// Both people open their conversation at once, each on another node: one
/// room, in both lists.
#[tokio::test]
async fn a_first_dm_from_both_sides_on_two_nodes_is_one_room() {
    let cluster = Cluster::start(2).await;
    for round in 0..5 {
        let (a, b) = (format!("ann{round}"), format!("bob{round}"));
        let ann = cluster.nodes[0].client(&a).await;
        let bob = cluster.nodes[1].client(&b).await;
        let (x, y) = tokio::join!(
            ann.ack("dm", json!({"user": b})),
            bob.ack("dm", json!({"user": a}))
        );
        assert_eq!(x["ok"], true, "{x}");
        assert_eq!(x["room"]["name"], y["room"]["name"], "{x} {y}");
        for c in [&ann, &bob] {
            let list = c.ack("rooms", json!({})).await;
            let dms: Vec<&Value> = list["rooms"]
                .as_array()
                .map(|rs| rs.iter().filter(|r| r["people"].is_array()).collect())
                .unwrap_or_default();
            assert_eq!(dms.len(), 1, "{list}");
            assert_eq!(dms[0]["name"], x["room"]["name"]);
        }
    }
}
