//! Settings: the one value every part of the server is configured from.
//!
//! Precedence: defaults < TOML file (`--config`) < environment < flags. The
//! environment and flags arrive together from clap ([`ServeArgs`]);
//! the file is parsed into the same struct, so a setting is one field there,
//! one field here, and one line in [`Settings::apply`].

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;

mod args;
mod timeouts;

pub use args::{ServeArgs, WebhookSetting};
pub use timeouts::{MAX_TIMER_MS, Timeouts};

use crate::store::{Endpoint, Origin, SqliteSync};

/// A secret string whose `Debug` never prints it.
#[derive(Clone)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// What the Socket.IO Admin UI gets (docs/protocol.md §4b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AdminUiMode {
    /// No `/admin/` page and no `/admin` namespace.
    Off,
    /// Stats every 2 s, and the join, leave and disconnect actions.
    Production,
    /// Also every socket, room and event as it happens.
    Development,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Where `/metrics` is served instead of `listen`; `None`: on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`.
    pub database: String,
    /// `redis://HOST:PORT`: share rooms with the other nodes on that Redis.
    pub redis: Option<String>,
    /// `None`: use (or create) the secret kept in the database.
    pub jwt_secret: Option<Secret>,
    /// Clock allowance for a JWT's `exp` and `nbf`, in seconds.
    pub jwt_leeway_secs: u64,
    /// `join` of an unknown room creates it (PROTOCOL §3).
    pub auto_create: bool,
    /// `POST /api/register` is open.
    pub registration: bool,
    /// Lifetime of login JWTs and session cookies.
    pub session_ttl_secs: u64,
    /// Packets that may wait in one socket's outgoing buffer before the
    /// socket is disconnected as too slow.
    pub socket_buffer: usize,
    /// Largest socket event or HTTP body, in bytes.
    pub max_payload: usize,
    /// Sustained messages per second one user may send (sockets and HTTP together).
    pub message_rate: f64,
    /// Messages one user may send in a burst above the sustained rate.
    pub message_burst: u32,
    /// Login attempts per minute, per username and per client address.
    pub login_attempts: u32,
    /// Sockets one user may have connected at once (on this node).
    pub max_connections: u32,
    /// Origins other than the server's own allowed to use the API and sockets.
    pub allowed_origins: Vec<String>,
    /// What a SQLite commit waits for (see [`SqliteSync`]).
    pub sqlite_sync: SqliteSync,
    pub log_format: LogFormat,
    /// How long shutdown waits for queued events before disconnecting.
    pub shutdown_timeout_secs: u64,
    /// Connection deadlines (docs/protocol.md §5d). The Socket.IO ones are
    /// flags (`--ping-interval`, `--ping-timeout`, `--connect-timeout`); the
    /// HTTP ones are not. Defaults are Node's (Socket.IO) and hyper's.
    pub timeouts: Timeouts,
    /// Registrations per hour from one client address.
    pub registration_rate: u32,
    /// Peers whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<ProxyNet>,
    /// When the session cookie carries `Secure`.
    pub secure_cookies: SecureCookies,
    /// The period `login_attempts` counts over: a minute. Not a flag; tests
    /// lengthen it so no bucket refills while they count.
    pub login_window: Duration,
    pub admin_ui_mode: AdminUiMode,
    /// Dashboards may emit to sockets (bypassing storage).
    pub admin_ui_emit: bool,
    /// `None`: the host name and the bound port.
    pub admin_ui_server_id: Option<String>,
    /// How often each node sends `server_stats`: 2 s, as Node. Not a flag.
    pub admin_ui_stats_interval: Duration,
    /// The settings file's `[[webhooks]]`, checked.
    pub webhooks: Vec<Endpoint>,
    pub webhook_timeout: Duration,
    pub webhook_backoff_max: Duration,
    pub webhook_attempts: u32,
    /// Largest file upload, in bytes.
    pub max_file_size: u64,
    /// The bytes of files one user may keep, all rooms together.
    pub files_quota: u64,
    /// An upload no message attaches within this is removed.
    pub files_unattached_ttl: Duration,
    /// The most users a `join` ack's `online` list names.
    pub online_names: usize,
    /// Rooms with more users online get `presence` batches.
    pub presence_batch_above: usize,
    /// Files' bytes in this directory (one node) instead of the database.
    pub files_dir: Option<std::path::PathBuf>,
}

/// An address or CIDR block of trusted reverse proxies (`10.0.0.5`, `10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet(pub ipnet::IpNet);

