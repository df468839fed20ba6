//! `roomcast-load` itself: run as a process against the real server, and
//! against a server that drops broadcasts on purpose, it must count exactly
//! what was lost.

#[path = "../../bench/bare_chat.rs"]
mod bare_chat;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{SECRET, spawn_app};

/// A load run's result: its exit status and its JSON line.
struct Run {
    code: Option<i32>,
    json: Value,
    stdout: String,
}

/// Runs the load tool against `addr` with `args` (plus `--json`).
async fn load(addr: SocketAddr, args: &[&str]) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_roomcast-load"));
    cmd.arg("--url")
        .arg(format!("http://{addr}"))
        .arg("--json")
        .args(args)
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("load tool finished within a minute")
        .expect("load tool ran");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = stdout.lines().last().unwrap_or_default();
    let json = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "last line is not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run {
        code: out.status.code(),
        json,
        stdout,
    }
}

/// A bare socketioxide chat server on port 0 dropping every `n`-th chat.
async fn spawn_dropping_server(n: u64) -> (SocketAddr, std::sync::Arc<bare_chat::Stats>) {
    spawn_faulty_server(bare_chat::Faults {
        drop_every: n,
        ..Default::default()
    })
    .await
}

async fn spawn_faulty_server(
    faults: bare_chat::Faults,
) -> (SocketAddr, std::sync::Arc<bare_chat::Stats>) {
    let (app, stats) = bare_chat::router(faults);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, stats)
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_tool_against_roomcast_reports_every_chat_delivered() {
    let app = spawn_app().await;
    let pid = std::process::id().to_string();
    let run = load(
        app.addr,
        &[
            "--clients",
            "12",
            "--rooms",
            "3",
            "--senders",
            "2",
            "--window",
            "4",
            "--warmup",
            "0.2",
            "--duration",
            "0.8",
            "--jwt-secret",
            SECRET,
            "--pid",
            &pid,
        ],
    )
    .await;
    let j = &run.json;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(n(&j["joined"]), 12);
    assert!(n(&j["acked_ok"]) > 0, "{j}");
    assert_eq!(n(&j["acked_ok"]), n(&j["sent"]), "{j}");
    // 4 members per room: every stored chat reaches all four, sender included.
    assert_eq!(n(&j["deliveries"]), 4 * n(&j["acked_ok"]), "{j}");
    assert_eq!(n(&j["lost"]), 0, "{j}");
    assert_eq!(n(&j["duplicates"]), 0, "{j}");
    assert_eq!(n(&j["errors"]), 0, "{j}");
    assert!(j["latency_us"]["samples"].as_u64() > Some(0), "{j}");
    assert!(j["rss_joined_kib"].as_u64() > Some(0), "{j}");
}

