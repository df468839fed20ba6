//! What the official Engine.IO protocol test suite checks, as our own tests: a token where the server requires one, short timers.

// Written from what the suites check, not from their code: handshake,
// refusals and upgrade here, heartbeat and closing in `conformance_close.rs`,
// the Socket.IO half in `conformance_sio.rs`. The timers are the suites' own
// (ping 300 ms + 200 ms) wherever the heartbeat is the subject; tests
// whose steps a ping could land between keep the default interval, so no
// ping races them.

use std::time::Duration;

use roomcast::wire_client::ws;
use roomcast::wire_client::{packet, polling};
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) const PING_INTERVAL: Duration = Duration::from_millis(300);
pub(crate) const PING_TIMEOUT: Duration = Duration::from_millis(200);
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);

/// A server with the suites' timers.
pub(crate) async fn short_timers() -> TestApp {
    spawn_app_with(|s| {
        s.timeouts.ping_interval = PING_INTERVAL;
        s.timeouts.ping_timeout = PING_TIMEOUT;
        s.timeouts.connect = CONNECT_TIMEOUT;
    })
    .await
}

fn base(app: &TestApp) -> String {
    format!("http://{}", app.addr)
}

/// `GET /socket.io/?{query}`: status and body.
async fn get(app: &TestApp, query: &str) -> (u16, String) {
    let r = app.http.get(format!("{}/socket.io/?{query}", base(app)));
    let r = r.send().await.expect("GET");
    (r.status().as_u16(), r.text().await.expect("body"))
}

/// `POST` of `body` to `url`: status and body, or `None` if the server
/// closed the connection instead of answering.
pub(crate) async fn post(app: &TestApp, url: &str, body: &str) -> Option<(u16, String)> {
    let r = app.http.post(url).body(body.to_owned()).send().await.ok()?;
    Some((r.status().as_u16(), r.text().await.ok()?))
}

/// A polling GET on `url` (a session's): status and body.
pub(crate) async fn poll(app: &TestApp, url: &str) -> (u16, String) {
    let r = app.http.get(url).send().await.expect("poll");
    (r.status().as_u16(), r.text().await.expect("body"))
}

/// The JSON of an open packet (`0{...}`).
fn open_json(text: &str) -> Value {
    let json = text.strip_prefix('0').unwrap_or_else(|| panic!("{text:?}"));
    serde_json::from_str(json).expect("open packet JSON")
}

/// A new polling session's URL (handshake only, no CONNECT).
pub(crate) async fn polling_session(app: &TestApp) -> String {
    let (status, body) = get(app, "EIO=4&transport=polling").await;
    assert_eq!(status, 200, "{body}");
    let sid = polling::sid(&body).unwrap_or_else(|| panic!("open packet: {body:?}"));
    polling::session_url(&base(app), &sid)
}

/// A polling session that has sent CONNECT with a token and read its answer
/// (the suites' sessions need no token; roomcast's do).
pub(crate) async fn connected_polling(app: &TestApp, user: &str) -> String {
    let url = polling_session(app).await;
    let connect = packet::connect_with_token(Some(&token(user, None)));
    assert_eq!(post(app, &url, &connect).await, Some((200, "ok".into())));
    let (status, body) = poll(app, &url).await;
    assert_eq!(status, 200);
    assert!(body.starts_with("40{"), "CONNECT answered first: {body}");
    url
}

/// The fields of the open packet, and their values for the suites' timers.
fn assert_open_packet(open: &Value, upgrades: Value) {
    let keys: Vec<&str> = open
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "maxPayload",
            "pingInterval",
            "pingTimeout",
            "sid",
            "upgrades"
        ],
        "exactly these fields: {open}"
    );
    assert!(
        open["sid"].as_str().is_some_and(|s| !s.is_empty()),
        "{open}"
    );
    assert_eq!(open["upgrades"], upgrades, "{open}");
    assert_eq!(open["pingInterval"], 300, "{open}");
    assert_eq!(open["pingTimeout"], 200, "{open}");
    // The suites expect Node's 1e6; roomcast's is its own (16 x
    // --max-payload), and what matters is that an event that size fits.
    let max = open["maxPayload"].as_u64().expect("maxPayload is a number");
    assert!(max >= 65_536, "{open}");
}

