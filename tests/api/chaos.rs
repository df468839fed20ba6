//! Chaos: steady acked traffic from several clients while the deployment is
//! repeatedly hit by faults, then an audit: every acked chat is in the
//! history exactly once, nothing is stored twice, nothing unsent appears.
//!
//! The faults come from a [`Deployment`]. On SQLite the only process is
//! roomcast itself, so the fault is SIGKILL and restart. A PostgreSQL and
//! Redis deployment (issue 5) adds its own faults (restarting a private
//! PostgreSQL or Redis, never the machine's shared ones) by implementing
//! the same trait; the writers and the audit do not change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use futures_util::{SinkExt, StreamExt};
use tokio::process::Child;
use tokio::sync::{Notify, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::durability::{start_binary, whole_history};
use crate::helpers::*;
use crate::raw::RawWs;

const ROOM: &str = "chaos";
const WRITERS: usize = 4;
const ROUNDS: usize = 10;
/// Acked chats (all writers together) between two faults.
const ACKS_PER_ROUND: usize = 60;

/// Something the chaos loop can run and hurt.
trait Deployment {
    /// The address clients should use now.
    fn addr(&self) -> String;
    /// Injects fault number `round`, and recovers from it.
    async fn fault(&mut self, round: usize);
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
    fn addr(&self) -> String {
        self.addr.clone()
    }

    async fn fault(&mut self, _round: usize) {
        self.server.start_kill().expect("SIGKILL");
        self.server.wait().await.expect("reaped");
        let (server, addr) = start_binary(&self.db, Some(SECRET)).await;
        self.server = server;
        self.addr = addr;
    }
}

/// What one writer knows at the end.
#[derive(Default)]
struct Ledger {
    /// Texts acked `ok`.
    acked: BTreeSet<String>,
    /// Texts sent whose fate is unknown (the connection died first).
    unknown: BTreeSet<String>,
}

/// Connects and joins; `None` if the server is not (yet) there.
async fn connect(addr: &str, user: &str) -> Option<RawWs> {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.ok()?;
    ws.next().await?.ok()?;
    let auth = format!(r#"40{{"token":"{}"}}"#, token(user, None));
    ws.send(Message::text(auth)).await.ok()?;
    let join = format!(r#"420["join",{{"room":"{ROOM}"}}]"#);
    let mut joined = false;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(WAIT, ws.next()).await {
        let text = m.to_text().ok()?;
        if text.starts_with("40") && !joined {
            joined = true;
            ws.send(Message::text(join.clone())).await.ok()?;
        } else if text.starts_with("430[") {
            return text.contains(r#""ok":true"#).then_some(ws);
        }
    }
    None
}

/// Sends one chat and waits for its ack: `Some(ok)`, or `None` when the
/// connection failed first (the chat may or may not be stored).
async fn chat(ws: &mut RawWs, ack_id: u64, text: &str) -> Option<bool> {
    let frame = format!(
        "42{ack_id}{}",
        serde_json::json!(["chat", {"room": ROOM, "message": text}])
    );
    ws.send(Message::text(frame)).await.ok()?;
    let prefix = format!("43{ack_id}[");
    while let Ok(Some(Ok(m))) = tokio::time::timeout(WAIT, ws.next()).await {
        let Ok(t) = m.to_text() else { continue };
        if t == "2" {
            ws.send(Message::text("3")).await.ok()?;
        } else if t.starts_with(&prefix) {
            return Some(t.contains(r#""ok":true"#));
        }
    }
    None
}

/// Chats `w{id}-{n}` one after another until `stop`, reconnecting to the
/// current address after each failure. Never resends a chat.
async fn writer(id: usize, mut addrs: watch::Receiver<String>, progress: Arc<Progress>) -> Ledger {
    let mut ledger = Ledger::default();
    let mut n = 0u64;
    let user = format!("writer{id}");
    while !progress.stop.load(Ordering::SeqCst) {
        let addr = addrs.borrow_and_update().clone();
        let Some(mut ws) = connect(&addr, &user).await else {
            // Killed: the restart publishes a new address.
            let _ = tokio::time::timeout(WAIT, addrs.changed()).await;
            continue;
        };
        while !progress.stop.load(Ordering::SeqCst) {
            n += 1;
            let text = format!("w{id}-{n}");
            match chat(&mut ws, n, &text).await {
                Some(true) => {
                    ledger.acked.insert(text);
                    progress.acks.fetch_add(1, Ordering::SeqCst);
                    progress.acked.notify_waiters();
                }
                Some(false) => panic!("chat {text} refused"),
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
    acked: Notify,
    stop: AtomicBool,
}

impl Progress {
    /// Waits until the writers have `target` acks in all.
    async fn until(&self, target: usize) {
        loop {
            let acked = self.acked.notified();
            let n = self.acks.load(Ordering::SeqCst);
            if n >= target {
                return;
            }
            if tokio::time::timeout(WAIT, acked).await.is_err() {
                panic!("traffic stalled at {n} acks");
            }
        }
    }
}

async fn run_chaos(mut deployment: impl Deployment) {
    let (addr_tx, addr_rx) = watch::channel(deployment.addr());
    let progress = Arc::new(Progress::default());
    let writers: Vec<_> = (0..WRITERS)
        .map(|id| tokio::spawn(writer(id, addr_rx.clone(), progress.clone())))
        .collect();
    for round in 0..ROUNDS {
        progress.until((round + 1) * ACKS_PER_ROUND).await;
        deployment.fault(round).await;
        addr_tx.send_replace(deployment.addr());
    }
    progress.until((ROUNDS + 1) * ACKS_PER_ROUND).await;
    progress.stop.store(true, Ordering::SeqCst);
    let mut ledgers = Vec::new();
    for w in writers {
        ledgers.push(w.await.expect("writer"));
    }
    audit(&deployment.addr(), &ledgers).await;
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
    let unknown_stored = history.len() - acked;
    println!(
        "chaos: {ROUNDS} faults, {acked} acked chats all stored once; \
         {unknown} cut off before their ack, {unknown_stored} of them stored"
    );
    let ids: Vec<i64> = history.iter().filter_map(|m| m["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_and_restart_under_steady_traffic_loses_and_duplicates_nothing() {
    run_chaos(SqliteNode::start().await).await;
}
