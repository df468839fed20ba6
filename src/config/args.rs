//! The server's settings as clap flags and environment variables and as the
//! TOML file's keys: one struct for all three (`roomcast serve` flattens it).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use clap::builder::BoolishValueParser;
use serde::Deserialize;

use super::{AdminUiMode, LogFormat, MAX_TIMER_MS, ProxyNet, SecureCookies};
use crate::store::SqliteSync;

/// The server's settings as flags, environment variables or config-file
/// keys. Every field is optional: what is absent here falls back to the
/// config file, then to the default (see `config::Settings`).
#[derive(Debug, Default, Args, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServeArgs {
    /// TOML file with any of these settings (keys are the flag names without
    /// `--`); the environment and flags override it.
    #[arg(long, env = "ROOMCAST_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address and port to listen on; port 0 picks a free port (the address
    /// is printed on start). [default: 127.0.0.1:3000]
    #[arg(long, env = "ROOMCAST_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Address to serve `/metrics` on instead of the main port, which then
    /// has none: the production setting, keeping the unauthenticated
    /// metrics off the public address. [default: on the main port]
    #[arg(long, env = "ROOMCAST_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (created or
    /// migrated on start). Several nodes share one PostgreSQL database.
    /// [default: sqlite://roomcast.db]
    #[arg(long, env = "ROOMCAST_DATABASE")]
    pub database: Option<String>,

    /// Redis URL (redis://HOST:PORT): nodes on the same Redis and database act
    /// as one server (PROTOCOL §7).
    #[arg(long, env = "ROOMCAST_REDIS")]
    pub redis: Option<String>,

    /// HS256 secret that signs and checks JWTs. When absent, a random secret is
    /// generated once and kept in the database, so tokens survive restarts.
    #[arg(long, env = "ROOMCAST_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Seconds a JWT's `exp` may have passed (or its `nbf` not yet come)
    /// and the token still be accepted, for clocks that differ a little.
    /// [default: 5]
    #[arg(long, env = "ROOMCAST_JWT_LEEWAY",
          value_parser = clap::value_parser!(u64).range(0..=300))]
    pub jwt_leeway: Option<u64>,

    /// Refuse `join` of a room that does not exist (`not_found`) instead of creating it.
    #[arg(long, env = "ROOMCAST_NO_AUTO_CREATE", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub no_auto_create: Option<bool>,

    /// Refuse `POST /api/register`: only existing accounts and JWTs can connect.
    #[arg(long, env = "ROOMCAST_NO_REGISTRATION", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub no_registration: Option<bool>,

    /// Lifetime in seconds of the JWTs and session cookies that login issues.
    /// [default: 604800]
    #[arg(long, env = "ROOMCAST_SESSION_TTL")]
    pub session_ttl: Option<u64>,

    /// Packets that may wait for one slow client before it is disconnected
    /// (it then reconnects and replays what it missed with `join {since}`).
    /// [default: 8192]
    #[arg(long, env = "ROOMCAST_SOCKET_BUFFER",
          value_parser = clap::value_parser!(u32).range(16..=1_000_000))]
    pub socket_buffer: Option<u32>,

    /// Largest socket event payload or HTTP request body, in bytes. A larger
    /// event is answered `invalid_payload` (the socket stays connected); a
    /// larger HTTP body gets 413 `too_large`. [default: 65536]
    #[arg(long, env = "ROOMCAST_MAX_PAYLOAD",
          value_parser = clap::value_parser!(u32).range(1024..))]
    pub max_payload: Option<u32>,

    /// Messages per second one user may send, sockets and HTTP together,
    /// on this node; beyond it `rate_limited`. [default: 10]
    #[arg(long, env = "ROOMCAST_MESSAGE_RATE")]
    pub message_rate: Option<f64>,

    /// Messages one user may send at once above the rate. [default: 30]
    #[arg(long, env = "ROOMCAST_MESSAGE_BURST",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub message_burst: Option<u32>,

    /// Login attempts per minute for one username, and for one client
    /// address; beyond it 429 `rate_limited`. [default: 10]
    #[arg(long, env = "ROOMCAST_LOGIN_ATTEMPTS",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub login_attempts: Option<u32>,

    /// Sockets one user may have connected at once on this node; one more
    /// gets `connect_error`. [default: 32]
    #[arg(long, env = "ROOMCAST_MAX_CONNECTIONS",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,

    /// Comma-separated origins (like `https://app.example.com`) whose pages
    /// may call the API and open sockets. Others are refused; same-origin
    /// pages and non-browser clients always work. [default: none]
    #[arg(long, env = "ROOMCAST_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Option<Vec<String>>,

    /// SQLite only: `full` flushes every commit to disk, so an acked message
    /// survives a power cut; `normal` flushes at checkpoints only: an acked
    /// message survives the server being killed but not a power cut, and a
    /// commit takes microseconds instead of a disk flush. [default: full]
    #[arg(long, env = "ROOMCAST_SQLITE_SYNC", value_enum)]
    pub sqlite_sync: Option<SqliteSync>,

    /// Log line format. [default: text]
    #[arg(long, env = "ROOMCAST_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    /// Seconds shutdown waits for queued events to finish before it
    /// disconnects everyone. [default: 10]
    #[arg(long, env = "ROOMCAST_SHUTDOWN_TIMEOUT")]
    pub shutdown_timeout: Option<u64>,

    /// Registrations (`POST /api/register`) per hour from one client
    /// address; beyond it 429 `rate_limited`. [default: 20]
    #[arg(long, env = "ROOMCAST_REGISTRATION_RATE",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub registration_rate: Option<u32>,

    /// Comma-separated addresses or CIDR blocks of reverse proxies whose
    /// `X-Forwarded-For` (the client's address) and `X-Forwarded-Proto` are
    /// believed; from any other peer they are ignored. [default: none]
    #[arg(long, env = "ROOMCAST_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<ProxyNet>>,

    /// Milliseconds between Engine.IO pings (`pingInterval`, announced in the
    /// handshake); the first ping goes out one interval after it.
    /// [default: 25000]
    #[arg(long, env = "ROOMCAST_PING_INTERVAL",
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMER_MS))]
    pub ping_interval: Option<u64>,

    /// Milliseconds a client has to answer a ping (`pingTimeout`); a session
    /// that neither polls nor answers within interval + timeout is closed.
    /// [default: 20000]
    #[arg(long, env = "ROOMCAST_PING_TIMEOUT",
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMER_MS))]
    pub ping_timeout: Option<u64>,

    /// Milliseconds from the Engine.IO handshake to the Socket.IO CONNECT
    /// (`connectTimeout`); a session that has not sent it by then is closed.
    /// [default: 45000]
    #[arg(long, env = "ROOMCAST_CONNECT_TIMEOUT",
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMER_MS))]
    pub connect_timeout: Option<u64>,

    /// When the session cookie is `Secure`: `auto` when the request came
    /// over HTTPS through a trusted proxy (`X-Forwarded-Proto: https`),
    /// `always`, or `never`. [default: auto]
    #[arg(long, env = "ROOMCAST_SECURE_COOKIES", value_enum)]
    pub secure_cookies: Option<SecureCookies>,

    /// The Socket.IO Admin UI at `/admin/`, for accounts made admin with
    /// `roomcast user promote`: `production` reports each node's stats and
    /// lets a dashboard join, leave and disconnect sockets; `development`
    /// also streams every socket, room and event to it (a cost per event
    /// while on); `off` serves neither page nor namespace.
    /// [default: production]
    #[arg(long, env = "ROOMCAST_ADMIN_UI_MODE", value_enum)]
    pub admin_ui_mode: Option<AdminUiMode>,

    /// Let Admin UI dashboards emit events to sockets. Off by default: what
    /// they emit bypasses storage (an emitted `chat` is in no history).
    #[arg(long, env = "ROOMCAST_ADMIN_UI_EMIT", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub admin_ui_emit: Option<bool>,

    /// This node's name on the Admin UI's Servers page and in the webhook
    /// senders' leases; each node of a cluster needs its own.
    /// [default: HOSTNAME:PORT]
    #[arg(long, env = "ROOMCAST_ADMIN_UI_SERVER_ID")]
    pub admin_ui_server_id: Option<String>,

    /// Milliseconds one webhook attempt may take, connecting included;
    /// longer counts as a failure and is retried. [default: 10000]
    #[arg(long, env = "ROOMCAST_WEBHOOK_TIMEOUT",
          value_parser = clap::value_parser!(u64).range(100..=MAX_TIMER_MS))]
    pub webhook_timeout: Option<u64>,

    /// Milliseconds between two attempts of one webhook event at most:
    /// waits double from 1 s up to this. [default: 3600000, an hour]
    #[arg(long, env = "ROOMCAST_WEBHOOK_BACKOFF_MAX",
          value_parser = clap::value_parser!(u64).range(100..=MAX_TIMER_MS))]
    pub webhook_backoff_max: Option<u64>,

    /// Attempts of one webhook event before it is kept as failed
    /// (`roomcast webhooks failed`, `retry`); the default spans about a day
    /// and a half at the default backoff. [default: 48]
    #[arg(long, env = "ROOMCAST_WEBHOOK_ATTEMPTS",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub webhook_attempts: Option<u32>,

    /// Largest file upload (`POST /api/rooms/{room}/files`), in bytes; a
    /// larger one gets 413 `too_large` and nothing is kept. Not bound by
    /// `--max-payload`. [default: 10485760]
    #[arg(long, env = "ROOMCAST_MAX_FILE_SIZE",
          value_parser = clap::value_parser!(u64).range(1024..))]
    pub max_file_size: Option<u64>,

    /// Bytes of files one user may keep, all rooms together; an upload
    /// past it gets 413 `too_large`. [default: 1073741824]
    #[arg(long, env = "ROOMCAST_FILES_QUOTA")]
    pub files_quota: Option<u64>,

    /// Seconds an upload may wait for a message to attach it before it is
    /// removed. [default: 3600]
    #[arg(long, env = "ROOMCAST_FILES_UNATTACHED_TTL",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub files_unattached_ttl: Option<u64>,

    /// At most this many users are named in a `join` ack's `online` list;
    /// the room's `online` count still counts all of them. Naming every
    /// user of a big room in every join made a join cost the room
    /// O(members). [default: 100]
    #[arg(long, env = "ROOMCAST_ONLINE_NAMES",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub online_names: Option<u32>,

    /// In a room with more users online than this, each node sends its
    /// sockets' joins and leaves as one `presence` notice every 200 ms
    /// instead of a `join` or `leave` each. [default: 100]
    #[arg(long, env = "ROOMCAST_PRESENCE_BATCH_ABOVE")]
    pub presence_batch_above: Option<u32>,

    /// Keep files' bytes in this directory instead of the database (one
    /// node only: the directory is not shared). [default: in the database]
    #[arg(long, env = "ROOMCAST_FILES_DIR")]
    pub files_dir: Option<PathBuf>,

    /// Webhook endpoints (settings file only: `[[webhooks]]` tables).
    #[arg(skip)]
    pub webhooks: Option<Vec<WebhookSetting>>,
}

/// One `[[webhooks]]` table of the settings file (docs/protocol.md "Webhooks").
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WebhookSetting {
    /// Its name in `roomcast webhooks list` and the metrics; the URL's host when absent.
    pub name: Option<String>,
    pub url: String,
    /// `whsec_` and base64.
    pub secret: String,
    /// The event types it receives; every type when absent.
    pub events: Option<Vec<String>>,
    /// May be sent to loopback and private addresses.
    #[serde(default)]
    pub allow_private: bool,
}

// `Debug` by hand: settings may be logged, the secret never.
impl std::fmt::Debug for WebhookSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSetting")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("events", &self.events)
            .field("allow_private", &self.allow_private)
            .finish()
    }
}
