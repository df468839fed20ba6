//! PROTOCOL §7: several real roomcast processes on one PostgreSQL and one
//! Redis act as one server.

use std::collections::BTreeSet;
use std::sync::Arc;

use roomcast::config::{Secret, Settings};
use roomcast::state::Ctx;
use serde_json::{Value, json};

use crate::cluster_support::*;
use crate::helpers::*;
use crate::pg::PgSchema;

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// `n` clients of `room` spread round-robin over the nodes, all joined.
async fn spread(cluster: &Cluster, n: usize, room: &str) -> Vec<TestClient> {
    let mut clients = Vec::new();
    for i in 0..n {
        let mut c = cluster.nodes[i % cluster.nodes.len()]
            .client(&format!("u{i}"))
            .await;
        c.join(room).await;
        clients.push(c);
    }
    clients
}

/// Each client sends `k` chats (all clients at once); returns the acked ids.
async fn chat_all(clients: &[TestClient], room: &str, k: usize, tag: &str) -> BTreeSet<i64> {
    let sends = clients.iter().enumerate().map(|(i, c)| async move {
        let mut ids = Vec::new();
        for j in 0..k {
            ids.push(id_of(&c.chat(room, &format!("{tag} {i}.{j}")).await));
        }
        ids
    });
    futures_util::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// The next `count` chats `c` receives, as ids, in arrival order.
async fn receive(c: &mut TestClient, count: usize) -> Vec<i64> {
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        ids.push(id_of(&c.next("chat").await));
    }
    ids
}

fn assert_once_in_order(got: &[i64], acked: &BTreeSet<i64>, who: &str) {
    let want: Vec<i64> = acked.iter().copied().collect();
    assert_eq!(got, want.as_slice(), "{who}: every chat once, in id order");
}

/// A big room's `presence` batches cross nodes: each node gathers its own
/// sockets' joins and leaves and sends them to the room everywhere, and the
/// census that makes a room big counts every node.
#[tokio::test]
async fn a_big_rooms_presence_batches_reach_every_node() {
    let cluster = Cluster::start_with(2, &["--presence-batch-above", "2"]).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let mut ann = a.client("ann").await;
    ann.join("big").await;
    let mut bob = b.client("bob").await;
    bob.join("big").await;
    assert_eq!(ann.next("join").await["user"]["id"], "ann");
    assert_eq!(ann.next("join").await["user"]["id"], "bob");
    // Third in the room, counted across both nodes: gathered on node B.
    let mut cat = b.client("cat").await;
    let ack = cat.join("big").await;
    assert_eq!(ack["room"]["online"], 3, "{ack}");
    let batch = ann
        .none_before("join", "presence", |p| p["room"] == "big")
        .await;
    assert_eq!(batch["changes"][0]["user"]["id"], "cat", "{batch}");
    assert_eq!(batch["changes"][0]["joined"], true, "{batch}");
    assert_eq!(bob.next("presence").await["changes"], batch["changes"]);
    assert_eq!(cat.next("presence").await["changes"], batch["changes"]);
    // Node A gathers once one of its joins counted the room big: dan's
    // join and then ann's leave reach node B gathered, in order.
    let mut dan = a.client("dan").await;
    dan.join("big").await;
    ann.ack("leave", json!({"room": "big"})).await;
    let mut got = Vec::new();
    while got.len() < 2 {
        let p = cat
            .none_before("leave", "presence", |p| p["room"] == "big")
            .await;
        for c in p["changes"].as_array().expect("changes") {
            got.push((c["user"]["id"].clone(), c["joined"].clone()));
        }
    }
    assert_eq!(
        got,
        [(json!("dan"), json!(true)), (json!("ann"), json!(false))]
    );
}

