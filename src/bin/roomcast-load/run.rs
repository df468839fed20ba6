//! The scenario: connect and join every client, sample the server's RSS,
//! send (warm-up, then the measured window), stop, drain, and add it all up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::{EncodingKey, Header, encode};
use roomcast::auth::jwt::Claims;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::cli::Args;
use crate::conn::{self, Phase, Plan, Shared};
use crate::procfs;
use crate::report::{Storm, Summary};
use crate::stats::{self, ClientReport, Latencies};

/// How often the runner looks at the counters while draining.
const POLL: Duration = Duration::from_millis(10);

pub(crate) async fn run(args: Arc<Args>) -> Result<Summary, String> {
    let server = resolve(&args).await?;
    let (rejoined, mut back_rx) = match args.restart_cmd {
        Some(_) => {
            let (tx, rx) = mpsc::unbounded_channel();
            (Some(tx), Some(rx))
        }
        None => (None, None),
    };
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        measuring: AtomicBool::new(false),
        sent: AtomicU64::new(0),
        abandoned: AtomicU64::new(0),
        acked_ok: AtomicU64::new(0),
        acked_err: AtomicU64::new(0),
        deliveries: AtomicU64::new(0),
        changes_sent: AtomicU64::new(0),
        changes_ok: AtomicU64::new(0),
        changes_err: AtomicU64::new(0),
        change_deliveries: AtomicU64::new(0),
        change_expected: AtomicU64::new(0),
        expected: AtomicU64::new(0),
        latencies: Latencies::new()?,
        rooms: args.rooms,
        setup: Semaphore::new(args.connect_concurrency),
        rejoined,
    });
    let mut s = Summary::new(&args);
    s.rss_before_kib = procfs::rss_kib(args.pid)?;

    let (phase_tx, phase_rx) = watch::channel(Phase::Idle);
    let (setup_tx, mut setup_rx) = mpsc::unbounded_channel();
    let key = match &args.jwt_secret {
        Some(secret) => {
            Some(EncodingKey::from_secret(secret.as_bytes()).map_err(|e| format!("JWT key: {e}"))?)
        }
        None => None,
    };
    let exp = jsonwebtoken::get_current_timestamp()
        + (args.warmup + args.duration + args.drain + args.idle_hold).as_secs()
        + 3600;
    let padding: Arc<str> = "x".repeat(args.message_size).into();
    let period = (args.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / args.rate));

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.clients);
    for index in 0..args.clients {
        let room = args.room_of(index);
        let token = match &key {
            Some(k) => Some(token(k, index, exp)?),
            None => None,
        };
        let plan = Plan {
            index,
            room,
            room_name: args.room_name(room),
            members: args.members_of(room) as u64,
            sender: args.is_sender(index),
            token,
            source: (!args.source.is_empty()).then(|| args.source[index % args.source.len()]),
            url: args.ws_url(),
            server,
            connect_timeout: args.connect_timeout,
            period,
            window: args.window as u64,
            padding: padding.clone(),
            changes: args.changes,
            reconnect: args.restart_cmd.is_some(),
            no_since: args.no_since,
        };
        tasks.push(tokio::spawn(conn::client(
            plan,
            shared.clone(),
            phase_rx.clone(),
            setup_tx.clone(),
        )));
    }
    drop(setup_tx);
    while let Some(joined) = setup_rx.recv().await {
        if joined {
            s.joined += 1;
        } else {
            s.connect_errors += 1;
        }
        if s.joined + s.connect_errors == args.clients {
            break;
        }
    }
    s.connect_secs = started.elapsed().as_secs_f64();
    s.rss_joined_kib = procfs::rss_kib(args.pid)?;

    let mut pid = args.pid;
    if args.senders > 0 && s.joined > 0 {
        let storm = args.restart_cmd.as_deref().zip(back_rx.as_mut());
        pid = send_phase(&args, &shared, &phase_tx, storm, &mut s).await;
    } else {
        tokio::time::sleep(args.idle_hold).await;
    }
    s.rss_end_kib = procfs::rss_kib(pid)?;
    if let Some(storm) = &mut s.storm {
        storm.peak_rss_kib = procfs::peak_rss_kib(pid);
    }

    let _ = phase_tx.send(Phase::Done);
    let mut reports = Vec::with_capacity(tasks.len());
    for t in tasks {
        match t.await {
            Ok(r) => reports.push(r),
            Err(e) => return Err(format!("client task: {e}")),
        }
    }
    tally(&args, &shared, &reports, &mut s);
    Ok(s)
}

