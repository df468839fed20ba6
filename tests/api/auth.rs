//! PROTOCOL §2: who may connect, and every way of being refused.

use rust_socketio::TransportType;
use serde_json::{Value, json};

use crate::helpers::*;

/// The `connect_error` messages of docs/protocol.md §2: the code, then why.
pub(crate) const NO_CREDENTIALS: &str = "unauthorized: no token or session cookie";
pub(crate) const EXPIRED: &str = "unauthorized: token expired or not yet valid";
pub(crate) const INVALID_TOKEN: &str = "unauthorized: invalid token";
pub(crate) const SESSION_ENDED: &str = "unauthorized: session ended or account disabled";

/// The connection was refused with exactly `{"message": message}`.
pub(crate) fn refused_with(result: Result<TestClient, String>, message: &str) {
    let packet = json!({ "message": message }).to_string();
    match result {
        Ok(_) => panic!("connection should be refused with {message:?}"),
        Err(msg) => assert!(
            msg.contains(&packet),
            "connect_error should be {packet}, got {msg}"
        ),
    }
}

#[tokio::test]
async fn connection_without_identity_is_refused() {
    let app = spawn_app().await;
    let none = Connect {
        auth: None,
        cookie: None,
        transport: TransportType::Websocket,
    };
    refused_with(app.connect(none.clone()).await, NO_CREDENTIALS);
    let empty = Connect {
        auth: Some(json!({})),
        ..none
    };
    refused_with(app.connect(empty).await, NO_CREDENTIALS);
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let app = spawn_app().await;
    let exp = now() + 3600;
    let bad = [
        (
            "wrong signature",
            sign(&json!({"sub": "u", "exp": exp}), "another-secret"),
            INVALID_TOKEN,
        ),
        (
            "expired",
            sign(&json!({"sub": "u", "exp": now() - 3600}), SECRET),
            EXPIRED,
        ),
        // Said only of a token that verifies: a forger learns nothing.
        (
            "expired, wrong signature",
            sign(&json!({"sub": "u", "exp": now() - 3600}), "another-secret"),
            INVALID_TOKEN,
        ),
        ("no exp", sign(&json!({"sub": "u"}), SECRET), INVALID_TOKEN),
        (
            "no sub",
            sign(&json!({"name": "u", "exp": exp}), SECRET),
            INVALID_TOKEN,
        ),
        (
            "not yet valid",
            sign(&json!({"sub": "u", "exp": exp, "nbf": now() + 600}), SECRET),
            EXPIRED,
        ),
        ("garbage", "not-a-jwt".to_owned(), INVALID_TOKEN),
        (
            "alg none",
            alg_none(&json!({"sub": "u", "exp": exp})),
            INVALID_TOKEN,
        ),
        ("tampered", tampered(), INVALID_TOKEN),
        // Only roomcast signs accounts' tokens, always with a session.
        (
            "account without a session",
            sign(&json!({"sub": "acct:ann", "exp": exp}), SECRET),
            INVALID_TOKEN,
        ),
    ];
    for (what, t, message) in bad {
        let r = app.connect(Connect::token(t)).await;
        assert!(r.is_err(), "{what} token must be refused");
        refused_with(r, message);
    }
    // A non-string token is no token.
    let numeric = Connect {
        auth: Some(json!({"token": 42})),
        ..Connect::token(String::new())
    };
    refused_with(app.connect(numeric).await, NO_CREDENTIALS);
}

fn b64(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// An unsigned token (`alg: none`), which must never be accepted.
fn alg_none(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(claims)
    )
}

/// A validly signed token whose claims were then changed.
fn tampered() -> String {
    let good = token("mallory", None);
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = b64(&json!({"sub": "admin", "exp": now() + 3600}));
    parts.join(".")
}

#[tokio::test]
async fn jwt_identity_appears_in_payloads() {
    let app = spawn_app().await;
    let t = sign(
        &json!({"sub": "u42", "name": "Ada", "exp": now() + 60}),
        SECRET,
    );
    let mut c = app.connect(Connect::token(t)).await.expect("connect");
    let ack = c.join("lobby").await;
    assert_eq!(ack["online"], json!([{"id": "u42", "name": "Ada"}]));
    // `name` defaults to `sub`.
    let t = sign(&json!({"sub": "plain", "exp": now() + 60}), SECRET);
    let mut c = app.connect(Connect::token(t)).await.expect("connect");
    let j = c.join("lobby").await;
    let ids: Vec<&Value> = j["online"].as_array().expect("online").iter().collect();
    assert!(
        ids.contains(&&json!({"id": "plain", "name": "plain"})),
        "{ids:?}"
    );
}