impl ProxyNet {
    /// Whether `ip` is in this block.
    pub fn contains(&self, ip: &std::net::IpAddr) -> bool {
        // An IPv4 client seen through an IPv6 socket is `::ffff:a.b.c.d`.
        let ip = ip.to_canonical();
        self.0.contains(&ip)
    }
}

impl std::str::FromStr for ProxyNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(ip) = s.parse::<std::net::IpAddr>() {
            return Ok(Self(ipnet::IpNet::from(ip)));
        }
        s.parse::<ipnet::IpNet>()
            .map(|n| Self(n.trunc()))
            .map_err(|_| format!("{s:?} is not an IP address or CIDR block"))
    }
}

impl<'de> serde::Deserialize<'de> for ProxyNet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// When the session cookie is marked `Secure` (sent over HTTPS only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SecureCookies {
    /// When the request came over HTTPS: `X-Forwarded-Proto: https` from a
    /// trusted proxy (roomcast itself speaks plain HTTP).
    Auto,
    /// Always (for a deployment only ever reached over HTTPS).
    Always,
    /// Never.
    Never,
}

impl Settings {
    /// Defaults for a database URL, as `roomcast serve` has them.
    pub fn new(database: impl Into<String>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            metrics_listen: None,
            database: database.into(),
            redis: None,
            jwt_secret: None,
            jwt_leeway_secs: 5,
            auto_create: true,
            registration: true,
            session_ttl_secs: 7 * 24 * 3600,
            socket_buffer: 8192,
            max_payload: 64 * 1024,
            message_rate: 10.0,
            message_burst: 30,
            login_attempts: 10,
            max_connections: 32,
            allowed_origins: Vec::new(),
            sqlite_sync: SqliteSync::Full,
            log_format: LogFormat::Text,
            shutdown_timeout_secs: 10,
            timeouts: Timeouts::default(),
            registration_rate: 20,
            trusted_proxies: Vec::new(),
            secure_cookies: SecureCookies::Auto,
            login_window: Duration::from_secs(60),
            admin_ui_mode: AdminUiMode::Production,
            admin_ui_emit: false,
            admin_ui_server_id: None,
            admin_ui_stats_interval: Duration::from_secs(2),
            webhooks: Vec::new(),
            webhook_timeout: Duration::from_secs(10),
            webhook_backoff_max: Duration::from_secs(3600),
            webhook_attempts: 48,
            max_file_size: 10 * 1024 * 1024,
            files_quota: 1024 * 1024 * 1024,
            files_unattached_ttl: Duration::from_secs(3600),
            online_names: 100,
            presence_batch_above: 100,
            files_dir: None,
        }
    }

    /// Defaults, then the config file (if `args` or the environment names
    /// one), then `args` (the environment and flags).
    pub fn load(args: ServeArgs) -> anyhow::Result<Self> {
        let mut settings = Self::new("sqlite://roomcast.db");
        if let Some(path) = &args.config {
            settings
                .apply(read_file(path)?)
                .with_context(|| format!("config file {}", path.display()))?;
        }
        settings.apply(args)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Overrides every setting `layer` has; fails on a bad `[[webhooks]]`.
    fn apply(&mut self, layer: ServeArgs) -> anyhow::Result<()> {
        let ServeArgs {
            config: _,
            listen,
            metrics_listen,
            database,
            redis,
            jwt_secret,
            jwt_leeway,
            no_auto_create,
            no_registration,
            session_ttl,
            socket_buffer,
            max_payload,
            message_rate,
            message_burst,
            login_attempts,
            max_connections,
            allowed_origins,
            sqlite_sync,
            log_format,
            shutdown_timeout,
            registration_rate,
            trusted_proxies,
            ping_interval,
            ping_timeout,
            connect_timeout,
            secure_cookies,
            admin_ui_mode,
            admin_ui_emit,
            admin_ui_server_id,
            webhook_timeout,
            webhook_backoff_max,
            webhook_attempts,
            max_file_size,
            files_quota,
            files_unattached_ttl,
            online_names,
            presence_batch_above,
            files_dir,
            webhooks,
        } = layer;
        let millis = |ms: Option<u64>| ms.map(Duration::from_millis);
        set(&mut self.timeouts.ping_interval, millis(ping_interval));
        set(&mut self.timeouts.ping_timeout, millis(ping_timeout));
        set(&mut self.timeouts.connect, millis(connect_timeout));
        set(&mut self.listen, listen);
        set(&mut self.metrics_listen, metrics_listen.map(Some));
        set(&mut self.database, database);
        set(&mut self.redis, redis.map(Some));
        set(&mut self.jwt_secret, jwt_secret.map(|s| Some(Secret(s))));
        set(&mut self.jwt_leeway_secs, jwt_leeway);
        set(&mut self.auto_create, no_auto_create.map(|no| !no));
        set(&mut self.registration, no_registration.map(|no| !no));
        set(&mut self.session_ttl_secs, session_ttl);
        set(&mut self.socket_buffer, socket_buffer.map(|n| n as usize));
        set(&mut self.max_payload, max_payload.map(|n| n as usize));
        set(&mut self.message_rate, message_rate);
        set(&mut self.message_burst, message_burst);
        set(&mut self.login_attempts, login_attempts);
        set(&mut self.max_connections, max_connections);
        set(&mut self.allowed_origins, allowed_origins);
        set(&mut self.sqlite_sync, sqlite_sync);
        set(&mut self.log_format, log_format);
        set(&mut self.shutdown_timeout_secs, shutdown_timeout);
        set(&mut self.registration_rate, registration_rate);
        set(&mut self.trusted_proxies, trusted_proxies);
        set(&mut self.secure_cookies, secure_cookies);
        set(&mut self.admin_ui_mode, admin_ui_mode);
        set(&mut self.admin_ui_emit, admin_ui_emit);
        set(&mut self.admin_ui_server_id, admin_ui_server_id.map(Some));
        set(&mut self.webhook_timeout, millis(webhook_timeout));
        set(&mut self.webhook_backoff_max, millis(webhook_backoff_max));
        set(&mut self.webhook_attempts, webhook_attempts);
        set(&mut self.max_file_size, max_file_size);
        set(&mut self.files_quota, files_quota);
        set(
            &mut self.files_unattached_ttl,
            files_unattached_ttl.map(Duration::from_secs),
        );
        set(&mut self.online_names, online_names.map(|n| n as usize));
        set(
            &mut self.presence_batch_above,
            presence_batch_above.map(|n| n as usize),
        );
        set(&mut self.files_dir, files_dir.map(Some));
        if let Some(list) = webhooks {
            self.webhooks = webhook_endpoints(&list)?;
        }
        Ok(())
    }

    /// Checks what the file could set out of range (flags are checked by clap).
    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (16..=1_000_000).contains(&self.socket_buffer),
            "socket-buffer must be 16 to 1000000"
        );
        anyhow::ensure!(
            self.max_payload >= 1024,
            "max-payload must be at least 1024 bytes"
        );
        anyhow::ensure!(
            self.message_rate > 0.0 && self.message_rate.is_finite(),
            "message-rate must be a positive number"
        );
        anyhow::ensure!(
            self.jwt_leeway_secs <= 300,
            "jwt-leeway must be 0 to 300 seconds"
        );
        anyhow::ensure!(self.message_burst >= 1, "message-burst must be at least 1");
        anyhow::ensure!(
            self.login_attempts >= 1,
            "login-attempts must be at least 1"
        );
        anyhow::ensure!(
            self.max_connections >= 1,
            "max-connections must be at least 1"
        );
        anyhow::ensure!(
            self.registration_rate >= 1,
            "registration-rate must be at least 1"
        );
        anyhow::ensure!(
            self.max_file_size >= 1024,
            "max-file-size must be at least 1024 bytes"
        );
        anyhow::ensure!(
            self.files_unattached_ttl >= Duration::from_secs(1),
            "files-unattached-ttl must be at least 1 second"
        );
        self.timeouts.validate()
    }
}

/// The `[[webhooks]]` tables as endpoints, each checked, names unique.
fn webhook_endpoints(list: &[WebhookSetting]) -> anyhow::Result<Vec<Endpoint>> {
    let mut endpoints: Vec<Endpoint> = Vec::with_capacity(list.len());
    for w in list {
        let name = match &w.name {
            Some(n) => n.clone(),
            None => reqwest::Url::parse(&w.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
        };
        let endpoint = Endpoint::new(
            &name,
            &w.url,
            &w.secret,
            w.events.as_deref(),
            w.allow_private,
            Origin::File,
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        anyhow::ensure!(
            endpoints.iter().all(|e| e.name != endpoint.name),
            "two [[webhooks]] named {name:?}: give each its own `name`"
        );
        endpoints.push(endpoint);
    }
    Ok(endpoints)
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// Parses a TOML file whose keys are the `serve` flags without `--`.
fn read_file(path: &Path) -> anyhow::Result<ServeArgs> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
}
