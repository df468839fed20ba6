//! The Socket.IO Admin UI's `/admin` namespace (docs/protocol.md §4b), driven
//! as the dashboard drives it, frame by frame over a raw WebSocket; the
//! accounts that may use it made with the real CLI.

use std::collections::VecDeque;
use std::time::Duration;

use roomcast::config::{AdminUiMode, Settings};
use roomcast::wire_client::ws::{self, WsStream};
use serde_json::{Value, json};

use crate::admin::cli;
use crate::helpers::*;
use crate::on_both_backends;

/// The password the tests' admin accounts get.
const ADMIN_PASSWORD: &str = "admin password";

/// Fast stats, so tests wait a fraction of a second for the next ones.
fn quick(s: &mut Settings) {
    s.admin_ui_stats_interval = Duration::from_millis(200);
}

/// A dashboard's connection: Engine.IO over a WebSocket, `/admin` namespace.
pub(crate) struct Dashboard {
    ws: WsStream,
    /// Events read but not yet asked for: (name, arguments).
    pending: VecDeque<(String, Vec<Value>)>,
    next_ack: u64,
}

impl Dashboard {
    /// CONNECT to `/admin` with `auth`; `Err` is the `connect_error` message.
    pub(crate) async fn connect(addr: &str, auth: Value) -> Result<Self, String> {
        Self::connect_with(addr, auth, None).await
    }

    /// The same with an `Origin` header.
    pub(crate) async fn connect_with(
        addr: &str,
        auth: Value,
        origin: Option<&str>,
    ) -> Result<Self, String> {
        let server = addr.parse().expect("address");
        let url = ws::url(server);
        let mut ws = match origin {
            Some(o) => {
                use tokio_tungstenite::tungstenite::client::IntoClientRequest;
                let mut req = url.into_client_request().expect("request");
                req.headers_mut()
                    .insert("origin", o.parse().expect("header value"));
                ws::open(req, server, None).await
            }
            None => ws::open(url, server, None).await,
        }
        .expect("websocket");
        let open = ws::next_text(&mut ws, WAIT).await.expect("open packet");
        assert!(open.starts_with("0{"), "open packet: {open}");
        ws::send(&mut ws, format!("40/admin,{auth}"))
            .await
            .expect("send");
        let answer = ws::next_text(&mut ws, WAIT).await.expect("CONNECT answer");
        if let Some(err) = answer.strip_prefix("44/admin,") {
            let v: Value = serde_json::from_str(err).expect("connect_error json");
            return Err(v["message"].as_str().unwrap_or_default().to_owned());
        }
        assert!(answer.starts_with("40/admin,"), "CONNECT answer: {answer}");
        Ok(Self {
            ws,
            pending: VecDeque::new(),
            next_ack: 1,
        })
    }

    /// Reads one frame: an event goes to `pending`, an ack is returned.
    async fn read(&mut self, deadline: tokio::time::Instant) -> Option<(u64, Value)> {
        let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
        let text = ws::next_text(&mut self.ws, wait)
            .await
            .unwrap_or_else(|e| panic!("dashboard: {e}; pending {:?}", self.pending));
        if let Some(body) = text.strip_prefix("42/admin,") {
            let mut args: Vec<Value> = serde_json::from_str(body).expect("event json");
            let name = args.remove(0).as_str().expect("event name").to_owned();
            self.pending.push_back((name, args));
            return None;
        }
        if let Some(body) = text.strip_prefix("43/admin,") {
            let at = body.find('[').expect("ack arguments");
            let id = body[..at].parse().expect("ack id");
            let args: Vec<Value> = serde_json::from_str(&body[at..]).expect("ack json");
            return Some((id, args.into_iter().next().unwrap_or(Value::Null)));
        }
        panic!("unexpected frame on the dashboard: {text}");
    }