async fn session_cookie_from_login_authenticates_the_socket_until_logout(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (token, cookie) = app.register_and_login("carol").await;
    for transport in [TransportType::Polling, TransportType::Websocket] {
        let how = Connect {
            auth: None,
            cookie: Some(cookie.clone()),
            transport,
        };
        let mut c = app.connect(how).await.expect("cookie connect");
        let ack = c.join("lobby").await;
        assert_eq!(ack["online"][0]["id"], "acct:carol");
    }
    // The JWT that login returned works too.
    let mut c = app
        .connect(Connect::token(token))
        .await
        .expect("token connect");
    c.join("lobby").await;

    let r = app
        .http
        .post(app.url("/api/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), 204);
    let replayed = Connect {
        auth: None,
        cookie: Some(cookie),
        transport: TransportType::Websocket,
    };
    refused_with(app.connect(replayed).await, SESSION_ENDED);
    let forged = Connect {
        auth: None,
        cookie: Some("roomcast_session=forged-value".into()),
        transport: TransportType::Websocket,
    };
    // A cookie that never was a session reads the same: nothing to probe.
    refused_with(app.connect(forged).await, SESSION_ENDED);
}

#[tokio::test]
async fn a_bad_token_is_refused_even_with_a_good_cookie() {
    let app = spawn_app().await;
    let (_, cookie) = app.register_and_login("dave").await;
    let how = Connect {
        auth: Some(json!({"token": "garbage"})),
        cookie: Some(cookie),
        transport: TransportType::Websocket,
    };
    refused_with(app.connect(how).await, INVALID_TOKEN);
}

async fn registration_and_login_errors_follow_the_contract(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let ok = json!({"username": "erin", "password": "long enough"});
    assert_eq!(
        app.post("/api/register", ok.clone(), None).await.status(),
        201
    );

    let cases = [
        (ok.clone(), 409, "conflict"),
        (
            json!({"username": "bad name", "password": "long enough"}),
            400,
            "invalid_payload",
        ),
        (
            json!({"username": "frank", "password": "short"}),
            400,
            "invalid_payload",
        ),
        (json!({"username": "frank"}), 400, "invalid_payload"),
        (json!([1, 2]), 400, "invalid_payload"),
    ];
    for (body, status, code) in cases {
        let r = app.post("/api/register", body.clone(), None).await;
        assert_eq!(r.status(), status, "{body}");
        let err: Value = r.json().await.expect("json");
        assert_eq!(err["error"], code, "{body}: {err}");
        assert!(err["message"].is_string());
    }

    let wrong = json!({"username": "erin", "password": "wrong password"});
    let r = app.post("/api/login", wrong, None).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("set-cookie").is_none());
    let err: Value = r.json().await.expect("json");
    assert_eq!(err["error"], "unauthorized");
    let unknown = json!({"username": "nobody", "password": "whatever1"});
    assert_eq!(app.post("/api/login", unknown, None).await.status(), 401);

    let r = app.post("/api/login", ok, None).await;
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["user"], json!({"id": "acct:erin", "name": "erin"}));
}

#[tokio::test]
async fn closed_registration_is_refused() {
    let app = spawn_app_with(|s| s.registration = false).await;
    let r = app
        .post(
            "/api/register",
            json!({"username": "gina", "password": "long enough"}),
            None,
        )
        .await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn api_routes_need_an_identity() {
    let app = spawn_app().await;
    let r = app.get("/api/rooms", None).await;
    assert_eq!(r.status(), 401);
    let err: Value = r.json().await.expect("json");
    assert_eq!(err["error"], "unauthorized");
    assert_eq!(app.get("/api/rooms", Some("garbage")).await.status(), 401);
    let ok = token("u", None);
    assert_eq!(app.get("/api/rooms", Some(&ok)).await.status(), 200);
}

crate::on_both_backends!(
    session_cookie_from_login_authenticates_the_socket_until_logout,
    registration_and_login_errors_follow_the_contract,
);
