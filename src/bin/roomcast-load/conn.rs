//! One load client: connect and join, then read everything (answering pings,
//! checking each echoed chat) and, when it is a sender, send chats.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use roomcast::wire_client::packet::{self, Incoming};
use roomcast::wire_client::ws::{self, JOIN_ACK, Message as Ws, WsStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::MissedTickBehavior;

use crate::stats::{Bitset, ClientReport, Latencies};

/// What the runner tells every client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Connected clients only read.
    Idle,
    /// Senders send.
    Send,
    /// Nobody sends; clients keep reading what is still coming.
    Stop,
    /// Close and report.
    Done,
}

/// State every client shares with the runner.
pub(crate) struct Shared {
    pub(crate) epoch: Instant,
    pub(crate) measuring: AtomicBool,
    pub(crate) sent: AtomicU64,
    pub(crate) acked_ok: AtomicU64,
    pub(crate) acked_err: AtomicU64,
    pub(crate) deliveries: AtomicU64,
    /// `edit` and `react` sent (`--changes`), acked ok or not, and the
    /// `edit` and `reaction` broadcasts received.
    pub(crate) changes_sent: AtomicU64,
    pub(crate) changes_ok: AtomicU64,
    pub(crate) changes_err: AtomicU64,
    pub(crate) change_deliveries: AtomicU64,
    /// Σ over ok change acks of the members of the sender's room.
    pub(crate) change_expected: AtomicU64,
    /// Σ over ok acks of the members of the sender's room: the deliveries due.
    pub(crate) expected: AtomicU64,
    pub(crate) latencies: Latencies,
    /// How many rooms: a chat's sender index says which room it belongs to.
    pub(crate) rooms: usize,
    pub(crate) setup: Semaphore,
}

/// Who one client is and what it does.
pub(crate) struct Plan {
    pub(crate) index: usize,
    pub(crate) room: usize,
    pub(crate) room_name: String,
    pub(crate) members: u64,
    pub(crate) sender: bool,
    pub(crate) token: Option<String>,
    pub(crate) source: Option<IpAddr>,
    pub(crate) url: String,
    pub(crate) server: SocketAddr,
    pub(crate) connect_timeout: Duration,
    /// Open loop: time between chats; `None` = closed loop.
    pub(crate) period: Option<Duration>,
    pub(crate) window: u64,
    pub(crate) padding: Arc<str>,
    /// `--changes`: edit and react to every Nth acked chat; 0 = never.
    pub(crate) changes: u64,
}

/// Ack ids of changes start here, far above any chat's (`seq + 2`).
const CHANGE_ACK: u64 = 1 << 40;

/// Samples a client collects before merging them into the shared histogram.
const LATENCY_BATCH: usize = 256;

/// Runs one client to the end; `setup` hears once whether it joined.
pub(crate) async fn client(
    plan: Plan,
    shared: Arc<Shared>,
    phase: watch::Receiver<Phase>,
    setup: mpsc::UnboundedSender<bool>,
) -> ClientReport {
    let mut c = Client {
        report: ClientReport {
            index: plan.index,
            room: plan.room,
            ..Default::default()
        },
        in_flight: 0,
        next_seq: 0,
        next_change: CHANGE_ACK,
        samples: Vec::new(),
        shared,
        plan,
    };
    let ws = {
        let _permit = c.shared.setup.acquire().await;
        // Each step has its own timeout, which says which step stalled.
        connect(&c.plan).await
    };
    match ws {
        Ok(ws) => {
            c.report.joined = true;
            let _ = setup.send(true);
            if let Err(e) = c.run(ws, phase).await {
                c.report.failure = Some(e);
            }
        }
        Err(e) => {
            c.report.failure = Some(e);
            let _ = setup.send(false);
        }
    }
    c.shared.latencies.merge(&mut c.samples);
    c.report
}

async fn connect(plan: &Plan) -> Result<WsStream, String> {
    let mut ws = tokio::time::timeout(
        plan.connect_timeout,
        ws::open(plan.url.as_str(), plan.server, plan.source),
    )
    .await
    .map_err(|_| "TCP connect + WebSocket upgrade timed out".to_string())??;
    ws::handshake_and_join(
        &mut ws,
        plan.token.as_deref(),
        &plan.room_name,
        plan.connect_timeout,
    )
    .await?;
    Ok(ws)
}

