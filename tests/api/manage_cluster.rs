//! Running a room across nodes (PostgreSQL + Redis): a topic set on one
//! node and a room deleted on it reach the sockets on another.

use serde_json::json;

use crate::cluster_support::*;

#[tokio::test]
async fn topic_and_deletion_reach_sockets_on_another_node() {
    let cluster = Cluster::start(2).await;
    let (one, two) = (&cluster.nodes[0], &cluster.nodes[1]);
    let mut olga = one.client("olga").await;
    olga.join("hall").await;
    let mut sam = two.client("sam").await;
    sam.join("hall").await;
    // Ann, on node two too, has the room in her list, not her socket in it.
    let mut ann = two.client("ann").await;
    ann.join("hall").await;
    let ack = ann.ack("leave", json!({"room": "hall"})).await;
    assert_eq!(ack["ok"], true, "{ack}");

    let ack = olga
        .ack("topic", json!({"room": "hall", "topic": "from node one"}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let n = sam.next("topic").await;
    assert_eq!(
        (
            n["room"].as_str(),
            n["topic"].as_str(),
            n["by"]["id"].as_str()
        ),
        (Some("hall"), Some("from node one"), Some("olga")),
        "{n}"
    );
    // Stored before the ack: node two reads it back.
    let mut bob = two.client("bob").await;
    assert_eq!(bob.join("hall").await["room"]["topic"], "from node one");

    let ack = olga.ack("delete_room", json!({"room": "hall"})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    for c in [&mut sam, &mut ann, &mut bob] {
        let n = c.next("room_deleted").await;
        assert_eq!(n["room"], "hall", "{n}");
        assert_eq!(n["by"]["id"], "olga", "{n}");
    }
    // Out of it on node two as well.
    let ack = sam
        .ack("chat", json!({"room": "hall", "message": "anyone?"}))
        .await;
    assert_eq!(ack["error"], "not_in_room", "{ack}");
    let ack = sam.ack("typing", json!({"room": "hall"})).await;
    assert_eq!(ack["error"], "not_in_room", "{ack}");
}
