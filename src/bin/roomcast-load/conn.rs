//! One load client: connect and join, then read everything (answering pings,
//! checking each echoed chat) and, when it is a sender, send chats.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use roomcast::wire_client::packet::{self, Incoming};
use roomcast::wire_client::ws::{self, JOIN_ACK, Message as Ws, WsStream};
use serde::{Deserialize, Serialize};
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
    /// Chats in flight when their connection was lost: no ack will come.
    pub(crate) abandoned: AtomicU64,
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
    /// Restart storm: each client that got back in, and when (its rejoin
    /// answered, every page of what it missed read).
    pub(crate) rejoined: Option<mpsc::UnboundedSender<(usize, Instant)>>,
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
    /// Restart storm: reconnect when the connection is lost and rejoin
    /// with `since`, as an application on socket.io-client does.
    pub(crate) reconnect: bool,
    /// `--no-since`: rejoin without `since`, never drop a chat by its id.
    pub(crate) no_since: bool,
}

/// Ack ids of changes start here, far above any chat's (`seq + 2`).
const CHANGE_ACK: u64 = 1 << 40;

/// Samples a client collects before merging them into the shared histogram.
const LATENCY_BATCH: usize = 256;

/// Runs one client to the end; `setup` hears once whether it joined.
pub(crate) async fn client(
    plan: Plan,
    shared: Arc<Shared>,
    mut phase: watch::Receiver<Phase>,
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
        last_id: None,
        kicked: false,
        shared,
        plan,
    };
    let first = {
        let shared = c.shared.clone();
        let _permit = shared.setup.acquire().await;
        c.connect().await
    };
    let mut ws = match first {
        Ok(ws) => {
            c.report.joined = true;
            let _ = setup.send(true);
            ws
        }
        Err(e) => {
            c.report.failure = Some(e);
            let _ = setup.send(false);
            return c.report;
        }
    };
    loop {
        let Err(cut) = c.run(ws, &mut phase).await else {
            break;
        };
        // socket.io-client reconnects after a lost transport, not after
        // the server's own DISCONNECT.
        if !c.plan.reconnect || c.kicked || *phase.borrow() == Phase::Done {
            c.report.failure = Some(cut);
            break;
        }
        // Acks of the lost connection never come.
        c.shared.abandoned.fetch_add(c.in_flight, Ordering::Relaxed);
        c.in_flight = 0;
        match c.reconnect(&mut phase).await {
            Some(again) => {
                ws = again;
                c.report.rejoins.reconnects += 1;
                if let Some(tx) = &c.shared.rejoined {
                    let _ = tx.send((c.plan.index, Instant::now()));
                }
            }
            None => {
                c.report.failure = Some(cut);
                break;
            }
        }
    }
    c.shared.latencies.merge(&mut c.samples);
    c.report
}

/// socket.io-client's reconnection delay before attempt `attempt` (0, 1,
/// ..): `reconnectionDelay` 1 s doubled per attempt, jittered by
/// `randomizationFactor` 0.5, capped at `reconnectionDelayMax` 5 s, as its
/// `backo2` computes it.
fn backoff(attempt: u32, rand: f64) -> Duration {
    let ms = 1000.0 * 2f64.powi(attempt.min(16) as i32);
    let deviation = (rand * 0.5 * ms).floor();
    let ms = if ((rand * 10.0).floor() as u64) & 1 == 0 {
        ms - deviation
    } else {
        ms + deviation
    };
    Duration::from_millis(ms.min(5000.0) as u64)
}

/// Resolves once the runner says `Done`.
async fn done(phase: &mut watch::Receiver<Phase>) {
    let _ = phase.wait_for(|p| *p == Phase::Done).await;
}

/// A `join` with the position to replay from.
#[derive(Serialize)]
struct JoinSince<'a> {
    room: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<i64>,
}

/// What a rejoin needs of the join ack (roomcast's; other servers send
/// neither field).
#[derive(Deserialize, Default)]
struct JoinPage {
    #[serde(default)]
    history: Vec<Replayed>,
    #[serde(default)]
    more: bool,
}

#[derive(Deserialize)]
struct Replayed {
    id: i64,
    #[serde(default)]
    message: String,
}

struct Client {
    plan: Plan,
    shared: Arc<Shared>,
    report: ClientReport,
    in_flight: u64,
    next_seq: u64,
    next_change: u64,
    samples: Vec<u64>,
    /// Reconnecting clients: the newest message id of the room taken in,
    /// where a rejoin's replay starts; chats at or below it are the
    /// documented overlap of a join and are dropped.
    last_id: Option<i64>,
    /// The server sent DISCONNECT: no reconnecting.
    kicked: bool,
}

impl Client {
    /// Connect, CONNECT and join (each step with its own timeout, which
    /// says which step stalled).
    async fn connect(&mut self) -> Result<WsStream, String> {
        let plan = &self.plan;
        let mut ws = tokio::time::timeout(
            plan.connect_timeout,
            ws::open(plan.url.as_str(), plan.server, plan.source),
        )
        .await
        .map_err(|_| "TCP connect + WebSocket upgrade timed out".to_string())??;
        if !plan.reconnect {
            ws::handshake_and_join(
                &mut ws,
                plan.token.as_deref(),
                &plan.room_name,
                plan.connect_timeout,
            )
            .await?;
            return Ok(ws);
        }
        let auth = plan
            .token
            .as_deref()
            .map(|token| packet::to_value(packet::TokenAuth { token }));
        ws::handshake(&mut ws, auth.as_ref(), plan.connect_timeout).await?;
        self.join(&mut ws).await?;
        Ok(ws)
    }