struct Client {
    plan: Plan,
    shared: Arc<Shared>,
    report: ClientReport,
    in_flight: u64,
    next_seq: u64,
    next_change: u64,
    samples: Vec<u64>,
}

impl Client {
    async fn run(
        &mut self,
        mut ws: WsStream,
        mut phase: watch::Receiver<Phase>,
    ) -> Result<(), String> {
        let mut now_phase = *phase.borrow_and_update();
        let mut tick = self.plan.period.map(|p| {
            // Senders spread over the period instead of firing together.
            let offset = p.mul_f64((self.plan.index as f64 * 0.618_034).fract());
            let mut t = tokio::time::interval_at(tokio::time::Instant::now() + offset, p);
            t.set_missed_tick_behavior(MissedTickBehavior::Skip);
            t
        });
        loop {
            let sending = self.plan.sender && now_phase == Phase::Send;
            if sending && tick.is_none() {
                self.fill_window(&mut ws).await?;
            }
            tokio::select! {
                biased;
                changed = phase.changed() => {
                    now_phase = if changed.is_ok() { *phase.borrow_and_update() } else { Phase::Done };
                    if now_phase == Phase::Done {
                        // A polite close; the report does not wait on the server.
                        let _ = tokio::time::timeout(Duration::from_millis(200), ws.close(None)).await;
                        return Ok(());
                    }
                }
                msg = ws.next() => {
                    let msg = msg
                        .ok_or("connection closed by the server")?
                        .map_err(|e| format!("websocket: {e}"))?;
                    self.on_frame(&mut ws, msg).await?;
                }
                () = next_tick(&mut tick), if sending && tick.is_some() => {
                    if self.in_flight < self.plan.window {
                        self.send_one(&mut ws).await?;
                        ws.flush().await.map_err(|e| format!("send: {e}"))?;
                    } else {
                        self.report.skipped += 1;
                    }
                }
            }
        }
    }

    /// Closed loop: sends until `window` chats are in flight.
    async fn fill_window(&mut self, ws: &mut WsStream) -> Result<(), String> {
        if self.in_flight >= self.plan.window {
            return Ok(());
        }
        while self.in_flight < self.plan.window {
            self.send_one(ws).await?;
        }
        ws.flush().await.map_err(|e| format!("send: {e}"))
    }