#[tokio::test]
async fn three_nodes_deliver_every_chat_to_every_member_once_in_id_order() {
    let cluster = Cluster::start(3).await;
    let mut clients = spread(&cluster, 30, "hall").await;
    // `online` counts the members on every node.
    let last = clients[29].ack("join", json!({"room": "hall"})).await;
    assert_eq!(last["online"].as_array().map(Vec::len), Some(30), "{last}");
    assert_eq!(last["room"]["online"], 30, "{last}");

    let acked = chat_all(&clients, "hall", 5, "m").await;
    assert_eq!(acked.len(), 150);
    for (i, c) in clients.iter_mut().enumerate() {
        let got = receive(c, 150).await;
        assert_once_in_order(&got, &acked, &format!("client {i}"));
    }
    // Nothing more, not even a repeat: a last chat of the room is the
    // barrier. Its commit waits for the room's lock, which each earlier
    // batch held until it was published, so Redis carries it after all of
    // them and every node delivers in Redis order.
    let last_id = id_of(&clients[0].chat("hall", "barrier").await);
    for c in clients.iter_mut() {
        let first = c.none_before("chat", "chat", |m| id_of(m) == last_id).await;
        assert_eq!(first["message"], "barrier");
    }

    // Typing and leave-on-disconnect cross nodes too.
    clients[0].emit("typing", json!({"room": "hall"})).await;
    assert_eq!(clients[1].next("typing").await["user"]["id"], "u0");
    let gone = clients.remove(2);
    gone.close().await;
    let leave = clients[0].next("leave").await;
    assert_eq!(
        (leave["user"]["id"].as_str(), leave["reason"].as_str()),
        (Some("u2"), Some("disconnect"))
    );
    let rooms = clients[0].ack("rooms", json!({})).await;
    let hall = rooms["rooms"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "hall"))
        .cloned();
    assert_eq!(hall.map(|h| h["online"].clone()), Some(json!(29)));
}

/// The ids `c` has seen, in arrival order, ignoring repeats (a rejoin's
/// replay may overlap what arrives live, as PROTOCOL §4 allows).
fn dedup_in_order(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut seen = BTreeSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

#[tokio::test]
async fn clients_of_a_killed_node_resume_on_another_without_losing_acked_chats() {
    let mut cluster = Cluster::start(3).await;
    let mut clients = spread(&cluster, 9, "ops").await;
    let mut acked = chat_all(&clients, "ops", 3, "before").await;

    // Node 2 dies mid-conversation; nodes 0 and 1 keep talking meanwhile.
    let victims: Vec<usize> = (0..9).filter(|i| i % 3 == 2).collect();
    let mut seen: Vec<Vec<i64>> = vec![Vec::new(); 9];
    for &i in &victims {
        seen[i] = clients[i].drain("chat").iter().map(id_of).collect();
    }
    let survivors: Vec<&TestClient> = clients
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 2)
        .map(|(_, c)| c)
        .collect();
    let talk = async {
        let mut ids = BTreeSet::new();
        for round in 0..3 {
            let sends = survivors
                .iter()
                .map(|c| async move { c.chat("ops", &format!("during {round}")).await });
            ids.extend(
                futures_util::future::join_all(sends)
                    .await
                    .iter()
                    .map(id_of),
            );
        }
        ids
    };
    let kill = async {
        let node = &mut cluster.nodes[2];
        node.child.start_kill().expect("kill -9");
        node.child.wait().await.expect("reaped");
    };
    let (during, ()) = tokio::join!(talk, kill);
    acked.extend(during);

    // The victims reconnect to node 0 and rejoin with the last id they saw.
    for &i in &victims {
        let c = cluster.nodes[0].client(&format!("u{i}")).await;
        let since = seen[i].iter().max().copied().unwrap_or(0);
        let ack = c.ack("join", json!({"room": "ops", "since": since})).await;
        assert_eq!(ack["ok"], true, "{ack}");
        let replay = ack["history"].as_array().cloned().unwrap_or_default();
        seen[i].extend(replay.iter().map(id_of));
        clients[i] = c;
    }
    let after = chat_all(&clients, "ops", 1, "after").await;
    acked.extend(&after);
    for &i in &victims {
        // Live from here on; what was committed before the rejoin came in the replay.
        while !after.iter().all(|id| seen[i].contains(id)) {
            seen[i].push(id_of(&clients[i].next("chat").await));
        }
        let got = dedup_in_order(seen[i].iter().copied());
        assert_once_in_order(&got, &acked, &format!("rejoined client {i}"));
    }
    // No acked message is missing from the history, whichever node answers.
    let history = whole_history(&clients[1], "ops").await;
    assert_once_in_order(&history, &acked, "history");
}

