//! Issue 12's defects, each shown through real clients: removal reaches
//! every socket of a user, accounts and JWT users cannot share an id, tokens
//! end with what should end them, and client claims cannot forge log lines.

use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::admin::cli;
use crate::cluster_support::RedisServer;
use crate::helpers::*;
use crate::on_both_backends;
use crate::pg::PgSchema;

/// A JWT for `sub` that claims the display name `name`.
fn named_token(sub: &str, name: &str) -> String {
    sign(
        &json!({"sub": sub, "name": name, "exp": now() + 3600}),
        SECRET,
    )
}

async fn private_room(app: &TestApp, owner: &str, room: &str, member: &str) {
    let r = app
        .post(
            "/api/rooms",
            json!({"name": room, "visibility": "private"}),
            Some(owner),
        )
        .await;
    assert_eq!(r.status(), 201);
    app.seen(member).await;
    let r = app
        .post(
            &format!("/api/rooms/{room}/members"),
            json!({"user": member}),
            Some(owner),
        )
        .await;
    assert_eq!(r.status(), 201);
}

/// `client` gets nothing in `room` before the next chat in `barrier`: chats
/// reach one socket in commit order, so a later one proves an earlier never came.
async fn next_chat_is_in(client: &mut TestClient, barrier: &str) {
    let chat = client.next("chat").await;
    assert_eq!(
        chat["room"], barrier,
        "a chat arrived before the barrier: {chat}"
    );
}

