//! `spawn_app()` and a typed Socket.IO test client.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::FutureExt;
use jsonwebtoken::{EncodingKey, Header, encode};
use roomcast::config::{Secret, Settings};
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload, TransportType};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::{mpsc, oneshot};

use crate::pg::PgSchema;

pub const SECRET: &str = "test-secret-of-a-reasonable-length";
/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    /// The SQLite file (unused on PostgreSQL).
    pub db_path: std::path::PathBuf,
    _dir: TempDir,
    _schema: Option<PgSchema>,
}

/// Which store a test's server runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(Backend)` as two tests, `on_sqlite::NAME` and
/// `on_postgres::NAME`: the contract holds on both stores.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::helpers::Backend::Sqlite).await
            })*
        }
        mod on_postgres {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::helpers::Backend::Postgres).await
            })*
        }
    };
}

/// Boots the real server on port 0 with a fresh SQLite file.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(Backend::Sqlite, configure).await
}

/// Boots the real server on port 0 with a fresh SQLite file or PostgreSQL schema.
pub async fn spawn_app_on(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("test.db");
    let schema = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PgSchema::create().await),
    };
    let url = match &schema {
        Some(s) => s.url.clone(),
        None => format!("sqlite://{}", db_path.display()),
    };
    let mut settings = Settings::new(url);
    settings.listen = "127.0.0.1:0".parse().expect("addr");
    settings.jwt_secret = Some(Secret(SECRET.into()));
    // Tests that are not about limits send bursts and log in often; the
    // tests in limits.rs set their own.
    settings.message_rate = 1e9;
    settings.message_burst = 1_000_000;
    settings.login_attempts = 10_000;
    settings.registration_rate = 1_000_000;
    settings.max_connections = 10_000;
    configure(&mut settings);
    let app = roomcast::app::build(settings).await.expect("build app");
    let addr = app.local_addr().expect("bound address");
    tokio::spawn(app.run());
    TestApp {
        addr,
        http: reqwest::Client::new(),
        db_path,
        _dir: dir,
        _schema: schema,
    }
}

/// A client whose requests come from `ip` (any 127.x address reaches the server).
pub fn client_from(ip: [u8; 4]) -> reqwest::Client {
    use std::net::{IpAddr, Ipv4Addr};
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::from(ip)))
        .build()
        .expect("client")
}

/// A JWT signed with the test secret, valid for an hour.
pub fn token(sub: &str, rooms: Option<&[&str]>) -> String {
    let mut claims = json!({"sub": sub, "name": format!("{sub} name"), "exp": now() + 3600});
    if let Some(rooms) = rooms {
        claims["rooms"] = json!(rooms);
    }
    sign(&claims, SECRET)
}

pub fn sign(claims: &Value, secret: &str) -> String {
    let key = EncodingKey::from_secret(secret.as_bytes()).expect("key");
    encode(&Header::default(), claims, &key).expect("sign")
}

pub fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// How a test client connects.
#[derive(Clone)]
pub struct Connect {
    pub auth: Option<Value>,
    pub cookie: Option<String>,
    pub transport: TransportType,
}

impl Connect {
    pub fn token(token: String) -> Self {
        Self {
            auth: Some(json!({"token": token})),
            cookie: None,
            transport: TransportType::Websocket,
        }
    }

    pub fn transport(mut self, t: TransportType) -> Self {
        self.transport = t;
        self
    }
}