/// The restart storm (`--restart-cmd`, issue 17): the real binary on a
/// database file, restarted by `bench/restart.sh` while 200 clients
/// receive and 20 send. Every client must come back with socket.io-client's
/// back-off and rejoin with `since`; what early ones sent while late ones
/// were away reaches the late ones in their replay, and nothing acked is
/// lost or delivered twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_tool_restart_storm_brings_every_client_back_caught_up() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("storm.db");
    let serve = |listen: &str| -> Vec<String> {
        [
            env!("CARGO_BIN_EXE_roomcast"),
            "serve",
            "--listen",
            listen,
            "--database",
            &format!("sqlite://{}", db.display()),
            "--jwt-secret",
            SECRET,
            "--message-rate",
            "1000000",
            "--message-burst",
            "1000000",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let mut first = tokio::process::Command::new(&serve("127.0.0.1:0")[0]);
    first
        .args(&serve("127.0.0.1:0")[1..])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let (mut server, addr) = crate::helpers::start_roomcast(&mut first).await;
    let pidfile = dir.path().join("pid");
    let pid = server.id().expect("pid").to_string();
    std::fs::write(&pidfile, &pid).expect("pidfile");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/restart.sh");
    let log = dir.path().join("restarted");
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut restart = vec![
        quote(script),
        quote(&pidfile.display().to_string()),
        quote(&addr),
        quote(&log.display().to_string()),
        "--".to_owned(),
    ];
    restart.extend(serve(&addr).iter().map(|a| quote(a)));
    let run = load(
        addr.parse().expect("addr"),
        &[
            "--clients",
            "200",
            "--rooms",
            "20",
            "--senders",
            "1",
            "--rate",
            "10",
            "--warmup",
            "1",
            "--duration",
            "1",
            "--jwt-secret",
            SECRET,
            "--pid",
            &pid,
            "--storm-timeout",
            "30",
            "--restart-cmd",
            &restart.join(" "),
        ],
    )
    .await;
    // The first server exited at the restart; the second is no child.
    let _ = server.wait().await;
    let second = std::fs::read_to_string(&pidfile).expect("pidfile");
    let _ = std::process::Command::new("kill")
        .arg(second.trim())
        .status();
    let j = &run.json;
    let storm = &j["storm"];
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_ne!(second.trim(), pid, "a new server");
    assert_eq!(n(&j["joined"]), 200, "{j}");
    assert_eq!(n(&storm["not_back"]), 0, "{j}");
    assert_eq!(n(&storm["reconnects"]), 200, "{j}");
    assert!(storm["back_ms"]["max"].as_f64().is_some(), "{j}");
    // Senders back first sent while the others were away: replayed.
    assert!(n(&storm["replayed"]) > 0, "{j}");
    assert!(n(&j["acked_ok"]) > 0, "{j}");
    assert_eq!(n(&j["lost"]), 0, "{j}");
    assert_eq!(n(&j["duplicates"]), 0, "{j}");
    assert_eq!(n(&j["foreign"]), 0, "{j}");
}

/// `--changes N` mixes an edit and a reaction after every Nth acked chat
/// into the load: each is acked, and each reaches every member of the room
/// as its `edit` or `reaction` broadcast, counted apart from the chats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_tool_mixes_edits_and_reactions_into_the_chats() {
    let app = spawn_app().await;
    let run = load(
        app.addr,
        &[
            "--clients",
            "8",
            "--rooms",
            "2",
            "--senders",
            "1",
            "--window",
            "2",
            "--warmup",
            "0.2",
            "--duration",
            "0.6",
            "--changes",
            "2",
            "--jwt-secret",
            SECRET,
        ],
    )
    .await;
    let j = &run.json;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(n(&j["errors"]), 0, "{j}");
    let chats = n(&j["acked_ok"]);
    // Every second chat of each sender: an edit and a reaction.
    assert!(n(&j["changes_ok"]) >= chats - 2, "{j}");
    assert_eq!(n(&j["changes_ok"]), n(&j["changes_sent"]), "{j}");
    // 4 members per room see every change.
    assert_eq!(n(&j["change_expected"]), 4 * n(&j["changes_ok"]), "{j}");
    assert_eq!(n(&j["change_deliveries"]), n(&j["change_expected"]), "{j}");
    assert_eq!(n(&j["deliveries"]), 4 * chats, "{j}");
}

