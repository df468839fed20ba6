//! Chaos: steady acked traffic from several clients while the deployment is
//! repeatedly hit by faults, then an audit: every acked chat is in the
//! history exactly once, nothing is stored twice, nothing unsent appears.
//!
//! The faults come from a [`Deployment`]. On SQLite the only process is
//! roomcast itself, so the fault is SIGKILL and restart. The cluster
//! deployment (`chaos_cluster.rs`: two nodes on a private PostgreSQL and a
//! private Redis, never the machine's shared ones) rotates through killing a
//! node, restarting Redis and crashing PostgreSQL; the writers and the audit
//! do not change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use roomcast::wire_client::{packet, ws};
use serde_json::json;
use tokio::process::Child;
use tokio::sync::{Notify, watch};

use crate::durability::{start_binary, whole_history};
use crate::helpers::*;
use crate::raw::RawWs;

const ROOM: &str = "chaos";
const WRITERS: usize = 4;
/// Acked chats (all writers together) between two faults.
const ACKS_PER_ROUND: usize = 60;

/// Something the chaos loop can run and hurt.
pub(crate) trait Deployment {
    /// The nodes' addresses now; writer `i` uses node `i % len`.
    fn addrs(&self) -> Vec<String>;
    /// Injects fault number `round`, and recovers from it. Returns what it did.
    async fn fault(&mut self, round: usize) -> &'static str;
    /// Whether a chat may be refused (error ack) during a fault: a node
    /// whose database is down acks an error, which leaves the chat's fate
    /// unknown just like a cut connection. A lone SQLite node never refuses.
    fn may_refuse(&self) -> bool {
        false
    }
}

/// One roomcast process on a SQLite file: killed with SIGKILL and restarted.
struct SqliteNode {
    db: PathBuf,
    server: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl SqliteNode {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("chaos.db");
        let (server, addr) = start_binary(&db, Some(SECRET)).await;
        Self {
            db,
            server,
            addr,
            _dir: dir,
        }
    }
}

impl Deployment for SqliteNode {
    fn addrs(&self) -> Vec<String> {
        vec![self.addr.clone()]
    }

    async fn fault(&mut self, _round: usize) -> &'static str {
        self.server.start_kill().expect("SIGKILL");
        self.server.wait().await.expect("reaped");
        let (server, addr) = start_binary(&self.db, Some(SECRET)).await;
        self.server = server;
        self.addr = addr;
        "SIGKILL roomcast"
    }
}

/// What one writer knows at the end.
#[derive(Default)]
struct Ledger {
    /// Texts acked `ok`.
    acked: BTreeSet<String>,
    /// Texts sent whose fate is unknown (the connection died first, or the
    /// ack was an error).
    unknown: BTreeSet<String>,
    /// How many of `unknown` were refused with an error ack.
    refused: usize,
}

/// How a chat fared.
enum Acked {
    /// Committed, with this id.
    Ok(i64),
    /// Error ack: may or may not be stored (a commit can succeed and its
    /// connection break before PostgreSQL says so).
    Refused,
}

/// Connects and joins, with `since` once the writer has seen an id (as a
/// reconnecting client does); `None` if the server is not (yet) there or
/// the join fails.
async fn connect(addr: &str, user: &str, since: Option<i64>) -> Option<RawWs> {
    let server = addr.parse().ok()?;
    let mut ws = ws::open(ws::url(server), server, None).await.ok()?;
    let auth = json!({"token": token(user, None)});
    ws::handshake(&mut ws, Some(&auth), WAIT).await.ok()?;
    let mut join = json!({"room": ROOM});
    if let Some(id) = since {
        join["since"] = json!(id);
    }
    let join = packet::event(Some(0), "join", &[join]);
    let ack = ws::call(&mut ws, &join, 0, WAIT).await.ok()?;
    // The replay is what came after the writer's last acked chat.
    let ids = ack["history"].as_array().into_iter().flatten();
    let replayed: Vec<i64> = ids.filter_map(|m| m["id"].as_i64()).collect();
    if let (Some(since), Some(first)) = (since, replayed.first()) {
        assert!(*first > since, "join since {since} replayed {first}");
    }
    (ack["ok"] == true).then_some(ws)
}

/// Sends one chat and waits for its ack, or `None` when the connection
/// failed first (the chat may or may not be stored).
async fn chat(ws: &mut RawWs, ack_id: u64, text: &str) -> Option<Acked> {
    let frame = packet::event(
        Some(ack_id),
        "chat",
        &[json!({"room": ROOM, "message": text})],
    );
    let ack = ws::call(ws, &frame, ack_id, WAIT).await.ok()?;
    Some(match ack["id"].as_i64() {
        Some(id) if ack["ok"] == true => Acked::Ok(id),
        // Only the database failing may refuse a well-formed chat.
        _ if ack["error"] == "internal" => Acked::Refused,
        _ => panic!("chat {text} refused: {ack}"),
    })
}