impl TestApp {
    /// The `--database` URL of the app's store (for the CLI).
    pub fn database_url(&self) -> String {
        match &self._schema {
            Some(schema) => schema.url.clone(),
            None => format!("sqlite://{}", self.db_path.display()),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Makes the app user `sub` (a JWT subject) known to the server, as
    /// its first connect or request does: only known users may be invited.
    pub async fn seen(&self, sub: &str) {
        let r = self.get("/api/rooms", Some(&token(sub, None))).await;
        assert_eq!(r.status(), 200, "{sub}'s first request");
    }

    /// A connected client for user `sub` (JWT auth, WebSocket).
    pub async fn client(&self, sub: &str) -> TestClient {
        self.connect(Connect::token(token(sub, None)))
            .await
            .expect("connect")
    }

    /// Connects; `Err` carries the `connect_error` message.
    pub async fn connect(&self, how: Connect) -> Result<TestClient, String> {
        TestClient::connect(&format!("http://{}/", self.addr), how).await
    }

    /// The private room `name`, made over HTTP by the app user `owner`,
    /// who is then connected (not joined): their token and socket.
    pub async fn private_room(&self, name: &str, owner: &str) -> (String, TestClient) {
        let token = token(owner, None);
        let r = self
            .post(
                "/api/rooms",
                json!({"name": name, "visibility": "private"}),
                Some(&token),
            )
            .await;
        assert_eq!(r.status(), 201, "create {name}");
        let socket = self
            .connect(Connect::token(token.clone()))
            .await
            .expect(owner);
        (token, socket)
    }

    pub async fn post(&self, path: &str, body: Value, bearer: Option<&str>) -> reqwest::Response {
        let mut req = self.http.post(self.url(path)).json(&body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("http request")
    }

    pub async fn patch(&self, path: &str, body: Value, bearer: Option<&str>) -> reqwest::Response {
        let mut req = self.http.patch(self.url(path)).json(&body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("http request")
    }

    pub async fn put(&self, path: &str, body: Value, bearer: Option<&str>) -> reqwest::Response {
        let mut req = self.http.put(self.url(path)).json(&body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("http request")
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("http request")
    }

    pub async fn delete(&self, path: &str, bearer: Option<&str>) -> reqwest::Response {
        let mut req = self.http.delete(self.url(path));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("http request")
    }

    /// Registers and logs in `username`; returns (token, session cookie pair).
    pub async fn register_and_login(&self, username: &str) -> (String, String) {
        let creds = json!({"username": username, "password": "correct horse"});
        let r = self.post("/api/register", creds, None).await;
        assert_eq!(r.status(), 201, "register {username}");
        self.login(username).await
    }

    /// Logs in `username` (password "correct horse"); returns (token, session cookie pair).
    pub async fn login(&self, username: &str) -> (String, String) {
        self.login_with(username, "correct horse").await
    }

    /// Logs in `username` with `password`; returns (token, session cookie pair).
    pub async fn login_with(&self, username: &str, password: &str) -> (String, String) {
        let creds = json!({"username": username, "password": password});
        let r = self.post("/api/login", creds, None).await;
        assert_eq!(r.status(), 200, "login {username}");
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("session cookie")
            .to_owned();
        let body: Value = r.json().await.expect("json");
        (body["token"].as_str().expect("token").to_owned(), cookie)
    }
}

/// A Socket.IO client that records every event it receives.
pub struct TestClient {
    pub sio: Client,
    events: mpsc::UnboundedReceiver<(String, Value)>,
    pending: VecDeque<(String, Value)>,
}

impl TestClient {
    pub async fn connect(url: &str, how: Connect) -> Result<Self, String> {
        let (ev_tx, events) = mpsc::unbounded_channel();
        let (conn_tx, conn_rx) = oneshot::channel::<Result<(), String>>();
        let conn_tx = std::sync::Arc::new(std::sync::Mutex::new(Some(conn_tx)));
        let settle = move |r: Result<(), String>| {
            if let Some(tx) = conn_tx.lock().expect("lock").take() {
                let _ = tx.send(r);
            }
        };
        let on_connect = settle.clone();
        let on_error = settle;
        let mut builder = ClientBuilder::new(url)
            .transport_type(how.transport)
            .reconnect(false)
            .on(Event::Connect, move |_, _| {
                on_connect(Ok(()));
                async {}.boxed()
            })
            .on(Event::Error, move |payload, _| {
                if let Payload::Text(v) = payload {
                    let msg = match v.first() {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                        None => String::new(),
                    };
                    on_error(Err(msg));
                }
                async {}.boxed()
            })
            .on_any(move |event, payload, _| {
                if let (Event::Custom(name), Payload::Text(mut args)) = (event, payload) {
                    let first = if args.is_empty() {
                        Value::Null
                    } else {
                        args.remove(0)
                    };
                    let _ = ev_tx.send((name, first));
                }
                async {}.boxed()
            });
        if let Some(auth) = how.auth {
            builder = builder.auth(auth);
        }
        if let Some(cookie) = how.cookie {
            builder = builder.opening_header("Cookie", cookie);
        }
        let sio = builder.connect().await.map_err(|e| e.to_string())?;
        match tokio::time::timeout(WAIT, conn_rx).await {
            Ok(Ok(Ok(()))) => Ok(Self {
                sio,
                events,
                pending: VecDeque::new(),
            }),
            Ok(Ok(Err(msg))) => Err(msg),
            _ => Err("no answer to CONNECT".into()),
        }
    }

    /// Emits `event` with one argument and returns the ack's first argument.
    pub async fn ack(&self, event: &str, payload: Value) -> Value {
        self.ack_raw(event, Payload::Text(vec![payload])).await
    }

    /// Emits with any argument list (including none) and returns the ack.
    pub async fn ack_raw(&self, event: &str, payload: Payload) -> Value {
        let (tx, rx) = oneshot::channel();
        let tx = std::sync::Arc::new(std::sync::Mutex::new(Some(tx)));
        self.sio
            .emit_with_ack(event, payload, WAIT, move |p, _| {
                let tx = tx.clone();
                async move {
                    if let (Payload::Text(v), Some(tx)) = (p, tx.lock().expect("lock").take()) {
                        // The ack's argument list arrives as one JSON array.
                        let first = match v.into_iter().next() {
                            Some(Value::Array(args)) => args.into_iter().next(),
                            other => other,
                        };
                        let _ = tx.send(first.unwrap_or(Value::Null));
                    }
                }
                .boxed()
            })
            .await
            .expect("emit");
        tokio::time::timeout(WAIT, rx)
            .await
            .unwrap_or_else(|_| panic!("no ack for {event}"))
            .expect("ack sender dropped")
    }

    /// Emits without asking for an ack.
    pub async fn emit(&self, event: &str, payload: Value) {
        self.sio.emit(event, payload).await.expect("emit");
    }

    /// `join` and assert it succeeded; returns the ack.
    pub async fn join(&mut self, room: &str) -> Value {
        let ack = self.ack("join", json!({"room": room})).await;
        assert_eq!(ack["ok"], true, "join {room}: {ack}");
        ack
    }

    /// `chat` and assert it succeeded; returns the ack.
    pub async fn chat(&self, room: &str, message: &str) -> Value {
        let ack = self
            .ack("chat", json!({"room": room, "message": message}))
            .await;
        assert_eq!(ack["ok"], true, "chat to {room}: {ack}");
        ack
    }

    /// The next `event` received (others stay queued for later calls).
    pub async fn next(&mut self, event: &str) -> Value {
        if let Some(i) = self.pending.iter().position(|(n, _)| n == event) {
            return self.pending.remove(i).map(|(_, v)| v).expect("present");
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some((name, v))) if name == event => return v,
                Ok(Some(other)) => self.pending.push_back(other),
                _ => panic!("no {event} event within {WAIT:?}; got {:?}", self.pending),
            }
        }
    }

    /// The next event named any of `events`, in arrival order (others stay
    /// queued for later calls).
    pub async fn next_of(&mut self, events: &[&str]) -> (String, Value) {
        if let Some(i) = self
            .pending
            .iter()
            .position(|(n, _)| events.contains(&n.as_str()))
        {
            return self.pending.remove(i).expect("present");
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some((name, v))) if events.contains(&name.as_str()) => return (name, v),
                Ok(Some(other)) => self.pending.push_back(other),
                _ => panic!("none of {events:?} within {WAIT:?}; got {:?}", self.pending),
            }
        }
    }

    /// Receives until the first `barrier` event that `is_barrier` accepts
    /// (and returns it), asserting that no `event` arrived before it.
    ///
    /// A barrier, not a wait: the server writes to one socket in the order it
    /// emits, so when the barrier is emitted after the forbidden event would
    /// have been, its arrival proves the forbidden one never came. Each caller
    /// says why its barrier comes after. Other events before the barrier stay
    /// queued for [`TestClient::next`].
    pub async fn none_before(
        &mut self,
        event: &str,
        barrier: &str,
        is_barrier: impl Fn(&Value) -> bool,
    ) -> Value {
        let at = |p: &VecDeque<(String, Value)>| {
            p.iter().position(|(n, v)| n == barrier && is_barrier(v))
        };
        let deadline = tokio::time::Instant::now() + WAIT;
        let i = loop {
            if let Some(i) = at(&self.pending) {
                break i;
            }
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(item)) => self.pending.push_back(item),
                _ => panic!(
                    "no {barrier} barrier within {WAIT:?}; got {:?}",
                    self.pending
                ),
            }
        };
        let got: Vec<_> = self
            .pending
            .range(..i)
            .filter(|(n, _)| n == event)
            .collect();
        assert!(
            got.is_empty(),
            "unexpected {event} before the {barrier} barrier: {got:?}"
        );
        self.pending
            .remove(i)
            .map(|(_, v)| v)
            .expect("barrier present")
    }

    /// Round-trips a `rooms` request and asserts that no `event` arrived
    /// before its ack.
    ///
    /// The barrier is the ack: the server writes events and acks to one
    /// socket in the order it emits them, and rust_socketio hands them to
    /// this client in arrival order (the ack's callback runs after the event
    /// callbacks of every packet before it). So this proves nothing was sent
    /// to this socket before the server answered; the caller says why the
    /// forbidden event would have been emitted by then.
    pub async fn none_before_ack(&mut self, event: &str) {
        let ack = self.ack("rooms", json!({})).await;
        assert_eq!(ack["ok"], true, "rooms (the barrier): {ack}");
        let got = self.drain(event);
        assert!(
            got.is_empty(),
            "unexpected {event} before the ack barrier: {got:?}"
        );
    }

    /// Every `event` already received, without waiting (others stay queued).
    pub fn drain(&mut self, event: &str) -> Vec<Value> {
        while let Ok(item) = self.events.try_recv() {
            self.pending.push_back(item);
        }
        let (hit, rest): (VecDeque<_>, VecDeque<_>) =
            self.pending.drain(..).partition(|(n, _)| n == event);
        self.pending = rest;
        hit.into_iter().map(|(_, v)| v).collect()
    }

    pub async fn close(self) {
        let _ = self.sio.disconnect().await;
    }
}

/// Sends SIGTERM to a child process (as `kill` or a service manager would).
pub fn sigterm(child: &tokio::process::Child) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let pid = child.id().expect("child still running");
    let pid = Pid::from_raw(i32::try_from(pid).expect("pid fits"));
    kill(pid, Signal::SIGTERM).expect("SIGTERM");
}

/// A command for the real `roomcast` binary: stdout piped (for the address
/// line), stderr discarded (override it to read logs), killed when dropped.
pub fn roomcast_command() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_roomcast"));
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Spawns `cmd` (see [`roomcast_command`]) and waits for the address it
/// prints on start: `roomcast listening on http://ADDR`.
pub async fn start_roomcast(cmd: &mut tokio::process::Command) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = cmd.spawn().expect("start roomcast");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    tokio::time::timeout(WAIT, tokio::io::BufReader::new(stdout).read_line(&mut line))
        .await
        .expect("roomcast printed its address")
        .expect("read stdout");
    let addr = line
        .trim()
        .strip_prefix("roomcast listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, addr)
}
