//! Micro-benchmarks of two hot paths, timed by hand (`harness = false`:
//! criterion would add ~40 crates to every CI build for two measurements).
//!
//! 1. Encoding a broadcast: a stored chat `Message` turned into the Socket.IO
//!    packet each of `BENCH_SOCKETS` sockets gets, the way
//!    `realtime::deliver` does it (serialize the message once to a
//!    `RawValue`, then socketioxide's `encode_value` + `encode` per socket),
//!    against encoding the packet once and sharing its bytes.
//! 2. The group-commit writer: `BENCH_MESSAGES` messages through
//!    `store::Writer` on a temporary SQLite file (WAL; `--sqlite-sync full`,
//!    the default, then `normal`) from `BENCH_SUBMITTERS` tasks, and one
//!    message at a time (a commit per message: the latency floor of a lone
//!    chat).
//!
//! Each measurement is repeated `BENCH_SAMPLES` times (5); the median and the
//! best sample are printed, after one unmeasured warm-up sample.
//!
//! Run: `cargo bench --bench hot_paths`

use std::hint::black_box;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use roomcast::domain::{Message, RoomName, User};
use roomcast::store::{self, NewMessage, SqliteSync};
use socketioxide_core::packet::Packet;
use socketioxide_core::parser::Parse;
use socketioxide_core::{Str, Value};
use socketioxide_parser_common::CommonParser;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
        .max(1)
}

/// Runs `f` once to warm up, then `samples` times; returns the sorted times.
fn sample(samples: usize, mut f: impl FnMut() -> Duration) -> Vec<Duration> {
    f();
    let mut t: Vec<Duration> = (0..samples).map(|_| f()).collect();
    t.sort_unstable();
    t
}

fn report(name: &str, ops: usize, unit: &str, times: &[Duration]) {
    let med = times[times.len() / 2];
    let best = times[0];
    let per = |d: Duration| d.as_nanos() as f64 / ops as f64;
    println!(
        "{name}: median {:.1} ns/{unit} ({:.0} {unit}s/s), best {:.1} ns/{unit} ({} {unit}s per sample)",
        per(med),
        ops as f64 / med.as_secs_f64(),
        per(best),
        ops
    );
}

fn message(len: usize) -> Message {
    Message {
        mentions: Vec::new(),
        files: Vec::new(),
        id: 123_456,
        seq: 123_456,
        room: "general".into(),
        user: User::new("user-42", "Ann Example"),
        message: "x".repeat(len),
        ts: 1_764_000_000_000,
        edited: None,
        deleted: None,
        reply_to: None,
        reactions: Vec::new(),
    }
}

/// One frame's text, so the optimiser cannot drop the encoding.
fn frame_len(v: &Value) -> usize {
    match v {
        Value::Str(s, _) => s.len(),
        Value::Bytes(b) => b.len(),
    }
}

fn bench_broadcast_encoding(sockets: usize, samples: usize) -> Result<(), String> {
    let parser = CommonParser;
    let m = message(64);
    let times = sample(samples, || {
        let t = Instant::now();
        // What realtime::deliver does for one message and `sockets` sockets.
        let Ok(raw) = serde_json::value::to_raw_value(&m) else {
            return t.elapsed();
        };
        let mut bytes = 0;
        for _ in 0..sockets {
            if let Ok(data) = parser.encode_value(&raw, Some("chat")) {
                bytes += frame_len(&parser.encode(Packet::event(Str::from("/"), data)));
            }
        }
        black_box(bytes);
        t.elapsed()
    });
    report(
        "broadcast encoding, per socket (as delivered today)",
        sockets,
        "socket",
        &times,
    );

    let times = sample(samples, || {
        let t = Instant::now();
        let Ok(data) = parser.encode_value(&m, Some("chat")) else {
            return t.elapsed();
        };
        let frame = parser.encode(Packet::event(Str::from("/"), data));
        let mut bytes = 0;
        for _ in 0..sockets {
            // A shared frame: each socket gets a reference-counted copy.
            bytes += frame_len(&frame.clone());
        }
        black_box(bytes);
        t.elapsed()
    });
    report(
        "broadcast encoding, once and shared",
        sockets,
        "socket",
        &times,
    );
    Ok(())
}

/// The benchmark's 64 rooms, parsed once: each message clones its room's
/// name, one allocation as the `format!` it replaces was.
static ROOMS: std::sync::LazyLock<Vec<RoomName>> = std::sync::LazyLock::new(|| {
    (0..64)
        .map(|i| RoomName::parse(&format!("room-{i}")).expect("a room name"))
        .collect()
});

fn new_message(i: usize) -> NewMessage {
    NewMessage {
        room: ROOMS[i % 64].clone(),
        user: User::new(format!("user-{}", i % 64), "Bench User"),
        message: format!("bench message number {i} with a little text"),
        reply_to: None,
        files: Vec::new(),
    }
}