    /// The arguments of the next `event` that `accept` takes.
    pub(crate) async fn next_where(
        &mut self,
        event: &str,
        accept: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(i) = self
                .pending
                .iter()
                .position(|(n, a)| n == event && accept(a))
            {
                return self.pending.remove(i).expect("present").1;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no matching {event} within {WAIT:?}; got {:?}",
                self.pending
            );
            self.read(deadline).await;
        }
    }

    pub(crate) async fn next(&mut self, event: &str) -> Vec<Value> {
        self.next_where(event, |_| true).await
    }

    /// Sends `event(args...)` asking for an ack, and returns the ack.
    pub(crate) async fn call(&mut self, event: &str, args: Value) -> Value {
        let id = self.next_ack;
        self.next_ack += 1;
        let mut frame = vec![json!(event)];
        frame.extend(args.as_array().cloned().expect("argument list"));
        ws::send(&mut self.ws, format!("42/admin,{id}{}", Value::from(frame)))
            .await
            .expect("send");
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some((n, v)) = self.read(deadline).await
                && n == id
            {
                return v;
            }
        }
    }
}

/// A chat socket over a raw WebSocket, with the sid its CONNECT answer gave.
pub(crate) struct Chat {
    pub ws: WsStream,
    pub sid: String,
}

impl Chat {
    pub(crate) async fn connect(addr: &str, sub: &str) -> Self {
        let server = addr.parse().expect("address");
        let mut ws = ws::open(ws::url(server), server, None)
            .await
            .expect("websocket");
        ws::next_text(&mut ws, WAIT).await.expect("open packet");
        let auth = json!({"token": token(sub, None)});
        ws::send(&mut ws, format!("40{auth}")).await.expect("send");
        let answer = ws::next_text(&mut ws, WAIT).await.expect("CONNECT answer");
        let body = answer.strip_prefix("40").expect("connected");
        let v: Value = serde_json::from_str(body).expect("connect json");
        let sid = v["sid"].as_str().expect("sid").to_owned();
        Self { ws, sid }
    }

    /// `join {room}`, asserting it succeeds.
    pub(crate) async fn join(&mut self, room: &str, ack: u64) {
        let frame = format!("42{ack}{}", json!(["join", {"room": room}]));
        let v = ws::call(&mut self.ws, &frame, ack, WAIT)
            .await
            .expect("join ack");
        assert_eq!(v["ok"], true, "join {room}: {v}");
    }

    /// Whether the server ends this socket (a DISCONNECT packet or the
    /// connection closing) within `WAIT`; other frames are skipped.
    pub(crate) async fn ended(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
            match ws::next_text(&mut self.ws, wait).await {
                Ok(t) if t.starts_with("41") => return true,
                Ok(_) => {}
                Err(e) => return !e.starts_with("timed out"),
            }
        }
    }
}

/// Adds `name` as an admin account through `roomcast user add --admin`.
pub(crate) async fn add_admin(app: &TestApp, name: &str) {
    let out = cli(
        app,
        &["user", "add", "--admin", name],
        &format!("{ADMIN_PASSWORD}\n"),
    )
    .await;
    assert!(out.ok, "user add --admin: {}", out.stderr);
}

fn password(name: &str, password: &str) -> Value {
    json!({"username": name, "password": password})
}

/// The dashboard of admin `name`, logged in with the right password.
pub(crate) async fn dashboard(addr: &str, name: &str) -> Dashboard {
    Dashboard::connect(addr, password(name, ADMIN_PASSWORD))
        .await
        .unwrap_or_else(|e| panic!("admin {name} connects: {e}"))
}

fn addr(app: &TestApp) -> String {
    app.addr.to_string()
}

on_both_backends!(
    admin_namespace_refuses_no_credentials_a_wrong_password_and_non_admins,
    an_admin_gets_config_and_server_stats_counting_the_sockets_opened,
    the_disconnect_action_ends_the_named_socket_only,
    join_and_leave_actions_move_a_socket_between_rooms,
    emit_is_refused_unless_the_setting_allows_it,
    promote_and_demote_grant_and_take_away_the_dashboard,
);