#[tokio::test]
async fn a_handshake_announces_the_session_and_the_timers_on_both_transports() {
    let app = short_timers().await;
    let (status, body) = get(&app, "EIO=4&transport=polling").await;
    assert_eq!(status, 200);
    assert_open_packet(&open_json(&body), json!(["websocket"]));

    let mut ws = ws::open(ws::url(app.addr), app.addr, None)
        .await
        .expect("ws");
    let open = ws::next_text(&mut ws, WAIT).await.expect("open packet");
    assert_open_packet(&open_json(&open), json!([]));
}

#[tokio::test]
async fn a_bad_version_transport_method_or_sid_gets_400() {
    let app = short_timers().await;
    for query in [
        "transport=polling",
        "EIO=abc&transport=polling",
        "EIO=3&transport=polling",
        "EIO=5&transport=polling",
        "EIO=4",
        "EIO=4&transport=abc",
        "EIO=4&transport=polling&sid=nope",
    ] {
        assert_eq!(get(&app, query).await.0, 400, "GET ?{query}");
    }
    let url = format!("{}/socket.io/?EIO=4&transport=polling", base(&app));
    // A handshake is a GET: a POST or PUT without a session is refused.
    let posted = app.http.post(&url).send().await.expect("POST");
    assert_eq!(posted.status(), 400);
    let put = app.http.put(&url).send().await.expect("PUT");
    assert_eq!(put.status(), 400);
    for query in [
        "transport=websocket",
        "EIO=abc&transport=websocket",
        "EIO=4",
        "EIO=4&transport=abc",
        "EIO=4&transport=websocket&sid=nope",
    ] {
        let url = format!("ws://{}/socket.io/?{query}", app.addr);
        let err = ws::open(url, app.addr, None).await.err();
        let err = err.unwrap_or_else(|| panic!("WebSocket ?{query} was accepted"));
        assert!(err.contains("400"), "WebSocket ?{query}: {err}");
    }
}

#[tokio::test]
async fn an_engine_io_3_client_gets_a_400_that_names_the_supported_versions() {
    // socket.io-client 2.x: refused on both transports, with a reason.
    let app = short_timers().await;
    for transport in ["polling", "websocket"] {
        let r = app.http.get(format!(
            "{}/socket.io/?EIO=3&transport={transport}",
            base(&app)
        ));
        let r = r.send().await.expect("GET");
        assert_eq!(r.status(), 400, "{transport}");
        let body: Value = r.json().await.expect("a JSON body");
        let message = body["message"].as_str().expect("message");
        assert!(
            message.contains("Engine.IO 4") && message.contains("socket.io-client 3.x and 4.x"),
            "{transport}: {body}"
        );
    }
}

#[tokio::test]
async fn polling_upgrades_to_websocket_with_probe_noop_and_upgrade() {
    // Default ping interval: a ping would stand in the poll's place.
    let app = spawn_app().await;
    let url = polling_session(&app).await;
    let sid = url.rsplit("sid=").next().expect("sid").to_owned();
    let ws_url = format!("{}&sid={sid}", ws::url(app.addr));
    let mut ws = ws::open(ws_url.as_str(), app.addr, None).await.expect("ws");
    ws::send(&mut ws, "2probe").await.expect("probe");
    assert_eq!(
        ws::next_text(&mut ws, WAIT).await.expect("probe answer"),
        "3probe"
    );
    // The poll made during the upgrade is ended with a noop.
    assert_eq!(poll(&app, &url).await, (200, "6".into()));
    ws::send(&mut ws, "5").await.expect("upgrade");
    // The session now lives on the WebSocket: CONNECT over it is answered there.
    let connect = packet::connect_with_token(Some(&token("upgraded", None)));
    ws::send(&mut ws, connect).await.expect("CONNECT");
    let answer = ws::next_text(&mut ws, WAIT).await.expect("CONNECT answer");
    assert!(answer.starts_with("40{"), "{answer}");
    assert_eq!(
        poll(&app, &url).await.0,
        400,
        "polling is over for this sid"
    );
    // A second WebSocket for the same session is refused or closed at once.
    if let Ok(mut again) = ws::open(ws_url.as_str(), app.addr, None).await {
        assert!(ws::closed_by_server(&mut again, WAIT).await);
    }
    let rooms = packet::event(Some(7), "rooms", &[json!({})]);
    let ack = ws::call(&mut ws, &rooms, 7, WAIT)
        .await
        .expect("first WebSocket serves");
    assert_eq!(ack["ok"], true);
}