/// `total` messages from `submitters` tasks; returns the time to the last `done`.
async fn writer_run(total: usize, submitters: usize, sync: SqliteSync) -> Result<Duration, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store::Opened {
        writer,
        mut committed,
        writer_task: task,
        ..
    } = store::open(&url, sync, commit_histogram())
        .await
        .map_err(|e| format!("{e:#}"))?;
    // Delivery's end of the pipe: the writer waits on it when nobody reads.
    let drain = tokio::spawn(async move { while committed.recv().await.is_some() {} });
    let done = Arc::new(AtomicUsize::new(0));
    let (all_tx, all_rx) = tokio::sync::oneshot::channel::<()>();
    let all_tx = Arc::new(std::sync::Mutex::new(Some(all_tx)));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..submitters {
        let (writer, done, all_tx) = (writer.clone(), done.clone(), all_tx.clone());
        tasks.push(tokio::spawn(async move {
            for i in (s..total).step_by(submitters) {
                let (done, all_tx) = (done.clone(), all_tx.clone());
                let cb: store::Done = Box::new(move |r| {
                    if r.is_ok()
                        && done.fetch_add(1, Ordering::SeqCst) + 1 == total
                        && let Some(tx) = all_tx.lock().unwrap_or_else(|p| p.into_inner()).take()
                    {
                        let _ = tx.send(());
                    }
                });
                writer.submit(new_message(i), cb).await;
            }
        }));
    }
    drop(writer);
    tokio::time::timeout(Duration::from_secs(300), all_rx)
        .await
        .map_err(|_| format!("only {} of {total} stored", done.load(Ordering::SeqCst)))?
        .map_err(|_| format!("a message failed; {} stored", done.load(Ordering::SeqCst)))?;
    let elapsed = t.elapsed();
    for t in tasks {
        let _ = t.await;
    }
    let _ = task.await;
    let _ = drain.await;
    Ok(elapsed)
}

/// One message at a time, each waiting for its commit: per-commit latency.
async fn writer_lone(count: usize, sync: SqliteSync) -> Result<Duration, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store::Opened {
        writer,
        mut committed,
        ..
    } = store::open(&url, sync, commit_histogram())
        .await
        .map_err(|e| format!("{e:#}"))?;
    tokio::spawn(async move { while committed.recv().await.is_some() {} });
    let t = Instant::now();
    for i in 0..count {
        let (tx, rx) = tokio::sync::oneshot::channel();
        writer
            .submit(
                new_message(i),
                Box::new(move |r| {
                    let _ = tx.send(r.is_ok());
                }),
            )
            .await;
        if rx.await != Ok(true) {
            return Err(format!("message {i} was not stored"));
        }
    }
    Ok(t.elapsed())
}

fn bench_writer(
    rt: &tokio::runtime::Runtime,
    samples: usize,
    sync: SqliteSync,
) -> Result<(), String> {
    let total = env_num("BENCH_MESSAGES", 20_000);
    let submitters = env_num("BENCH_SUBMITTERS", 64);
    let mut failure = None;
    let times = sample(samples, || {
        rt.block_on(writer_run(total, submitters, sync))
            .unwrap_or_else(|e| {
                failure.get_or_insert(e);
                Duration::ZERO
            })
    });
    if let Some(e) = failure {
        return Err(format!("group-commit writer: {e}"));
    }
    report(
        &format!("group-commit writer ({sync:?}), {submitters} submitters"),
        total,
        "message",
        &times,
    );
    let lone = env_num("BENCH_LONE_MESSAGES", 200);
    let times = sample(samples, || {
        rt.block_on(writer_lone(lone, sync)).unwrap_or_else(|e| {
            failure.get_or_insert(e);
            Duration::ZERO
        })
    });
    if let Some(e) = failure {
        return Err(format!("lone writer: {e}"));
    }
    report(
        &format!("group-commit writer ({sync:?}), one message per commit"),
        lone,
        "message",
        &times,
    );
    Ok(())
}

/// The same allocator as the `roomcast` binary, so the bench measures what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let samples = env_num("BENCH_SAMPLES", 5);
    let sockets = env_num("BENCH_SOCKETS", 1000);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hot_paths: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = bench_broadcast_encoding(sockets, samples)
        .and_then(|()| bench_writer(&rt, samples, SqliteSync::Full))
        .and_then(|()| bench_writer(&rt, samples, SqliteSync::Normal));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hot_paths: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A histogram for the writer's commit timings (the server's own lives in
/// `Metrics`; here it is only observed, never read).
fn commit_histogram() -> prometheus::Histogram {
    let opts = prometheus::HistogramOpts::new("bench_commit_seconds", "group commit time");
    prometheus::Histogram::with_opts(opts).expect("a valid histogram")
}