    /// `join`, with `since` after the first: takes in every page of the
    /// replay, then the chats that arrived meanwhile (the socket is in the
    /// room before the server reads the replay, so they may overlap it).
    async fn join(&mut self, ws: &mut WsStream) -> Result<(), String> {
        let wait = self.plan.connect_timeout;
        let first = self.last_id.is_none();
        let mut meanwhile = Vec::new();
        loop {
            let join = JoinSince {
                room: &self.plan.room_name,
                since: self.last_id,
            };
            let join = packet::event(Some(JOIN_ACK), "join", &[packet::to_value(join)]);
            ws::send(ws, join).await?;
            let args = loop {
                let t = ws::next_text(ws, wait).await?;
                match packet::classify(&t) {
                    Incoming::Ack(JOIN_ACK, args) => break args.to_owned(),
                    Incoming::Chat(_) => meanwhile.push(t),
                    Incoming::Disconnect => {
                        self.kicked = true;
                        return Err("disconnected by the server".into());
                    }
                    _ => {}
                }
            };
            if !packet::ack_ok(&args) {
                return Err(format!("join refused: {}", packet::clip(&args)));
            }
            let page = serde_json::from_str::<(JoinPage,)>(&args)
                .map(|(p,)| p)
                .unwrap_or_default();
            if self.plan.no_since {
                break;
            }
            if first {
                // What the room held before this run: a position, not chats.
                let newest = page.history.iter().map(|m| m.id).max().unwrap_or(0);
                self.last_id = Some(newest);
                break;
            }
            for m in &page.history {
                self.report.rejoins.replayed += 1;
                self.take(Some(m.id), &m.message);
            }
            if !page.more {
                break;
            }
        }
        for t in meanwhile {
            if let Incoming::Chat(body) = packet::classify(&t) {
                self.take(packet::chat_id(&t), body);
            }
        }
        Ok(())
    }

    /// Waits as socket.io-client does and tries again until back in, or
    /// the runner says `Done` (`None`).
    async fn reconnect(&mut self, phase: &mut watch::Receiver<Phase>) -> Option<WsStream> {
        for attempt in 0u32.. {
            tokio::select! {
                () = tokio::time::sleep(backoff(attempt, rand::random())) => {}
                () = done(phase) => return None,
            }
            let tried = tokio::select! {
                r = self.connect() => r,
                () = done(phase) => return None,
            };
            match tried {
                Ok(ws) => return Some(ws),
                Err(_) if self.kicked => return None,
                // Nothing listening yet: the restart is not done.
                Err(e) if e.contains("(os error 111)") => self.report.rejoins.refused_attempts += 1,
                Err(e) => {
                    self.report.rejoins.failed_attempts += 1;
                    self.report.rejoins.first_attempt_error.get_or_insert(e);
                }
            }
        }
        None
    }

    /// A chat of the room, live or replayed: dropped when a reconnecting
    /// client already has its id.
    fn take(&mut self, id: Option<i64>, body: &str) {
        if let (Some(id), Some(last)) = (id, self.last_id) {
            if id <= last {
                self.report.rejoins.overlap += 1;
                return;
            }
            self.last_id = Some(id);
        }
        self.on_chat(body);
    }

    async fn run(
        &mut self,
        mut ws: WsStream,
        phase: &mut watch::Receiver<Phase>,
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
            Incoming::Chat(body) if self.plan.reconnect => self.take(packet::chat_id(t), body),
            Incoming::Chat(body) => self.on_chat(body),
            Incoming::Other
                if t.starts_with(r#"42["edit","#) || t.starts_with(r#"42["reaction","#) =>
            {
                self.shared
                    .change_deliveries
                    .fetch_add(1, Ordering::Relaxed);
            }
            Incoming::Disconnect => {
                self.kicked = true;
                return Err("disconnected by the server".into());
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_socket_io_clients() {
        // 1 s ± 50 % first, doubling, never past 5 s.
        for r in [0.0, 0.05, 0.15, 0.5, 0.95, 0.999] {
            let first = backoff(0, r).as_millis();
            assert!((500..=1500).contains(&first), "{r}: {first}");
            let second = backoff(1, r).as_millis();
            assert!((1000..=3000).contains(&second), "{r}: {second}");
            for attempt in [3, 10, 40] {
                let late = backoff(attempt, r).as_millis();
                assert!((2500..=5000).contains(&late), "{r} {attempt}: {late}");
            }
        }
        // An even tenth digit subtracts the jitter, an odd one adds it.
        assert_eq!(backoff(0, 0.0).as_millis(), 1000);
        assert_eq!(backoff(0, 0.25).as_millis(), 875);
        assert_eq!(backoff(0, 0.15).as_millis(), 1075);
    }
}