async fn removal_reaches_every_socket_whatever_name_it_claims(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let owner = token("olga", None);
    private_room(&app, &owner, "staff", "mike").await;
    let mut olga = app
        .connect(Connect::token(owner.clone()))
        .await
        .expect("olga");
    olga.join("staff").await;
    olga.join("hall").await;
    let mut mikes = Vec::new();
    for name in ["Mike (phone)", "Mike (laptop)", "mike"] {
        let mut m = app
            .connect(Connect::token(named_token("mike", name)))
            .await
            .expect("mike");
        m.join("staff").await;
        m.join("hall").await;
        mikes.push(m);
    }

    let r = app
        .delete("/api/rooms/staff/members/mike", Some(&owner))
        .await;
    assert_eq!(r.status(), 204);
    for m in &mut mikes {
        let leave = m.next("leave").await;
        assert_eq!(
            (leave["room"].as_str(), leave["reason"].as_str()),
            (Some("staff"), Some("removed")),
            "{leave}"
        );
    }
    olga.chat("staff", "owners only now").await;
    olga.chat("hall", "barrier").await;
    for m in &mut mikes {
        next_chat_is_in(m, "hall").await;
        let ack = m
            .ack("chat", json!({"room": "staff", "message": "still here"}))
            .await;
        assert_eq!(ack["error"], "not_in_room", "{ack}");
        let ack = m.ack("typing", json!({"room": "staff"})).await;
        assert_eq!(ack["error"], "not_in_room", "{ack}");
        let ack = m.ack("join", json!({"room": "staff"})).await;
        assert_eq!(ack["error"], "forbidden", "{ack}");
    }
    let h = olga.ack("history", json!({"room": "staff"})).await;
    let texts: Vec<&str> = h["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(texts, ["owners only now"], "nothing of mike's was stored");
}

async fn registering_a_jwt_users_id_does_not_make_you_that_user(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    // bob is a user of the integrating app: his JWTs have `sub: "bob"`.
    let bob = token("bob", None);
    private_room(&app, &bob, "bobs", "carol").await;
    let mut b = app.connect(Connect::token(bob.clone())).await.expect("bob");
    b.join("bobs").await;
    b.chat("bobs", "bob's secret").await;

    // Anyone may register the username "bob": it is another user.
    let (jwt, cookie) = app.register_and_login("bob").await;
    let me = app.get("/api/rooms", Some(&jwt)).await;
    assert_eq!(me.status(), 200);
    let mut fake = app
        .connect(Connect::token(jwt.clone()))
        .await
        .expect("account");
    let ack = fake.ack("join", json!({"room": "bobs"})).await;
    assert_eq!(ack["error"], "forbidden", "{ack}");
    let ack = fake.ack("history", json!({"room": "bobs"})).await;
    assert_eq!(ack["error"], "forbidden", "{ack}");
    let r = app.get("/api/rooms/bobs/messages", Some(&jwt)).await;
    assert_eq!(r.status(), 403);
    let r = app
        .post(
            "/api/rooms/bobs/members",
            json!({"user": "mallory"}),
            Some(&jwt),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .delete("/api/rooms/bobs/members/carol", Some(&jwt))
        .await;
    assert_eq!(r.status(), 403);
    // The account is `acct:bob`, shown by the name "bob"; the same through the cookie.
    let mut by_cookie = app
        .connect(Connect {
            auth: None,
            cookie: Some(cookie),
            transport: rust_socketio::TransportType::Websocket,
        })
        .await
        .expect("cookie");
    let joined = by_cookie.join("hall").await;
    assert_eq!(
        joined["online"][0],
        json!({"id": "acct:bob", "name": "bob"})
    );
    let ack = by_cookie.ack("join", json!({"room": "bobs"})).await;
    assert_eq!(ack["error"], "forbidden");
    fake.join("hall").await;
    fake.chat("hall", "hi").await;
    assert_eq!(
        by_cookie.next("chat").await["user"],
        json!({"id": "acct:bob", "name": "bob"})
    );
    // And an app-signed JWT cannot claim an account: `acct:` subjects need a login.
    let forged = app.connect(Connect::token(token("acct:bob", None))).await;
    assert!(
        forged.is_err(),
        "a JWT without a session cannot be an account"
    );
}

/// A database made by the schema before the namespace (migration 0001 only).
async fn old_schema_with_account(backend: Backend, url: &str) {
    use sqlx::migrate::Migrator;
    let dir = tempfile::tempdir().expect("dir");
    let flavour = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let first = format!(
        "{}/migrations/{flavour}/0001_init.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::copy(&first, dir.path().join("0001_init.sql")).expect("copy migration");
    let migrator = Migrator::new(dir.path()).await.expect("migrator");
    let hash = roomcast_test_hash().await;
    let inserts = [
        format!("INSERT INTO users (id, name, password_hash, disabled, created_at) VALUES ('ann', 'ann', '{hash}', 0, 1)"),
        "INSERT INTO rooms (name, visibility, owner, created_at) VALUES ('annex', 'private', 'ann', 1)".to_owned(),
        "INSERT INTO members (room, user_id) VALUES ('annex', 'u7')".to_owned(),
        "INSERT INTO messages (id, room, user_id, user_name, body, ts) VALUES (1, 'annex', 'ann', 'ann', 'from before', 1)".to_owned(),
    ];
    match backend {
        Backend::Sqlite => {
            let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("url");
            let pool = sqlx::SqlitePool::connect_with(opts.create_if_missing(true))
                .await
                .expect("sqlite");
            migrator.run(&pool).await.expect("old schema");
            for sql in inserts {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&pool)
                    .await
                    .expect("insert");
            }
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.expect("pg");
            migrator.run(&pool).await.expect("old schema");
            for sql in inserts {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&pool)
                    .await
                    .expect("insert");
            }
            pool.close().await;
        }
    }
}

/// An Argon2 hash of "correct horse", as the server makes them.
async fn roomcast_test_hash() -> String {
    roomcast::auth::password::hash("correct horse".into())
        .await
        .expect("hash")
}

async fn accounts_made_before_the_namespace_keep_their_rooms_and_history(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let schema = match backend {
        Backend::Postgres => Some(PgSchema::create().await),
        Backend::Sqlite => None,
    };
    let url = match &schema {
        Some(s) => s.url.clone(),
        None => format!("sqlite://{}", dir.path().join("old.db").display()),
    };
    old_schema_with_account(backend, &url).await;
    let (_server, addr) = start_roomcast(roomcast_command().args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--jwt-secret",
        SECRET,
        "--database",
        &url,
    ]))
    .await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("http://{addr}/api/login"))
        .json(&json!({"username": "ann", "password": "correct horse"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["user"], json!({"id": "acct:ann", "name": "ann"}));
    let jwt = body["token"].as_str().expect("token").to_owned();
    let mut ann = TestClient::connect(&format!("http://{addr}/"), Connect::token(jwt))
        .await
        .expect("ann");
    let joined = ann.join("annex").await;
    assert_eq!(joined["room"]["owner"], "acct:ann", "{joined}");
    let old = &joined["history"][0];
    assert_eq!(
        (old["message"].as_str(), old["user"]["id"].as_str()),
        (Some("from before"), Some("acct:ann")),
        "{joined}"
    );
    // The member invited before the migration still gets in.
    let mut u7 = TestClient::connect(
        &format!("http://{addr}/"),
        Connect::token(token("u7", None)),
    )
    .await
    .expect("u7");
    u7.join("annex").await;
}

async fn logout_ends_the_jwt_of_that_login(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (jwt, cookie) = app.register_and_login("ann").await;
    let (other_jwt, _) = app.login("ann").await;
    assert_eq!(app.get("/api/rooms", Some(&jwt)).await.status(), 200);
    let r = app
        .http
        .post(app.url("/api/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), 204);
    assert_eq!(
        app.get("/api/rooms", Some(&jwt)).await.status(),
        401,
        "the login's JWT ended with its cookie"
    );
    assert!(app.connect(Connect::token(jwt)).await.is_err());
    // Another login of the same account is its own session.
    assert_eq!(app.get("/api/rooms", Some(&other_jwt)).await.status(), 200);
    // Logging out with the JWT alone (an API client without cookies).
    let r = app
        .http
        .post(app.url("/api/logout"))
        .bearer_auth(&other_jwt)
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), 204);
    assert_eq!(app.get("/api/rooms", Some(&other_jwt)).await.status(), 401);
}

async fn password_change_ends_every_session_and_login_jwt(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (jwt, cookie) = app.register_and_login("ann").await;
    let out = cli(&app, &["user", "passwd", "ann"], "a new long password\n").await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(app.get("/api/rooms", Some(&jwt)).await.status(), 401);
    let r = app
        .http
        .get(app.url("/api/rooms"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("rooms");
    assert_eq!(r.status(), 401);
    assert!(app.connect(Connect::token(jwt)).await.is_err());
    let r = app
        .post(
            "/api/login",
            json!({"username": "ann", "password": "a new long password"}),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
}

on_both_backends!(
    removal_reaches_every_socket_whatever_name_it_claims,
    registering_a_jwt_users_id_does_not_make_you_that_user,
    accounts_made_before_the_namespace_keep_their_rooms_and_history,
    logout_ends_the_jwt_of_that_login,
    password_change_ends_every_session_and_login_jwt,
);

#[tokio::test]
async fn removal_reaches_sockets_with_other_names_on_other_nodes() {
    let schema = PgSchema::create().await;
    let redis = RedisServer::start().await;
    let node = || {
        let mut cmd = roomcast_command();
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--jwt-secret", SECRET])
            .args(["--database", &schema.url, "--redis", &redis.url()])
            .env("ROOMCAST_LOG", "warn");
        cmd
    };
    let (_a, addr_a) = start_roomcast(&mut node()).await;
    let (_b, addr_b) = start_roomcast(&mut node()).await;
    let owner = token("olga", None);
    let http = reqwest::Client::new();
    let r = http
        .post(format!("http://{addr_a}/api/rooms"))
        .bearer_auth(&owner)
        .json(&json!({"name": "staff", "visibility": "private"}))
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 201);
    // Mike's first request makes him known, so he may be invited.
    let r = http
        .get(format!("http://{addr_a}/api/rooms"))
        .bearer_auth(token("mike", None))
        .send()
        .await
        .expect("mike's first request");
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("http://{addr_a}/api/rooms/staff/members"))
        .bearer_auth(&owner)
        .json(&json!({"user": "mike"}))
        .send()
        .await
        .expect("invite");
    assert_eq!(r.status(), 201);
    let connect = |addr: &str, t: String| {
        let url = format!("http://{addr}/");
        async move {
            TestClient::connect(&url, Connect::token(t))
                .await
                .expect("connect")
        }
    };
    let mut olga = connect(&addr_a, owner.clone()).await;
    olga.join("staff").await;
    olga.join("hall").await;
    let mut mikes = vec![
        connect(&addr_a, named_token("mike", "Mike (phone)")).await,
        connect(&addr_b, named_token("mike", "Mike (laptop)")).await,
        connect(&addr_b, named_token("mike", "Mike (tablet)")).await,
    ];
    for m in &mut mikes {
        m.join("staff").await;
        m.join("hall").await;
    }
    let r = http
        .delete(format!("http://{addr_a}/api/rooms/staff/members/mike"))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("remove");
    assert_eq!(r.status(), 204);
    for m in &mut mikes {
        assert_eq!(m.next("leave").await["reason"], "removed");
    }
    olga.chat("staff", "owners only now").await;
    olga.chat("hall", "barrier").await;
    for m in &mut mikes {
        next_chat_is_in(m, "hall").await;
        let ack = m
            .ack("chat", json!({"room": "staff", "message": "still here"}))
            .await;
        assert_eq!(ack["error"], "not_in_room", "{ack}");
    }
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_refused_past_the_leeway() {
    let app = spawn_app_with(|s| s.jwt_leeway_secs = 2).await;
    let t = |claims: Value| app.connect(Connect::token(sign(&claims, SECRET)));
    assert!(
        t(json!({"sub": "a", "exp": now() - 30})).await.is_err(),
        "expired 30 s ago"
    );
    assert!(
        t(json!({"sub": "a", "exp": now() - 10})).await.is_err(),
        "expired 10 s ago"
    );
    assert!(
        t(json!({"sub": "a", "exp": now() + 60, "nbf": now() + 30}))
            .await
            .is_err(),
        "not valid for 30 s"
    );
    assert!(
        t(json!({"sub": "a", "exp": now() + 60, "nbf": now() + 10}))
            .await
            .is_err(),
        "not valid for 10 s"
    );
    assert!(
        t(json!({"sub": "a", "exp": now() + 60, "nbf": now() - 1}))
            .await
            .is_ok()
    );
    let r = app
        .get(
            "/api/rooms",
            Some(&sign(&json!({"sub": "a", "exp": now() - 10}), SECRET)),
        )
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn claims_cannot_forge_log_lines_or_make_them_huge() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut server, addr) = start_roomcast(
        roomcast_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--jwt-secret", SECRET])
            .arg("--database")
            .arg(format!("sqlite://{}", dir.path().join("logs.db").display()))
            .env_remove("ROOMCAST_LOG")
            .stderr(Stdio::piped()),
    )
    .await;
    // Read as it comes: a pipe that fills would stall the server's logging.
    let mut pipe = server.stderr.take().expect("stderr");
    let reader = tokio::spawn(async move {
        let mut all = String::new();
        pipe.read_to_string(&mut all).await.map(|_| all)
    });
    let evil =
        "x\n2026-12-01T00:00:00Z  INFO roomcast: FORGED admin logged in\r\u{0}\u{7}\u{1b}[2J";
    let huge = format!("big{}", "y".repeat(100_000));
    for sub in [evil.to_owned(), huge] {
        let c = TestClient::connect(
            &format!("http://{addr}/"),
            Connect::token(named_token(&sub, &sub)),
        )
        .await
        .expect("connect");
        c.close().await;
    }
    // A last connection whose disconnect line is the barrier for the others'.
    let last = TestClient::connect(
        &format!("http://{addr}/"),
        Connect::token(token("last", None)),
    )
    .await
    .expect("last");
    last.close().await;
    sigterm(&server);
    server.wait().await.expect("exit");
    let stderr = reader.await.expect("reader").expect("read stderr");
    assert!(stderr.contains("user=last"), "{stderr}");
    assert!(
        stderr.contains("user=x\\n2026"),
        "the claim is logged, escaped: {stderr}"
    );
    for line in stderr.lines() {
        assert!(
            !line.contains("FORGED") || line.contains("user=x\\n"),
            "forged line: {line:?}"
        );
        assert!(
            !line.contains(['\r', '\u{0}', '\u{7}', '\u{1b}']),
            "control character in {line:?}"
        );
        assert!(line.len() < 2_000, "a {} byte line", line.len());
    }
}

#[tokio::test]
async fn the_token_command_refuses_account_ids() {
    let app = spawn_app().await;
    let out = cli(&app, &["token", "--sub", "acct:ann"], "").await;
    assert!(!out.ok);
    assert!(out.stderr.contains("POST /api/login"), "{}", out.stderr);
}
