//! `roomcast user|room|token` on the real binary, against a running server's database.

use std::process::Stdio;

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::auth::{SESSION_ENDED, refused_with};
use crate::helpers::*;

pub(crate) struct Out {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `roomcast ARGS --database <the app's>` with `stdin` piped in.
pub(crate) async fn cli(app: &TestApp, args: &[&str], stdin: &str) -> Out {
    cli_on(&app.database_url(), args, stdin).await
}

/// Runs `roomcast ARGS --database DATABASE` with `stdin` piped in.
pub(crate) async fn cli_on(database: &str, args: &[&str], stdin: &str) -> Out {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .args(args)
        .arg("--database")
        .arg(database)
        .env_remove("ROOMCAST_DATABASE")
        .env_remove("ROOMCAST_JWT_SECRET")
        .env_remove("ROOMCAST_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run roomcast");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("write stdin");
    drop(input);
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("cli finished")
        .expect("output");
    Out {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn login_status(app: &TestApp, user: &str, password: &str) -> u16 {
    let creds = json!({"username": user, "password": password});
    app.post("/api/login", creds, None).await.status().as_u16()
}

#[tokio::test]
async fn user_add_passwd_list_and_disable_work_on_a_live_server() {
    user_admin(Backend::Sqlite).await;
}

#[tokio::test]
async fn user_add_passwd_list_and_disable_work_on_a_live_postgres_server() {
    user_admin(Backend::Postgres).await;
}

async fn user_admin(backend: Backend) {
    let app = spawn_app_on(backend, |s| s.registration = false).await;
    let out = cli(&app, &["user", "add", "ann"], "first password\n").await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(login_status(&app, "ann", "first password").await, 200);
    // Registration is closed, but the admin could still add ann; a taken name is refused.
    assert!(!cli(&app, &["user", "add", "ann"], "another one\n").await.ok);
    // Too short a password is refused, as over HTTP.
    assert!(!cli(&app, &["user", "add", "bob"], "short\n").await.ok);
    // A password is never taken from the command line.
    assert!(
        !cli(&app, &["user", "add", "bob", "a password"], "")
            .await
            .ok
    );

    let out = cli(&app, &["user", "passwd", "ann"], "second password\n").await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(login_status(&app, "ann", "first password").await, 401);
    assert_eq!(login_status(&app, "ann", "second password").await, 200);
    assert!(
        !cli(&app, &["user", "passwd", "nobody"], "whatever pw\n")
            .await
            .ok
    );

    let (jwt, cookie) = app.login_with("ann", "second password").await;
    let out = cli(&app, &["user", "list"], "").await;
    assert_eq!(out.stdout, "acct:ann\tann\tactive\n");

    assert!(cli(&app, &["user", "disable", "ann"], "").await.ok);
    assert_eq!(
        cli(&app, &["user", "list"], "").await.stdout,
        "acct:ann\tann\tdisabled\n"
    );
    // Disabled: no login, no socket by JWT or by cookie, no HTTP.
    assert_eq!(login_status(&app, "ann", "second password").await, 401);
    // Told as an ended session: nothing says which accounts exist or are disabled.
    refused_with(
        app.connect(Connect::token(jwt.clone())).await,
        SESSION_ENDED,
    );
    let by_cookie = Connect {
        auth: None,
        cookie: Some(cookie),
        transport: rust_socketio::TransportType::Websocket,
    };
    refused_with(app.connect(by_cookie).await, SESSION_ENDED);
    assert_eq!(app.get("/api/rooms", Some(&jwt)).await.status(), 401);
    // Other users are unaffected.
    app.client("bob").await;

    assert!(cli(&app, &["user", "enable", "ann"], "").await.ok);
    assert_eq!(login_status(&app, "ann", "second password").await, 200);
    // Disabling ended ann's sessions, and with them the JWTs of those
    // logins: enabling does not bring them back, a new login does.
    refused_with(app.connect(Connect::token(jwt)).await, SESSION_ENDED);
    let (fresh, _) = app.login_with("ann", "second password").await;
    assert!(app.connect(Connect::token(fresh)).await.is_ok());
}

#[tokio::test]
async fn room_create_list_delete_and_a_token_for_a_private_room() {
    room_admin(Backend::Sqlite).await;
}

#[tokio::test]
async fn room_create_list_delete_and_a_token_for_a_private_room_on_postgres() {
    room_admin(Backend::Postgres).await;
}

async fn room_admin(backend: Backend) {
    // No configured secret: the server keeps one in the database, and
    // `roomcast token` must sign with that same secret.
    let app = spawn_app_on(backend, |s| s.jwt_secret = None).await;
    let out = cli(
        &app,
        &[
            "room",
            "create",
            "staff",
            "--app-owner",
            "olga",
            "--private",
        ],
        "",
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    assert!(
        cli(
            &app,
            &["room", "create", "lobby", "--app-owner", "olga"],
            ""
        )
        .await
        .ok
    );
    assert!(
        !cli(&app, &["room", "create", "lobby", "--app-owner", "x"], "")
            .await
            .ok
    );
    assert!(
        !cli(
            &app,
            &["room", "create", "bad name", "--app-owner", "x"],
            ""
        )
        .await
        .ok
    );
    let out = cli(&app, &["room", "list"], "").await;
    assert_eq!(out.stdout, "lobby\tpublic\tolga\nstaff\tprivate\tolga\n");

    let out = cli(
        &app,
        &[
            "token", "--sub", "app-user", "--name", "App User", "--rooms", "staff", "--ttl", "60",
        ],
        "",
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let jwt = out.stdout.trim().to_owned();
    let mut c = app
        .connect(Connect::token(jwt))
        .await
        .expect("token accepted");
    let ack = c.join("staff").await;
    assert_eq!(ack["online"][0]["name"], "App User");
    c.chat("staff", "kept until the room is deleted").await;

    assert!(cli(&app, &["room", "delete", "staff"], "").await.ok);
    assert_eq!(
        cli(&app, &["room", "list"], "").await.stdout,
        "lobby\tpublic\tolga\n"
    );
    let out = cli(&app, &["room", "delete", "staff"], "").await;
    assert!(!out.ok);
    assert!(out.stderr.contains("no room staff"), "{}", out.stderr);
    // The history went with the room.
    let out = cli(&app, &["token", "--sub", "sam"], "").await;
    let other = app
        .connect(Connect::token(out.stdout.trim().to_owned()))
        .await
        .expect("sam");
    let h = other.ack("history", json!({"room": "staff"})).await;
    assert_eq!(h["error"], "not_found");
}

#[tokio::test]
async fn a_stored_room_of_dots_from_before_the_rule_can_be_listed_and_deleted() {
    let app = spawn_app().await;
    // Made before such names were refused (then `POST /api/rooms` took them).
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&app.database_url())
        .await
        .expect("open db");
    sqlx::query(
        "INSERT INTO rooms (name, visibility, owner, created_at) VALUES ('..', 'public', 'olga', 0)",
    )
    .execute(&mut conn)
    .await
    .expect("insert");
    let out = cli(&app, &["room", "list"], "").await;
    assert_eq!(out.stdout, "..\tpublic\tolga\n", "{}", out.stderr);
    // Visible to users too, so they see what they cannot open.
    let r = app.get("/api/rooms", Some(&token("ann", None))).await;
    assert_eq!(r.status(), 200);
    let out = cli(&app, &["room", "delete", ".."], "").await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(cli(&app, &["room", "list"], "").await.stdout, "");
    // And the CLI refuses to make a new one.
    assert!(
        !cli(&app, &["room", "create", "..", "--app-owner", "x"], "")
            .await
            .ok
    );
}
