//! Cross-origin use: off unless `allowed_origins` lists the origin, for
//! HTTP (CORS) and for the Socket.IO handshake alike; security headers.

use roomcast::wire_client::packet::{self, Packet};
use roomcast::wire_client::ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::*;

/// Opens a raw WebSocket with `origin` (if any) and the session `cookie`,
/// sends CONNECT, and returns the server's answer packet.
async fn handshake(app: &TestApp, origin: Option<&str>, cookie: &str) -> String {
    let mut req = ws::url(app.addr).into_client_request().expect("request");
    if let Some(o) = origin {
        req.headers_mut()
            .insert("origin", o.parse().expect("origin"));
    }
    req.headers_mut()
        .insert("cookie", cookie.parse().expect("cookie"));
    let mut ws = ws::open(req, app.addr, None).await.expect("ws connect");
    ws::next_text(&mut ws, WAIT).await.expect("open packet");
    ws::send(&mut ws, packet::connect(None))
        .await
        .expect("CONNECT");
    loop {
        let text = ws::next_text(&mut ws, WAIT).await.expect("answer");
        if matches!(
            packet::decode(&text),
            Packet::Connected(_) | Packet::ConnectError(_)
        ) {
            return text;
        }
    }
}

#[tokio::test]
async fn a_page_on_another_origin_cannot_use_a_cookie_socket() {
    let app = spawn_app().await;
    let (_, cookie) = app.register_and_login("ann").await;
    let own = format!("http://{}", app.addr);
    assert!(
        handshake(&app, Some(&own), &cookie)
            .await
            .starts_with("40{")
    );
    assert!(handshake(&app, None, &cookie).await.starts_with("40{"));
    let refused = handshake(&app, Some("http://evil.example"), &cookie).await;
    assert_eq!(refused, r#"44{"message":"origin not allowed"}"#);
}

#[tokio::test]
async fn a_listed_origin_may_open_sockets_and_call_the_api_with_credentials() {
    let app = spawn_app_with(|s| s.allowed_origins = vec!["http://app.example".into()]).await;
    let (jwt, cookie) = app.register_and_login("ann").await;
    assert!(
        handshake(&app, Some("http://app.example"), &cookie)
            .await
            .starts_with("40{")
    );
    let refused = handshake(&app, Some("http://evil.example"), &cookie).await;
    assert!(refused.starts_with("44"), "{refused}");

    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/api/rooms"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let ok = preflight("http://app.example").await.expect("preflight");
    assert!(ok.status().is_success());
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "http://app.example"
    );
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    let evil = preflight("http://evil.example").await.expect("preflight");
    assert!(evil.headers().get("access-control-allow-origin").is_none());

    let get = app
        .http
        .get(app.url("/api/rooms"))
        .header("origin", "http://app.example")
        .bearer_auth(&jwt)
        .send()
        .await
        .expect("get");
    assert_eq!(get.status(), 200);
    assert_eq!(
        get.headers()["access-control-allow-origin"],
        "http://app.example"
    );
}

#[tokio::test]
async fn without_a_list_cross_origin_requests_get_no_cors_headers() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(app.url("/api/rooms"))
        .header("origin", "http://evil.example")
        .bearer_auth(token("ann", None))
        .send()
        .await
        .expect("get");
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn responses_carry_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/healthz", "/api/rooms", "/socket.io/socket.io.js"] {
        let r = app.get(path, None).await;
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        let csp = h["content-security-policy"].to_str().expect("csp");
        assert!(
            csp.starts_with("default-src 'self'; script-src 'self'"),
            "{path}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
    }
}
