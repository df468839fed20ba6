//! Moderation across nodes (PostgreSQL + Redis): a ban or mute made on one
//! node holds for the user's sockets on another, and slow mode counts the
//! messages stored through any node.

use serde_json::json;

use crate::cluster_support::*;

#[tokio::test]
async fn a_ban_on_one_node_puts_the_users_socket_on_another_out_of_the_room() {
    let cluster = Cluster::start(2).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let mut olga = a.client("olga").await;
    olga.join("hall").await;
    olga.join("lobby").await;
    let mut sam = b.client("sam").await;
    sam.join("hall").await;
    sam.join("lobby").await;

    // A mute made on node A holds on node B, and B's socket hears of it.
    let ack = olga
        .ack(
            "mute",
            json!({"room": "hall", "user": "sam", "seconds": 600}),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(sam.next("moderation").await["action"], "muted");
    let refused = sam
        .ack("chat", json!({"room": "hall", "message": "on node B"}))
        .await;
    assert_eq!(refused["error"], "muted", "{refused}");

    let ack = olga
        .ack("ban", json!({"room": "hall", "user": "sam"}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let n = sam.next("moderation").await;
    assert_eq!(n["action"], "banned", "{n}");
    let leave = sam.next("leave").await;
    assert_eq!(
        (leave["room"].as_str(), leave["reason"].as_str()),
        (Some("hall"), Some("banned"))
    );
    let leave = olga.next("leave").await;
    assert_eq!(leave["user"]["id"], "sam");

    olga.chat("hall", "sam is gone").await;
    // The barrier takes the forbidden chat's path: stored by node A after
    // it, published by A's one delivery task after it, carried by Redis to
    // node B in publish order.
    olga.chat("lobby", "barrier").await;
    sam.none_before("chat", "chat", |m| m["room"] == "lobby")
        .await;
    let ack = sam.ack("join", json!({"room": "hall"})).await;
    assert_eq!(ack["error"], "forbidden", "{ack}");
    // The room's census, on every node, no longer has him.
    let joined = olga.ack("join", json!({"room": "hall"})).await;
    assert_eq!(
        joined["online"].as_array().map(Vec::len),
        Some(1),
        "{joined}"
    );

    // Unbanned on node A, he may rejoin on node B.
    olga.ack("unban", json!({"room": "hall", "user": "sam"}))
        .await;
    sam.join("hall").await;
}

#[tokio::test]
async fn slow_mode_counts_messages_stored_through_any_node() {
    let cluster = Cluster::start(2).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let mut olga = a.client("olga").await;
    olga.join("hall").await;
    let ack = olga
        .ack("slow_mode", json!({"room": "hall", "seconds": 60}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let mut on_a = a.client("sam").await;
    on_a.join("hall").await;
    let mut on_b = b.client("sam").await;
    on_b.join("hall").await;
    on_a.chat("hall", "one through A").await;
    let refused = on_b
        .ack("chat", json!({"room": "hall", "message": "one through B"}))
        .await;
    assert_eq!(refused["error"], "rate_limited", "{refused}");
    assert!(refused["retry_after_ms"].as_i64().is_some_and(|ms| ms > 0));
}
