//! Acked `chat` throughput on one room, end to end over real Socket.IO.
//!
//! The server is built in-process (`roomcast::app::build`) on a temporary
//! SQLite file; the clients are the raw Socket.IO client of the load tool
//! and the tests (`roomcast::wire_client`), run on the same 2-worker
//! runtime as the server (so at high fan-out the clients' reading takes a
//! share of the CPU). Each client keeps up to `BENCH_WINDOW` un-acked `chat`s
//! in flight and reads every broadcast of the room.
//!
//! Environment (defaults): `BENCH_CLIENTS` (8), `BENCH_WINDOW` (64),
//! `BENCH_SECS` (10), `BENCH_WARMUP_SECS` (2), `BENCH_MSG_LEN` (48),
//! `BENCH_ALLOW_LOST` (0; 1 = lost broadcasts only warn), `RUST_LOG` (server
//! logs, `roomcast=warn`), `BENCH_DATABASE` (unset: a temporary SQLite file;
//! `postgres://…`: a fresh schema in that database).
//!
//! Run: `cargo bench --bench chat_throughput`
//! e.g. `BENCH_CLIENTS=32 BENCH_WINDOW=32 cargo bench --bench chat_throughput`
//!
//! Exits non-zero when any ack is `ok:false`, an ack never came, ids were out
//! of order, a broadcast was lost (unless `BENCH_ALLOW_LOST=1`) or repeated,
//! or the database does not hold exactly the acked messages.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use roomcast::config::{Secret, Settings};
use roomcast::wire_client::packet::{self, Incoming};
use roomcast::wire_client::ws::{self, Message as Ws, WsStream};
use serde_json::{Value, json};
use tokio::sync::{Barrier, mpsc, watch};

mod common;
use common::{PgBenchSchema, SECRET, env_num, token};

const ROOM: &str = "bench";
/// How long connecting, joining, and each ending phase may take.
const STEP: Duration = Duration::from_secs(20);
/// How long a reader waits for the last broadcasts once every ack is in.
const DELIVERY_DRAIN: Duration = Duration::from_secs(5);

struct Config {
    clients: usize,
    window: usize,
    secs: u64,
    warmup_secs: u64,
    msg_len: usize,
    /// Lost broadcasts are reported but do not fail the run.
    allow_lost: bool,
}

impl Config {
    fn from_env() -> Self {
        Self {
            clients: env_num("BENCH_CLIENTS", 8usize).max(1),
            window: env_num("BENCH_WINDOW", 64usize).max(1),
            secs: env_num("BENCH_SECS", 10u64).max(1),
            warmup_secs: env_num("BENCH_WARMUP_SECS", 2u64),
            msg_len: env_num("BENCH_MSG_LEN", 48usize).clamp(1, 4000),
            allow_lost: env_num("BENCH_ALLOW_LOST", 0u8) != 0,
        }
    }
}

/// Counters every client updates and the main task samples.
#[derive(Default)]
struct Shared {
    /// Writers send new chats only while this is set.
    sending: AtomicBool,
    /// Ack latencies are recorded only while this is set.
    measuring: AtomicBool,
    sent: AtomicU64,
    acked_ok: AtomicU64,
    acked_err: AtomicU64,
    deliveries: AtomicU64,
}

/// The phase the main task announces to the readers once sending stopped and
/// every ack is in: how many chats were stored in total, so each reader knows
/// how many broadcasts it still has to see.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Drain { total: u64 },
}

/// What one client saw.
#[derive(Default)]
struct ClientReport {
    sent: u64,
    acked_ok: u64,
    acked_err: u64,
    deliveries: u64,
    /// Largest message id in an ok ack.
    max_acked_id: i64,
    /// Ack latencies (µs) during the measured window.
    latencies_us: Vec<u32>,
    /// Acks that came back with a lower ack id than an earlier one.
    acks_out_of_order: u64,
    /// Ack N+k carrying a message id not above ack N's (same socket).
    ack_id_order_violations: u64,
    /// A broadcast `chat` whose id was not above the previous one.
    delivery_order_violations: u64,
    first_error: Option<String>,
    /// Set when the connection ended or misbehaved before the end.
    failure: Option<String>,
}

/// Connects, authenticates and joins the room; returns the open socket.
async fn connect_and_join(addr: SocketAddr, sub: &str) -> Result<WsStream, String> {
    let mut ws = ws::open(ws::url(addr), addr, None).await?;
    ws::handshake_and_join(&mut ws, Some(&token(sub)), ROOM, STEP).await?;
    Ok(ws)
}

