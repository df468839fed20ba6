//! PROTOCOL §5 for changes: a deleted text leaves storage (SQLite file and
//! WAL, the PostgreSQL row), an acked edit survives `kill -9`, and an edit,
//! a delete and a reaction reach every node of a cluster in one order.

use std::path::Path;

use serde_json::{Value, json};

use crate::cluster_support::Cluster;
use crate::durability::{start_binary, whole_history};
use crate::helpers::*;

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// Which of the database's files (`.db`, `-wal`, `-shm`) hold `needle`.
fn files_holding(db: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", db.display());
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            found.push(path);
        }
    }
    found
}

async fn deleted(c: &TestClient, room: &str, id: i64) {
    let ack = c.ack("delete", json!({"room": room, "id": id})).await;
    assert_eq!(ack["ok"], true, "{ack}");
}

#[tokio::test]
async fn a_deleted_text_is_in_no_sqlite_file_nor_its_wal() {
    let app = spawn_app_on(Backend::Sqlite, |_| {}).await;
    let mut ann = app.client("ann").await;
    ann.join("r").await;
    let mark = format!("gone-{}-{}", std::process::id(), now());
    let short = format!("{mark}-short");
    // Long enough to spill into an overflow page, with a mark at each end.
    let long = format!("{mark}-head {} {mark}-tail", "filler ".repeat(560));
    let kept = format!("{mark}-kept");
    let a = id_of(&ann.chat("r", &short).await);
    let b = id_of(&ann.chat("r", &long).await);
    ann.chat("r", &kept).await;
    for needle in [&short, &format!("{mark}-head"), &format!("{mark}-tail")] {
        assert!(
            !files_holding(&app.db_path, needle).is_empty(),
            "{needle} was written"
        );
    }
    // Reactions and an edit rewrite the long row (its old overflow pages,
    // text and all, are freed) before it is deleted.
    for emoji in ["👍", "🎉", "🚀"] {
        ann.ack("react", json!({"room": "r", "id": b, "emoji": emoji}))
            .await;
    }
    let edited = format!("{long} and more");
    ann.ack("edit", json!({"room": "r", "id": b, "message": edited}))
        .await;
    // A reply quotes its parent at read time only: nothing to scrub there.
    ann.ack("chat", json!({"room": "r", "message": "re", "reply_to": a}))
        .await;
    deleted(&ann, "r", a).await;
    deleted(&ann, "r", b).await;
    // Acked means the text is gone from the disk already.
    for needle in [&short, &format!("{mark}-head"), &format!("{mark}-tail")] {
        let left = files_holding(&app.db_path, needle);
        assert!(left.is_empty(), "{needle} still in {left:?}");
    }
    assert_eq!(
        files_holding(&app.db_path, &kept).len(),
        1,
        "the rest stays"
    );
    let history = whole_history(&ann, "r").await;
    assert_eq!(history.len(), 4);
    assert!(history.iter().all(|m| !m.to_string().contains(&short)));
}

#[tokio::test]
async fn a_deleted_text_leaves_the_postgres_row() {
    let app = spawn_app_on(Backend::Postgres, |_| {}).await;
    let mut ann = app.client("ann").await;
    ann.join("r").await;
    let text = format!("gone-{}-{}", std::process::id(), now());
    let id = id_of(&ann.chat("r", &text).await);
    ann.ack("react", json!({"room": "r", "id": id, "emoji": "👍"}))
        .await;
    deleted(&ann, "r", id).await;
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&app.database_url())
        .await
        .expect("connect");
    let (body, by): (String, Option<String>) =
        sqlx::query_as("SELECT body, deleted_by FROM messages WHERE id = $1")
            .bind(id)
            .fetch_one(&mut db)
            .await
            .expect("row");
    assert_eq!((body.as_str(), by.as_deref()), ("", Some("ann")));
    let like: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE body LIKE $1")
        .bind(format!("%{text}%"))
        .fetch_one(&mut db)
        .await
        .expect("count");
    let reactions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reactions WHERE message = $1")
        .bind(id)
        .fetch_one(&mut db)
        .await
        .expect("count");
    assert_eq!((like, reactions), (0, 0));
    // The old row version is a dead tuple until VACUUM reclaims its space
    // (plain VACUUM marks it free; the bytes go when the page is reused or
    // by VACUUM FULL): docs/protocol.md says so.
    sqlx::query("VACUUM messages")
        .execute(&mut db)
        .await
        .expect("vacuum");
}

