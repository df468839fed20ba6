//! Chaos on a cluster: two roomcast nodes on a private PostgreSQL and a
//! private Redis, hit in rotation by SIGKILL of a node, a Redis restart and
//! a PostgreSQL crash (`pg_ctl stop -m immediate`), under the writers and
//! audit of `chaos.rs`.

use crate::chaos::{Deployment, run_chaos};
use crate::cluster_support::{Node, RedisServer};
use crate::helpers::token;
use crate::pg_server::PgServer;

const NODES: usize = 2;
/// The round whose PostgreSQL outage outlasts the pools' acquire timeout.
const LONG_OUTAGE: usize = 5;
/// The room `chaos.rs` writes to.
const ROOM: &str = "chaos";
/// The writers send far above the default per-user rate.
const RATE: [&str; 4] = ["--message-rate", "1000000000", "--message-burst", "1000000"];

struct PgRedisCluster {
    nodes: Vec<Node>,
    redis: RedisServer,
    pg: PgServer,
}

impl PgRedisCluster {
    async fn start() -> Self {
        let pg = PgServer::start().await;
        let redis = RedisServer::start().await;
        let mut nodes = Vec::new();
        // One after another: the first migrates the schema.
        for _ in 0..NODES {
            nodes.push(Node::start_with(&pg.url(), &redis.url(), &RATE).await);
        }
        Self { nodes, redis, pg }
    }

    /// Keeps PostgreSQL down until every node has given up on a chat (its
    /// pool's acquire timeout): the nodes must recover from that too. The
    /// probes are not in any ledger, so the audit fails if one is stored.
    async fn outlast_the_pool(&self) {
        let http = reqwest::Client::new();
        let probes = self.nodes.iter().enumerate().map(|(i, node)| {
            http.post(format!("http://{}/api/rooms/{ROOM}/messages", node.addr))
                .bearer_auth(token("prober", None))
                .json(&serde_json::json!({ "message": format!("probe-{i}") }))
                .send()
        });
        for r in futures_util::future::join_all(probes).await {
            let status = r.expect("an answer, not a dropped connection").status();
            assert!(status.is_server_error(), "chat during the outage: {status}");
        }
    }

    /// Every node is healthy again without help: database and Redis up.
    async fn all_healthy(&self) {
        for node in &self.nodes {
            node.wait_health(200).await;
        }
    }
}

impl Deployment for PgRedisCluster {
    fn addrs(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.addr.clone()).collect()
    }

    async fn fault(&mut self, round: usize) -> &'static str {
        let what = match round % 3 {
            0 => {
                let i = (round / 3) % NODES;
                let node = &mut self.nodes[i];
                node.child.start_kill().expect("SIGKILL");
                node.child.wait().await.expect("reaped");
                *node = Node::start_with(&self.pg.url(), &self.redis.url(), &RATE).await;
                "SIGKILL roomcast"
            }
            1 => {
                self.redis.stop().await;
                self.redis.restart().await;
                "restart Redis"
            }
            _ => {
                self.pg.crash().await;
                // Down, and saying so, under traffic; then back on its own.
                let down = std::time::Instant::now();
                futures_util::future::join_all(self.nodes.iter().map(|n| n.wait_health(503))).await;
                println!("PostgreSQL down: /healthz 503 after {:?}", down.elapsed());
                if round == LONG_OUTAGE {
                    self.outlast_the_pool().await;
                    println!("PostgreSQL down: chats refused after {:?}", down.elapsed());
                }
                self.pg.up().await;
                "crash PostgreSQL"
            }
        };
        self.all_healthy().await;
        what
    }

    fn may_refuse(&self) -> bool {
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_rides_through_node_kills_and_redis_and_postgres_restarts_losing_no_acked_chat() {
    run_chaos(PgRedisCluster::start().await, 9).await;
}
