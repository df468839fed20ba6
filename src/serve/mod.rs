//! The HTTP/1 accept loop, with the limits `axum::serve` does not set.
//!
//! `axum::serve` gives hyper no timer, so hyper's header-read timeout never
//! runs: a TCP connection that sends nothing, or a request head one byte at
//! a time, is held forever. This loop is `axum::serve` (connect info,
//! `TCP_NODELAY`, upgrades for WebSocket, graceful shutdown) plus a timer,
//! deadlines for the request head, the request body and stalled writes, a
//! cap on the head's size, and load shedding when descriptors run short.

mod body;
mod conns;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body::Body as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::config::Timeouts;
use crate::error::AppError;
use crate::metrics::Metrics;
use body::DeadlineBody;
use conns::{ConnEntry, Conns, Phase, SweepLimits, TrackedIo};

/// Bytes hyper buffers while reading a request head (request line and
/// headers); a head it cannot parse within them gets 431 and the connection
/// closes. hyper checks the limit between reads, so a head of up to about
/// twice this may pass; past that it never does. Node's default is 16 KiB;
/// browsers with many cookies send a few KiB.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Connections the kernel queues before `accept` (capped by
/// `net.core.somaxconn`, 4096 on current Linux). tokio's `bind` asks for
/// 1,024: in a restart storm the SYNs beyond it were dropped, and each
/// dropped client waited a second for its SYN to be sent again (issue 17).
const BACKLOG: u32 = 4096;

/// A listener on `addr` with [`BACKLOG`] (and `SO_REUSEADDR`, as tokio's
/// `bind`: a restarted server binds the address its predecessor left).
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Serves `router` on `listener` until `stop` completes, then stops
/// accepting, asks every connection to finish its request and close, and
/// returns once all have. `timeouts.http_head` bounds how long a connection
/// may take to send a request head, including the wait for the next request
/// on an idle keep-alive connection; `http_body` the rest of the request;
/// `write_stall` a write the client does not read. When descriptors run
/// short, the connections stalled longest before a complete request are
/// closed to make room (docs/protocol.md §5d).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    timeouts: Timeouts,
    metrics: Arc<Metrics>,
    stop: impl Future<Output = ()> + Send,
) {
    let budget = connection_budget(conns::raise_nofile_limit());
    let conns = Conns::new(
        budget,
        metrics.connections_shed.clone(),
        metrics.connections_refused.clone(),
    );
    let limits = SweepLimits {
        write_stall: timeouts.write_stall,
    };
    let tick = (timeouts.write_stall.min(timeouts.http_body) / 4)
        .clamp(Duration::from_millis(50), Duration::from_secs(1));
    let sweeper = tokio::spawn(conns.clone().sweep(limits, tick));
    // Each connection task holds a receiver: `closed()` below completes when
    // the last one is gone.
    let (close_tx, close_rx) = watch::channel(());
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        let (tcp, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    accept_failed(e, &conns).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Small acks would otherwise wait for Nagle's algorithm.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let Some((io, entry)) = conns.admit(tcp) else {
            continue;
        };
        let conn = Conn {
            router: router.clone(),
            timeouts,
            stop: stop_rx.clone(),
            _close: close_rx.clone(),
        };
        tokio::spawn(conn.run(io, entry, addr, conns.clone()));
    }
    drop(listener);
    drop(close_rx);
    let _ = stop_tx.send(true);
    close_tx.closed().await;
    sweeper.abort();
}

/// The most descriptors kept back from connections.
const RESERVE_MAX: usize = 512;

/// Connections the server may hold: the descriptor limit less a reserve
/// for the database, Redis, logs and the runtime: 64 + 5%, at most 512.
/// An idle server holds about 30 descriptors; 512 leaves room for uploads
/// and webhook connections, and a hard limit of 20,000 serves 19,488
/// sockets (a restart storm of 19,000 clients, issue 17).
fn connection_budget(nofile: u64) -> usize {
    let limit = usize::try_from(nofile).unwrap_or(usize::MAX);
    let reserve = (64 + limit / 20).min(RESERVE_MAX);
    let budget = limit.saturating_sub(reserve).max(16);
    tracing::info!(nofile, budget, "connection budget");
    budget
}