/// Chats `w{id}-{n}` one after another until `stop`, reconnecting to the
/// current address after each failure. Never resends a chat.
async fn writer(
    id: usize,
    mut addrs: watch::Receiver<Vec<String>>,
    progress: Arc<Progress>,
    may_refuse: bool,
) -> Ledger {
    let mut ledger = Ledger::default();
    let mut n = 0u64;
    let mut since = None;
    let user = format!("writer{id}");
    while !progress.stop.load(Ordering::SeqCst) {
        let addr = {
            let all = addrs.borrow_and_update();
            all[id % all.len()].clone()
        };
        let Some(mut ws) = connect(&addr, &user, since).await else {
            // Killed: the restart publishes a new address. Database down:
            // try again shortly (a retry interval, not a synchronization).
            let _ = tokio::time::timeout(Duration::from_millis(200), addrs.changed()).await;
            continue;
        };
        while !progress.stop.load(Ordering::SeqCst) {
            n += 1;
            let text = format!("w{id}-{n}");
            match chat(&mut ws, n, &text).await {
                Some(Acked::Ok(stored)) => {
                    since = Some(stored);
                    ledger.acked.insert(text);
                    progress.each[id].fetch_add(1, Ordering::SeqCst);
                    progress.acks.fetch_add(1, Ordering::SeqCst);
                    progress.acked.notify_waiters();
                }
                Some(Acked::Refused) => {
                    assert!(may_refuse, "chat {text} refused");
                    ledger.unknown.insert(text);
                    ledger.refused += 1;
                }
                None => {
                    ledger.unknown.insert(text);
                    break;
                }
            }
        }
    }
    ledger
}

/// Shared by the writers and the chaos loop.
#[derive(Default)]
struct Progress {
    acks: AtomicUsize,
    /// Acks per writer.
    each: [AtomicUsize; WRITERS],
    acked: Notify,
    stop: AtomicBool,
}

impl Progress {
    /// Waits until the writers have `target` acks in all.
    async fn until(&self, target: usize) {
        self.until_true(|p| p.acks.load(Ordering::SeqCst) >= target)
            .await;
    }

    fn each(&self) -> [usize; WRITERS] {
        std::array::from_fn(|i| self.each[i].load(Ordering::SeqCst))
    }

    /// Waits until every writer has had a chat acked since `then`: every
    /// node serves again, not just the cluster as a whole.
    async fn until_each_past(&self, then: [usize; WRITERS]) {
        self.until_true(|p| p.each().iter().zip(then).all(|(now, then)| *now > then))
            .await;
    }

    async fn until_true(&self, done: impl Fn(&Self) -> bool) {
        loop {
            let acked = self.acked.notified();
            if done(self) {
                return;
            }
            if tokio::time::timeout(WAIT, acked).await.is_err() {
                panic!("traffic stalled: acks per writer {:?}", self.each());
            }
        }
    }
}

/// Runs `rounds` faults under traffic, then audits the history.
pub(crate) async fn run_chaos(mut deployment: impl Deployment, rounds: usize) {
    let started = Instant::now();
    let (addr_tx, addr_rx) = watch::channel(deployment.addrs());
    let progress = Arc::new(Progress::default());
    let may_refuse = deployment.may_refuse();
    let writers: Vec<_> = (0..WRITERS)
        .map(|id| tokio::spawn(writer(id, addr_rx.clone(), progress.clone(), may_refuse)))
        .collect();
    let mut faults = BTreeMap::new();
    for round in 0..rounds {
        progress.until((round + 1) * ACKS_PER_ROUND).await;
        *faults.entry(deployment.fault(round).await).or_insert(0) += 1;
        addr_tx.send_replace(deployment.addrs());
    }
    let after_faults = progress.each();
    progress.until((rounds + 1) * ACKS_PER_ROUND).await;
    progress.until_each_past(after_faults).await;
    progress.stop.store(true, Ordering::SeqCst);
    let mut ledgers = Vec::new();
    for w in writers {
        ledgers.push(w.await.expect("writer"));
    }
    audit(&deployment.addrs()[0], &ledgers).await;
    println!(
        "chaos: faults {faults:?}, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Every acked chat is stored exactly once; nothing is stored twice;
/// everything stored was sent.
async fn audit(addr: &str, ledgers: &[Ledger]) {
    let url = format!("http://{addr}/");
    let mut reader = TestClient::connect(&url, Connect::token(token("auditor", None)))
        .await
        .expect("auditor");
    reader.join(ROOM).await;
    let history = whole_history(&reader, ROOM).await;
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for m in &history {
        *count
            .entry(m["message"].as_str().expect("text").to_owned())
            .or_default() += 1;
    }
    let twice: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let mut acked = 0;
    for l in ledgers {
        acked += l.acked.len();
        let lost: Vec<_> = l.acked.iter().filter(|t| !count.contains_key(*t)).collect();
        assert!(lost.is_empty(), "acked but not stored: {lost:?}");
    }
    let sent = |t: &String| {
        ledgers
            .iter()
            .any(|l| l.acked.contains(t) || l.unknown.contains(t))
    };
    let unsent: Vec<_> = count.keys().filter(|t| !sent(t)).collect();
    assert!(unsent.is_empty(), "stored but never sent: {unsent:?}");
    let unknown: usize = ledgers.iter().map(|l| l.unknown.len()).sum();
    let refused: usize = ledgers.iter().map(|l| l.refused).sum();
    let unknown_stored = history.len() - acked;
    println!(
        "chaos: {acked} acked chats all stored once; {unknown} unacked \
         ({refused} error acks, the rest cut off), {unknown_stored} of them stored"
    );
    let ids: Vec<i64> = history.iter().filter_map(|m| m["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_and_restart_under_steady_traffic_loses_and_duplicates_nothing() {
    run_chaos(SqliteNode::start().await, 10).await;
}