async fn admin_namespace_refuses_no_credentials_a_wrong_password_and_non_admins(b: Backend) {
    let app = spawn_app_on(b, quick).await;
    add_admin(&app, "root").await;
    app.register_and_login("ann").await;
    let a = addr(&app);
    let refused = |r: Result<Dashboard, String>| match r {
        Ok(_) => panic!("connected"),
        Err(e) => e,
    };
    assert_eq!(
        refused(Dashboard::connect(&a, json!({})).await),
        "invalid credentials"
    );
    assert_eq!(
        refused(Dashboard::connect(&a, Value::Null).await),
        "invalid credentials"
    );
    assert_eq!(
        refused(Dashboard::connect(&a, password("root", "wrong password")).await),
        "invalid credentials"
    );
    // A real account with its right password, but no admin flag.
    assert_eq!(
        refused(Dashboard::connect(&a, password("ann", "correct horse")).await),
        "invalid credentials"
    );
    assert_eq!(
        refused(Dashboard::connect(&a, password("nobody", ADMIN_PASSWORD)).await),
        "invalid credentials"
    );
    assert_eq!(
        refused(Dashboard::connect(&a, json!({"sessionId": "made up"})).await),
        "invalid credentials"
    );
    // A JWT, even one for the admin's own user id, is not a dashboard login.
    assert_eq!(
        refused(Dashboard::connect(&a, json!({"token": token("acct:root", None)})).await),
        "invalid credentials"
    );
    // The pages' origin rule: another site's page is refused before any check.
    assert_eq!(
        refused(
            Dashboard::connect_with(
                &a,
                password("root", ADMIN_PASSWORD),
                Some("http://evil.example")
            )
            .await
        ),
        "origin not allowed"
    );

    // The admin gets in, and is given a session to come back with.
    let mut d = dashboard(&a, "root").await;
    let session = d.next("session").await;
    let session = session[0].as_str().expect("session id").to_owned();
    let again = Dashboard::connect(&a, json!({"sessionId": session})).await;
    assert!(again.is_ok(), "session login: {:?}", again.err());
    // The dashboard keeps that token where scripts can read it, so it is no
    // chat session cookie; nor is a chat session a dashboard session.
    let as_cookie = app
        .http
        .get(app.url("/api/rooms"))
        .header("cookie", format!("roomcast_session={session}"))
        .send()
        .await
        .expect("GET /api/rooms");
    assert_eq!(as_cookie.status(), 401);
    let (_, cookie) = app.login_with("root", ADMIN_PASSWORD).await;
    let chat_session = cookie.split_once('=').expect("name=value").1;
    assert_eq!(
        refused(Dashboard::connect(&a, json!({"sessionId": chat_session})).await),
        "invalid credentials"
    );
}

async fn an_admin_gets_config_and_server_stats_counting_the_sockets_opened(b: Backend) {
    let app = spawn_app_on(b, quick).await;
    add_admin(&app, "root").await;
    let a = addr(&app);
    // The dashboard first: the tally goes to the dashboards connected when
    // each `server_stats` is sent.
    let mut d = dashboard(&a, "root").await;
    let config = d.next("config").await;
    let features: Vec<&str> = config[0]["supportedFeatures"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        features,
        [
            "JOIN",
            "LEAVE",
            "DISCONNECT",
            "MJOIN",
            "MLEAVE",
            "MDISCONNECT",
            "AGGREGATED_EVENTS"
        ],
        "production mode, emit off"
    );
    // The first stats come at once.
    let first = d.next("server_stats").await;
    assert_eq!(first[0]["clientsCount"], 1, "{}", first[0]);
    assert_eq!(first[0]["pid"], std::process::id());
    let port = format!(":{}", app.addr.port());
    assert!(
        first[0]["serverId"]
            .as_str()
            .is_some_and(|id| id.ends_with(&port)),
        "{}",
        first[0]
    );
    assert!(first[0]["uptime"].as_f64().is_some_and(|u| u >= 0.0));

    let mut chats = Vec::new();
    for (i, sub) in ["u1", "u2", "u3"].into_iter().enumerate() {
        let mut c = Chat::connect(&a, sub).await;
        c.join(&format!("room{i}"), 1).await;
        chats.push(c);
    }
    let poll = TestClient::connect(
        &app.url("/"),
        Connect::token(token("p1", None)).transport(rust_socketio::TransportType::Polling),
    )
    .await
    .expect("polling client");

    // The periodic stats: the counts now, and the tally since the last.
    let (mut connections, mut packets_in) = (0, 0);
    let stats = loop {
        let stats = d.next("server_stats").await;
        tally(&stats, &mut connections, &mut packets_in);
        if stats[0]["clientsCount"] == 5 {
            break stats;
        }
    };
    let s = &stats[0];
    assert_eq!(s["pollingClientsCount"], 1, "{s}");
    assert_eq!(
        s["namespaces"],
        json!([{"name": "/", "socketsCount": 4}, {"name": "/admin", "socketsCount": 1}])
    );
    // 4 chat sockets, and the dashboard's own connection (counted when it
    // was accepted, sent with the next stats).
    let deadline = tokio::time::Instant::now() + WAIT;
    while connections < 5 || packets_in < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "tally: {connections} connections, {packets_in} packets in"
        );
        tally(
            &d.next("server_stats").await,
            &mut connections,
            &mut packets_in,
        );
    }
    assert_eq!((connections, packets_in), (5, 3));

    // A socket that goes is counted out.
    poll.close().await;
    let stats = d
        .next_where("server_stats", |a| a[0]["clientsCount"] == 4)
        .await;
    assert_eq!(stats[0]["pollingClientsCount"], 0);
    drop(chats);
}