/// Every message of `room`, oldest first, read back through `history` pages.
async fn whole_history(c: &TestClient, room: &str) -> Vec<i64> {
    let mut all = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut q = json!({"room": room, "limit": 100});
        if let Some(b) = before {
            q["before"] = json!(b);
        }
        let page = c.ack("history", q).await;
        let ids: Vec<i64> = page["messages"]
            .as_array()
            .map(|m| m.iter().map(id_of).collect())
            .unwrap_or_default();
        before = ids.first().copied();
        all.splice(0..0, ids);
        if page["more"] != true {
            return all;
        }
    }
}

#[tokio::test]
async fn every_node_delivers_again_after_redis_restarts_under_traffic() {
    let mut cluster = Cluster::start(3).await;
    let mut clients = spread(&cluster, 6, "weather").await;
    for node in &cluster.nodes {
        node.wait_health(200).await;
    }
    // Traffic while Redis goes away: each node keeps acking its own clients.
    cluster.redis.stop().await;
    let during = chat_all(&clients, "weather", 2, "storm").await;
    assert_eq!(during.len(), 12, "every chat acked while Redis is down");
    for node in &cluster.nodes {
        node.wait_health(503).await;
    }
    cluster.redis.restart().await;
    for node in &cluster.nodes {
        node.wait_health(200).await;
    }
    for c in clients.iter_mut() {
        c.drain("chat");
    }
    // Every node delivers across nodes again.
    let after = chat_all(&clients, "weather", 1, "sun").await;
    for (i, c) in clients.iter_mut().enumerate() {
        let mut got = Vec::new();
        while got.len() < after.len() {
            let id = id_of(&c.next("chat").await);
            // A late local delivery of the storm is fine; the sun must all come.
            if after.contains(&id) {
                got.push(id);
            }
        }
        assert_once_in_order(&got, &after, &format!("client {i}"));
    }
}

/// A node in this process, so the test can call its `Ctx` (the owner's
/// "remove member" route is built on `cluster::remove_from_room`).
async fn in_process_node(database: &str, redis: &str) -> (String, Arc<Ctx>) {
    let mut settings = Settings::new(database);
    settings.listen = "127.0.0.1:0".parse().expect("addr");
    settings.jwt_secret = Some(Secret(SECRET.into()));
    settings.redis = Some(redis.into());
    let app = roomcast::app::build(settings).await.expect("build node");
    let addr = app.local_addr().expect("bound address");
    let ctx = app.ctx();
    tokio::spawn(app.run());
    (format!("http://{addr}/"), ctx)
}

#[tokio::test]
async fn removing_a_member_takes_their_sockets_out_of_the_room_on_every_node() {
    let schema = PgSchema::create().await;
    let redis = RedisServer::start().await;
    let (url_a, ctx_a) = in_process_node(&schema.url, &redis.url()).await;
    let (url_b, _ctx_b) = in_process_node(&schema.url, &redis.url()).await;
    let connect = |url: &str, sub: &str| {
        let (url, how) = (url.to_owned(), Connect::token(token(sub, None)));
        async move { TestClient::connect(&url, how).await.expect("connect") }
    };
    let mut owner = connect(&url_a, "olga").await;
    let mut member = connect(&url_b, "mia").await;
    owner.join("club").await;
    member.join("club").await;
    owner.join("lobby").await;
    member.join("lobby").await;

    roomcast::cluster::remove_from_room(&ctx_a.io, "club", "mia").await;
    for c in [&mut member, &mut owner] {
        let leave = c.next("leave").await;
        assert_eq!(
            (leave["user"]["id"].as_str(), leave["reason"].as_str()),
            (Some("mia"), Some("removed"))
        );
    }
    owner.chat("club", "members only").await;
    owner.next("chat").await;
    // The barrier takes the forbidden chat's path: stored by the same node
    // after it, published by that node's one delivery task after it, and
    // carried by Redis to node B in publish order.
    owner.chat("lobby", "barrier").await;
    member
        .none_before("chat", "chat", |m| m["room"] == "lobby")
        .await;
    let refused = member
        .ack("chat", json!({"room": "club", "message": "still here?"}))
        .await;
    assert_eq!(refused["error"], "not_in_room", "{refused}");
    let rooms = owner.ack("rooms", json!({})).await;
    let club = rooms["rooms"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "club"));
    assert_eq!(club.map(|c| &c["online"]), Some(&json!(1)), "{rooms}");
}
