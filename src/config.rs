//! Settings: the one value every part of the server is configured from.

use std::fmt;
use std::net::SocketAddr;

/// A secret string whose `Debug` never prints it.
#[derive(Clone)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`.
    pub database: String,
    /// `redis://HOST:PORT`: share rooms with the other nodes on that Redis.
    pub redis: Option<String>,
    /// `None`: use (or create) the secret kept in the database.
    pub jwt_secret: Option<Secret>,
    /// `join` of an unknown room creates it (PROTOCOL §3).
    pub auto_create: bool,
    /// `POST /api/register` is open.
    pub registration: bool,
    /// Lifetime of login JWTs and session cookies.
    pub session_ttl_secs: u64,
    /// Packets that may wait in one socket's outgoing buffer before the
    /// socket is disconnected as too slow.
    pub socket_buffer: usize,
}

impl Settings {
    /// Defaults for a database URL, as `roomcast serve` has them.
    pub fn new(database: impl Into<String>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database: database.into(),
            redis: None,
            jwt_secret: None,
            auto_create: true,
            registration: true,
            session_ttl_secs: 7 * 24 * 3600,
            socket_buffer: 8192,
        }
    }
}