/// Adds a `server_stats`'s tally of connections and packets in.
fn tally(stats: &[Value], connections: &mut i64, packets_in: &mut i64) {
    for e in stats[0]["aggregatedEvents"].as_array().expect("events") {
        assert!(
            e["timestamp"].as_i64().is_some_and(|t| t % 1000 == 0),
            "{e}"
        );
        let n = e["count"].as_i64().expect("count");
        match e["type"].as_str() {
            Some("rawConnection") => *connections += n,
            Some("packetsIn") => *packets_in += n,
            _ => {}
        }
    }
}

async fn the_disconnect_action_ends_the_named_socket_only(b: Backend) {
    let app = spawn_app_on(b, |s| {
        quick(s);
        s.admin_ui_mode = AdminUiMode::Development;
    })
    .await;
    add_admin(&app, "root").await;
    let a = addr(&app);
    let mut ann = Chat::connect(&a, "ann").await;
    ann.join("lobby", 1).await;
    let mut bob = Chat::connect(&a, "bob").await;
    bob.join("lobby", 1).await;

    let mut d = dashboard(&a, "root").await;
    // Development mode: every socket, with its user and chat rooms.
    let all = d.next("all_sockets").await;
    let listed = |sid: &str| {
        all[0]
            .as_array()
            .expect("sockets")
            .iter()
            .find(|s| s["id"] == sid)
            .cloned()
            .unwrap_or_else(|| panic!("{sid} not in all_sockets: {}", all[0]))
    };
    let ann_listed = listed(&ann.sid);
    assert_eq!(ann_listed["nsp"], "/");
    assert_eq!(ann_listed["data"]["user"]["id"], "ann");
    assert_eq!(ann_listed["transport"], "websocket");
    assert_eq!(ann_listed["rooms"], json!(["lobby", ann.sid]));
    assert!(ann_listed["handshake"]["headers"].get("cookie").is_none());

    // A malformed action is refused and changes nothing.
    let bad = d.call("_disconnect", json!(["/", "yes", ann.sid])).await;
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["error"], "invalid_payload");
    let none = d
        .call("_disconnect", json!(["/nowhere", false, ann.sid]))
        .await;
    assert_eq!(none["error"], "not_found");

    let done = d.call("_disconnect", json!(["/", false, ann.sid])).await;
    assert_eq!(done["ok"], true, "{done}");
    assert!(ann.ended().await, "ann's socket was not disconnected");
    let gone = d
        .next_where("socket_disconnected", |a| a[1] == ann.sid.as_str())
        .await;
    assert_eq!(gone[0], "/");
    assert_eq!(gone[2], "server namespace disconnect");
    // Bob is still there and served.
    let frame = format!("422{}", json!(["rooms", {}]));
    let v = ws::call(&mut bob.ws, &frame, 2, WAIT)
        .await
        .expect("bob's ack");
    assert_eq!(v["ok"], true);
    let stats = d
        .next_where("server_stats", |a| {
            a[0]["namespaces"][0]["socketsCount"] == 1
        })
        .await;
    assert_eq!(stats[0]["namespaces"][0]["name"], "/");
}

