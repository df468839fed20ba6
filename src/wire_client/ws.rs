//! Socket.IO over WebSocket: a lean connection, the two handshakes, acks, and the server closing.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub use tokio_tungstenite::tungstenite::Message;

use super::packet::{self, Packet};

/// A client's WebSocket, over plain TCP.
pub type WsStream = WebSocketStream<TcpStream>;

/// The ack id [`handshake_and_join`] gives its `join`: callers number
/// theirs above it.
pub const JOIN_ACK: u64 = 1;

/// Initial read buffer of each WebSocket.
const READ_BUFFER: usize = 4096;

/// The WebSocket endpoint of `server`.
pub fn url(server: SocketAddr) -> String {
    format!("ws://{server}/socket.io/?EIO=4&transport=websocket")
}

/// Opens TCP to `server` (from `source` when given) and the WebSocket of
/// `request` (a URL or a request with headers) over it; no Engine.IO yet.
pub async fn open<R>(
    request: R,
    server: SocketAddr,
    source: Option<IpAddr>,
) -> Result<WsStream, String>
where
    R: IntoClientRequest + Unpin,
{
    let socket = if server.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| format!("socket: {e}"))?;
    if let Some(ip) = source {
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(|e| format!("bind {ip}: {e}"))?;
    }
    open_on(socket, request, server).await
}

/// [`open`] on a socket the caller set up (a small receive buffer, say).
pub async fn open_on<R>(
    socket: TcpSocket,
    request: R,
    server: SocketAddr,
) -> Result<WsStream, String>
where
    R: IntoClientRequest + Unpin,
{
    let stream = socket
        .connect(server)
        .await
        .map_err(|e| format!("connect {server}: {e}"))?;
    // Small frames must leave at once, or latency measures Nagle's delay.
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    // tungstenite allocates a 128 KiB read buffer per socket by default:
    // 13 GB for 100k clients. Chat frames are small; the buffer grows if not.
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .map_err(|e| format!("websocket handshake: {e}"))?;
    Ok(ws)
}

/// Sends one text frame as it is: any bytes, malformed ones included.
pub async fn send(ws: &mut WsStream, text: impl Into<String>) -> Result<(), String> {
    ws.send(Message::text(text.into()))
        .await
        .map_err(|e| format!("send: {e}"))
}

/// The next text frame within `wait`, answering Engine.IO pings on the way.
pub async fn next_text(ws: &mut WsStream, wait: Duration) -> Result<String, String> {
    loop {
        let msg = tokio::time::timeout(wait, ws.next())
            .await
            .map_err(|_| "timed out waiting for the server".to_string())?
            .ok_or("connection closed")?
            .map_err(|e| format!("websocket: {e}"))?;
        match msg {
            Message::Text(t) if t.as_str() == packet::PING => send(ws, packet::PONG).await?,
            Message::Text(t) => return Ok(t.as_str().to_owned()),
            Message::Close(c) => return Err(format!("closed by server: {c:?}")),
            _ => {}
        }
    }
}

/// Engine.IO open, then Socket.IO CONNECT with `auth`; `Err` carries the
/// refusal (`connect refused: 44{...}`) or what went wrong.
pub async fn handshake(
    ws: &mut WsStream,
    auth: Option<&Value>,
    wait: Duration,
) -> Result<(), String> {
    let open = next_text(ws, wait).await?;
    if !matches!(packet::decode(&open), Packet::Open(json) if json.starts_with('{')) {
        return Err(format!("expected the Engine.IO open packet, got {open:?}"));
    }
    send(ws, packet::connect(auth)).await?;
    // Pings aside (`next_text` answers them), nothing may come before the answer.
    let t = next_text(ws, wait).await?;
    match packet::decode(&t) {
        Packet::Connected(_) => Ok(()),
        Packet::ConnectError(_) => Err(format!("connect refused: {t}")),
        _ => Err(format!("unexpected answer to CONNECT: {t}")),
    }
}

/// [`handshake`] with `auth.token` when given, then `join {room}` whose ack
/// must be `ok: true`.
pub async fn handshake_and_join(
    ws: &mut WsStream,
    token: Option<&str>,
    room: &str,
    wait: Duration,
) -> Result<(), String> {
    let auth = token.map(|token| packet::to_value(packet::TokenAuth { token }));
    handshake(ws, auth.as_ref(), wait).await?;
    let join = packet::event(
        Some(JOIN_ACK),
        "join",
        &[packet::to_value(packet::RoomArg { room })],
    );
    send(ws, join).await?;
    let args = ack(ws, JOIN_ACK, wait).await?;
    if packet::ack_ok(&args) {
        Ok(())
    } else {
        Err(format!("join refused: {}", packet::clip(&args)))
    }
}

/// Waits for ack `id` and returns its argument array (raw JSON); events and
/// other acks on the way are skipped, pings answered.
pub async fn ack(ws: &mut WsStream, id: u64, wait: Duration) -> Result<String, String> {
    loop {
        let t = next_text(ws, wait).await?;
        match packet::decode(&t) {
            Packet::Ack(n, args) if n == id => return Ok(args.to_owned()),
            Packet::Close | Packet::Disconnect => return Err(format!("closed by server ({t})")),
            _ => {}
        }
    }
}

/// Sends `text` (an event asking for ack `id`, well formed or not) and
/// returns the ack's first argument.
pub async fn call(ws: &mut WsStream, text: &str, id: u64, wait: Duration) -> Result<Value, String> {
    send(ws, text).await?;
    let args = ack(ws, id, wait).await?;
    packet::ack_value(&args).ok_or_else(|| format!("ack {id} is not an argument list: {args}"))
}

/// True once the server closes `ws` (a close frame, Engine.IO close, or the
/// connection ending) within `wait`; pings are answered meanwhile.
pub async fn closed_by_server(ws: &mut WsStream, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_) | Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(Message::Text(t)))) => match packet::decode(t.as_str()) {
                Packet::Ping => {
                    let _ = send(ws, packet::PONG).await;
                }
                Packet::Close => return true,
                _ => {}
            },
            Ok(Some(Ok(_))) => {}
        }
    }
}
