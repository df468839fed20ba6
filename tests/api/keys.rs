//! API keys (`roomcast key`, docs/protocol.md §2) and app users known from
//! their first connect (`roomcast user disable --app`), on the real binary
//! against running servers.

use roomcast::wire_client::ws::{self, WsStream};
use serde_json::{Value, json};

use crate::admin::{cli, cli_on};
use crate::auth::{SESSION_ENDED, refused_with};
use crate::cluster_support::Cluster;
use crate::helpers::*;
use crate::on_both_backends;

const KEY_REVOKED: &str = "unauthorized: unknown or revoked key";

/// `roomcast key create ARGS` on `database`; returns the printed key.
pub(crate) async fn create_key(database: &str, args: &[&str]) -> String {
    let mut all = vec!["key", "create"];
    all.extend_from_slice(args);
    let out = cli_on(database, &all, "").await;
    assert!(out.ok, "key create {args:?}: {}", out.stderr);
    let key = out.stdout.trim().to_owned();
    assert!(key.starts_with("rc_") && key.len() > 40, "{key}");
    key
}

/// A socket connected with `{token: key}` over a raw WebSocket, to see the
/// server end it.
struct KeySock(WsStream);

impl KeySock {
    async fn connect(addr: &str, key: &str) -> Self {
        Self::connect_with(addr, json!({ "token": key })).await
    }

    /// Connects with the CONNECT `auth` given.
    async fn connect_with(addr: &str, auth: Value) -> Self {
        let server = addr.parse().expect("address");
        let mut ws = ws::open(ws::url(server), server, None)
            .await
            .expect("websocket");
        ws::next_text(&mut ws, WAIT).await.expect("open packet");
        ws::send(&mut ws, format!("40{auth}")).await.expect("send");
        let answer = ws::next_text(&mut ws, WAIT).await.expect("CONNECT answer");
        assert!(answer.starts_with("40{\"sid\""), "connected: {answer}");
        Self(ws)
    }

    /// Whether the server ends the socket (DISCONNECT or close) within `WAIT`.
    async fn ended(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
            match ws::next_text(&mut self.0, wait).await {
                Ok(t) if t.starts_with("41") => return true,
                Ok(_) => {}
                Err(e) => return !e.starts_with("timed out"),
            }
        }
    }
}