/// Warm-up, the restart storm when asked for, the measured window, then
/// stop and wait for the last acks and deliveries (at most `--drain`).
/// Returns the server's pid (a restart makes a new one).
async fn send_phase(
    args: &Args,
    shared: &Shared,
    phase: &watch::Sender<Phase>,
    storm: Option<(&str, &mut mpsc::UnboundedReceiver<(usize, Instant)>)>,
    s: &mut Summary,
) -> Option<u32> {
    let _ = phase.send(Phase::Send);
    tokio::time::sleep(args.warmup).await;
    let mut pid = args.pid;
    if let Some((cmd, back)) = storm {
        let (report, new_pid) = restart(args, cmd, back, s.joined).await;
        s.storm = Some(report);
        pid = new_pid.or(pid);
    }
    let server = pid.map(|p| p.to_string());
    let server = server.as_deref();
    let (ok0, del0) = (
        shared.acked_ok.load(Ordering::Relaxed),
        shared.deliveries.load(Ordering::Relaxed),
    );
    let cpu0 = (procfs::cpu_secs("self"), server.and_then(procfs::cpu_secs));
    let t0 = Instant::now();
    shared.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(args.duration).await;
    shared.measuring.store(false, Ordering::Relaxed);
    let cpu1 = (procfs::cpu_secs("self"), server.and_then(procfs::cpu_secs));
    let (ok1, del1) = (
        shared.acked_ok.load(Ordering::Relaxed),
        shared.deliveries.load(Ordering::Relaxed),
    );
    s.measured_secs = t0.elapsed().as_secs_f64();
    // Whether the server or the load tool was the limit.
    s.load_cpu_pct = procfs::cpu_pct(cpu0.0, cpu1.0, s.measured_secs);
    s.server_cpu_pct = procfs::cpu_pct(cpu0.1, cpu1.1, s.measured_secs);
    s.acked_per_sec = (ok1 - ok0) as f64 / s.measured_secs;
    s.deliveries_per_sec = (del1 - del0) as f64 / s.measured_secs;
    let _ = phase.send(Phase::Stop);

    let deadline = Instant::now() + args.drain;
    while Instant::now() < deadline {
        let answered = shared.acked_ok.load(Ordering::SeqCst)
            + shared.acked_err.load(Ordering::SeqCst)
            + shared.abandoned.load(Ordering::SeqCst);
        let acks_in = answered >= shared.sent.load(Ordering::SeqCst);
        let delivered =
            shared.deliveries.load(Ordering::SeqCst) >= shared.expected.load(Ordering::SeqCst);
        // The changes a chat's ack set off, too: the last ones are sent
        // while draining, after their chats were answered.
        let changes_in = shared.changes_ok.load(Ordering::SeqCst)
            + shared.changes_err.load(Ordering::SeqCst)
            >= shared.changes_sent.load(Ordering::SeqCst)
            && shared.change_deliveries.load(Ordering::SeqCst)
                >= shared.change_expected.load(Ordering::SeqCst);
        if acks_in && delivered && changes_in {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    pid
}

/// The restart storm: runs `cmd` (the server stopped and started again),
/// then waits until every joined client is back, caught up, or
/// `--storm-timeout`. Returns what it saw and the new server's pid.
async fn restart(
    args: &Args,
    cmd: &str,
    back: &mut mpsc::UnboundedReceiver<(usize, Instant)>,
    joined: usize,
) -> (Storm, Option<u32>) {
    // Clients cut off before the restart (a slow reader) are not the storm's.
    while back.try_recv().is_ok() {}
    let mut storm = Storm::default();
    let started = Instant::now();
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .await;
    let listening = Instant::now();
    storm.restart_secs = (listening - started).as_secs_f64();
    let mut pid = None;
    match out {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            pid = text.lines().last().and_then(|l| l.trim().parse().ok());
        }
        Ok(out) => storm.error = Some(format!("--restart-cmd exited with {}", out.status)),
        Err(e) => storm.error = Some(format!("--restart-cmd: {e}")),
    }
    let mut first_back: Vec<Option<Instant>> = vec![None; args.clients];
    let mut count = 0;
    let deadline = tokio::time::Instant::from_std(listening + args.storm_timeout);
    while count < joined {
        match tokio::time::timeout_at(deadline, back.recv()).await {
            Ok(Some((index, at))) => {
                if let Some(slot @ None) = first_back.get_mut(index) {
                    *slot = Some(at);
                    count += 1;
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    // From the new process listening; a client back before the command
    // returned counts as 0.
    let mut ms: Vec<f64> = first_back
        .iter()
        .flatten()
        .map(|at| at.saturating_duration_since(listening).as_secs_f64() * 1e3)
        .collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        ms.get(((ms.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
    };
    storm.back_ms =
        (!ms.is_empty()).then(|| [at(0.5), at(0.99), ms.last().copied()].map(|v| v.unwrap_or(0.0)));
    storm.not_back = joined - count;
    (storm, pid)
}

/// Adds up the clients' reports.
fn tally(args: &Args, shared: &Shared, reports: &[ClientReport], s: &mut Summary) {
    for r in reports {
        s.sent += r.sent;
        s.acked_ok += r.acked_ok.len();
        s.acked_err += r.acked_err;
        s.skipped += r.skipped;
        s.duplicates += r.duplicates;
        if let Some(storm) = &mut s.storm {
            storm.rejoins.add(&r.rejoins);
        }
        s.foreign += r.foreign;
        if r.joined && r.failure.is_some() {
            s.dropped_clients += 1;
        }
        if s.first_failure.is_none() {
            s.first_failure = r.failure.clone();
        }
        if s.first_ack_error.is_none() {
            s.first_ack_error = r.first_error.clone();
        }
    }
    s.unacked = s.sent.saturating_sub(s.acked_ok + s.acked_err);
    s.deliveries = shared.deliveries.load(Ordering::SeqCst);
    s.expected_deliveries = shared.expected.load(Ordering::SeqCst);
    s.changes_sent = shared.changes_sent.load(Ordering::SeqCst);
    s.changes_ok = shared.changes_ok.load(Ordering::SeqCst);
    s.changes_err = shared.changes_err.load(Ordering::SeqCst);
    s.change_deliveries = shared.change_deliveries.load(Ordering::SeqCst);
    s.change_expected = shared.change_expected.load(Ordering::SeqCst);
    let loss = stats::loss(reports, args.rooms);
    s.lost_deliveries = loss.lost_deliveries;
    s.lost_messages = loss.lost_messages;
    let (p50, p99, max, n) = shared.latencies.summary();
    s.latency_us = (n > 0).then_some([p50, p99, max]);
    s.latency_samples = n;
}

async fn resolve(args: &Args) -> Result<SocketAddr, String> {
    let host = args
        .ws_url()
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let host = if host.contains(':') {
        host
    } else {
        format!("{host}:80")
    };
    tokio::net::lookup_host(host.as_str())
        .await
        .map_err(|e| format!("resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("resolve {host}: no address"))
}

fn token(key: &EncodingKey, index: usize, exp: u64) -> Result<String, String> {
    let sub = format!("load-{index}");
    let claims = Claims {
        sub,
        name: None,
        exp,
        rooms: None,
        sid: None,
    };
    encode(&Header::default(), &claims, key).map_err(|e| format!("sign JWT: {e}"))
}