/// The short run both dropping servers (bare socketioxide and Node) get.
const DROPPING_RUN: &[&str] = &[
    "--clients",
    "10",
    "--rooms",
    "2",
    "--senders",
    "2",
    "--window",
    "4",
    "--warmup",
    "0.2",
    "--duration",
    "0.6",
    "--drain",
    "1",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_tool_counts_exactly_the_broadcasts_a_server_drops() {
    let (addr, stats) = spawn_dropping_server(7).await;
    let run = load(addr, DROPPING_RUN).await;
    let j = &run.json;
    let dropped = stats.dropped.load(Ordering::SeqCst);
    assert!(dropped > 0, "the server dropped nothing: {j}");
    assert_eq!(run.code, Some(1), "a lossy run must fail: {}", run.stdout);
    assert_eq!(n(&j["lost_messages"]), dropped, "{j}");
    // Each dropped chat misses all 5 members of its room.
    assert_eq!(n(&j["lost"]), 5 * dropped, "{j}");
    assert_eq!(n(&j["duplicates"]), 0, "{j}");
    assert_eq!(n(&j["errors"]), 0, "{j}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_tool_open_loop_sends_at_the_given_rate_and_measures_latency() {
    let (addr, stats) = spawn_dropping_server(0).await;
    let run = load(
        addr,
        &[
            "--clients",
            "6",
            "--rooms",
            "3",
            "--senders",
            "1",
            "--rate",
            "50",
            "--warmup",
            "0",
            "--duration",
            "1",
        ],
    )
    .await;
    let j = &run.json;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(stats.dropped.load(Ordering::SeqCst), 0);
    // 3 senders at 50/s for ~1 s (plus the drain): about 150, and far from closed-loop.
    let sent = n(&j["sent"]);
    assert!((60..=240).contains(&sent), "sent {sent}: {j}");
    assert_eq!(n(&j["deliveries"]), 2 * sent, "{j}");
    assert!(n(&j["latency_us"]["samples"]) > 100, "{j}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_tool_latency_is_the_time_from_send_to_delivery() {
    let delay = Duration::from_millis(40);
    let (addr, _) = spawn_faulty_server(bare_chat::Faults {
        delay,
        ..Default::default()
    })
    .await;
    let run = load(
        addr,
        &[
            "--clients",
            "4",
            "--rooms",
            "2",
            "--senders",
            "1",
            "--rate",
            "20",
            "--warmup",
            "0.2",
            "--duration",
            "0.6",
        ],
    )
    .await;
    let j = &run.json;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let p50 = n(&j["latency_us"]["p50"]);
    let max = n(&j["latency_us"]["max"]);
    // Every delivery waited the server's delay; none took seconds.
    assert!(p50 >= 40_000, "p50 {p50} µs below the 40 ms delay: {j}");
    assert!(max < 2_000_000, "max {max} µs: {j}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_tool_counts_refused_connections_as_errors() {
    let app = spawn_app().await;
    let run = load(
        app.addr,
        &[
            "--clients",
            "3",
            "--rooms",
            "1",
            "--jwt-secret",
            "not-the-server-secret-at-all",
        ],
    )
    .await;
    let j = &run.json;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(n(&j["joined"]), 0, "{j}");
    assert_eq!(n(&j["connect_errors"]), 3, "{j}");
    assert!(
        j["first_failure"]
            .as_str()
            .unwrap_or_default()
            .contains("unauthorized"),
        "{j}"
    );
}

/// The Node socket.io reference server of `bench/node/`, on a free port,
/// dropping every `n`-th chat broadcast. Killed when the handle drops.
async fn spawn_node_server(n: u64) -> (tokio::process::Child, SocketAddr) {
    use tokio::io::AsyncBufReadExt;
    let root = env!("CARGO_MANIFEST_DIR");
    // Like the Python venv of py_client.rs: a fresh clone gets the server's
    // packages on first use, so `cargo test` alone works (.ci/run installs
    // them up front).
    if !std::path::Path::new(root)
        .join("bench/node/node_modules/socket.io")
        .is_dir()
    {
        let ok = tokio::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(format!("{root}/bench/node"))
            .status()
            .await
            .is_ok_and(|s| s.success());
        assert!(ok, "npm ci --prefix bench/node failed");
    }
    let mut child = tokio::process::Command::new("node")
        .arg(format!("{root}/bench/node/server.js"))
        .arg("127.0.0.1:0")
        .arg(n.to_string())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (bench/node needs `npm ci --prefix bench/node`)");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(crate::helpers::WAIT, lines.next_line())
        .await
        .expect("node server printed its address in time")
        .expect("read node stdout")
        .expect("node server printed a line");
    let addr = line
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .expect("a socket address");
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_tool_drives_the_node_reference_server_and_counts_its_drops() {
    let (_node, addr) = spawn_node_server(7).await;
    let run = load(addr, DROPPING_RUN).await;
    let j = &run.json;
    assert_eq!(n(&j["joined"]), 10, "{j}");
    assert_eq!(n(&j["errors"]), 0, "{j}");
    // Every chat is valid, so the server numbers them 1..=acked and drops
    // ids 7, 14, ...
    let dropped = n(&j["acked_ok"]) / 7;
    assert!(dropped > 0, "{j}");
    assert_eq!(n(&j["lost_messages"]), dropped, "{j}");
    assert_eq!(n(&j["lost"]), 5 * dropped, "{j}");
    assert_eq!(run.code, Some(1), "{}", run.stdout);
}