    async fn send_one(&mut self, ws: &mut WsStream) -> Result<(), String> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let t_us = self.shared.epoch.elapsed().as_micros() as u64;
        let head = format!("{}:{seq}:{t_us}:", self.plan.index);
        let pad = self.plan.padding.get(head.len()..).unwrap_or("");
        let body = format!("{head}{pad}");
        let packet = packet::chat(seq + 2, &self.plan.room_name, &body);
        ws.feed(Ws::text(packet))
            .await
            .map_err(|e| format!("send: {e}"))?;
        self.in_flight += 1;
        self.report.sent += 1;
        self.shared.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn on_frame(&mut self, ws: &mut WsStream, msg: Ws) -> Result<(), String> {
        let t = match &msg {
            Ws::Text(t) => t.as_str(),
            Ws::Close(c) => return Err(format!("closed by the server: {c:?}")),
            _ => return Ok(()),
        };
        match packet::classify(t) {
            Incoming::Ping => ws
                .send(Ws::text("3"))
                .await
                .map_err(|e| format!("pong: {e}"))?,
            Incoming::Ack(id, args) if id >= CHANGE_ACK => self.on_change_ack(args),
            Incoming::Ack(id, args) if id > JOIN_ACK => {
                if let Some(message) = self.on_ack(id - 2, args) {
                    self.change(ws, message).await?;
                }
            }
            Incoming::Chat(body) => self.on_chat(body),
            Incoming::Other
                if t.starts_with(r#"42["edit","#) || t.starts_with(r#"42["reaction","#) =>
            {
                self.shared
                    .change_deliveries
                    .fetch_add(1, Ordering::Relaxed);
            }
            Incoming::Disconnect => return Err("disconnected by the server".into()),
            Incoming::Ack(..) | Incoming::Other => {}
        }
        Ok(())
    }

    /// Counts a chat's ack; returns the stored id when this chat is one to
    /// change (`--changes`).
    fn on_ack(&mut self, seq: u64, args: &str) -> Option<i64> {
        self.in_flight = self.in_flight.saturating_sub(1);
        let ok = packet::ack_ok(args);
        self.count_ack(seq, args, ok);
        let n = self.plan.changes;
        if ok && n > 0 && seq % n == n - 1 {
            return ack_id(args);
        }
        None
    }

    /// An `edit` of message `id`, then a `react` to it: acked apart from
    /// the chats, outside their window.
    async fn change(&mut self, ws: &mut WsStream, id: i64) -> Result<(), String> {
        let room = &self.plan.room_name;
        let edit = format!(
            r#"42{}["edit",{{"room":"{room}","id":{id},"message":"edited {id}"}}]"#,
            self.next_change
        );
        let react = format!(
            r#"42{}["react",{{"room":"{room}","id":{id},"emoji":"👍"}}]"#,
            self.next_change + 1
        );
        self.next_change += 2;
        for p in [edit, react] {
            ws.feed(Ws::text(p))
                .await
                .map_err(|e| format!("send: {e}"))?;
        }
        ws.flush().await.map_err(|e| format!("send: {e}"))?;
        self.shared.changes_sent.fetch_add(2, Ordering::Relaxed);
        Ok(())
    }

    fn on_change_ack(&mut self, args: &str) {
        if packet::ack_ok(args) {
            self.shared.changes_ok.fetch_add(1, Ordering::Relaxed);
            self.shared
                .change_expected
                .fetch_add(self.plan.members, Ordering::Relaxed);
        } else {
            self.shared.changes_err.fetch_add(1, Ordering::Relaxed);
            if self.report.first_error.is_none() {
                self.report.first_error = Some(packet::clip(args).to_owned());
            }
        }
    }

    fn count_ack(&mut self, seq: u64, args: &str, ok: bool) {
        if ok {
            self.report.acked_ok.insert(seq);
            self.shared.acked_ok.fetch_add(1, Ordering::Relaxed);
            self.shared
                .expected
                .fetch_add(self.plan.members, Ordering::Relaxed);
        } else {
            self.report.acked_err += 1;
            self.shared.acked_err.fetch_add(1, Ordering::Relaxed);
            if self.report.first_error.is_none() {
                self.report.first_error = Some(packet::clip(args).to_owned());
            }
        }
    }

    fn on_chat(&mut self, body: &str) {
        let mut parts = body.splitn(4, ':');
        let mut num = || parts.next().and_then(|p| p.parse::<u64>().ok());
        let (Some(sender), Some(seq), Some(t_us)) = (num(), num(), num()) else {
            self.report.foreign += 1;
            return;
        };
        let sender = sender as usize;
        if sender % self.shared.rooms != self.plan.room {
            self.report.foreign += 1;
            return;
        }
        self.shared.deliveries.fetch_add(1, Ordering::Relaxed);
        let fresh = match self.report.received.iter_mut().find(|(s, _)| *s == sender) {
            Some((_, b)) => b.insert(seq),
            None => {
                let mut b = Bitset::default();
                b.insert(seq);
                self.report.received.push((sender, b));
                true
            }
        };
        if !fresh {
            self.report.duplicates += 1;
        }
        if self.shared.measuring.load(Ordering::Relaxed) {
            let now = self.shared.epoch.elapsed().as_micros() as u64;
            self.samples.push(now.saturating_sub(t_us));
            if self.samples.len() >= LATENCY_BATCH {
                self.shared.latencies.merge(&mut self.samples);
            }
        }
    }
}

/// The `id` of an ack's `{"ok":true,"id":N,...}`.
fn ack_id(args: &str) -> Option<i64> {
    let rest = &args[args.find(r#""id":"#)? + 5..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The next open-loop tick; never, in closed loop.
async fn next_tick(tick: &mut Option<tokio::time::Interval>) {
    match tick {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}