async fn join_and_leave_actions_move_a_socket_between_rooms(b: Backend) {
    let app = spawn_app_on(b, |s| {
        quick(s);
        s.admin_ui_mode = AdminUiMode::Development;
    })
    .await;
    add_admin(&app, "root").await;
    let a = addr(&app);
    let mut ann = Chat::connect(&a, "ann").await;
    ann.join("lobby", 1).await;
    let mut d = dashboard(&a, "root").await;

    // Bookkeeping rooms are not the dashboard's to change.
    let bad = d.call("join", json!(["/", "@id/ann", ann.sid])).await;
    assert_eq!(bad["error"], "invalid_room");

    let done = d.call("join", json!(["/", "vip", ann.sid])).await;
    assert_eq!(done["ok"], true, "{done}");
    let joined = d.next_where("room_joined", |a| a[1] == "vip").await;
    assert_eq!(joined[2], ann.sid.as_str());
    // The socket is in the room: a chat there reaches it.
    let mut bob = TestClient::connect(&app.url("/"), Connect::token(token("bob", None)))
        .await
        .expect("bob");
    bob.join("vip").await;
    bob.chat("vip", "for the vips").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let t = ws::next_text(
            &mut ann.ws,
            deadline.saturating_duration_since(tokio::time::Instant::now()),
        )
        .await
        .expect("ann hears vip");
        if t.starts_with("42") && t.contains("for the vips") {
            break;
        }
    }

    // Leave by room filter: every socket in lobby leaves it.
    let done = d.call("leave", json!(["/", "lobby", "lobby"])).await;
    assert_eq!(done["ok"], true, "{done}");
    let left = d.next_where("room_left", |a| a[1] == "lobby").await;
    assert_eq!(left[2], ann.sid.as_str());
}

async fn emit_is_refused_unless_the_setting_allows_it(b: Backend) {
    for allowed in [false, true] {
        let app = spawn_app_on(b, |s| {
            quick(s);
            s.admin_ui_emit = allowed;
        })
        .await;
        add_admin(&app, "root").await;
        let mut ann = TestClient::connect(&app.url("/"), Connect::token(token("ann", None)))
            .await
            .expect("ann");
        ann.join("lobby").await;
        let mut d = dashboard(&addr(&app), "root").await;
        let config = d.next("config").await;
        let emit_listed = config[0]["supportedFeatures"]
            .as_array()
            .expect("features")
            .contains(&json!("EMIT"));
        assert_eq!(emit_listed, allowed);
        let answer = d
            .call(
                "emit",
                json!(["/", "lobby", "note", {"text": "from the dashboard"}]),
            )
            .await;
        if allowed {
            assert_eq!(answer["ok"], true, "{answer}");
            let note = ann.next("note").await;
            assert_eq!(note["text"], "from the dashboard");
        } else {
            assert_eq!(answer["ok"], false);
            assert_eq!(answer["error"], "forbidden");
            // The server would have emitted before it answered the dashboard;
            // ann's ack, asked for after that answer, comes after it.
            ann.none_before_ack("note").await;
        }
    }
}

async fn promote_and_demote_grant_and_take_away_the_dashboard(b: Backend) {
    let app = spawn_app_on(b, quick).await;
    app.register_and_login("ann").await;
    let a = addr(&app);
    let ann = || password("ann", "correct horse");
    assert!(Dashboard::connect(&a, ann()).await.is_err());

    let out = cli(&app, &["user", "promote", "ann"], "").await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        cli(&app, &["user", "list"], "").await.stdout,
        "acct:ann\tann\tactive\tadmin\n"
    );
    let mut d = Dashboard::connect(&a, ann()).await.expect("promoted ann");
    let session = d.next("session").await[0]
        .as_str()
        .expect("session")
        .to_owned();

    let out = cli(&app, &["user", "demote", "ann"], "").await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        cli(&app, &["user", "list"], "").await.stdout,
        "acct:ann\tann\tactive\n"
    );
    assert_eq!(
        Dashboard::connect(&a, ann()).await.err().as_deref(),
        Some("invalid credentials")
    );
    // The session a dashboard login opened is no way back in either.
    assert_eq!(
        Dashboard::connect(&a, json!({"sessionId": session}))
            .await
            .err()
            .as_deref(),
        Some("invalid credentials")
    );
    // Nobody to promote is an error, not a silent success.
    assert!(!cli(&app, &["user", "promote", "nobody"], "").await.ok);
    assert!(!cli(&app, &["user", "demote", "nobody"], "").await.ok);
}