struct Conn {
    router: Router,
    timeouts: Timeouts,
    stop: watch::Receiver<bool>,
    _close: watch::Receiver<()>,
}

impl Conn {
    async fn run(
        mut self,
        io: TrackedIo,
        entry: Arc<ConnEntry>,
        addr: SocketAddr,
        conns: Arc<Conns>,
    ) {
        let router = self.router.clone();
        let timeouts = self.timeouts;
        let request_entry = entry.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let body_timeout = if is_upload(&req) {
                timeouts.http_upload
            } else {
                timeouts.http_body
            };
            handle(
                router.clone(),
                req,
                addr,
                body_timeout,
                request_entry.clone(),
            )
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.timeouts.http_head)
            .max_buf_size(MAX_HEAD_BYTES);
        let conn = builder
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades();
        tokio::pin!(conn);
        let mut stopping = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::trace!(error = %e, "connection ended with an error");
                    }
                    break;
                }
                () = entry.kill.notified() => break,
                changed = self.stop.changed(), if !stopping => {
                    stopping = true;
                    if changed.is_ok() {
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        }
        conns.remove(&entry);
    }
}

/// One request: its body gets the deadline, and a body that missed it gets
/// 408 and closes the connection, whatever the route made of the error.
async fn handle(
    router: Router,
    req: Request<Incoming>,
    addr: SocketAddr,
    body_timeout: Duration,
    entry: Arc<ConnEntry>,
) -> Result<Response, Infallible> {
    let (mut head, body) = req.into_parts();
    detach_head(&mut head);
    head.extensions.insert(ConnectInfo(addr));
    entry.begin_request(body.is_end_stream(), body_timeout);
    let deadline = tokio::time::Instant::now() + body_timeout;
    let body = DeadlineBody::new(body, deadline, entry.clone());
    let req = Request::from_parts(head, axum::body::Body::new(body));
    let response = router.oneshot(req).await?;
    if entry.body_timed_out() {
        let mut late =
            AppError::Timeout("request body not received in time".into()).into_response();
        late.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        entry.set_phase(Phase::Busy);
        return Ok(late);
    }
    // An upgraded connection leaves the table when hyper hands it over; until
    // then it is not waiting for anything from the client.
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        entry.set_phase(Phase::Head);
    }
    Ok(response)
}

/// Whether a request is a file upload (`POST /api/rooms/{room}/files`),
/// whose body has the longer deadline.
fn is_upload<B>(req: &Request<B>) -> bool {
    let path = req.uri().path();
    req.method() == axum::http::Method::POST
        && path.starts_with("/api/rooms/")
        && path.ends_with("/files")
}

/// Gives the request head its own copy of the URI and header values.
///
/// hyper parses a head in place: the URI and every header value are slices
/// of the connection's read buffer (8 KiB, growing up to [`MAX_HEAD_BYTES`]),
/// and any one of them keeps the whole buffer allocated. socketioxide keeps
/// each socket's handshake request (`Socket::req_parts`) for the socket's
/// life, so every idle WebSocket held a read buffer it will never use again.
/// Copying the few hundred bytes of the head lets the buffer go.
fn detach_head(head: &mut axum::http::request::Parts) {
    for value in head.headers.values_mut() {
        // Every value hyper accepted is a valid `HeaderValue`; keep the
        // original if that ever changes.
        if let Ok(mut copy) = HeaderValue::from_bytes(value.as_bytes()) {
            copy.set_sensitive(value.is_sensitive());
            *value = copy;
        }
    }
    if let Ok(uri) = head.uri.to_string().parse::<Uri>() {
        head.uri = uri;
    }
}

/// Per-connection accept errors are the client's. Out of descriptors, the
/// connections stalled longest make room at once; only when none can is the
/// next try delayed (as hyper did, but shorter).
async fn accept_failed(e: std::io::Error, conns: &Conns) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    let out_of_fds = matches!(e.raw_os_error(), Some(code) if code == nix::libc::EMFILE || code == nix::libc::ENFILE);
    if out_of_fds && conns.out_of_descriptors() > 0 {
        // The shed connections close when their tasks run.
        tokio::task::yield_now().await;
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
