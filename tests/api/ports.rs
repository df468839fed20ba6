//! Ports for the servers the tests start as child processes (Redis,
//! PostgreSQL, nginx): none of them can take an inherited socket, so each is
//! started on a candidate port and started again on another when it reports
//! that port taken. (Binding port 0 and handing the number over would leave
//! a window in which another process takes it.)

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::helpers::WAIT;

/// How one start on one port went.
pub enum Start<T> {
    Up(T),
    /// The child said the port was in use.
    Taken,
}

impl<T> Start<T> {
    pub fn map_up<U>(self, f: impl FnOnce(T) -> U) -> Start<U> {
        match self {
            Start::Up(up) => Start::Up(f(up)),
            Start::Taken => Start::Taken,
        }
    }
}

/// Ports tried before giving up.
const TRIES: usize = 20;

/// Runs `start` on candidate ports until it comes up on one; a port it
/// reports [`Start::Taken`] is left for another.
pub async fn on_a_free_port<T>(what: &str, mut start: impl AsyncFnMut(u16) -> Start<T>) -> T {
    let mut taken = Vec::new();
    for _ in 0..TRIES {
        let port = candidate();
        match start(port).await {
            Start::Up(up) => return up,
            Start::Taken => taken.push(port),
        }
    }
    panic!("{what}: every port tried was taken: {taken:?}");
}

/// A random port below the kernel's ephemeral range: the ports that
/// `bind(0)` (every roomcast the tests start) and outgoing connections get
/// come from that range, so only fixed-port services compete for these.
fn candidate() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    if low > 11_000 {
        rand::random_range(10_000..low)
    } else {
        rand::random_range(1_024..=u16::MAX)
    }
}

/// What a log line says about a start.
pub enum Seen {
    Ready,
    Taken,
}

/// Reads `log` line by line until `judge` says the start is over; `None` if
/// the log ended first or `WAIT` passed. Lines after that are read and
/// dropped in the background, so a chatty child never blocks on a full pipe.
pub async fn watch_log(
    log: impl AsyncRead + Unpin + Send + 'static,
    judge: impl Fn(&str) -> Option<Seen>,
) -> (Option<Seen>, Vec<String>) {
    let mut lines = BufReader::new(log).lines();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    let verdict = loop {
        match tokio::time::timeout_at(deadline, lines.next_line()).await {
            Ok(Ok(Some(line))) => {
                let verdict = judge(&line);
                seen.push(line);
                if verdict.is_some() {
                    break verdict;
                }
            }
            _ => break None,
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (verdict, seen)
}

/// The pause between two looks at a child that says nothing on a pipe.
pub const POLL: Duration = Duration::from_millis(20);
