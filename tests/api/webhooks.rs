//! Webhooks (docs/protocol.md "Webhooks"): a real receiver
//! (tests/py/webhook_receiver.py) checks every signature with the official
//! `standardwebhooks` package; it refuses attempts and is stopped for a
//! while, and in the end holds every event exactly once by id, in commit
//! order; events owed survive `kill -9`; several nodes share the work;
//! private addresses and redirects are refused.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use roomcast::store::{Endpoint, Origin};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use tokio::sync::mpsc;

use crate::admin::cli;
use crate::cluster_support::{Node, RedisServer};
use crate::helpers::*;
use crate::on_both_backends;
use crate::pg::PgSchema;
use crate::py_client::python;

/// One `tests/py/webhook_receiver.py` process and what it printed.
pub(crate) struct Receiver {
    child: Child,
    pub port: u16,
    secret: String,
    lines: mpsc::UnboundedReceiver<Value>,
    /// Printed by an earlier process on this port and not read yet.
    pending: Vec<Value>,
}

impl Receiver {
    /// Starts a receiver on `port` (0 for any) checking with `secret`.
    pub(crate) async fn start(port: u16, secret: &str, extra: &[&str]) -> Self {
        let py = tokio::task::spawn_blocking(python).await.expect("venv");
        let mut child = tokio::process::Command::new(py)
            .arg(format!(
                "{}/tests/py/webhook_receiver.py",
                env!("CARGO_MANIFEST_DIR")
            ))
            .arg(port.to_string())
            .arg(secret)
            .args(extra)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the receiver");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, mut lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut out = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = out.next_line().await {
                let v: Value = serde_json::from_str(&line).expect("a JSON line");
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        let first = tokio::time::timeout(WAIT, lines.recv())
            .await
            .expect("the receiver starts")
            .expect("its first line");
        let port = u16::try_from(first["port"].as_u64().expect("port")).expect("port");
        Self {
            child,
            port,
            secret: secret.to_owned(),
            lines,
            pending: Vec::new(),
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks", self.port)
    }

    /// Kills it (`kill -9`: a receiver that goes away mid-request).
    async fn stop(&mut self) {
        self.child.start_kill().expect("kill");
        self.child.wait().await.expect("reaped");
    }

    /// Starts it again on the same port after [`stop`](Self::stop), refusing nothing.
    async fn start_again(&mut self) {
        let mut next = Self::start(self.port, &self.secret, &[]).await;
        // What the old process printed and was not read yet is still wanted.
        while let Ok(v) = self.lines.try_recv() {
            next.pending.push(v);
        }
        next.pending.splice(0..0, self.pending.drain(..));
        *self = next;
    }

    /// The next line it printed.
    pub(crate) async fn next(&mut self) -> Value {
        if !self.pending.is_empty() {
            return self.pending.remove(0);
        }
        tokio::time::timeout(WAIT * 4, self.lines.recv())
            .await
            .expect("the receiver printed a line in time")
            .expect("the receiver is running")
    }

    /// The deliveries it accepted, in order, until `n` distinct event ids
    /// have come; checks it saw no bad signature. Returns each event once
    /// (its first delivery) and how many deliveries there were.
    pub(crate) async fn accepted(&mut self, n: usize) -> (Vec<Value>, usize) {
        let mut events: Vec<Value> = Vec::new();
        let mut deliveries = 0;
        while events.len() < n {
            let v = self.next().await;
            assert!(
                v.get("bad").is_none(),
                "a delivery failed verification: {v}"
            );
            if v.get("id").is_none() {
                continue;
            }
            deliveries += 1;
            if events.iter().all(|e| e["id"] != v["id"]) {
                events.push(v);
            }
        }
        (events, deliveries)
    }
}

fn endpoint(
    name: &str,
    url: &str,
    secret: &str,
    events: Option<&[&str]>,
    private: bool,
) -> Endpoint {
    let events: Option<Vec<String>> = events.map(|l| l.iter().map(|s| s.to_string()).collect());
    Endpoint::new(name, url, secret, events.as_deref(), private, Origin::File).expect("endpoint")
}

/// (type, message id or room) of each event, for comparing with what was expected.
fn kinds(events: &[Value]) -> Vec<(String, Value)> {
    events
        .iter()
        .map(|e| {
            let t = e["type"].as_str().expect("type").to_owned();
            let key = if t.starts_with("message.") || t.starts_with("reaction.") {
                e["data"]["id"].clone()
            } else if t.starts_with("member.") {
                json!(format!(
                    "{}/{}",
                    e["data"]["room"].as_str().unwrap_or("?"),
                    e["data"]["user"].as_str().unwrap_or("?")
                ))
            } else {
                e["data"]["name"].clone()
            };
            (t, key)
        })
        .collect()
}

async fn every_event_arrives_signed_once_in_commit_order(backend: Backend) {
    let secret = Endpoint::new_secret();
    // The first five attempts are refused: retries, with the same ids.
    let mut all = Receiver::start(0, &secret, &["--refuse", "5"]).await;
    let mut deletions = Receiver::start(0, &secret, &[]).await;
    let (url, only_deletions) = (all.url(), deletions.url());
    let app = spawn_app_on(backend, |s| {
        s.webhooks = vec![
            endpoint("all", &url, &secret, None, true),
            endpoint(
                "deletions",
                &only_deletions,
                &secret,
                Some(&["message.deleted"]),
                true,
            ),
        ];
        s.webhook_backoff_max = Duration::from_millis(200);
    })
    .await;
    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("a").await;
    bob.join("b").await;
    bob.join("a").await;
    let mut expected = vec![
        ("room.created".to_owned(), json!("a")),
        ("room.created".to_owned(), json!("b")),
        // bob's first join of ann's room puts it in his list.
        ("member.joined".to_owned(), json!("a/bob")),
    ];
    let mut sent = Vec::new();
    for i in 0..40 {
        if i == 20 {
            // Down for a while: everything meanwhile waits for it.
            all.stop().await;
        }
        let (who, room) = if i % 2 == 0 { (&ann, "a") } else { (&bob, "b") };
        let ack = who.chat(room, &format!("m{i}")).await;
        let id = ack["id"].clone();
        expected.push(("message.created".to_owned(), id.clone()));
        sent.push((room, id));
    }
    let (room, first) = sent[0].clone();
    let ok = |v: Value| assert_eq!(v["ok"], true, "{v}");
    ok(ann
        .ack(
            "edit",
            json!({"room": room, "id": first, "message": "m0 edited"}),
        )
        .await);
    ok(bob
        .ack("react", json!({"room": room, "id": first, "emoji": "👍"}))
        .await);
    ok(bob
        .ack("unreact", json!({"room": room, "id": first, "emoji": "👍"}))
        .await);
    ok(ann.ack("delete", json!({"room": room, "id": first})).await);
    for t in [
        "message.edited",
        "reaction.added",
        "reaction.removed",
        "message.deleted",
    ] {
        expected.push((t.to_owned(), first.clone()));
    }
    ok(bob.ack("leave_room", json!({"room": "a"})).await);
    expected.push(("member.left".to_owned(), json!("a/bob")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    all.start_again().await;

    let (events, deliveries) = all.accepted(expected.len()).await;
    assert_eq!(
        kinds(&events),
        expected,
        "every event once, in commit order"
    );
    assert!(deliveries >= events.len());
    let created = &events[3];
    assert_eq!(created["data"]["message"], "m0");
    assert_eq!(
        created["data"]["user"],
        json!({"id": "ann", "name": "ann name"})
    );
    assert_eq!(created["data"]["room"], "a");
    assert!(created["id"].as_str().expect("id").starts_with("evt_"));
    let ts = created["timestamp"].as_str().expect("timestamp");
    assert!(ts.ends_with('Z') && ts.contains('T'), "RFC 3339: {ts}");
    let edited = &events[events.len() - 5];
    assert_eq!(edited["data"]["message"], "m0 edited");
    let added = &events[events.len() - 4];
    assert_eq!(
        added["data"]["reaction"],
        json!({"emoji": "👍", "user": "bob", "added": true})
    );
    let deleted = &events[events.len() - 2];
    assert!(deleted["data"]["deleted"].is_object(), "{deleted}");
    assert_eq!(
        deleted["data"]["message"], "",
        "no text of a deleted message"
    );

    // The other endpoint asked for deletions only: the same event, the same id.
    let (only, _) = deletions.accepted(1).await;
    assert_eq!(only[0]["type"], "message.deleted");
    assert_eq!(only[0]["id"], deleted["id"]);
    // A barrier: one more deletion, and it must be the next thing it got.
    let (_, second) = sent[1].clone();
    ok(bob.ack("delete", json!({"room": "b", "id": second})).await);
    let (next, _) = deletions.accepted(1).await;
    assert_eq!(next[0]["type"], "message.deleted");
    assert_eq!(
        next[0]["data"]["id"], second,
        "nothing but deletions came between"
    );
}

on_both_backends!(every_event_arrives_signed_once_in_commit_order);

/// A settings file with one `[[webhooks]]` (`app`, private allowed) and a
/// short backoff, so the tests do not wait out real retry intervals.
fn settings_file(dir: &Path, url: &str, secret: &str) -> String {
    let path = dir.join("roomcast.toml");
    std::fs::write(
        &path,
        format!(
            "webhook-backoff-max = 200\n\n[[webhooks]]\nname = \"app\"\nurl = \"{url}\"\n\
             secret = \"{secret}\"\nallow-private = true\n"
        ),
    )
    .expect("write settings");
    path.display().to_string()
}

/// Sends `n` chats as one client, each after the last one's ack; their ids.
async fn burst(c: &TestClient, room: &str, n: usize, tag: &str) -> Vec<i64> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let a = c.chat(room, &format!("{tag} {i}")).await;
        ids.push(a["id"].as_i64().unwrap_or_else(|| panic!("acked: {a}")));
    }
    ids
}

#[tokio::test]
async fn every_acked_chat_has_its_webhook_after_sigkill() {
    let secret = Endpoint::new_secret();
    // Refuses everything until the kill: nothing is delivered before it.
    let mut receiver = Receiver::start(0, &secret, &["--refuse", "1000000000"]).await;
    let dir = tempfile::tempdir().expect("dir");
    let config = settings_file(dir.path(), &receiver.url(), &secret);
    let db = dir.path().join("kill.db");
    let start = |config: String| {
        let db = db.clone();
        async move {
            start_roomcast(
                roomcast_command()
                    .args(["serve", "--listen", "127.0.0.1:0", "--jwt-secret", SECRET])
                    .arg("--database")
                    .arg(format!("sqlite://{}", db.display()))
                    .args(["--config", &config])
                    .args(["--message-rate", "1000000000", "--message-burst", "1000000"]),
            )
            .await
        }
    };
    let (mut server, addr) = start(config.clone()).await;
    let mut c = TestClient::connect(
        &format!("http://{addr}/"),
        Connect::token(token("ann", None)),
    )
    .await
    .expect("connect");
    c.join("durable").await;
    let acked = burst(&c, "durable", 500, "message").await;
    // SIGKILL right after the last ack.
    server.start_kill().expect("kill -9");
    server.wait().await.expect("reaped");
    receiver.stop().await;
    receiver.start_again().await;
    let (_server, _) = start(config).await;
    let (events, _) = receiver.accepted(501).await;
    let created: Vec<i64> = events
        .iter()
        .filter(|e| e["type"] == "message.created")
        .map(|e| e["data"]["id"].as_i64().expect("id"))
        .collect();
    let mut in_order = acked.clone();
    in_order.sort_unstable();
    assert_eq!(created, in_order, "every acked chat, once, in commit order");
    assert_eq!(events[0]["type"], "room.created");
}

/// The node whose lease the endpoint `app` is under, by its name (`HOSTNAME:PORT`).
async fn lease_holder(database: &str) -> Option<String> {
    let pool = sqlx::PgPool::connect(database).await.expect("connect");
    let node: Option<Option<String>> =
        sqlx::query_scalar("SELECT lease_node FROM webhook_endpoints WHERE name = 'app'")
            .fetch_optional(&pool)
            .await
            .expect("read the lease");
    pool.close().await;
    node.flatten()
}

#[tokio::test]
async fn three_nodes_send_every_event_once_though_the_sender_is_killed() {
    let secret = Endpoint::new_secret();
    let mut receiver = Receiver::start(0, &secret, &[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let config = settings_file(dir.path(), &receiver.url(), &secret);
    let schema = PgSchema::create().await;
    let redis = RedisServer::start().await;
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(
            Node::start_with(
                &schema.url,
                &redis.url(),
                &[
                    "--config",
                    &config,
                    "--message-rate",
                    "1000000000",
                    "--message-burst",
                    "1000000",
                ],
            )
            .await,
        );
    }
    let mut clients = Vec::new();
    for n in &nodes {
        let mut c = n.client("ann").await;
        c.join("r").await;
        clients.push(c);
    }
    // 500 through all three, then the node sending the webhooks is killed
    // (its lease runs out and another node takes over), then 500 more
    // through the two left.
    let mut acked = Vec::new();
    for (k, c) in clients.iter().enumerate() {
        acked.extend(burst(c, "r", if k == 0 { 168 } else { 166 }, "first").await);
    }
    let (first, _) = receiver.accepted(2).await;
    assert_eq!(first[0]["type"], "room.created");
    let holder = lease_holder(&schema.url)
        .await
        .expect("a node holds the lease");
    let k = nodes
        .iter()
        .position(|n| holder.rsplit(':').next() == n.addr.rsplit(':').next())
        .unwrap_or_else(|| panic!("the lease holder {holder} is one of the nodes"));
    let mut dead = nodes.remove(k);
    clients.remove(k);
    dead.child.start_kill().expect("kill -9");
    dead.child.wait().await.expect("reaped");
    for c in &clients {
        acked.extend(burst(c, "r", 250, "second").await);
    }
    assert_eq!(acked.len(), 1000);
    // The first message came with `first`; a resend of it would count once.
    let (mut rest, _) = receiver.accepted(999).await;
    if rest.iter().any(|e| e["id"] == first[1]["id"]) {
        rest.extend(receiver.accepted(1).await.0);
    }
    rest.retain(|e| e["id"] != first[1]["id"]);
    let mut created: Vec<i64> = Vec::new();
    for e in first.iter().skip(1).chain(&rest) {
        assert_eq!(e["type"], "message.created", "{e}");
        created.push(e["data"]["id"].as_i64().expect("id"));
    }
    assert!(
        created.windows(2).all(|w| w[0] < w[1]),
        "in commit order (the room's id order)"
    );
    acked.sort_unstable();
    assert_eq!(created, acked, "1,000 distinct events, none missing");
}

#[tokio::test]
async fn private_addresses_and_redirects_are_refused_and_failures_kept() {
    let secret = Endpoint::new_secret();
    let mut receiver = Receiver::start(0, &secret, &[]).await;
    let target = receiver.url();
    let mut redirector = Receiver::start(0, &secret, &["--redirect", &target]).await;
    let (guarded, redirected) = (receiver.url(), redirector.url());
    let app = spawn_app_with(|s| {
        s.webhooks = vec![
            // Private addresses are refused unless allowed.
            endpoint("guarded", &guarded, &secret, None, false),
            endpoint("redirected", &redirected, &secret, None, true),
        ];
        s.webhook_attempts = 1;
    })
    .await;
    let mut ann = app.client("ann").await;
    ann.join("r").await;
    ann.chat("r", "first").await;
    // room.created and message.created, kept as failed for each endpoint.
    let deadline = tokio::time::Instant::now() + WAIT;
    let failed = loop {
        let out = cli(&app, &["webhooks", "failed"], "").await;
        assert!(out.ok, "{}", out.stderr);
        if out.stdout.lines().count() == 4 {
            break out.stdout;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "failed: {}",
            out.stdout
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for line in failed.lines() {
        if line.starts_with("guarded\t") {
            assert!(line.contains("private address"), "{line}");
        } else {
            assert!(
                line.starts_with("redirected\t") && line.contains("HTTP 307"),
                "{line}"
            );
        }
    }
    // The redirect was answered, never followed.
    let r = redirector.next().await;
    assert!(r.get("redirected").is_some(), "{r}");
    let metrics = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .expect("metrics");
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut metrics = metrics;
    while !metrics.contains(r#"roomcast_webhook_events{endpoint="guarded",state="failed"} 2"#) {
        assert!(tokio::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        metrics = app
            .get("/metrics", None)
            .await
            .text()
            .await
            .expect("metrics");
    }

    let retry = cli(&app, &["webhooks", "retry", "--endpoint", "guarded"], "").await;
    assert!(
        retry.ok && retry.stdout.contains("2 failed events pending again"),
        "{}",
        retry.stdout
    );

    // An endpoint added from the CLI to the same receiver gets what comes
    // next, and it is the first thing the receiver ever gets: the failed
    // events of the others never reached it.
    let add = cli(
        &app,
        &[
            "webhooks",
            "add",
            "--name",
            "direct",
            "--url",
            &target,
            "--allow-private",
            "--events",
            "message.created",
        ],
        "",
    )
    .await;
    assert!(add.ok, "{}", add.stderr);
    let direct_secret = add.stdout.trim().to_owned();
    assert!(direct_secret.starts_with("whsec_"), "{direct_secret}");
    let list = cli(&app, &["webhooks", "list"], "").await;
    assert!(list.ok, "{}", list.stderr);
    assert!(
        !list.stdout.contains("whsec_"),
        "secrets are never listed: {}",
        list.stdout
    );
    assert!(list.stdout.contains("direct\t"), "{}", list.stdout);
    assert!(list.stdout.contains("guarded\t"), "{}", list.stdout);
    // The receiver checks with one secret: start it again with the new one.
    receiver.stop().await;
    let mut receiver = Receiver::start(receiver.port, &direct_secret, &[]).await;
    // Sent once the sender has seen the new endpoint (at most a second).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = ann.chat("r", "second").await;
    let (got, _) = receiver.accepted(1).await;
    assert_eq!(got[0]["data"]["id"], second["id"]);
    assert_eq!(got[0]["data"]["message"], "second");

    let removed = cli(&app, &["webhooks", "remove", "guarded"], "").await;
    assert!(
        !removed.ok && removed.stderr.contains("settings file"),
        "{}",
        removed.stderr
    );
}

#[tokio::test]
async fn a_bad_webhooks_table_stops_the_server_and_names_the_mistake() {
    let dir = tempfile::tempdir().expect("dir");
    let good = Endpoint::new_secret();
    let cases = [
        (
            "url = \"http://127.0.0.1:9/h\"\nsecret = \"hunter2hunter2\"",
            "secret must be whsec_",
        ),
        ("url = \"ftp://example.com/h\"", "http:// or https://"),
        (
            "url = \"http://127.0.0.1:9/h\"\nevents = [\"message.exploded\"]",
            "unknown event \"message.exploded\"",
        ),
        (
            "url = \"http://127.0.0.1:9/h\"\nevents = []",
            "events is empty",
        ),
        (
            "url = \"http://127.0.0.1:9/h\"\nname = \"a b\"",
            "webhook name \"a b\"",
        ),
        (
            "url = \"http://127.0.0.1:9/h\"\ncolour = \"red\"",
            "unknown field `colour`",
        ),
    ];
    for (k, (table, says)) in cases.iter().enumerate() {
        let secret_line = if table.contains("secret") {
            String::new()
        } else {
            format!("secret = \"{good}\"\n")
        };
        let config = dir.path().join(format!("bad{k}.toml"));
        std::fs::write(&config, format!("[[webhooks]]\n{secret_line}{table}\n")).expect("write");
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_roomcast"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .arg("--database")
            .arg(format!(
                "sqlite://{}",
                dir.path().join(format!("bad{k}.db")).display()
            ))
            .arg("--config")
            .arg(&config)
            .env_remove("ROOMCAST_CONFIG")
            .stdin(Stdio::null())
            .output();
        let out = tokio::time::timeout(WAIT, out)
            .await
            .expect("exited")
            .expect("ran");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{table}: started");
        assert!(stderr.contains(says), "{table}: {stderr}");
        assert!(
            !stderr.contains(&good[6..]),
            "the secret is never printed: {stderr}"
        );
        assert!(
            !dir.path().join(format!("bad{k}.db")).exists(),
            "no database made"
        );
    }
}

#[tokio::test]
async fn a_graceful_shutdown_gives_the_lease_back() {
    let secret = Endpoint::new_secret();
    let mut receiver = Receiver::start(0, &secret, &[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let config = settings_file(dir.path(), &receiver.url(), &secret);
    let db = dir.path().join("lease.db");
    let url = format!("sqlite://{}", db.display());
    let (mut server, addr) = start_roomcast(
        roomcast_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--jwt-secret", SECRET])
            .args(["--database", &url, "--config", &config]),
    )
    .await;
    let mut c = TestClient::connect(
        &format!("http://{addr}/"),
        Connect::token(token("ann", None)),
    )
    .await
    .expect("connect");
    c.join("r").await;
    // Delivered: the node holds the lease.
    let (got, _) = receiver.accepted(1).await;
    assert_eq!(got[0]["type"], "room.created");
    let lease = || async {
        let pool = sqlx::SqlitePool::connect(&url).await.expect("open");
        let node: Option<String> =
            sqlx::query_scalar("SELECT lease_node FROM webhook_endpoints WHERE name = 'app'")
                .fetch_one(&pool)
                .await
                .expect("read the lease");
        pool.close().await;
        node
    };
    assert!(lease().await.is_some(), "held while running");
    sigterm(&server);
    let status = tokio::time::timeout(WAIT, server.wait())
        .await
        .expect("exited")
        .expect("status");
    assert!(status.success(), "{status}");
    assert_eq!(lease().await, None, "given back at shutdown");
}
