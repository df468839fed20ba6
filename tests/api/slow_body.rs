//! Slow request bodies (docs/protocol.md §5d): a body that stalls gets 408
//! and its connection closes at the body deadline, and before any deadline
//! fires the server sheds stalled connections so that it keeps answering
//! when an attack holds more connections than it has descriptors.

use std::time::{Duration, Instant};

use roomcast::config::Timeouts;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// A request head announcing a 60,000-byte body, and the body's first bytes.
const SLOW_LOGIN: &[u8] = b"POST /api/login HTTP/1.1\r\nHost: x\r\n\
Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{\"username\":";

/// Reads until the server closes `tcp`, within `WAIT`.
async fn read_to_close(tcp: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut seen))
        .await
        .expect("the server closed the connection")
        .expect("read");
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn a_stalled_request_body_gets_408_and_is_closed_at_the_body_deadline() {
    let app = spawn_app_with(|s| {
        s.timeouts = Timeouts {
            http_body: Duration::from_millis(500),
            ..Timeouts::default()
        }
    })
    .await;
    let mut tcp = TcpStream::connect(app.addr).await.expect("tcp");
    tcp.write_all(SLOW_LOGIN).await.expect("write");
    let started = Instant::now();
    let answer = read_to_close(&mut tcp).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""error":"timeout""#), "{answer}");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "not before the deadline"
    );
    assert_eq!(app.get("/healthz", None).await.status(), 200);
}

#[tokio::test]
async fn a_stalled_polling_post_gets_408_and_is_closed_at_the_body_deadline() {
    let app = spawn_app_with(|s| {
        s.timeouts = Timeouts {
            http_body: Duration::from_millis(500),
            ..Timeouts::default()
        }
    })
    .await;
    let open = app
        .http
        .get(roomcast::wire_client::polling::url(&app.url("")))
        .send()
        .await
        .expect("handshake")
        .text()
        .await
        .expect("handshake");
    let sid = roomcast::wire_client::polling::sid(&open).expect("open packet");
    let mut tcp = TcpStream::connect(app.addr).await.expect("tcp");
    let head = format!(
        "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\
         Content-Type: text/plain\r\nContent-Length: 60000\r\n\r\n40"
    );
    tcp.write_all(head.as_bytes()).await.expect("write");
    let answer = read_to_close(&mut tcp).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// Raises this process's soft open-file limit to the hard one: the attack
/// holds hundreds of sockets.
fn raise_own_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).expect("setrlimit");
}

/// Opens `n` connections that each send a head and the start of a body,
/// then nothing.
async fn slow_body_attack(addr: &str, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let connecting = TcpStream::connect(addr);
        let Ok(Ok(mut tcp)) = tokio::time::timeout(Duration::from_secs(1), connecting).await else {
            continue;
        };
        if tcp.write_all(SLOW_LOGIN).await.is_ok() {
            held.push(tcp);
        }
    }
    held
}

/// `/healthz` on a new connection, and a new Socket.IO connection with a
/// JWT: both within a second, or the panic says which did not.
async fn answers_within_a_second(addr: &str, round: usize) -> (Duration, Duration) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let started = Instant::now();
    let r = http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("round {round}: /healthz did not answer within 1 s: {e}"));
    assert_eq!(r.status(), 200);
    let healthz = started.elapsed();
    let started = Instant::now();
    let how = Connect::token(token(&format!("victim{round}"), None));
    let client = tokio::time::timeout(
        Duration::from_secs(1),
        TestClient::connect(&format!("http://{addr}/"), how),
    )
    .await
    .unwrap_or_else(|_| panic!("round {round}: no socket within 1 s"))
    .expect("connect");
    let socket = started.elapsed();
    client.close().await;
    (healthz, socket)
}

#[tokio::test]
async fn healthz_and_new_sockets_answer_throughout_a_slow_body_attack_past_the_descriptor_limit() {
    raise_own_limit();
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("attack.db");
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -n 400 && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_roomcast"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .args(["--jwt-secret", SECRET])
        .env_remove("ROOMCAST_JWT_SECRET")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let (_server, addr) = start_roomcast(&mut cmd).await;
    // More connections than the server has descriptors, all stalled in a body.
    let held = slow_body_attack(&addr, 450).await;
    assert!(
        held.len() >= 420,
        "the attack got {} connections",
        held.len()
    );
    let mut worst = (Duration::ZERO, Duration::ZERO);
    let mut more = Vec::new();
    for round in 0..6 {
        let (healthz, socket) = answers_within_a_second(&addr, round).await;
        worst = (worst.0.max(healthz), worst.1.max(socket));
        // The attack keeps coming while the checks run.
        more.extend(slow_body_attack(&addr, 20).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eprintln!(
        "slowest during the attack: /healthz {:?}, socket {:?}",
        worst.0, worst.1
    );
    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    let shed = metrics
        .lines()
        .find_map(|l| l.strip_prefix("roomcast_connections_shed_total "))
        .and_then(|n| n.parse::<u64>().ok())
        .expect("shed counter");
    assert!(shed > 0, "stalled connections were shed");
    drop((held, more));
}

#[tokio::test]
async fn a_client_that_stops_reading_responses_is_closed_at_the_write_stall_deadline() {
    let app = spawn_app_with(|s| {
        s.timeouts = Timeouts {
            write_stall: Duration::from_millis(500),
            ..Timeouts::default()
        }
    })
    .await;
    let one = app
        .get("/socket.io/socket.io.js", None)
        .await
        .bytes()
        .await
        .expect("bundle")
        .len();
    // A small receive window, and far more pipelined responses than the
    // kernel's buffers hold: the server's writes block until we read.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let mut tcp = socket.connect(app.addr).await.expect("connect");
    const N: usize = 100;
    let request = b"GET /socket.io/socket.io.js HTTP/1.1\r\nHost: x\r\n\r\n".repeat(N);
    tcp.write_all(&request).await.expect("write");
    // Past the deadline (and a sweep), then read what the server sent
    // before it gave up, to the close.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut got = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(WAIT, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got += n,
            Err(_) => panic!("connection still open after {WAIT:?} ({got} bytes read)"),
        }
    }
    assert!(
        got < one * N,
        "the stalled connection was cut ({got} of {} bytes)",
        one * N
    );
    assert_eq!(app.get("/healthz", None).await.status(), 200);
}
