//! Real `roomcast` processes on one PostgreSQL schema and a private
//! `redis-server` (never the machine's shared Redis, which the cluster tests
//! restart), for the tests in `cluster.rs`.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::helpers::*;
use crate::pg::PgSchema;
use crate::ports::{Seen, Start, on_a_free_port, watch_log};

/// A `redis-server` of the test's own, on a port of its own, killed when dropped.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    pub async fn start() -> Self {
        let (port, child) = on_a_free_port("redis-server", async |port| {
            spawn_redis(port).await.map_up(|child| (port, child))
        })
        .await;
        Self {
            port,
            child: Some(child),
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (every node loses its connection).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// Starts it again on the same port, empty: the nodes know only that URL.
    pub async fn restart(&mut self) {
        match spawn_redis(self.port).await {
            Start::Up(child) => self.child = Some(child),
            Start::Taken => panic!("port {} was taken while Redis was down", self.port),
        }
    }
}

/// `redis-server` on `port`, once it says it accepts connections; `Taken`
/// when it says it could not bind (it then exits).
async fn spawn_redis(port: u16) -> Start<Child> {
    let mut child = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(["--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server on PATH (apt-get install redis-server)");
    let log = child.stdout.take().expect("stdout is piped");
    // Redis logs to stdout: "Ready to accept connections" once listening,
    // "Could not create server TCP listening socket ... Address already in
    // use" before it exits.
    let (seen, lines) = watch_log(log, |l| {
        if l.contains("Ready to accept connections") {
            Some(Seen::Ready)
        } else if l.contains("Address already in use") {
            Some(Seen::Taken)
        } else {
            None
        }
    })
    .await;
    match seen {
        Some(Seen::Ready) => Start::Up(child),
        Some(Seen::Taken) => Start::Taken,
        None => panic!(
            "redis-server on {port} did not start:\n{}",
            lines.join("\n")
        ),
    }
}

/// One roomcast process.
pub struct Node {
    pub addr: String,
    pub child: Child,
}

impl Node {
    pub async fn start(database: &str, redis: &str) -> Self {
        Self::start_with(database, redis, &[]).await
    }

    /// Starts a node with `extra` flags after the usual ones.
    pub async fn start_with(database: &str, redis: &str, extra: &[&str]) -> Self {
        let (child, addr) = start_roomcast(
            roomcast_command()
                .args(["serve", "--listen", "127.0.0.1:0", "--jwt-secret", SECRET])
                .args(["--database", database, "--redis", redis])
                .args(extra)
                .env("ROOMCAST_LOG", "warn"),
        )
        .await;
        Self { addr, child }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub async fn client(&self, sub: &str) -> TestClient {
        TestClient::connect(&self.url(), Connect::token(token(sub, None)))
            .await
            .unwrap_or_else(|e| panic!("{sub} connects to {}: {e}", self.addr))
    }

    /// `/healthz` status code.
    pub async fn health(&self) -> u16 {
        match reqwest::get(format!("http://{}/healthz", self.addr)).await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        }
    }

    /// Waits until `/healthz` answers `status`.
    pub async fn wait_health(&self, status: u16) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.health().await != status {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} /healthz never answered {status}",
                self.addr
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// `n` nodes on a fresh schema and a private Redis.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub redis: RedisServer,
    /// Kept for the cluster's lifetime: dropping it drops the schema.
    _schema: PgSchema,
}

impl Cluster {
    /// The database URL every node uses.
    pub fn database(&self) -> &str {
        &self._schema.url
    }

    pub async fn start(n: usize) -> Self {
        Self::start_with(n, &[]).await
    }

    /// `n` nodes, each with `extra` flags after the usual ones.
    pub async fn start_with(n: usize, extra: &[&str]) -> Self {
        let schema = PgSchema::create().await;
        let redis = RedisServer::start().await;
        // The first node migrates the schema; the others then find it done.
        let mut nodes = vec![Node::start_with(&schema.url, &redis.url(), extra).await];
        for _ in 1..n {
            nodes.push(Node::start_with(&schema.url, &redis.url(), extra).await);
        }
        Self {
            nodes,
            redis,
            _schema: schema,
        }
    }
}

/// A port that some other process holds is reported taken, not taken for ours.
#[tokio::test]
async fn redis_on_a_port_someone_holds_reports_it_taken() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    assert!(matches!(spawn_redis(port).await, Start::Taken));
}