async fn post_as(
    app: &TestApp,
    path: &str,
    body: Value,
    key: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app.http.post(app.url(path)).bearer_auth(key).json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

async fn a_jwt_user_disabled_after_connecting_is_refused_next_time(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let first = app.client("u42").await;
    first.close().await;
    let out = cli(&app, &["user", "list"], "").await;
    assert!(
        out.stdout.contains("u42\tu42 name\tactive\tapp\n"),
        "{}",
        out.stdout
    );
    let out = cli(&app, &["user", "disable", "--app", "u42"], "").await;
    assert!(out.ok, "{}", out.stderr);
    refused_with(
        app.connect(Connect::token(token("u42", None))).await,
        SESSION_ENDED,
    );
    let r = app.get("/api/rooms", Some(&token("u42", None))).await;
    assert_eq!(r.status(), 401);
    // Others are untouched; a sub disabled before it ever connected is
    // refused from its first connect.
    app.client("u43").await;
    assert!(cli(&app, &["user", "disable", "--app", "u44"], "").await.ok);
    refused_with(
        app.connect(Connect::token(token("u44", None))).await,
        SESSION_ENDED,
    );
    assert!(cli(&app, &["user", "enable", "--app", "u42"], "").await.ok);
    app.client("u42").await;
    let out = cli(&app, &["user", "enable", "--app", "never-seen"], "").await;
    assert!(
        !out.ok && out.stderr.contains("no app user never-seen"),
        "{}",
        out.stderr
    );
    let out = cli(&app, &["user", "disable", "--app", "acct:ann"], "").await;
    assert!(!out.ok, "an account is not an app user");
}

async fn a_key_acts_as_its_bot_on_sockets_and_http(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let key = create_key(&app.database_url(), &["--name", "deploy-bot"]).await;
    let mut listener = app.client("ann").await;
    listener.join("general").await;
    let mut bot = app
        .connect(Connect::token(key.clone()))
        .await
        .expect("a key connects");
    bot.join("general").await;
    let bot_user = json!({"id": "bot:deploy-bot", "name": "deploy-bot", "bot": true});
    let own = listener.next("join").await;
    assert_eq!(own["user"]["id"], "ann", "the listener's own join first");
    let joined = listener.next("join").await;
    assert_eq!(joined["user"], bot_user);
    assert_eq!(bot.chat("general", "from the socket").await["ok"], true);
    let msg = listener.next("chat").await;
    assert_eq!(
        (&msg["user"], &msg["message"]),
        (&bot_user, &json!("from the socket"))
    );
    let r = post_as(
        &app,
        "/api/rooms/general/messages",
        json!({"message": "over http"}),
        &key,
        &[],
    )
    .await;
    assert_eq!(r.status(), 201);
    let stored: Value = r.json().await.expect("json");
    assert_eq!(stored["user"], bot_user);
    let msg = listener.next("chat").await;
    assert_eq!(msg["user"], bot_user);
    // History shows it as a bot's too (from the stored user id).
    let h = listener.ack("history", json!({"room": "general"})).await;
    assert!(
        h["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .all(|m| m["user"] == bot_user),
        "{h}"
    );
    // A person is no bot; no JWT can name a bot.
    assert_eq!(listener.chat("general", "hi").await["ok"], true);
    assert!(listener.next("chat").await["user"].get("bot").is_none());
    refused_with(
        app.connect(Connect::token(token("bot:deploy-bot", None)))
            .await,
        "unauthorized: invalid token",
    );
    let list = cli(&app, &["key", "list"], "").await;
    assert!(
        list.stdout
            .starts_with("deploy-bot\tbot:deploy-bot\t*\trooms\tlast used "),
        "{}",
        list.stdout
    );
    let taken = cli(&app, &["key", "create", "--name", "deploy-bot"], "").await;
    assert!(
        !taken.ok && taken.stderr.contains("exists"),
        "{}",
        taken.stderr
    );
}

async fn a_key_limited_to_a_room_cannot_act_elsewhere(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    // A private room of an app user, which the key is given.
    let olga = token("olga", None);
    let r = app
        .post(
            "/api/rooms",
            json!({"name": "ops", "visibility": "private"}),
            Some(&olga),
        )
        .await;
    assert_eq!(r.status(), 201);
    let key = create_key(
        &app.database_url(),
        &["--name", "ops-bot", "--rooms", "ops"],
    )
    .await;
    let bot = app
        .connect(Connect::token(key.clone()))
        .await
        .expect("connects");
    let mut ann = app.client("ann").await;
    ann.join("general").await;
    assert_eq!(bot.ack("join", json!({"room": "ops"})).await["ok"], true);
    let elsewhere = bot.ack("join", json!({"room": "general"})).await;
    assert_eq!(elsewhere["error"], "forbidden", "{elsewhere}");
    // A room nobody made is not auto-created for it either.
    let fresh = bot.ack("join", json!({"room": "fresh"})).await;
    assert_eq!(fresh["error"], "forbidden", "{fresh}");
    let r = app.get("/api/rooms/fresh/messages", Some(&olga)).await;
    assert_eq!(r.status(), 404, "the refused join made no room");
    let not_in = bot
        .ack("chat", json!({"room": "general", "message": "x"}))
        .await;
    assert_eq!(not_in["error"], "not_in_room");
    let rooms = bot.ack("rooms", json!({})).await;
    let names: Vec<&str> = rooms["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["ops"]);
    for path in ["/api/rooms/general/messages", "/api/rooms/general/events"] {
        let r = post_as(&app, path, json!({"message": "x", "type": "t"}), &key, &[]).await;
        assert_eq!(r.status(), 403, "{path}");
    }
    let r = post_as(&app, "/api/rooms", json!({"name": "new-room"}), &key, &[]).await;
    assert_eq!(r.status(), 403);
    let r = post_as(
        &app,
        "/api/rooms/ops/messages",
        json!({"message": "in ops"}),
        &key,
        &[],
    )
    .await;
    assert_eq!(r.status(), 201);
    // Nothing reached general: Ann's own chat is the first there.
    ann.chat("general", "barrier").await;
    let first = ann
        .none_before("chat", "chat", |m| m["message"] == "barrier")
        .await;
    assert_eq!(first["user"]["id"], "ann");
}

async fn a_revoked_key_is_refused_at_once(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let key = create_key(&app.database_url(), &["--name", "gone-bot"]).await;
    let other = create_key(&app.database_url(), &["--name", "kept-bot"]).await;
    let addr = app.addr.to_string();
    let mut socks = [
        KeySock::connect(&addr, &key).await,
        KeySock::connect(&addr, &key).await,
    ];
    let r = app.get("/api/rooms", Some(&key)).await;
    assert_eq!(r.status(), 200);
    let out = cli(&app, &["key", "revoke", "gone-bot"], "").await;
    assert!(out.ok, "{}", out.stderr);
    let r = app.get("/api/rooms", Some(&key)).await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["message"], KEY_REVOKED);
    refused_with(app.connect(Connect::token(key.clone())).await, KEY_REVOKED);
    for s in socks.iter_mut() {
        assert!(s.ended().await, "a revoked key's socket stays connected");
    }
    // The other key still works.
    let mut kept = app.connect(Connect::token(other)).await.expect("kept key");
    assert_eq!(kept.join("general").await["ok"], true);
    let again = cli(&app, &["key", "revoke", "gone-bot"], "").await;
    assert!(!again.ok && again.stderr.contains("no key gone-bot"));
    refused_with(
        app.connect(Connect::token("rc_made-up".into())).await,
        KEY_REVOKED,
    );
}

/// The bot of a key is someone a private room's owner may invite, until the
/// key is revoked; the invited bot then posts there.
async fn a_private_rooms_owner_invites_a_bot_while_its_key_lives(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let key = create_key(&app.database_url(), &["--name", "helper-bot"]).await;
    let owner = token("olga", None);
    let r = app
        .post(
            "/api/rooms",
            json!({"name": "ops", "visibility": "private"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status(), 201);
    let invite = |user: &'static str| {
        app.post(
            "/api/rooms/ops/members",
            json!({ "user": user }),
            Some(&owner),
        )
    };
    assert_eq!(invite("bot:helper-bot").await.status(), 201);
    assert_eq!(invite("bot:no-such-bot").await.status(), 404);
    let r = post_as(
        &app,
        "/api/rooms/ops/messages",
        json!({"message": "reporting in"}),
        &key,
        &[],
    )
    .await;
    assert_eq!(r.status(), 201, "the invited bot posts");
    let out = cli(&app, &["key", "revoke", "helper-bot"], "").await;
    assert!(out.ok, "{}", out.stderr);
    let r = app
        .delete("/api/rooms/ops/members/bot:helper-bot", Some(&owner))
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(invite("bot:helper-bot").await.status(), 404, "revoked");
}

async fn a_server_key_acts_as_any_user(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let server = create_key(&app.database_url(), &["--name", "backend", "--server"]).await;
    let plain = create_key(&app.database_url(), &["--name", "plain"]).await;
    let mut ann = app.client("ann").await;
    ann.join("general").await;
    let as_u7 = [("x-roomcast-as", "u7"), ("x-roomcast-as-name", "Ann Seven")];
    let r = post_as(
        &app,
        "/api/rooms/general/messages",
        json!({"message": "as u7"}),
        &server,
        &as_u7,
    )
    .await;
    assert_eq!(r.status(), 201);
    let msg = ann.next("chat").await;
    assert_eq!(
        msg["user"],
        json!({"id": "u7", "name": "Ann Seven"}),
        "{msg}"
    );
    let r = post_as(
        &app,
        "/api/rooms/general/messages",
        json!({"message": "x"}),
        &plain,
        &as_u7,
    )
    .await;
    assert_eq!(r.status(), 403, "only a server key may act as another user");
    // Rooms and members of the user's backend: a private room owned by u7,
    // a member invited by u7.
    let r = post_as(
        &app,
        "/api/rooms",
        json!({"name": "u7-team", "visibility": "private"}),
        &server,
        &as_u7,
    )
    .await;
    assert_eq!(r.status(), 201);
    let room: Value = r.json().await.expect("json");
    assert_eq!(room["owner"], "u7");
    let r = post_as(
        &app,
        "/api/rooms/u7-team/members",
        json!({"user": "ann"}),
        &server,
        &as_u7,
    )
    .await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        ann.ack("join", json!({"room": "u7-team"})).await["ok"],
        true
    );
    // A disabled app user cannot be acted as; nor a bot.
    assert!(cli(&app, &["user", "disable", "--app", "u8"], "").await.ok);
    let r = post_as(
        &app,
        "/api/rooms/general/messages",
        json!({"message": "x"}),
        &server,
        &[("x-roomcast-as", "u8")],
    )
    .await;
    assert_eq!(r.status(), 401);
    let r = post_as(
        &app,
        "/api/rooms/general/messages",
        json!({"message": "x"}),
        &server,
        &[("x-roomcast-as", "bot:plain")],
    )
    .await;
    assert_eq!(r.status(), 400);
}

/// A server key's socket with `as` is that user's, as `X-Roomcast-As` is
/// over HTTP; `as` with anything else is refused at CONNECT.
async fn a_server_keys_socket_acts_as_the_user_it_names(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let server = create_key(&app.database_url(), &["--name", "backend", "--server"]).await;
    let plain = create_key(&app.database_url(), &["--name", "plain"]).await;
    let mut ann = app.client("ann").await;
    ann.join("general").await;
    let as_u7 = |key: &str| Connect {
        auth: Some(json!({"token": key, "as": "u7", "asName": "Ann Seven"})),
        ..Connect::token(String::new())
    };
    let mut u7 = app.connect(as_u7(&server)).await.expect("connects as u7");
    u7.join("general").await;
    let ack = u7.chat("general", "from the backend").await;
    assert_eq!(ack["ok"], true, "{ack}");
    let msg = ann.next("chat").await;
    assert_eq!(
        msg["user"],
        json!({"id": "u7", "name": "Ann Seven"}),
        "{msg}"
    );
    refused_with(
        app.connect(as_u7(&plain)).await,
        "only a server key may act as another user",
    );
    refused_with(
        app.connect(Connect {
            auth: Some(json!({"token": token("ann", None), "as": "u7"})),
            ..Connect::token(String::new())
        })
        .await,
        "only a server key may act as another user",
    );
    for bad in [json!("bot:plain"), json!(7), json!("")] {
        let r = app
            .connect(Connect {
                auth: Some(json!({"token": server, "as": bad})),
                ..Connect::token(String::new())
            })
            .await;
        assert!(
            r.as_ref()
                .err()
                .is_some_and(|e| e.contains("must be a user id")),
            "as {bad}: {:?}",
            r.err()
        );
    }
    refused_with(
        app.connect(Connect {
            auth: Some(json!({"token": server, "as": "acct:nobody"})),
            ..Connect::token(String::new())
        })
        .await,
        "no user acct:nobody",
    );
    // Revoking the key ends the sockets acting through it.
    let mut raw =
        KeySock::connect_with(&app.addr.to_string(), json!({"token": server, "as": "u7"})).await;
    assert!(cli(&app, &["key", "revoke", "backend"], "").await.ok);
    assert!(
        raw.ended().await,
        "a revoked key's `as` socket is disconnected"
    );
}

/// New users connecting at the same moment share a transaction
/// (`auth::newcomers`); each is recorded before its connect is accepted,
/// and one disabled among them is refused from its first connect.
async fn many_first_connects_at_once_are_each_recorded(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    assert!(cli(&app, &["user", "disable", "--app", "n7"], "").await.ok);
    // n3 and n5 twice: the same user twice in one batch is one row.
    let subs: Vec<usize> = (0..40).chain([3, 5]).collect();
    let connects = subs
        .iter()
        .map(|i| app.connect(Connect::token(token(&format!("n{i}"), None))));
    let results = futures_util::future::join_all(connects).await;
    for (i, r) in subs.iter().zip(&results) {
        match (i, r) {
            (7, Err(e)) => assert!(e.contains("session ended"), "{e}"),
            (7, Ok(_)) => panic!("n7 is disabled"),
            (_, Err(e)) => panic!("n{i}: {e}"),
            (_, Ok(_)) => {}
        }
    }
    let out = cli(&app, &["user", "list"], "").await;
    for i in (0..40).filter(|i| *i != 7) {
        assert!(
            out.stdout
                .contains(&format!("n{i}\tn{i} name\tactive\tapp\n")),
            "n{i}: {}",
            out.stdout
        );
    }
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("n7\t") && l.ends_with("\tdisabled\tapp")),
        "{}",
        out.stdout
    );
}