enum Cmd {
    /// Answer an Engine.IO ping.
    Pong,
    /// An ack came back: one more chat may be in flight.
    Credit,
}

/// Send times of the chats in flight. At most `window` are in flight, and
/// they are the latest `window` sent, so `ack id % window` is a free slot.
struct SendTimes {
    slots: Mutex<Vec<(u64, Option<Instant>)>>,
}

/// The sending half: keeps `window` chats in flight while `sending` is set.
async fn writer(
    mut sink: futures_util::stream::SplitSink<WsStream, Ws>,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
    shared: Arc<Shared>,
    times: Arc<SendTimes>,
    window: usize,
    body: String,
) -> Result<u64, String> {
    let mut credits = window;
    let mut next_ack_id: u64 = ws::JOIN_ACK + 1;
    let mut sent = 0u64;
    loop {
        let mut wrote = false;
        while credits > 0 && shared.sending.load(Ordering::Relaxed) {
            let n = next_ack_id;
            next_ack_id += 1;
            credits -= 1;
            let packet = packet::chat(n, ROOM, &format!("{body} #{n}"));
            {
                let mut slots = times.slots.lock().unwrap_or_else(|p| p.into_inner());
                let i = (n % window as u64) as usize;
                slots[i] = (n, Some(Instant::now()));
            }
            sink.feed(Ws::text(packet))
                .await
                .map_err(|e| e.to_string())?;
            shared.sent.fetch_add(1, Ordering::Relaxed);
            sent += 1;
            wrote = true;
        }
        if wrote {
            sink.flush().await.map_err(|e| e.to_string())?;
        }
        let Some(cmd) = cmds.recv().await else {
            break;
        };
        let mut pong = false;
        let mut apply = |c: Cmd| match c {
            Cmd::Pong => pong = true,
            Cmd::Credit => credits += 1,
        };
        apply(cmd);
        while let Ok(c) = cmds.try_recv() {
            apply(c);
        }
        if pong {
            sink.send(Ws::text(packet::PONG))
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let _ = sink.close().await;
    Ok(sent)
}

/// One client, from connect to the last broadcast.
async fn client(
    i: usize,
    addr: SocketAddr,
    cfg: Arc<Config>,
    shared: Arc<Shared>,
    ready: Arc<Barrier>,
    mut phase: watch::Receiver<Phase>,
) -> ClientReport {
    let mut report = ClientReport::default();
    let joined = tokio::time::timeout(STEP, connect_and_join(addr, &format!("bench-{i}")))
        .await
        .unwrap_or_else(|_| Err("connect and join timed out".into()));
    let ws = match joined {
        Ok(ws) => ws,
        Err(e) => {
            report.failure = Some(format!("client {i}: {e}"));
            // Still reach the barrier so the others are not held forever.
            ready.wait().await;
            return report;
        }
    };
    ready.wait().await;

    let (sink, mut stream) = ws.split();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let times = Arc::new(SendTimes {
        slots: Mutex::new(vec![(0, None); cfg.window]),
    });
    let mut body = format!("bench client {i} says hello");
    while body.len() < cfg.msg_len {
        body.push('.');
    }
    body.truncate(cfg.msg_len);
    let writer = tokio::spawn(writer(
        sink,
        cmd_rx,
        shared.clone(),
        times.clone(),
        cfg.window,
        body,
    ));

    let mut last_ack_n: u64 = 1;
    let mut acks: Vec<(u64, i64)> = Vec::new();
    let mut last_delivered: i64 = 0;
    let mut target: Option<u64> = None;
    let drain_deadline = tokio::time::sleep(Duration::from_secs(u64::MAX / 4));
    tokio::pin!(drain_deadline);

    loop {
        if let Some(total) = target
            && report.deliveries >= total
        {
            break;
        }
        let msg = tokio::select! {
            biased;
            msg = stream.next() => msg,
            changed = phase.changed() => {
                if changed.is_err() {
                    break;
                }
                if let Phase::Drain { total } = *phase.borrow_and_update() {
                    target = Some(total);
                    drain_deadline
                        .as_mut()
                        .reset(tokio::time::Instant::now() + DELIVERY_DRAIN);
                }
                continue;
            }
            // Broadcasts that never came are counted by the caller.
            () = &mut drain_deadline => break,
        };
        let msg = match msg {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                report.failure = Some(format!("client {i}: websocket: {e}"));
                break;
            }
            None => {
                report.failure = Some(format!("client {i}: connection closed by server"));
                break;
            }
        };
        let t = match &msg {
            Ws::Text(t) => t.as_str(),
            Ws::Close(c) => {
                report.failure = Some(format!("client {i}: closed by server: {c:?}"));
                break;
            }
            _ => continue,
        };
        match packet::classify(t) {
            Incoming::Ping => {
                let _ = cmd_tx.send(Cmd::Pong);
            }
            Incoming::Ack(n, args) => {
                let sent_at = {
                    let mut slots = times.slots.lock().unwrap_or_else(|p| p.into_inner());
                    let slot = &mut slots[(n % cfg.window as u64) as usize];
                    if slot.0 == n { slot.1.take() } else { None }
                };
                if n < last_ack_n {
                    report.acks_out_of_order += 1;
                }
                last_ack_n = last_ack_n.max(n);
                let ack = packet::ack_value(args).unwrap_or(Value::Null);
                if ack["ok"] == json!(true) {
                    let id = ack["id"].as_i64().unwrap_or(-1);
                    report.acked_ok += 1;
                    shared.acked_ok.fetch_add(1, Ordering::Relaxed);
                    report.max_acked_id = report.max_acked_id.max(id);
                    acks.push((n, id));
                } else {
                    report.acked_err += 1;
                    shared.acked_err.fetch_add(1, Ordering::Relaxed);
                    if report.first_error.is_none() {
                        report.first_error = Some(format!("ack {n}: {args}"));
                    }
                }
                if let Some(at) = sent_at
                    && shared.measuring.load(Ordering::Relaxed)
                {
                    let us = at.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                    report.latencies_us.push(us);
                }
                let _ = cmd_tx.send(Cmd::Credit);
            }
            Incoming::Other if t.starts_with("43") => {
                report.failure = Some(format!("client {i}: bad ack packet {t:?}"));
                break;
            }
            // A chat whose body `classify` could not read is still a chat.
            Incoming::Chat(_) | Incoming::Other if t.starts_with(r#"42["chat""#) => {
                report.deliveries += 1;
                shared.deliveries.fetch_add(1, Ordering::Relaxed);
                match packet::chat_id(t) {
                    Some(id) if id > last_delivered => last_delivered = id,
                    _ => report.delivery_order_violations += 1,
                }
            }
            Incoming::Disconnect => {
                report.failure = Some(format!("client {i}: disconnected by server ({t})"));
                break;
            }
            Incoming::Chat(_) | Incoming::Other => {}
        }
        // Other events (`join`/`leave` notices) are not counted.
    }
    drop(cmd_tx);
    match tokio::time::timeout(STEP, writer).await {
        Ok(Ok(Ok(sent))) => report.sent = sent,
        Ok(Ok(Err(e))) => {
            report
                .failure
                .get_or_insert(format!("client {i}: send: {e}"));
        }
        _ => {
            report
                .failure
                .get_or_insert(format!("client {i}: writer did not end"));
        }
    }
    acks.sort_unstable();
    report.ack_id_order_violations = acks.windows(2).filter(|w| w[1].1 <= w[0].1).count() as u64;
    report
}

fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    Some(sorted[rank.min(sorted.len() - 1)])
}

