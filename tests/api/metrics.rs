//! `GET /metrics`: Prometheus text that follows what the server did.

use serde_json::json;

use crate::helpers::*;

/// The value of the sample line starting with `series ` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().expect("ct").to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    r.text().await.expect("body")
}

#[tokio::test]
async fn metrics_count_sockets_rooms_messages_deliveries_and_errors() {
    let app = spawn_app().await;
    let before = scrape(&app).await;
    assert_eq!(sample(&before, "roomcast_connected_sockets"), Some(0.0));
    assert_eq!(sample(&before, "roomcast_messages_stored_total"), Some(0.0));

    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("a").await;
    bob.join("a").await;
    bob.join("b").await;
    for i in 0..3 {
        ann.chat("a", &format!("m{i}")).await;
    }
    for _ in 0..3 {
        bob.next("chat").await;
    }
    let bad = ann.ack("chat", json!({"room": "b", "message": "x"})).await;
    assert_eq!(bad["error"], "not_in_room");
    let bad = ann.ack("join", json!({"room": 7})).await;
    assert_eq!(bad["error"], "invalid_payload");

    let text = scrape(&app).await;
    assert_eq!(sample(&text, "roomcast_connected_sockets"), Some(2.0));
    assert_eq!(sample(&text, "roomcast_rooms_with_sockets"), Some(2.0));
    assert_eq!(sample(&text, "roomcast_messages_stored_total"), Some(3.0));
    // Three chats, each to two sockets (sender included).
    assert_eq!(sample(&text, "roomcast_deliveries_total"), Some(6.0));
    let errors = |code: &str| {
        sample(
            &text,
            &format!("roomcast_event_errors_total{{code=\"{code}\"}}"),
        )
    };
    assert_eq!(errors("not_in_room"), Some(1.0));
    assert_eq!(errors("invalid_payload"), Some(1.0));
    // Every answered event is timed: 3 joins, 3 chats, 2 errors.
    assert_eq!(sample(&text, "roomcast_ack_seconds_count"), Some(8.0));
    assert!(sample(&text, "roomcast_db_commit_seconds_count").is_some_and(|n| n >= 1.0));
    assert_eq!(
        sample(&text, "roomcast_slow_client_evictions_total"),
        Some(0.0)
    );

    // Disconnects are counted down.
    ann.close().await;
    loop {
        if bob.next("leave").await["user"]["id"] == "ann" {
            break;
        }
    }
    let text = scrape(&app).await;
    assert_eq!(sample(&text, "roomcast_connected_sockets"), Some(1.0));
}

/// Events refused before they reach a handler (here: over `max_payload`,
/// answered by the socket's queue itself) count as errors and are timed
/// like every other answer.
#[tokio::test]
async fn refusals_by_the_event_queue_are_counted_and_timed() {
    let app = spawn_app_with(|s| s.max_payload = 1024).await;
    let mut ann = app.client("ann").await;
    ann.join("a").await;
    let big = "x".repeat(2000);
    let refused = ann.ack("chat", json!({"room": "a", "message": big})).await;
    assert_eq!(refused["ok"], false);
    assert_eq!(refused["error"], "invalid_payload");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("too large"))
    );
    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            "roomcast_event_errors_total{code=\"invalid_payload\"}"
        ),
        Some(1.0)
    );
    // The join and the refused chat.
    assert_eq!(sample(&text, "roomcast_ack_seconds_count"), Some(2.0));
}

/// The value of the sample of `name` whose labels include every one of `labels`.
fn labelled(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?.strip_prefix('{')?;
        let (set, value) = rest.split_once("} ")?;
        let all = labels
            .iter()
            .all(|(k, v)| set.split(',').any(|p| p == format!("{k}=\"{v}\"")));
        all.then(|| value.parse().ok()).flatten()
    })
}