#[tokio::test]
async fn dashboard_logins_share_the_login_rate_limit() {
    let app = spawn_app_with(|s| {
        quick(s);
        s.login_attempts = 2;
        s.login_window = Duration::from_secs(3600);
    })
    .await;
    add_admin(&app, "root").await;
    let a = addr(&app);
    for _ in 0..2 {
        assert_eq!(
            Dashboard::connect(&a, password("root", "wrong password"))
                .await
                .err()
                .as_deref(),
            Some("invalid credentials")
        );
    }
    // The third attempt within the minute is refused before the password is
    // looked at, the right one included; the HTTP login shares the bucket.
    let third = Dashboard::connect(&a, password("root", ADMIN_PASSWORD)).await;
    assert!(
        third
            .as_ref()
            .err()
            .is_some_and(|e| e.starts_with("too many login attempts")),
        "{:?}",
        third.err()
    );
    let http = app
        .post(
            "/api/login",
            json!({"username": "root", "password": ADMIN_PASSWORD}),
            None,
        )
        .await;
    assert_eq!(http.status(), 429);
}

#[tokio::test]
async fn development_mode_streams_sockets_rooms_and_events() {
    let app = spawn_app_with(|s| {
        quick(s);
        s.admin_ui_mode = AdminUiMode::Development;
    })
    .await;
    add_admin(&app, "root").await;
    let a = addr(&app);
    let mut d = dashboard(&a, "root").await;
    let config = d.next("config").await;
    assert!(
        config[0]["supportedFeatures"]
            .as_array()
            .expect("features")
            .contains(&json!("ALL_EVENTS"))
    );
    let mut ann = Chat::connect(&a, "ann").await;
    let connected = d
        .next_where("socket_connected", |a| a[0]["id"] == ann.sid.as_str())
        .await;
    assert_eq!(connected[0]["data"]["user"]["name"], "ann name");
    assert!(
        connected[1].as_str().is_some_and(|t| t.ends_with('Z')),
        "{connected:?}"
    );
    ann.join("lobby", 1).await;
    let received = d
        .next_where("event_received", |a| a[1] == ann.sid.as_str())
        .await;
    assert_eq!(received[0], "/");
    assert_eq!(received[2], json!(["join", {"room": "lobby"}]));
    let joined = d.next_where("room_joined", |a| a[1] == "lobby").await;
    assert_eq!(joined[2], ann.sid.as_str());
    drop(ann);
    let gone = d.next("socket_disconnected").await;
    assert_eq!(gone[0], "/");
}