/// What the database and the HTTP API say was stored.
struct Stored {
    http_last_id: Option<i64>,
    count: i64,
    min_id: i64,
    max_id: i64,
}

async fn check_store(addr: SocketAddr, db_url: &str) -> Result<Stored, String> {
    let url = format!("http://{addr}/api/rooms/{ROOM}/messages?limit=1");
    let resp = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token("bench-checker"))
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.map_err(|e| format!("GET {url}: {e}"))?;
    if !status.is_success() {
        return Err(format!("GET {url}: {status} {body}"));
    }
    let http_last_id = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["id"].as_i64());

    let (count, min_id, max_id) = if db_url.starts_with("postgres") {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(db_url)
            .await
            .map_err(|e| format!("open {db_url}: {e}"))?;
        let row: (i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM messages WHERE room = $1",
        )
        .bind(ROOM)
        .fetch_one(&pool)
        .await
        .map_err(|e| format!("count messages: {e}"))?;
        pool.close().await;
        row
    } else {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect(db_url)
            .await
            .map_err(|e| format!("open {db_url}: {e}"))?;
        let row: (i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM messages WHERE room = ?",
        )
        .bind(ROOM)
        .fetch_one(&pool)
        .await
        .map_err(|e| format!("count messages: {e}"))?;
        pool.close().await;
        row
    };
    Ok(Stored {
        http_last_id,
        count,
        min_id,
        max_id,
    })
}

