//! The pages over plain HTTP, and the CSRF guard: a forged cross-site request
//! that carries a valid session cookie is refused and changes nothing.

use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::helpers::*;

const EVIL: &str = "http://evil.example";

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

async fn forbidden(r: reqwest::Response) {
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none(), "no cookie changes");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "forbidden", "{body}");
}

async fn room_names(app: &TestApp, cookie: &str) -> Vec<String> {
    let r = app.http.get(app.url("/api/rooms")).header("cookie", cookie);
    let body: Value = r.send().await.expect("rooms").json().await.expect("json");
    let rooms = body["rooms"].as_array().expect("rooms");
    rooms
        .iter()
        .filter_map(|r| r["name"].as_str())
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn forged_cross_site_requests_with_a_valid_cookie_are_forbidden_and_change_nothing() {
    let app = spawn_app().await;
    let (_, cookie) = app.register_and_login("ann").await;
    let create = || {
        app.http
            .post(app.url("/api/rooms"))
            .header("cookie", &cookie)
            .json(&json!({"name": "forged", "visibility": "public"}))
    };
    forbidden(create().header("origin", EVIL).send().await.expect("post")).await;
    let fetch_metadata = create().header("sec-fetch-site", "cross-site");
    forbidden(fetch_metadata.send().await.expect("post")).await;
    let form = app
        .http
        .post(app.url("/api/rooms"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=forged");
    forbidden(form.send().await.expect("post")).await;
    assert!(
        room_names(&app, &cookie).await.is_empty(),
        "no room was created"
    );

    // The same request from the page's own origin works.
    let own = create().header("origin", format!("http://{}", app.addr));
    let own = own.header("sec-fetch-site", "same-origin");
    assert_eq!(own.send().await.expect("post").status(), 201);
    assert_eq!(room_names(&app, &cookie).await, ["forged"]);
}

#[tokio::test]
async fn another_site_can_neither_sign_a_visitor_in_nor_out() {
    let app = spawn_app().await;
    let (_, cookie) = app.register_and_login("ann").await;
    let login = app
        .http
        .post(app.url("/api/login"))
        .header("origin", EVIL)
        .json(&json!({"username": "ann", "password": "correct horse"}));
    forbidden(login.send().await.expect("login")).await;
    let logout = app
        .http
        .post(app.url("/api/logout"))
        .header("cookie", &cookie)
        .header("origin", EVIL);
    forbidden(logout.send().await.expect("logout")).await;
    // The session survived the forged logout.
    let r = app
        .http
        .get(app.url("/api/rooms"))
        .header("cookie", &cookie);
    assert_eq!(r.send().await.expect("rooms").status(), 200);
}

#[tokio::test]
async fn bearer_token_requests_from_other_origins_are_allowed() {
    let app = spawn_app().await;
    let r = app
        .http
        .post(app.url("/api/rooms"))
        .bearer_auth(token("app-user", None))
        .header("origin", EVIL)
        .json(&json!({"name": "from-my-app"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
}

/// Opens a polling session with `origin` and the cookie, sends CONNECT
/// without a token, and returns the server's answer packet.
async fn cookie_connect(app: &TestApp, cookie: &str, origin: &str) -> String {
    use roomcast::wire_client::polling;
    let get = |url: String| {
        app.http
            .get(url)
            .header("cookie", cookie)
            .header("origin", origin)
    };
    let open = get(polling::url(&app.url("")))
        .send()
        .await
        .expect("handshake");
    let open = open.text().await.expect("body");
    let sid = polling::sid(&open).unwrap_or_else(|| panic!("open packet: {open:?}"));
    let url = polling::session_url(&app.url(""), &sid);
    let r = app
        .http
        .post(&url)
        .header("cookie", cookie)
        .header("origin", origin);
    assert!(
        r.body("40")
            .send()
            .await
            .expect("post")
            .status()
            .is_success()
    );
    // Polls until the answer to CONNECT, answering pings on the way.
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        let poll = get(url.clone()).send().await.expect("poll");
        let body = poll.text().await.expect("body");
        for packet in polling::packets(&body) {
            if packet.starts_with('4') {
                return packet.to_owned();
            }
            if packet == "2" {
                app.http.post(&url).body("3").send().await.expect("pong");
            }
        }
    }
    panic!("no answer to CONNECT within {WAIT:?}");
}

#[tokio::test]
async fn the_session_cookie_does_not_authenticate_a_socket_from_another_origin() {
    let app = spawn_app().await;
    let (_, cookie) = app.register_and_login("ann").await;
    let own = format!("http://{}", app.addr);
    assert!(cookie_connect(&app, &cookie, &own).await.starts_with("40{"));
    // The Socket.IO origin rule refuses it before the (stripped) cookie is
    // even looked at; either way the cookie authenticates nothing.
    let foreign = cookie_connect(&app, &cookie, EVIL).await;
    assert_eq!(foreign, r#"44{"message":"origin not allowed"}"#);
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_back() {
    let app = spawn_app().await;
    let http = no_redirects();
    for (path, next) in [("/", "/"), ("/r/general", "/r/general")] {
        let r = http.get(app.url(path)).send().await.expect("page");
        assert_eq!(r.status(), 303, "{path}");
        let to = r.headers()["location"].to_str().expect("location");
        assert_eq!(to, format!("/login?next={next}"));
    }
    let forged = http
        .get(app.url("/"))
        .header("cookie", "roomcast_session=nope");
    assert_eq!(forged.send().await.expect("page").status(), 303);
    // Signed in, the sign-in page sends you on to your rooms.
    let (_, cookie) = app.register_and_login("ann").await;
    let r = http.get(app.url("/login")).header("cookie", &cookie);
    let r = r.send().await.expect("page");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/");
}

#[tokio::test]
async fn pages_are_served_under_the_strict_content_security_policy() {
    let app = spawn_app().await;
    let (_, cookie) = app.register_and_login("ann").await;
    for path in ["/login", "/register", "/logout", "/", "/r/general"] {
        // Signed out for /login, which sends a signed-in visitor on.
        let cookie = if path == "/login" {
            ""
        } else {
            cookie.as_str()
        };
        let r = app.http.get(app.url(path)).header("cookie", cookie);
        let r = r.send().await.expect("page");
        assert_eq!(r.status(), 200, "{path}");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .expect("csp");
        assert_eq!(csp, roomcast::web::CONTENT_SECURITY_POLICY);
        assert!(csp.contains("script-src 'self';") && !csp.contains("unsafe"));
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        let html = r.text().await.expect("html");
        assert!(
            !html.contains("<script>") && !html.contains(" style="),
            "{path}"
        );
    }
    let room = app
        .http
        .get(app.url("/r/general"))
        .header("cookie", &cookie);
    let html = room.send().await.expect("page").text().await.expect("html");
    assert!(html.contains(r#"data-user-id="acct:ann""#) && html.contains(r#"data-room="general""#));
}

#[tokio::test]
async fn a_room_page_with_an_invalid_name_is_not_found() {
    let app = spawn_app().await;
    let (_, cookie) = app.register_and_login("ann").await;
    let r = app
        .http
        .get(app.url("/r/no%20spaces"))
        .header("cookie", &cookie);
    assert_eq!(r.send().await.expect("page").status(), 404);
}

#[tokio::test]
async fn the_bundled_assets_are_embedded_and_typed() {
    let app = spawn_app().await;
    for (path, kind) in [
        ("/assets/app.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
        ("/assets/icon.svg", "image/svg+xml"),
    ] {
        let r = app.get(path, None).await;
        assert_eq!(r.status(), 200, "{path}");
        let ct = r.headers()["content-type"].to_str().expect("type");
        assert!(ct.starts_with(kind), "{path}: {ct}");
        assert!(!r.bytes().await.expect("body").is_empty());
    }
}
