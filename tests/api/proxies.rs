//! Forwarded headers: believed from `--trusted-proxies` only, for the
//! client's address (login limits) and for HTTPS (`Secure` cookies); and
//! the account routes' answers are never cached.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use roomcast::config::SecureCookies;
use serde_json::json;

use crate::helpers::*;

fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::from(ip)))
        .build()
        .expect("client")
}

/// A login of ann from `from`, claiming `headers`; returns the status and the `Set-Cookie`.
async fn login_via(
    app: &TestApp,
    from: &reqwest::Client,
    headers: &[(&str, &str)],
    password: &str,
) -> (u16, Option<String>) {
    let mut req = from
        .post(app.url("/api/login"))
        .json(&json!({"username": "ann", "password": password}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.expect("login");
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (r.status().as_u16(), cookie)
}

async fn app_trusting(proxies: &[&str], secure: SecureCookies) -> TestApp {
    let app = spawn_app_with(|s| {
        s.login_attempts = 3;
        s.login_window = Duration::from_secs(3600);
        s.trusted_proxies = proxies.iter().map(|p| p.parse().expect("net")).collect();
        s.secure_cookies = secure;
    })
    .await;
    let creds = json!({"username": "ann", "password": "correct horse"});
    assert_eq!(app.post("/api/register", creds, None).await.status(), 201);
    app
}

#[tokio::test]
async fn a_trusted_proxys_forwarded_for_tells_clients_apart() {
    let app = app_trusting(&["127.0.0.1"], SecureCookies::Auto).await;
    let proxy = client_from([127, 0, 0, 1]);
    let attacker = [("x-forwarded-for", "198.51.100.66")];
    for _ in 0..3 {
        assert_eq!(login_via(&app, &proxy, &attacker, "a guess").await.0, 401);
    }
    assert_eq!(
        login_via(&app, &proxy, &attacker, "correct horse").await.0,
        429
    );
    // The same proxy, another client behind it: not locked out. What the
    // client itself put at the left of the header is not believed.
    let victim = [("x-forwarded-for", "198.51.100.66, 203.0.113.5")];
    assert_eq!(
        login_via(&app, &proxy, &victim, "correct horse").await.0,
        200
    );
}

#[tokio::test]
async fn a_forged_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = app_trusting(&["127.0.0.1"], SecureCookies::Auto).await;
    let untrusted = client_from([127, 0, 0, 2]);
    for i in 0..3 {
        let forged = format!("10.0.0.{i}");
        let h = [("x-forwarded-for", forged.as_str())];
        assert_eq!(login_via(&app, &untrusted, &h, "a guess").await.0, 401);
    }
    // A fresh forged address does not buy more attempts: the peer is counted.
    let h = [("x-forwarded-for", "10.9.9.9")];
    assert_eq!(
        login_via(&app, &untrusted, &h, "correct horse").await.0,
        429
    );
    // While ann through the trusted proxy is fine.
    let proxy = client_from([127, 0, 0, 1]);
    let h = [("x-forwarded-for", "10.0.0.0")];
    assert_eq!(login_via(&app, &proxy, &h, "correct horse").await.0, 200);
}

fn is_secure(cookie: &Option<String>) -> bool {
    let c = cookie.as_deref().expect("a Set-Cookie");
    c.split(';')
        .any(|a| a.trim().eq_ignore_ascii_case("secure"))
}

#[tokio::test]
async fn the_session_cookie_is_secure_over_https_through_a_trusted_proxy() {
    let https = [("x-forwarded-proto", "https")];
    let app = app_trusting(&["127.0.0.1"], SecureCookies::Auto).await;
    let (proxy, other) = (client_from([127, 0, 0, 1]), client_from([127, 0, 0, 2]));
    let (status, cookie) = login_via(&app, &proxy, &https, "correct horse").await;
    assert_eq!(status, 200);
    assert!(is_secure(&cookie), "{cookie:?}");
    let (_, cookie) = login_via(&app, &proxy, &[], "correct horse").await;
    assert!(!is_secure(&cookie), "plain HTTP: {cookie:?}");
    let (_, cookie) = login_via(&app, &other, &https, "correct horse").await;
    assert!(
        !is_secure(&cookie),
        "claimed by an untrusted peer: {cookie:?}"
    );

    let always = app_trusting(&[], SecureCookies::Always).await;
    let (_, cookie) = login_via(&always, &other, &[], "correct horse").await;
    assert!(is_secure(&cookie), "always: {cookie:?}");
    let r = other
        .post(always.url("/api/logout"))
        .send()
        .await
        .expect("logout");
    let cleared = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert!(is_secure(&cleared), "the clearing cookie too: {cleared:?}");

    let never = app_trusting(&["127.0.0.1"], SecureCookies::Never).await;
    let (_, cookie) = login_via(&never, &proxy, &https, "correct horse").await;
    assert!(!is_secure(&cookie), "never: {cookie:?}");
}

#[tokio::test]
async fn account_answers_are_never_cached() {
    let app = spawn_app().await;
    let creds = json!({"username": "ann", "password": "correct horse"});
    let wrong = json!({"username": "ann", "password": "wrong horse"});
    let answers = [
        app.post("/api/register", creds.clone(), None).await,
        app.post("/api/login", creds, None).await,
        app.post("/api/login", wrong, None).await,
        app.post("/api/logout", json!({}), None).await,
    ];
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses, [201, 200, 401, 204]);
    for r in &answers {
        assert_eq!(r.headers()["cache-control"], "no-store", "{}", r.url());
    }
}