#[tokio::test]
async fn http_requests_are_counted_by_route_template_and_status_and_timed() {
    let app = spawn_app().await;
    let jwt = token("ann", None);
    for room in ["a", "b"] {
        let r = app
            .get(&format!("/api/rooms/{room}/messages"), Some(&jwt))
            .await;
        assert_eq!(r.status(), 404);
    }
    assert_eq!(app.get("/api/rooms", None).await.status(), 401);
    assert_eq!(app.get("/no/such/path", None).await.status(), 404);
    let text = scrape(&app).await;
    let count = |route: &str, method: &str, status: &str| {
        let labels = [("route", route), ("method", method), ("status", status)];
        labelled(&text, "roomcast_http_requests_total", &labels)
    };
    // Both rooms under one template, never a series per path.
    assert_eq!(count("/api/rooms/{room}/messages", "GET", "404"), Some(2.0));
    assert_eq!(count("/api/rooms", "GET", "401"), Some(1.0));
    assert_eq!(count("unmatched", "GET", "404"), Some(1.0));
    assert!(!text.contains("/no/such/path"));
    let timed = labelled(
        &text,
        "roomcast_http_request_seconds_count",
        &[("route", "/api/rooms/{room}/messages")],
    );
    assert_eq!(timed, Some(2.0));
}

#[tokio::test]
async fn logins_are_counted_by_outcome() {
    let app = spawn_app().await;
    app.register_and_login("ann").await;
    let wrong = json!({"username": "ann", "password": "not the password"});
    assert_eq!(app.post("/api/login", wrong, None).await.status(), 401);
    let text = scrape(&app).await;
    let logins = |outcome: &str| labelled(&text, "roomcast_logins_total", &[("outcome", outcome)]);
    assert_eq!(logins("ok"), Some(1.0));
    assert_eq!(logins("unauthorized"), Some(1.0));
}

#[tokio::test]
async fn metrics_listen_serves_metrics_there_and_not_on_the_main_port() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let mut settings = roomcast::config::Settings::new(url);
    settings.listen = "127.0.0.1:0".parse().expect("addr");
    settings.metrics_listen = Some("127.0.0.1:0".parse().expect("addr"));
    let app = roomcast::app::build(settings).await.expect("build");
    let main = app.local_addr().expect("main");
    let metrics = app.metrics_addr().expect("metrics address");
    assert_ne!(main.port(), metrics.port());
    tokio::spawn(app.run());
    let http = reqwest::Client::new();
    let get = async |addr: std::net::SocketAddr, path: &str| {
        let r = http
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .expect("request");
        (r.status().as_u16(), r.text().await.expect("body"))
    };
    assert_eq!(get(main, "/healthz").await.0, 200);
    assert_eq!(get(main, "/metrics").await.0, 404);
    let (status, text) = get(metrics, "/metrics").await;
    assert_eq!(status, 200);
    // The main port's requests are counted there, the 404 of /metrics included.
    let labels = [("route", "unmatched"), ("status", "404")];
    assert_eq!(
        labelled(&text, "roomcast_http_requests_total", &labels),
        Some(1.0)
    );
    let ok = [("route", "/healthz"), ("status", "200")];
    assert_eq!(
        labelled(&text, "roomcast_http_requests_total", &ok),
        Some(1.0)
    );
    // Only /metrics there.
    assert_eq!(get(metrics, "/healthz").await.0, 404);
}

#[tokio::test]
async fn process_cpu_memory_and_descriptors_are_reported() {
    let app = spawn_app().await;
    let text = scrape(&app).await;
    let value = |name: &str| sample(&text, name).unwrap_or_else(|| panic!("no {name}: {text}"));
    assert!(value("roomcast_process_cpu_seconds") > 0.0);
    // A test process holds far more than a megabyte and a few descriptors.
    assert!(value("roomcast_process_resident_memory_bytes") > 1e6);
    let open = value("roomcast_process_open_fds");
    assert!(
        open >= 3.0 && open <= value("roomcast_process_max_fds"),
        "{open}"
    );
}