async fn bench(cfg: Config) -> Result<bool, String> {
    let cfg = Arc::new(cfg);
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    // BENCH_DATABASE=postgres://… runs on PostgreSQL, in a fresh schema.
    let schema = match std::env::var("BENCH_DATABASE") {
        Ok(url) if url.starts_with("postgres") => Some(PgBenchSchema::create(url).await?),
        _ => None,
    };
    let db_url = match &schema {
        Some(s) => s.url.clone(),
        None => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    eprintln!(
        "database: {}",
        if schema.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    let mut settings = Settings::new(db_url.clone());
    settings.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.jwt_secret = Some(Secret(SECRET.into()));
    // The bench measures the server, not the per-user rate limit.
    settings.message_rate = 1e9;
    settings.message_burst = 1_000_000;
    let app = roomcast::app::build(settings)
        .await
        .map_err(|e| format!("build server: {e:#}"))?;
    let addr = app.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(app.run());

    let shared = Arc::new(Shared::default());
    let ready = Arc::new(Barrier::new(cfg.clients + 1));
    let (phase_tx, phase_rx) = watch::channel(Phase::Running);
    let setup = Instant::now();
    let clients: Vec<_> = (0..cfg.clients)
        .map(|i| {
            tokio::spawn(client(
                i,
                addr,
                cfg.clone(),
                shared.clone(),
                ready.clone(),
                phase_rx.clone(),
            ))
        })
        .collect();
    // Writers start once everyone has joined, so every client should see
    // every chat.
    shared.sending.store(true, Ordering::SeqCst);
    tokio::time::timeout(STEP * 2, ready.wait())
        .await
        .map_err(|_| "clients did not connect and join in time".to_string())?;
    let setup = setup.elapsed();

    tokio::time::sleep(Duration::from_secs(cfg.warmup_secs)).await;
    let ok0 = shared.acked_ok.load(Ordering::Relaxed);
    let del0 = shared.deliveries.load(Ordering::Relaxed);
    let t0 = Instant::now();
    shared.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(cfg.secs)).await;
    shared.measuring.store(false, Ordering::Relaxed);
    let ok1 = shared.acked_ok.load(Ordering::Relaxed);
    let del1 = shared.deliveries.load(Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    shared.sending.store(false, Ordering::SeqCst);

    // Wait for every ack still in flight.
    let drain_start = Instant::now();
    let in_flight = || {
        let answered =
            shared.acked_ok.load(Ordering::SeqCst) + shared.acked_err.load(Ordering::SeqCst);
        shared.sent.load(Ordering::SeqCst).saturating_sub(answered)
    };
    while in_flight() > 0 && drain_start.elapsed() < STEP {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let missing_acks = in_flight();
    // Every chat not refused should be stored and broadcast to every client
    // (all joined before the first chat), acked or not.
    let accepted = shared.sent.load(Ordering::SeqCst) - shared.acked_err.load(Ordering::SeqCst);
    let _ = phase_tx.send(Phase::Drain { total: accepted });

    let mut reports = Vec::with_capacity(clients.len());
    for c in clients {
        match tokio::time::timeout(STEP * 2, c).await {
            Ok(Ok(r)) => reports.push(r),
            Ok(Err(e)) => return Err(format!("client task: {e}")),
            Err(_) => return Err("a client did not end".into()),
        }
    }
    let stored = check_store(addr, &db_url).await;
    server.abort();

    // Totals.
    let sum = |f: fn(&ClientReport) -> u64| reports.iter().map(f).sum::<u64>();
    let sent = sum(|r| r.sent);
    let acked_ok = sum(|r| r.acked_ok);
    let errors = sum(|r| r.acked_err);
    let deliveries = sum(|r| r.deliveries);
    let acks_out_of_order = sum(|r| r.acks_out_of_order);
    let ack_id_order = sum(|r| r.ack_id_order_violations);
    let delivery_order = sum(|r| r.delivery_order_violations);
    let expected_deliveries = accepted * cfg.clients as u64;
    let max_acked_id = reports.iter().map(|r| r.max_acked_id).max().unwrap_or(0);
    let mut lat: Vec<u32> = reports
        .iter()
        .flat_map(|r| r.latencies_us.iter().copied())
        .collect();
    lat.sort_unstable();
    let (p50, p99, max) = (
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        lat.last().copied(),
    );
    let acked_per_s = (ok1 - ok0) as f64 / elapsed;
    let deliveries_per_s = (del1 - del0) as f64 / elapsed;

    let mut problems: Vec<String> = Vec::new();
    if errors > 0 {
        let first = reports.iter().find_map(|r| r.first_error.clone());
        problems.push(format!(
            "{errors} error acks (first: {})",
            first.unwrap_or_default()
        ));
    }
    if missing_acks > 0 {
        problems.push(format!("{missing_acks} chats never acked"));
    }
    if ack_id_order > 0 {
        problems.push(format!(
            "{ack_id_order} acks whose message id is not above that of the socket's previous chat"
        ));
    }
    if delivery_order > 0 {
        problems.push(format!(
            "{delivery_order} chat broadcasts repeated or out of id order"
        ));
    }
    let lost: Vec<u64> = reports
        .iter()
        .map(|r| accepted.saturating_sub(r.deliveries))
        .collect();
    let lost_total: u64 = lost.iter().sum();
    if lost_total > 0 {
        let per_client: Vec<String> = lost
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| format!("client {i}: {n}"))
            .collect();
        let msg = format!(
            "{lost_total} chat broadcasts lost ({})",
            per_client.join(", ")
        );
        if cfg.allow_lost {
            eprintln!("chat_throughput: warning: {msg}");
        } else {
            problems.push(msg);
        }
    }
    for r in &reports {
        if let Some(f) = &r.failure {
            problems.push(f.clone());
        }
    }
    let stored_json = match &stored {
        Ok(s) => {
            if s.count as u64 != acked_ok || s.max_id != max_acked_id {
                problems.push(format!(
                    "database holds {} messages (ids {}..={}), {} were acked (last id {})",
                    s.count, s.min_id, s.max_id, acked_ok, max_acked_id
                ));
            }
            if s.http_last_id != Some(max_acked_id) {
                problems.push(format!(
                    "HTTP API's last message id {:?}, last acked id {max_acked_id}",
                    s.http_last_id
                ));
            }
            json!({"count": s.count, "min_id": s.min_id, "max_id": s.max_id, "http_last_id": s.http_last_id})
        }
        Err(e) => {
            problems.push(format!("store check failed: {e}"));
            Value::Null
        }
    };

    let ms = |us: Option<u32>| {
        us.map_or("-".to_string(), |u| {
            format!("{:.2}ms", f64::from(u) / 1000.0)
        })
    };
    // A closed stdout (`| head`) must not turn a passing run into a panic.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "chat_throughput: clients={} window={} secs={} warmup={}s msg_len={} | {:.0} acked chats/s, {:.0} deliveries/s | total acked {} (sent {}), errors {} | ack latency p50 {} p99 {} max {} | setup {:.2}s | {}",
        cfg.clients,
        cfg.window,
        cfg.secs,
        cfg.warmup_secs,
        cfg.msg_len,
        acked_per_s,
        deliveries_per_s,
        acked_ok,
        sent,
        errors,
        ms(p50),
        ms(p99),
        ms(max),
        setup.as_secs_f64(),
        if problems.is_empty() {
            "all checks passed".to_string()
        } else {
            format!("PROBLEMS: {}", problems.join("; "))
        },
    );
    let _ = writeln!(
        out,
        "{}",
        json!({
            "bench": "chat_throughput",
            "clients": cfg.clients,
            "window": cfg.window,
            "secs": cfg.secs,
            "warmup_secs": cfg.warmup_secs,
            "msg_len": cfg.msg_len,
            "measured_secs": elapsed,
            "acked_per_sec": acked_per_s,
            "deliveries_per_sec": deliveries_per_s,
            "total_sent": sent,
            "total_acked": acked_ok,
            "errors": errors,
            "missing_acks": missing_acks,
            "acks_out_of_order": acks_out_of_order,
            "ack_id_order_violations": ack_id_order,
            "delivery_order_violations": delivery_order,
            "deliveries": deliveries,
            "expected_deliveries": expected_deliveries,
            "lost_deliveries": lost_total,
            "latency_us": {"p50": p50, "p99": p99, "max": max, "samples": lat.len()},
            "stored": stored_json,
            "ok": problems.is_empty(),
            "problems": problems,
        })
    );
    Ok(problems.is_empty())
}

/// The same allocator as the `roomcast` binary, so the bench measures what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("roomcast=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let cfg = Config::from_env();
    // Everything must end: the phases have their own deadlines, this is the backstop.
    let budget = Duration::from_secs(cfg.warmup_secs + cfg.secs) + STEP * 6;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chat_throughput: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async { tokio::time::timeout(budget, bench(cfg)).await });
    // Do not wait for server tasks (sockets, the writer) to wind down.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => ExitCode::FAILURE,
        Ok(Err(e)) => {
            eprintln!("chat_throughput: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("chat_throughput: did not finish within {budget:?}");
            ExitCode::FAILURE
        }
    }
}