on_both_backends!(
    many_first_connects_at_once_are_each_recorded,
    a_jwt_user_disabled_after_connecting_is_refused_next_time,
    a_key_acts_as_its_bot_on_sockets_and_http,
    a_key_limited_to_a_room_cannot_act_elsewhere,
    a_revoked_key_is_refused_at_once,
    a_private_rooms_owner_invites_a_bot_while_its_key_lives,
    a_server_key_acts_as_any_user,
    a_server_keys_socket_acts_as_the_user_it_names,
);

#[tokio::test]
async fn a_revoked_keys_sockets_are_disconnected_on_every_node() {
    let cluster = Cluster::start(2).await;
    let key = create_key(cluster.database(), &["--name", "roaming"]).await;
    let mut socks = Vec::new();
    for node in &cluster.nodes {
        socks.push(KeySock::connect(&node.addr, &key).await);
    }
    let out = cli_on(cluster.database(), &["key", "revoke", "roaming"], "").await;
    assert!(out.ok, "{}", out.stderr);
    for (i, s) in socks.iter_mut().enumerate() {
        assert!(s.ended().await, "node {i} kept the revoked key's socket");
    }
}

/// In Chromium (`tests/browser/bots.cjs`): a bot's post shows its BOT
/// badge, a server key's post as Ann shows as Ann's own, with no badge, and
/// the bot's socket in the room has the badge in the people list.
#[tokio::test]
async fn the_page_shows_a_bots_post_with_a_badge_and_a_server_keys_post_as_its_user() {
    let app = spawn_app().await;
    let bot = create_key(&app.database_url(), &["--name", "deploy-bot"]).await;
    let server = create_key(&app.database_url(), &["--name", "backend", "--server"]).await;
    // The bot is online in the room, for the page's people list.
    let mut bot_socket = app
        .connect(Connect::token(bot.clone()))
        .await
        .expect("the bot connects");
    bot_socket.join("ops").await;
    let root = env!("CARGO_MANIFEST_DIR");
    let shots = format!("{root}/target/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let run = tokio::process::Command::new("node")
        .arg(format!("{root}/tests/browser/bots.cjs"))
        .arg(format!("http://{}", app.addr))
        .arg(&shots)
        .arg(&bot)
        .arg(&server)
        .env("NODE_PATH", format!("{root}/web/node_modules"))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(WAIT * 12, run)
        .await
        .expect("the bots scenario finished in time")
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bots scenario failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|j| serde_json::from_str(j).expect("json"))
        .expect("the script reports what the page shows");
    assert_eq!(result["problems"], json!([]));
    assert_eq!(
        result["bot"],
        json!({"id": "bot:deploy-bot", "name": "deploy-bot", "bot": true})
    );
    assert_eq!(result["asAnn"], json!({"id": "acct:ann", "name": "ann"}));
    assert_eq!(
        result["people"],
        json!([
            {"user": "acct:ann", "badge": null},
            {"user": "bot:deploy-bot", "badge": "BOT"},
        ])
    );
    assert_eq!(
        result["rows"],
        json!([
            {"user": "bot:deploy-bot", "author": "deploy-bot", "badge": "BOT"},
            {"user": "acct:ann", "author": "ann", "badge": null},
        ])
    );
}