#[tokio::test]
async fn an_acked_edit_survives_sigkill() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("edit.db");
    let (mut server, addr) = start_binary(&db, Some(SECRET)).await;
    let url = format!("http://{addr}/");
    let mut c = TestClient::connect(&url, Connect::token(token("ann", None)))
        .await
        .expect("connect");
    c.join("r").await;
    let id = id_of(&c.chat("r", "before").await);
    let gone = id_of(&c.chat("r", "to delete").await);
    c.ack("react", json!({"room": "r", "id": id, "emoji": "👍"}))
        .await;
    c.ack("delete", json!({"room": "r", "id": gone})).await;
    let ack = c
        .ack("edit", json!({"room": "r", "id": id, "message": "after"}))
        .await;
    assert_eq!(ack["ok"], true);
    server.start_kill().expect("kill -9");
    server.wait().await.expect("reaped");
    let (_server, addr) = start_binary(&db, Some(SECRET)).await;
    let mut c = TestClient::connect(
        &format!("http://{addr}/"),
        Connect::token(token("ann", None)),
    )
    .await
    .expect("reconnect");
    let back = c.join("r").await;
    let history = back["history"].as_array().expect("history");
    assert_eq!(history[0]["message"], "after");
    assert_eq!(history[0]["seq"], ack["seq"]);
    assert_eq!(history[0]["reactions"][0]["emoji"], "👍");
    assert_eq!(history[1]["message"], "");
    assert!(history[1]["deleted"].is_object());
    // The stream goes on after the restart: the next message is numbered
    // after the last change.
    let next = id_of(&c.chat("r", "next").await);
    assert!(next > ack["seq"].as_i64().expect("seq"));
}

#[tokio::test]
async fn three_nodes_deliver_edits_deletes_and_reactions_in_one_order() {
    let cluster = Cluster::start(3).await;
    let mut clients = Vec::new();
    for (i, node) in cluster.nodes.iter().enumerate() {
        let mut c = node.client(&format!("u{i}")).await;
        c.join("hall").await;
        clients.push(c);
    }
    let a = id_of(&clients[0].chat("hall", "from node 0").await);
    let b = id_of(&clients[1].chat("hall", "from node 1").await);
    // Changes from every node at once, interleaved with new messages.
    let r = |id: i64| json!({"room": "hall", "id": id});
    let mut with_emoji = r(a);
    with_emoji["emoji"] = json!("👍");
    let mut edit = r(a);
    edit["message"] = json!("edited on node 0");
    let (x, y, z) = tokio::join!(
        clients[0].ack("edit", edit),
        clients[1].ack("delete", r(b)),
        clients[2].ack("react", with_emoji),
    );
    for ack in [&x, &y, &z] {
        assert_eq!(ack["ok"], true, "{ack}");
    }
    let last = id_of(&clients[2].chat("hall", "after").await);
    let mut orders = Vec::new();
    for c in clients.iter_mut() {
        let mut seen = Vec::new();
        for _ in 0..6 {
            let (name, m) = c.next_of(&["chat", "edit", "delete", "reaction"]).await;
            seen.push((name, id_of(&m), m["seq"].as_i64().expect("seq")));
        }
        assert_eq!(seen[5].1, last, "the last chat comes last");
        orders.push(seen);
    }
    // Within the room, what every node delivered is in stream order.
    let seqs: Vec<i64> = orders[0].iter().map(|(_, _, s)| *s).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{:?}", orders[0]);
    assert_eq!(orders[0], orders[1]);
    assert_eq!(orders[1], orders[2]);
    let mut acks: Vec<i64> = [&x, &y, &z]
        .iter()
        .map(|a| a["seq"].as_i64().expect("seq"))
        .collect();
    acks.sort_unstable();
    let changed: Vec<i64> = orders[0][2..5].iter().map(|(_, _, s)| *s).collect();
    assert_eq!(
        changed, acks,
        "each change once, at the position its ack gave"
    );
}