#[tokio::test]
async fn the_dashboard_is_served_at_admin_with_its_own_policy() {
    let app = spawn_app_with(quick).await;
    let page = app.get("/admin/", None).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("style-src 'self' 'unsafe-inline'"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    let html = page.text().await.expect("body");
    assert!(html.contains("Socket.IO Admin UI"));
    assert!(!html.contains("https://"), "loads from elsewhere: {html}");
    // Every file the page names is served, with its type.
    let mut named = 0;
    for part in html.split(['"', '\'']) {
        let ty = if part.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else if part.ends_with(".css") {
            "text/css; charset=utf-8"
        } else if part.ends_with(".png") {
            "image/png"
        } else {
            continue;
        };
        let r = app.get(&format!("/admin/{part}"), None).await;
        assert_eq!(r.status(), 200, "{part}");
        assert_eq!(r.headers()["content-type"], ty, "{part}");
        named += 1;
    }
    assert!(named >= 5, "only {named} files named");
    let font = app
        .get("/admin/mdi/fonts/materialdesignicons-webfont.woff2", None)
        .await;
    assert_eq!(font.headers()["content-type"], "font/woff2");
    assert_eq!(app.get("/admin/js/nothing.js", None).await.status(), 404);
    // The bare path sends the browser to the page (its links are relative).
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(app.url("/admin"))
        .send()
        .await
        .expect("GET /admin");
    assert_eq!(bare.status(), 308);
    assert_eq!(bare.headers()["location"], "/admin/");
}

#[tokio::test]
async fn with_the_admin_ui_off_there_is_no_page_and_no_namespace() {
    let app = spawn_app_with(|s| s.admin_ui_mode = AdminUiMode::Off).await;
    add_admin(&app, "root").await;
    assert_eq!(app.get("/admin/", None).await.status(), 404);
    let refused = Dashboard::connect(&addr(&app), password("root", ADMIN_PASSWORD)).await;
    assert_eq!(refused.err().as_deref(), Some("Invalid namespace"));
}

/// Two nodes on PostgreSQL and Redis: a dashboard on one lists both servers
/// with their own counts, and disconnects a socket of the other.
#[tokio::test]
async fn a_dashboard_on_one_node_shows_and_acts_on_every_node() {
    use crate::admin::cli_on;
    use crate::cluster_support::{Node, RedisServer};
    let schema = crate::pg::PgSchema::create().await;
    let redis = RedisServer::start().await;
    let a = Node::start(&schema.url, &redis.url()).await;
    let b = Node::start(&schema.url, &redis.url()).await;
    let out = cli_on(
        &schema.url,
        &["user", "add", "--admin", "root"],
        &format!("{ADMIN_PASSWORD}\n"),
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let mut on_a = Chat::connect(&a.addr, "ann").await;
    on_a.join("lobby", 1).await;
    let mut on_b = Vec::new();
    for sub in ["bob", "cat"] {
        let mut c = Chat::connect(&b.addr, sub).await;
        c.join("lobby", 1).await;
        on_b.push(c);
    }

    let mut d = dashboard(&a.addr, "root").await;
    // Each node's stats name it; node b's reach a dashboard on node a.
    let port = |addr: &str| format!(":{}", addr.rsplit(':').next().expect("port"));
    let (port_a, port_b) = (port(&a.addr), port(&b.addr));
    let sockets_of = |stats: &[Value]| stats[0]["namespaces"][0]["socketsCount"].clone();
    let from = |p: &str| {
        let p = p.to_owned();
        move |s: &[Value]| s[0]["serverId"].as_str().is_some_and(|id| id.ends_with(&p))
    };
    let stats_a = d.next_where("server_stats", from(&port_a)).await;
    let stats_b = d.next_where("server_stats", from(&port_b)).await;
    assert_eq!(sockets_of(&stats_a), 1, "{:?}", stats_a);
    assert_eq!(stats_a[0]["clientsCount"], 2, "ann and the dashboard");
    assert_eq!(sockets_of(&stats_b), 2, "{:?}", stats_b);
    assert_eq!(stats_b[0]["clientsCount"], 2, "bob and cat");
    assert_ne!(stats_a[0]["pid"], stats_b[0]["pid"]);

    // A socket of node b, disconnected from node a's dashboard.
    let victim = on_b[0].sid.clone();
    let done = d.call("_disconnect", json!(["/", false, victim])).await;
    assert_eq!(done["ok"], true, "{done}");
    assert!(
        on_b[0].ended().await,
        "bob's socket on node b was not disconnected"
    );
    let after = d
        .next_where("server_stats", move |s| {
            from(&port_b)(s) && s[0]["namespaces"][0]["socketsCount"] == 1
        })
        .await;
    assert_eq!(after[0]["clientsCount"], 1);
    // Cat, on the same node, is still served.
    let frame = format!("422{}", json!(["rooms", {}]));
    let v = ws::call(&mut on_b[1].ws, &frame, 2, WAIT)
        .await
        .expect("cat's ack");
    assert_eq!(v["ok"], true);
    drop(on_a);
}
